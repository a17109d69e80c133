package org.albertedge.core;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * ALBERT's SentencePiece unigram tokenizer, re-implemented from the exported {@code vocab.json} so
 * that the phone needs neither the sentencepiece native library nor the .model protobuf.
 *
 * <p>It follows the algorithm in {@code docs/device_tokenizer.md} (what
 * {@code AlbertTokenizer.export_vocab} writes; transformers 5's tokenizers-backed AlbertTokenizer),
 * id for id:
 *
 * <ol>
 *   <li>the five special pieces ({@code <pad> <unk> [CLS] [SEP] [MASK]}) are cut out of the raw
 *       text first, case-sensitively, leftmost then longest, and map straight to their ids;
 *   <li>every stretch between them is normalised and split into "▁"-led chunks
 *       ({@link TextNormalizer});
 *   <li>each chunk is segmented by Viterbi over code points: every piece of any type may match,
 *       path scores are double sums, nodes are visited by start then by length, and a node is
 *       replaced only by a strictly better path (so earlier candidates win exact ties). A code
 *       point that no one-code-point piece covers becomes an unknown node scoring
 *       {@code min(scores) - unk_score_penalty};
 *   <li>consecutive unknown nodes (and the piece {@code <unk>} itself) merge into one token whose
 *       id is that text's id if it is a piece, else {@code <unk>}.
 * </ol>
 *
 * <p>The original ALBERT "digit followed by comma" re-split is not applied: transformers 5 dropped
 * it, and models trained by {@code albert_edge.tokenizer} split digits, so it could not fire.
 */
public final class SentencePieceUnigram {
  public static final String FORMAT = "albert_edge.spm_unigram.v1";

  private final TextNormalizer normalizer;
  private final String[] pieces;
  private final double[] scores;
  private final Map<String, Integer> idByPiece;
  /** Special piece strings, longest first, so that the first match at a position is the longest. */
  private final String[] specialsLongestFirst;
  private final int maxPieceCodePoints;
  private final double unkScore;

  public final int padId;
  public final int unkId;
  public final int clsId;
  public final int sepId;
  public final int maskId;

  /** One token: its text (a piece, a special, or a merged unknown run) and its id. */
  public static final class Token {
    public final String text;
    public final int id;

    Token(String text, int id) {
      this.text = text;
      this.id = id;
    }

    @Override
    public String toString() {
      return text + "/" + id;
    }
  }

  private SentencePieceUnigram(
      TextNormalizer normalizer, String[] pieces, double[] scores, int[] special, double unkScorePenalty) {
    this.normalizer = normalizer;
    this.pieces = pieces;
    this.scores = scores;
    this.idByPiece = new HashMap<>(pieces.length * 2);
    double minScore = Double.POSITIVE_INFINITY;
    int maxLen = 1;
    for (int id = 0; id < pieces.length; id++) {
      // A duplicate piece keeps its last id, as the Python {piece: i for i, piece in ...} does.
      idByPiece.put(pieces[id], id);
      minScore = Math.min(minScore, scores[id]);
      maxLen = Math.max(maxLen, pieces[id].codePointCount(0, pieces[id].length()));
    }
    this.maxPieceCodePoints = maxLen;
    this.unkScore = minScore - unkScorePenalty;
    this.padId = special[0];
    this.unkId = special[1];
    this.clsId = special[2];
    this.sepId = special[3];
    this.maskId = special[4];
    String[] specials = new String[special.length];
    for (int k = 0; k < special.length; k++) {
      specials[k] = pieces[special[k]];
    }
    Arrays.sort(specials, (a, b) -> b.length() - a.length());
    this.specialsLongestFirst = specials;
  }

  /** Loads vocab.json text (schema {@value #FORMAT}). */
  public static SentencePieceUnigram fromJson(String vocabJson) {
    Map<String, Object> root = Json.parseObject(vocabJson);
    String at = "vocab";
    Object format = root.get("format");
    if (!FORMAT.equals(format)) {
      throw new IllegalArgumentException(
          "vocab.json has format " + format + ", expected " + FORMAT
              + "; re-export it with AlbertTokenizer.export_vocab");
    }
    TextNormalizer normalizer = TextNormalizer.fromJson(Json.object(root, "normalizer", at));
    double penalty = Json.number(root, "unk_score_penalty", at);

    List<Object> list = Json.array(root, "pieces", at);
    if (list.isEmpty()) {
      throw new IllegalArgumentException("vocab.pieces is empty");
    }
    String[] pieces = new String[list.size()];
    double[] scores = new double[list.size()];
    for (int id = 0; id < list.size(); id++) {
      Object o = list.get(id);
      if (!(o instanceof List) || ((List<?>) o).size() != 3) {
        throw new IllegalArgumentException("vocab.pieces[" + id + "] must be [piece, score, type]");
      }
      List<?> entry = (List<?>) o;
      if (!(entry.get(0) instanceof String) || !(entry.get(1) instanceof Double)
          || !(entry.get(2) instanceof Double)) {
        throw new IllegalArgumentException("vocab.pieces[" + id + "] must be [string, number, number]");
      }
      pieces[id] = (String) entry.get(0);
      if (pieces[id].isEmpty()) {
        throw new IllegalArgumentException("vocab.pieces[" + id + "] is an empty string");
      }
      // The type is not needed: like tokenizers' Unigram, every piece may match (see class doc).
      scores[id] = (Double) entry.get(1);
    }

    Map<String, Object> specialJson = Json.object(root, "special", at);
    String[] names = {"pad", "unk", "cls", "sep", "mask"};
    int[] special = new int[names.length];
    for (int k = 0; k < names.length; k++) {
      long id = Json.integer(specialJson, names[k], at + ".special");
      if (id < 0 || id >= pieces.length) {
        throw new IllegalArgumentException("vocab.special." + names[k] + " = " + id + " is out of range");
      }
      special[k] = (int) id;
    }
    return new SentencePieceUnigram(normalizer, pieces, scores, special, penalty);
  }

  /** Loads vocab.json from a stream (an Android asset, a test resource); closes the stream. */
  public static SentencePieceUnigram load(InputStream in) throws IOException {
    return fromJson(readUtf8(in));
  }

  static String readUtf8(InputStream in) throws IOException {
    try (InputStream stream = in) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = stream.read(buf)) > 0) {
        out.write(buf, 0, n);
      }
      return new String(out.toByteArray(), StandardCharsets.UTF_8);
    }
  }

  public TextNormalizer normalizer() {
    return normalizer;
  }

  public int vocabSize() {
    return pieces.length;
  }

  public String idToPiece(int id) {
    return pieces[id];
  }

  /** The piece's id, or {@code <unk>} for a string that is not a piece. */
  public int pieceToId(String piece) {
    Integer id = idByPiece.get(piece);
    return id == null ? unkId : id;
  }

  /** Tokens of raw text, without [CLS]/[SEP]. */
  public List<Token> tokenizeToTokens(String text) {
    List<Token> out = new ArrayList<>();
    int stretchStart = 0;
    int i = 0;
    while (i < text.length()) {
      String special = specialAt(text, i);
      if (special == null) {
        i++;
        continue;
      }
      segmentStretch(text.substring(stretchStart, i), out);
      out.add(new Token(special, idByPiece.get(special)));
      i += special.length();
      stretchStart = i;
    }
    segmentStretch(text.substring(stretchStart), out);
    return out;
  }

  private String specialAt(String text, int i) {
    for (String s : specialsLongestFirst) {
      if (text.startsWith(s, i)) {
        return s;
      }
    }
    return null;
  }

  private void segmentStretch(String stretch, List<Token> out) {
    if (stretch.isEmpty()) {
      return;
    }
    for (String chunk : normalizer.chunks(normalizer.normalize(stretch))) {
      segment(chunk, out);
    }
  }

  /** Token texts, like Python's {@code AlbertTokenizer.tokenize}. */
  public List<String> tokenize(String text) {
    List<Token> tokens = tokenizeToTokens(text);
    List<String> out = new ArrayList<>(tokens.size());
    for (Token t : tokens) {
      out.add(t.text);
    }
    return out;
  }

  /** Ids without [CLS]/[SEP]. */
  public int[] encode(String text) {
    List<Token> tokens = tokenizeToTokens(text);
    int[] ids = new int[tokens.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = tokens.get(i).id;
    }
    return ids;
  }

  /** Viterbi segmentation of one "▁"-led chunk, unknown runs merged; appends to {@code out}. */
  void segment(String chunk, List<Token> out) {
    // Work on code points: a supplementary character is one position, never two surrogates.
    int n = chunk.codePointCount(0, chunk.length());
    int[] offset = new int[n + 1];
    for (int i = 0, off = 0; i < n; i++) {
      offset[i] = off;
      off += Character.charCount(chunk.codePointAt(off));
      offset[i + 1] = off;
    }

    double[] best = new double[n + 1];
    int[] startOf = new int[n + 1];
    int[] idOf = new int[n + 1];
    Arrays.fill(startOf, -1);
    for (int start = 0; start < n; start++) {
      double here = best[start];
      boolean hasSingle = false;
      int maxEnd = Math.min(n, start + maxPieceCodePoints);
      for (int end = start + 1; end <= maxEnd; end++) {
        Integer id = idByPiece.get(chunk.substring(offset[start], offset[end]));
        if (id == null) {
          continue;
        }
        double candidate = here + scores[id];
        if (startOf[end] < 0 || candidate > best[end]) {
          best[end] = candidate;
          startOf[end] = start;
          idOf[end] = id;
        }
        hasSingle |= end == start + 1;
      }
      if (!hasSingle) {
        double candidate = here + unkScore;
        if (startOf[start + 1] < 0 || candidate > best[start + 1]) {
          best[start + 1] = candidate;
          startOf[start + 1] = start;
          idOf[start + 1] = unkId;
        }
      }
    }

    // Backtrack; a run of unknown nodes becomes one token.
    List<Token> reversed = new ArrayList<>();
    int runEnd = -1;
    for (int end = n; end > 0; end = startOf[end]) {
      if (idOf[end] == unkId) {
        if (runEnd < 0) {
          runEnd = end;
        }
        continue;
      }
      if (runEnd >= 0) {
        reversed.add(mergedUnknown(chunk.substring(offset[end], offset[runEnd])));
        runEnd = -1;
      }
      reversed.add(new Token(chunk.substring(offset[startOf[end]], offset[end]), idOf[end]));
    }
    if (runEnd >= 0) {
      reversed.add(mergedUnknown(chunk.substring(0, offset[runEnd])));
    }
    for (int k = reversed.size() - 1; k >= 0; k--) {
      out.add(reversed.get(k));
    }
  }

  private Token mergedUnknown(String text) {
    return new Token(text, pieceToId(text));
  }
}
