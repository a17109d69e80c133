"""From measurements to what a reader needs: minibench records, a Markdown report, plots, ratios and goals.

`benchmark_results.json` follows ExecuTorch's Android benchmark app (minibench, `extension/benchmark/android/
benchmark/app/.../BenchmarkMetric.java`): a JSON list of records

    {"benchmarkModel": {"name", "backend", "quantization", "extraInfo": {...}}, "metric": "avg_inference_latency(ms)",
     "actualValue": 12.3, "targetValue": 0, "deviceInfo": {"arch", "device", "os", "availMem", "totalMem", ...}}

with minibench's metric names where one exists -- `avg_inference_latency(ms)`, `trimmean_inference_latency(ms)`,
`model_load_time(ms)`, `load_status` -- the names ExecuTorch's iOS result extractor uses for memory
(`peak_load_mem_usage(mb)`, `peak_inference_mem_usage(mb)`, in MiB), and the Android demo's p50/p90/p99/min/max.
`extraInfo` (string values, as the demo writes them) carries what minibench encodes in file names: the target
label, sequence length, threads, iterations. Everything else reads these records back (`pivot`), so rows measured
on a phone over adb and rows measured here go through the same tables.

All latency ratios use the median (p50): the machine this runs on is usually shared, and the median is what one
noisy neighbour moves least.

Why one module of ~480 lines: pivoting, goals, Markdown and plots all read the same record and row types; each
section is a handful of short functions.
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from albert_edge.files import atomic_write_text

MIB = 1024 * 1024
GOAL_SEQ, SHORT_SEQ = 128, 16
ROLE_ORDER = {"ours": 0, "reference": 1, "peer": 2, "ceiling": 3}
OURS_ORDER = ("pte-int8", "pte-int8-nocache", "pte-fp32", "pte-fp32-nocache", "onnx-int8", "ort-int8",
              "onnx-int8-static", "onnx-fp32", "ort-fp32", "eager-fp32")
OPTIMUM = "hf-optimum-et-int8"
ORT_BEST = "hf-ortopt-int8"
ONNX_SIZE_GOAL = 13_000_000  # bytes: "13 MB"
ONNX_LATENCY_GOAL = 0.9  # × ORT optimizer + int8 on Hugging Face's graph
LATENCY = "p50_inference_latency(ms)"


def _load_note(machine: dict, context: dict) -> str:
    loads = [x for x in (machine.get("load_avg"), context.get("load_avg_end")) if isinstance(x, (int, float))]
    if loads and max(loads) > machine["usable_cores"]:
        return " (above the core count: other processes competed with the run)"
    return ""


def write_text(path: Path, text: str) -> None:
    """Atomically (temp file + rename), readable by all like any other output file (mkstemp's default is 0600)."""
    atomic_write_text(path, text)
    os.chmod(path, 0o644)


def record(name: str, backend: str, quantization: str, extra: dict[str, str], metric: str, value: float,
           device: dict[str, Any]) -> dict[str, Any]:
    """One minibench record."""
    return {"benchmarkModel": {"name": name, "backend": backend, "quantization": quantization, "extraInfo": extra},
            "metric": metric, "actualValue": float(value), "targetValue": 0, "deviceInfo": device}


@dataclass
class Row:
    """All metrics of one (device, model, target, threads, seq_len)."""

    device: str
    model: str
    target: str
    role: str
    backend: str
    quantization: str
    threads: int
    seq_len: int | None
    metrics: dict[str, float] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    host: bool = True

    def get(self, metric: str) -> float | None:
        value = self.metrics.get(metric)
        if value is None and metric == "peak_inference_mem_usage(mb)" and "peak_mem(bytes)" in self.metrics:
            value = self.metrics["peak_mem(bytes)"] / MIB  # the Android demo reports bytes
        return value

    @property
    def latency(self) -> float | None:
        return self.get(LATENCY)

    @property
    def ok(self) -> bool:
        return self.metrics.get("load_status", 0.0) == 0.0 and self.latency is not None


def _int(text: Any) -> int | None:
    try:
        return int(str(text))
    except ValueError:
        return None


def pivot(records: list[dict[str, Any]]) -> list[Row]:
    rows: dict[tuple, Row] = {}
    for r in records:
        bm, info = r["benchmarkModel"], r.get("deviceInfo", {})
        extra = {k: str(v) for k, v in (bm.get("extraInfo") or {}).items()}
        device = " / ".join(str(info.get(k, "")) for k in ("device", "arch", "os") if info.get(k))
        target = extra.get("target") or f"{bm.get('backend', '')}-{bm.get('quantization', '')}"
        key = (device, bm["name"], target, _int(extra.get("threads")) or 0, _int(extra.get("seq_len")))
        row = rows.get(key)
        if row is None:
            row = rows[key] = Row(device=device, model=bm["name"], target=target, role=extra.get("role", "ours"),
                                  backend=bm.get("backend", ""), quantization=bm.get("quantization", ""),
                                  threads=key[3], seq_len=key[4], extra=extra,
                                  host=not extra.get("source", "").startswith("adb"))
        row.metrics[r["metric"]] = float(r["actualValue"])
    return sorted(rows.values(), key=_order)


def _order(row: Row) -> tuple:
    ours = OURS_ORDER.index(row.target) if row.target in OURS_ORDER else len(OURS_ORDER)
    return (not row.host, row.device, row.model, row.threads, row.seq_len or 0, ROLE_ORDER.get(row.role, 9), ours,
            row.target)


def _index(rows: list[Row]) -> dict[tuple, Row]:
    return {(r.device, r.model, r.target, r.threads, r.seq_len): r for r in rows if r.ok}


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _table(header: list[str], lines: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(line) + " |" for line in lines]
    return "\n".join(out)


# -- ratios and goals ------------------------------------------------------------------------------------------------
def _sections(rows: list[Row]) -> list[tuple[str, str, int]]:
    return sorted({(r.device, r.model, r.threads) for r in rows}, key=lambda s: (s[0], s[1], s[2]))


def main_seq(rows: list[Row]) -> int | None:
    """The sequence length ratios are quoted at: 128 when measured, else the longest measured."""
    seqs = {r.seq_len for r in rows if r.seq_len}
    return GOAL_SEQ if GOAL_SEQ in seqs else (max(seqs) if seqs else None)


def ratio_table(rows: list[Row], device: str, model: str, threads: int, seq: int) -> tuple[list[str], list[list[str]]]:
    """Each of our targets' p50 against its own fp32 counterpart, every peer, and the fastest peer."""
    idx = _index(rows)
    here = [r for r in rows if (r.device, r.model, r.threads, r.seq_len) == (device, model, threads, seq) and r.ok]
    peers = [r for r in here if r.role == "peer"]
    fastest = min(peers, key=lambda r: r.latency) if peers else None
    header = ["target", "p50 ms", "× own fp32"] + [f"× {p.target}" for p in peers] + (
        [f"× fastest peer ({fastest.target})"] if fastest else [])
    lines = []
    for r in here:
        if r.role not in ("ours", "reference"):
            continue
        fp32 = idx.get((device, model, r.target.replace("int8", "fp32"), threads, seq))
        line = [r.target, _fmt(r.latency), _fmt(r.latency / fp32.latency) if fp32 and fp32 is not r else "–"]
        line += [_fmt(r.latency / p.latency) for p in peers]
        if fastest:
            line.append(_fmt(r.latency / fastest.latency))
        lines.append(line)
    return header, lines


@dataclass
class Goal:
    name: str
    bound: str
    value: str
    met: bool | None  # None: not measurable in this run
    detail: str = ""

    @property
    def verdict(self) -> str:
        if self.met is None:
            return f"n/a ({self.detail})"
        return "met" if self.met else f"MISSED ({self.detail})"


def _vs(value: float, bound: float, unit: str = "") -> tuple[bool, str]:
    met = value <= bound
    return met, ("" if met else f"{value - bound:+.3g}{unit} over the bound, {value / bound - 1:+.0%}")


def _size_goal(name: str, row: Row, also: str = "") -> Goal:
    """Peak RSS over the baseline within 1.5x the artifact's size, naming the runtime's own library pages in it."""
    size, peak = row.get("artifact_size(mb)"), row.get("peak_mem_over_baseline(mb)")
    met, how = _vs(peak / size, 1.5, "×")
    code = row.get("library_rss_growth(mb)")
    if code is not None:  # the runtime's own library pages that loading and running faulted in
        also = f" (of which {code:.1f} MiB the runtime's library code; without it {(peak - code) / size:.2f}×){also}"
    return Goal(name, "≤ 1.5×", f"{peak:.1f} / {size:.1f} MiB = {peak / size:.2f}× at seq {row.seq_len}{also}", met,
                how)


def goals(rows: list[Row], device: str, model: str, threads: int, model_info: dict[str, Any] | None = None
          ) -> list[Goal]:
    """The int8 .pte's goals from one run, at GOAL_SEQ (and SHORT_SEQ) and `threads`."""
    idx = _index(rows)
    at = lambda target, seq=GOAL_SEQ: idx.get((device, model, target, threads, seq))  # noqa: E731
    pte, out = at("pte-int8"), []
    missing = f"pte-int8 not measured at seq {GOAL_SEQ}" if pte is None else ""

    peers = [r for r in rows if (r.device, r.model, r.threads, r.seq_len) == (device, model, threads, GOAL_SEQ)
             and r.role == "peer" and r.ok]
    if pte and peers:
        fastest = min(peers, key=lambda r: r.latency)
        ratio = pte.latency / fastest.latency
        met, how = _vs(ratio, 0.8)
        out.append(Goal("latency vs fastest peer", "≤ 0.80×", f"{pte.latency:.2f} / {fastest.latency:.2f} ms "
                        f"({fastest.target}) = {ratio:.2f}×", met, how))
    else:
        out.append(Goal("latency vs fastest peer", "≤ 0.80×", "–", None, missing or "no peer measured"))

    optimum = at(OPTIMUM)
    if pte and optimum:
        ratio = pte.latency / optimum.latency
        met, how = _vs(ratio, 0.4)
        out.append(Goal("latency vs optimum-executorch recipe", "≤ 0.40×",
                        f"{pte.latency:.2f} / {optimum.latency:.2f} ms = {ratio:.2f}×", met, how))
    else:
        out.append(Goal("latency vs optimum-executorch recipe", "≤ 0.40×", "–", None,
                        missing or f"{OPTIMUM} not measured"))

    short = at("pte-int8", SHORT_SEQ)
    if pte and short:
        ratio = short.latency / pte.latency
        met, how = _vs(ratio, 0.2)
        out.append(Goal(f"latency(seq {SHORT_SEQ}) / latency(seq {GOAL_SEQ})", "≤ 0.20",
                        f"{short.latency:.2f} / {pte.latency:.2f} ms = {ratio:.3f}", met, how))
    else:
        out.append(Goal(f"latency(seq {SHORT_SEQ}) / latency(seq {GOAL_SEQ})", "≤ 0.20", "–", None,
                        missing or f"pte-int8 not measured at seq {SHORT_SEQ}"))

    # Memory at the longest measured length (ascending sweep: its peak covers every shorter one).
    longest = max((r for r in rows if (r.device, r.model, r.target, r.threads) == (device, model, "pte-int8", threads)
                   and r.ok), key=lambda r: r.seq_len or 0, default=None)
    if longest and longest.get("peak_mem_over_baseline(mb)") is not None \
            and longest.get("planned_activation_memory(mb)") is not None:
        size, planned = longest.get("artifact_size(mb)"), longest.get("planned_activation_memory(mb)")
        bound = size + 2 * planned + 30
        peak = longest.get("peak_mem_over_baseline(mb)")
        met, how = _vs(peak, bound, " MiB")
        out.append(Goal("peak RSS over runtime baseline", "≤ size + 2×planned + 30 MiB",
                        f"{peak:.1f} MiB at seq {longest.seq_len} vs {size:.1f} + 2×{planned:.2f} + 30 = "
                        f"{bound:.1f} MiB", met, how))
    else:
        out.append(Goal("peak RSS over runtime baseline", "≤ size + 2×planned + 30 MiB", "–", None,
                        "pte-int8 memory or planned memory not measured"))
    # The shared layer packed once (XNNPACK weight cache): RSS growth within 1.5x the file, and the row without it.
    if longest and longest.get("peak_mem_over_baseline(mb)") is not None:
        nocache = idx.get((device, model, "pte-int8-nocache", threads, longest.seq_len))
        without = nocache.get("peak_mem_over_baseline(mb)") if nocache else None
        size = longest.get("artifact_size(mb)")
        also = f"; weight cache off: {without:.1f} MiB ({without / size:.1f}×)" if without is not None else ""
        out.append(_size_goal("peak RSS over runtime baseline / .pte size", longest, also))
    else:
        out.append(Goal("peak RSS over runtime baseline / .pte size", "≤ 1.5×", "–", None,
                        "pte-int8 memory not measured"))
    # The same in the native runner (a C++ process like an app's: no Python, no libtorch, no mlock), where it ran.
    native = idx.get((device, model, "pte-int8-native", threads, longest.seq_len)) if longest else None
    if native and native.get("peak_mem_over_baseline(mb)") is not None:
        out.append(_size_goal("peak RSS over baseline / .pte size, native runner", native))

    # Issue 12: the fused, deduplicated .onnx against ORT's own recipe on Hugging Face's graph, at both lengths.
    name = "int8 .onnx vs ORT optimizer+int8"
    bound = f"≤ {ONNX_LATENCY_GOAL:.2f}× at seq {SHORT_SEQ} and {GOAL_SEQ}, ≤ 13 MB"
    pairs = [(at("onnx-int8", seq), at(ORT_BEST, seq)) for seq in (SHORT_SEQ, GOAL_SEQ)]
    pairs = [(o, r) for o, r in pairs if o and r]
    if pairs:
        size_bytes = pairs[0][0].get("artifact_size(mb)") * MIB
        ratios = [o.latency / r.latency for o, r in pairs]
        met = max(ratios) <= ONNX_LATENCY_GOAL and size_bytes <= ONNX_SIZE_GOAL
        how = "; ".join(x for x in (
            f"{max(ratios) - ONNX_LATENCY_GOAL:+.2f}× over the bound" if max(ratios) > ONNX_LATENCY_GOAL else "",
            f"{(size_bytes - ONNX_SIZE_GOAL) / 1e6:+.2f} MB over 13 MB" if size_bytes > ONNX_SIZE_GOAL else "") if x)
        value = ", ".join(f"seq {o.seq_len}: {o.latency:.2f} / {r.latency:.2f} ms = {o.latency / r.latency:.2f}×"
                          for o, r in pairs)
        out.append(Goal(name, bound, f"{value}; {size_bytes / 1e6:.2f} MB", met, how))
    else:
        out.append(Goal(name, bound, "–", None, f"onnx-int8 or {ORT_BEST} not measured"))
    return out


# -- Markdown ----------------------------------------------------------------------------------------------------------
MAIN_COLUMNS = [
    ("target", None), ("role", None), ("backend", None), ("quant", None), ("seq", None),
    ("size MiB", "artifact_size(mb)"), ("load ms", "model_load_time(ms)"), ("first ms", "first_inference_latency(ms)"),
    ("mean ms", "avg_inference_latency(ms)"), ("trim ms", "trimmean_inference_latency(ms)"), ("p50 ms", LATENCY),
    ("p90 ms", "p90_inference_latency(ms)"), ("p99 ms", "p99_inference_latency(ms)"),
    ("stdev ms", "stdev_inference_latency(ms)"), ("inf/s", "throughput(inferences/s)"),
    ("RSS load MiB", "rss_after_load(mb)"), ("peak MiB", "peak_inference_mem_usage(mb)"),
    ("peak−base MiB", "peak_mem_over_baseline(mb)"), ("of it lib code MiB", "library_rss_growth(mb)"),
    ("GEMM ceiling", "gemm_ceiling_fraction"),
]


def _main_line(r: Row) -> list[str]:
    line = [r.target, r.role, r.backend, r.quantization, str(r.seq_len or "–")]
    for _, metric in MAIN_COLUMNS[5:]:
        value = r.get(metric)
        if metric == "gemm_ceiling_fraction":
            text = f"{value:.0%}" if value is not None else (
                f"{r.get('gemm_throughput(gflops)'):.0f} GFLOP/s" if r.get("gemm_throughput(gflops)") else "–")
        else:
            text = _fmt(value, 1 if "MiB" in metric or "(mb)" in metric else 2)
        line.append(text)
    if r.metrics.get("load_status", 0.0) != 0.0:
        line[1] += " (FAILED)" if r.metrics["load_status"] == 1.0 else " (non-finite output)"
    return line


def markdown(rows: list[Row], context: dict[str, Any]) -> str:
    m, s = context["machine"], context["settings"]
    lines = ["# albert_edge benchmark", ""]
    lines += [f"- machine: {m['cpu']} ({m['arch']}), {m['usable_cores']} usable cores, {m['os']}; int8-relevant "
              f"ISA: {' '.join(m['isa']) or 'none found'}",
              "- versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
              f"- run: {context['started']}, {context['seconds']:.0f} s; {s['iterations']} timed iterations after "
              f"{s['warmups']} warm-ups per point, batch 1; each target × thread count in a fresh process"
              + (f", {s['rounds']} rounds in rotated order (latencies pooled; load and memory from the first)"
                 if s.get("rounds", 1) > 1 else ""),
              f"- machine load (1-min load average) at start / end: {m.get('load_avg')} / "
              f"{context.get('load_avg_end')} on {m['usable_cores']} cores" + _load_note(m, context),
              "- thread environment: " + (", ".join(f"{k}={v}" for k, v in m.get("env", {}).items()) or "defaults"),
              "- ONNX Runtime: one session per worker process, intra-op spinning on (ORT's default), so no session's "
              "spinning threads compete with another's",
              "- latency ratios use p50; memory is RSS in MiB; `peak−base` is the peak over the process's RSS after "
              "importing its runtime (the Python runtimes' own libraries: libtorch for .pte and eager, onnxruntime "
              "for .onnx)"]
    for name, info in context["models"].items():
        lines.append(f"- {name}: task {info['task']}, max_seq_len {info['max_seq_len']}, weights: "
                     f"{info['weights'] or 'n/a'}")
    if context["notes"]:
        lines += ["", "Notes:", ""] + [f"- {n}" for n in context["notes"]]
    for device, model, threads in _sections(rows):
        here = [r for r in rows if (r.device, r.model, r.threads) == (device, model, threads)]
        lines += ["", f"## {model}, {threads} thread{'s' if threads != 1 else ''} — {device}", ""]
        lines.append(_table([c for c, _ in MAIN_COLUMNS], [_main_line(r) for r in here]))
        seq = main_seq(here)
        if seq:
            header, body = ratio_table(rows, device, model, threads, seq)
            if body:
                lines += ["", f"Ratios of p50 latency at seq {seq} (below 1 = faster than the column's target):",
                          "", _table(header, body)]
        scaling = _scaling(rows, device, model, threads)
        if scaling:
            lines += ["", f"Scaling with sequence length: p50(seq {SHORT_SEQ}) / p50(seq {GOAL_SEQ}):", "",
                      _table(["target", "ratio"], scaling)]
        if any(r.target == "pte-int8" and r.host for r in here):
            lines += ["", f"Goals for the int8 .pte (seq {GOAL_SEQ}, {threads} thread{'s' if threads != 1 else ''}, "
                          "this run):", "",
                      _table(["goal", "bound", "measured", "verdict"],
                             [[g.name, g.bound, g.value, g.verdict] for g in goals(rows, device, model, threads)])]
    lines += ["", "Metric definitions: docs/benchmarks.md.", ""]
    return "\n".join(lines)


def _scaling(rows: list[Row], device: str, model: str, threads: int) -> list[list[str]]:
    idx, out = _index(rows), []
    for r in rows:
        if (r.device, r.model, r.threads, r.seq_len) != (device, model, threads, GOAL_SEQ) or not r.ok:
            continue
        short = idx.get((device, model, r.target, threads, SHORT_SEQ))
        if short and r.role != "ceiling":
            out.append([r.target, f"{short.latency / r.latency:.3f}"])
    return out


def summary(rows: list[Row], context: dict[str, Any]) -> str:
    """One screen: p50 at the main sequence length with ratios, then the goals."""
    out = []
    for device, model, threads in _sections(rows):
        here = [r for r in rows if (r.device, r.model, r.threads) == (device, model, threads)]
        seq = main_seq(here)
        if seq is None:
            continue
        out.append(f"{model}  {threads} thread(s)  seq {seq}  [{device}]")
        header, body = ratio_table(rows, device, model, threads, seq)
        widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(header)] if body else []
        for line in [header] + body if body else []:
            out.append("  " + "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths))))
        peers = sorted((r for r in here if r.seq_len == seq and r.role == "peer" and r.ok), key=lambda r: r.latency)
        if peers:
            out.append("  peers: " + ", ".join(f"{p.target} {p.latency:.2f} ms" for p in peers))
        if any(r.target == "pte-int8" and r.host for r in here):
            for g in goals(rows, device, model, threads):
                out.append(f"  goal {g.name} {g.bound}: {g.value}  -> {g.verdict}")
        out.append("")
    failed = [n for n in context["notes"] if "failed" in n or "skipped" in n]
    out += [f"note: {n}" for n in failed]
    return "\n".join(out).rstrip() + "\n"


# -- plots -------------------------------------------------------------------------------------------------------------
def save_png(fig, path: Path) -> Path:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def plots(rows: list[Row], out: Path) -> dict[str, Path]:
    """latency_vs_seq_<model>.png, size_<model>.png, peak_memory_<model>.png (host rows; phone rows as extra lines)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files: dict[str, Path] = {}
    by_model: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        if r.ok:
            by_model[r.model].append(r)
    for model, mrows in by_model.items():
        threads = sorted({r.threads for r in mrows})
        fig, axes = plt.subplots(1, len(threads), figsize=(6 * len(threads), 4.5), squeeze=False, sharey=True)
        for ax, n in zip(axes[0], threads):
            lines: dict[tuple, list[Row]] = defaultdict(list)
            for r in mrows:
                if r.threads == n and r.seq_len:
                    lines[(r.host, r.role, r.target)].append(r)
            for (host, role, target), pts in sorted(lines.items(), key=lambda kv: (not kv[0][0],
                                                                                  ROLE_ORDER.get(kv[0][1], 9))):
                pts.sort(key=lambda r: r.seq_len)
                style = {"ours": "-", "reference": "-.", "peer": "--", "ceiling": ":"}.get(role, "-")
                color = ("black" if "int8" in target else "gray") if role == "ceiling" else None
                ax.plot([r.seq_len for r in pts], [r.latency for r in pts], style, marker="o", markersize=3,
                        label=target if host else f"phone {target}", color=color)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set(xlabel="sequence length", title=f"{model}, {n} thread{'s' if n != 1 else ''}")
            ax.set_xticks(sorted({r.seq_len for r in mrows if r.seq_len}))
            ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.grid(True, which="both", alpha=0.3)
        axes[0][0].set_ylabel("p50 latency (ms)")
        handles, labels = axes[0][-1].get_legend_handles_labels()
        fig.legend(handles, labels, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
        fig.tight_layout()
        files[f"latency_{model}"] = save_png(fig, out / f"latency_vs_seq_{model}.png")
        plt.close(fig)

        host_rows = [r for r in mrows if r.host and r.role != "ceiling"]
        sizes = {}
        for r in host_rows:
            if r.get("artifact_size(mb)") is not None:
                sizes[r.target] = r.get("artifact_size(mb)")
        if sizes:
            fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(sizes)), 4))
            ax.bar(list(sizes), list(sizes.values()), color="tab:blue")
            for i, v in enumerate(sizes.values()):
                ax.text(i, v, f"{v:.1f}", ha="center", va="bottom", fontsize=8)
            ax.set(ylabel="size on disk (MiB)", title=f"{model}: artifact size")
            ax.tick_params(axis="x", rotation=35)
            files[f"size_{model}"] = save_png(fig, out / f"size_{model}.png")
            plt.close(fig)

        # Memory at the longest measured length and the fewest threads (the threads barely move it).
        if host_rows:
            n = min(r.threads for r in host_rows)
            longest: dict[str, Row] = {}
            for r in host_rows:
                if r.threads == n and (r.target not in longest or (r.seq_len or 0) > (longest[r.target].seq_len or 0)):
                    longest[r.target] = r
            base = [longest[t].get("rss_baseline(mb)") or 0 for t in longest]
            over = [longest[t].get("peak_mem_over_baseline(mb)") or 0 for t in longest]
            fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(longest)), 4))
            ax.bar(list(longest), base, color="lightgray", label="runtime baseline (after imports)")
            ax.bar(list(longest), over, bottom=base, color="tab:orange", label="peak over baseline")
            for i, (b, o) in enumerate(zip(base, over)):
                ax.text(i, b + o, f"+{o:.0f}", ha="center", va="bottom", fontsize=8)
            seq = max((r.seq_len or 0) for r in longest.values())
            ax.set(ylabel="peak RSS (MiB)",
                   title=f"{model}: peak RSS, seq ≤ {seq}, {n} thread{'s' if n != 1 else ''}")
            ax.tick_params(axis="x", rotation=35)
            ax.legend(fontsize=8)
            files[f"peak_memory_{model}"] = save_png(fig, out / f"peak_memory_{model}.png")
            plt.close(fig)
    return files
