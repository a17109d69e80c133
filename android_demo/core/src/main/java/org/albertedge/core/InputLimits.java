package org.albertedge.core;

/**
 * What an exported program accepts, checked before anything reaches {@code Module.forward}: the
 * int8 embedding kernel aborts the whole process on an id outside the table (and the int4 one reads
 * past it), a mask value other than 0/1 gives NaN logits, and a sequence longer than the program
 * was exported for fails inside the runtime. The same rules as Python's {@code albert_edge.runtime}.
 */
public final class InputLimits {
  public final int vocabSize;
  public final int typeVocabSize;
  public final int maxSeqLen;
  /** False for a static-shape program, which takes exactly {@link #maxSeqLen} tokens. */
  public final boolean dynamicSeqLen;

  public InputLimits(int vocabSize, int typeVocabSize, int maxSeqLen, boolean dynamicSeqLen) {
    if (vocabSize < 1 || typeVocabSize < 1 || maxSeqLen < 1) {
      throw new IllegalArgumentException(
          "limits must be positive, got vocab " + vocabSize + ", types " + typeVocabSize + ", length " + maxSeqLen);
    }
    this.vocabSize = vocabSize;
    this.typeVocabSize = typeVocabSize;
    this.maxSeqLen = maxSeqLen;
    this.dynamicSeqLen = dynamicSeqLen;
  }

  public static InputLimits of(Manifest manifest) {
    return new InputLimits(
        manifest.vocabSize, manifest.typeVocabSize, manifest.maxSeqLen, manifest.dynamicSeqLen());
  }

  public void check(InputBuilder.EncodedInput in) {
    check(in.inputIds, in.attentionMask, in.tokenTypeIds);
  }

  /** Throws {@link InvalidInputException} for the first input that breaks a rule. */
  public void check(long[] inputIds, long[] attentionMask, long[] tokenTypeIds) {
    if (inputIds == null || attentionMask == null || tokenTypeIds == null) {
      throw new InvalidInputException("input_ids, attention_mask and token_type_ids are all required");
    }
    int n = inputIds.length;
    if (attentionMask.length != n || tokenTypeIds.length != n) {
      throw new InvalidInputException(
          "inputs must have one length, got input_ids " + n + ", attention_mask " + attentionMask.length
              + ", token_type_ids " + tokenTypeIds.length);
    }
    if (dynamicSeqLen ? n < 1 || n > maxSeqLen : n != maxSeqLen) {
      throw new InvalidInputException(
          "sequence length " + n + " is outside what the program takes ("
              + (dynamicSeqLen ? "1.." + maxSeqLen : "exactly " + maxSeqLen + ", padded") + ")");
    }
    range("input_ids", inputIds, vocabSize - 1);
    range("attention_mask", attentionMask, 1);
    range("token_type_ids", tokenTypeIds, typeVocabSize - 1);
  }

  private static void range(String name, long[] values, long max) {
    for (int i = 0; i < values.length; i++) {
      if (values[i] < 0 || values[i] > max) {
        throw new InvalidInputException(
            name + "[" + i + "] = " + values[i] + " is outside the allowed range 0.." + max);
      }
    }
  }
}
