"""Token classification (NER): a tag per word, CoNLL-2003 data, entity-level F1."""

from albert_edge.tasks import Bundled, TaskSpec, register

SPEC = register(TaskSpec(
    name="token-classification",
    architecture="AlbertForTokenClassification",
    model="albert_edge.model:AlbertForTokenClassification",
    outputs=("logits",),
    output_shapes=lambda config: [[1, "seq", config.num_labels]],
    labelled=True,
    metric="albert_edge.ner:evaluate_file",
    task_metric_in_export=True,
    postprocess="albert_edge.ner:postprocess_params",
    pipeline="albert_edge.pipeline:TokenClassificationPipeline",
    trainer="albert_edge.ner:TokenClassificationTask",
    bundled=Bundled(subdir="ner", eval_sample="ner_sample.conll", name="edge-ner"),
))
