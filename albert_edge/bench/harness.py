"""The benchmark run: read export directories, build the references, measure every target in its own process, report.

    result = bench(["dist/base_int8", "dist/base_fp32"], out="runs/bench", seq_lens=(16, 128), threads=(2,))

One run, in order:
  1. read each export's manifest; group exports of the same model (config + task), which share their references;
  2. per model: the HF-format weights (the checkpoint the export read, `eager_model`, or -- for an export whose
     checkpoint is gone -- random weights from the manifest's config, which time and size the same), the eager
     reference, the peers (`peers.py`) and the GEMM ceiling (`ceiling.py`), all cached under `out/cache/`;
  3. one fresh worker process per (target, thread count), sweeping the sequence lengths (`worker.py`); with
     `rounds`, every target that many times in rotated order, latencies pooled;
  4. optionally the phone (`adb.py`);
  5. minibench-schema records, the Markdown report, plots and a printed summary (`report.py`).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from albert_edge.bench import depth as depth_mod
from albert_edge.bench import native as native_mod
from albert_edge.bench import report as report_mod
from albert_edge.bench.ceiling import build_ceiling, encoder_gemm_flops
from albert_edge.bench.machine import device_info, load_average, machine_info
from albert_edge.bench.peers import PEERS, build_peer, missing_packages
from albert_edge.bench.stats import latency_stats, throughput
from albert_edge.bench.targets import Artifact, BenchError, Target, planned_memory, size_on_disk, token_inputs
from albert_edge.config import AlbertConfig

DEFAULT_SEQ_LENS = (8, 16, 32, 64, 128, 256, 512)
DEFAULT_THREADS = (1, 2, 4)
BACKENDS = ("pte", "native", "onnx", "eager")
DEFAULT_OUT = Path("runs") / "bench"
WORKER = Path(__file__).resolve().with_name("worker.py")
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the directory holding albert_edge/, for the worker's imports
MIB = 1024 * 1024


@dataclass
class ModelGroup:
    """Exports of one model (same config, task and sequence bound): they share weights, references and peers."""

    model: str
    config: AlbertConfig
    task: str
    max_seq_len: int
    artifacts: list[Artifact] = field(default_factory=list)
    hf_dir: Path | None = None
    weights: str = ""  # "checkpoint <path>" or "random (no checkpoint found)"
    targets: list[Target] = field(default_factory=list)


@dataclass
class BenchResult:
    out: Path
    records: list[dict[str, Any]]  # benchmark_results.json
    files: dict[str, Path]
    summary: str
    notes: list[str]


def parse_int_list(text: str | Sequence[int], what: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in (text.split(",") if isinstance(text, str) else text) if str(v).strip())
    except ValueError:
        raise BenchError(f"{what} must be comma-separated integers, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise BenchError(f"{what} must be positive integers, got {text!r}")
    return tuple(sorted(set(values)))


def _group(artifacts: list[Artifact]) -> list[ModelGroup]:
    groups: dict[str, ModelGroup] = {}
    for a in artifacts:
        config = a.config
        task = a.task or "feature-extraction"
        key = json.dumps([a.model, config.to_dict(), task, a.max_seq_len], sort_keys=True, default=str)
        groups.setdefault(key, ModelGroup(a.model, config, task, a.max_seq_len)).artifacts.append(a)
    names = [g.model for g in groups.values()]
    for key, g in groups.items():  # two exports sharing a name but not a config: tell them apart in the report
        if names.count(g.model) > 1:
            g.model = f"{g.model}_{hashlib.sha256(key.encode()).hexdigest()[:6]}"
    return list(groups.values())


def _weights_digest(directory: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(directory.iterdir()):
        if p.suffix in (".safetensors", ".bin", ".json"):
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def prepare_weights(group: ModelGroup, eager_model: Path | None, cache_root: Path) -> None:
    """Write the group's weights as an HF directory (albert_edge.save_pretrained) that the eager reference and the
    peers load, so that all of them run the artifact's own weights."""
    import torch

    from albert_edge.hub import HubError, from_pretrained, save_pretrained
    from albert_edge.model import model_for_task

    source = next((a.checkpoint for a in group.artifacts if a.checkpoint), None) or eager_model
    if source is not None:
        try:
            source_config = AlbertConfig.from_json_file(source)
        except ValueError as e:
            raise BenchError(f"--eager-model {source}: {e}") from None
        for name in ("hidden_size", "num_hidden_layers", "intermediate_size", "vocab_size", "embedding_size"):
            if getattr(source_config, name) != getattr(group.config, name):
                raise BenchError(f"{source}: {name} is {getattr(source_config, name)}, the export's is "
                                 f"{getattr(group.config, name)}; pass --eager-model with the checkpoint it came from")
        digest = _weights_digest(source)
        group.weights = f"checkpoint {source}"
    else:
        digest = "random-" + hashlib.sha256(json.dumps(group.config.to_dict(), sort_keys=True, default=str)
                                            .encode()).hexdigest()
        group.weights = "random weights from the manifest's config (no checkpoint found; pass --eager-model DIR)"
    key = hashlib.sha256(f"{digest}|{group.task}|{group.max_seq_len}".encode()).hexdigest()[:12]
    cache = cache_root / f"{group.model}-{key}"
    hf_dir = cache / "hf"
    if not (hf_dir / "model.safetensors").is_file():
        cache.mkdir(parents=True, exist_ok=True)
        if source is not None:
            try:
                net = from_pretrained(source, group.task)
            except HubError as e:
                raise BenchError(str(e)) from None
        else:
            torch.manual_seed(0)
            net = model_for_task(group.config, group.task)
        staging = Path(tempfile.mkdtemp(dir=cache, prefix=".hf.tmp-"))
        save_pretrained(net, staging)
        os.chmod(staging, 0o755)
        os.replace(staging, hf_dir)
    group.hf_dir = hf_dir


def _ceiling_targets(group: ModelGroup, cache: Path, quantizations: set[str]) -> list[Target]:
    out = []
    width = group.config.hidden_size
    for quant in sorted(quantizations):
        path = build_ceiling(group.config, group.max_seq_len, quant == "int8", cache)
        out.append(Target(label=f"ceiling-{quant}", kind="pte", path=path, model=group.model, quantization=quant,
                          role="ceiling", backend="xnnpack", runtime="executorch",
                          inputs=[{"name": "x", "kind": "hidden", "width": width}], size_bytes=size_on_disk(path),
                          planned_bytes=planned_memory(path),
                          extra={"recipe": f"{group.config.num_hidden_layers} x shared q,k,v,o,ffn,ffn_output GEMMs"}))
    return out


def run_worker(target: Target, threads: int, seq_lens: list[int], iterations: int, warmups: int,
               timeout_s: float, scratch: Path) -> dict[str, Any]:
    """Measure one target at one thread count in a fresh process; {"error": ...} when it failed."""
    if target.kind == "native":
        return native_mod.measure(Path(target.options["binary"]), target, threads, seq_lens, iterations, warmups,
                                  timeout_s)
    return run_spec(f"{target.model}.{target.label}.t{threads}",
                    target.worker_spec(threads, seq_lens, iterations, warmups), timeout_s, scratch)


def run_spec(name: str, worker_spec: dict[str, Any], timeout_s: float, scratch: Path) -> dict[str, Any]:
    """Run worker.py on one spec in a fresh process; its result, or {"error": ...} when it failed."""
    threads = worker_spec["threads"]
    spec = scratch / f"{name.replace(' ', '_').replace(':', '')}.spec.json"
    out = spec.with_suffix("").with_suffix(".out.json")
    spec.write_text(json.dumps(worker_spec))
    out.unlink(missing_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PACKAGE_ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    # Set before the worker imports torch: its OpenMP pool sizes itself at import.
    env["OMP_NUM_THREADS"] = str(threads)
    try:
        proc = subprocess.run([sys.executable, str(WORKER), str(spec), str(out)], env=env, capture_output=True,
                              text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout_s:.0f} s (raise --timeout)"}
    if out.is_file():
        return json.loads(out.read_text())
    tail = (proc.stderr or proc.stdout or "").strip().splitlines()
    return {"error": f"worker exited {proc.returncode}: {tail[-1] if tail else 'no output'}"}


def _records_for(target: Target, threads: int, result: dict[str, Any], device: dict[str, Any],
                 settings: dict[str, Any], flops: dict[int, float], ceilings: dict[tuple, float]) -> list[dict]:
    extra = {"target": target.label, "role": target.role, "runtime": target.runtime, "threads": threads,
             "batch_size": 1, "iterations": settings["iterations"], "warmups": settings["warmups"],
             "artifact_path": str(target.path), **target.extra}
    if target.kind == "onnx":  # every ORT target alike: its own process, so no session steals another's cores
        extra["ort_session"] = "one per process, intra-op spinning on (ORT's default)"
    records = []

    def add(seq_len: int | None, metric: str, value: float) -> None:
        info = {**extra, "seq_len": seq_len if seq_len is not None else ""}
        records.append(report_mod.record(target.model, target.backend, target.quantization,
                                         {k: str(v) for k, v in info.items()}, metric, value, device))

    if "error" in result:
        add(None, "load_status", 1.0)
        return records
    base = result["rss_baseline"]
    for run in result["runs"]:
        seq = run["seq_len"]
        s = latency_stats(run["latencies_ms"])
        add(seq, "load_status", 0.0 if run["outputs_finite"] else 2.0)
        add(seq, "model_load_time(ms)", result["load_ms"])
        add(seq, "first_inference_latency(ms)", run["first_ms"])
        for metric, value in (("avg", s.mean), ("trimmean", s.trimmed_mean), ("p50", s.p50), ("p90", s.p90),
                              ("p99", s.p99), ("min", s.min), ("max", s.max), ("stdev", s.stdev)):
            add(seq, f"{metric}_inference_latency(ms)", value)
        add(seq, "throughput(inferences/s)", throughput(s.mean))
        add(seq, "rss_baseline(mb)", base / MIB)
        add(seq, "rss_after_load(mb)", result["rss_after_load"] / MIB)
        add(seq, "peak_load_mem_usage(mb)", result["peak_load"] / MIB)
        add(seq, "peak_inference_mem_usage(mb)", run["peak_rss"] / MIB)
        add(seq, "peak_mem_over_baseline(mb)", (run["peak_rss"] - base) / MIB)
        if "library_rss_growth" in result:  # read after the last length: the runtime's code pages in that peak
            add(seq, "library_rss_growth(mb)", result["library_rss_growth"] / MIB)
        add(seq, "artifact_size(mb)", target.size_bytes / MIB)
        if target.planned_bytes is not None:
            add(seq, "planned_activation_memory(mb)", target.planned_bytes / MIB)
        gemm = flops[seq] / (s.p50 / 1e3) / 1e9  # GFLOP/s (GOP/s for int8) at the median latency
        if target.role == "ceiling":
            add(seq, "gemm_throughput(gflops)", gemm)
        elif (ceiling := ceilings.get((target.model, target.quantization, threads, seq))):
            add(seq, "gemm_ceiling_fraction", gemm / ceiling)
    return records


def _add_references(group: ModelGroup, backends: Sequence[str], peers: Sequence[str], ceiling: bool,
                    eager_model: Path | None, cache_root: Path, notes: list[str], progress: bool) -> None:
    """The eager reference, the peers and the ceilings of one model, built or taken from the cache."""
    if "eager" in backends or peers:
        prepare_weights(group, eager_model, cache_root)
    cache = group.hf_dir.parent if group.hf_dir else cache_root / group.model
    if "eager" in backends:
        group.targets.append(Target(
            label="eager-fp32", kind="eager", path=group.hf_dir, model=group.model, quantization="fp32",
            role="reference", backend="pytorch-eager", runtime="torch",
            inputs=token_inputs(group.artifacts[0].input_names, group.config.vocab_size),
            size_bytes=size_on_disk(group.hf_dir), task=group.task, extra={"recipe": "albert_edge eager fp32"}))
    for p in tqdm(peers, desc=f"peers for {group.model}", disable=not progress, unit="peer"):
        try:
            group.targets.append(build_peer(p, group.hf_dir, group.config, group.task, group.max_seq_len,
                                            group.model, cache))
        except Exception as e:  # a peer that does not build is reported, not fatal: it is not ours
            first_line = str(e).splitlines()[0][:200] if str(e) else ""
            notes.append(f"peer {p} for {group.model} failed to build: {type(e).__name__}: {first_line}")
    if ceiling:
        quants = {t.quantization for t in group.targets} or {"fp32"}
        group.targets += _ceiling_targets(group, cache, quants)


def _prepare_native(groups: list[ModelGroup], cache: Path, notes: list[str], depth_sweeps: bool = False
                    ) -> Path | None:
    """Build the native runner for the `*-native` targets (and, with `depth_sweeps`, the native depth sweeps), or
    drop them with a note saying why it cannot be; returns the binary or None."""
    natives = [t for g in groups for t in g.targets if t.kind == "native"]
    if not natives and not depth_sweeps:
        return None
    try:
        binary = native_mod.build(cache)
    except native_mod.NativeUnavailable as e:
        notes.append(f"native runner rows skipped: {e}")
        for group in groups:
            group.targets = [t for t in group.targets if t.kind != "native"]
        return None
    for target in natives:
        target.options = {**target.options, "binary": str(binary)}
    return binary


def _pool(results: list[dict[str, Any]]) -> dict[str, Any]:
    """One job's worker results from several rounds as one: the timed latencies pooled in round order; load time,
    memory and first-run figures from the first round (a fresh process, as in a one-round run). Any failed round
    is the job's result."""
    failed = next((r for r in results if "error" in r), None)
    if failed is not None:
        return failed
    pooled = {**results[0], "rounds": len(results), "runs": [dict(run) for run in results[0]["runs"]]}
    for other in results[1:]:
        for run, more in zip(pooled["runs"], other["runs"]):
            run["latencies_ms"] = run["latencies_ms"] + more["latencies_ms"]
    return pooled


def _measure(groups: list[ModelGroup], seq_lens: tuple[int, ...], threads: tuple[int, ...], settings: dict[str, Any],
             device: dict[str, Any], timeout_s: float, scratch: Path, notes: list[str], progress: bool
             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every (target, threads) in its own worker, `settings["rounds"]` times: round r starts the job list r/rounds of
    the way through it, so slow drift of a shared machine (absolute times move +-15% over minutes here) falls on
    every target alike; each round times iterations/rounds runs (rounded up). Returns (minibench records, raw
    worker results)."""
    jobs = [(g, t, n) for g in groups for t in g.targets for n in threads]
    jobs.sort(key=lambda j: j[1].role != "ceiling")  # ceilings first: every other fraction needs them
    rounds = int(settings.get("rounds", 1))
    iterations = -(-settings["iterations"] // rounds)
    results: list[list[dict[str, Any]]] = [[] for _ in jobs]
    sweeps = [[s for s in seq_lens if s <= group.max_seq_len] for group, _, _ in jobs]
    bar = tqdm(total=len(jobs) * rounds, desc="benchmark", unit="run", disable=not progress)
    for r in range(rounds):
        start = r * len(jobs) // rounds
        for i in [(start + k) % len(jobs) for k in range(len(jobs))]:
            group, target, n = jobs[i]
            bar.set_postfix_str(f"{group.model} {target.label} t{n}" + (f" round {r + 1}" if rounds > 1 else ""))
            results[i].append(run_worker(target, n, sweeps[i], iterations, settings["warmups"], timeout_s, scratch))
            bar.update()
    bar.close()
    ceilings: dict[tuple, float] = {}
    records, raw = [], []
    for (group, target, n), rounds_of_job, sweep in zip(jobs, results, sweeps):
        result = _pool(rounds_of_job)
        raw.append({"model": group.model, "target": target.label, "threads": n, "path": str(target.path),
                    "result": result})
        if "error" in result:
            notes.append(f"{group.model} {target.label} ({n} threads) failed: {result['error']}")
        flops = {s: encoder_gemm_flops(group.config, s) for s in sweep}
        if target.role == "ceiling" and "error" not in result:
            for run in result["runs"]:
                p50 = latency_stats(run["latencies_ms"]).p50
                ceilings[(group.model, target.quantization, n, run["seq_len"])] = flops[run["seq_len"]] / p50 / 1e6
        records += _records_for(target, n, result, device, settings, flops, ceilings)
    return records, raw


def _on_phone(groups: list[ModelGroup], seq_lens: tuple[int, ...], threads: tuple[int, ...],
              settings: dict[str, Any], serial: str | None) -> list[dict[str, Any]]:
    from albert_edge.bench.adb import benchmark_on_device

    records = []
    for group in groups:
        for target in [t for t in group.targets if t.role == "ours" and t.kind == "pte"]:
            sweep = [s for s in seq_lens if s <= group.max_seq_len]
            phone = benchmark_on_device(target.path, target=target.label, seq_lens=sweep, threads=threads,
                                        iterations=settings["iterations"], warmups=settings["warmups"], serial=serial)
            for r in phone:  # the app names the model after the file; group it with the host rows
                r["benchmarkModel"]["name"] = target.model
            records += phone
    return records


def bench(
    artifacts: Sequence[str | os.PathLike],
    *,
    out: str | os.PathLike = DEFAULT_OUT,
    seq_lens: Sequence[int] | str = DEFAULT_SEQ_LENS,
    threads: Sequence[int] | str = DEFAULT_THREADS,
    iterations: int = 50,
    warmups: int = 5,
    backends: Sequence[str] = BACKENDS,
    peers: Sequence[str] = tuple(PEERS),
    ceiling: bool = True,
    eager_model: str | os.PathLike | None = None,
    host: bool = True,
    adb: bool = False,
    serial: str | None = None,
    timeout_s: float = 1800,
    progress: bool = True,
    depth_data: str | os.PathLike | None = None,
    depth_limit: int | None = None,
    rounds: int = 1,
) -> BenchResult:
    """Benchmark export directories; write benchmark_results.json, report.md and plots into `out`. With
    `depth_data` (a labelled file), stepwise exports also get the accuracy-vs-latency sweep over depth (`depth.py`;
    `depth_limit`: its first N rows). `rounds` > 1 runs every target that many times in rotated order and pools its
    latencies (`_measure`): the mode for comparing targets on a noisy machine."""
    started = time.time()
    # 1. Check everything cheap first.
    if not artifacts:
        raise BenchError("pass at least one export directory (written by python -m albert_edge.export)")
    if not host and not adb:
        raise BenchError("--no-host leaves nothing to measure; add --adb to run on a phone")
    if iterations < 1 or warmups < 0:
        raise BenchError(f"--iterations must be >= 1 and --warmups >= 0, got {iterations} and {warmups}")
    if not 1 <= rounds <= iterations:
        raise BenchError(f"--rounds must be in 1..--iterations ({iterations}), got {rounds}")
    unknown = [b for b in backends if b not in BACKENDS] + [p for p in peers if p not in PEERS]
    if unknown:
        raise BenchError(f"unknown backend or peer {unknown[0]!r}; backends: {', '.join(BACKENDS)}; "
                         f"peers: {', '.join(PEERS)}")
    seq_lens, threads = parse_int_list(seq_lens, "--seq-lens"), parse_int_list(threads, "--threads")
    exports = [Artifact.read(a) for a in artifacts]
    eager_model = Path(eager_model) if eager_model is not None else None
    if eager_model is not None and not (eager_model / "config.json").is_file():
        raise BenchError(f"--eager-model {eager_model}: no config.json; pass the HF-format directory the export read")
    if adb:
        from albert_edge.bench.adb import check_device

        serial = check_device(serial)
    groups = _group(exports)
    depth_jobs = depth_mod.plan(exports, depth_data, depth_limit) if depth_data is not None and host else []
    for group in groups:
        if not any(s <= group.max_seq_len for s in seq_lens):
            raise BenchError(f"{group.model}: no --seq-lens within its max_seq_len {group.max_seq_len}")
    notes: list[str] = []
    machine = machine_info()
    usable = tuple(t for t in threads if t <= machine["usable_cores"])
    if len(usable) < len(threads):
        notes.append(f"thread counts above this machine's {machine['usable_cores']} usable cores skipped: "
                     f"{', '.join(str(t) for t in threads if t not in usable)}")
    threads = usable or (machine["usable_cores"],)
    available_peers = []
    for p in peers:
        missing = missing_packages(p)
        if missing:
            notes.append(f"peer {p} skipped: {', '.join(missing)} not installed (pip install 'albert_edge[bench]')")
        else:
            available_peers.append(p)
    out = Path(out)
    (out / "workers").mkdir(parents=True, exist_ok=True)

    # 2. Our targets; on the host also the references, peers and ceilings (cached).
    for group in groups:
        for a in group.artifacts:
            group.targets += a.targets(tuple(backends))
        if host:
            _add_references(group, backends, available_peers, ceiling, eager_model, out / "cache", notes, progress)
    binary = _prepare_native(groups, out / "cache", notes, depth_sweeps=bool(depth_jobs) and "native" in backends)
    if binary is not None and depth_jobs:  # each sweep again in the app's kind of process
        depth_jobs = depth_jobs + [replace(job, native=True) for job in depth_jobs]

    # 3. Measure, one process per (target, threads); 4. the phone.
    settings = {"iterations": -(-iterations // rounds) * rounds, "warmups": warmups, "rounds": rounds}
    records, raw = [], []
    device = device_info(machine)
    if host:
        records, raw = _measure(groups, seq_lens, threads, settings, device, timeout_s, out / "workers", notes,
                                progress)
    for job in tqdm(depth_jobs, desc="depth sweep", unit="export", disable=not progress or not depth_jobs):
        model = next(g.model for g in groups if job.artifact in g.artifacts)
        for n in threads:
            result = (native_mod.measure_depth(binary, job, n, warmups, timeout_s) if job.native else
                      run_spec(f"{model}.{job.label}.depth.t{n}", job.worker_spec(n, warmups), timeout_s,
                               out / "workers"))
            if "error" in result:
                notes.append(f"{model} {job.label} depth sweep ({n} threads) failed: {result['error']}")
            raw.append({"model": model, "target": f"{job.label}: depth sweep", "threads": n,
                        "path": str(job.artifact.directory), "result": result})
            records += depth_mod.records(job, n, result, device, model, report_mod.record)
    if adb:
        records += _on_phone(groups, seq_lens, threads, settings, serial)
    if not records:
        raise BenchError("nothing was measured; pass --backends/--peers that exist, or --adb")

    # 5. Report.
    context = {
        "machine": machine, "settings": {**settings, "seq_lens": list(seq_lens), "threads": list(threads),
                                         "backends": list(backends), "peers": available_peers, "ceiling": ceiling},
        "models": {g.model: {"config": g.config.to_dict(), "task": g.task, "max_seq_len": g.max_seq_len,
                             "weights": g.weights, "exports": [str(a.directory) for a in g.artifacts],
                             "targets": {t.label: {"path": str(t.path), "size_bytes": t.size_bytes,
                                                   "planned_bytes": t.planned_bytes, "role": t.role, **t.extra}
                                         for t in g.targets}}
                   for g in groups},
        "notes": notes, "load_avg_end": load_average(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
        "seconds": round(time.time() - started, 1),
    }
    files = {"results": out / "benchmark_results.json", "raw": out / "benchmark_raw.json", "report": out / "report.md"}
    # One record per line: compact like minibench's Gson output, still greppable and diffable.
    report_mod.write_text(files["results"], "[\n" + ",\n".join(json.dumps(r) for r in records) + "\n]\n")
    report_mod.write_text(files["raw"], json.dumps({**context, "runs": raw}, indent=1) + "\n")
    rows = report_mod.pivot(records)
    sweep = [r for r in rows if r.extra.get("sweep") == depth_mod.SWEEP]
    rows = [r for r in rows if r.extra.get("sweep") != depth_mod.SWEEP]
    report_mod.write_text(files["report"], report_mod.markdown(rows, context) + depth_mod.markdown(sweep))
    files.update(report_mod.plots(rows, out))
    files.update(depth_mod.plot(sweep, out, report_mod.save_png))
    return BenchResult(out=out, records=records, files=files, notes=notes,
                       summary=report_mod.summary(rows, context) + depth_mod.summary(sweep))
