"""What fusing each exit head into its layer call would save on the bundled model (issue 13, adaptive depth).

    python -m albert_edge.export --int8 --out out/sst2_int8        # the default export (stepwise + exit policy)
    OMP_WAIT_POLICY=PASSIVE python scripts/fused_exit_probe.py out/sst2_int8 --threads 1
    OMP_WAIT_POLICY=PASSIVE python scripts/fused_exit_probe.py out/sst2_int8 --threads 2

The shipped stepwise program calls `embed`, then per depth `layer_0` and the depth's exit head: 2k + 1 method calls
for an exit at depth k. This probe lowers, from the export's source model (`albert_edge/assets` unless `--model`), a
program whose methods fuse them — `start` (embed, layer, exit head 1), `step_<k>` (layer, exit head k) and `last`
(layer, head): k calls for depth k, and no copy between calls, since each method's output lives in its own planned
memory — and runs every sentence of `--data` (SST-2 dev by default) through `forward`, the shipped adaptive runner
(`StepwiseRunner.run_adaptive`), the fused chain at the manifest's policy and the fused chain at full depth, rotating
the order per sentence. Prints accuracy, mean depth and mean latency (× `forward`). The fused program is written to a
temporary directory only.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from albert_edge import hub, runtime, stepwise
from albert_edge.exits import ExitPolicy, normalized_entropy
from albert_edge.export import read_eval_data
from albert_edge.lowering import _lower_and_write, example_inputs, recipes
from albert_edge.tokenizer import AlbertTokenizer
from albert_edge.verify import build_examples


def _logits(outputs):
    return outputs[0] if isinstance(outputs, (tuple, list)) else outputs


class Start(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model  # held once: torchao's quantize_ walks every path to a module

    def forward(self, input_ids, attention_mask):
        encoder = stepwise.encoder_of(self.model)
        hidden = encoder.encoder.embedding_hidden_mapping_in(encoder.embeddings(input_ids, None))
        bias = encoder.attention_bias(attention_mask, input_ids.shape[0])
        hidden = encoder.encoder.albert_layer_groups[0](hidden, bias)
        return hidden, bias, _logits(self.model.exit_head(1)(hidden))


class Step(nn.Module):
    def __init__(self, model: nn.Module, depth: int | None):
        super().__init__()
        self.model, self.depth = model, depth  # depth None: the model's own head (the last depth)

    def forward(self, hidden, bias):
        hidden = stepwise.encoder_of(self.model).encoder.albert_layer_groups[0](hidden, bias)
        head = self.model.head if self.depth is None else self.model.exit_head(self.depth)
        return hidden, _logits(head(hidden))


def build(model: nn.Module, path: Path, max_seq_len: int) -> list[str]:
    """The fused program at `path` (int8 dynamic, as the export's stepwise one); returns its methods in order."""
    n = model.config.num_hidden_layers
    modules = {"start": Start(model), **{f"step_{k}": Step(model, k) for k in range(2, n)}, "last": Step(model, None)}
    forward_args = example_inputs(model.config, ["input_ids", "attention_mask"], max_seq_len)
    layer_args = stepwise.example_inputs(model, forward_args)[stepwise.layer_method(0)]
    seq = torch.export.Dim("seq", min=1, max=max_seq_len)
    recipe = recipes(False, "int8", False)[0]
    programs = {}
    with torch.no_grad():
        for name, module in modules.items():
            args, shapes = ((forward_args, ({1: seq}, {1: seq})) if name == "start"
                            else (layer_args, ({1: seq}, {2: seq})))
            programs[name] = recipe.quantize(module.eval(), args, shapes)
    _lower_and_write(programs, path, None, "fused")
    return list(modules)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("export_dir")
    parser.add_argument("--model", default="albert_edge/assets", help="the export's source model (HF directory)")
    parser.add_argument("--data", default="albert_edge/assets/sst2_dev.tsv")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    from executorch.runtime import Runtime

    from albert_edge.backend_options import set_xnnpack_weight_cache

    directory = Path(args.export_dir)
    forward = runtime.load(directory, threads=args.threads, backend="pte")
    chain = runtime.load(directory, threads=args.threads, backend="pte_stepwise")
    manifest = runtime.read_manifest(directory)
    policy = ExitPolicy.from_dict(manifest.stepwise["exit_policy"])
    if policy.kind != "entropy" or policy.min_depth != 1:
        raise SystemExit(f"this probe checks entropy from depth 1; the export ships {policy}")
    model = hub.from_pretrained(args.model).eval()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fused.pte"
        names = build(model, path, manifest.max_seq_len)
        set_xnnpack_weight_cache(True)
        program = Runtime.get().load_program(str(path))
        bound = [program.load_method(name)._method for name in names]
        print(f"fused program: {path.stat().st_size:,} B (stepwise: "
              f"{(directory / manifest.artifact('pte_stepwise')).stat().st_size:,} B)")

        def fused(feed, adaptive=True):
            feed = forward._feed(feed)  # the runners' input checks
            hidden, bias, logits = bound[0]([torch.from_numpy(feed["input_ids"]),
                                             torch.from_numpy(feed["attention_mask"])], clone_outputs=False)
            for depth, method in enumerate(bound[1:], 2):
                if adaptive and normalized_entropy(logits.numpy()) <= policy.value:
                    return logits.numpy().copy(), depth - 1
                hidden, logits = method([hidden, bias], clone_outputs=False)
            return logits.numpy().copy(), len(bound)

        texts, labels = read_eval_data(Path(args.data), model.config, model.task)
        encoded = build_examples(texts, labels, AlbertTokenizer.from_pretrained(directory), model.config,
                                 model.task, manifest.max_seq_len, ["input_ids", "attention_mask"])
        feeds = [e.inputs for e in encoded]
        calls = {"forward": lambda f: (forward.run(f)[0], len(bound)),
                 f"shipped adaptive ({policy.kind} <= {policy.value})": lambda f: chain.run_adaptive(policy, f),
                 "fused adaptive, same policy": fused,
                 "fused, full depth": lambda f: fused(f, adaptive=False)}
        order = list(calls)
        for feed in feeds[:10]:
            for name in order:
                calls[name](feed)
        seen = {name: ([], [], []) for name in order}  # latencies, correct, depths
        for i, feed in enumerate(feeds):
            for name in order[i % len(order):] + order[:i % len(order)]:
                started = time.perf_counter()
                logits, depth = calls[name](feed)
                seen[name][0].append(1e3 * (time.perf_counter() - started))
                seen[name][1].append(int(np.argmax(logits)) == labels[i])
                seen[name][2].append(depth)
        base = statistics.mean(seen["forward"][0])
        for name, (latencies, correct, depths) in seen.items():
            mean = statistics.mean(latencies)
            print(f"{args.threads} thread(s) {name:40s} {100 * np.mean(correct):6.2f}%  depth {np.mean(depths):.2f}  "
                  f"{mean:.3f} ms  {mean / base:.3f}x forward")


if __name__ == "__main__":
    main()
