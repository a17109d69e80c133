"""The user-facing benchmark suite: `pytest benchmarks/` runs `albert_edge.bench` once and checks what it wrote.

Default, the quick configuration CI runs next to the unit tests (a few minutes on 2 cores): the bundled model
(`albert_edge/assets/`) when it ships weights, else a random-weight `albert-edge-tiny` HF directory built here;
exported fp32 and int8 by the real export CLI (`python -m albert_edge.export`, both at once); benchmarked at
sequence lengths 16 and 64, 1 thread, 20 iterations, with the cheap peers and the GEMM ceiling.

    ALBERT_EDGE_BENCH_FULL=1 pytest benchmarks/         # or --bench-full: every length up to 512, threads 1,2,4,
                                                        # 50 iterations, every peer (the optimum-executorch recipe too)
    ALBERT_EDGE_BENCH_ARTIFACTS=dist/a,dist/b pytest benchmarks/   # or --bench-artifacts: these exports instead

The report (benchmark_results.json, report.md, PNG plots) lands in benchmarks/results/ (git-ignored). The tests check
that it is complete and sane, never how fast anything was: timing belongs to the machine, not to the code.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
BUNDLED = REPO / "albert_edge" / "assets"


def pytest_addoption(parser):
    group = parser.getgroup("albert_edge benchmarks")
    group.addoption("--bench-full", action="store_true", default=False,
                    help="full sweep (same as ALBERT_EDGE_BENCH_FULL=1)")
    group.addoption("--bench-artifacts", default=None, metavar="DIR[,DIR]",
                    help="benchmark these export directories (same as ALBERT_EDGE_BENCH_ARTIFACTS)")


@dataclass
class SuiteConfig:
    full: bool
    artifacts: list[Path] | None
    seq_lens: tuple[int, ...]
    threads: tuple[int, ...]
    iterations: int
    warmups: int
    peers: tuple[str, ...]
    max_seq_len: int


@pytest.fixture(scope="session")
def suite_config(request) -> SuiteConfig:
    from albert_edge.bench import DEFAULT_SEQ_LENS, DEFAULT_THREADS, PEERS, QUICK_PEERS

    full = request.config.getoption("--bench-full") or os.environ.get("ALBERT_EDGE_BENCH_FULL", "") not in ("", "0")
    given = request.config.getoption("--bench-artifacts") or os.environ.get("ALBERT_EDGE_BENCH_ARTIFACTS")
    artifacts = [Path(p) for p in given.split(",") if p.strip()] if given else None
    if full:
        return SuiteConfig(True, artifacts, DEFAULT_SEQ_LENS, DEFAULT_THREADS, 50, 5, tuple(PEERS), 512)
    # One thread: on a shared 2-core CI box a second OpenMP thread mostly waits for a core (eager PyTorch at 2
    # threads measured 50x slower there), which costs minutes and says nothing about the code.
    return SuiteConfig(False, artifacts, (16, 64), (1,), 20, 3, QUICK_PEERS, 64)


def _digest(directory: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(directory.glob("*.safetensors")))).hexdigest()


def model_dir() -> Path:
    """The bundled model when it ships weights; else random albert-edge-tiny weights, built once."""
    if (BUNDLED / "config.json").is_file() and any(BUNDLED.glob("*.safetensors")):
        return BUNDLED
    target = RESULTS / "model_albert_edge_tiny"
    if not (target / "model.safetensors").is_file():
        import torch

        from albert_edge import AlbertConfig, model_for_task, save_pretrained

        torch.manual_seed(0)
        save_pretrained(model_for_task(AlbertConfig.from_preset("albert-edge-tiny"), "sequence-classification"),
                        target)
    return target


def export_both(model: Path, max_seq_len: int) -> list[Path]:
    """fp32 and int8 through the export CLI, concurrently; reused while the weights and settings are unchanged."""
    stamp = {"weights": _digest(model), "max_seq_len": max_seq_len, "model": str(model)}
    jobs, outs = [], []
    for precision in ("fp32", "int8"):
        out = RESULTS / "exports" / precision
        outs.append(out)
        stamp_file = RESULTS / "exports" / f"{precision}.stamp.json"
        if (out / "manifest.json").is_file() and stamp_file.is_file() and json.loads(stamp_file.read_text()) == stamp:
            continue
        cmd = [sys.executable, "-m", "albert_edge.export", "--model", str(model), "--max-seq-len", str(max_seq_len),
               "--out", str(out), "--name", "bench", "--force"] + (["--int8"] if precision == "int8" else [])
        jobs.append((precision, stamp_file, subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE,
                                                             stderr=subprocess.STDOUT, text=True)))
    for precision, stamp_file, proc in jobs:
        output, _ = proc.communicate(timeout=1800)
        if proc.returncode != 0:
            pytest.fail(f"python -m albert_edge.export ({precision}) failed:\n{output[-3000:]}")
        stamp_file.write_text(json.dumps(stamp))
    return outs


@dataclass
class SuiteRun:
    config: SuiteConfig
    exports: list[Path]
    result: object  # albert_edge.bench.BenchResult
    rows: list  # albert_edge.bench.report.Row


@pytest.fixture(scope="session")
def bench_run(suite_config: SuiteConfig) -> SuiteRun:
    from albert_edge.bench import bench
    from albert_edge.bench.report import pivot

    RESULTS.mkdir(parents=True, exist_ok=True)
    exports = suite_config.artifacts or export_both(model_dir(), suite_config.max_seq_len)
    result = bench(exports, out=RESULTS, seq_lens=suite_config.seq_lens, threads=suite_config.threads,
                   iterations=suite_config.iterations, warmups=suite_config.warmups, peers=suite_config.peers,
                   progress=False)
    print("\n" + result.summary)
    return SuiteRun(suite_config, exports, result, pivot(result.records))
