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
    final List<String> heads;
    int layerCalls;
    int headCalls;

    Fixed(List<double[]> logits) {
      this(logits, Collections.nCopies(logits.size(), "head"));
    }

    Fixed(List<double[]> logits, List<String> heads) {
      this.logits = logits;
      this.heads = heads;
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
    public double[] head(String method, Integer hidden) {
      assertEquals("the head of depth " + hidden, heads.get(hidden - 1), method);
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
          StepwiseLoop.run(program, Collections.nCopies(c.logits.size(), "layer_0"), program.heads, c.policy, 0);
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
    assertEquals(3, StepwiseLoop.run(full, Collections.nCopies(3, "layer_0"), full.heads, null, 0).depth);
    assertEquals(1, full.headCalls);
    Fixed two = new Fixed(logits);
    StepwiseLoop.Result r = StepwiseLoop.run(two, Collections.nCopies(3, "layer_0"), two.heads, null, 2);
    assertEquals(2, r.depth);
    assertArrayEquals(new double[] {0, 1}, r.logits, 0);
  }

  @Test
  public void eachDepthIsAnsweredByItsOwnHead() {
    List<double[]> logits = Arrays.asList(new double[] {0, 3}, new double[] {0, 1}, new double[] {2, 0});
    List<String> heads = Arrays.asList("exit_1", "exit_2", "head");
    // Patience 2: depths 1 and 2 agree on class 1, so it stops at 2, having asked exit_1 and exit_2 only.
    Fixed program = new Fixed(logits, heads);
    StepwiseLoop.Result r = StepwiseLoop.run(program, Collections.nCopies(3, "layer_0"), heads,
        new ExitPolicy("patience", 2, 1), 0);
    assertEquals(2, r.depth);
    assertEquals(2, program.headCalls);
    // A fixed depth of 1 reads exit_1; full depth reads head.
    assertArrayEquals(new double[] {0, 3},
        StepwiseLoop.run(new Fixed(logits, heads), Collections.nCopies(3, "layer_0"), heads, null, 1).logits, 0);
    assertArrayEquals(new double[] {2, 0},
        StepwiseLoop.run(new Fixed(logits, heads), Collections.nCopies(3, "layer_0"), heads, null, 0).logits, 0);
  }

  @Test(expected = IllegalArgumentException.class)
  public void headsMustCoverEveryDepth() {
    StepwiseLoop.run(new Fixed(Arrays.asList(new double[] {1, 0})), Collections.nCopies(2, "layer_0"),
        Collections.singletonList("head"), null, 0);
  }
}
