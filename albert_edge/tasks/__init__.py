"""The task registry: everything the SDK knows about a task, in one module per task.

    from albert_edge import tasks
    spec = tasks.get("question-answering")
    spec.architecture, spec.inputs, spec.outputs, spec.output_shapes(config), spec.pipeline_class()

A `TaskSpec` names the Hugging Face architecture, the model class and its head, the exported inputs and outputs with
their shapes, label handling, how export counts top-1 agreement, the task metric, post-processing defaults, the
pipeline class, the fine-tuning hooks (a `finetune.Task` subclass) and the bundled model, if one ships. Every other
module asks the registry; adding a task is one new module here (decorated with `@register`) and its tests.

Importing the registry imports neither torch nor the task code: classes and functions are named as
`"module:attribute"` strings and imported when asked for, so a pipeline over an `.onnx` stays torch-free.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from albert_edge.files import AlbertEdgeError

ASSETS = Path(__file__).resolve().parent.parent / "assets"


class UnknownTaskError(AlbertEdgeError, ValueError):
    """A task name the registry does not know."""


def _load(ref: str | None) -> Any:
    if ref is None:
        return None
    module, _, attribute = ref.partition(":")
    return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class Bundled:
    """A model shipped in `albert_edge/assets/` for a task: exported when `--model` is omitted."""

    subdir: str  # under albert_edge/assets ("" for the sentiment model at its root)
    eval_sample: str  # the labelled sample it verifies on by default, relative to the model directory
    name: str  # the export's default name (albert_NAME_int8)
    # held-in labelled data the default export chooses the early-exit policy on (models with exit heads only)
    exit_calibration: str | None = None

    def directory(self, assets: Path = ASSETS) -> Path:
        return assets / self.subdir if self.subdir else assets

    def eval_data(self, assets: Path = ASSETS) -> Path:
        return self.directory(assets) / self.eval_sample

    def exit_data(self, assets: Path = ASSETS) -> Path | None:
        """The exit-policy calibration file, when this model ships one."""
        path = self.directory(assets) / self.exit_calibration if self.exit_calibration else None
        return path if path is not None and path.is_file() else None


@dataclass(frozen=True)
class TaskSpec:
    name: str
    architecture: str  # the Hugging Face class in config.json's `architectures`
    model: str  # "module:Class" of the albert_edge model
    outputs: tuple[str, ...]  # the model's (and the exported program's) output names, in order
    output_shapes: Callable[[Any], list[list]]  # config -> one shape per output ("seq" for the dynamic axis)
    inputs: tuple[str, ...] = ("input_ids", "attention_mask")  # the exported program's inputs, in forward order
    exportable: bool = True
    labelled: bool = False  # the config's id2label names the classes (the manifest carries them)
    labelled_eval_data: bool = False  # export --eval-data is a `sentence<TAB>label` table scored by accuracy
    agreement: str = "first"  # top-1 agreement over: "first" output's argmax, "all" outputs', or "none"
    min_agreement: float = 0.99  # export's default gate on that agreement (--min-agreement overrides it)
    text_pairs: bool = False  # verification inputs are (question, context)-style pairs
    metric: str | None = None  # "module:function": the task metric over an artifact (pipeline.evaluate)
    task_metric_in_export: bool = False  # export --eval-data takes the task's own data (CoNLL, SQuAD)
    postprocess: str | None = None  # "module:function" -> the post-processing defaults an app needs
    default_max_seq_len: int = 128
    pipeline: str | None = None  # "module:Class" of its pipeline over an export
    trainer: str | None = None  # "module:Class" of its finetune.Task
    bundled: Bundled | None = None
    app: bool = False  # the Android demo app runs it (albert_edge.bundle)
    notes: str = field(default="", compare=False)

    def model_class(self):
        return _load(self.model)

    def pipeline_class(self):
        return _load(self.pipeline)

    def trainer_class(self):
        return _load(self.trainer)

    def metric_function(self):
        return _load(self.metric)

    def postprocess_defaults(self) -> dict[str, Any]:
        return dict(_load(self.postprocess)()) if self.postprocess else {}


_REGISTRY: dict[str, TaskSpec] = {}


def register(spec: TaskSpec) -> TaskSpec:
    if spec.name in _REGISTRY:
        raise ValueError(f"task {spec.name!r} is registered twice")
    if spec.agreement not in ("first", "all", "none"):
        raise ValueError(f"task {spec.name!r}: agreement must be first, all or none, got {spec.agreement!r}")
    _REGISTRY[spec.name] = spec
    return spec


def get(name: str) -> TaskSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownTaskError(f"unknown task {name!r}; choose one of {', '.join(names())}") from None


def names(*, exportable: bool | None = None, pipeline: bool | None = None, trainer: bool | None = None,
          bundled: bool | None = None, app: bool | None = None) -> tuple[str, ...]:
    """Registered task names, in registration order, filtered by what they have."""
    def keep(spec: TaskSpec) -> bool:
        wanted = {"exportable": (exportable, spec.exportable), "pipeline": (pipeline, spec.pipeline is not None),
                  "trainer": (trainer, spec.trainer is not None), "bundled": (bundled, spec.bundled is not None),
                  "app": (app, spec.app)}
        return all(want is None or want == has for want, has in wanted.values())
    return tuple(name for name, spec in _REGISTRY.items() if keep(spec))


def specs() -> tuple[TaskSpec, ...]:
    return tuple(_REGISTRY.values())


def by_architecture(architecture: str) -> TaskSpec | None:
    return next((s for s in _REGISTRY.values() if s.architecture == architecture), None)


# One module per task; importing each registers it (the order is the order `names()` lists them in).
from albert_edge.tasks import (  # noqa: F401, I001  (registration side effect, in this order)
    sequence_classification,
    token_classification,
    question_answering,
    masked_lm,
    feature_extraction,
    pretraining,
)
