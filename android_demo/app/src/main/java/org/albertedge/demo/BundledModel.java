package org.albertedge.demo;

import android.content.Context;
import java.io.File;
import java.io.IOException;
import org.albertedge.core.Manifest;
import org.albertedge.core.ModelFiles;
import org.albertedge.core.SentencePieceUnigram;

/**
 * What {@code python -m albert_edge.bundle} put in {@code assets/}: manifest.json, the tokenizer
 * vocabulary and the .pte. Reading it is cheap except the first {@link #copyPte}, so call both off
 * the UI thread.
 */
final class BundledModel {
  static final String MANIFEST = "manifest.json";

  final Manifest manifest;
  final SentencePieceUnigram tokenizer;

  private BundledModel(Manifest manifest, SentencePieceUnigram tokenizer) {
    this.manifest = manifest;
    this.tokenizer = tokenizer;
  }

  static BundledModel read(Context context) throws IOException {
    Manifest manifest = Manifest.parse(ModelFiles.readUtf8(context.getAssets().open(MANIFEST)));
    if (!"sequence-classification".equals(manifest.task)) {
      throw new IOException("the bundled model's task is " + manifest.task
          + "; this app runs sequence-classification models. Bundle another export.");
    }
    for (Manifest.InputSpec in : manifest.inputs) {
      if (!"int64".equals(in.dtype) || !ModelInputs.supports(in.name)) {
        throw new IOException("the model takes input " + in.name + " (" + in.dtype
            + "), which this app cannot build; it passes int64 input_ids, attention_mask, token_type_ids");
      }
    }
    SentencePieceUnigram tokenizer = SentencePieceUnigram.load(context.getAssets().open(manifest.vocabFile));
    return new BundledModel(manifest, tokenizer);
  }

  /**
   * The .pte as a file in the app's private storage, copied from the APK on first use or when
   * the bundle changed. ExecuTorch maps a path; an asset inside the APK has none.
   */
  File copyPte(Context context) throws IOException {
    return copy(context, manifest.pteFile);
  }

  /**
   * The stepwise program (embed, layer, head; the app runs the loop and may exit early), when
   * the bundle has one with a calibrated exit policy; null otherwise.
   */
  File copyStepwisePte(Context context) throws IOException {
    if (manifest.stepwisePteFile == null || manifest.exitPolicy == null) {
      return null;
    }
    return copy(context, manifest.stepwisePteFile);
  }

  private File copy(Context context, String name) throws IOException {
    Manifest.FileInfo info = manifest.files.get(name);
    if (info == null) {
      throw new IOException("manifest.json lists no size and sha256 for " + name
          + "; re-run python -m albert_edge.bundle with a fresh export");
    }
    File file = new File(context.getFilesDir(), name);
    ModelFiles.copyIfChanged(context.getAssets().open(name), file, info.bytes, info.sha256);
    return file;
  }
}
