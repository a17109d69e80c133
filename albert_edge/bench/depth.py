"""Accuracy against mean latency over depth: fixed depths 1..N and adaptive exit policies, on a labelled file.

    python -m albert_edge.bench out/sst2_int8 --depth-data albert_edge/assets/sst2_dev.tsv --threads 2

For every export with a stepwise program (`export --stepwise`) of a model with class logits, one worker process
(`worker.py`, kind "depth") runs each labelled sentence, encoded at its own length, through every setting in turn:
`forward`, the chain at each fixed depth 1..N, and the exit policies (the one the manifest ships, PABEE patience
1..3 and four entropy thresholds). Settings rotate per sentence, so machine drift hits all of them alike. A setting's
latency is the wall time of the runtime call the app mirrors (`Runner.run`, `StepwiseRunner.run(depth=)`,
`StepwiseRunner.run_adaptive`), the loop's Python overhead included; accuracy and depth come from the same calls.
For each policy the report also gives what its per-sentence depths cost in the fixed-depth runs of the same
sentences: the policy's latency without reading an exit head after every depth.

The rows are minibench records like the others (`extraInfo.sweep = "depth"`), with metrics `accuracy(%)`,
`mean_depth`, `avg_inference_latency(ms)` (the mean over sentences: what adaptive depth saves on a workload) and
the p50. `markdown` gives the report's section with the goal (the shipped policy against `forward`: >= 1.5x lower
mean latency at <= 0.5 point accuracy loss), `plot` the accuracy-vs-latency figure.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from albert_edge.bench.targets import Artifact, BenchError

SWEEP = "depth"
MEAN = "avg_inference_latency(ms)"
SAME_DEPTHS = "fixed_at_same_depths(ms)"
SPEEDUP_GOAL, LOSS_GOAL = 1.5, 0.5  # x lower mean latency than forward, accuracy points


@dataclass
class DepthJob:
    """One export's sweep: its stepwise program, the encoded sentences and labels, the settings to run."""

    artifact: Artifact
    examples: list[dict[str, list[int]]]
    labels: list[int]
    settings: list[dict[str, Any]]
    data: str
    native: bool = False  # run by the native runner (`native.py`: a C++ process like an app's) instead of Python

    @property
    def label(self) -> str:
        return f"pte-{self.artifact.quantization}-stepwise" + ("-native" if self.native else "")

    def worker_spec(self, threads: int, warmups: int) -> dict[str, Any]:
        return {"kind": "depth", "path": str(self.artifact.directory), "threads": threads, "warmups": warmups,
                "examples": self.examples, "settings": self.settings}


def settings_for(num_layers: int, shipped: dict[str, Any] | None) -> list[dict[str, Any]]:
    """forward, every fixed depth, the shipped policy (if any), patience 1..3 and entropy 0.1/0.3/0.5/0.7."""
    out: list[dict[str, Any]] = [{"name": "forward", "kind": "forward"}]
    out += [{"name": f"depth {d}", "kind": "fixed", "depth": d} for d in range(1, num_layers + 1)]
    policies = [{"kind": "patience", "value": float(p), "min_depth": 1} for p in range(1, min(3, num_layers - 1) + 1)]
    policies += [{"kind": "entropy", "value": t, "min_depth": 1} for t in (0.1, 0.3, 0.5, 0.7)]
    if shipped:
        out.append({"name": "shipped " + policy_name(shipped), "kind": "adaptive", "policy": shipped, "shipped": True})
        policies = [p for p in policies if (p["kind"], p["value"], p["min_depth"])
                    != (shipped["kind"], float(shipped["value"]), int(shipped.get("min_depth", 1)))]
    out += [{"name": policy_name(p), "kind": "adaptive", "policy": p} for p in policies]
    return out


def policy_name(policy: dict[str, Any]) -> str:
    value = f"{int(policy['value'])}" if policy["kind"] == "patience" else f"{float(policy['value']):.2f}"
    floor = f" from {policy['min_depth']}" if int(policy.get("min_depth", 1)) > 1 else ""
    return f"{policy['kind']} {value}{floor}"


def plan(artifacts: list[Artifact], data: str | os.PathLike, limit: int | None) -> list[DepthJob]:
    """The sweeps `--depth-data` asks for; a one-line BenchError when no export can run one or the file is bad."""
    from albert_edge import tasks
    from albert_edge.export import read_eval_data
    from albert_edge.files import AlbertEdgeError
    from albert_edge.tokenizer import AlbertTokenizer
    from albert_edge.verify import build_examples

    data = Path(data)
    if not data.is_file():
        raise BenchError(f"--depth-data {data}: no such file; pass a labelled sentence<TAB>label table "
                         "(e.g. albert_edge/assets/sst2_dev.tsv)")
    if limit is not None and limit < 1:
        raise BenchError(f"--depth-limit must be >= 1, got {limit}")
    jobs = []
    for a in artifacts:
        stepwise = a.manifest.stepwise or {}
        if a.file("pte_stepwise") is None or not stepwise.get("schedule"):
            continue
        if a.task is None or not tasks.get(a.task).labelled_eval_data:
            continue
        try:
            texts, labels = read_eval_data(data, a.config, a.task)
            tokenizer = AlbertTokenizer.from_pretrained(a.directory)
        except AlbertEdgeError as e:
            raise BenchError(f"--depth-data: {e}") from None
        if limit is not None:
            texts, labels = texts[:limit], labels[:limit]
        encoded = build_examples(texts, labels, tokenizer, a.config, a.task, a.max_seq_len, a.input_names)
        examples = [{name: [int(v) for v in array[0]] for name, array in e.inputs.items()} for e in encoded]
        jobs.append(DepthJob(a, examples, list(labels), settings_for(len(stepwise["schedule"]),
                                                                     stepwise.get("exit_policy")), data.name))
    if not jobs:
        raise BenchError("--depth-data needs an export with a stepwise program of a classification model; "
                         "export one with python -m albert_edge.export --int8 --stepwise")
    return jobs


def records(job: DepthJob, threads: int, result: dict[str, Any], device: dict[str, Any], model: str,
            record) -> list[dict[str, Any]]:
    """minibench records of one sweep (`record` is report.record)."""
    base = {"role": "ours", "runtime": "executorch (C++ Module)" if job.native else "executorch",
            "threads": str(threads), "sweep": SWEEP, "seq_len": "",
            "data": job.data, "examples": str(len(job.labels)), "artifact": job.artifact.file("pte_stepwise").name}
    q = job.artifact.quantization
    if "error" in result:
        return [record(model, "xnnpack", q, {**base, "target": f"{job.label}: sweep"}, "load_status", 1.0, device)]
    labels = np.asarray(job.labels)
    fixed = {s["depth"]: np.asarray(m["latencies_ms"]) for s, m in zip(job.settings, result["settings"])
             if s["kind"] == "fixed"}
    out = []
    for order, (setting, measured) in enumerate(zip(job.settings, result["settings"])):
        extra = {**base, "target": f"{job.label}: {setting['name']}", "setting": setting["name"], "order": str(order),
                 "setting_kind": setting["kind"], "shipped": str(bool(setting.get("shipped")))}
        latencies = np.asarray(measured["latencies_ms"])
        figures = {"load_status": 0.0,
                   "accuracy(%)": 100 * float(np.mean(np.asarray(measured["predictions"]) == labels)),
                   "mean_depth": float(np.mean(measured["depths"])), MEAN: float(latencies.mean()),
                   "p50_inference_latency(ms)": float(np.median(latencies)),
                   "p90_inference_latency(ms)": float(np.percentile(latencies, 90))}
        if setting["kind"] == "adaptive":  # settings_for runs every fixed depth, so each chosen depth has its run
            # Each sentence at the depth the policy chose, from the fixed-depth runs: the policy's cost without
            # reading an exit head after every depth.
            figures[SAME_DEPTHS] = float(np.mean([fixed[d][i] for i, d in enumerate(measured["depths"])]))
        out += [record(model, "xnnpack", q, extra, metric, value, device) for metric, value in figures.items()]
    return out


# -- report --------------------------------------------------------------------------------------------------------
def _groups(rows) -> dict[tuple, list]:
    groups = defaultdict(list)
    for r in rows:
        if r.extra.get("sweep") == SWEEP and r.metrics.get("load_status", 0.0) == 0.0:
            groups[(r.device, r.model, r.threads, r.target.split(":")[0])].append(r)
    for here in groups.values():  # the sweep's own order: forward, depth 1..N, the shipped policy, the others
        here.sort(key=lambda r: int(r.extra.get("order", 0)))
    return groups


def goal(rows) -> tuple[str, bool] | None:
    """The shipped policy against `forward` in one sweep's rows: (text, met), or None without a shipped policy."""
    by = {r.extra.get("setting"): r for r in rows}
    shipped = next((r for r in rows if r.extra.get("shipped") == "True"), None)
    forward = by.get("forward")
    if shipped is None or forward is None:
        return None
    speedup = forward.metrics[MEAN] / shipped.metrics[MEAN]
    loss = forward.metrics["accuracy(%)"] - shipped.metrics["accuracy(%)"]
    met = speedup >= SPEEDUP_GOAL and loss <= LOSS_GOAL
    return (f"{shipped.extra['setting']}: {shipped.metrics['accuracy(%)']:.2f}% at mean depth "
            f"{shipped.metrics['mean_depth']:.2f}, {shipped.metrics[MEAN]:.3f} ms; forward "
            f"{forward.metrics['accuracy(%)']:.2f}%, {forward.metrics[MEAN]:.3f} ms: {speedup:.2f}× lower mean "
            f"latency, accuracy {-loss:+.2f} points (goal ≥ {SPEEDUP_GOAL}× at ≤ {LOSS_GOAL} point loss: "
            f"{'met' if met else 'MISSED'})"), met


def markdown(rows) -> str:
    """The report's accuracy-vs-latency section ('' when no sweep ran)."""
    lines = []
    for (device, model, threads, label), here in sorted(_groups(rows).items()):
        first = here[0]
        forward = next((r for r in here if r.extra.get("setting") == "forward"), None)
        lines += ["", f"## Depth: {model} {label}, {threads} thread{'s' if threads != 1 else ''} — {device}", "",
                  (f"{first.extra.get('examples')} sentences of {first.extra.get('data')}, each through every "
                   "setting in turn (rotating order); latency is the runtime call, the loop's overhead included."), "",
                  "| setting | accuracy % | mean depth | mean ms | p50 ms | p90 ms | mean × forward | "
                  "same depths, no exit checks: mean ms |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in here:
            m = r.metrics
            ratio = f"{m[MEAN] / forward.metrics[MEAN]:.3f}" if forward else "–"
            same = f"{m[SAME_DEPTHS]:.3f}" if SAME_DEPTHS in m else "–"
            lines.append(f"| {r.extra.get('setting')} | {m['accuracy(%)']:.2f} | {m['mean_depth']:.2f} | "
                         f"{m[MEAN]:.3f} | {m['p50_inference_latency(ms)']:.3f} | "
                         f"{m['p90_inference_latency(ms)']:.3f} | {ratio} | {same} |")
        verdict = goal(here)
        lines += ["", f"Goal: {verdict[0]}" if verdict else "Goal: n/a (the manifest ships no exit policy)"]
    return "\n".join(lines) + ("\n" if lines else "")


def summary(rows) -> str:
    out = []
    for (device, model, threads, label), here in sorted(_groups(rows).items()):
        verdict = goal(here)
        out.append(f"{model} {label} {threads} thread(s) depth sweep [{device}]: "
                   + (verdict[0] if verdict else "no shipped exit policy"))
    return "\n".join(out) + ("\n" if out else "")


def plot(rows, out: Path, save) -> dict[str, Path]:
    """accuracy_vs_latency_<model>.png per model: fixed depths as a line, exit policies as points, forward a star."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = {}
    by_model = defaultdict(list)
    for key, here in _groups(rows).items():
        by_model[key[1]].append((key, here))
    for model, groups in by_model.items():
        fig, ax = plt.subplots(figsize=(7, 4.5))
        several = len({key[3] for key, _ in groups}) > 1  # two exports of one model: name them
        for (device, _, threads, label), here in groups:
            tag = f"{threads} thread{'s' if threads != 1 else ''}" + (f", {label}" if several else "")
            fixed = sorted((r for r in here if r.extra.get("setting_kind") == "fixed"), key=lambda r: r.metrics[MEAN])
            ax.plot([r.metrics[MEAN] for r in fixed], [r.metrics["accuracy(%)"] for r in fixed], "-o",
                    label=f"fixed depth ({tag})")
            for r in fixed:
                ax.annotate(r.extra["setting"].split()[-1], (r.metrics[MEAN], r.metrics["accuracy(%)"]),
                            fontsize=7, xytext=(3, -9), textcoords="offset points")
            adaptive = [r for r in here if r.extra.get("setting_kind") == "adaptive"]
            ax.plot([r.metrics[MEAN] for r in adaptive], [r.metrics["accuracy(%)"] for r in adaptive], "s",
                    label=f"exit policies ({tag})")
            for r in adaptive:
                shipped = r.extra.get("shipped") == "True"
                if shipped:
                    ax.plot([r.metrics[MEAN]], [r.metrics["accuracy(%)"]], "D", color="red", label=f"shipped ({tag})")
                ax.annotate(r.extra["setting"], (r.metrics[MEAN], r.metrics["accuracy(%)"]), fontsize=6,
                            xytext=(3, 3), textcoords="offset points", weight="bold" if shipped else "normal")
            for r in here:
                if r.extra.get("setting") == "forward":
                    ax.plot([r.metrics[MEAN]], [r.metrics["accuracy(%)"]], "*", markersize=12,
                            label=f"forward ({tag})")
        ax.set(xlabel="mean latency per sentence (ms)", ylabel="accuracy (%)",
               title=f"{model}: accuracy vs latency over depth")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        files[f"accuracy_vs_latency_{model}"] = save(fig, out / f"accuracy_vs_latency_{model}.png")
        plt.close(fig)
    return files
