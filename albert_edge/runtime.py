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

External data: a masked-LM export keeps the tied embedding/decoder table once, in `<stem>.ptd` beside the `.pte`
(`albert_edge.lowering`); the runner passes that file to ExecuTorch whenever it is there, and refuses a program
that needs one without it (ExecuTorch ends the process on such a load instead of raising).

Why ~560 lines: one input-checking base and three runners (forward `.pte`, stepwise `.pte`, ONNX/ORT) that must
apply the same checks, plus the integrity and external-data checks; split, the checks would be copied.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from albert_edge.files import AlbertEdgeError, sha256_file
from albert_edge.manifest import FILE as MANIFEST
from albert_edge.manifest import Manifest, ManifestError
from albert_edge.quiet import native_stderr_filtered


# Input order of every albert_edge export (the model's forward signature); a .pte stores no input names.
INPUT_ORDER = ("input_ids", "attention_mask", "token_type_ids")


class RuntimeLoadError(AlbertEdgeError):
    """A path that is not a loadable .pte/.onnx/export directory, or inputs the model cannot take."""


class InvalidInputError(RuntimeLoadError):
    """An input the model must not be given (wrong dtype, shape, length or value range); says which and why.

    Raised before anything reaches a kernel: ExecuTorch's embedding kernels abort the whole process on an
    out-of-range id, and ONNX Gather silently wraps negative ids.
    """


class IntegrityError(RuntimeLoadError):
    """An artifact whose size or sha256 differs from what its manifest recorded at export."""


_verified: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> sha256 already checked in this process


def data_file(path: Path) -> Path:
    """Where a .pte keeps weights outside itself: `<stem>.ptd` beside the file (a link: beside its target)."""
    return Path(path).resolve().with_suffix(".ptd")


def external_tensors(path: Path) -> list[str]:
    """The names of the tensors a .pte reads from an external data file (its flatbuffer's EXTERNAL tensors); []
    for a self-contained program. Reads only the flatbuffer, not the weights after it (~20 ms, with ExecuTorch's
    own deserializer)."""
    import json

    try:
        from executorch.exir._serialize._flatbuffer import _program_flatbuffer_to_json
        from executorch.exir._serialize._program import _get_extended_header
    except ImportError:  # an ExecuTorch without these private helpers: the manifest is then the only record
        return []
    try:
        with open(path, "rb") as f:
            header = _get_extended_header(f.read(64))
            f.seek(0)
            flatbuffer = f.read(header.segment_base_offset) if header else f.read()
        program = json.loads(_program_flatbuffer_to_json(flatbuffer))
    except Exception:  # a truncated or malformed file: ExecuTorch's own load then says it cannot read it
        return []
    return [value["val"]["extra_tensor_info"].get("fully_qualified_name", "?")
            for plan in program.get("execution_plan", []) for value in plan.get("values", [])
            if value.get("val_type") == "Tensor"
            and (value["val"].get("extra_tensor_info") or {}).get("location") == "EXTERNAL"]


def verify_artifact(path: Path, manifest: Manifest) -> None:
    """Compare `path` with the manifest's record of it (size, then sha256); IntegrityError on a mismatch.

    Hashing costs about 1 s per GB (albert-base int8: ~20 ms); a file already verified in this process with the same
    size and mtime is not hashed again.
    """
    record = manifest.files.get(path.resolve().name)  # model.pte is a link to the named file
    if not record:
        raise IntegrityError(f"{path}: manifest.json records no size or sha256 for it; re-run the export, or load "
                             "with check_integrity=False")
    stat = path.stat()
    if stat.st_size != record.get("bytes"):
        raise IntegrityError(f"{path}: {stat.st_size} bytes, manifest.json says {record.get('bytes')} (the file "
                             "changed after export); re-run the export, or load with check_integrity=False")
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if _verified.get(key) != record.get("sha256"):
        if sha256_file(path) != record.get("sha256"):
            raise IntegrityError(f"{path}: sha256 differs from manifest.json (the file changed after export); "
                                 "re-run the export, or load with check_integrity=False")
        _verified[key] = record["sha256"]


@dataclass(frozen=True)
class InputLimits:
    """What a model accepts: ids in [0, vocab_size), token types in [0, type_vocab_size), mask in {0, 1},
    and sequences of 1..max_seq_len tokens (None: the runtime's own bound, if any)."""

    vocab_size: int
    type_vocab_size: int = 2
    max_seq_len: int | None = None

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> "InputLimits | None":
        config = manifest.config
        if not isinstance(config.get("vocab_size"), int):
            return None
        return cls(int(config["vocab_size"]), int(config.get("type_vocab_size", 2)), manifest.max_seq_len)

    def value_range(self, name: str) -> tuple[int, int] | None:
        """Inclusive bounds of an input's values."""
        return {"input_ids": (0, self.vocab_size - 1), "attention_mask": (0, 1),
                "token_type_ids": (0, self.type_vocab_size - 1)}.get(name)


class Runner:
    """A loaded model. `run` takes int64 arrays by name and returns the outputs as numpy arrays, in order."""

    backend: str = ""
    path: Path
    input_names: list[str]
    output_names: list[str]
    threads: int | None
    limits: InputLimits | None = None  # None: only dtype and shape are checked (check_inputs=False at load)

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
            feed[name] = self._check(name, given[name])
        shapes = {a.shape for a in feed.values()}
        if len(shapes) > 1:
            raise InvalidInputError(f"inputs must share one shape, got {({n: a.shape for n, a in feed.items()})}")
        return feed

    def _max_seq_len(self) -> int | None:
        return self.limits.max_seq_len if self.limits else None

    def _check(self, name: str, value: Any) -> np.ndarray:
        """One input as a contiguous int64 (1, seq) array, or InvalidInputError naming what is wrong."""
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as e:  # ragged nested lists
            raise InvalidInputError(f"{name} must be an array of integers of shape (1, seq): {e}") from None
        if array.dtype == np.bool_:
            array = array.astype(np.int64)
        if not np.issubdtype(array.dtype, np.integer):
            raise InvalidInputError(f"{name} must hold integers, got dtype {array.dtype} "
                                    "(float ids would be truncated; pass the tokenizer's ids)")
        if array.ndim == 1:
            array = array[None, :]
        if array.ndim != 2 or array.shape[0] != 1:
            raise InvalidInputError(f"{name} must have shape (1, seq), got {array.shape}")
        seq, longest = array.shape[1], self._max_seq_len()
        if seq < 1 or (longest is not None and seq > longest):
            raise InvalidInputError(f"{name} has {seq} tokens; {self.path.name} takes 1..{longest or 'any'}")
        bounds = self.limits.value_range(name) if self.limits else (0, None)
        if bounds is not None:
            low, high = bounds
            bad = (array < low) | (array > high) if high is not None else array < low
            if bad.any():
                where = int(np.flatnonzero(bad.ravel())[0])
                allowed = f"[{low}, {high}]" if high is not None else f">= {low}"
                raise InvalidInputError(f"{name}[{where}] = {array.ravel()[where]} is outside {allowed}")
        return np.ascontiguousarray(array, dtype=np.int64)

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.backend} {self.path} inputs={self.input_names} threads={self.threads}>"


class ExecuTorchRunner(Runner):
    backend = "pte"

    entry = "forward"  # the method inputs go into (StepwiseRunner: "embed")

    def __init__(self, path: Path, threads: int | None = None, input_names: list[str] | None = None,
                 output_names: list[str] | None = None, weight_cache: bool = True,
                 limits: InputLimits | None = None, external_data: bool | None = None):
        """`external_data`: whether the program keeps weights in `data_file(path)` (the manifest knows); None reads
        the program to find out when that file is absent."""
        # The quantized kernels (int8/int4 embedding lookup) live in a separate library; load it before the program.
        import executorch.kernels.quantized  # noqa: F401
        from executorch.extension.pybindings import portable_lib
        from executorch.runtime import Runtime

        self.path, self.threads, self.limits = path, threads, limits
        with open(path, "rb") as f:
            head = f.read(8)
        # The flatbuffer identifier ("ET" + schema version) at bytes 4..8. Checked here because the runtime's loader
        # aborts the whole process on some malformed files instead of raising.
        if len(head) < 8 or head[4:6] != b"ET":
            raise RuntimeLoadError(f"{path}: not an ExecuTorch program (no ET flatbuffer header); re-run the export")
        data = data_file(path)
        self.data_path = data if data.is_file() else None
        if self.data_path is None and (external_data or (external_data is None and external_tensors(path))):
            raise RuntimeLoadError(f"{path}: keeps weights in {data.name}, which is not beside it; copy the "
                                   "export's .ptd file with the .pte")
        if threads is not None:
            if threads < 1:
                raise RuntimeLoadError(f"threads must be >= 1, got {threads}")
            portable_lib._unsafe_reset_threadpool(threads)
        from albert_edge.backend_options import set_xnnpack_weight_cache

        try:
            with native_stderr_filtered():  # the runtime's cpuinfo probe lines; anything else is written back
                self._program = Runtime.get().load_program(path, data_path=self.data_path)
                # Read by XNNPACK when a method loads, so it is set for this load even if another runner changed it.
                self.weight_cache = set_xnnpack_weight_cache(weight_cache)
                if self.entry not in self._program.method_names:
                    raise RuntimeLoadError(f"{path}: the program has no `{self.entry}` method (it has "
                                           f"{', '.join(sorted(self._program.method_names))})")
                self._method = self._program.load_method(self.entry)
                self._load_more()
        except RuntimeLoadError:
            raise
        except (RuntimeError, ValueError) as e:
            data = f" with {self.data_path.name}" if self.data_path else ""
            raise RuntimeLoadError(f"{path}: not a loadable ExecuTorch program{data} ({str(e).splitlines()[0]}); "
                                   "re-run the export") from None
        meta = self._method.metadata
        n_inputs = meta.num_inputs()
        self.input_names = list(input_names or INPUT_ORDER[:n_inputs])
        if len(self.input_names) != n_inputs:
            raise RuntimeLoadError(f"{path}: the program takes {n_inputs} inputs, the manifest names "
                                   f"{self.input_names}")
        self.output_names = list(output_names or [f"output_{i}" for i in range(self._num_outputs())])
        # Memory-planned inputs are sized for the largest shape the program accepts: that is the seq upper bound.
        self.max_shape = tuple(meta.input_tensor_meta(0).sizes())

    def _load_more(self) -> None:
        """Load the methods besides the entry one (inside the load's error handling and weight-cache setting)."""

    def _num_outputs(self) -> int:
        return self._method.metadata.num_outputs()

    def _max_seq_len(self) -> int | None:
        # The program's own bound (its planned input size) and the manifest's, whichever is tighter.
        bounds = [b for b in (self.max_shape[1] if len(self.max_shape) == 2 else None, super()._max_seq_len()) if b]
        return min(bounds) if bounds else None

    def _run(self, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        import torch

        return execute(self._method, [torch.from_numpy(feed[name]) for name in self.input_names])

    def close(self) -> None:
        self._method = None
        self._program = None


class StepwiseRunner(ExecuTorchRunner):
    """A stepwise `.pte` (`albert_edge.stepwise`): `embed`, one `layer_<g>` per hidden group, `head`, chained here.
    `run(..., depth=k)` applies the shared layer k times (default: the model's depth, which equals `forward`);
    `heads[k-1]` (the manifest's `stepwise.heads`; default `head` at every depth) answers after depth k."""

    backend = "pte_stepwise"
    entry = "embed"

    def __init__(self, path: Path, schedule: list[str], threads: int | None = None,
                 input_names: list[str] | None = None, output_names: list[str] | None = None,
                 weight_cache: bool = True, limits: InputLimits | None = None, heads: list[str] | None = None,
                 external_data: bool | None = None):
        if not schedule:
            raise RuntimeLoadError(f"{path}: a stepwise program needs its layer schedule (the manifest's "
                                   "stepwise.schedule); load the export directory")
        if heads is not None and len(heads) != len(schedule):
            raise RuntimeLoadError(f"{path}: the manifest names {len(heads)} heads for {len(schedule)} depths; "
                                   "re-run the export")
        self.schedule = list(schedule)
        self.heads = list(heads) if heads else ["head"] * len(schedule)
        super().__init__(path, threads, input_names, output_names, weight_cache, limits, external_data)

    def _load_more(self) -> None:
        missing = [m for m in {*self.schedule, *self.heads, "head"} if m not in self._program.method_names]
        if missing:
            raise RuntimeLoadError(f"{self.path}: the program lacks method(s) {', '.join(sorted(missing))}")
        self._layers = {name: self._program.load_method(name) for name in dict.fromkeys(self.schedule)}
        self._head = self._program.load_method("head")
        named = {name: self._program.load_method(name) for name in dict.fromkeys(self.heads) if name != "head"}
        self._heads = [named.get(name, self._head) for name in self.heads]  # the method answering at each depth

    def _num_outputs(self) -> int:
        return self._head.metadata.num_outputs()

    @property
    def num_layers(self) -> int:
        return len(self.schedule)

    def run(self, inputs: dict[str, np.ndarray] | None = None, depth: int | None = None,
            **arrays: np.ndarray) -> list[np.ndarray]:
        depth = self.num_layers if depth is None else depth
        if not 1 <= depth <= self.num_layers:
            raise InvalidInputError(f"depth must be in 1..{self.num_layers}, got {depth}")
        feed = self._feed({**(inputs or {}), **arrays})
        return self._chain(feed, depth)

    def _run(self, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self._chain(feed, self.num_layers)

    def _chain(self, feed: dict[str, np.ndarray], depth: int, each_depth=None) -> list[np.ndarray]:
        """`depth` applications then the head; `each_depth(k, hidden)` (if given) runs after application k and
        may return the head's outputs to stop there."""
        import torch

        hidden, bias = (torch.from_numpy(a) for a in execute(self._method, [torch.from_numpy(feed[name])
                                                                              for name in self.input_names]))
        for k, name in enumerate(self.schedule[:depth], 1):
            # A copy, not a view: the layer's output buffer is where its next call writes.
            hidden = torch.from_numpy(execute(self._layers[name], [hidden, bias])[0])
            if each_depth is not None:
                outputs = each_depth(k, hidden)
                if outputs is not None:
                    return outputs
        return execute(self._heads[depth - 1], [hidden])

    def outputs_by_depth(self, inputs: dict[str, np.ndarray] | None = None, **arrays) -> list[list[np.ndarray]]:
        """The head's outputs after every depth 1..N, in one pass (what `exits.calibrate` needs)."""
        by_depth: list[list[np.ndarray]] = []

        def record(k, hidden):
            by_depth.append(execute(self._heads[k - 1], [hidden]))
            return by_depth[-1] if k == self.num_layers else None

        self._chain(self._feed({**(inputs or {}), **arrays}), self.num_layers, record)
        return by_depth

    def run_adaptive(self, policy, inputs: dict[str, np.ndarray] | None = None,
                     **arrays) -> tuple[list[np.ndarray], int]:
        """Apply the layer until `policy` (an `albert_edge.exits.ExitPolicy`) stops on the head's first output;
        returns the outputs and the depth used."""
        seen: list[np.ndarray] = []
        used = {"depth": self.num_layers}

        def decide(k, hidden):
            if k < policy.min_depth and k < self.num_layers:
                seen.append(None)
                return None
            outputs = execute(self._heads[k - 1], [hidden])
            seen.append(outputs[0])
            if k == self.num_layers or policy.should_exit(seen):
                used["depth"] = k
                return outputs
            return None

        outputs = self._chain(self._feed({**(inputs or {}), **arrays}), self.num_layers, decide)
        return outputs, used["depth"]

    def close(self) -> None:
        self._layers, self._head, self._heads = {}, None, []
        super().close()


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

    def __init__(self, path: Path, threads: int | None = None, limits: InputLimits | None = None):
        import onnxruntime as ort

        self.path, self.threads, self.limits = path, threads, limits
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




def read_manifest(directory: str | os.PathLike) -> Manifest:
    """An export directory's manifest (`albert_edge.manifest`); RuntimeLoadError says why the directory is not an
    export. Pipelines, the benchmark harness and the Android bundler read it through here (each re-raises in its own
    error type)."""
    try:
        return Manifest.read(directory)
    except ManifestError as e:
        raise RuntimeLoadError(str(e)) from None


def _from_manifest(directory: Path, threads: int | None, backend: str | None, weight_cache: bool,
                   limits: InputLimits | None, check_inputs: bool, integrity: bool,
                   manifest: Manifest | None) -> Runner:
    manifest = manifest or read_manifest(directory)
    if check_inputs:
        limits = limits or InputLimits.from_manifest(manifest)
    if limits is None and check_inputs:
        raise RuntimeLoadError(f"{directory / MANIFEST}: no config.vocab_size, so inputs cannot be checked; "
                               "re-run the export")
    artifacts = manifest.artifacts
    choice = backend or next((b for b in ("pte", "onnx", "ort", "pte_stepwise") if artifacts.get(b)), None)
    if not choice or not artifacts.get(choice):
        raise RuntimeLoadError(f"{directory}: the export has no {backend or 'pte, onnx or ort'} artifact")
    path = directory / artifacts[choice]
    if not path.is_file():
        raise RuntimeLoadError(f"{path}: missing; the export directory is incomplete, re-run the export")
    external = _external_data(path, choice, manifest, integrity)
    if integrity:
        verify_artifact(path, manifest)
    names = [i["name"] for i in manifest.inputs] or None
    outputs = [o["name"] for o in manifest.outputs] or None
    if choice == "pte":
        return ExecuTorchRunner(path, threads, names, outputs, weight_cache=weight_cache, limits=limits,
                                external_data=external)
    if choice == "pte_stepwise":
        schedule = (manifest.stepwise or {}).get("schedule") or []
        return StepwiseRunner(path, schedule, threads, names, outputs, weight_cache=weight_cache, limits=limits,
                              heads=(manifest.stepwise or {}).get("heads"), external_data=external)
    return OnnxRunner(path, threads, limits=limits)


def _external_data(path: Path, backend: str, manifest: Manifest, integrity: bool) -> bool:
    """Whether the manifest says `backend`'s program keeps weights in a .ptd; that file checked like the artifact."""
    name = (manifest.external_data or {}).get(backend)
    if not name:
        return False
    data = path.parent / name
    if data.resolve() != data_file(path):
        raise RuntimeLoadError(f"{path.parent / MANIFEST}: external_data.{backend} {name!r} is not "
                               f"{data_file(path).name}, where the runtime reads it; re-run the export")
    if not data.is_file():
        raise RuntimeLoadError(f"{data}: missing (the {backend} program keeps weights there); the export directory "
                               "is incomplete, re-run the export")
    if integrity:
        verify_artifact(data, manifest)
    return True


def _sibling_manifest(path: Path) -> Manifest | None:
    """The manifest of the export directory holding `path`, if it names that file as an artifact."""
    if not (path.parent / MANIFEST).is_file():
        return None
    try:
        manifest = read_manifest(path.parent)
    except RuntimeLoadError:
        return None
    named = set(manifest.artifacts.values()) | set(manifest.links)
    return manifest if path.name in named or path.resolve().name in named else None


def load(path: str | os.PathLike, threads: int | None = None, backend: str | None = None,
         weight_cache: bool = True, vocab_size: int | None = None, type_vocab_size: int = 2,
         max_seq_len: int | None = None, check_inputs: bool = True, check_integrity: bool = True,
         manifest: Manifest | None = None) -> Runner:
    """A Runner for a `.pte`, an `.onnx`, an `.ort` (ONNX Runtime's mobile format), or an export directory (its
    .pte unless `backend="onnx"` or `"ort"`; `manifest` stands in for its manifest.json, for a directory still being
    written, as export's task metrics run before the manifest exists).

    Every input is checked before it reaches a kernel (`InvalidInputError`): integer dtype, shape (1, seq), length,
    ids < vocab size, token types < type vocab size, mask in {0, 1}. The limits come from the export's manifest; a
    file outside an export directory needs `vocab_size=` (and `max_seq_len=` for an .onnx), or `check_inputs=False`
    to skip the value checks at the caller's risk (an out-of-range id aborts the process in ExecuTorch).
    `weight_cache` (.pte only): XNNPACK packs each weight once however many call sites share it (see module doc).
    `check_integrity`: a file inside an export directory is compared with the manifest's size and sha256 first
    (IntegrityError on a mismatch); False skips that, for users who load files they changed on purpose.
    """
    path = Path(path)
    if not path.exists():
        raise RuntimeLoadError(f"{path}: no such file or directory")
    limits = InputLimits(vocab_size, type_vocab_size, max_seq_len) if vocab_size is not None else None
    if vocab_size is not None and vocab_size < 1:
        raise RuntimeLoadError(f"vocab_size must be >= 1, got {vocab_size}")
    if path.is_dir():
        return _from_manifest(path, threads, backend, weight_cache, limits, check_inputs, check_integrity, manifest)
    if path.suffix not in (".pte", ".onnx", ".ort"):
        raise RuntimeLoadError(f"{path}: expected a .pte, .onnx or .ort file, or an export directory")
    manifest = _sibling_manifest(path)
    external = None
    if manifest is not None:
        if path.suffix == ".pte":
            backend = "pte_stepwise" if path.name == manifest.artifact("pte_stepwise") else "pte"
            external = _external_data(path, backend, manifest, check_integrity)
        if check_integrity:
            verify_artifact(path, manifest)
    if limits is None and check_inputs:
        limits = InputLimits.from_manifest(manifest) if manifest else None
        if limits is None:
            raise RuntimeLoadError(f"{path}: no export manifest beside it gives the vocabulary size; load the export "
                                   "directory, or pass vocab_size= (check_inputs=False skips the checks)")
    if manifest is not None and path.name == manifest.artifact("pte_stepwise"):
        return StepwiseRunner(path, (manifest.stepwise or {}).get("schedule") or [], threads,
                              [i["name"] for i in manifest.inputs] or None, weight_cache=weight_cache, limits=limits,
                              heads=(manifest.stepwise or {}).get("heads"), external_data=external)
    if path.suffix == ".pte":
        return ExecuTorchRunner(path, threads, weight_cache=weight_cache, limits=limits, external_data=external)
    return OnnxRunner(path, threads, limits=limits)  # .onnx, or .ort: ONNX Runtime reads its mobile format alike
