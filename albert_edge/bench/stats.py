"""Latency statistics, computed the way ExecuTorch's benchmark app (minibench) and our Android demo compute them.

The trimmed mean is minibench's: sort, keep `[n // 10, 9n // 10)` (the middle 80 %), falling back to the plain mean
when that range is empty (a single sample). Percentiles are numpy's default linear interpolation, which the
Android demo's `BenchmarkReport.LatencyStats` reproduces, so phone and host numbers mean the same thing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class LatencyStats:
    n: int
    mean: float
    trimmed_mean: float
    p50: float
    p90: float
    p99: float
    min: float
    max: float
    stdev: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def latency_stats(samples_ms: Sequence[float]) -> LatencyStats:
    """Summary statistics of per-iteration latencies in milliseconds."""
    s = np.sort(np.asarray(samples_ms, dtype=np.float64))
    if s.size == 0:
        raise ValueError("no latencies measured; iterations must be >= 1")
    lo, hi = s.size // 10, s.size * 9 // 10
    middle = s[lo:hi] if hi > lo else s
    p50, p90, p99 = np.percentile(s, [50, 90, 99])
    return LatencyStats(
        n=int(s.size),
        mean=float(s.mean()),
        trimmed_mean=float(middle.mean()),
        p50=float(p50),
        p90=float(p90),
        p99=float(p99),
        min=float(s[0]),
        max=float(s[-1]),
        # Sample standard deviation (ddof=1): the samples estimate the run-to-run spread; one sample has none.
        stdev=float(s.std(ddof=1)) if s.size > 1 else 0.0,
    )


def throughput(mean_ms: float, batch_size: int = 1) -> float:
    """Sequences per second at the measured mean latency."""
    return 1000.0 * batch_size / mean_ms if mean_ms > 0 else float("nan")
