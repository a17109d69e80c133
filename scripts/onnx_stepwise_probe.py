"""Can ONNX Runtime run the stepwise shape (embed, one layer, head) without losing speed? (issue 13, item 2)

    python scripts/onnx_stepwise_probe.py runs/albert-base-v2 --threads 2            # random-weight albert-base
    python scripts/onnx_stepwise_probe.py albert_edge/assets --threads 2 --seq 16 32  # the bundled sentiment model

Exports the model's `.onnx` the way `albert_edge.export` does (ORT formulation, ORT's transformer optimizer, int8
dynamic), and the same model as three graphs through the same path: `embed` (embeddings and the E -> H projection),
`layer` (one application of the shared layer, taking the attention mask so that ORT's optimizer fuses its
`Attention` as it does in the whole graph) and `head`. Then, in one process, rounds alternate the whole graph and
the chain embed -> layer x N -> head (ORT sessions with spinning off, as `scripts/ort_probe.py compare`), and the
medians and their ratio are printed per length, with the largest difference of the two outputs. `--profile` adds ONNX
Runtime's own per-operator times at the longest length (which kernels the whole graph and the layer graph run).
Nothing is written outside a temporary directory.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from albert_edge import hub, stepwise
from albert_edge.lowering import example_inputs, export_onnx, model_input_names, recipes
from albert_edge.model import set_formulation
from albert_edge.quiet import quiet
from quantize.onnx import fuse_for_ort


class LayerWithMask(nn.Module):
    """One application of hidden group 0, computing the attention bias from the mask itself: the pattern ORT's
    attention fusion reads the mask from (a bias input leaves the layer unfused)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, hidden, attention_mask):
        encoder = stepwise.encoder_of(self.model)
        bias = encoder.attention_bias(attention_mask, hidden.shape[0])
        return encoder.encoder.albert_layer_groups[0](hidden, bias)


class EmbedHidden(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        encoder = stepwise.encoder_of(self.model)
        return encoder.encoder.embedding_hidden_mapping_in(encoder.embeddings(input_ids, None))


def export_part(module: nn.Module, args: tuple, names: list[str], outputs: list[str], path: Path, config,
                layers: int, fuse: bool) -> None:
    """Trace `module` (ORT formulation) to ONNX, optionally through ORT's optimizer, then int8 dynamic."""
    import onnx

    float_path = path.with_suffix(".float.onnx")
    with torch.no_grad(), quiet():
        torch.onnx.export(module.eval(), args, str(float_path), input_names=names, output_names=outputs, opset_version=17,
                          dynamo=False, dynamic_axes={n: {1: "seq"} for n in names})
    graph = onnx.load(str(float_path))
    if fuse:
        with quiet():
            graph, stats, _ = fuse_for_ort(graph, config.num_attention_heads, config.hidden_size, layers,
                                           embeddings=False)
        print(f"  {path.stem}: fused {stats}")
    with quiet():
        recipes(False, "int8", False)[1].quantize(graph, path)


def session(path: Path, threads: int, disabled: tuple[str, ...] = ()) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"],
                                disabled_optimizers=list(disabled))


def op_ms(path: Path, feed: dict[str, np.ndarray], threads: int, runs: int, prefix: Path,
          disabled: tuple[str, ...] = ()) -> dict[str, float]:
    """Per-operator kernel time (ms per run) from ONNX Runtime's own profiler, summed by operator type."""
    import json
    from collections import Counter

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.enable_profiling, options.profile_file_prefix = True, str(prefix)
    profiled = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"],
                                    disabled_optimizers=list(disabled))
    for _ in range(runs):
        profiled.run(None, feed)
    totals: Counter = Counter()
    for event in json.loads(Path(profiled.end_profiling()).read_text()):
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            totals[event["args"]["op_name"]] += event["dur"]  # microseconds
    return {op: us / runs / 1e3 for op, us in totals.most_common()}


def _timed(call) -> float:
    t = time.perf_counter()
    call()
    return 1e3 * (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seq", type=int, nargs="+", default=[16, 128])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--profile", action="store_true",
                        help="also print ORT's per-operator times at the longest length: the whole graph per run, "
                             "the layer graph per N calls, with ORT's default optimizer and with SkipLayerNormFusion off")
    args = parser.parse_args()

    model = hub.from_pretrained(args.model).eval()
    config = model.config
    if config.num_hidden_groups != 1 or config.inner_group_num != 1:
        raise SystemExit("this probe chains one shared layer: num_hidden_groups = inner_group_num = 1")
    names = model_input_names(model.task)[:2]  # input_ids, attention_mask
    top = max(args.seq)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        whole = tmp / "forward.onnx"
        export_onnx(model, whole, input_names=names, max_seq_len=top, recipe=recipes(False, "int8", False)[1])
        ids, mask = example_inputs(config, names, top)
        set_formulation(model, "ort")
        with torch.no_grad():
            hidden = EmbedHidden(model)(ids)
        export_part(EmbedHidden(model), (ids,), names[:1], ["hidden"], tmp / "embed.onnx", config, 0, False)
        export_part(LayerWithMask(model), (hidden, mask), ["hidden", "attention_mask"], ["out"], tmp / "layer.onnx",
                    config, 1, True)
        export_part(stepwise.Head(model), (hidden,), ["hidden"], list(model.output_names), tmp / "head.onnx",
                    config, 0, False)
        set_formulation(model, "xnnpack")
        sizes = {p.name: p.stat().st_size for p in tmp.glob("*.onnx") if ".float" not in p.name}
        print("  sizes (B):", sizes, f"chain total {sum(v for k, v in sizes.items() if k != 'forward.onnx'):,}")
        forward = session(whole, args.threads)
        embed, head = (session(tmp / f"{n}.onnx", args.threads) for n in ("embed", "head"))
        embed_inputs = [i.name for i in embed.get_inputs()]
        # ORT's own load-time optimizer turns the layer graph's Add + LayerNormalization into
        # SkipLayerNormalization (it cannot in the whole graph, whose intermediate shapes it does not know): the
        # slow kernel the export keeps out (docs/benchmarks.md). Measured both ways.
        layers = {"chain": session(tmp / "layer.onnx", args.threads),
                  "chain, SkipLayerNormFusion off": session(tmp / "layer.onnx", args.threads, ("SkipLayerNormFusion",))}

        def chain(feed, layer):
            h = embed.run(None, {n: feed[n] for n in embed_inputs})[0]
            for _ in range(config.num_hidden_layers):
                h = layer.run(None, {"hidden": h, "attention_mask": feed["attention_mask"]})[0]
            return head.run(None, {"hidden": h})

        calls = {"forward": lambda feed: forward.run(None, feed),
                 **{name: (lambda feed, layer=layer: chain(feed, layer)) for name, layer in layers.items()}}
        rng = np.random.default_rng(0)
        for seq in args.seq:
            ids = rng.integers(5, config.vocab_size, size=(1, seq), dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
            reference = calls["forward"](feed)[0]
            times: dict[str, list[float]] = {name: [] for name in calls}
            for name in calls:  # warm-up
                calls[name](feed)
            order = list(calls)
            for r in range(args.rounds):
                for name in order[r % len(order):] + order[:r % len(order)]:  # rotate who goes first
                    times[name].append(_timed(lambda: calls[name](feed)))
            base = statistics.median(times["forward"])
            for name in calls:
                diff = float(np.abs(calls[name](feed)[0] - reference).max())
                median = statistics.median(times[name])
                print(f"seq {seq:4d}: {name:32s} {median:7.3f} ms ({median / base:.3f}x forward), "
                      f"max |logit diff| {diff:.2e}")
        if args.profile:
            h = embed.run(None, {n: feed[n] for n in embed_inputs})[0]
            one = {"hidden": h, "attention_mask": feed["attention_mask"]}
            n = config.num_hidden_layers
            for name, path, inputs, scale, disabled in (
                    ("forward, per run", whole, feed, 1, ()),
                    (f"layer graph, {n} calls", tmp / "layer.onnx", one, n, ()),
                    (f"layer graph, {n} calls, SkipLayerNormFusion off", tmp / "layer.onnx", one, n,
                     ("SkipLayerNormFusion",))):
                times = op_ms(path, inputs, args.threads, 20, tmp / "profile", disabled)
                print(f"seq {seq:4d} profile, {name}: " + ", ".join(f"{op} {scale * ms:.2f}" for op, ms in times.items()
                                                                  if scale * ms >= 0.05) + " ms")

if __name__ == "__main__":
    main()
