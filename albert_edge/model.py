"""ALBERT in plain PyTorch, numerically Hugging Face's `modeling_albert.py`, written for on-device export.

ALBERT = BERT with two tricks:
  1. a factorized embedding: tokens live at width E (128), and one linear `embedding_hidden_mapping_in` lifts them to H;
  2. cross-layer sharing: `num_hidden_groups` sets of layer weights (1 by default) are applied `num_hidden_layers`
     times. The sharing is by structure - `AlbertTransformer.forward` indexes the same module in a loop - so the
     parameter count does not grow with depth.

Module and parameter names are Hugging Face's, exactly: the state-dict keys are the interface to every existing
checkpoint (`albert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.weight`, ...).

Written for full XNNPACK delegation under a dynamic sequence length (ExecuTorch 1.5's partitioner rejects
`layer_norm`, `expand`, `pow`, slices of dynamic tensors, and any `view` whose sizes are symbolic), so:
  - LayerNorm is computed from `mean.dim` over the last two dims of a 4-D tensor (the one form XNNPACK takes);
  - every reshape names the sequence dimension `-1` instead of its symbolic size;
  - gelu_new is spelled with mul/tanh instead of `pow(x, 3)`;
  - heads are laid out head-major, (nh*B, T, hs), so one `bmm` covers all heads and the padding bias is built once.
Every forward takes `(input_ids, attention_mask=None, token_type_ids=None)` and returns plain tensors.

A second formulation of the same function, `set_formulation(model, "ort")`, is what the `.onnx` export traces: the
spelling ONNX Runtime's transformer optimizer fuses (`LayerNormalization`, gelu_new with `pow`, Hugging Face's
batch-major attention and extended mask), so every layer becomes one `Attention`, one `FastGelu` and two
`LayerNormalization` ops. Same parameters, same numbers (tests/test_model.py checks both forms against
transformers); only the traced graph differs. It is for export (inference): it leaves out the dropouts.

Why ~480 lines: the encoder, its two formulations and every task head share the same building blocks and HF's
state-dict names; split apart, each file would re-import the same private layers (the exit heads of
`AlbertExitHead` live beside the classifier they copy).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from albert_edge import tasks
from albert_edge.config import AlbertConfig, ConfigError


FORMULATIONS = ("xnnpack", "ort")


class Formulated:
    """A module with two spellings of its forward: `xnnpack` (the default) and `ort` (see the module docstring)."""

    ort: bool = False


def set_formulation(model: nn.Module, formulation: str) -> nn.Module:
    """Switch every module of `model` to one formulation ("xnnpack" or "ort"); returns `model`."""
    if formulation not in FORMULATIONS:
        raise ValueError(f"unknown formulation {formulation!r}; use one of {', '.join(FORMULATIONS)}")
    for module in model.modules():
        if isinstance(module, Formulated):
            module.ort = formulation == "ort"
    return model


class LayerNorm(nn.LayerNorm, Formulated):
    """nn.LayerNorm (same parameters, same state-dict keys) computed from ops XNNPACK delegates.

    XNNPACK's mean is a global average pool: 4-D input, dims (2, 3), keepdim. Unsqueezing a trailing 1 turns the
    last-dim mean into exactly that. Matches torch's layer_norm to ~1e-7 in fp32.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or self.ort:
            return super().forward(x)
        b, _, c = x.shape
        x4 = x.unsqueeze(-1)  # (B, T, C, 1)
        mean = x4.mean(dim=(2, 3), keepdim=True)  # (B, T, 1, 1)
        centered = x4 - mean
        var = (centered * centered).mean(dim=(2, 3), keepdim=True)
        y = (centered * torch.rsqrt(var + self.eps)).view(b, -1, c)  # (B, T, C)
        return y * self.weight + self.bias


def gelu_new(x: torch.Tensor) -> torch.Tensor:
    # HF's NewGELUActivation (the tanh approximation ALBERT v2 was trained with), with x**3 as x*x*x: XNNPACK takes
    # mul and tanh but not pow(x, 3), and its own gelu op is the exact erf form.
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * (x * x * x))))


def gelu_new_pow(x: torch.Tensor) -> torch.Tensor:
    # The same function spelled as HF does, with pow(x, 3): the pattern ONNX Runtime fuses into FastGelu.
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


ORT_ACTIVATIONS = {"gelu_new": gelu_new_pow, "gelu_pytorch_tanh": gelu_new_pow}


ACTIVATIONS = {
    "gelu_new": gelu_new,
    "gelu_pytorch_tanh": gelu_new,
    "gelu": F.gelu,
    "relu": F.relu,
    "silu": F.silu,
    "swish": F.silu,
    "tanh": torch.tanh,
}


def activation(name: str):
    if name not in ACTIVATIONS:
        raise ValueError(f"hidden_act {name!r} is not supported; use one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]


class AlbertEmbeddings(nn.Module):
    def __init__(self, config: AlbertConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.embedding_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.embedding_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.embedding_size)
        self.LayerNorm = LayerNorm(config.embedding_size, eps=config.layer_norm_eps)  # HF's (TF-era) capitalisation
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None) -> torch.Tensor:
        x = self.word_embeddings(input_ids)  # (B, T, E)
        # Positions 0..T-1 are a prefix of the table: a slice, not a gather, and no position_ids buffer to carry.
        x = x + self.position_embeddings.weight[: input_ids.shape[1]]
        if token_type_ids is None:
            x = x + self.token_type_embeddings.weight[0]
        else:
            x = x + self.token_type_embeddings(token_type_ids)
        return self.dropout(self.LayerNorm(x))


class AlbertAttention(nn.Module, Formulated):
    def __init__(self, config: AlbertConfig):
        super().__init__()
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.head_dim
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.attention_dropout = nn.Dropout(config.attention_probs_dropout_prob)
        self.output_dropout = nn.Dropout(config.hidden_dropout_prob)
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, nh, hs = x.shape[0], self.num_attention_heads, self.attention_head_size
        x = x.view(b, -1, nh, hs).permute(2, 0, 1, 3).contiguous()  # (nh, B, T, hs)
        return x.view(nh * b, -1, hs)  # (nh*B, T, hs), head-major to match the bias layout

    def forward(self, hidden_states: torch.Tensor, attention_bias: torch.Tensor | None) -> torch.Tensor:
        if self.ort:
            return self._forward_ort(hidden_states, attention_bias)
        b, hs = hidden_states.shape[0], self.attention_head_size
        q = self._heads(self.query(hidden_states) * (1.0 / math.sqrt(hs)))
        k = self._heads(self.key(hidden_states))
        v = self._heads(self.value(hidden_states))
        scores = torch.bmm(q, k.permute(0, 2, 1))  # (nh*B, T, T)
        if attention_bias is not None:
            scores = scores + attention_bias  # (nh*B, 1, T): 0 for tokens, a huge negative for padding
        probs = self.attention_dropout(torch.softmax(scores, dim=-1))
        context = torch.bmm(probs, v)  # (nh*B, T, hs)
        context = context.view(self.num_attention_heads, b, -1, hs).permute(1, 2, 0, 3)  # (B, T, nh, hs)
        context = context.contiguous().view(b, -1, self.num_attention_heads * hs)  # (B, T, H)
        projected = self.output_dropout(self.dense(context))
        return self.LayerNorm(hidden_states + projected)

    def _forward_ort(self, hidden_states: torch.Tensor, attention_bias: torch.Tensor | None) -> torch.Tensor:
        """HF's eager attention, batch-major; `attention_bias` is HF's extended mask (B, 1, 1, T)."""
        b, t, _ = hidden_states.shape
        nh, hs = self.num_attention_heads, self.attention_head_size

        def heads(x: torch.Tensor) -> torch.Tensor:
            return x.view(b, t, nh, hs).transpose(1, 2)  # (B, nh, T, hs)

        q, k, v = heads(self.query(hidden_states)), heads(self.key(hidden_states)), heads(self.value(hidden_states))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hs)  # (B, nh, T, T)
        if attention_bias is not None:
            scores = scores + attention_bias
        context = torch.matmul(torch.softmax(scores, dim=-1), v)  # (B, nh, T, hs)
        context = context.transpose(1, 2).reshape(b, t, nh * hs)  # (B, T, H)
        # projected + residual, not residual + projected: ORT's attention fusion takes the first Add-fed input of the
        # Add before the norm as the attention branch, and in layer 0 the residual is an Add too (the E -> H
        # projection's bias); this order lets the first layer fuse like the others. Same sum.
        return self.LayerNorm(self.dense(context) + hidden_states)


class AlbertLayer(nn.Module, Formulated):
    def __init__(self, config: AlbertConfig):
        super().__init__()
        # HF's name for the post-FFN LayerNorm; kept because it is a state-dict key.
        self.full_layer_layer_norm = LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.attention = AlbertAttention(config)
        self.ffn = nn.Linear(config.hidden_size, config.intermediate_size)
        self.ffn_output = nn.Linear(config.intermediate_size, config.hidden_size)
        self.activation = activation(config.hidden_act)
        self.ort_activation = ORT_ACTIVATIONS.get(config.hidden_act, self.activation)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: torch.Tensor, attention_bias: torch.Tensor | None) -> torch.Tensor:
        attention_output = self.attention(hidden_states, attention_bias)
        act = self.ort_activation if self.ort else self.activation
        ffn_output = self.ffn_output(act(self.ffn(attention_output)))
        return self.full_layer_layer_norm(ffn_output + attention_output)


class AlbertLayerGroup(nn.Module):
    def __init__(self, config: AlbertConfig):
        super().__init__()
        self.albert_layers = nn.ModuleList([AlbertLayer(config) for _ in range(config.inner_group_num)])

    def forward(self, hidden_states: torch.Tensor, attention_bias: torch.Tensor | None) -> torch.Tensor:
        for layer in self.albert_layers:
            hidden_states = layer(hidden_states, attention_bias)
        return hidden_states


class AlbertTransformer(nn.Module):
    def __init__(self, config: AlbertConfig):
        super().__init__()
        self.config = config
        self.embedding_hidden_mapping_in = nn.Linear(config.embedding_size, config.hidden_size)
        self.albert_layer_groups = nn.ModuleList([AlbertLayerGroup(config) for _ in range(config.num_hidden_groups)])

    def forward(self, hidden_states: torch.Tensor, attention_bias: torch.Tensor | None) -> torch.Tensor:
        hidden_states = self.embedding_hidden_mapping_in(hidden_states)  # (B, T, E) -> (B, T, H)
        n, g = self.config.num_hidden_layers, self.config.num_hidden_groups
        for i in range(n):
            # The weight sharing: application i of n uses group i // (n/g) -- HF's exact float arithmetic.
            group = self.albert_layer_groups[int(i / (n / g))]
            hidden_states = group(hidden_states, attention_bias)
        return hidden_states


# -- task models -----------------------------------------------------------------------------------------------------
class AlbertPreTrainedModel(nn.Module):
    """Base of every task model: owns the config, HF's weight init, and the tied MLM decoder."""

    task: str = ""
    output_names: tuple[str, ...] = ()

    def __init__(self, config: AlbertConfig):
        super().__init__()
        self.config = config

    def init_weights(self) -> None:
        # HF's AlbertPreTrainedModel._init_weights: N(0, initializer_range) for linears and embeddings, zero biases,
        # LayerNorm at identity, padding row zeroed.
        std = self.config.initializer_range
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=std)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight, std=std)
                if m.padding_idx is not None:
                    m.weight.data[m.padding_idx].zero_()
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        self.tie_weights()

    def tie_weights(self) -> None:
        predictions = getattr(self, "predictions", None)
        if predictions is not None:
            predictions.decoder.weight = self.albert.embeddings.word_embeddings.weight
            predictions.decoder.bias = predictions.bias


class AlbertModel(AlbertPreTrainedModel, Formulated):
    """The encoder. `forward` returns (sequence_output (B, T, H), pooled_output (B, H) or None)."""

    def __init__(self, config: AlbertConfig, add_pooling_layer: bool = True):
        super().__init__(config)
        self.embeddings = AlbertEmbeddings(config)
        self.encoder = AlbertTransformer(config)
        self.pooler = nn.Linear(config.hidden_size, config.hidden_size) if add_pooling_layer else None
        # Broadcasting against this repeats the padding bias once per head with an `add`, which XNNPACK takes
        # (`expand`, `repeat` and a 12-way `cat` it does not).
        self.register_buffer("head_broadcast", torch.zeros(config.num_attention_heads, 1, 1, 1), persistent=False)

    def attention_bias(self, attention_mask: torch.Tensor | None, batch: int) -> torch.Tensor | None:
        if attention_mask is None:
            return None
        if self.ort:  # HF's extended mask, (B, 1, 1, T), the form ORT's attention fusion reads the mask from
            return (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
        # HF adds finfo.min where mask == 0. Built once, used by every layer; head-major (nh*B, 1, T) like the scores.
        bias = (1.0 - attention_mask.to(torch.float32)) * torch.finfo(torch.float32).min
        bias = bias.view(1, batch, 1, -1) + self.head_broadcast  # (nh, B, 1, T)
        return bias.view(self.config.num_attention_heads * batch, 1, -1)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        x = self.embeddings(input_ids, token_type_ids)
        sequence_output = self.encoder(x, self.attention_bias(attention_mask, input_ids.shape[0]))
        return sequence_output, self.pool(sequence_output) if self.pooler is not None else None

    def pool(self, sequence_output: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.pooler(sequence_output[:, 0]))  # the [CLS] position

    def head(self, sequence_output: torch.Tensor) -> torch.Tensor:
        """What follows the last layer application (the bare encoder: nothing). Every task model has a `head`, so a
        forward can be cut at the shared layer (`albert_edge.stepwise`)."""
        return sequence_output


# -- heads -----------------------------------------------------------------------------------------------------------
class AlbertMLMHead(nn.Module):
    def __init__(self, config: AlbertConfig):
        super().__init__()
        self.LayerNorm = LayerNorm(config.embedding_size, eps=config.layer_norm_eps)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))
        self.dense = nn.Linear(config.hidden_size, config.embedding_size)
        self.decoder = nn.Linear(config.embedding_size, config.vocab_size)
        self.decoder.bias = self.bias  # HF ties them: `predictions.bias` and `predictions.decoder.bias` are one tensor
        self.activation = activation(config.hidden_act)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.LayerNorm(self.activation(self.dense(hidden_states))))


class AlbertSOPHead(nn.Module):
    def __init__(self, config: AlbertConfig):
        super().__init__()
        self.dropout = nn.Dropout(config.classifier_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, pooled_output: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(pooled_output))


class AlbertForPreTraining(AlbertPreTrainedModel):
    """Masked LM + sentence-order prediction. Returns (prediction_logits (B, T, V), sop_logits (B, 2))."""

    task = "pretraining"
    output_names = tasks.get("pretraining").outputs

    def __init__(self, config: AlbertConfig):
        super().__init__(config)
        self.albert = AlbertModel(config)
        self.predictions = AlbertMLMHead(config)
        self.sop_classifier = AlbertSOPHead(config)
        self.init_weights()

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        sequence_output, pooled = self.albert(input_ids, attention_mask, token_type_ids)
        return self.predictions(sequence_output), self.sop_classifier(pooled)

    def head(self, sequence_output):
        return self.predictions(sequence_output), self.sop_classifier(self.albert.pool(sequence_output))


class AlbertForMaskedLM(AlbertPreTrainedModel):
    task = "masked-lm"
    output_names = tasks.get("masked-lm").outputs

    def __init__(self, config: AlbertConfig):
        super().__init__(config)
        self.albert = AlbertModel(config, add_pooling_layer=False)
        self.predictions = AlbertMLMHead(config)
        self.init_weights()

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        return self.head(self.albert(input_ids, attention_mask, token_type_ids)[0])

    def head(self, sequence_output):
        return self.predictions(sequence_output)  # (B, T, V)


# config.json key (albert_edge's own, beside HF's fields; transformers keeps it as an attribute and ignores it):
# "per-depth" gives a classifier one exit head per depth before the last (`AlbertExitHead`).
EXIT_HEADS_KEY = "exit_heads"


def per_depth_exit_heads(config: AlbertConfig) -> bool:
    value = config.extra.get(EXIT_HEADS_KEY)
    if value not in (None, "per-depth"):
        raise ConfigError(f'{EXIT_HEADS_KEY} must be "per-depth" or absent, got {value!r}')
    return value == "per-depth"


class AlbertExitHead(nn.Module):
    """The classifier after depth k < N (the internal classifiers of DeeBERT and PABEE): its own pooler and linear
    layer on [CLS]. The last depth keeps the model's own pooler and classifier, so `forward` is unchanged."""

    def __init__(self, config: AlbertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, sequence_output: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.tanh(self.dense(sequence_output[:, 0])))


class AlbertForSequenceClassification(AlbertPreTrainedModel):
    task = "sequence-classification"
    output_names = tasks.get("sequence-classification").outputs

    def __init__(self, config: AlbertConfig):
        super().__init__(config)
        self.albert = AlbertModel(config)
        self.dropout = nn.Dropout(config.classifier_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        if per_depth_exit_heads(config):
            self.exit_heads = self._new_exit_heads()
        self.init_weights()

    def _new_exit_heads(self) -> nn.ModuleList:
        return nn.ModuleList(AlbertExitHead(self.config) for _ in range(self.config.num_hidden_layers - 1))

    def add_exit_heads(self) -> None:
        """One exit head per depth before the last, each starting as a copy of the pooler + classifier (what
        `finetune --exit-heads` trains); records it in the config."""
        self.config.extra[EXIT_HEADS_KEY] = "per-depth"
        heads = self._new_exit_heads()
        for head in heads:
            head.dense.load_state_dict(self.albert.pooler.state_dict())
            head.classifier.load_state_dict(self.classifier.state_dict())
        self.exit_heads = heads

    def exit_head(self, depth: int) -> nn.Module | None:
        """The head that answers after `depth` applications when it is not the model's own (None: the own one)."""
        heads = getattr(self, "exit_heads", None)
        return heads[depth - 1] if heads is not None and depth < self.config.num_hidden_layers else None

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        pooled = self.albert(input_ids, attention_mask, token_type_ids)[1]
        return self.classifier(self.dropout(pooled))  # (B, num_labels)

    def head(self, sequence_output):
        return self.classifier(self.dropout(self.albert.pool(sequence_output)))


class AlbertForTokenClassification(AlbertPreTrainedModel):
    task = "token-classification"
    output_names = tasks.get("token-classification").outputs

    def __init__(self, config: AlbertConfig):
        super().__init__(config)
        self.albert = AlbertModel(config, add_pooling_layer=False)
        self.dropout = nn.Dropout(config.classifier_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.init_weights()

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        return self.head(self.albert(input_ids, attention_mask, token_type_ids)[0])

    def head(self, sequence_output):
        return self.classifier(self.dropout(sequence_output))  # (B, T, num_labels)


class AlbertForQuestionAnswering(AlbertPreTrainedModel):
    task = "question-answering"
    output_names = tasks.get("question-answering").outputs

    def __init__(self, config: AlbertConfig):
        super().__init__(config)
        self.albert = AlbertModel(config, add_pooling_layer=False)
        self.qa_outputs = nn.Linear(config.hidden_size, 2)  # HF's QA head is always 2 wide, whatever num_labels says
        self.init_weights()

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        return self.head(self.albert(input_ids, attention_mask, token_type_ids)[0])

    def head(self, sequence_output):
        logits = self.qa_outputs(sequence_output)  # (B, T, 2)
        return logits[..., 0], logits[..., 1]  # start, end: (B, T) each; the two selects run after the delegate


class AlbertForFeatureExtraction(AlbertModel):
    """HF's bare AlbertModel: the same modules at the top level (keys `embeddings.*`, `encoder.*`, `pooler.*`, no
    `albert.` prefix), returning only the hidden states."""

    task = "feature-extraction"
    output_names = tasks.get("feature-extraction").outputs

    def __init__(self, config: AlbertConfig):
        super().__init__(config)
        self.init_weights()

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        return super().forward(input_ids, attention_mask, token_type_ids)[0]  # (B, T, H)


# Task name -> model class, as the registry (albert_edge/tasks/) names them.
TASKS: dict[str, type[AlbertPreTrainedModel]] = {spec.name: globals()[spec.model.partition(":")[2]]
                                                 for spec in tasks.specs()}


def model_for_task(config: AlbertConfig, task: str) -> AlbertPreTrainedModel:
    return tasks.get(task).model_class()(config)
