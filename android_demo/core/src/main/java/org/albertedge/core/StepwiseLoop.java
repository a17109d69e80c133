package org.albertedge.core;

import java.util.ArrayList;
import java.util.List;

/**
 * The loop over ALBERT's shared layer that a stepwise program leaves to the app
 * ({@code albert_edge/stepwise.py}): embed, then the layer methods of {@code stepwise.schedule} in
 * order, reading the head that answers at that depth ({@code stepwise.heads}) after each one when an
 * exit policy decides, else once at the end. The same chain as Python's
 * {@code StepwiseRunner.run_adaptive}; the app supplies the three calls.
 */
public final class StepwiseLoop {
  /** The program's methods; {@code H} is whatever the runtime passes between them. */
  public interface Methods<H> {
    /** Runs {@code embed}; returns the hidden state (the attention bias stays with the caller). */
    H embed();

    /** Runs layer method {@code method} on {@code hidden}. */
    H layer(String method, H hidden);

    /** Runs head method {@code method} on {@code hidden}; returns its first output (class logits). */
    double[] head(String method, H hidden);
  }

  /** The head's logits where the loop stopped, and how many layer applications that took. */
  public static final class Result {
    public final double[] logits;
    public final int depth;

    Result(double[] logits, int depth) {
      this.logits = logits;
      this.depth = depth;
    }
  }

  private StepwiseLoop() {}

  /**
   * Applies the schedule's layers until {@code policy} says stop (null: all of them, or
   * {@code maxDepth} if positive); after application k the answer comes from {@code heads[k-1]}.
   */
  public static <H> Result run(
      Methods<H> methods, List<String> schedule, List<String> heads, ExitPolicy policy, int maxDepth) {
    if (schedule.isEmpty()) {
      throw new IllegalArgumentException("stepwise.schedule is empty; re-run the export with --stepwise");
    }
    if (heads.size() != schedule.size()) {
      throw new IllegalArgumentException("stepwise.heads has " + heads.size() + " entries for "
          + schedule.size() + " layer applications; re-run the export");
    }
    int depth = maxDepth > 0 ? Math.min(maxDepth, schedule.size()) : schedule.size();
    H hidden = methods.embed();
    List<double[]> seen = new ArrayList<>();
    for (int k = 1; k <= depth; k++) {
      hidden = methods.layer(schedule.get(k - 1), hidden);
      if (policy == null) {
        continue;
      }
      if (k < policy.minDepth && k < depth) {
        seen.add(null); // not looked at, as in Python: only depths from min_depth on count
        continue;
      }
      double[] logits = methods.head(heads.get(k - 1), hidden);
      seen.add(logits);
      if (k == depth || policy.shouldExit(seen)) {
        return new Result(logits, k);
      }
    }
    return new Result(methods.head(heads.get(depth - 1), hidden), depth);
  }
}
