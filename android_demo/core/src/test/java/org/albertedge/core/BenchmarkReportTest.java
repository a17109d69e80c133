package org.albertedge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.Test;

public class BenchmarkReportTest {
  private static final BenchmarkReport.DeviceInfo DEVICE =
      new BenchmarkReport.DeviceInfo("Pixel 8", "google", "Android 15", 4_000_000_000L, 8_000_000_000L);

  @Test
  public void parsesAlbertFileNames() {
    assertModel("albert_sst2_xnnpack_int8.pte", "albert_sst2", "xnnpack", "int8");
    assertModel("albert_base_v2_sst2_xnnpack_int8_dynamic.pte", "albert_base_v2_sst2", "xnnpack", "int8_dynamic");
    assertModel("albert_tiny_xnnpack_fp32", "albert_tiny", "xnnpack", "fp32");
    // Others fall back to minibench's own pattern, then to the bare stem.
    assertModel("mv3_qnn_q8.pte", "mv3", "qnn", "q8");
    assertModel("model.pte", "model", "", "");
  }

  private static void assertModel(String file, String name, String backend, String quant) {
    BenchmarkReport.ModelId m = BenchmarkReport.ModelId.fromFileName(file);
    assertEquals(file, name, m.name);
    assertEquals(file, backend, m.backend);
    assertEquals(file, quant, m.quantization);
  }

  @Test
  public void latencyStatsFollowMinibenchAndNumpy() {
    double[] ms = new double[20];
    for (int i = 0; i < ms.length; i++) {
      ms[i] = 20 - i; // 20, 19, ..., 1: the stats must not depend on order
    }
    ms[0] = 1000; // one outlier, which the trimmed mean drops
    BenchmarkReport.LatencyStats s = BenchmarkReport.LatencyStats.of(ms);
    // sorted: 1..19, 1000; minibench keeps [n/10, 9n/10) = indices 2..17 → values 3..18.
    assertEquals(10.5, s.trimmedMean, 1e-12);
    assertEquals((190 + 1000) / 20.0, s.mean, 1e-12);
    // numpy.percentile(sorted, [50, 90, 99]) = 10.5, 18.1, 813.61.
    assertEquals(10.5, s.p50, 1e-12);
    assertEquals(18.1, s.p90, 1e-9);
    assertEquals(813.61, s.p99, 1e-9);
    assertEquals(1, s.min, 0);
    assertEquals(1000, s.max, 0);
  }

  @Test
  public void fewSamplesStillGiveAMean() {
    BenchmarkReport.LatencyStats s = BenchmarkReport.LatencyStats.of(new double[] {4, 2});
    assertEquals(2, s.trimmedMean, 0); // minibench keeps [0, 1) of the sorted pair
    assertEquals(3, s.p50, 0);
    // One sample: minibench's range is empty (its average is NaN); the plain mean is reported.
    BenchmarkReport.LatencyStats one = BenchmarkReport.LatencyStats.of(new double[] {7});
    assertEquals(7, one.trimmedMean, 0);
    assertEquals(7, one.p99, 0);
  }

  @Test
  public void writesMinibenchSchema() {
    Map<String, String> extra = new LinkedHashMap<>();
    extra.put("seq_len", "128");
    BenchmarkReport r = new BenchmarkReport(BenchmarkReport.ModelId.fromFileName("albert_sst2_xnnpack_int8.pte"), extra, DEVICE);
    r.add(BenchmarkReport.MODEL_LOAD_TIME, 12.5).add(BenchmarkReport.LOAD_STATUS, 0).addLatencies(new double[] {3, 4, 5});
    List<?> records = (List<?>) Json.parse(r.toJson());
    assertEquals(2 + 7, records.size());
    @SuppressWarnings("unchecked")
    Map<String, Object> first = (Map<String, Object>) records.get(0);
    assertEquals(Arrays.asList("benchmarkModel", "metric", "actualValue", "targetValue", "deviceInfo"), Arrays.asList(first.keySet().toArray()));
    assertEquals("model_load_time(ms)", first.get("metric"));
    assertEquals(12.5, (Double) first.get("actualValue"), 0);
    assertEquals(0.0, (Double) first.get("targetValue"), 0);
    Map<?, ?> model = (Map<?, ?>) first.get("benchmarkModel");
    assertEquals("albert_sst2", model.get("name"));
    assertEquals("xnnpack", model.get("backend"));
    assertEquals("int8", model.get("quantization"));
    assertEquals("128", ((Map<?, ?>) model.get("extraInfo")).get("seq_len"));
    Map<?, ?> device = (Map<?, ?>) first.get("deviceInfo");
    assertEquals(Arrays.asList("arch", "device", "os", "availMem", "totalMem"), Arrays.asList(device.keySet().toArray()));
    assertEquals(8_000_000_000.0, (Double) device.get("totalMem"), 0);
    String names = r.toJson();
    for (String metric : new String[] {
        "avg_inference_latency(ms)", "trimmean_inference_latency(ms)", "p50_inference_latency(ms)",
        "p90_inference_latency(ms)", "p99_inference_latency(ms)"}) {
      assertTrue(metric, names.contains("\"" + metric + "\""));
    }
  }

  @Test
  public void adaptiveRunsReportTheirDepths() {
    BenchmarkReport r = new BenchmarkReport(
        BenchmarkReport.ModelId.fromFileName("albert_edge_xnnpack_int8_stepwise.pte"), new LinkedHashMap<>(), DEVICE);
    r.addDepths(new int[] {2, 2, 3, 1});
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> records = (List<Map<String, Object>>) Json.parse(r.toJson());
    Map<String, Double> values = new LinkedHashMap<>();
    for (Map<String, Object> record : records) {
      values.put((String) record.get("metric"), (Double) record.get("actualValue"));
    }
    assertEquals(2.0, values.get(BenchmarkReport.AVG_DEPTH), 0);
    assertEquals(1.0, values.get(BenchmarkReport.MIN_DEPTH), 0);
    assertEquals(3.0, values.get(BenchmarkReport.MAX_DEPTH), 0);
    try {
      r.addDepths(new int[0]);
      org.junit.Assert.fail("no depths");
    } catch (IllegalArgumentException expected) {
      assertTrue(expected.getMessage().contains("no depths"));
    }
  }

  @Test
  public void readsPeakRssFromProcStatus() {
    String status = "Name:\talbertedge\nVmPeak:\t 5000 kB\nVmHWM:\t  123456 kB\nVmRSS:\t 100000 kB\n";
    assertEquals(123456L * 1024, BenchmarkReport.peakRssBytes(status));
    assertEquals(-1L, BenchmarkReport.peakRssBytes("Name:\tx\n"));
  }
}
