package org.albertedge.core;

import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import org.junit.Test;

/** The Java side of the hard-edges table: every bad input is an InvalidInputException naming it. */
public class InputLimitsTest {
  private static final InputLimits DYNAMIC = new InputLimits(300, 2, 16, true);
  private static final long[] IDS = {2, 5, 3};
  private static final long[] MASK = {1, 1, 1};
  private static final long[] TYPES = {0, 0, 0};

  @Test
  public void goodInputsPass() {
    DYNAMIC.check(IDS, MASK, TYPES);
    DYNAMIC.check(new long[] {2, 299, 3}, new long[] {1, 1, 0}, new long[] {0, 1, 1});
    new InputLimits(300, 2, 3, false).check(IDS, MASK, TYPES);
  }

  @Test
  public void everyBadInputNamesWhatIsWrong() {
    expect(() -> DYNAMIC.check(new long[] {2, -1, 3}, MASK, TYPES), "input_ids[1] = -1 is outside", "0..299");
    expect(() -> DYNAMIC.check(new long[] {2, 300, 3}, MASK, TYPES), "input_ids[1] = 300", "0..299");
    expect(() -> DYNAMIC.check(new long[] {2, 1L << 40, 3}, MASK, TYPES), "input_ids[1]", "0..299");
    expect(() -> DYNAMIC.check(IDS, new long[] {1, 7, 1}, TYPES), "attention_mask[1] = 7", "0..1");
    expect(() -> DYNAMIC.check(IDS, MASK, new long[] {0, 2, 0}), "token_type_ids[1] = 2", "0..1");
    expect(() -> DYNAMIC.check(new long[17], new long[17], new long[17]), "sequence length 17", "1..16");
    expect(() -> DYNAMIC.check(new long[0], new long[0], new long[0]), "sequence length 0", "1..16");
    expect(() -> DYNAMIC.check(IDS, new long[] {1, 1}, TYPES), "one length", "attention_mask 2");
    expect(() -> DYNAMIC.check(null, MASK, TYPES), "required", "input_ids");
    expect(() -> new InputLimits(300, 2, 16, false).check(IDS, MASK, TYPES), "exactly 16", "padded");
  }

  @Test
  public void limitsComeFromTheManifest() {
    Manifest m = Manifest.parse(ManifestTest.FULL);
    InputLimits limits = InputLimits.of(m);
    assertTrue(limits.vocabSize == 30000 && limits.typeVocabSize == 2 && limits.maxSeqLen == 128);
    expect(() -> limits.check(new long[128], new long[128], new long[127]), "one length");
  }

  private static void expect(Runnable call, String... fragments) {
    try {
      call.run();
      fail("expected an InvalidInputException");
    } catch (InvalidInputException e) {
      for (String f : fragments) {
        assertTrue("'" + e.getMessage() + "' should mention " + f, e.getMessage().contains(f));
      }
    }
  }
}
