"""The stepwise chain against `forward` in a native process (no Python between the calls), as an app drives it.

    python -m albert_edge.export --model runs/albert-base-v2 --int8 --backend pte --stepwise --no-verify \\
        --out runs/base_int8_stepwise
    OMP_WAIT_POLICY=PASSIVE python scripts/native_chain_probe.py runs/base_int8_stepwise --threads 2 --seq 16 128

Builds the harness's native runner (`albert_edge/bench/native.py`, cached under `--cache`) and runs its `chain`
mode on the export's two programs: per length, rounds alternate `forward` and embed -> layer x N -> head (each
layer's output copied out before the next call, as the runners and the Android app do), then print both medians,
their ratio and the largest logit difference. `scripts/stepwise_probe.py` is the same comparison from Python.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from albert_edge import runtime
from albert_edge.bench import native


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("export_dir")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seq", type=int, nargs="+", default=[16, 128])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--cache", default="runs/bench/cache", help="where the runner binary is kept")
    args = parser.parse_args()
    directory = Path(args.export_dir)
    manifest = runtime.read_manifest(directory)
    stepwise = manifest.stepwise or {}
    if not manifest.artifact("pte") or not manifest.artifact("pte_stepwise"):
        raise SystemExit(f"{directory}: needs both a forward and a stepwise .pte (export with --stepwise)")
    if set(stepwise.get("schedule", [])) != {"layer_0"}:
        raise SystemExit("the runner's chain applies layer_0 at every depth: one hidden group only")
    binary = native.build(Path(args.cache))
    command = [str(binary), "chain", str(directory / manifest.artifact("pte")),
               str(directory / manifest.artifact("pte_stepwise")), str(len(stepwise["schedule"])),
               str(manifest.config["vocab_size"]), str(args.threads), str(args.rounds), *map(str, args.seq)]
    done = subprocess.run(command, capture_output=True, text=True)
    sys.stdout.write(done.stdout)
    if done.returncode:
        raise SystemExit(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-300:])


if __name__ == "__main__":
    main()
