"""Sequence classification: one label per text (or text pair); SST-2 sentiment is the bundled model."""

from albert_edge.tasks import Bundled, TaskSpec, register

SPEC = register(TaskSpec(
    name="sequence-classification",
    architecture="AlbertForSequenceClassification",
    model="albert_edge.model:AlbertForSequenceClassification",
    outputs=("logits",),
    output_shapes=lambda config: [[1, config.num_labels]],
    labelled=True,
    labelled_eval_data=True,
    metric="albert_edge.pipeline:accuracy",
    postprocess="albert_edge.tasks.sequence_classification:postprocess_params",
    pipeline="albert_edge.pipeline:TextClassificationPipeline",
    trainer="albert_edge.finetune:SequenceClassification",
    # GLUE SST-2 dev (872 labelled sentences, byte-for-byte): the bundled model's own evaluation set. It never
    # trained the model. The exit policy is chosen on the last 2,000 rows of SST-2 train, which the exit heads
    # never trained on (the body did: MODEL_CARD.md).
    bundled=Bundled(subdir="", eval_sample="sst2_dev.tsv", name="edge", exit_calibration="sst2_exit_calibration.tsv"),
    app=True,
))


def postprocess_params() -> dict:
    return {"activation": "softmax"}
