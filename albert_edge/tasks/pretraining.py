"""Pretraining (MLM + sentence order): what `albert_edge.pretrain` trains; loaded to continue training, not exported."""

from albert_edge.tasks import TaskSpec, register

SPEC = register(TaskSpec(
    name="pretraining",
    architecture="AlbertForPreTraining",
    model="albert_edge.model:AlbertForPreTraining",
    outputs=("prediction_logits", "sop_logits"),
    output_shapes=lambda config: [[1, "seq", config.vocab_size], [1, config.num_labels]],  # SOP: 2 labels
    exportable=False,
    agreement="none",
))
