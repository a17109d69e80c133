package org.albertedge.demo;

import java.io.File;
import org.albertedge.core.InputBuilder;
import org.albertedge.core.InputLimits;
import org.albertedge.core.Prediction;
import org.albertedge.core.StepwiseLoop;
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
    /** Layer applications used: the model's depth, or fewer when the stepwise program exited early. */
    final int depth;

    Result(Prediction prediction, int tokens, boolean truncated, double tokenizeMs, double inferenceMs,
        int depth) {
      this.prediction = prediction;
      this.tokens = tokens;
      this.truncated = truncated;
      this.tokenizeMs = tokenizeMs;
      this.inferenceMs = inferenceMs;
      this.depth = depth;
    }
  }

  /** True when this classifier runs the stepwise program's loop (adaptive depth). */
  final boolean stepwise;

  private Classifier(BundledModel model, Module module, double loadMs, boolean stepwise) {
    this.model = model;
    this.module = module;
    this.stepwise = stepwise;
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
    return load(model, pte, numThreads, false);
  }

  /** The stepwise program: loads embed, every layer method of the schedule, and every head. */
  static Classifier loadStepwise(BundledModel model, File stepwisePte, int numThreads) {
    return load(model, stepwisePte, numThreads, true);
  }

  private static Classifier load(BundledModel model, File pte, int numThreads, boolean stepwise) {
    long start = System.nanoTime();
    Module module = Module.load(pte.getAbsolutePath(), Module.LOAD_MODE_MMAP, numThreads);
    try {
      if (stepwise) {
        module.loadMethod("embed");
        for (String method : new java.util.LinkedHashSet<>(model.manifest.stepwiseSchedule)) {
          module.loadMethod(method);
        }
        for (String method : new java.util.LinkedHashSet<>(model.manifest.stepwiseHeads)) {
          module.loadMethod(method);
        }
      } else {
        module.loadMethod("forward");
      }
      return new Classifier(model, module, (System.nanoTime() - start) / 1e6, stepwise);
    } catch (RuntimeException | Error e) {
      module.destroy(); // the native program would otherwise stay mapped until the process dies
      throw e;
    }
  }

  Result classify(String text) {
    long t0 = System.nanoTime();
    InputBuilder.EncodedInput in = inputs.encode(text);
    return classifyEncoded(in, (System.nanoTime() - t0) / 1e6);
  }

  /** The model call on an encoded input ({@code tokenizeMs}: what encoding it cost, for the result). */
  Result classifyEncoded(InputBuilder.EncodedInput in, double tokenizeMs) {
    long t0 = System.nanoTime();
    if (!model.manifest.dynamicSeqLen()) {
      // A static-shape program takes exactly max_seq_len; the attention mask hides the padding.
      in = in.padTo(model.manifest.maxSeqLen, model.tokenizer.padId);
    }
    limits.check(in); // nothing out of range reaches the runtime's kernels, which abort on it
    EValue[] args = ModelInputs.of(model.manifest.inputs, in);
    long t1 = System.nanoTime();
    float[] logits;
    int depth = model.manifest.stepwiseSchedule.size();
    if (stepwise) {
      StepwiseLoop.Result r = StepwiseLoop.run(new Methods(module, args), model.manifest.stepwiseSchedule,
          model.manifest.stepwiseHeads, model.manifest.exitPolicy, 0);
      logits = new float[r.logits.length];
      for (int i = 0; i < logits.length; i++) {
        logits[i] = (float) r.logits[i];
      }
      depth = r.depth;
    } else {
      logits = module.forward(args)[0].toTensor().getDataAsFloatArray();
    }
    long t2 = System.nanoTime();
    Prediction p = Prediction.fromLogits(logits, model.manifest.labels);
    return new Result(p, in.length, in.truncated, tokenizeMs + (t1 - t0) / 1e6, (t2 - t1) / 1e6, depth);
  }

  /**
   * The stepwise program's methods through ExecuTorch: embed's two outputs (hidden state, attention
   * bias) feed every layer call; each layer's output is copied before the next call, whose output
   * buffer it would otherwise be.
   */
  private static final class Methods implements StepwiseLoop.Methods<EValue> {
    private final Module module;
    private final EValue[] inputs;
    private EValue bias;

    Methods(Module module, EValue[] inputs) {
      this.module = module;
      this.inputs = inputs;
    }

    @Override
    public EValue embed() {
      EValue[] out = module.execute("embed", inputs);
      bias = copy(out[1]);
      return copy(out[0]);
    }

    @Override
    public EValue layer(String method, EValue hidden) {
      return copy(module.execute(method, hidden, bias)[0]);
    }

    @Override
    public double[] head(String method, EValue hidden) {
      float[] out = module.execute(method, hidden)[0].toTensor().getDataAsFloatArray();
      double[] logits = new double[out.length];
      for (int i = 0; i < out.length; i++) {
        logits[i] = out[i];
      }
      return logits;
    }

    private static EValue copy(EValue value) {
      org.pytorch.executorch.Tensor t = value.toTensor();
      return EValue.from(org.pytorch.executorch.Tensor.fromBlob(t.getDataAsFloatArray(), t.shape()));
    }
  }

  @Override
  public void close() {
    module.destroy();
  }
}
