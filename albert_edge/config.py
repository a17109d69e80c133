"""AlbertConfig: Hugging Face's ALBERT configuration, field for field, plus named presets.

The field names are exactly those of `transformers.AlbertConfig`, because `config.json` is the interface to every
existing checkpoint. Keys this dataclass does not know (e.g. `architectures`, `transformers_version`) are kept in
`extra` and written back unchanged, so a round trip through albert_edge loses nothing.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from albert_edge.files import AlbertEdgeError, atomic_write_text

CONFIG_NAME = "config.json"


class ConfigError(AlbertEdgeError):
    """A config.json that is missing, unreadable or inconsistent."""


# The activations albert_edge.model implements (config must not import torch to know them).
HIDDEN_ACTS = ("gelu_new", "gelu_pytorch_tanh", "gelu", "relu", "silu", "swish", "tanh")
_POSITIVE_INTS = ("vocab_size", "embedding_size", "hidden_size", "num_hidden_layers", "num_hidden_groups",
                  "num_attention_heads", "intermediate_size", "inner_group_num", "max_position_embeddings",
                  "type_vocab_size")
_PROBABILITIES = ("hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout_prob")


@dataclass
class AlbertConfig:
    vocab_size: int = 30000
    embedding_size: int = 128
    hidden_size: int = 4096
    num_hidden_layers: int = 12
    num_hidden_groups: int = 1
    num_attention_heads: int = 64
    intermediate_size: int = 16384
    inner_group_num: int = 1
    hidden_act: str = "gelu_new"
    hidden_dropout_prob: float = 0.0
    attention_probs_dropout_prob: float = 0.0
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    classifier_dropout_prob: float = 0.1
    pad_token_id: int = 0
    bos_token_id: int = 2
    eos_token_id: int = 3
    id2label: dict[int, str] = field(default_factory=lambda: {0: "LABEL_0", 1: "LABEL_1"})
    label2id: dict[str, int] | None = None
    model_type: str = "albert"
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.id2label, dict):
            raise ConfigError(f"id2label must be an object mapping class ids to names, e.g. "
                              f'{{"0": "negative", "1": "positive"}}; got a {type(self.id2label).__name__}')
        if self.label2id is not None and not isinstance(self.label2id, dict):
            raise ConfigError(f"label2id must be an object mapping names to class ids; got a "
                              f"{type(self.label2id).__name__}")
        try:
            self.id2label = {int(k): str(v) for k, v in self.id2label.items()}
            if self.label2id is None:
                self.label2id = {v: k for k, v in self.id2label.items()}
            self.label2id = {str(k): int(v) for k, v in self.label2id.items()}
        except (TypeError, ValueError):
            raise ConfigError("id2label keys and label2id values must be integer class ids") from None
        self.validate()

    @property
    def num_labels(self) -> int:
        return len(self.id2label)

    @num_labels.setter
    def num_labels(self, n: int) -> None:
        self.id2label = {i: f"LABEL_{i}" for i in range(n)}
        self.label2id = {v: k for k, v in self.id2label.items()}

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    def validate(self) -> None:
        """Types and ranges of every field the model reads, with the field's name; ConfigError otherwise."""
        for name in _POSITIVE_INTS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        for name in (*_PROBABILITIES, "initializer_range", "layer_norm_eps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                raise ConfigError(f"{name} must be a number, got {value!r}")
        for name in _PROBABILITIES:
            if not 0 <= getattr(self, name) < 1:
                raise ConfigError(f"{name} must be in [0, 1), got {getattr(self, name)!r}")
        if not 0 < self.layer_norm_eps < 1:
            raise ConfigError(f"layer_norm_eps must be in (0, 1), got {self.layer_norm_eps!r}")
        if self.hidden_act not in HIDDEN_ACTS:
            raise ConfigError(f"hidden_act {self.hidden_act!r} is not supported; use one of {', '.join(HIDDEN_ACTS)}")
        if not self.id2label:
            raise ConfigError("id2label is empty; a model needs at least one label")
        if self.hidden_size % self.num_attention_heads:
            raise ConfigError(
                f"hidden_size ({self.hidden_size}) must be a multiple of num_attention_heads ({self.num_attention_heads})"
            )
        if self.num_hidden_groups < 1 or self.num_hidden_layers < self.num_hidden_groups:
            raise ConfigError(
                f"num_hidden_groups ({self.num_hidden_groups}) must be in 1..num_hidden_layers ({self.num_hidden_layers})"
            )

    # -- HF config.json I/O -------------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "AlbertConfig":
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        kwargs = {k: v for k, v in d.items() if k in known}
        extra = {k: v for k, v in d.items() if k not in known and k != "num_labels"}
        if "id2label" not in d and "num_labels" in d:
            kwargs["id2label"] = {i: f"LABEL_{i}" for i in range(int(d["num_labels"]))}
            kwargs["label2id"] = None
        try:
            return cls(**kwargs, extra=extra)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"invalid ALBERT config: {e}") from None

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        d["id2label"] = {str(k): v for k, v in self.id2label.items()}
        d.update(self.extra)
        d.setdefault("architectures", None)
        if d["architectures"] is None:
            del d["architectures"]
        return d

    @classmethod
    def from_json_file(cls, path: str | os.PathLike) -> "AlbertConfig":
        path = Path(path)
        if path.is_dir():
            path = path / CONFIG_NAME
        if not path.is_file():
            raise ConfigError(f"{path}: no such file; a model directory needs a Hugging Face {CONFIG_NAME}")
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ConfigError(f"{path}: not valid JSON ({e})") from None
        if not isinstance(d, dict):
            raise ConfigError(f"{path}: expected a JSON object")
        if d.get("model_type", "albert") != "albert":
            raise ConfigError(f"{path}: model_type is {d.get('model_type')!r}, not 'albert'")
        return cls.from_dict(d)

    def save(self, directory: str | os.PathLike) -> Path:
        """Write `config.json` into `directory` atomically."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / CONFIG_NAME
        atomic_write_text(target, json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
        return target

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> "AlbertConfig":
        if name not in PRESETS:
            raise ConfigError(f"unknown preset {name!r}; choose one of {', '.join(sorted(PRESETS))}")
        return cls(**{**PRESETS[name], **overrides})


def _v1(v2: dict[str, Any]) -> dict[str, Any]:
    # The v1 checkpoints differ from v2 only in exact GELU and 0.1 dropout (v2 trained without dropout).
    return {**v2, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1}


_BASE = dict(embedding_size=128, hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072)
_LARGE = dict(embedding_size=128, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096)
_XLARGE = dict(embedding_size=128, hidden_size=2048, num_hidden_layers=24, num_attention_heads=16, intermediate_size=8192)
_XXLARGE = dict(embedding_size=128, hidden_size=4096, num_hidden_layers=12, num_attention_heads=64,
                intermediate_size=16384)

PRESETS: dict[str, dict[str, Any]] = {
    "albert-base-v2": _BASE,
    "albert-large-v2": _LARGE,
    "albert-xlarge-v2": _XLARGE,
    "albert-xxlarge-v2": _XXLARGE,
    "albert-base-v1": _v1(_BASE),
    "albert-large-v1": _v1(_LARGE),
    "albert-xlarge-v1": _v1(_XLARGE),
    "albert-xxlarge-v1": _v1(_XXLARGE),
    # Edge presets: the bundled model's family. A 16k SentencePiece vocabulary keeps the embedding table at 2 M
    # parameters; one shared layer applied 6 times keeps the encoder at under 1 M.
    "albert-edge-tiny": dict(vocab_size=16000, embedding_size=128, hidden_size=256, num_hidden_layers=6,
                             num_attention_heads=4, intermediate_size=1024, max_position_embeddings=512),
    "albert-edge-small": dict(vocab_size=16000, embedding_size=128, hidden_size=384, num_hidden_layers=8,
                              num_attention_heads=6, intermediate_size=1536, max_position_embeddings=512),
}
