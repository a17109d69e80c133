package org.albertedge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.Arrays;
import java.util.List;
import org.junit.Test;

public class PredictionTest {
  private static final List<String> LABELS = Arrays.asList("negative", "positive");

  @Test
  public void softmaxMatchesTheClosedForm() {
    float[] p = Prediction.softmax(new float[] {1f, 2f, 3f});
    double z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    assertEquals(Math.exp(1) / z, p[0], 1e-7);
    assertEquals(Math.exp(2) / z, p[1], 1e-7);
    assertEquals(Math.exp(3) / z, p[2], 1e-7);
  }

  @Test
  public void softmaxIsStableForLargeLogits() {
    // exp(1000) overflows; subtracting the max first keeps it finite and exact.
    float[] p = Prediction.softmax(new float[] {1000f, 1000f, -1000f});
    assertEquals(0.5f, p[0], 1e-7f);
    assertEquals(0.5f, p[1], 1e-7f);
    assertEquals(0f, p[2], 0f);
  }

  @Test
  public void softmaxRejectsBrokenLogits() {
    for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
      try {
        Prediction.softmax(new float[] {0f, bad});
        fail("logit " + bad + " must be rejected");
      } catch (IllegalArgumentException e) {
        assertTrue(e.getMessage().contains("broken"));
      }
    }
  }

  @Test
  public void argmaxTakesTheFirstOnTies() {
    assertEquals(1, Prediction.argmax(new float[] {0f, 2f, 2f, -1f}));
    assertEquals(0, Prediction.argmax(new float[] {5f}));
  }

  @Test
  public void mapsTheWinningLogitToItsLabel() {
    Prediction p = Prediction.fromLogits(new float[] {-1.2f, 2.3f}, LABELS);
    assertEquals(1, p.index);
    assertEquals("positive", p.label);
    assertEquals(1.0 / (1.0 + Math.exp(-3.5)), p.confidence, 1e-6);
    assertEquals(1f, p.probabilities[0] + p.probabilities[1], 1e-6f);
    assertEquals("negative", Prediction.fromLogits(new float[] {0.5f, -0.5f}, LABELS).label);
  }

  @Test
  public void refusesALabelCountMismatch() {
    try {
      Prediction.fromLogits(new float[] {0f, 1f, 2f}, LABELS);
      fail();
    } catch (IllegalArgumentException e) {
      assertTrue(e.getMessage(), e.getMessage().contains("3 logits") && e.getMessage().contains("2 labels"));
    }
  }
}
