"""Hugging Face checkpoint I/O: `from_pretrained` and `save_pretrained` in HF's on-disk format.

A directory written by `save_pretrained` loads with `transformers.AutoModelFor*.from_pretrained`, and any HF ALBERT
directory (config.json + model.safetensors or pytorch_model.bin) loads here with no renaming table: the state-dict keys
are the same. Weights are read with safetensors or `torch.load(weights_only=True, mmap=True)`, never by unpickling
arbitrary objects.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import torch

from albert_edge.config import CONFIG_NAME, AlbertConfig, ConfigError
from albert_edge.files import AlbertEdgeError
from albert_edge import tasks
from albert_edge.model import AlbertPreTrainedModel, model_for_task

SAFE_WEIGHTS_NAME = "model.safetensors"
SAFE_WEIGHTS_INDEX_NAME = "model.safetensors.index.json"
WEIGHTS_NAME = "pytorch_model.bin"
TOKENIZER_FILE = "spiece.model"


# Keys HF checkpoints may carry that no albert_edge model has: non-persistent buffers saved by old transformers
# versions, and the decoder copies of tied weights.
_IGNORED_SUFFIXES = ("embeddings.position_ids", "embeddings.token_type_ids")
# Parameters that belong to a task head; present in some checkpoints and absent in others.
_HEAD_PREFIXES = ("predictions.", "sop_classifier.", "classifier.", "qa_outputs.", "albert.pooler.", "pooler.",
                  "exit_heads.")


class HubError(AlbertEdgeError):
    """A checkpoint that cannot be loaded as asked; the message says what is wrong and how to fix it."""


def resolve(path_or_id: str | os.PathLike) -> Path:
    """A local directory, or a hub id resolved through the Hugging Face cache (downloading when online)."""
    path = Path(path_or_id).expanduser()
    if path.exists():
        if not path.is_dir():
            raise HubError(f"{path}: not a directory; pass the model directory that holds {CONFIG_NAME}")
        return path
    text = str(path_or_id)
    if text.startswith((".", "/", "~")) or text.count("/") > 1:
        raise HubError(f"{text}: no such directory")
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise HubError(f"{text}: no such directory (to fetch hub ids, install the extra: pip install 'albert_edge[hf]')") from None
    try:
        return Path(snapshot_download(text, allow_patterns=["*.json", "*.safetensors", "*.bin", "*.model"]))
    except Exception as e:  # offline, uncached, unknown repo: all mean the same to the user
        raise HubError(
            f"{text}: not a local directory and not available from the Hugging Face hub or its cache "
            f"({type(e).__name__}); pass --model /path/to/dir containing {CONFIG_NAME} and {SAFE_WEIGHTS_NAME}"
        ) from None


def load_config(directory: Path) -> AlbertConfig:
    try:
        return AlbertConfig.from_json_file(directory / CONFIG_NAME)
    except ConfigError as e:
        raise HubError(str(e)) from None


def task_of(config: AlbertConfig) -> str:
    """The task a checkpoint was saved for, from HF's `architectures`; the bare encoder when it names none."""
    for arch in config.extra.get("architectures") or []:
        spec = tasks.by_architecture(arch)
        if spec is not None:
            return spec.name
    return "feature-extraction"


def _read_weight_file(file: Path) -> dict[str, torch.Tensor]:
    try:
        if file.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(file))
        return torch.load(file, map_location="cpu", weights_only=True, mmap=True)
    except Exception as e:
        raise HubError(f"{file}: cannot read weights ({type(e).__name__}: {str(e).splitlines()[0][:120]}); "
                       f"the file is corrupt or truncated, re-save or re-download it") from None


def load_state_dict(directory: Path) -> dict[str, torch.Tensor]:
    if (directory / SAFE_WEIGHTS_NAME).is_file():
        return _read_weight_file(directory / SAFE_WEIGHTS_NAME)
    if (directory / SAFE_WEIGHTS_INDEX_NAME).is_file():
        index = json.loads((directory / SAFE_WEIGHTS_INDEX_NAME).read_text())
        state: dict[str, torch.Tensor] = {}
        for shard in sorted(set(index["weight_map"].values())):
            state.update(_read_weight_file(directory / shard))
        return state
    if (directory / WEIGHTS_NAME).is_file():
        return _read_weight_file(directory / WEIGHTS_NAME)
    raise HubError(f"{directory}: no {SAFE_WEIGHTS_NAME} or {WEIGHTS_NAME}; save the model with save_pretrained first")


def _normalise_keys(state: dict[str, torch.Tensor], prefixed: bool) -> dict[str, torch.Tensor]:
    """Drop stale buffers; add or strip HF's `albert.` base-model prefix to match the model (`prefixed`)."""
    out = {}
    for key, value in state.items():
        if key.endswith(_IGNORED_SUFFIXES):
            continue
        bare = key.startswith(("embeddings.", "encoder.", "pooler."))
        if prefixed and bare:
            key = "albert." + key
        elif not prefixed and key.startswith("albert."):
            key = key[len("albert."):]
        elif not prefixed and not bare:
            continue  # a task head, loaded as the bare encoder
        out[key] = value
    return out


def from_pretrained(path_or_id: str | os.PathLike, task: str | None = None, *, new_head: bool = False,
                    config: AlbertConfig | None = None) -> AlbertPreTrainedModel:
    """Load an HF-format ALBERT directory (or hub id) as the model for `task`, in eval mode.

    `task` defaults to the checkpoint's own. A missing task head is an error unless `new_head=True` (fine-tuning a
    pretrained encoder), in which case it keeps its fresh initialisation.
    """
    directory = resolve(path_or_id)
    config = config or load_config(directory)
    task = task or task_of(config)
    if task not in tasks.names():
        raise HubError(f"unknown task {task!r}; choose one of {', '.join(tasks.names())}")
    model = model_for_task(config, task)
    expected = model.state_dict()
    state = _normalise_keys(load_state_dict(directory), prefixed=any(k.startswith("albert.") for k in expected))
    if "predictions.bias" not in state and "predictions.decoder.bias" in state:
        state["predictions.bias"] = state["predictions.decoder.bias"]
    for key, value in state.items():
        if key in expected and expected[key].shape != value.shape:
            raise HubError(f"{directory}: tensor {key} has shape {tuple(value.shape)}, the config implies "
                           f"{tuple(expected[key].shape)}; config.json and the weights do not belong together")
    tied = {"predictions.decoder.weight", "predictions.decoder.bias"}
    missing = [k for k in expected if k not in state and k not in tied]
    # The bare encoder never uses its pooler's output; a checkpoint without one loads for feature extraction.
    heads_missing = [k for k in missing if k.startswith(_HEAD_PREFIXES) and not (task == "feature-extraction"
                                                                                and k.startswith("pooler."))]
    body_missing = [k for k in missing if not k.startswith(_HEAD_PREFIXES)]
    if body_missing:
        raise HubError(f"{directory}: weights lack {len(body_missing)} encoder tensor(s), e.g. {body_missing[0]}; "
                       f"the file is incomplete or not an ALBERT checkpoint")
    if heads_missing and not new_head:
        raise HubError(f"{directory}: no weights for the {task} head ({heads_missing[0]}); this checkpoint was saved "
                       f"for {task_of(config)}: pass --task {task_of(config)}, or fine-tune it for {task} first")
    unknown = [k for k in state if k not in expected and not k.startswith(_HEAD_PREFIXES) and k not in tied]
    if unknown:
        raise HubError(f"{directory}: unexpected tensor {unknown[0]} ({len(unknown)} in all); not an ALBERT checkpoint?")
    model.load_state_dict({k: v for k, v in state.items() if k in expected and k not in tied}, strict=False)
    model.tie_weights()
    return model.eval()


def save_pretrained(model: AlbertPreTrainedModel, directory: str | os.PathLike) -> Path:
    """Write config.json + model.safetensors in HF's format (tied decoder weights stored once, as HF does)."""
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = model.config
    config.extra["architectures"] = [tasks.get(model.task).architecture]
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()
             if k not in ("predictions.decoder.weight", "predictions.decoder.bias")}
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".model.", suffix=".safetensors.tmp")
    os.close(fd)
    try:
        save_file(state, tmp, metadata={"format": "pt"})
        os.chmod(tmp, 0o644)  # mkstemp makes files owner-only
        os.replace(tmp, directory / SAFE_WEIGHTS_NAME)
    finally:
        Path(tmp).unlink(missing_ok=True)
    config.save(directory)
    return directory


def load_tokenizer_files(path_or_id: str | os.PathLike) -> Path | None:
    """The directory holding the checkpoint's spiece.model, or None when it ships no tokenizer."""
    directory = resolve(path_or_id)
    return directory if (directory / TOKENIZER_FILE).is_file() else None
