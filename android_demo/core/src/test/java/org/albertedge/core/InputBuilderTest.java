package org.albertedge.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import org.junit.Test;

/** Framing and truncation on {@link TinyVocab}: "hello" is ▁hello (13), "world" ▁world (16). */
public class InputBuilderTest {
  private final SentencePieceUnigram tok = TinyVocab.tokenizer();

  @Test
  public void framesWithClsAndSep() {
    InputBuilder.EncodedInput in = new InputBuilder(tok, 16).encode("hello world");
    assertArrayEquals(new long[] {2, 13, 16, 3}, in.inputIds);
    assertArrayEquals(new long[] {1, 1, 1, 1}, in.attentionMask);
    assertArrayEquals(new long[] {0, 0, 0, 0}, in.tokenTypeIds);
    assertEquals(4, in.length);
    assertFalse(in.truncated);
  }

  @Test
  public void emptyTextIsClsSep() {
    InputBuilder.EncodedInput in = new InputBuilder(tok, 16).encode("");
    assertArrayEquals(new long[] {2, 3}, in.inputIds);
    assertFalse(in.truncated);
  }

  @Test
  public void truncatesFromTheEnd() {
    InputBuilder.EncodedInput in = new InputBuilder(tok, 4).encode("hello world hello world");
    assertArrayEquals(new long[] {2, 13, 16, 3}, in.inputIds);
    assertEquals(4, in.length);
    assertTrue(in.truncated);
  }

  @Test
  public void pairHasTokenTypes() {
    InputBuilder.EncodedInput in = new InputBuilder(tok, 16).encodePair("hello", "world hello");
    assertArrayEquals(new long[] {2, 13, 3, 16, 13, 3}, in.inputIds);
    assertArrayEquals(new long[] {0, 0, 0, 1, 1, 1}, in.tokenTypeIds);
    assertArrayEquals(new long[] {1, 1, 1, 1, 1, 1}, in.attentionMask);
  }

  @Test
  public void longestFirstMatchesTokenizers() {
    // Fits: untouched.
    assertArrayEquals(new int[] {2, 3}, InputBuilder.longestFirst(2, 3, 5));
    // The shorter side fits in half the budget: it stays whole, the longer takes the rest.
    assertArrayEquals(new int[] {2, 8}, InputBuilder.longestFirst(2, 20, 10));
    assertArrayEquals(new int[] {8, 2}, InputBuilder.longestFirst(20, 2, 10));
    // Both long: halves, the odd id to the longer side...
    assertArrayEquals(new int[] {4, 5}, InputBuilder.longestFirst(30, 40, 9));
    assertArrayEquals(new int[] {5, 4}, InputBuilder.longestFirst(40, 30, 9));
    // ...and to the second on a tie.
    assertArrayEquals(new int[] {4, 5}, InputBuilder.longestFirst(30, 30, 9));
    // No room at all.
    assertArrayEquals(new int[] {0, 0}, InputBuilder.longestFirst(3, 4, 0));
  }

  @Test
  public void pairTruncationKeepsLeadingIds() {
    // 4 + 4 ids, budget 8 - 3 = 5: 2 + 3, the odd one to the second part on a tie.
    InputBuilder.EncodedInput in = new InputBuilder(tok, 8).encodePair("hello world hello world", "world hello world hello");
    assertArrayEquals(new long[] {2, 13, 16, 3, 16, 13, 16, 3}, in.inputIds);
    assertArrayEquals(new long[] {0, 0, 0, 0, 1, 1, 1, 1}, in.tokenTypeIds);
    assertTrue(in.truncated);
  }

  @Test
  public void padsToAFixedLength() {
    InputBuilder.EncodedInput in = new InputBuilder(tok, 16).encode("hello").padTo(6, tok.padId);
    assertArrayEquals(new long[] {2, 13, 3, 0, 0, 0}, in.inputIds);
    assertArrayEquals(new long[] {1, 1, 1, 0, 0, 0}, in.attentionMask);
    assertArrayEquals(new long[] {0, 0, 0, 0, 0, 0}, in.tokenTypeIds);
    assertEquals(3, in.length);
    try {
      in.padTo(2, tok.padId);
      fail("padding below the length must fail");
    } catch (IllegalArgumentException expected) {
      assertTrue(expected.getMessage().contains("cannot pad"));
    }
  }

  @Test
  public void repeatsSampleTextToAnExactLength() {
    InputBuilder b = new InputBuilder(tok, 4); // maxSeqLen does not limit benchmark inputs
    InputBuilder.EncodedInput in = b.repeated("hello world", 7);
    assertArrayEquals(new long[] {2, 13, 16, 13, 16, 13, 3}, in.inputIds);
    assertArrayEquals(new long[] {1, 1, 1, 1, 1, 1, 1}, in.attentionMask);
    assertEquals(7, in.length);
    assertArrayEquals(new long[] {2, 13, 3}, b.repeated("hello world", 3).inputIds);
    try {
      b.repeated("   ", 8);
      fail("a sample without tokens cannot fill anything");
    } catch (IllegalArgumentException e) {
      assertTrue(e.getMessage().contains("no tokens"));
    }
  }

  @Test
  public void rejectsAMaxLengthWithoutRoomForText() {
    try {
      new InputBuilder(tok, 2);
      fail();
    } catch (IllegalArgumentException e) {
      assertTrue(e.getMessage().contains("maxSeqLen"));
    }
  }
}
