package org.albertedge.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.Test;

public class StepwiseLoopTest {
  /** A program whose head returns fixed logits per depth; the hidden state is the depth so far. */
  private static final class Fixed implements StepwiseLoop.Methods<Integer> {
    final List<double[]> logits;
    int layerCalls;
    int headCalls;

    Fixed(List<double[]> logits) {
      this.logits = logits;
    }

    @Override
    public Integer embed() {
      return 0;
    }

    @Override
    public Integer layer(String method, Integer hidden) {
      assertEquals("layer_0", method);
      layerCalls++;
      return hidden + 1;
    }

    @Override
    public double[] head(Integer hidden) {
      headCalls++;
      return logits.get(hidden - 1);
    }
  }

  @Test
  public void stopsWherePythonsRunnerStopsOnEveryGoldenLine() throws Exception {
    InputStream in = getClass().getClassLoader().getResourceAsStream("golden_exits.tsv");
    int checked = 0;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.startsWith("#") || line.isEmpty()) {
          continue;
        }
        String[] f = line.split("\t");
        ExitPolicy policy = new ExitPolicy(f[0], Double.parseDouble(f[1]), Integer.parseInt(f[2]));
        List<double[]> logits = new ArrayList<>();
        for (String depth : f[3].split(";")) {
          logits.add(Arrays.stream(depth.split(",")).mapToDouble(Double::parseDouble).toArray());
        }
        Fixed program = new Fixed(logits);
        StepwiseLoop.Result result =
            StepwiseLoop.run(program, Collections.nCopies(logits.size(), "layer_0"), policy, 0);
        int want = Integer.parseInt(f[4]);
        assertEquals(line, want, result.depth);
        assertEquals(line, want, program.layerCalls); // it stopped: no layer ran past the exit
        assertArrayEquals(logits.get(want - 1), result.logits, 0);
        checked++;
      }
    }
    assertEquals(300, checked);
  }

  @Test
  public void withoutAPolicyTheHeadRunsOnceAtTheChosenDepth() {
    List<double[]> logits = Arrays.asList(new double[] {1, 0}, new double[] {0, 1}, new double[] {2, 0});
    Fixed full = new Fixed(logits);
    assertEquals(3, StepwiseLoop.run(full, Collections.nCopies(3, "layer_0"), null, 0).depth);
    assertEquals(1, full.headCalls);
    Fixed two = new Fixed(logits);
    StepwiseLoop.Result r = StepwiseLoop.run(two, Collections.nCopies(3, "layer_0"), null, 2);
    assertEquals(2, r.depth);
    assertArrayEquals(new double[] {0, 1}, r.logits, 0);
  }
}
