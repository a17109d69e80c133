"""albert_edge: take ALBERT from training to a phone.

    import albert_edge
    model = albert_edge.from_pretrained("path/to/hf_dir", task="sequence-classification")
    logits = model(input_ids, attention_mask)
    albert_edge.save_pretrained(model, "out_dir")   # loads with transformers.AutoModelFor*.from_pretrained

`import albert_edge` loads no torch: the names below are resolved on first use (PEP 562), so an app that only runs
an exported `.onnx` through `albert_edge.runtime` / `albert_edge.pipeline` needs numpy, the tokenizer and onnxruntime.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"
# name -> module that defines it
_LAZY = {"AlbertConfig": "albert_edge.config", "HubError": "albert_edge.hub", "from_pretrained": "albert_edge.hub",
         "save_pretrained": "albert_edge.hub", "TASKS": "albert_edge.model", "model_for_task": "albert_edge.model",
         "AlbertEdgeError": "albert_edge.files"}
__all__ = [*_LAZY, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'albert_edge' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
