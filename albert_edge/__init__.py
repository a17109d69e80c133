"""albert_edge: take ALBERT from training to a phone.

    import albert_edge
    model = albert_edge.from_pretrained("path/to/hf_dir", task="sequence-classification")
    logits = model(input_ids, attention_mask)
    albert_edge.save_pretrained(model, "out_dir")   # loads with transformers.AutoModelFor*.from_pretrained
"""

from albert_edge.config import AlbertConfig
from albert_edge.hub import HubError, from_pretrained, save_pretrained
from albert_edge.model import TASKS, model_for_task

__version__ = "0.1.0"
__all__ = ["AlbertConfig", "HubError", "TASKS", "from_pretrained", "model_for_task", "save_pretrained", "__version__"]
