"""The native runner: our `.pte` measured in a C++ process like an app's, beside the Python runtime's rows.

Why: the Python runtime's process carries libtorch (the pip bindings link it), maps programs with mlock and wraps
every call in Python; a phone's app has none of that. `native_runner.cpp` (beside this file) loads the same `.pte`
through the executorch wheel's own C++ API (`executorch::extension::Module`, `LoadMode::Mmap` as the Android app's
`LOAD_MODE_MMAP`, the weight cache on), times `forward` and reports memory in the worker's schema, so the harness
gives it rows of its own (`pte-int8-native`). Built once per source, wheel and compiler with the system's C++
compiler (`$CXX`, else g++ or clang++) against the wheel's `include/` and `lib/`, and cached; where no compiler or
header is found the harness notes why and goes on without these rows.

    binary = build(Path("runs/bench/cache"))          # NativeUnavailable says why not
    result = measure(binary, target, threads=2, seq_lens=[16, 128], iterations=20, warmups=3, timeout_s=600)

Hand-written because nothing in the wheel measures a program: its C++ `executor_runner` is not shipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).with_name("native_runner.cpp")
LIBRARIES = ("executorch", "executorch_backend_xnnpack", "executorch_kernels_optimized",
             "executorch_kernels_quantized", "executorch_threadpool")


class NativeUnavailable(RuntimeError):
    """The native runner cannot be built here (the message says what is missing)."""


def _wheel() -> tuple[Path, Path]:
    """The executorch wheel's directory and the torch headers its C++ headers include (torch/headeronly)."""
    import executorch
    import torch

    root = Path(next(iter(executorch.__path__)))
    torch_include = Path(next(iter(torch.__path__))) / "include"
    for needed in (root / "include" / "executorch" / "extension" / "module" / "module.h",
                   root / "lib" / "libexecutorch.so",
                   torch_include / "torch" / "headeronly" / "macros" / "cmake_macros.h"):
        if not needed.exists():
            raise NativeUnavailable(f"{needed} is missing from the installed wheels")
    return root, torch_include


def _compiler() -> str:
    for candidate in (os.environ.get("CXX"), "g++", "clang++"):
        if candidate and shutil.which(candidate):
            return candidate
    raise NativeUnavailable("no C++ compiler found (set CXX, or install g++)")


def build(cache_dir: str | os.PathLike) -> Path:
    """The runner binary, compiled into `cache_dir` unless one of the same source, wheel (path and version) and
    compiler is there already."""
    root, torch_include = _wheel()
    compiler = _compiler()
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True).stdout.splitlines()[:1]
    from executorch.version import __version__ as executorch_version

    identity = [SOURCE.read_bytes(), str(root).encode(), executorch_version.encode(), "".join(version).encode()]
    key = hashlib.sha256(b"\0".join(identity)).hexdigest()[:12]
    cache_dir = Path(cache_dir)
    binary = cache_dir / f"native_runner-{key}"
    if binary.is_file():
        return binary
    cache_dir.mkdir(parents=True, exist_ok=True)
    lib = root / "lib"
    fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=f".{binary.name}.", suffix=".tmp")
    os.close(fd)
    command = [compiler, "-O2", "-std=c++17", f"-I{root / 'include'}",
               f"-I{root / 'include' / 'executorch' / 'runtime' / 'core' / 'portable_type' / 'c10'}",
               "-idirafter", str(torch_include), str(SOURCE), "-o", tmp, f"-L{lib}", "-Wl,--no-as-needed",
               *[f"-l{name}" for name in LIBRARIES], f"-Wl,-rpath,{lib}", "-pthread"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        os.unlink(tmp)
        first = next((line for line in done.stderr.splitlines() if "error" in line), done.stderr.strip()[:200])
        raise NativeUnavailable(f"compiling {SOURCE.name} failed: {first}")
    os.chmod(tmp, 0o755)
    os.replace(tmp, binary)
    return binary


def input_kinds(inputs: list[dict[str, Any]]) -> str:
    """The runner's INPUTS argument from a target's input specs (`targets.token_inputs`)."""
    kinds = []
    for spec in inputs:
        kind = spec["kind"]
        kinds.append(f"ids:{int(spec.get('vocab_size', 1000))}" if kind == "ids"
                     else f"hidden:{int(spec['width'])}" if kind == "hidden" else kind)
    return ",".join(kinds)


def measure(binary: Path, target, threads: int, seq_lens: list[int], iterations: int, warmups: int,
            timeout_s: float) -> dict[str, Any]:
    """One target at one thread count in a fresh native process: the worker's result schema, or {"error": ...}."""
    command = [str(binary), "measure", str(target.path), str(threads), str(iterations), str(warmups),
               "1" if target.options.get("weight_cache", True) else "0", input_kinds(target.inputs),
               *[str(s) for s in sorted(seq_lens)]]
    return _run_json(command, timeout_s)


def measure_depth(binary: Path, job, threads: int, warmups: int, timeout_s: float) -> dict[str, Any]:
    """A depth sweep (`depth.DepthJob`) in the runner's `depth` mode: the schema of worker.py's `measure_depth`, or
    {"error": ...}. Every setting as in the Python sweep: forward, each fixed depth, each exit policy."""
    artifact = job.artifact
    stepwise = artifact.manifest.stepwise or {}
    schedule = stepwise.get("schedule") or []
    if set(schedule) != {"layer_0"}:
        return {"error": "the native runner chains one hidden group (layer_0 at every depth)"}
    if any(set(e) != {"input_ids", "attention_mask"} or 0 in e["attention_mask"] for e in job.examples):
        return {"error": "the native runner feeds input ids with an all-ones mask"}
    lines = []
    for setting in job.settings:
        if setting["kind"] == "forward":
            lines.append("forward")
        elif setting["kind"] == "fixed":
            lines.append(f"fixed {int(setting['depth'])}")
        else:
            policy = setting["policy"]
            lines.append(f"{policy['kind']} {float(policy['value'])!r} {int(policy.get('min_depth', 1))}")
    heads = stepwise.get("heads") or ["head"] * len(schedule)
    with tempfile.TemporaryDirectory() as tmp:
        settings, examples = Path(tmp) / "settings.txt", Path(tmp) / "examples.txt"
        settings.write_text("\n".join(lines) + "\n")
        examples.write_text("".join(" ".join(map(str, e["input_ids"])) + "\n" for e in job.examples))
        command = [str(binary), "depth", str(artifact.file("pte")), str(artifact.file("pte_stepwise")),
                   ",".join(heads), str(threads), str(warmups), str(settings), str(examples)]
        return _run_json(command, timeout_s)


def _run_json(command: list[str], timeout_s: float) -> dict[str, Any]:
    """The runner's last JSON line, or {"error": ...} saying why there is none."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {"error": f"native runner timed out after {timeout_s:.0f} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    try:
        return json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
        return {"error": f"native runner exited {done.returncode}: {tail}"}
