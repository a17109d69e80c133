package org.albertedge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.Test;

public class ExitPolicyTest {
  @Test
  public void stopsWherePythonStopsOnEveryGoldenLine() throws Exception {
    List<GoldenExits> cases = GoldenExits.read();
    for (GoldenExits c : cases) {
      assertEquals(c.line, c.depth, c.policy.exitDepth(c.logits));
    }
    assertEquals(300, cases.size());
  }

  @Test
  public void patienceWaitsForAgreeingDepths() {
    double[] a = {4, -4};
    double[] b = {-4, 4};
    List<double[]> flips = Arrays.asList(a, b, b, b, a, a);
    assertEquals(1, new ExitPolicy("patience", 1, 1).exitDepth(flips));
    assertEquals(3, new ExitPolicy("patience", 2, 1).exitDepth(flips));
    assertEquals(6, new ExitPolicy("patience", 4, 1).exitDepth(flips));
    assertEquals(4, new ExitPolicy("patience", 2, 3).exitDepth(flips));
  }

  @Test
  public void readsTheManifestEntryAndRefusesNonsense() {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("kind", "entropy");
    json.put("value", 0.95);
    json.put("min_depth", 2.0);
    ExitPolicy policy = ExitPolicy.fromJson(json, "manifest.stepwise.exit_policy");
    assertEquals("entropy", policy.kind);
    assertEquals(2, policy.minDepth);
    Object[][] bad = {{"magic", 1.0, 1}, {"patience", 0.0, 1}, {"patience", 1.5, 1}, {"entropy", 1.5, 1},
      {"entropy", 0.5, 0}};
    for (Object[] b : bad) {
      try {
        new ExitPolicy((String) b[0], (Double) b[1], (Integer) b[2]);
        fail("should refuse " + Arrays.toString(b));
      } catch (IllegalArgumentException e) {
        assertTrue(e.getMessage(), !e.getMessage().isEmpty());
      }
    }
  }
}
