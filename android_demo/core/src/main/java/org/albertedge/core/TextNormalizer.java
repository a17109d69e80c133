package org.albertedge.core;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * ALBERT's text normalisation and word splitting, step for step as {@code albert_edge.tokenizer}
 * (steps 2 to 4 of docs/device_tokenizer.md), which itself reproduces
 * transformers 5's tokenizers-backed AlbertTokenizer.
 *
 * <ol>
 *   <li>{@code ``} and {@code ''} become {@code "}, on the raw text;
 *   <li>NFKD, then every code point of general category Mn, Mc or Me is deleted (Rust's
 *       is_combining_mark, not Python's combining class);
 *   <li>each code point is lower-cased on its own (no final-sigma rule; U+0130 becomes i + U+0307);
 *   <li>the text splits on runs of Unicode White_Space (U+001C..U+001F are not White_Space);
 *   <li>each word gets a leading "▁" unless it has one, and is cut before every inner "▁".
 * </ol>
 *
 * <p>Java's per-code-point lowercase and general categories agree with Python 3.11's on every code
 * point both Unicode versions define (checked exhaustively); code points newer than the JVM's
 * Unicode tables are where a device can differ.
 */
public final class TextNormalizer {
  /** SentencePiece's meta symbol for a space, U+2581 LOWER ONE EIGHTH BLOCK. */
  public static final char SPACE_SYMBOL = '\u2581';

  private final boolean lowercase;
  private final boolean stripAccents;
  private final boolean replaceQuotes;
  private final boolean nfkd;

  public TextNormalizer(boolean lowercase, boolean stripAccents, boolean replaceQuotes, boolean nfkd) {
    this.lowercase = lowercase;
    this.stripAccents = stripAccents;
    this.replaceQuotes = replaceQuotes;
    this.nfkd = nfkd;
  }

  /** Reads the {@code normalizer} object of vocab.json. */
  static TextNormalizer fromJson(Map<String, Object> json) {
    String at = "vocab.normalizer";
    // The Python tokenizer always splits on whitespace and always adds the "▁" prefix
    // (transformers 5 offers nothing else), so a vocab.json saying otherwise was not written by it.
    for (String always : new String[] {"collapse_whitespace", "add_dummy_prefix"}) {
      if (!Json.bool(json, always, true, at)) {
        throw new IllegalArgumentException(
            at + "." + always + "=false is not supported; re-export with AlbertTokenizer.export_vocab");
      }
    }
    return new TextNormalizer(
        Json.bool(json, "lowercase", true, at),
        Json.bool(json, "strip_accents", true, at),
        Json.bool(json, "replace_quotes", true, at),
        Json.bool(json, "nfkd", true, at));
  }

  /** Steps 1-3: quotes, NFKD + accent stripping, lowercase. Whitespace is left in place. */
  public String normalize(String text) {
    String out = replaceQuotes ? text.replace("``", "\"").replace("''", "\"") : text;
    if (nfkd) {
      out = Normalizer.normalize(out, Normalizer.Form.NFKD);
    }
    if (!stripAccents && !lowercase) {
      return out;
    }
    StringBuilder sb = new StringBuilder(out.length());
    for (int i = 0; i < out.length(); ) {
      int cp = out.codePointAt(i);
      i += Character.charCount(cp);
      if (stripAccents && isMark(cp)) {
        continue;
      }
      if (lowercase && cp == 0x0130) {
        sb.append("i\u0307"); // the one unconditional multi-character lowercase mapping
      } else {
        sb.appendCodePoint(lowercase ? Character.toLowerCase(cp) : cp);
      }
    }
    return sb.toString();
  }

  /**
   * Steps 4-5: the "▁"-led chunks that are segmented one by one. "a▁▁b" gives "▁a", "▁", "▁b": a
   * literal "▁" in the text acts as a word boundary, as in tokenizers' Metaspace.
   */
  public List<String> chunks(String normalized) {
    List<String> out = new ArrayList<>();
    int i = 0;
    int n = normalized.length();
    while (i < n) {
      while (i < n && isWhiteSpace(normalized.codePointAt(i))) {
        i += Character.charCount(normalized.codePointAt(i));
      }
      int start = i;
      while (i < n && !isWhiteSpace(normalized.codePointAt(i))) {
        i += Character.charCount(normalized.codePointAt(i));
      }
      if (i > start) {
        splitWord(normalized.substring(start, i), out);
      }
    }
    return out;
  }

  private static void splitWord(String word, List<String> out) {
    // Python: for part in ("▁" + word if needed).split("▁")[1:]: yield "▁" + part
    int from = word.charAt(0) == SPACE_SYMBOL ? 1 : 0;
    while (true) {
      int next = word.indexOf(SPACE_SYMBOL, from);
      String part = next < 0 ? word.substring(from) : word.substring(from, next);
      out.add(SPACE_SYMBOL + part);
      if (next < 0) {
        return;
      }
      from = next + 1;
    }
  }

  /** General category Mn, Mc or Me. */
  static boolean isMark(int cp) {
    int t = Character.getType(cp);
    return t == Character.NON_SPACING_MARK
        || t == Character.COMBINING_SPACING_MARK
        || t == Character.ENCLOSING_MARK;
  }

  /** Unicode White_Space, which Rust's char::is_whitespace and tokenizers' WhitespaceSplit use. */
  static boolean isWhiteSpace(int cp) {
    if (cp <= 0x20) {
      return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
    }
    switch (cp) {
      case 0x85:
      case 0xA0:
      case 0x1680:
      case 0x2028:
      case 0x2029:
      case 0x202F:
      case 0x205F:
      case 0x3000:
        return true;
      default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
  }
}
