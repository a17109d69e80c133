"""What machine a benchmark ran on: CPU, the ISA features int8 kernels depend on, cores, memory, OS, library versions.

int8 speed-ups are a property of the instruction set as much as of the model: x86 needs VNNI (avx512_vnni / avx_vnni)
or AMX for fast int8 dot products, ARM needs the dot-product (asimddp) or i8mm extensions. A report without these
flags cannot be compared with another machine's.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

# The flags that decide which int8 / fp32 GEMM kernels XNNPACK and ONNX Runtime can pick.
X86_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_tile", "amx_int8",
             "amx_bf16")
ARM_FLAGS = ("asimd", "asimdhp", "asimddp", "i8mm", "bf16", "sve", "sve2", "sme")
# macOS names the same features as sysctl keys.
MACOS_FLAGS = {"asimdhp": "hw.optional.arm.FEAT_FP16", "asimddp": "hw.optional.arm.FEAT_DotProd",
               "i8mm": "hw.optional.arm.FEAT_I8MM", "bf16": "hw.optional.arm.FEAT_BF16",
               "sme": "hw.optional.arm.FEAT_SME"}
LIBRARIES = ("albert_edge", "torch", "executorch", "torchao", "onnxruntime", "onnx", "transformers", "numpy")


def _sysctl(key: str) -> str | None:
    try:
        out = subprocess.run(["sysctl", "-n", key], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def parse_cpuinfo(text: str) -> tuple[str, list[str]]:
    """(CPU model, sorted feature flags) from /proc/cpuinfo text, x86 ("model name", "flags") or ARM ("Features")."""
    model, flags = "", set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if not model and key in ("model name", "hardware", "cpu model", "processor") and value and not value.isdigit():
            model = value
        elif key in ("flags", "features"):
            flags.update(value.split())
    if not model:
        # ARM Linux kernels often print no model name, only the implementer / part numbers.
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        if "CPU part" in fields:
            model = f"ARM implementer {fields.get('CPU implementer', '?')} part {fields['CPU part']}"
    return model, sorted(flags)


def isa_flags(all_flags: list[str], arch: str) -> list[str]:
    wanted = X86_FLAGS if arch in ("x86_64", "amd64", "i686", "x86") else ARM_FLAGS
    return [f for f in wanted if f in all_flags]


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def machine_info() -> dict[str, Any]:
    arch = platform.machine().lower()
    system = platform.system()
    cpu, flags = platform.processor() or arch, []
    if Path("/proc/cpuinfo").is_file():
        model, all_flags = parse_cpuinfo(Path("/proc/cpuinfo").read_text(errors="replace"))
        cpu, flags = model or cpu, isa_flags(all_flags, arch)
    elif system == "Darwin":
        cpu = _sysctl("machdep.cpu.brand_string") or cpu
        flags = [name for name, key in MACOS_FLAGS.items() if _sysctl(key) == "1"]
    total_mem = avail_mem = 0
    try:
        import psutil

        vm = psutil.virtual_memory()
        total_mem, avail_mem = int(vm.total), int(vm.available)
        physical = psutil.cpu_count(logical=False)
    except ImportError:
        physical = None
    return {
        "cpu": cpu,
        "arch": arch,
        "isa": flags,
        "logical_cores": os.cpu_count() or 1,
        # Cores this process may use (cgroup / taskset limits), which is what thread sweeps are capped at.
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1),
        "physical_cores": physical,
        "os": f"{system} {platform.release()}",
        "python": platform.python_version(),
        "total_mem": total_mem,
        "avail_mem": avail_mem,
        "versions": library_versions(),
        "load_avg": load_average(),
        # Thread-pool settings the workers inherit. OMP_WAIT_POLICY decides how eager PyTorch behaves on a busy
        # machine: with the default (active) policy its OpenMP threads spin-wait for descheduled peers.
        "env": {k: os.environ[k] for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT") if k in os.environ},
    }


def load_average() -> float | None:
    """The 1-minute load average: on a shared machine, how many other runnable threads competed with the run."""
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


def device_info(machine: dict[str, Any]) -> dict[str, Any]:
    """minibench's `deviceInfo` for this host. minibench fills `device` with the phone's brand and `arch` with its
    model; on a host the CPU model and the ISA are what identify it."""
    return {
        "arch": machine["arch"],
        "device": machine["cpu"],
        "os": machine["os"],
        "availMem": machine["avail_mem"],
        "totalMem": machine["total_mem"],
        "cores": machine["usable_cores"],
        "isa": " ".join(machine["isa"]),
    }
