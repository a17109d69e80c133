package org.albertedge.demo;

import android.app.Activity;
import android.app.ActivityManager;
import android.content.Context;
import android.content.Intent;
import android.os.Build;
import android.os.Bundle;
import android.os.Debug;
import android.util.Log;
import android.widget.TextView;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.albertedge.core.BenchmarkReport;
import org.albertedge.core.InputBuilder;
import org.albertedge.core.InputLimits;
import org.albertedge.core.ModelFiles;
import org.pytorch.executorch.EValue;
import org.pytorch.executorch.ExecutorchRuntimeException;
import org.pytorch.executorch.Module;

/**
 * Benchmark mode, started from adb:
 *
 * <pre>
 * adb shell am start -n org.albertedge.demo/.BenchmarkActivity \
 *     --es model_path /data/local/tmp/albert/albert_edge_xnnpack_int8.pte \
 *     --ei iterations 50 --ei warmups 5 --ei threads 4 --ei seq_len 128
 * adb shell am start -n org.albertedge.demo/.BenchmarkActivity --es mode adaptive
 * </pre>
 *
 * {@code mode adaptive} times the bundled stepwise program through the app's own loop and exit
 * policy instead of {@code forward} (it needs a bundle with one; {@code model_path} is then
 * ignored) and also records the depth the runs used ({@code avg_depth}, {@code max_depth}).
 *
 * Every extra is optional: the bundled model, 50 iterations, 5 warm-ups, ExecuTorch's default
 * threads and the manifest's max_seq_len. {@code model_path} must lie under {@code /data/local/tmp/}
 * (where adb pushes files) or the app's own files: the activity is exported for adb, guarded by
 * {@code android.permission.DUMP} (which the shell has and ordinary apps cannot get), and it must not
 * become a way for another app to make this one map an arbitrary file. Writes {@code files/benchmark_results.json} in
 * ExecuTorch minibench's schema ({@link BenchmarkReport}), logs a summary under tag
 * {@value #TAG}, and finishes.
 */
public class BenchmarkActivity extends Activity {
  static final String TAG = "AlbertBenchmark";
  static final String RESULTS = "benchmark_results.json";
  /** Ordinary English, so that the timed input looks like what the app sees, at full length. */
  private static final String SAMPLE =
      "The film is a quiet, patient character study that rewards attention, with two superb lead "
          + "performances, though its final act drags and the score is often intrusive.";

  @Override
  protected void onCreate(Bundle savedInstanceState) {
    super.onCreate(savedInstanceState);
    TextView view = new TextView(this);
    view.setText("Benchmarking\u2026 results go to files/" + RESULTS);
    setContentView(view);
    Intent intent = getIntent();
    Settings settings = new Settings(
        intent.getStringExtra("model_path"),
        intent.getIntExtra("iterations", 50),
        intent.getIntExtra("warmups", 5),
        intent.getIntExtra("threads", 0),
        intent.getIntExtra("seq_len", -1),
        intent.getStringExtra("mode"));
    new Thread(() -> {
      run(settings);
      runOnUiThread(this::finish);
    }, "albert-benchmark").start();
  }

  static final class Settings {
    final String modelPath;
    final int iterations;
    final int warmups;
    final int threads;
    final int seqLen;
    final String mode;

    Settings(String modelPath, int iterations, int warmups, int threads, int seqLen, String mode) {
      this.mode = mode == null ? "forward" : mode;
      this.modelPath = modelPath;
      this.iterations = iterations;
      this.warmups = warmups;
      this.threads = threads;
      this.seqLen = seqLen;
    }
  }

  private void run(Settings s) {
    Map<String, String> extra = new LinkedHashMap<>();
    String modelName = s.modelPath == null ? "?" : new File(s.modelPath).getName();
    double loadMs = -1;
    int loadStatus = 0;
    double[] latencies = null;
    long pssBeforeKb = Debug.getPss();
    Module module = null;
    Classifier classifier = null;
    int[] depths = null;
    boolean loaded = false;
    try {
      if (s.iterations < 1 || s.warmups < 0 || s.threads < 0) {
        throw new IllegalArgumentException("need iterations >= 1, warmups >= 0, threads >= 0");
      }
      if (!s.mode.equals("forward") && !s.mode.equals("adaptive")) {
        throw new IllegalArgumentException("mode must be forward or adaptive, got " + s.mode);
      }
      BundledModel bundled = BundledModel.read(this);
      int seqLen = s.seqLen > 0 ? s.seqLen : bundled.manifest.maxSeqLen;
      extra.put("mode", s.mode);
      extra.put("seq_len", String.valueOf(seqLen));
      extra.put("iterations", String.valueOf(s.iterations));
      extra.put("warmups", String.valueOf(s.warmups));
      extra.put("threads", s.threads == 0 ? "default" : String.valueOf(s.threads));
      if (s.mode.equals("adaptive")) {
        File stepwise = bundled.copyStepwisePte(this);
        if (stepwise == null) {
          throw new IOException("mode adaptive needs a bundle with a stepwise program and an exit policy; "
              + "bundle the default export of the bundled model (python -m albert_edge.export --int8)");
        }
        modelName = stepwise.getName();
        classifier = Classifier.loadStepwise(bundled, stepwise, s.threads);
        loadMs = classifier.loadMs;
        loaded = true;
        extra.put("max_depth", String.valueOf(bundled.manifest.stepwiseSchedule.size()));
        depths = new int[s.iterations];
        latencies = timeAdaptive(classifier, bundled, s, seqLen, depths);
      } else {
        File model = s.modelPath != null ? new File(s.modelPath) : bundled.copyPte(this);
        if (s.modelPath != null && !ModelFiles.isBenchmarkablePath(model, getFilesDir())) {
          throw new IllegalArgumentException(model + " is outside /data/local/tmp/ and the app's files; push the "
              + "model there with adb");
        }
        if (!model.isFile()) {
          throw new IOException(model + " does not exist or is not readable by the app; push it with adb "
              + "and make it world-readable (chmod 644), or omit model_path to use the bundled model");
        }
        modelName = model.getName();
        extra.put("load_mode", "mmap");
        extra.put("model_bytes", String.valueOf(model.length()));
        extra.put("abi", Build.SUPPORTED_ABIS.length > 0 ? Build.SUPPORTED_ABIS[0] : "");

        long start = System.nanoTime();
        module = Module.load(model.getAbsolutePath(), Module.LOAD_MODE_MMAP, s.threads);
        module.loadMethod("forward");
        loadMs = (System.nanoTime() - start) / 1e6;
        loaded = true;

        InputBuilder.EncodedInput in = new InputBuilder(bundled.tokenizer, seqLen).repeated(SAMPLE, seqLen);
        InputLimits.of(bundled.manifest).check(in); // e.g. a seq_len above the export's max_seq_len
        EValue[] args = ModelInputs.of(bundled.manifest.inputs, in);
        for (int i = 0; i < s.warmups; i++) {
          module.forward(args);
        }
        latencies = new double[s.iterations];
        for (int i = 0; i < s.iterations; i++) {
          long t = System.nanoTime();
          module.forward(args);
          latencies[i] = (System.nanoTime() - t) / 1e6;
        }
      }
    } catch (ExecutorchRuntimeException e) {
      // A failure after the program loaded is an inference error, not a load status.
      if (loaded) {
        extra.put("inference_error", "ExecuTorch error " + e.getErrorCode() + ": " + e.getMessage());
      } else {
        loadStatus = e.getErrorCode();
        extra.put("error", String.valueOf(e.getMessage()));
      }
      Log.e(TAG, "ExecuTorch error " + e.getErrorCode(), e);
    } catch (Exception | LinkageError e) { // LinkageError: the native library failed to load
      if (loaded) {
        extra.put("inference_error", String.valueOf(e.getMessage()));
      } else {
        loadStatus = -1; // minibench's code for a failure outside the runtime
        extra.put("error", String.valueOf(e.getMessage()));
      }
      Log.e(TAG, "benchmark failed", e);
    } finally {
      if (module != null) {
        module.destroy();
      }
      if (classifier != null) {
        classifier.close();
      }
    }

    BenchmarkReport report = new BenchmarkReport(BenchmarkReport.ModelId.fromFileName(modelName), extra, deviceInfo(this));
    if (loadMs >= 0) {
      report.add(BenchmarkReport.MODEL_LOAD_TIME, loadMs);
    }
    report.add(BenchmarkReport.LOAD_STATUS, loadStatus);
    if (latencies != null) {
      report.addLatencies(latencies);
      if (depths != null) {
        report.addDepths(depths);
      }
      report.add(BenchmarkReport.RAM_PSS, (Debug.getPss() - pssBeforeKb) / 1024.0);
      long peak = peakRssBytes();
      if (peak >= 0) {
        report.add(BenchmarkReport.PEAK_MEM, peak);
      }
      BenchmarkReport.LatencyStats st = BenchmarkReport.LatencyStats.of(latencies);
      Log.i(TAG, String.format(Locale.US, "%s: load %.1f ms, avg %.2f ms, p50 %.2f ms, p90 %.2f ms over %d runs",
          modelName, loadMs, st.mean, st.p50, st.p90, latencies.length));
    }
    File out = new File(getFilesDir(), RESULTS);
    try {
      ModelFiles.writeAtomically(out, report.toJson());
      Log.i(TAG, "wrote " + out);
    } catch (IOException e) {
      Log.e(TAG, "could not write " + out, e);
    }
  }

  /**
   * The stepwise program through the app's loop on {@link #SAMPLE} repeated to the length: the
   * model call's latency per run, and the depth each run used into {@code depths}.
   */
  private static double[] timeAdaptive(Classifier classifier, BundledModel bundled, Settings s, int seqLen,
      int[] depths) {
    InputBuilder.EncodedInput in = new InputBuilder(bundled.tokenizer, seqLen).repeated(SAMPLE, seqLen);
    for (int i = 0; i < s.warmups; i++) {
      classifier.classifyEncoded(in, 0);
    }
    double[] latencies = new double[s.iterations];
    for (int i = 0; i < s.iterations; i++) {
      Classifier.Result r = classifier.classifyEncoded(in, 0);
      latencies[i] = r.inferenceMs;
      depths[i] = r.depth;
    }
    return latencies;
  }

  /** minibench's fields, filled from a real MemoryInfo (minibench reads an unfilled one: zeros). */
  static BenchmarkReport.DeviceInfo deviceInfo(Context context) {
    ActivityManager.MemoryInfo mem = new ActivityManager.MemoryInfo();
    ((ActivityManager) context.getSystemService(Context.ACTIVITY_SERVICE)).getMemoryInfo(mem);
    return new BenchmarkReport.DeviceInfo(Build.MODEL, Build.BRAND, "Android " + Build.VERSION.RELEASE, mem.availMem, mem.totalMem);
  }

  /** Peak resident set size (VmHWM) of this process, or -1 when /proc is unreadable. */
  static long peakRssBytes() {
    try {
      return BenchmarkReport.peakRssBytes(ModelFiles.readUtf8(new FileInputStream("/proc/self/status")));
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
