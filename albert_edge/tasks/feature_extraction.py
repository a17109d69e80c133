"""Feature extraction: the encoder's last hidden states (no head); what a checkpoint naming no architecture is."""

from albert_edge.tasks import TaskSpec, register

SPEC = register(TaskSpec(
    name="feature-extraction",
    architecture="AlbertModel",
    model="albert_edge.model:AlbertForFeatureExtraction",
    outputs=("last_hidden_state",),
    output_shapes=lambda config: [[1, "seq", config.hidden_size]],
    agreement="none",  # hidden states have no top-1; the SNR is the check
))
