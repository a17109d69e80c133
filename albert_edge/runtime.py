"""Load an exported ALBERT (`.pte`, `.onnx`, or an export directory) and run it on numpy arrays.

    runner = load("out/model.pte", threads=2)      # or "out/model.onnx", or "out" (reads manifest.json)
    logits, = runner.run(input_ids=ids, attention_mask=mask)   # int64 arrays of shape (1, seq)
    runner.close()

One interface for both runtimes, used by the export's verification, the benchmark harness and the pipelines.
Thread counts: ONNX Runtime takes `intra_op_num_threads` per session. ExecuTorch's XNNPACK delegate runs on one
process-wide threadpool, so `threads` for a .pte resizes that pool (`_unsafe_reset_threadpool`) for every .pte
runner in the process.

Memory: a .pte loads with XNNPACK's weight cache on (`weight_cache=False` to opt out), so the shared layer's weights
are packed once, not once per application (`albert_edge.backend_options`). Outputs are copied out with numpy, not
cloned by torch: torch's clone runs on its OpenMP pool, whose threads keep spinning after it and starve the next
XNNPACK call of a core.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

MANIFEST = "manifest.json"
# Input order of every albert_edge export (the model's forward signature); a .pte stores no input names.
INPUT_ORDER = ("input_ids", "attention_mask", "token_type_ids")


class RuntimeLoadError(ValueError):
    """A path that is not a loadable .pte/.onnx/export directory, or inputs the model cannot take."""


class Runner:
    """A loaded model. `run` takes int64 arrays by name and returns the outputs as numpy arrays, in order."""

    backend: str = ""
    path: Path
    input_names: list[str]
    output_names: list[str]
    threads: int | None

    def run(self, inputs: dict[str, np.ndarray] | None = None, **arrays: np.ndarray) -> list[np.ndarray]:
        feed = self._feed({**(inputs or {}), **arrays})
        return self._run(feed)

    def close(self) -> None:
        raise NotImplementedError

    def _run(self, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        raise NotImplementedError

    def _feed(self, given: dict[str, Any]) -> dict[str, np.ndarray]:
        unknown = [name for name in given if name not in self.input_names]
        for name in unknown:
            # Models exported without token_type_ids assume type 0; all-zero types are that, anything else is not.
            if name == "token_type_ids" and not np.any(np.asarray(given[name])):
                continue
            raise RuntimeLoadError(f"{self.path.name} takes inputs {self.input_names}; got unexpected {name!r}")
        missing = [name for name in self.input_names if name not in given]
        if missing:
            raise RuntimeLoadError(f"{self.path.name} needs inputs {self.input_names}; missing {missing}")
        feed = {}
        for name in self.input_names:
            array = np.asarray(given[name])
            if array.ndim == 1:
                array = array[None, :]
            if array.ndim != 2:
                raise RuntimeLoadError(f"{name} must have shape (1, seq), got {array.shape}")
            feed[name] = np.ascontiguousarray(array, dtype=np.int64)
        return feed

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.backend} {self.path} inputs={self.input_names} threads={self.threads}>"


class ExecuTorchRunner(Runner):
    backend = "pte"

    def __init__(self, path: Path, threads: int | None = None, input_names: list[str] | None = None,
                 output_names: list[str] | None = None, weight_cache: bool = True):
        # The quantized kernels (int8/int4 embedding lookup) live in a separate library; load it before the program.
        import executorch.kernels.quantized  # noqa: F401
        from executorch.extension.pybindings import portable_lib
        from executorch.runtime import Runtime

        self.path, self.threads = path, threads
        with open(path, "rb") as f:
            head = f.read(8)
        # The flatbuffer identifier ("ET" + schema version) at bytes 4..8. Checked here because the runtime's loader
        # aborts the whole process on some malformed files instead of raising.
        if len(head) < 8 or head[4:6] != b"ET":
            raise RuntimeLoadError(f"{path}: not an ExecuTorch program (no ET flatbuffer header); re-run the export")
        if threads is not None:
            if threads < 1:
                raise RuntimeLoadError(f"threads must be >= 1, got {threads}")
            portable_lib._unsafe_reset_threadpool(threads)
        from albert_edge.backend_options import set_xnnpack_weight_cache

        try:
            self._program = Runtime.get().load_program(path)
            # Read by XNNPACK when a method is loaded, so it is set for this load even if another runner changed it.
            self.weight_cache = set_xnnpack_weight_cache(weight_cache)
            self._method = self._program.load_method("forward")
        except (RuntimeError, ValueError) as e:
            raise RuntimeLoadError(f"{path}: not a loadable ExecuTorch program ({str(e).splitlines()[0]})") from None
        if self._method is None:
            raise RuntimeLoadError(f"{path}: the program has no `forward` method")
        meta = self._method.metadata
        n_inputs = meta.num_inputs()
        self.input_names = list(input_names or INPUT_ORDER[:n_inputs])
        if len(self.input_names) != n_inputs:
            raise RuntimeLoadError(f"{path}: the program takes {n_inputs} inputs, the manifest names "
                                   f"{self.input_names}")
        self.output_names = list(output_names or [f"output_{i}" for i in range(meta.num_outputs())])
        # Memory-planned inputs are sized for the largest shape the program accepts: that is the seq upper bound.
        self.max_shape = tuple(meta.input_tensor_meta(0).sizes())

    def _run(self, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        import torch

        seq = feed[self.input_names[0]].shape
        if seq[0] != self.max_shape[0] or seq[1] > self.max_shape[1] or seq[1] < 1:
            raise RuntimeLoadError(f"{self.path.name} takes shape (1, 1..{self.max_shape[1]}), got {seq}")
        return execute(self._method, [torch.from_numpy(feed[name]) for name in self.input_names])

    def close(self) -> None:
        self._method = None
        self._program = None


def execute(method: Any, inputs: list[Any]) -> list[np.ndarray]:
    """Run an `executorch.runtime.Method` and copy its outputs out with numpy.

    Outputs live in the program's planned memory and are overwritten by the next call, so they must be copied; the
    bindings' own copy (`clone_outputs=True`, the default) is a torch clone on torch's OpenMP pool, whose threads then
    spin and halve the next XNNPACK call. Falls back to the default where the bindings lack `clone_outputs`.
    """
    bound = getattr(method, "_method", None)
    try:
        outputs = bound(inputs, clone_outputs=False) if bound is not None else method.execute(inputs)
    except TypeError:
        outputs = method.execute(inputs)
    return [np.array(o.detach().numpy() if hasattr(o, "detach") else o, copy=True) for o in outputs]


class OnnxRunner(Runner):
    backend = "onnx"

    def __init__(self, path: Path, threads: int | None = None):
        import onnxruntime as ort

        self.path, self.threads = path, threads
        options = ort.SessionOptions()
        if threads is not None:
            if threads < 1:
                raise RuntimeLoadError(f"threads must be >= 1, got {threads}")
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types for unreadable models
            raise RuntimeLoadError(f"{path}: not a loadable ONNX model ({str(e).splitlines()[0][:160]})") from None
        self.input_names = [i.name for i in self._session.get_inputs()]
        self.output_names = [o.name for o in self._session.get_outputs()]

    def _run(self, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self._session.run(None, feed)

    def close(self) -> None:
        self._session = None


def read_manifest(directory: str | os.PathLike) -> dict[str, Any]:
    """An export directory's manifest.json; RuntimeLoadError says why the directory is not an export. The one reader
    that pipelines, the benchmark harness and the Android bundler share (each re-raises in its own error type)."""
    directory = Path(directory)
    path = directory / MANIFEST
    if not path.is_file():
        raise RuntimeLoadError(f"{directory}: no {MANIFEST}; pass a directory written by python -m albert_edge.export")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RuntimeLoadError(f"{path}: not valid JSON ({e}); re-run the export") from None
    if not isinstance(manifest, dict):
        raise RuntimeLoadError(f"{path}: expected a JSON object; re-run the export")
    return manifest


def _from_manifest(directory: Path, threads: int | None, backend: str | None, weight_cache: bool) -> Runner:
    manifest = read_manifest(directory)
    artifacts = manifest.get("artifacts") or {}
    choice = backend or next((b for b in ("pte", "onnx") if artifacts.get(b)), None)
    if not choice or not artifacts.get(choice):
        raise RuntimeLoadError(f"{directory}: the export has no {backend or 'pte or onnx'} artifact")
    path = directory / artifacts[choice]
    if choice == "pte":
        names = [i["name"] for i in manifest.get("inputs", [])] or None
        outputs = [o["name"] for o in manifest.get("outputs", [])] or None
        return ExecuTorchRunner(path, threads, names, outputs, weight_cache=weight_cache)
    return OnnxRunner(path, threads)


def load(path: str | os.PathLike, threads: int | None = None, backend: str | None = None,
         weight_cache: bool = True) -> Runner:
    """A Runner for a `.pte`, an `.onnx`, or an export directory (its .pte unless `backend="onnx"`).

    `weight_cache` (.pte only): XNNPACK packs each weight once however many call sites share it (see module doc).
    """
    path = Path(path)
    if not path.exists():
        raise RuntimeLoadError(f"{path}: no such file or directory")
    if path.is_dir():
        return _from_manifest(path, threads, backend, weight_cache)
    if path.suffix == ".pte":
        return ExecuTorchRunner(path, threads, weight_cache=weight_cache)
    if path.suffix == ".onnx":
        return OnnxRunner(path, threads)
    raise RuntimeLoadError(f"{path}: expected a .pte or .onnx file, or an export directory")
