package org.albertedge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.Arrays;
import java.util.Collections;
import org.junit.Test;

/** Expected strings are what {@code albert_edge.tokenizer.normalize} and {@code _words} return. */
public class TextNormalizerTest {
  private final TextNormalizer all = new TextNormalizer(true, true, true, true);
  private final TextNormalizer keepAccents = new TextNormalizer(true, false, true, false);

  @Test
  public void replacesLatexQuotesOnTheRawText() {
    assertEquals("\"hi\" '", all.normalize("``hi'' '"));
    // Left to right, non-overlapping: ''' → " + '.
    assertEquals("\"'", all.normalize("'''"));
  }

  @Test
  public void stripsEveryMarkAfterNfkd() {
    assertEquals("cafe naive angstrom", all.normalize("Caf\u00e9 Na\u00efve \u00c5ngstr\u00f6m"));
    // NFKD compatibility mappings: ligature, circled digit, fullwidth letters.
    assertEquals("fi 1 ab", all.normalize("\ufb01 \u2460 \uff21\uff42"));
    // Category M, not Python's combining class: the Devanagari vowel sign U (Mn, class 0) and
    // vowel sign I (Mc) go too.
    assertEquals("\u0915\u0915", all.normalize("\u0915\u0941\u0915\u093f"));
  }

  @Test
  public void lowercasesOneCodePointAtATime() {
    // No final sigma (tokenizers maps each character alone).
    assertEquals("\u03c3\u03b1\u03c3 \u03c3", keepAccents.normalize("\u03a3\u0391\u03a3 \u03a3"));
    // U+0130 → i + U+0307 without accent stripping; with it, NFKD's U+0307 is a mark and goes.
    assertEquals("i\u0307stanbul", keepAccents.normalize("\u0130stanbul"));
    assertEquals("istanbul", all.normalize("\u0130stanbul"));
    // Supplementary letters lowercase too (Deseret).
    assertEquals("\ud801\udc28", all.normalize("\ud801\udc00"));
  }

  @Test
  public void flagsAreHonoured() {
    TextNormalizer none = new TextNormalizer(false, false, false, false);
    assertEquals("Caf\u00e9  ``x''", none.normalize("Caf\u00e9  ``x''"));
  }

  @Test
  public void chunksSplitOnWhiteSpaceAndMetaSymbols() {
    assertEquals(Arrays.asList("\u2581a", "\u2581b", "\u2581c"), all.chunks("  a\u00a0\u3000b\u0085\tc  "));
    // U+001C..U+001F are not White_Space: they stay inside the word.
    assertEquals(Collections.singletonList("\u2581a\u001cb"), all.chunks("a\u001cb"));
    // A literal "▁" cuts the word: a▁▁b → ▁a, ▁, ▁b; a word already led by ▁ gets no second one.
    assertEquals(Arrays.asList("\u2581a", "\u2581", "\u2581b"), all.chunks("a\u2581\u2581b"));
    assertEquals(Arrays.asList("\u2581x", "\u2581"), all.chunks("\u2581x\u2581"));
    assertEquals(Collections.singletonList("\u2581"), all.chunks("\u2581"));
    assertEquals(Collections.emptyList(), all.chunks(" \n "));
  }

  @Test
  public void markCategories() {
    assertTrue(TextNormalizer.isMark(0x0301)); // Mn
    assertTrue(TextNormalizer.isMark(0x093F)); // Mc
    assertTrue(TextNormalizer.isMark(0x20DD)); // Me, combining enclosing circle
    assertTrue(TextNormalizer.isMark(0x1D165)); // supplementary Mc
    assertFalse(TextNormalizer.isMark('a'));
    assertFalse(TextNormalizer.isMark(0x00B4)); // acute accent, a spacing symbol (Sk)
  }

  @Test
  public void whiteSpaceSet() {
    int[] spaces = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000};
    for (int cp : spaces) {
      assertTrue(Integer.toHexString(cp), TextNormalizer.isWhiteSpace(cp));
    }
    int[] notSpaces = {0x08, 0x0E, 0x1C, 0x1F, 0x21, 0x180E, 0x200B, 0x200C, 0xFEFF, 0x2581};
    for (int cp : notSpaces) {
      assertFalse(Integer.toHexString(cp), TextNormalizer.isWhiteSpace(cp));
    }
  }
}
