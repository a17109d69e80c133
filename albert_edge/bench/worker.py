"""One benchmark target, measured in a fresh process so that memory figures belong to that target alone.

    python path/to/worker.py SPEC.json OUT.json

The harness runs this file by path rather than as `-m albert_edge.bench.worker`: importing the `albert_edge` package
imports torch, which would put ~300 MB of libtorch into an ONNX Runtime process that never uses it. Only the backend
under test is imported (ExecuTorch's Python runtime does need libtorch; its pybindings link against it).

Memory: RSS is read after the backend's imports (the baseline), after loading the model, and after each sequence
length. The peak is the larger of the kernel's high-water mark (VmHWM, reset after the imports through
/proc/self/clear_refs so it covers load + inference only) and a 1 kHz RSS sampler that runs during load, the first
inference and the warm-ups. The sampler is there because the kernel records the high-water mark lazily (at unmap
time): memory an allocator hands back with madvise lowers RSS without the peak ever being recorded. It is stopped
during the timed iterations so that it cannot perturb them. Where /proc is missing (macOS) the peak is `getrusage`
maxrss, which includes the imports.

Sequence lengths run in ascending order, so the peak read after each one is the peak up to that length. After the
last one the worker also reads how much the shared libraries' resident pages grew since the baseline
(`library_rss_growth`: the runtime's code that loading and running faulted in, part of the peak but not the model's).

Kind "depth" (`depth.py`) is the accuracy-vs-latency sweep over depth: no memory figures, the runtime's own calls
timed per sentence.
"""

from __future__ import annotations

import json
import os
import re
import resource
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np

PROC_STATUS = Path("/proc/self/status")


def _status_kb(field: str) -> int | None:
    try:
        m = re.search(rf"^{field}:\s+(\d+)\s+kB", PROC_STATUS.read_text(), re.MULTILINE)
    except OSError:
        return None
    return int(m.group(1)) if m else None


def rss_bytes() -> int:
    kb = _status_kb("VmRSS")
    if kb is not None:
        return kb * 1024
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except ImportError:
        return peak_bytes()


def peak_bytes() -> int:
    kb = _status_kb("VmHWM")
    if kb is not None:
        return kb * 1024
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss if sys.platform == "darwin" else maxrss * 1024  # bytes on macOS, kB on Linux


def resident_kib_by_kind(program: str | None = None) -> dict[str, int] | None:
    """This process's resident KiB by kind of mapping, from /proc/self/smaps: "anonymous" (with [heap]), "program"
    (mappings of the file at path `program`), "libraries" (shared libraries: their code and read-only data) and
    "other"; None where that file is missing. What grows under "libraries" during a run is the runtime's own code,
    faulted in by the first load and run, not the model's memory."""
    kinds = {"anonymous": 0, "program": 0, "libraries": 0, "other": 0}
    current = "anonymous"
    try:
        with open("/proc/self/smaps", encoding="utf-8") as smaps:
            for line in smaps:
                fields = line.split()
                if "-" in fields[0] and len(fields) >= 5:  # a mapping's header: range perms offset dev inode [path]
                    path = fields[5] if len(fields) >= 6 else ""
                    current = ("program" if program is not None and path == program else
                               "libraries" if ".so" in path else "anonymous" if path in ("", "[heap]") else "other")
                elif fields[0] == "Rss:":
                    kinds[current] += int(fields[1])
    except OSError:
        return None
    return kinds


def library_rss_bytes() -> int | None:
    """Resident bytes of the shared libraries' mappings (`resident_kib_by_kind`); None where smaps is missing."""
    kinds = resident_kib_by_kind()
    return None if kinds is None else kinds["libraries"] * 1024


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: writing 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class PeakSampler:
    """Samples RSS every `period_s` on a thread while active; `peak` is the largest sample seen."""

    def __init__(self, period_s: float = 0.001):
        self.period_s, self.peak, self._stop, self._thread = period_s, 0, threading.Event(), None

    def __enter__(self) -> "PeakSampler":
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            self._stop.wait(self.period_s)


# -- inputs ------------------------------------------------------------------------------------------------------------
def make_inputs(specs: list[dict[str, Any]], batch: int, seq_len: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Arrays for one run, in the model's input order. Token ids are random non-special ids: values do not change
    the work a dense encoder does, only the shapes do."""
    arrays = []
    for s in specs:
        kind = s["kind"]
        if kind == "ids":
            a = rng.integers(5, max(6, int(s.get("vocab_size", 1000))), size=(batch, seq_len), dtype=np.int64)
        elif kind == "ones":
            a = np.ones((batch, seq_len), dtype=np.int64)
        elif kind == "zeros":
            a = np.zeros((batch, seq_len), dtype=np.int64)
        elif kind == "hidden":
            a = rng.standard_normal((batch, seq_len, int(s["width"])), dtype=np.float32)
        else:
            raise ValueError(f"unknown input kind {kind!r}")
        arrays.append(a)
    return arrays


# -- backends: each returns (prepare(arrays) -> feed, run(feed) -> outputs as numpy) ----------------------------------
Backend = tuple[Callable[[list[np.ndarray]], Any], Callable[[Any], list[np.ndarray]]]


def load_pte(spec: dict[str, Any]) -> Backend:
    # int8 .pte files call ExecuTorch's quantized embedding kernels, which live in this separate library.
    import executorch.kernels.quantized  # noqa: F401
    import torch
    from executorch.extension.pybindings import portable_lib
    from executorch.runtime import Runtime

    from albert_edge.backend_options import set_xnnpack_weight_cache
    from albert_edge.runtime import data_file, execute

    portable_lib._unsafe_reset_threadpool(int(spec["threads"]))
    runtime = Runtime.get()
    t0 = time.perf_counter()
    data = data_file(spec["path"])  # a masked-LM's tied table lives in <stem>.ptd beside the .pte
    program = runtime.load_program(spec["path"], data_path=data if data.is_file() else None)
    spec["_weight_cache"] = set_xnnpack_weight_cache(bool(spec.get("weight_cache", True)))
    method = program.load_method("forward")
    spec["_load_ms"] = (time.perf_counter() - t0) * 1e3

    def prepare(arrays):
        return [torch.from_numpy(a) for a in arrays]

    def run(feed):
        return execute(method, feed)

    return prepare, run


def load_onnx(spec: dict[str, Any]) -> Backend:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = int(spec["threads"])
    options.inter_op_num_threads = 1
    # One session per worker process, so spinning threads cannot steal cores from another session; spinning is on,
    # ORT's default and what an app gets, set explicitly because the report states it.
    options.add_session_config_entry("session.intra_op.allow_spinning", "1")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    t0 = time.perf_counter()
    session = ort.InferenceSession(spec["path"], options, providers=["CPUExecutionProvider"])
    spec["_load_ms"] = (time.perf_counter() - t0) * 1e3
    names = [i.name for i in session.get_inputs()]
    wanted = [s["name"] for s in spec["inputs"]]
    if sorted(names) != sorted(wanted):
        raise ValueError(f"{spec['path']} takes inputs {names}, the benchmark prepared {wanted}")

    def prepare(arrays):
        return dict(zip(wanted, arrays))

    def run(feed):
        return session.run(None, feed)

    return prepare, run


def _torch_backend(model) -> Backend:
    import torch

    def prepare(arrays):
        return [torch.from_numpy(a) for a in arrays]

    def run(feed):
        with torch.inference_mode():
            out = model(*feed)
        if hasattr(out, "to_tuple"):  # a transformers ModelOutput
            out = out.to_tuple()
        out = out if isinstance(out, (tuple, list)) else (out,)
        return [o.numpy() for o in out if o is not None]

    return prepare, run


def load_eager(spec: dict[str, Any]) -> Backend:
    import torch

    torch.set_num_threads(int(spec["threads"]))
    from albert_edge.hub import from_pretrained

    t0 = time.perf_counter()
    model = from_pretrained(spec["path"], task=spec.get("task"))
    spec["_load_ms"] = (time.perf_counter() - t0) * 1e3
    return _torch_backend(model)


def hf_class(spec: dict[str, Any]):
    """transformers' class for the checkpoint. Resolving it imports its modeling module (transformers imports
    lazily), which `measure` does before the memory baseline so that the peer is not charged for it."""
    import transformers

    config = json.loads((Path(spec["path"]) / "config.json").read_text())
    return getattr(transformers, (config.get("architectures") or ["AlbertModel"])[0])


def load_hf(spec: dict[str, Any]) -> Backend:
    import torch

    torch.set_num_threads(int(spec["threads"]))
    cls = hf_class(spec)
    t0 = time.perf_counter()
    model = cls.from_pretrained(spec["path"]).eval()
    spec["_load_ms"] = (time.perf_counter() - t0) * 1e3
    prepare, run = _torch_backend(model)

    def run_kw(feed):  # HF models take keywords; the spec's input names are HF's
        with torch.inference_mode():
            out = model(**dict(zip([s["name"] for s in spec["inputs"]], feed)))
        return [o.numpy() for o in out.to_tuple() if o is not None]

    return prepare, run_kw


LOADERS: dict[str, Callable[[dict[str, Any]], Backend]] = {
    "pte": load_pte, "onnx": load_onnx, "eager": load_eager, "hf-eager": load_hf,
}
# Imported before the memory baseline: a runtime's own libraries are the process's floor, not the model's memory.
IMPORTS = {"pte": ("torch", "executorch.runtime", "executorch.kernels.quantized", "albert_edge.runtime"),
           "onnx": ("onnxruntime",),
           "eager": ("torch", "albert_edge.hub"), "hf-eager": ("torch", "transformers")}


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    import importlib

    kind = spec["kind"]
    t0 = time.perf_counter()
    for module in IMPORTS[kind]:
        importlib.import_module(module)
    if kind == "hf-eager":
        hf_class(spec)
    import_s = time.perf_counter() - t0
    rss_baseline, libraries_baseline = rss_bytes(), library_rss_bytes()
    peak_reset = reset_peak()

    sampler = PeakSampler()
    with sampler:
        t0 = time.perf_counter()
        prepare, run = LOADERS[kind](spec)
        load_ms = spec.pop("_load_ms", (time.perf_counter() - t0) * 1e3)
    peak = max(sampler.peak, peak_bytes())
    result: dict[str, Any] = {
        "import_s": import_s, "load_ms": load_ms, "rss_baseline": rss_baseline, "rss_after_load": rss_bytes(),
        "peak_load": peak, "peak_reset": peak_reset, "torch_imported": "torch" in sys.modules, "runs": [],
    }
    if "_weight_cache" in spec:  # what was in effect: False where the runtime could not turn it on
        result["weight_cache"] = spec.pop("_weight_cache")
    rng = np.random.default_rng(int(spec.get("seed", 0)))
    batch, iterations, warmups = int(spec.get("batch", 1)), int(spec["iterations"]), int(spec["warmups"])
    for seq_len in sorted(spec["seq_lens"]):
        feed = prepare(make_inputs(spec["inputs"], batch, seq_len, rng))
        with sampler:
            t = time.perf_counter_ns()
            outputs = run(feed)
            first_ms = (time.perf_counter_ns() - t) / 1e6
            for _ in range(warmups):
                run(feed)
        latencies = []
        for _ in range(iterations):
            t = time.perf_counter_ns()
            run(feed)
            latencies.append((time.perf_counter_ns() - t) / 1e6)
        result["runs"].append({
            "seq_len": seq_len, "first_ms": first_ms, "latencies_ms": latencies,
            "peak_rss": (peak := max(peak, sampler.peak, peak_bytes())),
            "rss": rss_bytes(), "output_shapes": [list(np.shape(o)) for o in outputs],
            "outputs_finite": bool(all(np.isfinite(np.asarray(o, dtype=np.float64)).all() for o in outputs)),
        })
    libraries = library_rss_bytes()
    if libraries is not None and libraries_baseline is not None:
        result["library_rss_growth"] = libraries - libraries_baseline
    return result


def _first_output(result: tuple[list[np.ndarray], int]) -> tuple[np.ndarray, int]:
    outputs, depth = result
    return outputs[0], depth


def measure_depth(spec: dict[str, Any]) -> dict[str, Any]:
    """The depth sweep (`depth.py`): each sentence through every setting in turn, rotating the order per sentence;
    per setting the latency of each runtime call, its top-1 class and the depth it used."""
    import executorch.kernels.quantized  # noqa: F401  (int8 embedding kernels)

    from albert_edge import runtime
    from albert_edge.exits import ExitPolicy

    threads = int(spec["threads"])
    t0 = time.perf_counter()
    forward = runtime.load(spec["path"], threads=threads, backend="pte")
    chain = runtime.load(spec["path"], threads=threads, backend="pte_stepwise")
    load_ms = (time.perf_counter() - t0) * 1e3
    calls = []
    for s in spec["settings"]:
        if s["kind"] == "forward":
            calls.append(lambda feed: (forward.run(feed)[0], chain.num_layers))
        elif s["kind"] == "fixed":
            calls.append(lambda feed, d=int(s["depth"]): (chain.run(feed, depth=d)[0], d))
        else:
            policy = ExitPolicy.from_dict(s["policy"])
            calls.append(lambda feed, p=policy: _first_output(chain.run_adaptive(p, feed)))
    feeds = [{name: np.asarray([ids], dtype=np.int64) for name, ids in e.items()} for e in spec["examples"]]
    for feed in feeds[:int(spec.get("warmups", 5))]:
        for call in calls:
            call(feed)
    measured = [{"latencies_ms": [], "predictions": [], "depths": []} for _ in calls]
    n = len(calls)
    for i, feed in enumerate(feeds):
        for j in [(i + k) % n for k in range(n)]:
            t = time.perf_counter_ns()
            logits, depth = calls[j](feed)
            measured[j]["latencies_ms"].append((time.perf_counter_ns() - t) / 1e6)
            measured[j]["predictions"].append(int(np.argmax(logits)))
            measured[j]["depths"].append(int(depth))
    forward.close()
    chain.close()
    return {"load_ms": load_ms, "settings": measured}


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: worker.py SPEC.json OUT.json", file=sys.stderr)
        return 2
    spec_path, out_path = Path(argv[0]), Path(argv[1])
    spec = json.loads(spec_path.read_text())
    try:
        result = measure_depth(spec) if spec["kind"] == "depth" else measure(spec)
    except Exception as e:  # reported as the target's load_status; the harness carries on with the other targets
        _write_json(out_path, {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()})
        return 1
    _write_json(out_path, result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
