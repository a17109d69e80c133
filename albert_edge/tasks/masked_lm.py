"""Masked language modelling: vocabulary logits at every position (the pretrained MLM head)."""

from albert_edge.tasks import TaskSpec, register

SPEC = register(TaskSpec(
    name="masked-lm",
    architecture="AlbertForMaskedLM",
    model="albert_edge.model:AlbertForMaskedLM",
    outputs=("logits",),
    output_shapes=lambda config: [[1, "seq", config.vocab_size]],
))
