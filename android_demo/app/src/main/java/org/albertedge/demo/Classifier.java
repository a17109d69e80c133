package org.albertedge.demo;

import java.io.File;
import org.albertedge.core.InputBuilder;
import org.albertedge.core.InputLimits;
import org.albertedge.core.Prediction;
import org.pytorch.executorch.EValue;
import org.pytorch.executorch.Module;

/** A loaded model: text in, label out. Not thread-safe; the activity uses it from one worker. */
final class Classifier implements AutoCloseable {
  final BundledModel model;
  final double loadMs;
  private final Module module;
  private final InputBuilder inputs;
  private final InputLimits limits;

  /** One classification, with its cost split into tokenization and the model call. */
  static final class Result {
    final Prediction prediction;
    final int tokens;
    final boolean truncated;
    final double tokenizeMs;
    final double inferenceMs;

    Result(Prediction prediction, int tokens, boolean truncated, double tokenizeMs, double inferenceMs) {
      this.prediction = prediction;
      this.tokens = tokens;
      this.truncated = truncated;
      this.tokenizeMs = tokenizeMs;
      this.inferenceMs = inferenceMs;
    }
  }

  private Classifier(BundledModel model, Module module, double loadMs) {
    this.model = model;
    this.module = module;
    this.loadMs = loadMs;
    this.inputs = new InputBuilder(model.tokenizer, model.manifest.maxSeqLen);
    this.limits = InputLimits.of(model.manifest);
  }

  /**
   * Loads the program with mmap, so the weights are paged in from the file instead of read into
   * the heap. (Module.load's default in the Java API is LOAD_MODE_FILE, hence the explicit mode.)
   * {@code numThreads} 0 lets ExecuTorch pick. Loading "forward" here keeps that cost out of the
   * first classification.
   */
  static Classifier load(BundledModel model, File pte, int numThreads) {
    long start = System.nanoTime();
    Module module = Module.load(pte.getAbsolutePath(), Module.LOAD_MODE_MMAP, numThreads);
    try {
      module.loadMethod("forward");
      return new Classifier(model, module, (System.nanoTime() - start) / 1e6);
    } catch (RuntimeException | Error e) {
      module.destroy(); // the native program would otherwise stay mapped until the process dies
      throw e;
    }
  }

  Result classify(String text) {
    long t0 = System.nanoTime();
    InputBuilder.EncodedInput in = inputs.encode(text);
    if (!model.manifest.dynamicSeqLen()) {
      // A static-shape program takes exactly max_seq_len; the attention mask hides the padding.
      in = in.padTo(model.manifest.maxSeqLen, model.tokenizer.padId);
    }
    limits.check(in); // nothing out of range reaches the runtime's kernels, which abort on it
    EValue[] args = ModelInputs.of(model.manifest.inputs, in);
    long t1 = System.nanoTime();
    EValue[] out = module.forward(args);
    long t2 = System.nanoTime();
    float[] logits = out[0].toTensor().getDataAsFloatArray();
    Prediction p = Prediction.fromLogits(logits, model.manifest.labels);
    return new Result(p, in.length, in.truncated, (t1 - t0) / 1e6, (t2 - t1) / 1e6);
  }

  @Override
  public void close() {
    module.destroy();
  }
}
