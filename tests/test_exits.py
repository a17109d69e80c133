"""Early-exit policies (albert_edge/exits.py): decisions on fixed logits, and calibration."""

import numpy as np
import pytest

from albert_edge.exits import ExitPolicy, calibrate, evaluate, exit_depth, normalized_entropy

SURE_A, SURE_B, UNSURE = np.array([4.0, -4.0]), np.array([-4.0, 4.0]), np.array([0.1, 0.0])


def test_entropy_is_normalised():
    assert normalized_entropy(np.zeros(5)) == pytest.approx(1.0)
    assert normalized_entropy(np.array([50.0, 0, 0])) == pytest.approx(0.0, abs=1e-12)
    assert 0 < normalized_entropy(SURE_A) < 0.05 and normalized_entropy(UNSURE) > 0.99


def test_patience_waits_for_agreeing_depths():
    flips = [SURE_A, SURE_B, SURE_B, SURE_B, SURE_A, SURE_A]
    assert exit_depth(ExitPolicy("patience", 1), flips) == 1
    assert exit_depth(ExitPolicy("patience", 2), flips) == 3  # B at depths 2 and 3
    assert exit_depth(ExitPolicy("patience", 3), flips) == 4
    assert exit_depth(ExitPolicy("patience", 4), flips) == 6  # never settles: full depth
    # min_depth: nothing counts before it, so depths 3..4 are the first two that can agree.
    assert exit_depth(ExitPolicy("patience", 2, min_depth=3), flips) == 4


def test_entropy_stops_at_the_first_confident_depth():
    logits = [UNSURE, UNSURE, SURE_B, UNSURE]
    assert exit_depth(ExitPolicy("entropy", 0.1), logits) == 3
    assert exit_depth(ExitPolicy("entropy", 0.0), logits) == 4  # nothing is that sure: full depth
    assert exit_depth(ExitPolicy("entropy", 1.0), logits) == 1
    assert exit_depth(ExitPolicy("entropy", 0.1, min_depth=4), logits) == 4


def test_policies_round_trip_and_refuse_nonsense():
    policy = ExitPolicy("patience", 3, min_depth=2)
    assert ExitPolicy.from_dict(policy.to_dict()) == policy
    for kind, value, message in (("magic", 1, "choose one of patience, entropy"), ("patience", 0, "whole number"),
                                 ("patience", 1.5, "whole number"), ("entropy", 1.5, "in \\[0, 1\\]")):
        with pytest.raises(ValueError, match=message):
            ExitPolicy(kind, value)


def test_calibrate_picks_the_cheapest_policy_within_the_loss():
    # 4 examples, 3 depths: three are settled at depth 1; the fourth is unsure until depth 3, where it is right.
    logits = np.array([[SURE_A, SURE_A, SURE_A], [SURE_B, SURE_B, SURE_B], [SURE_A, SURE_A, SURE_A],
                       [UNSURE, UNSURE, SURE_B]])
    labels = [0, 1, 0, 1]
    policy, figures = calibrate(logits, labels, max_loss=0.0)
    assert figures["full_depth_accuracy"] == 1.0 and figures["accuracy"] == 1.0
    assert policy.kind == "entropy" and figures["mean_depth"] == 1.5  # waits on the unsure one only
    assert evaluate(policy, logits, labels) == {"accuracy": 1.0, "mean_depth": 1.5}
    loose, loose_figures = calibrate(logits, labels, max_loss=0.25)  # giving up example 4 is allowed
    assert loose_figures["mean_depth"] == 1.0 and loose_figures["accuracy"] == 0.75 and loose is not None
    # The fourth confidently wrong until depth 3: every policy that exits early loses it, so none is chosen.
    wrong_early = logits.copy()
    wrong_early[3] = [SURE_A, SURE_A, SURE_B]
    none, full = calibrate(wrong_early, labels, max_loss=0.0)
    assert none is None and full["mean_depth"] == 3.0 and full["accuracy"] == 1.0
    with pytest.raises(ValueError, match="examples, depths, classes"):
        calibrate(logits[0], labels)
