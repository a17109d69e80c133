package org.albertedge.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

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
    List<GoldenExits> cases = GoldenExits.read();
    for (GoldenExits c : cases) {
      Fixed program = new Fixed(c.logits);
      StepwiseLoop.Result result =
          StepwiseLoop.run(program, Collections.nCopies(c.logits.size(), "layer_0"), c.policy, 0);
      assertEquals(c.line, c.depth, result.depth);
      assertEquals(c.line, c.depth, program.layerCalls); // it stopped: no layer ran past the exit
      assertArrayEquals(c.logits.get(c.depth - 1), result.logits, 0);
    }
    assertEquals(300, cases.size());
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
