"""Two ONNX Runtime measurements behind the `.onnx` export's choices (docs/benchmarks.md, "ONNX Runtime").

    python scripts/ort_probe.py layernorm                 # SkipLayerNormalization vs Add + LayerNormalization
    python scripts/ort_probe.py compare A.onnx B.onnx ... # p50 of each file, interleaved in one process

`compare` loads every file in one process with intra-op spinning off (several spinning sessions in one process
steal cores from each other), then alternates between them, 5 runs at a time, so machine noise hits all alike;
ratios are against the first file. Inputs are random ids at seq 16 and 128 (input names from each model).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper


def _session(path: str, threads: int, spinning: bool = False) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def layernorm(hidden: int = 768, tokens: int = 128, runs: int = 500) -> None:
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, None, hidden]) for n in ("x", "s")]
    output = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, None, hidden])]
    weights = [numpy_helper.from_array(np.ones(hidden, np.float32), "gamma"),
               numpy_helper.from_array(np.zeros(hidden, np.float32), "beta")]
    graphs = {
        "Add + LayerNormalization": [helper.make_node("Add", ["x", "s"], ["a"]),
                                     helper.make_node("LayerNormalization", ["a", "gamma", "beta"], ["y"], axis=-1,
                                                      epsilon=1e-12)],
        "SkipLayerNormalization": [helper.make_node("SkipLayerNormalization", ["x", "s", "gamma", "beta"], ["y"],
                                                    domain="com.microsoft", epsilon=1e-12)],
    }
    x = np.random.default_rng(0).random((1, tokens, hidden), dtype=np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        for name, nodes in graphs.items():
            opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
            model = helper.make_model(helper.make_graph(nodes, "g", inputs, output, weights), opset_imports=opsets)
            path = str(Path(tmp) / "g.onnx")
            onnx.save(model, path)
            for threads in (1, 2):
                session = _session(path, threads)
                for _ in range(50):
                    session.run(None, {"x": x, "s": x})
                started = time.perf_counter()
                for _ in range(runs):
                    session.run(None, {"x": x, "s": x})
                us = (time.perf_counter() - started) / runs * 1e6
                print(f"{name:26s} {tokens} x {hidden}, {threads} thread(s): {us:7.1f} us")


def compare(paths: list[str], threads: int = 2, rounds: int = 15) -> None:
    sessions = {p: _session(p, threads) for p in paths}
    rng = np.random.default_rng(0)
    for seq in (16, 128):
        ids = rng.integers(5, 1000, (1, seq)).astype(np.int64)
        arrays = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        feeds = {p: {i.name: arrays[i.name] for i in s.get_inputs()} for p, s in sessions.items()}
        times: dict[str, list[float]] = {p: [] for p in paths}
        for p, s in sessions.items():
            for _ in range(3):
                s.run(None, feeds[p])
        for _ in range(rounds):
            for p, s in sessions.items():
                started = time.perf_counter()
                for _ in range(5):
                    s.run(None, feeds[p])
                times[p].append((time.perf_counter() - started) / 5 * 1e3)
        base = statistics.median(times[paths[0]])
        for p in paths:
            p50 = statistics.median(times[p])
            print(f"seq {seq:4d}  {p50:8.2f} ms  {p50 / base:.3f}x  {p}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("layernorm")
    c = commands.add_parser("compare")
    c.add_argument("paths", nargs="+")
    c.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if args.command == "layernorm":
        layernorm()
    else:
        compare(args.paths, args.threads)


if __name__ == "__main__":
    main()
