"""Latency of the stepwise .pte against `forward`, interleaved in one process, and the cost of each depth.

    python -m albert_edge.export --model runs/albert-base-v2 --int8 --backend pte --stepwise --no-verify \\
        --out runs/base_int8_stepwise
    OMP_WAIT_POLICY=PASSIVE python scripts/stepwise_probe.py runs/base_int8_stepwise --threads 2

For each sequence length: rounds alternate forward and the full-depth chain (so machine drift hits both alike) and
the medians and their ratio are printed (and those of a bare chain calling the bound methods directly, to show what
the Python wrapper costs; plus how far the logits move if the copy between layer calls is skipped); then the chain's
median at depths 1, N/4, N/2, 3N/4 and N, which is what an early exit saves. Random token ids.

With `--adaptive-data FILE` (a labelled sentence<TAB>label file, e.g. SST-2 dev) and an export whose manifest has an
exit policy (`export --stepwise --exit-calibration`), every sentence runs through forward, the full chain and the
adaptive chain in turn; prints accuracy, mean depth and mean latency of each, end to end through the runtime.

    OMP_WAIT_POLICY=PASSIVE python scripts/stepwise_probe.py runs/sst2_int8_stepwise --threads 2 --seq \
        --adaptive-data albert_edge/assets/sst2_dev.tsv
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from albert_edge import runtime


def _inputs(names: list[str], seq: int, vocab: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    ids = rng.integers(5, vocab, size=(1, seq), dtype=np.int64)
    arrays = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
    return {n: arrays[n] for n in names}


def _ms(call, feed, **kwargs) -> float:
    started = time.perf_counter()
    call(feed, **kwargs)
    return 1000 * (time.perf_counter() - started)


def _bare(chain, feed: dict[str, np.ndarray], copy: bool = True) -> np.ndarray:
    """The full chain through the bound methods, no wrapper; `copy=False` passes each layer's output buffer straight
    back into the next call (what the runner must not do)."""
    import torch

    def out(values):
        return [torch.from_numpy(v.numpy().copy()) if copy else v for v in values]

    hidden, bias = out(chain._method._method([torch.from_numpy(feed[n]) for n in chain.input_names],
                                             clone_outputs=False))
    for name in chain.schedule:
        hidden = out(chain._layers[name]._method([hidden, bias], clone_outputs=False))[0]
    return chain._head._method([hidden], clone_outputs=False)[0].numpy().copy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("export_dir")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seq", type=int, nargs="*", default=[16, 128])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--adaptive-data", default=None, metavar="FILE")
    args = parser.parse_args()

    forward = runtime.load(args.export_dir, threads=args.threads, backend="pte")
    chain = runtime.load(args.export_dir, threads=args.threads, backend="pte_stepwise")
    vocab = forward.limits.vocab_size
    rng = np.random.default_rng(0)
    print(f"threads {args.threads}, {args.rounds} interleaved rounds after {args.warmup} warm-up, median ms")
    for seq in args.seq:
        feed = _inputs(forward.input_names, seq, vocab, rng)
        np.testing.assert_allclose(chain.run(feed)[0], forward.run(feed)[0], rtol=1e-4, atol=1e-4)
        for _ in range(args.warmup):
            forward.run(feed)
            chain.run(feed)
        drift = float(np.abs(_bare(chain, feed, copy=False) - forward.run(feed)[0]).max())
        times = {"forward": [], "stepwise": [], "bare": []}
        for _ in range(args.rounds):
            times["forward"].append(_ms(forward.run, feed))
            times["stepwise"].append(_ms(chain.run, feed))
            times["bare"].append(_ms(lambda x: _bare(chain, x), feed))
        f, s, b = (statistics.median(times[k]) for k in ("forward", "stepwise", "bare"))
        print(f"seq {seq}: forward {f:.2f}  stepwise (full depth) {s:.2f}  ratio {s / f:.3f}  "
              f"bare chain {b:.2f} ({b / f:.3f}); without the inter-layer copy the logits move by {drift:.3g}")
        n = chain.num_layers
        depths = sorted({1, max(1, n // 4), max(1, n // 2), max(1, 3 * n // 4), n})
        per_depth = {d: statistics.median(_ms(chain.run, feed, depth=d) for _ in range(max(5, args.rounds // 3)))
                     for d in depths}
        print(f"seq {seq}: stepwise by depth " + ", ".join(f"{d}: {ms:.2f}" for d, ms in per_depth.items())
              + f"  (depth {n // 2} / full = {per_depth[max(1, n // 2)] / per_depth[n]:.2f})")
    if args.adaptive_data:
        adaptive(forward, chain, args)


def adaptive(forward, chain, args) -> None:
    from albert_edge.exits import ExitPolicy
    from albert_edge.manifest import Manifest
    from albert_edge.tables import read_table
    from albert_edge.tokenizer import AlbertTokenizer

    manifest = Manifest.read(args.export_dir)
    recorded = (manifest.stepwise or {}).get("exit_policy")
    if not recorded:
        raise SystemExit(f"{args.export_dir}: the manifest records no exit policy (export with --exit-calibration)")
    policy = ExitPolicy.from_dict(recorded)
    tokenizer = AlbertTokenizer.from_pretrained(args.export_dir)
    rows = read_table(args.adaptive_data, ["sentence", "label"])
    labels = {name: int(i) for i, name in (manifest.labels or {}).items()}
    correct = {"forward": 0, "full chain": 0, "adaptive": 0}
    seconds = dict.fromkeys(correct, 0.0)
    depths = []
    for row in rows:
        ids = np.array([tokenizer.encode(row["sentence"], max_length=manifest.max_seq_len).input_ids])
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        gold = labels.get(row["label"], None)
        gold = int(row["label"]) if gold is None else gold
        for name, call in (("forward", lambda: forward.run(feed)), ("full chain", lambda: chain.run(feed)),
                           ("adaptive", lambda: chain.run_adaptive(policy, feed))):
            started = time.perf_counter()
            out = call()
            seconds[name] += time.perf_counter() - started
            if name == "adaptive":
                out, depth = out
                depths.append(depth)
            correct[name] += int(np.argmax(out[0]) == gold)
    print(f"{len(rows)} sentences of {args.adaptive_data}, policy {policy.to_dict()}:")
    for name in correct:
        depth = f"  mean depth {np.mean(depths):.2f} of {chain.num_layers}" if name == "adaptive" else ""
        print(f"  {name:10s} accuracy {100 * correct[name] / len(rows):.2f}%  "
              f"mean {1000 * seconds[name] / len(rows):.2f} ms{depth}")
    print(f"  adaptive / forward latency {seconds['adaptive'] / seconds['forward']:.3f}")


if __name__ == "__main__":
    main()
