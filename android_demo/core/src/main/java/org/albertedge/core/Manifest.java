package org.albertedge.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The export manifest ({@code manifest.json}, written by {@code python -m albert_edge.export}):
 * what the app needs to know about the model without opening the .pte. Unknown keys are ignored so
 * that the exporter can grow the file without breaking installed apps.
 */
public final class Manifest {
  /** Size and checksum of one exported file. */
  public static final class FileInfo {
    public final long bytes;
    public final String sha256;

    FileInfo(long bytes, String sha256) {
      this.bytes = bytes;
      this.sha256 = sha256;
    }
  }

  /** One model input, in the order {@code forward} takes it. */
  public static final class InputSpec {
    public final String name;
    public final String dtype;
    /** Optional {@code shape}, e.g. [1, 128] or [1, "seq_len"]; null when the manifest omits it. */
    public final List<Object> shape;

    InputSpec(String name, String dtype, List<Object> shape) {
      this.name = name;
      this.dtype = dtype;
      this.shape = shape;
    }

    /** True when the last dimension is named (dynamic) rather than a number. */
    boolean dynamicLastDim() {
      return shape != null && !shape.isEmpty() && !(shape.get(shape.size() - 1) instanceof Double);
    }
  }

  public final String name;
  public final String task;
  public final int maxSeqLen;
  /** Token ids must lie in [0, vocabSize): the int8 embedding kernel aborts the process otherwise. */
  public final int vocabSize;
  /** Token types must lie in [0, typeVocabSize). */
  public final int typeVocabSize;
  /** Labels by class index; {@code labels[i]} names logit i. */
  public final List<String> labels;
  /** {@code quantization.scheme}, or null when the model is not quantized (null or absent). */
  public final String quantizationScheme;
  public final Map<String, FileInfo> files;
  /** File name of the ExecuTorch program ({@code artifacts.pte}). */
  public final String pteFile;
  /** File name of the ONNX model, or null when it was not exported. */
  public final String onnxFile;
  public final String vocabFile;
  public final List<InputSpec> inputs;
  /** The stepwise program ({@code artifacts.pte_stepwise}), or null when the export has none. */
  public final String stepwisePteFile;
  /** The layer method of each application, in order ({@code stepwise.schedule}); empty without one. */
  public final List<String> stepwiseSchedule;
  /**
   * The method answering after each application ({@code stepwise.heads}: {@code exit_<k>} where the
   * model has its own exit head, else {@code head}); as long as the schedule.
   */
  public final List<String> stepwiseHeads;
  /** The calibrated early-exit policy ({@code stepwise.exit_policy}), or null. */
  public final ExitPolicy exitPolicy;

  private Manifest(
      String name,
      String task,
      int maxSeqLen,
      int vocabSize,
      int typeVocabSize,
      List<String> labels,
      String quantizationScheme,
      Map<String, FileInfo> files,
      String pteFile,
      String onnxFile,
      String vocabFile,
      List<InputSpec> inputs,
      String stepwisePteFile,
      List<String> stepwiseSchedule,
      List<String> stepwiseHeads,
      ExitPolicy exitPolicy) {
    this.name = name;
    this.task = task;
    this.maxSeqLen = maxSeqLen;
    this.vocabSize = vocabSize;
    this.typeVocabSize = typeVocabSize;
    this.labels = labels;
    this.quantizationScheme = quantizationScheme;
    this.files = files;
    this.pteFile = pteFile;
    this.onnxFile = onnxFile;
    this.vocabFile = vocabFile;
    this.inputs = inputs;
    this.stepwisePteFile = stepwisePteFile;
    this.stepwiseSchedule = stepwiseSchedule;
    this.stepwiseHeads = stepwiseHeads;
    this.exitPolicy = exitPolicy;
  }

  /** Parses manifest JSON; throws IllegalArgumentException naming the offending field. */
  public static Manifest parse(String json) {
    Map<String, Object> root = Json.parseObject(json);
    String where = "manifest";
    String name = Json.string(root, "name", where);
    String task = Json.string(root, "task", where);
    long maxSeqLen = Json.integer(root, "max_seq_len", where);
    if (maxSeqLen < 2 || maxSeqLen > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "manifest.max_seq_len must leave room for [CLS] and [SEP], got " + maxSeqLen);
    }

    Map<String, Object> config = Json.object(root, "config", where);
    long vocabSize = Json.integer(config, "vocab_size", where + ".config");
    long typeVocabSize =
        config.get("type_vocab_size") == null ? 2 : Json.integer(config, "type_vocab_size", where + ".config");
    if (vocabSize < 1 || vocabSize > Integer.MAX_VALUE || typeVocabSize < 1 || typeVocabSize > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "manifest.config.vocab_size and type_vocab_size must be positive, got " + vocabSize + " and "
              + typeVocabSize);
    }

    List<String> labels = parseLabels(Json.object(root, "labels", where));

    String scheme = null;
    Object quant = root.get("quantization");
    if (quant != null) {
      if (!(quant instanceof Map)) {
        throw new IllegalArgumentException(
            "manifest.quantization must be an object or null, got " + Json.typeName(quant));
      }
      scheme = Json.string(Json.object(root, "quantization", where), "scheme", where + ".quantization");
    }

    Map<String, FileInfo> files = new LinkedHashMap<>();
    Map<String, Object> filesJson = Json.object(root, "files", where);
    for (String file : filesJson.keySet()) {
      Map<String, Object> entry = Json.object(filesJson, file, where + ".files");
      String at = where + ".files[" + file + "]";
      files.put(file, new FileInfo(Json.integer(entry, "bytes", at), Json.string(entry, "sha256", at)));
    }

    Map<String, Object> artifacts = Json.object(root, "artifacts", where);
    String pte = Json.string(artifacts, "pte", where + ".artifacts");
    String onnx = artifacts.get("onnx") == null ? null : Json.string(artifacts, "onnx", where + ".artifacts");
    String vocab = Json.string(Json.object(root, "tokenizer", where), "vocab", where + ".tokenizer");

    List<InputSpec> inputs = new ArrayList<>();
    int i = 0;
    for (Object o : Json.array(root, "inputs", where)) {
      if (!(o instanceof Map)) {
        throw new IllegalArgumentException("manifest.inputs[" + i + "] must be an object");
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> in = (Map<String, Object>) o;
      String at = where + ".inputs[" + i + "]";
      // dtype is optional: every exported ALBERT input is int64, and older manifests omit it.
      String dtype = in.get("dtype") == null ? "int64" : Json.string(in, "dtype", at);
      List<Object> shape = in.get("shape") == null ? null : Collections.unmodifiableList(Json.array(in, "shape", at));
      inputs.add(new InputSpec(Json.string(in, "name", at), dtype, shape));
      i++;
    }
    if (inputs.isEmpty()) {
      throw new IllegalArgumentException("manifest.inputs is empty; re-run python -m albert_edge.export");
    }

    String stepwisePte = artifacts.get("pte_stepwise") == null
        ? null : Json.string(artifacts, "pte_stepwise", where + ".artifacts");
    List<String> schedule = new ArrayList<>();
    List<String> heads = new ArrayList<>();
    ExitPolicy exitPolicy = null;
    if (stepwisePte != null) {
      Map<String, Object> stepwise = Json.object(root, "stepwise", where);
      schedule = methodNames(stepwise, "schedule", where + ".stepwise");
      if (stepwise.get("heads") == null) { // exports from before per-depth exit heads: "head" everywhere
        heads = new ArrayList<>(Collections.nCopies(schedule.size(), "head"));
      } else {
        heads = methodNames(stepwise, "heads", where + ".stepwise");
        if (heads.size() != schedule.size()) {
          throw new IllegalArgumentException(where + ".stepwise.heads has " + heads.size() + " entries for "
              + schedule.size() + " layer applications; re-run the export");
        }
      }
      if (stepwise.get("exit_policy") != null) {
        exitPolicy = ExitPolicy.fromJson(Json.object(stepwise, "exit_policy", where + ".stepwise"),
            where + ".stepwise.exit_policy");
      }
    }

    return new Manifest(
        name,
        task,
        (int) maxSeqLen,
        (int) vocabSize,
        (int) typeVocabSize,
        Collections.unmodifiableList(labels),
        scheme,
        Collections.unmodifiableMap(files),
        pte,
        onnx,
        vocab,
        Collections.unmodifiableList(inputs),
        stepwisePte,
        Collections.unmodifiableList(schedule),
        Collections.unmodifiableList(heads),
        exitPolicy);
  }

  private static List<String> methodNames(Map<String, Object> json, String key, String where) {
    List<String> names = new ArrayList<>();
    int k = 0;
    for (Object method : Json.array(json, key, where)) {
      if (!(method instanceof String)) {
        throw new IllegalArgumentException(where + "." + key + "[" + k + "] must be a method name");
      }
      names.add((String) method);
      k++;
    }
    return names;
  }

  /** {"0": "negative", "1": "positive"} → [negative, positive]; indices must be 0..n-1. */
  private static List<String> parseLabels(Map<String, Object> json) {
    String[] byIndex = new String[json.size()];
    for (Map.Entry<String, Object> e : json.entrySet()) {
      int index;
      try {
        index = Integer.parseInt(e.getKey());
      } catch (NumberFormatException ex) {
        throw new IllegalArgumentException("manifest.labels key '" + e.getKey() + "' is not a class index");
      }
      if (index < 0 || index >= byIndex.length) {
        throw new IllegalArgumentException(
            "manifest.labels must use indices 0.." + (byIndex.length - 1) + ", got " + index);
      }
      if (!(e.getValue() instanceof String)) {
        throw new IllegalArgumentException("manifest.labels[" + index + "] must be a string");
      }
      if (byIndex[index] != null) {
        throw new IllegalArgumentException("manifest.labels has class index " + index + " twice");
      }
      byIndex[index] = (String) e.getValue();
    }
    List<String> labels = new ArrayList<>();
    Collections.addAll(labels, byIndex);
    if (labels.isEmpty()) {
      throw new IllegalArgumentException("manifest.labels is empty");
    }
    return labels;
  }

  /** Size in bytes of the .pte from {@code files}, or -1 when the manifest does not list it. */
  public long pteBytes() {
    FileInfo info = files.get(pteFile);
    return info == null ? -1 : info.bytes;
  }

  /** "int8 (…)" style text for the UI; "fp32" when the model is not quantized. */
  public String quantizationLabel() {
    return quantizationScheme == null ? "fp32 (not quantized)" : quantizationScheme;
  }

  /**
   * True when every input declares a shape whose sequence dimension is named, i.e. the program was
   * exported with a dynamic length and short texts may run unpadded. Without shapes the app pads
   * to {@link #maxSeqLen}, which a static-shape program requires and a dynamic one accepts.
   */
  public boolean dynamicSeqLen() {
    for (InputSpec in : inputs) {
      if (!in.dynamicLastDim()) {
        return false;
      }
    }
    return true;
  }

  /** True when the model takes an input of this name (e.g. "token_type_ids"). */
  public boolean hasInput(String inputName) {
    for (InputSpec in : inputs) {
      if (in.name.equals(inputName)) {
        return true;
      }
    }
    return false;
  }
}
