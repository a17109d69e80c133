package org.albertedge.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.Arrays;
import java.util.Collections;
import org.junit.Test;

/**
 * Segmentations of {@link TinyVocab} worked out by hand (the comments give the path scores);
 * {@link TokenizerGoldenTest} checks the same code against the Python tokenizer on real text.
 */
public class SentencePieceUnigramTest {
  private final SentencePieceUnigram tok = TinyVocab.tokenizer();

  @Test
  public void bestPathWins() {
    // ▁hello (-3) beats ▁he + llo (-5) and ▁ + five characters (-22).
    assertEquals(Arrays.asList("\u2581hello", "\u2581world"), tok.tokenize("Hello World"));
    assertArrayEquals(new int[] {13, 16}, tok.encode("Hello World"));
  }

  @Test
  public void unknownRunMergesIntoOneUnk() {
    // Neither z has a piece: two unknown nodes (-16 each), merged into one <unk>.
    assertEquals(Arrays.asList("\u2581hello", "\u2581", "zz"), tok.tokenize("hello zz"));
    assertArrayEquals(new int[] {13, 5, 1}, tok.encode("hello zz"));
    // Runs do not merge across a piece or across words.
    assertEquals(Arrays.asList("\u2581", "[m", "a", "sk]"), tok.tokenize("[mask]"));
    assertArrayEquals(new int[] {5, 1, 26, 1}, tok.encode("[mask]"));
    assertEquals(Arrays.asList("\u2581", "z", "\u2581", "z"), tok.tokenize("z z"));
  }

  @Test
  public void unkPieceInsideAChunkJoinsTheUnknownRun() {
    // Fullwidth ＜unk＞ normalises to "<unk>", which matches the piece <unk> (score 0) inside the
    // chunk; being <unk>, it merges with the unknown x before it.
    assertEquals(Arrays.asList("\u2581", "x<unk>"), tok.tokenize("x\uff1cunk\uff1e"));
    assertArrayEquals(new int[] {5, 1}, tok.encode("x\uff1cunk\uff1e"));
  }

  @Test
  public void piecesOfEveryTypeMatch() {
    // "q" is unused (type 5) and "<pad>" a control piece; tokenizers' Unigram ignores types.
    assertArrayEquals(new int[] {5, 24}, tok.encode("q"));
    assertArrayEquals(new int[] {5, 0}, tok.encode("\uff1cpad\uff1e"));
    // A user-defined piece scores like any other piece (here 0), with no sentencepiece bonus.
    assertEquals(Arrays.asList("\u2581", "<url>"), tok.tokenize("<URL>"));
  }

  @Test
  public void specialTokensAreCutOutOfTheRawTextFirst() {
    assertEquals(Arrays.asList("\u2581", "ab", "[MASK]", "\u2581", "ab"), tok.tokenize("ab[MASK]ab"));
    assertArrayEquals(new int[] {5, 25, 4, 5, 25}, tok.encode("ab[MASK]ab"));
    assertArrayEquals(new int[] {2, 3, 1, 0}, tok.encode("[CLS][SEP]<unk><pad>"));
    // Case-sensitive: lowercase "[mask]" is ordinary text (see unknownRunMergesIntoOneUnk).
  }

  @Test
  public void exactTieKeepsTheFirstPathFound() {
    // ▁ + ab = -8 and ▁ + a + b = -8; a node is replaced only on a strictly better score.
    assertEquals(Arrays.asList("\u2581", "ab"), tok.tokenize("ab"));
  }

  @Test
  public void digitCommaPieceIsNotResplit() {
    // transformers 5 dropped ALBERT's "9," re-split, and so does the Python tokenizer.
    assertEquals(Arrays.asList("\u25811990,", "\u2581hello"), tok.tokenize("1990, hello"));
    assertArrayEquals(new int[] {21, 13}, tok.encode("1990, hello"));
  }

  @Test
  public void literalMetaSymbolStartsANewChunk() {
    // "a▁▁b" → chunks ▁a, ▁, ▁b.
    assertArrayEquals(new int[] {5, 26, 5, 5, 27}, tok.encode("a\u2581\u2581b"));
  }

  @Test
  public void emptyAndBlankTextGiveNoTokens() {
    assertEquals(Collections.emptyList(), tok.tokenize(""));
    assertEquals(Collections.emptyList(), tok.tokenize(" \t\n\u3000\u00a0"));
  }

  @Test
  public void supplementaryCharactersAreOneCodePointEach() {
    // U+1F600 is two UTF-16 units but one unknown code point; it must not split into surrogates.
    assertEquals(Arrays.asList("\u2581", "\ud83d\ude00\ud83d\ude00"), tok.tokenize("\ud83d\ude00\ud83d\ude00"));
  }

  @Test
  public void pieceLookups() {
    assertEquals(28, tok.vocabSize());
    assertEquals(13, tok.pieceToId("\u2581hello"));
    assertEquals(tok.unkId, tok.pieceToId("not a piece"));
    assertEquals("[CLS]", tok.idToPiece(tok.clsId));
    assertEquals(0, tok.padId);
    assertEquals(4, tok.maskId);
  }

  @Test
  public void rejectsAnotherFormat() {
    String json = TinyVocab.json().replace(SentencePieceUnigram.FORMAT, "something.else.v9");
    try {
      SentencePieceUnigram.fromJson(json);
      fail("a vocab.json of another format must be rejected");
    } catch (IllegalArgumentException e) {
      assertTrue(e.getMessage(), e.getMessage().contains("export_vocab"));
    }
  }

  @Test
  public void rejectsMalformedPieces() {
    String json = TinyVocab.json().replace("[\"h\",-4,1]", "[\"h\",-4]");
    try {
      SentencePieceUnigram.fromJson(json);
      fail("a piece without a type must be rejected");
    } catch (IllegalArgumentException e) {
      assertTrue(e.getMessage(), e.getMessage().contains("pieces[6]"));
    }
  }

  @Test
  public void rejectsSpecialIdOutOfRange() {
    String json = TinyVocab.json().replace("\"mask\":4", "\"mask\":400");
    try {
      SentencePieceUnigram.fromJson(json);
      fail("special id past the vocabulary must be rejected");
    } catch (IllegalArgumentException e) {
      assertTrue(e.getMessage(), e.getMessage().contains("mask"));
    }
  }

  @Test
  public void rejectsNormalizerTheDeviceCannotFollow() {
    String json = TinyVocab.json().replace("\"collapse_whitespace\":true", "\"collapse_whitespace\":false");
    try {
      SentencePieceUnigram.fromJson(json);
      fail("collapse_whitespace=false must be rejected");
    } catch (IllegalArgumentException e) {
      assertTrue(e.getMessage(), e.getMessage().contains("collapse_whitespace"));
    }
  }
}
