"""Unit tests of the benchmark harness's parts: statistics, machine parsing, the minibench schema, ratios and goals,
adb command building and result parsing (no phone needed), the worker process on a real ONNX model, the CLI's errors.

The end-to-end run (real exports, peers, plots) is the user-facing suite in benchmarks/.
"""

from __future__ import annotations

import json
from dataclasses import replace
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from albert_edge.bench import adb, depth, report
from albert_edge.bench.__main__ import main as bench_main
from albert_edge.bench.harness import Target, parse_int_list, run_worker
from albert_edge.bench.machine import device_info, isa_flags, machine_info, parse_cpuinfo
from albert_edge.bench.stats import latency_stats, throughput
from albert_edge.bench.targets import Artifact, BenchError, token_inputs

WORKER = Path(__file__).resolve().parents[1] / "albert_edge" / "bench" / "worker.py"

# -- stats -------------------------------------------------------------------------------------------------------------


def test_latency_stats_matches_numpy_and_minibench_trimmed_mean():
    rng = np.random.default_rng(0)
    samples = rng.gamma(2.0, 3.0, size=37)
    s = latency_stats(samples)
    srt = np.sort(samples)
    assert s.n == 37
    assert s.mean == pytest.approx(samples.mean())
    # minibench keeps sorted[n//10 : n*9//10]: indices 3..32 for n = 37
    assert s.trimmed_mean == pytest.approx(srt[3:33].mean())
    assert (s.p50, s.p90, s.p99) == pytest.approx(tuple(np.percentile(samples, [50, 90, 99])))
    assert s.stdev == pytest.approx(samples.std(ddof=1))
    assert s.min == srt[0] and s.max == srt[-1]
    assert s.min <= s.p50 <= s.p90 <= s.p99 <= s.max


def test_trimmed_mean_drops_outliers_as_minibench_does():
    samples = [10.0] * 18 + [0.1, 1000.0]
    assert latency_stats(samples).trimmed_mean == pytest.approx(10.0)
    assert latency_stats(samples).mean > 50
    # minibench's subList(n/10, n*9/10) for n = 3 is [0, 2): the two fastest
    assert latency_stats([3.0, 1.0, 2.0]).trimmed_mean == pytest.approx(1.5)
    one = latency_stats([4.0])  # an empty middle falls back to the plain mean
    assert (one.trimmed_mean, one.stdev) == (4.0, 0.0)


def test_latency_stats_rejects_no_samples():
    with pytest.raises(ValueError, match="iterations"):
        latency_stats([])


def test_throughput():
    assert throughput(4.0) == pytest.approx(250.0)
    assert throughput(4.0, batch_size=8) == pytest.approx(2000.0)


def test_parse_int_list():
    assert parse_int_list("128,16, 16", "--seq-lens") == (16, 128)
    assert parse_int_list([2, 1], "--threads") == (1, 2)
    for bad in ("a,b", "0", ""):
        with pytest.raises(BenchError, match="--seq-lens"):
            parse_int_list(bad, "--seq-lens")


# -- machine -----------------------------------------------------------------------------------------------------------
X86_CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu sse2 avx2 fma avx512f avx512bw avx512_vnni amx_tile amx_int8 amx_bf16
"""
ARM_CPUINFO = """processor\t: 0
BogoMIPS\t: 50.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp asimddp i8mm sve sve2 bf16
CPU implementer\t: 0x41
CPU part\t: 0xd4f
"""


def test_parse_cpuinfo_x86_and_arm():
    model, flags = parse_cpuinfo(X86_CPUINFO)
    assert model == "Intel(R) Xeon(R) Platinum 8480+"
    assert isa_flags(flags, "x86_64") == ["avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "amx_tile",
                                          "amx_int8", "amx_bf16"]
    model, flags = parse_cpuinfo(ARM_CPUINFO)
    assert model == "ARM implementer 0x41 part 0xd4f"
    assert isa_flags(flags, "aarch64") == ["asimd", "asimdhp", "asimddp", "i8mm", "bf16", "sve", "sve2"]


def test_machine_info_and_device_info_describe_this_host():
    m = machine_info()
    assert m["logical_cores"] >= m["usable_cores"] >= 1
    assert m["arch"] and m["os"] and "numpy" in m["versions"]
    d = device_info(m)
    assert {"arch", "device", "os", "availMem", "totalMem"} <= d.keys()


# -- records, ratios, goals ----------------------------------------------------------------------------------------
DEVICE = {"arch": "x86_64", "device": "Test CPU", "os": "Linux", "availMem": 1, "totalMem": 2}


def _records(target, role, quant, seq, p50, threads=2, **metrics):
    extra = {"target": target, "role": role, "threads": str(threads), "seq_len": str(seq)}
    values = {"p50_inference_latency(ms)": p50, "load_status": 0.0, **metrics}
    return [report.record("albert_x", "xnnpack", quant, extra, k, v, DEVICE) for k, v in values.items()]


def _goal_rows(pte128=10.0, peak=40.0, onnx16=2.5):
    recs = []
    recs += _records("pte-int8", "ours", "int8", 128, pte128, **{
        "peak_mem_over_baseline(mb)": peak, "artifact_size(mb)": 11.6, "planned_activation_memory(mb)": 1.5})
    recs += _records("pte-int8", "ours", "int8", 16, 1.5)
    recs += _records("pte-fp32", "ours", "fp32", 128, 40.0)
    recs += _records("onnx-int8", "ours", "int8", 128, 13.0, **{"artifact_size(mb)": 12.0})
    recs += _records("onnx-int8", "ours", "int8", 16, onnx16, **{"artifact_size(mb)": 12.0})
    recs += _records("hf-ortopt-int8", "peer", "int8", 128, 15.0)
    recs += _records("hf-ortopt-int8", "peer", "int8", 16, 3.0)
    recs += _records("hf-optimum-et-int8", "peer", "int8", 128, 50.0)
    recs += _records("hf-eager-fp32", "peer", "fp32", 128, 80.0)
    return report.pivot(recs)


def test_record_has_minibench_fields_and_pivot_reads_it_back():
    r = report.record("albert_x", "xnnpack", "int8", {"target": "pte-int8", "seq_len": "16", "threads": "2"},
                      "avg_inference_latency(ms)", 3, DEVICE)
    assert set(r) == {"benchmarkModel", "metric", "actualValue", "targetValue", "deviceInfo"}
    assert set(r["benchmarkModel"]) == {"name", "backend", "quantization", "extraInfo"}
    assert isinstance(r["actualValue"], float) and r["targetValue"] == 0
    json.dumps(r)
    (row,) = report.pivot([r])
    assert (row.target, row.threads, row.seq_len, row.quantization) == ("pte-int8", 2, 16, "int8")
    assert row.metrics == {"avg_inference_latency(ms)": 3.0}


def test_pivot_reads_android_demo_records():
    """The demo writes peak memory in bytes and names the target only through the file name."""
    phone = {"arch": "Pixel 8", "device": "google", "os": "Android 14", "availMem": 1, "totalMem": 2}
    recs = [report.record("albert_x", "xnnpack", "int8", {"seq_len": "128", "threads": "4", "source": "adb:R5"},
                          m, v, phone) for m, v in (("p50_inference_latency(ms)", 20.0),
                                                    ("peak_mem(bytes)", 64 * 1024 * 1024))]
    (row,) = report.pivot(recs)
    assert not row.host and row.target == "xnnpack-int8"
    assert row.get("peak_inference_mem_usage(mb)") == pytest.approx(64.0)


def test_ratio_table_against_fp32_and_every_peer():
    rows = _goal_rows()
    header, lines = report.ratio_table(rows, rows[0].device, "albert_x", 2, 128)
    assert header[:3] == ["target", "p50 ms", "× own fp32"]
    assert header[-1] == "× fastest peer (hf-ortopt-int8)"
    pte = next(line for line in lines if line[0] == "pte-int8")
    assert pte[2] == "0.25"  # 10 / 40
    assert pte[header.index("× hf-optimum-et-int8")] == "0.20"
    assert pte[-1] == "0.67"  # 10 / 15


def test_goals_met_and_missed_say_by_how_much():
    rows = _goal_rows(pte128=10.0, peak=40.0)
    goals = {g.name: g for g in report.goals(rows, rows[0].device, "albert_x", 2)}
    assert goals["latency vs fastest peer"].met is True  # 10 / 15 = 0.67 <= 0.8
    assert goals["latency vs optimum-executorch recipe"].met is True  # 0.2 <= 0.4
    assert goals["latency(seq 16) / latency(seq 128)"].met is True  # 0.15
    assert goals["peak RSS over runtime baseline"].met is True  # 40 <= 11.6 + 3 + 30
    onnx = goals["int8 .onnx vs ORT optimizer+int8"]
    assert onnx.met is True and "seq 16: 2.50 / 3.00 ms = 0.83×" in onnx.value and "seq 128" in onnx.value
    # Issue 12's bound holds at both lengths: 0.87× at 128 but 0.93× at 16 is a miss.
    slow_short = {g.name: g for g in report.goals(_goal_rows(onnx16=2.8), rows[0].device, "albert_x", 2)}
    assert slow_short["int8 .onnx vs ORT optimizer+int8"].met is False
    assert "+0.03× over the bound" in slow_short["int8 .onnx vs ORT optimizer+int8"].verdict
    rows = _goal_rows(pte128=14.0, peak=60.0)
    goals = {g.name: g for g in report.goals(rows, rows[0].device, "albert_x", 2)}
    missed = goals["latency vs fastest peer"]
    assert missed.met is False and "+17%" in missed.verdict  # 14 / 15 = 0.933 vs 0.8
    assert goals["peak RSS over runtime baseline"].met is False
    assert "MiB over the bound" in goals["peak RSS over runtime baseline"].verdict


def test_weight_cache_goal_compares_with_the_nocache_row():
    rows = _goal_rows(peak=15.0) + report.pivot(_records("pte-int8-nocache", "ours", "int8", 128, 12.0, **{
        "peak_mem_over_baseline(mb)": 99.6, "artifact_size(mb)": 11.6}))
    goal = {g.name: g for g in report.goals(rows, rows[0].device, "albert_x", 2)}[
        "peak RSS over runtime baseline / .pte size"]
    assert goal.met is True and "1.29×" in goal.value and "weight cache off: 99.6 MiB (8.6×)" in goal.value
    rows = _goal_rows(peak=24.4)
    goal = {g.name: g for g in report.goals(rows, rows[0].device, "albert_x", 2)}[
        "peak RSS over runtime baseline / .pte size"]
    assert goal.met is False and "weight cache off" not in goal.value
    recs = _records("pte-int8", "ours", "int8", 128, 10.0, **{
        "peak_mem_over_baseline(mb)": 24.4, "artifact_size(mb)": 11.6, "library_rss_growth(mb)": 4.3})
    rows = report.pivot(recs)
    goal = {g.name: g for g in report.goals(rows, rows[0].device, "albert_x", 2)}[
        "peak RSS over runtime baseline / .pte size"]
    # Judged on the whole peak; the runtime's own code pages in it are named, with the ratio without them.
    assert goal.met is False and "of which 4.3 MiB the runtime's library code; without it 1.73×" in goal.value


def test_pte_targets_come_with_and_without_the_weight_cache(tmp_path):
    from albert_edge.bench.targets import Artifact

    (tmp_path / "m.pte").write_bytes(b"x" * 10)
    manifest = {"format": "albert_edge.export/1", "name": "t", "task": "feature-extraction", "max_seq_len": 8, "config": {"vocab_size": 99}, "artifacts": {"pte": "m.pte"},
                "inputs": [{"name": "input_ids"}, {"name": "attention_mask"}]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    targets = Artifact.read(tmp_path).targets(("pte",))
    assert [t.label for t in targets] == ["pte-fp32", "pte-fp32-nocache"]
    specs = [t.worker_spec(2, [8], 1, 0) for t in targets]
    assert [s["weight_cache"] for s in specs] == [True, False]
    # The native runner's row (`native.py`) is its own backend name: the same file, kind "native", cache on.
    both = Artifact.read(tmp_path).targets(("pte", "native"))
    assert [(t.label, t.kind, t.options.get("weight_cache")) for t in both] == [
        ("pte-fp32", "pte", True), ("pte-fp32-nocache", "pte", False), ("pte-fp32-native", "native", True)]
    assert [t.label for t in Artifact.read(tmp_path).targets(("native",))] == ["pte-fp32-native"]


def test_pte_with_external_data_counts_it_and_needs_it(tmp_path):
    """A masked-LM .pte keeps its tied table in <stem>.ptd: the size counts both files, and a missing .ptd is one
    line (ExecuTorch would end the worker process without a word)."""
    from albert_edge.bench.targets import Artifact, BenchError

    (tmp_path / "m.pte").write_bytes(b"x" * 10)
    (tmp_path / "m.ptd").write_bytes(b"y" * 5)
    manifest = {"format": "albert_edge.export/1", "name": "t", "task": "masked-lm", "max_seq_len": 8,
                "config": {"vocab_size": 99}, "artifacts": {"pte": "m.pte"}, "external_data": {"pte": "m.ptd"},
                "inputs": [{"name": "input_ids"}, {"name": "attention_mask"}]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert [t.size_bytes for t in Artifact.read(tmp_path).targets(("pte",))] == [15, 15]
    (tmp_path / "m.ptd").unlink()
    with pytest.raises(BenchError, match=r"m.ptd: missing \(the pte program keeps weights there\)"):
        Artifact.read(tmp_path).targets(("pte",))


def test_goals_not_measurable_are_na():
    recs = _records("pte-int8", "ours", "int8", 64, 3.0)
    rows = report.pivot(recs)
    goals = report.goals(rows, rows[0].device, "albert_x", 2)
    assert [g.met for g in goals][:3] == [None, None, None]
    assert all(g.verdict.startswith("n/a") for g in goals if g.met is None)


def test_markdown_and_summary_render_sections():
    rows = _goal_rows()
    context = {"machine": {"cpu": "Test CPU", "arch": "x86_64", "usable_cores": 2, "os": "Linux", "isa": ["avx2"],
                           "versions": {"numpy": "2"}, "load_avg": 0.5},
               "settings": {"iterations": 10, "warmups": 2}, "models": {}, "notes": ["peer x skipped: y"],
               "started": "now", "seconds": 1.0, "load_avg_end": 0.4}
    text = report.markdown(rows, context)
    assert "## albert_x, 2 threads" in text and "Goals for the int8 .pte" in text
    assert "| pte-int8 | 1.50 |" not in text  # the scaling table prints the ratio, not the latency
    assert "| pte-int8 | 0.150 |" in text
    summary = report.summary(rows, context)
    assert "goal latency vs fastest peer" in summary and "note: peer x skipped" in summary


# -- artifacts -------------------------------------------------------------------------------------------------------
def test_artifact_errors_are_one_line(tmp_path):
    with pytest.raises(BenchError, match="no such directory"):
        Artifact.read(tmp_path / "missing")
    with pytest.raises(BenchError, match="no manifest.json"):
        Artifact.read(tmp_path)
    (tmp_path / "manifest.json").write_text("{")
    with pytest.raises(BenchError, match="not valid JSON"):
        Artifact.read(tmp_path)
    (tmp_path / "manifest.json").write_text("{}")
    with pytest.raises(BenchError, match="format None is not an albert_edge export manifest"):
        Artifact.read(tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": "albert_edge.export/1"}')
    with pytest.raises(BenchError, match="no 'name'"):
        Artifact.read(tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": "albert_edge.export/2", "name": "t"}')
    with pytest.raises(BenchError, match="written by a newer albert_edge"):
        Artifact.read(tmp_path)


def test_token_inputs_reject_unknown_names():
    assert [s["kind"] for s in token_inputs(["input_ids", "attention_mask", "token_type_ids"], 99)] == [
        "ids", "ones", "zeros"]
    with pytest.raises(BenchError, match="pixel_values"):
        token_inputs(["pixel_values"], 99)


# -- adb (no phone: the runner is scripted) -----------------------------------------------------------------------
class FakeAdb:
    """Answers adb commands like a phone with the demo app; records what was asked."""

    def __init__(self, devices="List of devices attached\nR58M123\tdevice\n\n", results_after=2):
        self.devices, self.results_after, self.calls, self.polls = devices, results_after, [], 0

    def __call__(self, cmd):
        self.calls.append(cmd)
        out, rc = "", 0
        if cmd[1:] == ["devices"]:
            out = self.devices
        elif "cat" in cmd:
            self.polls += 1
            if self.polls < self.results_after:
                out, rc = "cat: files/benchmark_results.json: No such file or directory", 1
            else:
                seq = next(c for c in reversed(self.calls) if "start" in c)
                out = json.dumps([report.record("albert_x", "xnnpack", "int8", {}, "avg_inference_latency(ms)",
                                                12.5, {"arch": "Pixel 8", "device": "google", "os": "Android 14",
                                                       "availMem": 1, "totalMem": 2})])
                assert seq  # results only after a start
        return subprocess.CompletedProcess(cmd, rc, out, "")


def test_adb_command_lines():
    pte = Path("dist/albert_base_xnnpack_int8.pte")
    assert adb.push_command(pte, "R58") == ["adb", "-s", "R58", "push", str(pte),
                                            "/data/local/tmp/albert_edge/albert_base_xnnpack_int8.pte"]
    assert adb.start_command("/data/local/tmp/albert_edge/m.pte", iterations=50, warmups=5, threads=4, seq_len=128,
                             serial=None) == [
        "adb", "shell", "am", "start", "-W", "-S", "-n", "org.albertedge.demo/.BenchmarkActivity",
        "--es", "model_path", "/data/local/tmp/albert_edge/m.pte", "--ei", "iterations", "50", "--ei", "warmups", "5",
        "--ei", "threads", "4", "--ei", "seq_len", "128"]
    assert adb.read_results_command(None) == ["adb", "shell", "run-as", "org.albertedge.demo", "cat",
                                              "files/benchmark_results.json"]


def test_parse_devices_and_check_device_errors():
    text = "List of devices attached\nR58\tdevice\nemulator-5554\tunauthorized\n\n"
    assert adb.parse_devices(text) == [("R58", "device"), ("emulator-5554", "unauthorized")]
    assert adb.check_device(None, FakeAdb(text)) == "R58"
    with pytest.raises(adb.AdbError, match="no Android device connected"):
        adb.check_device(None, FakeAdb("List of devices attached\n\n"))
    with pytest.raises(adb.AdbError, match="--serial"):
        adb.check_device(None, FakeAdb("List of devices attached\nA\tdevice\nB\tdevice\n"))
    with pytest.raises(adb.AdbError, match="unauthorized"):
        adb.check_device("emulator-5554", FakeAdb(text))
    with pytest.raises(adb.AdbError, match="not connected"):
        adb.check_device("XYZ", FakeAdb(text))


def test_missing_adb_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(adb.AdbError, match="adb not found on PATH"):
        adb.check_device(None)


def test_parse_results():
    good = json.dumps([report.record("m", "xnnpack", "int8", {}, "avg_inference_latency(ms)", 1.0, DEVICE)])
    assert adb.parse_results(good)[0]["actualValue"] == 1.0
    for bad in ("[]", "{}", '[{"metric": "x"}]', '[{"benchmarkModel": {}, "metric": "x", "actualValue": "fast"}]'):
        with pytest.raises(ValueError):
            adb.parse_results(bad)


def test_benchmark_on_device_pushes_starts_polls_and_tags():
    fake = FakeAdb(results_after=2)
    records = adb.benchmark_on_device(Path("x/albert_t_xnnpack_int8.pte"), target="pte-int8", seq_lens=[16, 128],
                                      threads=[2], iterations=20, warmups=3, poll_s=0, run=fake)
    assert len(records) == 2
    assert [r["benchmarkModel"]["extraInfo"]["seq_len"] for r in records] == ["16", "128"]
    assert records[0]["benchmarkModel"]["extraInfo"]["source"] == "adb:R58M123"
    kinds = [c[3] if c[1] == "-s" else c[1] for c in fake.calls]
    assert kinds[:3] == ["devices", "shell", "push"]
    starts = [c for c in fake.calls if "start" in c]
    assert [c[c.index("seq_len") + 1] for c in starts] == ["16", "128"]
    # every start is preceded by clearing the previous run's results
    for i, c in enumerate(fake.calls):
        if "start" in c:
            assert "rm" in fake.calls[i - 1]


def test_benchmark_on_device_times_out_with_a_hint():
    fake = FakeAdb(results_after=10 ** 9)
    with pytest.raises(adb.AdbError, match="demo app"):
        adb.benchmark_on_device(Path("m.pte"), target="pte-int8", seq_lens=[16], threads=[1], iterations=1, warmups=0,
                                timeout_s=0, poll_s=0, run=fake)


# -- the CLI's errors --------------------------------------------------------------------------------------------------
def _minimal_export(directory: Path) -> Path:
    directory.mkdir()
    (directory / "manifest.json").write_text(json.dumps({
        "format": "albert_edge.export/1", "name": "t", "task": "sequence-classification", "max_seq_len": 16, "artifacts": {"pte": None, "onnx": None},
        "config": {"vocab_size": 99, "embedding_size": 16, "hidden_size": 32, "num_hidden_layers": 2,
                   "num_attention_heads": 4, "intermediate_size": 37}}))
    return directory


def test_cli_errors_are_one_line(tmp_path, monkeypatch, capsys):
    with pytest.raises(SystemExit) as e:
        bench_main([str(tmp_path / "nope")])
    assert str(e.value.code).startswith("error: ") and "\n" not in str(e.value.code)
    export = _minimal_export(tmp_path / "export")
    monkeypatch.setenv("PATH", str(tmp_path))  # no adb here
    with pytest.raises(SystemExit) as e:
        bench_main([str(export), "--adb"])
    assert str(e.value.code).startswith("error: adb not found on PATH")
    with pytest.raises(SystemExit) as e:
        bench_main([str(export), "--peers", "tflite"])
    assert "unknown 'tflite'" in str(e.value.code)
    with pytest.raises(SystemExit) as e:
        bench_main([str(export), "--seq-lens", "64", "--out", str(tmp_path / "r")])
    assert "no --seq-lens within its max_seq_len 16" in str(e.value.code)


def test_depth_data_errors_are_one_line(tmp_path):
    export = _minimal_export(tmp_path / "export")
    data = tmp_path / "dev.tsv"
    data.write_text("sentence\tlabel\nfine\t1\n")
    for argv, message in (([str(export), "--depth-data", str(tmp_path / "none.tsv")], "no such file"),
                          ([str(export), "--depth-data", str(data)], "needs an export with a stepwise program"),
                          ([str(export), "--depth-data", str(data), "--depth-limit", "0"], "--depth-limit must be")):
        with pytest.raises(SystemExit) as e:
            bench_main(argv + ["--out", str(tmp_path / "r")])
        assert message in str(e.value.code) and "\n" not in str(e.value.code)
    assert not (tmp_path / "r").exists()  # refused before anything was written


def _sweep_rows(shipped_ms: float, shipped_acc: float) -> list:
    recs = []
    for order, (setting, kind, acc, depth_used, ms) in enumerate((
            ("forward", "forward", 85.0, 4, 3.0), ("depth 1", "fixed", 80.0, 1, 1.0),
            ("depth 4", "fixed", 85.0, 4, 3.1), ("shipped entropy 0.70", "adaptive", shipped_acc, 1.6, shipped_ms))):
        extra = {"target": f"pte-int8-stepwise: {setting}", "setting": setting, "setting_kind": kind,
                 "order": str(order), "shipped": str(kind == "adaptive"), "sweep": "depth", "threads": "2",
                 "seq_len": "", "data": "dev.tsv", "examples": "10"}
        for metric, value in (("load_status", 0.0), ("accuracy(%)", acc), ("mean_depth", depth_used),
                              ("avg_inference_latency(ms)", ms), ("p50_inference_latency(ms)", ms),
                              ("p90_inference_latency(ms)", ms)):
            recs.append(report.record("albert_x", "xnnpack", "int8", extra, metric, value, DEVICE))
    return report.pivot(recs)


def test_depth_sweep_settings_goal_and_report():
    names = [s["name"] for s in depth.settings_for(4, {"kind": "entropy", "value": 0.7, "min_depth": 1})]
    assert names == ["forward", "depth 1", "depth 2", "depth 3", "depth 4", "shipped entropy 0.70", "patience 1",
                     "patience 2", "patience 3", "entropy 0.10", "entropy 0.30", "entropy 0.50"]
    assert [s["name"] for s in depth.settings_for(2, None)][-5:] == ["patience 1", "entropy 0.10", "entropy 0.30",
                                                                     "entropy 0.50", "entropy 0.70"]
    assert depth.policy_name({"kind": "patience", "value": 2.0, "min_depth": 2}) == "patience 2 from 2"
    met = depth.goal(_sweep_rows(1.5, 84.6))  # 2.0x faster, 0.4 point lost
    assert met[1] and "2.00× lower mean latency, accuracy -0.40 points" in met[0]
    assert not depth.goal(_sweep_rows(2.5, 85.0))[1]  # only 1.2x
    assert not depth.goal(_sweep_rows(1.0, 84.0))[1]  # 3x but a point lost
    text = depth.markdown(_sweep_rows(1.5, 84.6))
    rows = [line.split(" | ")[0].lstrip("| ") for line in text.splitlines() if line.startswith("| ")][1:]
    assert rows == ["forward", "depth 1", "depth 4", "shipped entropy 0.70"]  # the sweep's order
    assert "| depth 1 | 80.00 | 1.00 | 1.000 |" in text and "0.333 |" in text and "met)" in text


def test_cli_exit_status_without_adb(tmp_path):
    export = _minimal_export(tmp_path / "export")
    env = {"PATH": str(tmp_path), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.run([sys.executable, "-m", "albert_edge.bench", str(export), "--adb"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: adb not found on PATH")


# -- the worker, for real, on a tiny ONNX model ---------------------------------------------------------------------
def _tiny_onnx(path: Path) -> Path:
    """sum(cast(input_ids) * cast(attention_mask)) over the sequence: int64 inputs of shape (1, seq), like ours."""
    import onnx
    from onnx import TensorProto, helper

    nodes = [helper.make_node("Cast", ["input_ids"], ["ids_f"], to=TensorProto.FLOAT),
             helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["ids_f", "mask_f"], ["prod"]),
             helper.make_node("ReduceSum", ["prod"], ["logits"], keepdims=1)]
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, [1, "seq"]) for n in ("input_ids", "attention_mask")]
    graph = helper.make_graph(nodes, "tiny", inputs, [helper.make_tensor_value_info("logits", TensorProto.FLOAT,
                                                                                    [1, 1])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def test_worker_measures_a_real_onnx_model_without_torch(tmp_path):
    model = _tiny_onnx(tmp_path / "tiny.onnx")
    target = Target(label="onnx-fp32", kind="onnx", path=model, model="albert_t", quantization="fp32", role="ours",
                    backend="onnxruntime", runtime="onnxruntime", inputs=token_inputs(["input_ids", "attention_mask"],
                                                                                      99), size_bytes=1)
    result = run_worker(target, threads=1, seq_lens=[32, 8], iterations=7, warmups=1, timeout_s=120, scratch=tmp_path)
    assert "error" not in result, result
    assert result["torch_imported"] is False  # the ONNX Runtime process carries no libtorch
    assert [r["seq_len"] for r in result["runs"]] == [8, 32]  # ascending: the peak after each is the peak so far
    for run in result["runs"]:
        assert len(run["latencies_ms"]) == 7 and min(run["latencies_ms"]) > 0
        assert run["outputs_finite"] and run["output_shapes"] == [[1, 1]]
        assert run["peak_rss"] >= result["rss_baseline"] > 0
    assert result["runs"][1]["peak_rss"] >= result["runs"][0]["peak_rss"]
    assert result["load_ms"] > 0 and result["rss_after_load"] > 0
    if sys.platform.startswith("linux"):  # the runtime's library pages the run faulted in, within the peak
        assert 0 <= result["library_rss_growth"] <= result["runs"][-1]["peak_rss"] - result["rss_baseline"] + 2**20


def test_rounds_rotate_the_jobs_and_pool_their_latencies(tmp_path, monkeypatch):
    """--rounds 2: every (target, threads) runs twice, the second round starting halfway down the list, each round
    timing half the iterations (rounded up); the latencies pooled, load and memory from the first round."""
    from albert_edge.bench import harness

    if machine_info()["usable_cores"] < 2:
        pytest.skip("needs 2 usable cores for two thread counts")
    export = tmp_path / "export"
    export.mkdir()
    _tiny_onnx(export / "tiny.onnx")
    manifest = json.loads((_minimal_export(tmp_path / "m") / "manifest.json").read_text())
    (export / "manifest.json").write_text(json.dumps({**manifest, "artifacts": {"onnx": "tiny.onnx"}}))
    calls = []
    real = harness.run_worker

    def recording(target, threads, seq_lens, iterations, *rest):
        calls.append((threads, iterations))
        return real(target, threads, seq_lens, iterations, *rest)

    monkeypatch.setattr(harness, "run_worker", recording)
    result = harness.bench([export], out=tmp_path / "r", seq_lens="8", threads="1,2", iterations=5, warmups=1,
                           backends=("onnx",), peers=(), ceiling=False, rounds=2, progress=False)
    assert calls == [(1, 3), (2, 3), (2, 3), (1, 3)]
    raw = json.loads((tmp_path / "r" / "benchmark_raw.json").read_text())
    assert [(r["threads"], r["result"]["rounds"], len(r["result"]["runs"][0]["latencies_ms"]))
            for r in raw["runs"]] == [(1, 2, 6), (2, 2, 6)]
    assert "6 timed iterations" in result.files["report"].read_text() and "2 rounds in rotated order" in \
        result.files["report"].read_text()
    pooled = harness._pool([{"load_ms": 1.0, "runs": [{"latencies_ms": [1.0]}]},
                            {"load_ms": 9.0, "runs": [{"latencies_ms": [2.0, 3.0]}]}])
    assert pooled["load_ms"] == 1.0 and pooled["runs"][0]["latencies_ms"] == [1.0, 2.0, 3.0]
    assert harness._pool([{"runs": []}, {"error": "boom"}]) == {"error": "boom"}
    with pytest.raises(BenchError, match="--rounds must be in 1..--iterations"):
        harness.bench([export], out=tmp_path / "r2", iterations=2, rounds=3, progress=False)


def test_worker_reports_a_failure_instead_of_crashing(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    target = Target(label="onnx-fp32", kind="onnx", path=bad, model="m", quantization="fp32", role="ours",
                    backend="onnxruntime", runtime="onnxruntime", inputs=token_inputs(["input_ids"], 99), size_bytes=1)
    result = run_worker(target, threads=1, seq_lens=[8], iterations=1, warmups=0, timeout_s=120, scratch=tmp_path)
    assert "error" in result and "traceback" in result


# -- the ceiling and planned memory (lowers a small .pte: slow) ------------------------------------------------------
@pytest.mark.slow
def test_ceiling_pte_runs_and_counts_flops(tmp_path):
    from albert_edge.bench.ceiling import build_ceiling, encoder_gemm_flops
    from albert_edge.bench.targets import planned_memory
    from albert_edge.config import AlbertConfig

    config = AlbertConfig(vocab_size=99, embedding_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                          intermediate_size=64)
    assert encoder_gemm_flops(config, 16) == 2 * 16 * 2 * (4 * 32 * 32 + 2 * 32 * 64)
    pte = build_ceiling(config, 16, False, tmp_path)
    assert build_ceiling(config, 16, False, tmp_path) == pte  # cached
    assert planned_memory(pte) > 0
    target = Target(label="ceiling-fp32", kind="pte", path=pte, model="m", quantization="fp32", role="ceiling",
                    backend="xnnpack", runtime="executorch", inputs=[{"name": "x", "kind": "hidden", "width": 32}],
                    size_bytes=pte.stat().st_size)
    result = run_worker(target, threads=1, seq_lens=[4, 16], iterations=3, warmups=1, timeout_s=300, scratch=tmp_path)
    assert "error" not in result, result
    assert [r["output_shapes"] for r in result["runs"]] == [[[1, 4, 32]], [[1, 16, 32]]]


def test_native_runner_measures_a_real_pte_without_python(tmp_path):
    """The C++ runner (built against the installed wheel) in the worker's schema: ascending lengths, the timed
    runs, memory over its own baseline, no libtorch; a file that is not a program is an error result, not a crash."""
    from albert_edge.bench import native
    from albert_edge.bench.ceiling import build_ceiling
    from albert_edge.config import AlbertConfig

    try:
        binary = native.build(tmp_path / "cache")
    except native.NativeUnavailable as e:
        pytest.skip(f"native runner unavailable here: {e}")
    assert native.build(tmp_path / "cache") == binary  # cached by source, wheel and compiler
    config = AlbertConfig(vocab_size=99, embedding_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                          intermediate_size=64)
    pte = build_ceiling(config, 16, True, tmp_path)
    target = Target(label="ceiling-int8-native", kind="native", path=pte, model="m", quantization="int8",
                    role="ceiling", backend="xnnpack", runtime="executorch (C++ Module)",
                    inputs=[{"name": "x", "kind": "hidden", "width": 32}], size_bytes=pte.stat().st_size,
                    options={"weight_cache": True})
    result = native.measure(binary, target, threads=1, seq_lens=[16, 4], iterations=5, warmups=1, timeout_s=120)
    assert "error" not in result, result
    assert result["torch_imported"] is False and result["weight_cache"] is True and result["load_ms"] > 0
    assert [r["seq_len"] for r in result["runs"]] == [4, 16]
    assert [r["output_shapes"] for r in result["runs"]] == [[[1, 4, 32]], [[1, 16, 32]]]
    for run in result["runs"]:
        assert len(run["latencies_ms"]) == 5 and min(run["latencies_ms"]) > 0 and run["outputs_finite"]
        assert run["peak_rss"] >= result["rss_after_load"] > 0 and run["peak_rss"] >= result["rss_baseline"]
    assert result["library_rss_growth"] >= 0
    (tmp_path / "bad.pte").write_bytes(b"not a program")
    bad = native.measure(binary, replace(target, path=tmp_path / "bad.pte"), threads=1, seq_lens=[4], iterations=1,
                         warmups=0, timeout_s=60)
    assert "not a loadable program" in bad["error"] and "\n" not in bad["error"]


def test_native_rows_are_dropped_with_a_note_where_the_runner_cannot_build(tmp_path, monkeypatch):
    from albert_edge.bench import harness, native

    def unavailable(cache):
        raise native.NativeUnavailable("no C++ compiler found (set CXX, or install g++)")

    monkeypatch.setattr(native, "build", unavailable)
    kept = Target(label="pte-int8", kind="pte", path=tmp_path, model="m", quantization="int8", role="ours",
                  backend="xnnpack", runtime="executorch", inputs=[], size_bytes=1)
    group = type("Group", (), {})()
    group.targets = [kept, replace(kept, label="pte-int8-native", kind="native")]
    notes = []
    harness._prepare_native([group], tmp_path, notes)
    assert group.targets == [kept]
    assert notes == ["native runner rows skipped: no C++ compiler found (set CXX, or install g++)"]
