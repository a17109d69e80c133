package org.albertedge.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code benchmark_results.json} in the schema of ExecuTorch's Android benchmark app
 * ({@code extension/benchmark/android/benchmark}, "minibench"): a list of
 * {@code {benchmarkModel, metric, actualValue, targetValue, deviceInfo}} records, so the
 * ExecuTorch dashboards' tooling reads our results unchanged. Metric names follow minibench's
 * ({@code "avg_inference_latency(ms)"}, {@code "model_load_time(ms)"}, ...).
 */
public final class BenchmarkReport {
  public static final String MODEL_LOAD_TIME = "model_load_time(ms)";
  public static final String LOAD_STATUS = "load_status";
  public static final String AVG_LATENCY = "avg_inference_latency(ms)";
  public static final String TRIMMEAN_LATENCY = "trimmean_inference_latency(ms)";
  public static final String P50_LATENCY = "p50_inference_latency(ms)";
  public static final String P90_LATENCY = "p90_inference_latency(ms)";
  public static final String P99_LATENCY = "p99_inference_latency(ms)";
  public static final String MIN_LATENCY = "min_inference_latency(ms)";
  public static final String MAX_LATENCY = "max_inference_latency(ms)";
  public static final String RAM_PSS = "ram_pss_usage(mb)";
  public static final String PEAK_MEM = "peak_mem(bytes)";
  /** Adaptive depth: the mean number of layer applications per run (albert_edge's own metric). */
  public static final String AVG_DEPTH = "avg_depth";
  public static final String MIN_DEPTH = "min_depth";
  public static final String MAX_DEPTH = "max_depth";

  /** minibench's {@code BenchmarkModel}, plus free-form run settings in {@code extraInfo}. */
  public static final class ModelId {
    public final String name;
    public final String backend;
    public final String quantization;

    public ModelId(String name, String backend, String quantization) {
      this.name = name;
      this.backend = backend;
      this.quantization = quantization;
    }

    private static final Pattern ALBERT = Pattern.compile("(albert_.+?)_(xnnpack)_(.+)");
    private static final Pattern MINIBENCH = Pattern.compile("(\\w+)_([\\w+]+)_(\\w+)");

    /**
     * Parses {@code albert_<name>_xnnpack_<quant>.pte} into ("albert_<name>", "xnnpack",
     * "<quant>"). The name keeps its "albert_" prefix, which is what minibench's own regex yields
     * for the same file, so dashboards group runs of both apps together. The backend is anchored
     * on "xnnpack" because minibench's greedy pattern would split a quantization such as
     * "int8_dynamic" wrongly. Other names fall back to minibench's pattern, then to (stem, "", "").
     */
    public static ModelId fromFileName(String fileName) {
      String stem = fileName.endsWith(".pte") ? fileName.substring(0, fileName.length() - 4) : fileName;
      Matcher m = ALBERT.matcher(stem);
      if (m.matches()) {
        return new ModelId(m.group(1), m.group(2), m.group(3));
      }
      m = MINIBENCH.matcher(stem);
      if (m.matches()) {
        return new ModelId(m.group(1), m.group(2), m.group(3));
      }
      return new ModelId(stem, "", "");
    }
  }

  /** minibench's {@code DeviceInfo}: brand as "device", model as "arch", as minibench fills them. */
  public static final class DeviceInfo {
    public final String arch;
    public final String device;
    public final String os;
    public final long availMem;
    public final long totalMem;

    public DeviceInfo(String arch, String device, String os, long availMem, long totalMem) {
      this.arch = arch;
      this.device = device;
      this.os = os;
      this.availMem = availMem;
      this.totalMem = totalMem;
    }
  }

  private final ModelId model;
  private final Map<String, String> extraInfo;
  private final DeviceInfo device;
  private final List<Map<String, Object>> records = new ArrayList<>();

  public BenchmarkReport(ModelId model, Map<String, String> extraInfo, DeviceInfo device) {
    this.model = model;
    this.extraInfo = new LinkedHashMap<>(extraInfo);
    this.device = device;
  }

  public BenchmarkReport add(String metric, double actualValue) {
    Map<String, Object> bm = new LinkedHashMap<>();
    bm.put("name", model.name);
    bm.put("backend", model.backend);
    bm.put("quantization", model.quantization);
    bm.put("extraInfo", extraInfo);
    Map<String, Object> di = new LinkedHashMap<>();
    di.put("arch", device.arch);
    di.put("device", device.device);
    di.put("os", device.os);
    di.put("availMem", device.availMem);
    di.put("totalMem", device.totalMem);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("benchmarkModel", bm);
    r.put("metric", metric);
    r.put("actualValue", actualValue);
    r.put("targetValue", 0.0);
    r.put("deviceInfo", di);
    records.add(r);
    return this;
  }

  /** Adds avg, trimmed mean, p50/p90/p99, min and max of the measured latencies. */
  /** The depth each adaptive run used: their mean, minimum and maximum. */
  public BenchmarkReport addDepths(int[] depths) {
    if (depths.length == 0) {
      throw new IllegalArgumentException("no depths to report");
    }
    long sum = 0;
    int min = Integer.MAX_VALUE;
    int max = Integer.MIN_VALUE;
    for (int d : depths) {
      sum += d;
      min = Math.min(min, d);
      max = Math.max(max, d);
    }
    add(AVG_DEPTH, (double) sum / depths.length);
    add(MIN_DEPTH, min);
    return add(MAX_DEPTH, max);
  }

  public BenchmarkReport addLatencies(double[] latenciesMs) {
    LatencyStats s = LatencyStats.of(latenciesMs);
    return add(AVG_LATENCY, s.mean)
        .add(TRIMMEAN_LATENCY, s.trimmedMean)
        .add(P50_LATENCY, s.p50)
        .add(P90_LATENCY, s.p90)
        .add(P99_LATENCY, s.p99)
        .add(MIN_LATENCY, s.min)
        .add(MAX_LATENCY, s.max);
  }

  public List<Map<String, Object>> records() {
    return records;
  }

  public String toJson() {
    return Json.writePretty(records, 2);
  }

  /** Summary statistics of per-iteration latencies. */
  public static final class LatencyStats {
    public final double mean;
    public final double trimmedMean;
    public final double p50;
    public final double p90;
    public final double p99;
    public final double min;
    public final double max;

    private LatencyStats(double mean, double trimmedMean, double p50, double p90, double p99, double min, double max) {
      this.mean = mean;
      this.trimmedMean = trimmedMean;
      this.p50 = p50;
      this.p90 = p90;
      this.p99 = p99;
      this.min = min;
      this.max = max;
    }

    /**
     * The trimmed mean is minibench's: sort, keep {@code [n/10, 9n/10)} (the middle 80%); for a
     * single sample that range is empty (minibench reports NaN) and the plain mean is used. Percentiles interpolate
     * linearly between order statistics, numpy's default, so they match the Python harness.
     */
    public static LatencyStats of(double[] latencies) {
      if (latencies.length == 0) {
        throw new IllegalArgumentException("no latencies measured; iterations must be >= 1");
      }
      double[] s = latencies.clone();
      Arrays.sort(s);
      int lo = s.length / 10;
      int hi = s.length * 9 / 10;
      double trimmed = hi > lo ? mean(s, lo, hi) : mean(s, 0, s.length);
      return new LatencyStats(
          mean(s, 0, s.length),
          trimmed,
          percentile(s, 50),
          percentile(s, 90),
          percentile(s, 99),
          s[0],
          s[s.length - 1]);
    }

    private static double mean(double[] s, int from, int to) {
      double sum = 0;
      for (int i = from; i < to; i++) {
        sum += s[i];
      }
      return sum / (to - from);
    }

    /** numpy.percentile(method="linear") on sorted data. */
    static double percentile(double[] sorted, double q) {
      double pos = (sorted.length - 1) * q / 100.0;
      int i = (int) Math.floor(pos);
      int j = Math.min(i + 1, sorted.length - 1);
      return sorted[i] + (sorted[j] - sorted[i]) * (pos - i);
    }
  }

  /**
   * Peak resident set size in bytes from {@code /proc/self/status} text (its {@code VmHWM} line,
   * in kB), or -1 when the line is absent. Linux-only, which Android is.
   */
  public static long peakRssBytes(String procSelfStatus) {
    for (String line : procSelfStatus.split("\n")) {
      if (line.startsWith("VmHWM:")) {
        String[] parts = line.substring(6).trim().split("\\s+");
        return Long.parseLong(parts[0]) * 1024L;
      }
    }
    return -1;
  }
}
