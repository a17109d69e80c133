"""What pretraining and fine-tuning share: the optimizer, the schedule, precision names, checkpoint writes and the
signal handling that turns Ctrl-C/SIGTERM into "checkpoint and stop" (`albert_edge.pretrain`, `albert_edge.finetune`
and `albert_edge.embed_init` import these from here, not from each other's CLIs)."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

from albert_edge.config import AlbertConfig
from albert_edge.tokenizer import AlbertTokenizer

PRECISIONS = ("fp32", "bf16")  # bf16: mixed-precision autocast with fp32 weights


def linear_schedule(warmup: int, steps: int):
    """LambdaLR factor: linear warmup over `warmup` steps, then linear decay to zero at `steps`."""
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (steps - step) / max(1, steps - warmup))

    return factor


def make_optimizer(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW as BERT/ALBERT use it: biases and LayerNorm weights (every 1-d parameter) without weight decay; frozen
    parameters (requires_grad False) are left out."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.ndim < 2 else decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.98), eps=1e-6)


def load_tokenizer(path: str | Path) -> AlbertTokenizer:
    """A tokenizer directory (spiece.model + tokenizer_config.json) or a bare spiece.model."""
    path = Path(path)
    if path.is_dir():
        return AlbertTokenizer.from_pretrained(path)
    return AlbertTokenizer(path)


def load_config(name_or_path: str | Path, tokenizer: AlbertTokenizer) -> AlbertConfig:
    """A preset name or a config.json, for a model trained from scratch; the vocabulary size follows the tokenizer."""
    path = Path(name_or_path)
    if path.suffix == ".json" or path.is_dir() or path.exists():
        config = AlbertConfig.from_json_file(path)
    else:
        config = AlbertConfig.from_preset(str(name_or_path))
    config.vocab_size = tokenizer.vocab_size
    config.id2label, config.label2id = {0: "LABEL_0", 1: "LABEL_1"}, None
    config.__post_init__()
    return config


def atomic_torch_save(obj, path: Path) -> None:
    """torch.save through a hidden temp file and a rename: a crash leaves the previous checkpoint, never half of one."""
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[dict[str, int]]:
    """While inside, SIGINT/SIGTERM set `stop["signal"]` instead of killing the process, so the training loop can
    checkpoint and return; the previous handlers come back on exit."""
    stop = {"signal": 0}

    def on_signal(signum, _frame):
        stop["signal"] = signum

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
