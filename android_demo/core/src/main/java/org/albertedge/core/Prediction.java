package org.albertedge.core;

import java.util.List;

/** Turns classifier logits into a label and a confidence. */
public final class Prediction {
  public final int index;
  public final String label;
  /** Softmax probability of {@link #label}. */
  public final float confidence;
  public final float[] probabilities;

  private Prediction(int index, String label, float confidence, float[] probabilities) {
    this.index = index;
    this.label = label;
    this.confidence = confidence;
    this.probabilities = probabilities;
  }

  /** Labels come from the manifest's id2label; their count must equal the number of logits. */
  public static Prediction fromLogits(float[] logits, List<String> labels) {
    if (logits.length != labels.size()) {
      throw new IllegalArgumentException(
          "model returned " + logits.length + " logits but the manifest lists " + labels.size()
              + " labels; the .pte and manifest.json come from different exports");
    }
    float[] p = softmax(logits);
    int best = argmax(p);
    return new Prediction(best, labels.get(best), p[best], p);
  }

  /**
   * Softmax with the maximum subtracted first, so exp never overflows (logits of 1000 stay
   * finite); sums in double so that many classes do not lose the small ones.
   */
  public static float[] softmax(float[] logits) {
    if (logits.length == 0) {
      throw new IllegalArgumentException("softmax of an empty vector");
    }
    float max = Float.NEGATIVE_INFINITY;
    for (float x : logits) {
      if (Float.isNaN(x) || Float.isInfinite(x)) {
        throw new IllegalArgumentException("logits contain " + x + "; the model output is broken");
      }
      max = Math.max(max, x);
    }
    double[] e = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      e[i] = Math.exp((double) logits[i] - max);
      sum += e[i];
    }
    float[] out = new float[logits.length];
    for (int i = 0; i < logits.length; i++) {
      out[i] = (float) (e[i] / sum);
    }
    return out;
  }

  /** Index of the largest value; the first one on ties, like numpy/torch argmax. */
  public static int argmax(float[] values) {
    if (values.length == 0) {
      throw new IllegalArgumentException("argmax of an empty vector");
    }
    int best = 0;
    for (int i = 1; i < values.length; i++) {
      if (values[i] > values[best]) {
        best = i;
      }
    }
    return best;
  }
}
