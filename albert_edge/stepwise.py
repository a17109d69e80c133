"""Stepwise programs: ALBERT's forward cut at its shared layer, so the loop over depth runs in the app.

ExecuTorch programs have no dynamic loops (its docs recommend exporting the loop body as a method and driving the
loop from the caller). ALBERT's forward is `embed -> layer x N -> head`, with one set of layer weights per hidden
group (one group in every ALBERT checkpoint), so a program with methods

    embed(input_ids, attention_mask[, token_type_ids]) -> (hidden (1, T, H), attention_bias)
    layer_<g>(hidden, attention_bias)                  -> hidden        (one method per hidden group g)
    head(hidden)                                       -> the task's outputs (as `forward`)
    exit_<k>(hidden)                                   -> a classifier's logits after depth k < N, when the model
                                                          has per-depth exit heads (`model.AlbertExitHead`)

stores every weight once, lets XNNPACK pack the shared layer once, and lets the caller choose the depth per input
(application i uses group `schedule[i]`, HF's arithmetic). At full depth the chain computes exactly what `forward`
computes; `albert_edge.runtime` chains the methods (`StepwiseRunner`), and the manifest's `stepwise` entry says how.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from albert_edge.config import AlbertConfig
from albert_edge.model import AlbertModel, AlbertPreTrainedModel

METHOD_EMBED, METHOD_HEAD = "embed", "head"


def layer_method(group: int) -> str:
    return f"layer_{group}"


def exit_method(depth: int) -> str:
    return f"exit_{depth}"


def _exit_heads(model: AlbertPreTrainedModel) -> dict[int, nn.Module]:
    """Depth -> the model's own exit head there (only classifiers with per-depth heads have any)."""
    exit_head = getattr(model, "exit_head", None)
    heads = {d: exit_head(d) for d in range(1, model.config.num_hidden_layers)} if exit_head else {}
    return {d: h for d, h in heads.items() if h is not None}


def head_names(model: AlbertPreTrainedModel) -> list[str]:
    """The method that answers after each depth 1..N: `exit_<k>` where the model has its own head there, else
    `head`."""
    heads = _exit_heads(model)
    return [exit_method(d) if d in heads else METHOD_HEAD for d in range(1, model.config.num_hidden_layers + 1)]


def schedule(config: AlbertConfig) -> list[int]:
    """The hidden group of each layer application, as `AlbertTransformer.forward` picks it."""
    n, g = config.num_hidden_layers, config.num_hidden_groups
    return [int(i / (n / g)) for i in range(n)]


def encoder_of(model: AlbertPreTrainedModel) -> AlbertModel:
    return model if isinstance(model, AlbertModel) else model.albert


class Embed(nn.Module):
    """Embeddings, the E -> H projection and the attention bias every layer adds."""

    def __init__(self, model: AlbertPreTrainedModel):
        super().__init__()
        self.model = model  # only the weights a method uses are serialised (ExecuTorch drops the rest)

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        encoder = encoder_of(self.model)
        x = encoder.embeddings(input_ids, token_type_ids)
        hidden = encoder.encoder.embedding_hidden_mapping_in(x)
        return hidden, encoder.attention_bias(attention_mask, input_ids.shape[0])


class Layer(nn.Module):
    """One application of hidden group `group` (its `inner_group_num` layers)."""

    def __init__(self, model: AlbertPreTrainedModel, group: int):
        super().__init__()
        self.model, self.group = model, group

    def forward(self, hidden, attention_bias):
        return encoder_of(self.model).encoder.albert_layer_groups[self.group](hidden, attention_bias)


class Head(nn.Module):
    def __init__(self, model: AlbertPreTrainedModel):
        super().__init__()
        self.model = model

    def forward(self, hidden):
        return self.model.head(hidden)


class ExitHead(nn.Module):
    """The exit head of depth `depth` (`model.exit_head(depth)`)."""

    def __init__(self, model: AlbertPreTrainedModel, depth: int):
        super().__init__()
        self.model, self.depth = model, depth

    def forward(self, hidden):
        return self.model.exit_head(self.depth)(hidden)


def methods(model: AlbertPreTrainedModel) -> dict[str, nn.Module]:
    """The program's methods, in calling order: embed, one layer per hidden group, head, the exit heads."""
    groups = model.config.num_hidden_groups
    return {METHOD_EMBED: Embed(model), **{layer_method(g): Layer(model, g) for g in range(groups)},
            METHOD_HEAD: Head(model), **{exit_method(d): ExitHead(model, d) for d in _exit_heads(model)}}


def run_eager(model: AlbertPreTrainedModel, inputs: Sequence[torch.Tensor], depth: int | None = None):
    """The chain in eager PyTorch: `depth` layer applications (default: the model's num_hidden_layers)."""
    parts = methods(model)
    order = schedule(model.config)
    depth = len(order) if depth is None else depth
    if not 1 <= depth <= len(order):
        raise ValueError(f"depth must be in 1..{len(order)}, got {depth}")
    hidden, bias = parts[METHOD_EMBED](*inputs)
    for group in order[:depth]:
        hidden = parts[layer_method(group)](hidden, bias)
    return parts[head_names(model)[depth - 1]](hidden)


def outputs_at_every_depth(model: AlbertPreTrainedModel, inputs: Sequence[torch.Tensor]) -> list:
    """The outputs after each of the model's layer applications, each from the head that answers there
    (differentiable: `finetune --exit-loss` trains the one shared head at every depth, `--exit-heads` the exit
    heads)."""
    parts = methods(model)
    heads = head_names(model)
    hidden, bias = parts[METHOD_EMBED](*inputs)
    outputs = []
    for depth, group in enumerate(schedule(model.config), 1):
        hidden = parts[layer_method(group)](hidden, bias)
        outputs.append(parts[heads[depth - 1]](hidden))
    return outputs


def example_inputs(model: AlbertPreTrainedModel, forward_inputs: tuple[torch.Tensor, ...]):
    """Each method's example inputs, from `forward`'s (the same sequence length)."""
    with torch.no_grad():
        hidden, bias = Embed(model)(*forward_inputs)
    return {METHOD_EMBED: forward_inputs, **{layer_method(g): (hidden, bias)
                                            for g in range(model.config.num_hidden_groups)},
            METHOD_HEAD: (hidden,), **{exit_method(d): (hidden,) for d in _exit_heads(model)}}


def dynamic_shapes(model: AlbertPreTrainedModel, forward_shapes: tuple, seq) -> dict[str, tuple]:
    """The sequence axis of every method's inputs: hidden (1, T, H) on dim 1, the bias (heads, 1, T) on dim 2."""
    layer = ({1: seq}, {2: seq})
    return {METHOD_EMBED: forward_shapes, **{layer_method(g): layer for g in range(model.config.num_hidden_groups)},
            METHOD_HEAD: ({1: seq},), **{exit_method(d): ({1: seq},) for d in _exit_heads(model)}}


def manifest_entry(model: AlbertPreTrainedModel, input_names: Sequence[str]) -> dict:
    """How an app chains the methods (the manifest's `stepwise`): `heads[k-1]` answers after depth k."""
    return {"methods": list(methods(model)),
            "embed_inputs": list(input_names), "embed_outputs": ["hidden", "attention_bias"],
            "layer_inputs": ["hidden", "attention_bias"], "layer_outputs": ["hidden"], "head_inputs": ["hidden"],
            "schedule": [layer_method(g) for g in schedule(model.config)], "heads": head_names(model),
            "num_hidden_layers": model.config.num_hidden_layers}
