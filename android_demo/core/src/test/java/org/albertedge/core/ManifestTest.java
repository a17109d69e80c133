package org.albertedge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.Arrays;
import org.junit.Test;

public class ManifestTest {
  /** The fields the app reads, plus keys it must ignore. */
  static final String FULL =
      "{\"name\": \"albert-sst2\", \"task\": \"sequence-classification\", \"max_seq_len\": 128,"
          + " \"config\": {\"vocab_size\": 30000, \"type_vocab_size\": 2, \"hidden_size\": 768},"
          + " \"labels\": {\"1\": \"positive\", \"0\": \"negative\"},"
          + " \"quantization\": {\"scheme\": \"int8 dynamic-activation, per-channel weights\", \"snr_db\": 31.5},"
          + " \"files\": {\"albert_sst2_xnnpack_int8.pte\": {\"bytes\": 12345678, \"sha256\": \"ab12\"},"
          + "            \"vocab.json\": {\"bytes\": 577920, \"sha256\": \"cd34\"}},"
          + " \"artifacts\": {\"pte\": \"albert_sst2_xnnpack_int8.pte\", \"onnx\": \"albert_sst2_int8.onnx\"},"
          + " \"tokenizer\": {\"vocab\": \"vocab.json\", \"spiece_model\": \"spiece.model\"},"
          + " \"inputs\": [{\"name\": \"input_ids\", \"dtype\": \"int64\", \"shape\": [1, 128]},"
          + "            {\"name\": \"attention_mask\", \"dtype\": \"int64\"}],"
          + " \"metrics\": {\"accuracy\": null}, \"created_by\": {\"torch\": \"2.13\"}}";

  @Test
  public void parsesEveryFieldAndIgnoresUnknownKeys() {
    Manifest m = Manifest.parse(FULL);
    assertEquals("albert-sst2", m.name);
    assertEquals("sequence-classification", m.task);
    assertEquals(128, m.maxSeqLen);
    assertEquals(30000, m.vocabSize);
    assertEquals(2, m.typeVocabSize);
    assertEquals(Arrays.asList("negative", "positive"), m.labels); // ordered by index, not by key order
    assertEquals("int8 dynamic-activation, per-channel weights", m.quantizationScheme);
    assertEquals("albert_sst2_xnnpack_int8.pte", m.pteFile);
    assertEquals("albert_sst2_int8.onnx", m.onnxFile);
    assertEquals("vocab.json", m.vocabFile);
    assertEquals(12345678L, m.pteBytes());
    assertEquals("ab12", m.files.get("albert_sst2_xnnpack_int8.pte").sha256);
    assertEquals(2, m.inputs.size());
    assertEquals("attention_mask", m.inputs.get(1).name);
    assertTrue(m.hasInput("input_ids"));
    assertFalse(m.hasInput("token_type_ids"));
  }

  @Test
  public void readsTheStepwiseProgramAndTheHeadOfEachDepth() {
    String stepwise = FULL.replace("\"onnx\": \"albert_sst2_int8.onnx\"}",
        "\"onnx\": \"albert_sst2_int8.onnx\", \"pte_stepwise\": \"s.pte\"}, \"stepwise\": {\"schedule\":"
            + " [\"layer_0\", \"layer_0\", \"layer_0\"], HEADS \"exit_policy\": {\"kind\": \"entropy\","
            + " \"value\": 0.35, \"min_depth\": 1}}");
    Manifest m = Manifest.parse(stepwise.replace("HEADS", "\"heads\": [\"exit_1\", \"exit_2\", \"head\"],"));
    assertEquals("s.pte", m.stepwisePteFile);
    assertEquals(Arrays.asList("layer_0", "layer_0", "layer_0"), m.stepwiseSchedule);
    assertEquals(Arrays.asList("exit_1", "exit_2", "head"), m.stepwiseHeads);
    assertEquals(0.35, m.exitPolicy.value, 0);
    // An export from before per-depth heads answers with `head` at every depth.
    assertEquals(Arrays.asList("head", "head", "head"), Manifest.parse(stepwise.replace("HEADS", "")).stepwiseHeads);
    try {
      Manifest.parse(stepwise.replace("HEADS", "\"heads\": [\"exit_1\", \"head\"],"));
      fail("two heads for three depths");
    } catch (IllegalArgumentException e) {
      assertTrue(e.getMessage(), e.getMessage().contains("stepwise.heads has 2 entries for 3 layer applications"));
    }
  }

  @Test
  public void nullOrMissingQuantizationMeansFloat() {
    Manifest m = Manifest.parse(FULL.replaceFirst("\"quantization\": \\{[^}]*\\}", "\"quantization\": null"));
    assertNull(m.quantizationScheme);
    assertEquals("fp32 (not quantized)", m.quantizationLabel());
    Manifest absent = Manifest.parse(FULL.replaceFirst("\"quantization\": \\{[^}]*\\},", ""));
    assertNull(absent.quantizationScheme);
  }

  @Test
  public void optionalFieldsMayBeNullOrAbsent() {
    Manifest m = Manifest.parse(
        FULL.replace("\"onnx\": \"albert_sst2_int8.onnx\"", "\"onnx\": null")
            .replace(", \"dtype\": \"int64\"}]", "}]"));
    assertNull(m.onnxFile);
    assertEquals("int64", m.inputs.get(1).dtype);
    // A .pte that files{} does not list has unknown size.
    Manifest unlisted = Manifest.parse(FULL.replace("\"albert_sst2_xnnpack_int8.pte\": {", "\"other.pte\": {"));
    assertEquals(-1L, unlisted.pteBytes());
  }

  @Test
  public void sequenceLengthIsDynamicOnlyWhenEveryInputSaysSo() {
    // FULL gives input_ids a static [1, 128] and attention_mask no shape: pad.
    assertFalse(Manifest.parse(FULL).dynamicSeqLen());
    String dynamic = FULL.replace("\"shape\": [1, 128]", "\"shape\": [1, \"seq_len\"]")
        .replace("{\"name\": \"attention_mask\", \"dtype\": \"int64\"}",
            "{\"name\": \"attention_mask\", \"dtype\": \"int64\", \"shape\": [1, null]}");
    assertTrue(Manifest.parse(dynamic).dynamicSeqLen());
    assertEquals(Arrays.asList(1.0, "seq_len"), Manifest.parse(dynamic).inputs.get(0).shape);
  }

  @Test
  public void errorsNameTheField() {
    expectError(FULL.replace("\"max_seq_len\": 128,", ""), "manifest.max_seq_len");
    expectError(FULL.replace("\"max_seq_len\": 128", "\"max_seq_len\": 1"), "max_seq_len");
    expectError(FULL.replace("\"max_seq_len\": 128", "\"max_seq_len\": 12.5"), "integer");
    expectError(FULL.replace("\"name\": \"albert-sst2\"", "\"name\": 3"), "manifest.name must be a string");
    expectError(FULL.replace("\"1\": \"positive\"", "\"2\": \"positive\""), "indices 0..1");
    expectError(FULL.replace("\"1\": \"positive\"", "\"one\": \"positive\""), "not a class index");
    expectError(FULL.replace("\"1\": \"positive\"", "\"00\": \"positive\""), "twice");
    expectError(FULL.replace("\"labels\": {\"1\": \"positive\", \"0\": \"negative\"}", "\"labels\": {}"), "labels is empty");
    expectError(FULL.replace("{\"bytes\": 12345678,", "{\"bytes\": \"big\","), "bytes");
    expectError(FULL.replace("\"pte\": \"albert_sst2_xnnpack_int8.pte\", ", ""), "manifest.artifacts.pte");
    expectError(FULL.replace("\"vocab\": \"vocab.json\", ", ""), "manifest.tokenizer.vocab");
    expectError(FULL.replace("{\"name\": \"attention_mask\", \"dtype\": \"int64\"}", "7"), "inputs[1]");
    expectError(FULL.replace("\"vocab_size\": 30000, ", ""), "manifest.config.vocab_size");
    expectError(FULL.replace("\"vocab_size\": 30000", "\"vocab_size\": 0"), "must be positive");
    expectError("[]", "object");
    expectError("{\"name\": ", "invalid JSON");
  }

  private static void expectError(String json, String fragment) {
    try {
      Manifest.parse(json);
      fail("expected an error mentioning " + fragment);
    } catch (IllegalArgumentException e) {
      assertTrue("'" + e.getMessage() + "' should mention " + fragment, e.getMessage().contains(fragment));
    }
  }
}
