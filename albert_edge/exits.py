"""Early-exit policies for adaptive depth: when a stepwise chain may stop applying the shared layer.

ALBERT applies one layer N times, so the task head can read the hidden state after any application k and a policy
decides whether the prediction is settled. Two published policies, both on a classifier's logits after each depth:

- patience (PABEE, Zhou et al. 2020): stop once the predicted class has stayed the same for `patience` consecutive
  depths;
- entropy (DeeBERT, Xin et al. 2020): stop once the softmax entropy, divided by log(classes) so it lies in [0, 1],
  is at most `threshold`.

Neither looks before `min_depth`. Policies are plain data (`to_dict`/`from_dict`, for the manifest); `exit_depth`
decides on the logits of depths 1..k seen so far, `calibrate` picks, on held-in labelled data, the policy with the
lowest mean depth whose accuracy is within `max_loss` of full depth. numpy only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

KINDS = ("patience", "entropy")


@dataclass(frozen=True)
class ExitPolicy:
    kind: str  # "patience" or "entropy"
    value: float  # patience: consecutive agreeing depths (an integer >= 1); entropy: threshold in [0, 1]
    min_depth: int = 1

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"exit policy kind {self.kind!r}; choose one of {', '.join(KINDS)}")
        if self.kind == "patience" and (self.value != int(self.value) or self.value < 1):
            raise ValueError(f"patience must be a whole number >= 1, got {self.value}")
        if self.kind == "entropy" and not 0.0 <= self.value <= 1.0:
            raise ValueError(f"entropy threshold must be in [0, 1], got {self.value}")
        if self.min_depth < 1:
            raise ValueError(f"min_depth must be >= 1, got {self.min_depth}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ExitPolicy:
        return cls(str(data["kind"]), float(data["value"]), int(data.get("min_depth", 1)))

    def should_exit(self, logits_so_far: Sequence[np.ndarray]) -> bool:
        """After depth k = len(logits_so_far): stop here? `logits_so_far[i]` is the head's logits after depth i+1."""
        depth = len(logits_so_far)
        if depth < self.min_depth:
            return False
        if self.kind == "entropy":
            return normalized_entropy(logits_so_far[-1]) <= self.value
        patience = int(self.value)
        if depth - self.min_depth + 1 < patience:  # not enough depths looked at yet
            return False
        recent = [int(np.argmax(x)) for x in logits_so_far[-patience:]]
        return len(set(recent)) == 1


def normalized_entropy(logits: np.ndarray) -> float:
    """Softmax entropy over the last axis, divided by log(classes): 0 is certain, 1 is uniform."""
    # Plain floats: the policy runs after every depth on a handful of classes, where numpy's per-call overhead
    # (~15 us) is most of the check's cost. The same float64 arithmetic, in the same order.
    z = np.asarray(logits, dtype=np.float64).ravel().tolist()
    top = max(z)
    e = [math.exp(v - top) for v in z]
    total = sum(e)
    entropy = -sum(q * math.log(max(q, 1e-300)) for q in (v / total for v in e))
    return entropy / math.log(len(z)) if len(z) > 1 else 0.0


def exit_depth(policy: ExitPolicy, logits_by_depth: Sequence[np.ndarray]) -> int:
    """The depth (1-based) at which `policy` stops, given the logits after every depth; the last if it never does."""
    for depth in range(1, len(logits_by_depth) + 1):
        if policy.should_exit(logits_by_depth[:depth]):
            return depth
    return len(logits_by_depth)


def evaluate(policy: ExitPolicy, logits: np.ndarray, labels: Sequence[int]) -> dict[str, float]:
    """Accuracy and mean depth of `policy` on `logits` (examples, depths, classes) against `labels`."""
    depths = np.array([exit_depth(policy, example) for example in logits])
    predictions = np.array([int(np.argmax(example[d - 1])) for example, d in zip(logits, depths)])
    return {"accuracy": float(np.mean(predictions == np.asarray(labels))), "mean_depth": float(depths.mean())}


def candidates(num_layers: int) -> list[ExitPolicy]:
    """The policies `calibrate` tries: patience 1..N-1 and 20 entropy thresholds, from depth 1."""
    return ([ExitPolicy("patience", p) for p in range(1, num_layers)]
            + [ExitPolicy("entropy", round(float(t), 2)) for t in np.linspace(0.05, 1.0, 20)])


def calibrate(logits: np.ndarray, labels: Sequence[int], max_loss: float = 0.005,
              policies: Sequence[ExitPolicy] | None = None) -> tuple[ExitPolicy | None, dict]:
    """The policy with the lowest mean depth whose accuracy is at most `max_loss` (a fraction) below full depth's, on
    held-in `logits` (examples, depths, classes); None when none beats full depth. Returns it and the figures."""
    logits = np.asarray(logits)
    if logits.ndim != 3 or len(logits) != len(labels) or not len(labels):
        raise ValueError(f"logits must be (examples, depths, classes) with one label per example, got "
                         f"{logits.shape} and {len(labels)} labels")
    full = float(np.mean(logits[:, -1].argmax(-1) == np.asarray(labels)))
    best, best_figures = None, {"accuracy": full, "mean_depth": float(logits.shape[1])}
    for policy in policies or candidates(logits.shape[1]):
        figures = evaluate(policy, logits, labels)
        if figures["accuracy"] >= full - max_loss - 1e-12 and figures["mean_depth"] < best_figures["mean_depth"]:
            best, best_figures = policy, figures
    return best, {**best_figures, "full_depth_accuracy": full, "max_loss": max_loss}
