"""`python -m albert_edge.bench`: latency, memory and size of exported ALBERTs against their fp32 versions, the eager
model, the usual peers (transformers, ONNX Runtime, the optimum-executorch recipe) and the machine's own GEMM ceiling.

    from albert_edge.bench import bench
    result = bench(["dist/base_int8", "dist/base_fp32"], seq_lens=(16, 128), threads=(2,))
    print(result.summary)

Map: harness.py (the run) -> worker.py (one target, one fresh process) -> report.py (records, Markdown, plots, goals);
targets.py (what is measured), peers.py, ceiling.py, machine.py, stats.py, adb.py (the phone), depth.py (accuracy vs
latency over depth, for stepwise exports).
"""

from albert_edge.bench.harness import BACKENDS, DEFAULT_SEQ_LENS, DEFAULT_THREADS, BenchResult, bench
from albert_edge.bench.peers import PEERS, QUICK_PEERS
from albert_edge.bench.targets import BenchError

__all__ = ["BACKENDS", "DEFAULT_SEQ_LENS", "DEFAULT_THREADS", "PEERS", "QUICK_PEERS", "BenchError", "BenchResult",
           "bench"]
