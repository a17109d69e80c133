package org.albertedge.core;

import java.util.Arrays;

/**
 * Builds model inputs the way {@code AlbertTokenizer.encode} does: {@code [CLS] a [SEP]} or
 * {@code [CLS] a [SEP] b [SEP]}, truncated to the model's maximum length, with an attention mask
 * and token types, optionally padded to a fixed length.
 */
public final class InputBuilder {
  private final SentencePieceUnigram tokenizer;
  private final int maxSeqLen;

  /** Model inputs as int64, the dtype the exported ALBERT takes. */
  public static final class EncodedInput {
    public final long[] inputIds;
    public final long[] attentionMask;
    public final long[] tokenTypeIds;
    /** Tokens before padding, [CLS]/[SEP] included. */
    public final int length;
    /** True when text was cut to fit {@code maxSeqLen}. */
    public final boolean truncated;

    EncodedInput(long[] inputIds, long[] attentionMask, long[] tokenTypeIds, int length, boolean truncated) {
      this.inputIds = inputIds;
      this.attentionMask = attentionMask;
      this.tokenTypeIds = tokenTypeIds;
      this.length = length;
      this.truncated = truncated;
    }

    /** The same input padded with {@code padId} (mask 0, type 0) to exactly {@code seqLen}. */
    public EncodedInput padTo(int seqLen, int padId) {
      if (seqLen < length) {
        throw new IllegalArgumentException("cannot pad " + length + " tokens down to " + seqLen);
      }
      long[] ids = Arrays.copyOf(inputIds, seqLen);
      Arrays.fill(ids, length, seqLen, padId);
      return new EncodedInput(
          ids, Arrays.copyOf(attentionMask, seqLen), Arrays.copyOf(tokenTypeIds, seqLen), length, truncated);
    }
  }

  public InputBuilder(SentencePieceUnigram tokenizer, int maxSeqLen) {
    if (maxSeqLen < 3) {
      throw new IllegalArgumentException("maxSeqLen must leave room for [CLS] text [SEP], got " + maxSeqLen);
    }
    this.tokenizer = tokenizer;
    this.maxSeqLen = maxSeqLen;
  }

  public int maxSeqLen() {
    return maxSeqLen;
  }

  /** {@code [CLS] text [SEP]}, text cut from the end when too long. Empty text gives 2 tokens. */
  public EncodedInput encode(String text) {
    int[] a = tokenizer.encode(text);
    int keep = Math.min(a.length, maxSeqLen - 2);
    return assemble(a, keep, null, 0);
  }

  /**
   * {@code [CLS] a [SEP] b [SEP]} with token type 1 on {@code b [SEP]}, truncated as tokenizers'
   * "longest_first" (what transformers 5 and {@code AlbertTokenizer.encode} do): each side keeps
   * its first ids, the shorter side is kept whole when it fits in half the budget, and otherwise
   * the budget is split in half with the odd id going to the longer side (to the second on a tie).
   */
  public EncodedInput encodePair(String textA, String textB) {
    int[] a = tokenizer.encode(textA);
    int[] b = tokenizer.encode(textB);
    int[] keep = longestFirst(a.length, b.length, maxSeqLen - 3);
    return assemble(a, keep[0], b, keep[1]);
  }

  /**
   * Exactly {@code seqLen} tokens of real text, for benchmarks: {@code [CLS]}, the ids of
   * {@code sample} repeated as often as needed, {@code [SEP]}; attention everywhere, as in the
   * worst case the app meets. Independent of {@code maxSeqLen}, so any benchmark length works.
   */
  public EncodedInput repeated(String sample, int seqLen) {
    if (seqLen < 3) {
      throw new IllegalArgumentException("seq_len must be at least 3 ([CLS] text [SEP]), got " + seqLen);
    }
    int[] ids = tokenizer.encode(sample);
    if (ids.length == 0) {
      throw new IllegalArgumentException("the benchmark sample text has no tokens");
    }
    int[] body = new int[seqLen - 2];
    for (int i = 0; i < body.length; i++) {
      body[i] = ids[i % ids.length];
    }
    EncodedInput in = assemble(body, body.length, null, 0);
    return new EncodedInput(in.inputIds, in.attentionMask, in.tokenTypeIds, in.length, false);
  }

  /** tokenizers' truncate_encodings(LongestFirst) for lengths {@code la}, {@code lb}. */
  static int[] longestFirst(int la, int lb, int budget) {
    if (la + lb <= budget) {
      return new int[] {la, lb};
    }
    int n1 = Math.min(la, lb);
    int n2 = n1 > budget ? n1 : Math.max(n1, budget - n1);
    if (n1 + n2 > budget) {
      n1 = budget / 2;
      n2 = n1 + budget % 2;
    }
    return la > lb ? new int[] {n2, n1} : new int[] {n1, n2};
  }

  private EncodedInput assemble(int[] a, int keepA, int[] b, int keepB) {
    int n = keepA + 2 + (b == null ? 0 : keepB + 1);
    long[] ids = new long[n];
    long[] types = new long[n];
    int k = 0;
    ids[k++] = tokenizer.clsId;
    for (int i = 0; i < keepA; i++) {
      ids[k++] = a[i];
    }
    ids[k++] = tokenizer.sepId;
    if (b != null) {
      int firstB = k;
      for (int i = 0; i < keepB; i++) {
        ids[k++] = b[i];
      }
      ids[k++] = tokenizer.sepId;
      Arrays.fill(types, firstB, n, 1L);
    }
    long[] mask = new long[n];
    Arrays.fill(mask, 1L);
    boolean truncated = keepA < a.length || (b != null && keepB < b.length);
    return new EncodedInput(ids, mask, types, n, truncated);
  }
}
