package org.albertedge.demo;

import android.app.Activity;
import android.os.Bundle;
import android.util.Log;
import android.widget.Button;
import android.widget.EditText;
import android.widget.LinearLayout;
import android.widget.ScrollView;
import android.widget.TextView;
import java.io.File;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.albertedge.core.Manifest;

/**
 * Type a sentence, get a label. The views are built in code, which keeps the app free of
 * generated resources; all model work runs on one background thread so the UI never blocks.
 */
public class MainActivity extends Activity {
  private static final String TAG = "AlbertEdge";

  /** One thread: loading and every inference run in order, and Module is never used concurrently. */
  private final ExecutorService worker = Executors.newSingleThreadExecutor();
  private volatile Classifier classifier;

  private TextView header;
  private TextView status;
  private EditText input;
  private Button classify;
  private TextView result;

  @Override
  protected void onCreate(Bundle savedInstanceState) {
    super.onCreate(savedInstanceState);
    int pad = 32;
    LinearLayout column = new LinearLayout(this);
    column.setOrientation(LinearLayout.VERTICAL);
    column.setPadding(pad, pad, pad, pad);
    header = new TextView(this);
    header.setTextSize(16);
    status = new TextView(this);
    status.setText("Loading model\u2026");
    input = new EditText(this);
    input.setHint("Type a sentence, e.g. a one-line movie review");
    input.setMinLines(3);
    classify = new Button(this);
    classify.setText("Classify");
    classify.setEnabled(false);
    classify.setOnClickListener(v -> onClassify());
    result = new TextView(this);
    result.setTextSize(20);
    column.addView(header);
    column.addView(status);
    column.addView(input);
    column.addView(classify);
    column.addView(result);
    ScrollView scroll = new ScrollView(this);
    scroll.addView(column);
    setContentView(scroll);

    worker.execute(this::loadModel);
  }

  private void loadModel() {
    try {
      BundledModel model = BundledModel.read(this);
      runOnUiThread(() -> header.setText(describe(model.manifest)));
      File stepwise = model.copyStepwisePte(this);
      Classifier loaded = stepwise != null
          ? Classifier.loadStepwise(model, stepwise, 0) // adaptive depth with the manifest's exit policy
          : Classifier.load(model, model.copyPte(this), 0);
      classifier = loaded;
      runOnUiThread(() -> {
        status.setText(String.format(Locale.US, "Model loaded in %.0f ms", loaded.loadMs));
        classify.setEnabled(true);
      });
    } catch (Exception | LinkageError e) { // LinkageError: the native library failed to load
      Log.e(TAG, "model load failed", e);
      runOnUiThread(() -> status.setText("Could not load the model: " + e.getMessage()));
    }
  }

  private void onClassify() {
    String text = input.getText().toString();
    if (text.trim().isEmpty()) {
      result.setText("Type some text first.");
      return;
    }
    Classifier c = classifier;
    classify.setEnabled(false);
    worker.execute(() -> {
      String shown;
      try {
        Classifier.Result r = c.classify(text);
        shown = String.format(Locale.US, "%s \u2014 %.1f%%\nmodel %.1f ms \u00b7 tokenizer %.1f ms \u00b7 %d tokens%s%s",
            r.prediction.label, 100 * r.prediction.confidence, r.inferenceMs, r.tokenizeMs, r.tokens,
            c.stepwise ? String.format(Locale.US, " \u00b7 depth %d of %d", r.depth,
                c.model.manifest.stepwiseSchedule.size()) : "",
            r.truncated ? String.format(Locale.US, "\n(text cut to the model's %d-token limit)", c.model.manifest.maxSeqLen) : "");
      } catch (RuntimeException | LinkageError e) {
        Log.e(TAG, "classification failed", e);
        shown = "Classification failed: " + e.getMessage();
      }
      String message = shown;
      runOnUiThread(() -> {
        result.setText(message);
        classify.setEnabled(true);
      });
    });
  }

  static String describe(Manifest m) {
    long bytes = m.pteBytes();
    String size = bytes < 0 ? "size unknown" : String.format(Locale.US, "%.1f MB", bytes / 1e6);
    return String.format(Locale.US, "%s\n%s \u00b7 %s \u00b7 up to %d tokens \u00b7 labels %s",
        m.name, size, m.quantizationLabel(), m.maxSeqLen, m.labels);
  }

  @Override
  protected void onDestroy() {
    // Queued after any running inference, so the native module is never freed under it.
    worker.execute(() -> {
      Classifier c = classifier;
      if (c != null) {
        c.close();
      }
    });
    worker.shutdown();
    super.onDestroy();
  }
}
