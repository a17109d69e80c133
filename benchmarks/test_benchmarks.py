"""Checks on the benchmark report: complete (every requested backend, every metric, every file) and sane (ordered
percentiles, positive memory, int8 smaller than fp32). No timing thresholds: speed belongs to the machine."""

from __future__ import annotations

import json

import pytest

from albert_edge.bench.peers import missing_packages
from albert_edge.bench.targets import Artifact

LATENCIES = ["min", "p50", "p90", "p99", "max"]
REQUIRED = ["load_status", "model_load_time(ms)", "first_inference_latency(ms)", "avg_inference_latency(ms)",
            "trimmean_inference_latency(ms)", "p50_inference_latency(ms)", "p90_inference_latency(ms)",
            "p99_inference_latency(ms)", "min_inference_latency(ms)", "max_inference_latency(ms)",
            "stdev_inference_latency(ms)", "throughput(inferences/s)", "rss_baseline(mb)", "rss_after_load(mb)",
            "peak_load_mem_usage(mb)", "peak_inference_mem_usage(mb)", "peak_mem_over_baseline(mb)",
            "artifact_size(mb)"]


def expected_targets(run) -> set[str]:
    """Every target the run was asked for: our artifacts (and their native-runner rows), the eager reference, installed
    peers, the ceilings."""
    labels, quants = set(), set()
    # The native runner's rows, unless the run said why it could not build the runner (no C++ compiler, ...).
    native = not any(n.startswith("native runner rows skipped") for n in run.result.notes)
    for directory in run.exports:
        artifact = Artifact.read(directory)
        quants.add(artifact.quantization)
        labels |= {f"{b}-{artifact.quantization}" for b in ("pte", "onnx") if artifact.file(b)}
        labels |= {f"pte-{artifact.quantization}-native"} if native and artifact.file("pte") else set()
    labels.add("eager-fp32")
    labels |= {p for p in run.config.peers if not missing_packages(p)}
    labels |= {f"ceiling-{q}" for q in quants}
    return labels


def host_rows(run):
    return [r for r in run.rows if r.host]


def test_every_requested_backend_ran_at_every_point(bench_run):
    measured = {(r.target, r.threads, r.seq_len) for r in host_rows(bench_run) if r.ok}
    threads = sorted({r.threads for r in host_rows(bench_run)})
    assert threads and set(threads) <= set(bench_run.config.threads)
    seqs = [s for s in bench_run.config.seq_lens if s <= min(Artifact.read(e).max_seq_len for e in bench_run.exports)]
    missing = [(t, n, s) for t in sorted(expected_targets(bench_run)) for n in threads for s in seqs
               if (t, n, s) not in measured]
    assert not missing, f"not measured: {missing[:10]}; notes: {bench_run.result.notes}"


def test_all_metrics_present(bench_run):
    for r in host_rows(bench_run):
        lacking = [m for m in REQUIRED if r.get(m) is None]
        if r.role == "ceiling":
            lacking += [] if r.get("gemm_throughput(gflops)") else ["gemm_throughput(gflops)"]
        else:
            lacking += [] if r.get("gemm_ceiling_fraction") else ["gemm_ceiling_fraction"]
        if r.backend == "xnnpack":
            lacking += [] if r.get("planned_activation_memory(mb)") is not None else ["planned_activation_memory(mb)"]
        assert not lacking, f"{r.target} t{r.threads} seq {r.seq_len} lacks {lacking}"


def test_no_target_failed_or_produced_non_finite_outputs(bench_run):
    bad = [(r.target, r.threads, r.seq_len, r.metrics.get("load_status")) for r in host_rows(bench_run)
           if r.metrics.get("load_status") != 0.0]
    assert not bad, f"{bad}; notes: {bench_run.result.notes}"


def test_latency_statistics_are_ordered(bench_run):
    for r in host_rows(bench_run):
        values = [r.get(f"{m}_inference_latency(ms)") for m in LATENCIES]
        assert values == sorted(values) and values[0] > 0, (r.target, values)
        assert values[0] <= r.get("trimmean_inference_latency(ms)") <= values[-1]
        assert values[0] <= r.get("avg_inference_latency(ms)") <= values[-1]
        assert r.get("stdev_inference_latency(ms)") >= 0
        assert r.get("throughput(inferences/s)") == pytest.approx(1000 / r.get("avg_inference_latency(ms)"))
        assert r.get("first_inference_latency(ms)") > 0 and r.get("model_load_time(ms)") > 0


def test_memory_is_positive_and_peaks_are_peaks(bench_run):
    for r in host_rows(bench_run):
        baseline, peak = r.get("rss_baseline(mb)"), r.get("peak_inference_mem_usage(mb)")
        assert baseline > 0 and r.get("rss_after_load(mb)") > 0, r.target
        assert peak >= r.get("peak_load_mem_usage(mb)") > 0, r.target
        assert peak >= baseline, r.target
        assert r.get("peak_mem_over_baseline(mb)") == pytest.approx(peak - baseline)


def test_int8_artifacts_are_smaller_than_fp32(bench_run):
    sizes = {r.target: r.get("artifact_size(mb)") for r in host_rows(bench_run) if r.role == "ours"}
    pairs = [b for b in ("pte", "onnx") if f"{b}-int8" in sizes and f"{b}-fp32" in sizes]
    if not pairs:
        pytest.skip("no fp32/int8 pair among the benchmarked exports")
    for b in pairs:
        assert sizes[f"{b}-int8"] < sizes[f"{b}-fp32"], (b, sizes)


def test_results_json_follows_the_minibench_schema(bench_run):
    records = json.loads(bench_run.result.files["results"].read_text())
    assert records and records == bench_run.result.records
    for r in records:
        assert set(r) == {"benchmarkModel", "metric", "actualValue", "targetValue", "deviceInfo"}
        assert {"name", "backend", "quantization", "extraInfo"} <= set(r["benchmarkModel"])
        assert {"arch", "device", "os", "availMem", "totalMem"} <= set(r["deviceInfo"])
        assert isinstance(r["actualValue"], float)
        assert all(isinstance(v, str) for v in r["benchmarkModel"]["extraInfo"].values())


def test_raw_results_record_the_machine(bench_run):
    raw = json.loads(bench_run.result.files["raw"].read_text())
    machine = raw["machine"]
    assert machine["cpu"] and machine["arch"] and machine["usable_cores"] >= 1
    assert isinstance(machine["isa"], list) and "executorch" in machine["versions"]
    assert len(raw["runs"]) == len({(r.target, r.threads) for r in host_rows(bench_run)})


def test_report_and_plots_exist(bench_run):
    files = bench_run.result.files
    text = files["report"].read_text()
    assert "| target | role |" in text and "Ratios of p50 latency" in text
    if any(r.target == "pte-int8" for r in bench_run.rows):
        assert "Goals for the int8 .pte" in text
    pngs = [p for name, p in files.items() if p.suffix == ".png"]
    kinds = {name.split("_")[0] for name, p in files.items() if p.suffix == ".png"}
    assert kinds == {"latency", "size", "peak"}, files
    import matplotlib.image

    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        height, width = matplotlib.image.imread(png).shape[:2]
        assert height > 100 and width > 100


def test_summary_has_ratios_against_fp32_and_peers(bench_run):
    summary = bench_run.result.summary
    assert "× own fp32" in summary
    if any(r.role == "peer" for r in bench_run.rows):
        assert "× fastest peer" in summary
