package org.albertedge.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A hand-made vocab.json small enough to work segmentations out on paper. */
final class TinyVocab {
  private TinyVocab() {}

  /** Piece, score, type; ids are list positions. */
  static final Object[][] PIECES = {
    {"<pad>", 0.0, 3}, //  0
    {"<unk>", 0.0, 2}, //  1
    {"[CLS]", 0.0, 3}, //  2
    {"[SEP]", 0.0, 3}, //  3
    {"[MASK]", 0.0, 3}, // 4
    {"\u2581", -2.0, 1}, // 5  ▁
    {"h", -4.0, 1}, //     6
    {"e", -4.0, 1}, //     7
    {"l", -4.0, 1}, //     8
    {"o", -4.0, 1}, //     9
    {"w", -4.0, 1}, //    10
    {"r", -4.0, 1}, //    11
    {"d", -4.0, 1}, //    12
    {"\u2581hello", -3.0, 1}, // 13 beats ▁he+llo (-5) and every char split
    {"\u2581he", -2.5, 1}, //    14
    {"llo", -2.5, 1}, //         15
    {"\u2581world", -3.5, 1}, // 16
    {"1", -4.0, 1}, //    17
    {"9", -4.0, 1}, //    18
    {"0", -4.0, 1}, //    19
    {",", -3.0, 1}, //    20
    {"\u25811990,", -1.0, 1}, // 21 beats ▁1990 + "," (-5); no re-split
    {"\u25811990", -2.0, 1}, //  22
    {"<url>", 0.0, 4}, //       23 user-defined
    {"q", -1.0, 5}, //          24 unused, but tokenizers' Unigram matches every piece
    {"ab", -6.0, 1}, //         25 tie with a+b
    {"a", -3.0, 1}, //          26
    {"b", -3.0, 1}, //          27
  };

  static String json() {
    return json(true);
  }

  static String json(boolean lowercase) {
    Map<String, Object> normalizer = new LinkedHashMap<>();
    normalizer.put("lowercase", lowercase);
    // Key order as AlbertTokenizer.export_vocab writes it.
    normalizer.put("strip_accents", true);
    normalizer.put("collapse_whitespace", true);
    normalizer.put("replace_quotes", true);
    normalizer.put("add_dummy_prefix", true);
    normalizer.put("nfkd", true);
    Map<String, Object> special = new LinkedHashMap<>();
    special.put("pad", 0);
    special.put("unk", 1);
    special.put("cls", 2);
    special.put("sep", 3);
    special.put("mask", 4);
    List<Object> pieces = new ArrayList<>();
    for (Object[] p : PIECES) {
      pieces.add(Arrays.asList(p[0], p[1], p[2]));
    }
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("format", SentencePieceUnigram.FORMAT);
    root.put("normalizer", normalizer);
    root.put("special", special);
    root.put("unk_score_penalty", 10.0);
    root.put("pieces", pieces);
    return Json.write(root);
  }

  static SentencePieceUnigram tokenizer() {
    return SentencePieceUnigram.fromJson(json());
  }
}
