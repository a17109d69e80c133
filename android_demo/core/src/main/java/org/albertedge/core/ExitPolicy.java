package org.albertedge.core;

import java.util.List;
import java.util.Map;

/**
 * When a stepwise chain may stop applying ALBERT's shared layer: the app's copy of
 * {@code albert_edge.exits.ExitPolicy}, read from the manifest's {@code stepwise.exit_policy}.
 *
 * <p>Two policies on the head's logits after each depth: {@code patience} (PABEE) stops once the
 * predicted class has stayed the same for {@code value} consecutive depths; {@code entropy}
 * (DeeBERT) stops once the softmax entropy divided by log(classes) is at most {@code value}.
 * Neither looks before {@code minDepth}. Decisions equal Python's on every line of
 * {@code golden_exits.tsv} ({@code ExitPolicyTest}).
 */
public final class ExitPolicy {
  public final String kind;
  public final double value;
  public final int minDepth;

  public ExitPolicy(String kind, double value, int minDepth) {
    if (!"patience".equals(kind) && !"entropy".equals(kind)) {
      throw new IllegalArgumentException("exit policy kind '" + kind + "'; choose patience or entropy");
    }
    if ("patience".equals(kind) && (value != Math.rint(value) || value < 1)) {
      throw new IllegalArgumentException("patience must be a whole number >= 1, got " + value);
    }
    if ("entropy".equals(kind) && !(value >= 0 && value <= 1)) {
      throw new IllegalArgumentException("entropy threshold must be in [0, 1], got " + value);
    }
    if (minDepth < 1) {
      throw new IllegalArgumentException("min_depth must be >= 1, got " + minDepth);
    }
    this.kind = kind;
    this.value = value;
    this.minDepth = minDepth;
  }

  /** The manifest's {@code stepwise.exit_policy} object; {@code where} names it in errors. */
  public static ExitPolicy fromJson(Map<String, Object> json, String where) {
    long minDepth =
        json.get("min_depth") == null ? 1 : Json.integer(json, "min_depth", where);
    return new ExitPolicy(Json.string(json, "kind", where), Json.number(json, "value", where),
        (int) minDepth);
  }

  /** After depth k = logitsSoFar.size(): stop here? Entry i holds the logits after depth i+1. */
  public boolean shouldExit(List<double[]> logitsSoFar) {
    int depth = logitsSoFar.size();
    if (depth < minDepth) {
      return false;
    }
    if ("entropy".equals(kind)) {
      return normalizedEntropy(logitsSoFar.get(depth - 1)) <= value;
    }
    int patience = (int) value;
    if (depth - minDepth + 1 < patience) {
      return false;
    }
    int first = argmax(logitsSoFar.get(depth - patience));
    for (int i = depth - patience + 1; i < depth; i++) {
      if (argmax(logitsSoFar.get(i)) != first) {
        return false;
      }
    }
    return true;
  }

  /** The depth (1-based) this policy stops at, given the logits after every depth; the last if never. */
  public int exitDepth(List<double[]> logitsByDepth) {
    for (int depth = 1; depth <= logitsByDepth.size(); depth++) {
      if (shouldExit(logitsByDepth.subList(0, depth))) {
        return depth;
      }
    }
    return logitsByDepth.size();
  }

  /** Softmax entropy divided by log(classes): 0 is certain, 1 is uniform (as Python computes it). */
  public static double normalizedEntropy(double[] logits) {
    if (logits.length < 2) {
      return 0.0;
    }
    double max = Double.NEGATIVE_INFINITY;
    for (double x : logits) {
      max = Math.max(max, x);
    }
    double[] p = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      p[i] = Math.exp(logits[i] - max);
      sum += p[i];
    }
    double entropy = 0;
    for (int i = 0; i < p.length; i++) {
      double q = p[i] / sum;
      entropy -= q * Math.log(Math.max(q, 1e-300));
    }
    return entropy / Math.log(logits.length);
  }

  /** The first index of the largest value, as numpy's argmax. */
  static int argmax(double[] values) {
    int best = 0;
    for (int i = 1; i < values.length; i++) {
      if (values[i] > values[best]) {
        best = i;
      }
    }
    return best;
  }
}
