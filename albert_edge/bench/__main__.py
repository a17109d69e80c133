"""`python -m albert_edge.bench ARTIFACT_DIR [ARTIFACT_DIR ...]`: benchmark export directories.

    python -m albert_edge.bench dist/base_int8 dist/base_fp32 --seq-lens 16,128 --threads 2
    python -m albert_edge.bench dist/base_int8 --adb --serial R58M12345    # also on a phone, via the demo app
    python -m albert_edge.bench out/sst2_int8 --depth-data albert_edge/assets/sst2_dev.tsv   # + accuracy vs depth

Writes benchmark_results.json (ExecuTorch minibench schema), benchmark_raw.json, report.md and PNG plots into --out,
and prints a one-screen summary with ratios and goals.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from albert_edge.bench.harness import BACKENDS, DEFAULT_OUT, DEFAULT_SEQ_LENS, DEFAULT_THREADS, bench
from albert_edge.bench.peers import PEERS, QUICK_PEERS
from albert_edge.bench.targets import BenchError
from albert_edge.files import cli_errors
from albert_edge.quiet import set_verbose


def _names(text: str, known: Sequence[str], what: str) -> tuple[str, ...]:
    if text in ("none", ""):
        return ()
    if text == "all":
        return tuple(known)
    if text == "quick" and what == "--peers":
        return QUICK_PEERS
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise BenchError(f"{what}: unknown {unknown[0]!r}; choose from {', '.join(known)} (or all, none)")
    return names


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m albert_edge.bench", description=__doc__.splitlines()[0])
    parser.add_argument("artifacts", nargs="+", metavar="ARTIFACT_DIR", help="export directories (manifest.json)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), metavar="DIR", help="results folder (default: %(default)s)")
    parser.add_argument("--seq-lens", default=",".join(map(str, DEFAULT_SEQ_LENS)),
                        help="comma-separated; lengths above an artifact's max_seq_len are skipped "
                             "(default: %(default)s)")
    parser.add_argument("--threads", default=",".join(map(str, DEFAULT_THREADS)),
                        help="comma-separated; capped at the usable cores (default: %(default)s)")
    parser.add_argument("--iterations", type=int, default=50, help="timed runs per point (default: %(default)s)")
    parser.add_argument("--warmups", type=int, default=5, help="untimed runs before them (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every target this many times in rotated order, splitting --iterations between "
                             "the rounds and pooling the latencies: ratios that machine drift hits alike "
                             "(default: %(default)s)")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="of ours: pte, native (the .pte in a C++ process like an app's), onnx, eager, or none "
                             "(default: %(default)s)")
    parser.add_argument("--peers", default="all", help=f"all, quick, none, or a list of: {', '.join(PEERS)}")
    parser.add_argument("--no-ceiling", action="store_true", help="skip the GEMM ceiling measurement")
    parser.add_argument("--eager-model", default=None, metavar="DIR",
                        help="HF-format checkpoint the export came from, when its manifest's source is gone")
    parser.add_argument("--adb", action="store_true", help="also run each int8/fp32 .pte on a phone via adb")
    parser.add_argument("--serial", default=None, help="adb device serial, when several are connected")
    parser.add_argument("--no-host", action="store_true", help="measure only on the phone (with --adb)")
    parser.add_argument("--depth-data", default=None, metavar="FILE",
                        help="labelled sentence<TAB>label file: for exports with a stepwise program, accuracy and "
                             "mean latency at every fixed depth and for the exit policies (report section + plot)")
    parser.add_argument("--depth-limit", type=int, default=None, metavar="N",
                        help="use only the first N rows of --depth-data")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per worker process (default: %(default)s)")
    parser.add_argument("--verbose", action="store_true",
                        help="also show third-party messages known to be harmless (albert_edge/quiet.py)")
    args = parser.parse_args(argv)
    if args.verbose:
        os.environ["ALBERT_EDGE_VERBOSE"] = "1"  # the worker processes inherit it
        set_verbose(True)
    with cli_errors():
        result = bench(args.artifacts, out=args.out, seq_lens=args.seq_lens, threads=args.threads,
                       iterations=args.iterations, warmups=args.warmups,
                       backends=_names(args.backends, BACKENDS, "--backends"),
                       peers=_names(args.peers, tuple(PEERS), "--peers"), ceiling=not args.no_ceiling,
                       eager_model=args.eager_model, host=not args.no_host, adb=args.adb, serial=args.serial,
                       timeout_s=args.timeout, depth_data=args.depth_data, depth_limit=args.depth_limit,
                       rounds=args.rounds)
    print(result.summary, end="")
    print(f"results: {result.out}/ (" + ", ".join(p.name for p in result.files.values()) + ")")


if __name__ == "__main__":
    main()
