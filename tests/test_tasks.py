"""The task registry (albert_edge/tasks/): every module asks it, so its entries must match what the code does."""

import subprocess
import sys

import pytest
import torch
import transformers

from albert_edge import export, hub, pipeline, tasks
from albert_edge.config import AlbertConfig
from albert_edge.finetune import TASKS as TRAINERS
from albert_edge.model import TASKS as MODELS
from albert_edge.model import model_for_task

CONFIG = dict(vocab_size=99, embedding_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,  # noqa: C408
              intermediate_size=64, max_position_embeddings=64, id2label={0: "a", 1: "b", 2: "c"})


def test_the_five_product_tasks_and_pretraining_are_registered():
    assert tasks.names() == ("sequence-classification", "token-classification", "question-answering", "masked-lm",
                             "feature-extraction", "pretraining")
    assert export.EXPORT_TASKS == tasks.names(exportable=True) and "pretraining" not in export.EXPORT_TASKS
    assert set(MODELS) == set(tasks.names())
    assert set(TRAINERS) == set(tasks.names(trainer=True)) == set(tasks.names(pipeline=True))
    assert tasks.names(app=True) == ("sequence-classification",)


@pytest.mark.parametrize("name", tasks.names())
def test_each_entry_matches_its_model(name):
    spec = tasks.get(name)
    assert hasattr(transformers, spec.architecture)  # the class Hugging Face writes in config.json
    assert tasks.by_architecture(spec.architecture) is spec
    config = AlbertConfig(**CONFIG)
    model = model_for_task(config, name).eval()
    assert type(model) is spec.model_class() and model.task == name and tuple(model.output_names) == spec.outputs
    seq = 7
    args = [torch.randint(5, 99, (1, seq)), torch.ones(1, seq, dtype=torch.long), torch.zeros(1, seq, dtype=torch.long)]
    with torch.no_grad():
        out = model(*args)
    out = out if isinstance(out, tuple) else (out,)
    shapes = [[seq if d == "seq" else d for d in shape] for shape in spec.output_shapes(config)]
    assert [list(o.shape) for o in out] == shapes
    assert set(spec.inputs) <= set(pipeline.INPUT_NAMES) and spec.inputs[:2] == ("input_ids", "attention_mask")


@pytest.mark.parametrize("name", tasks.names(pipeline=True))
def test_pipeline_trainer_metric_and_postprocess_resolve(name):
    spec = tasks.get(name)
    assert spec.pipeline_class().task == name and spec.trainer_class().name == name
    assert callable(spec.metric_function())
    assert spec.postprocess_defaults() == pipeline.postprocess_params(name)
    assert spec.bundled is not None and spec.bundled.directory().parent in (tasks.ASSETS, tasks.ASSETS.parent)


def test_unknown_task_is_one_line_with_the_choices():
    with pytest.raises(tasks.UnknownTaskError, match=r"unknown task 'summarization'; choose one of "
                                                     r"sequence-classification, token-classification"):
        tasks.get("summarization")
    with pytest.raises(ValueError, match="unknown task"):  # callers that caught ValueError still do
        model_for_task(AlbertConfig(**CONFIG), "summarization")


def test_a_new_task_is_one_registration(monkeypatch):
    """What the other modules derive from an entry: a new spec is all they need to see."""
    monkeypatch.setattr(tasks, "_REGISTRY", dict(tasks._REGISTRY))
    spec = tasks.register(tasks.TaskSpec(
        name="pair-classification", architecture="AlbertForMultipleChoice",
        model="albert_edge.model:AlbertForSequenceClassification", outputs=("logits",),
        output_shapes=lambda config: [[1, config.num_labels]],
        inputs=("input_ids", "attention_mask", "token_type_ids"), labelled=True, text_pairs=True))
    assert tasks.names(exportable=True)[-1] == "pair-classification"
    assert export.model_input_names("pair-classification") == ["input_ids", "attention_mask", "token_type_ids"]
    config = AlbertConfig(**CONFIG)
    config.extra["architectures"] = ["AlbertForMultipleChoice"]
    assert hub.task_of(config) == "pair-classification"
    with pytest.raises(ValueError, match="registered twice"):
        tasks.register(spec)


def test_the_registry_imports_no_torch():
    code = "import sys, albert_edge.tasks as t; [s.postprocess_defaults() for s in t.specs()]; " \
           "assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
