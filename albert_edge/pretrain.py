"""`python -m albert_edge.pretrain`: ALBERT pretraining (masked LM + sentence-order prediction) from text files.

One process on CPU, or many under `torchrun` (DDP: gloo on CPU, nccl on GPU; rank r reads documents r, r+W, ...).
AdamW with linear warmup then linear decay to zero; the MLM loss covers only the masked positions, and the MLM head
runs only there (the (B, T, V) logits over every position would cost more than the encoder). A checkpoint (model,
optimizer, scheduler, every rank's RNG, every rank's data position) is written atomically every `save_every_min`
minutes, on SIGINT/SIGTERM and at the end; `--resume` continues from it exactly. The end writes `OUT/final` in
Hugging Face format with the tokenizer files, ready for `albert_edge.finetune` or `transformers`.

    python -m albert_edge.pretrain --train corpus.txt.gz --valid valid.txt --tokenizer albert_edge/assets \\
        --config albert-edge-tiny --steps 3000 --out runs/pretrain
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from albert_edge import hub
from albert_edge.config import ConfigError
from albert_edge.data import IGNORE_INDEX, OBJECTIVES, DataError, PretrainingStream, batches, check_text_files
from albert_edge.files import OutputDirectory, cli_errors
from albert_edge.model import AlbertForPreTraining
from albert_edge.training import (
    PRECISIONS,
    atomic_torch_save,
    linear_schedule,
    load_config,
    load_tokenizer,
    make_optimizer,
    stop_on_signals,
)

CHECKPOINT = "checkpoint.pt"
LOG = "log.jsonl"
# Changing any of these changes which example comes next, so a resumed run must keep them.
_RESUME_KEYS = ("train", "objective", "max_seq_len", "batch_size", "seed", "world_size")


class PretrainingLoss(nn.Module):
    """Wraps AlbertForPreTraining so DDP sees one forward that returns the losses and the counts behind the metrics."""

    def __init__(self, model: AlbertForPreTraining, objective: str):
        super().__init__()
        self.model = model
        self.objective = objective

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        albert = self.model.albert
        sequence_output, pooled = albert(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
        masked = batch["labels"] != IGNORE_INDEX
        targets = batch["labels"][masked]
        logits = self.model.predictions(sequence_output[masked]).float()  # (n_masked, V); fp32 under autocast too
        mlm_loss = F.cross_entropy(logits, targets) if targets.numel() else logits.sum() * 0.0
        sop_logits = self.model.sop_classifier(pooled).float()  # (B, 2)
        if self.objective == "mlm":
            # Keeps the unused head in the graph so DDP's gradient buckets all fill.
            sop_loss = sop_logits.sum() * 0.0
            sop_correct = torch.zeros((), dtype=torch.long)
        else:
            sop_loss = F.cross_entropy(sop_logits, batch["sentence_label"])
            sop_correct = (sop_logits.argmax(-1) == batch["sentence_label"]).sum()
        return {
            "loss": mlm_loss + sop_loss,  # the only entry with a graph; the rest are for metrics
            "mlm_loss": mlm_loss.detach(),
            "sop_loss": sop_loss.detach(),
            "mlm_correct": (logits.argmax(-1) == targets).sum(),
            "mlm_count": torch.tensor(targets.numel()),
            "sop_correct": sop_correct,
        }


def _to(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


@torch.no_grad()
def evaluate(loss_module: PretrainingLoss, valid_batches: list[dict], device: torch.device) -> dict[str, float]:
    was_training = loss_module.training
    loss_module.eval()
    loss_sum, correct, count, sop_correct, sop_count = 0.0, 0, 0, 0, 0
    for batch in valid_batches:
        out = loss_module(_to(batch, device))
        n = int(out["mlm_count"])
        loss_sum += float(out["mlm_loss"]) * n
        correct += int(out["mlm_correct"])
        count += n
        sop_correct += int(out["sop_correct"])
        sop_count += batch["input_ids"].shape[0]
    loss_module.train(was_training)
    result = {"valid_mlm_loss": loss_sum / max(1, count), "valid_mlm_acc": correct / max(1, count)}
    if loss_module.objective != "mlm":
        result["valid_sop_acc"] = sop_correct / max(1, sop_count)
    return result


def _setup_distributed(threads: int) -> tuple[int, int, torch.device]:
    torch.set_num_threads(threads)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return 0, 1, torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if torch.cuda.is_available():
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local_rank)
        dist.init_process_group("nccl")
        device = torch.device("cuda", local_rank)
    else:
        dist.init_process_group("gloo")
        device = torch.device("cpu")
    return dist.get_rank(), world_size, device


def _gather(obj, world_size: int) -> list:
    if world_size == 1:
        return [obj]
    out = [None] * world_size
    dist.all_gather_object(out, obj)
    return out


def pretrain(
    train: Sequence[str | Path],
    tokenizer: str | Path,
    out: str | Path,
    *,
    valid: str | Path | None = None,
    config: str | Path = "albert-edge-tiny",
    init_from: str | Path | None = None,
    objective: str = "sop",
    max_seq_len: int = 128,
    batch_size: int = 32,
    lr: float = 1e-3,
    weight_decay: float = 0.01,
    steps: int = 1000,
    warmup: int = 100,
    save_every_min: float = 10.0,
    valid_every: int = 250,
    valid_examples: int = 256,
    log_every: int = 10,
    seed: int = 0,
    threads: int = 1,
    resume: bool = False,
    stop_at_step: int | None = None,
    precision: str = "fp32",
) -> Path:
    """Pretrain and return `out/final`. Raises DataError/ConfigError/TokenizerError/HubError on bad inputs.

    `stop_at_step` checkpoints and returns early after that step (a time-sliced job; resume with `resume=True`),
    returning the checkpoint path, as a SIGINT/SIGTERM does. `precision="bf16"` trains under bf16 autocast (weights
    and optimizer stay fp32; about 3x faster on CPUs with AVX512-BF16); validation always runs in fp32.
    """
    out = Path(out)
    train_paths = check_text_files(train)
    valid_paths = check_text_files([valid]) if valid is not None else []
    if objective not in OBJECTIVES:
        raise DataError(f"unknown objective {objective!r}; use one of {', '.join(OBJECTIVES)}")
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    for name, value in (("steps", steps), ("batch_size", batch_size), ("max_seq_len", max_seq_len),
                        ("threads", threads)):
        if value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    # A resumable run writes into --out over time (checkpoints, log, final/), so it is checked, not staged: it must be
    # a directory we can write, and a new run (no --resume) must not write into a non-empty one.
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise ValueError(f"--out {out} is {'a symlink' if out.is_symlink() else 'a file'}; pass a directory path")
    if not resume and out.is_dir() and any(out.iterdir()):
        raise ValueError(f"--out {out} exists and is not empty; pass --resume to continue its run, or another path")
    OutputDirectory(out, force=True).check()  # writable
    if max_seq_len < 8:
        raise ValueError(f"max_seq_len {max_seq_len} is too short for [CLS] A [SEP] B [SEP]; use at least 8")
    tok = load_tokenizer(tokenizer)
    if init_from is not None:
        model = hub.from_pretrained(init_from, task="pretraining", new_head=True)
        if model.config.vocab_size != tok.vocab_size:
            raise ConfigError(f"{init_from} has vocab_size {model.config.vocab_size}, the tokenizer "
                              f"{tok.vocab_size}; pass the tokenizer it was trained with")
        cfg = model.config
    else:
        cfg = load_config(config, tok)
    if max_seq_len > cfg.max_position_embeddings:
        raise ConfigError(f"max_seq_len {max_seq_len} exceeds max_position_embeddings {cfg.max_position_embeddings}")
    if resume and not (out / CHECKPOINT).is_file():
        raise FileNotFoundError(f"--resume: no {CHECKPOINT} in {out}; start without --resume")

    rank, world_size, device = _setup_distributed(threads)
    run_args = {"train": [str(p) for p in train_paths], "objective": objective, "max_seq_len": max_seq_len,
                "batch_size": batch_size, "seed": seed, "world_size": world_size, "steps": steps, "lr": lr,
                "warmup": warmup, "weight_decay": weight_decay, "config": cfg.to_dict(),
                "init_from": None if init_from is None else str(init_from), "precision": precision}
    torch.manual_seed(seed)  # the same initial weights on every rank (DDP also broadcasts rank 0's)
    if init_from is None:
        model = AlbertForPreTraining(cfg)
    model.train().to(device)
    loss_module = PretrainingLoss(model, objective)
    optimizer = make_optimizer(model, lr, weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, linear_schedule(warmup, steps))

    step, positions, elapsed, tokens_seen = 0, [0] * world_size, 0.0, 0
    if resume:
        state = torch.load(out / CHECKPOINT, map_location="cpu", weights_only=True)
        saved_args = state["args"]
        changed = [f"{k}={saved_args.get(k)!r}" for k in _RESUME_KEYS if saved_args.get(k) != run_args[k]]
        if changed:
            raise ValueError(f"--resume: the checkpoint's run had {', '.join(changed)}; pass the same values to resume")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, positions = state["step"], state["data_position"]
        elapsed, tokens_seen = state["elapsed"], state["tokens_seen"]
        torch.set_rng_state(state["rng"][rank])
    else:
        torch.manual_seed(seed + 1000 + rank)  # dropout differs per rank, as with independent workers

    ddp = nn.parallel.DistributedDataParallel(loss_module, broadcast_buffers=False) if world_size > 1 else None
    forward = ddp or loss_module

    stream = PretrainingStream(train_paths, tok, max_seq_len, objective=objective, seed=seed, rank=rank,
                               world_size=world_size)
    examples = stream.iterate(start=positions[rank])
    valid_batches = []
    if valid_paths and rank == 0:
        valid_stream = PretrainingStream(valid_paths, tok, max_seq_len, objective=objective, seed=seed, epochs=1,
                                         shuffle_buffer=1)
        valid_batches = list(batches(_take(valid_stream, valid_examples), batch_size, tok.pad_id))

    signals = contextlib.ExitStack()
    stop = signals.enter_context(stop_on_signals())

    def save_checkpoint() -> None:
        rng = _gather(torch.get_rng_state(), world_size)
        if rank == 0:
            out.mkdir(parents=True, exist_ok=True)
            atomic_torch_save({
                "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "step": step, "rng": rng,
                "data_position": positions, "elapsed": elapsed, "tokens_seen": tokens_seen, "args": run_args,
            }, out / CHECKPOINT)

    log_file = None
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        log_file = open(out / LOG, "a", encoding="utf-8")

    def log(record: dict) -> None:
        if log_file is not None:
            log_file.write(json.dumps(record) + "\n")
            log_file.flush()

    if rank == 0:
        n_params = sum(p.numel() for p in model.parameters())
        print(f"pretraining {n_params / 1e6:.2f} M parameters, {objective}, seq {max_seq_len}, batch {batch_size}"
              f" x {world_size} rank(s), steps {step}..{steps}, {precision} on {device}")
    progress = tqdm(total=steps, initial=step, disable=rank != 0, desc="pretrain", dynamic_ncols=True)
    window = {"loss": 0.0, "mlm_loss": 0.0, "sop_loss": 0.0, "mlm_correct": 0, "mlm_count": 0, "sop_correct": 0,
              "examples": 0, "tokens": 0, "steps": 0}
    last_save = time.monotonic()
    window_start = time.monotonic()
    try:
        while step < steps:
            group = [next(examples) for _ in range(batch_size)]
            positions[rank] += batch_size
            batch = _to(batches_one(group, tok.pad_id), device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
                result = forward(batch)
            optimizer.zero_grad(set_to_none=True)
            result["loss"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            n_tokens = int(batch["attention_mask"].sum())
            tokens_seen += n_tokens * world_size
            for key in ("loss", "mlm_loss", "sop_loss"):
                window[key] += float(result[key].detach())
            for key in ("mlm_correct", "mlm_count", "sop_correct"):
                window[key] += int(result[key])
            window["examples"] += batch_size
            window["tokens"] += n_tokens
            window["steps"] += 1
            progress.update(1)

            if step % log_every == 0 or step == steps:
                now = time.monotonic()
                elapsed += now - window_start
                record = {
                    "step": step, "lr": scheduler.get_last_lr()[0],
                    "loss": window["loss"] / window["steps"], "mlm_loss": window["mlm_loss"] / window["steps"],
                    "mlm_acc": window["mlm_correct"] / max(1, window["mlm_count"]),
                    "sop_loss": window["sop_loss"] / window["steps"],
                    "sop_acc": window["sop_correct"] / window["examples"],
                    "tokens_per_s": window["tokens"] * world_size / max(1e-9, now - window_start),
                    "tokens_seen": tokens_seen, "elapsed_s": round(elapsed, 1),
                }
                progress.set_postfix(loss=f"{record['loss']:.3f}", mlm_acc=f"{record['mlm_acc']:.3f}",
                                     sop_acc=f"{record['sop_acc']:.3f}", tok_s=f"{record['tokens_per_s']:.0f}")
                log(record)
                window = dict.fromkeys(window, 0)
                window["loss"] = window["mlm_loss"] = window["sop_loss"] = 0.0
                window_start = now
            if valid_batches and (step % valid_every == 0 or step == steps):
                metrics = evaluate(loss_module, valid_batches, device)
                log({"step": step, **metrics})
                progress.write(f"step {step}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
            # One small all-reduce per step so every rank agrees when to checkpoint or stop.
            halt = stop["signal"] or (stop_at_step is not None and step >= stop_at_step)
            flags = torch.tensor([float(time.monotonic() - last_save >= save_every_min * 60), float(halt)],
                                 device=device)
            if world_size > 1:
                dist.all_reduce(flags, op=dist.ReduceOp.MAX)
            if flags[0] or flags[1] or step == steps:
                save_checkpoint()
                last_save = time.monotonic()
            if flags[1]:
                progress.close()
                if rank == 0:
                    print(f"stopped at step {step}; checkpoint in {out / CHECKPOINT}; "
                          "continue with the same command and --resume")
                return out / CHECKPOINT
        progress.close()
        # DDP keeps replicas identical only if every rank ran the same steps on synchronised gradients; prove it.
        fingerprints = _gather(parameter_fingerprint(model), world_size)
        log({"step": step, "parameter_sha256_by_rank": fingerprints})
        if len(set(fingerprints)) != 1:
            raise RuntimeError(f"ranks ended with different parameters: {fingerprints}")
        final = out / "final"
        if rank == 0:
            hub.save_pretrained(model, final)
            tok.save_pretrained(final)
            summary = evaluate(loss_module, valid_batches, device) if valid_batches else {}
            print(f"done: {step} steps, {tokens_seen / 1e6:.2f} M tokens, {elapsed / 60:.1f} min of training; "
                  + "".join(f"{k} {v:.4f}, " for k, v in summary.items()) + f"model in {final}")
        if world_size > 1:
            dist.barrier()
        return final
    finally:
        signals.close()
        if log_file is not None:
            log_file.close()
        if world_size > 1 and dist.is_initialized():
            dist.destroy_process_group()


def parameter_fingerprint(model: nn.Module) -> str:
    digest = hashlib.sha256()
    for name, p in model.named_parameters():
        digest.update(name.encode())
        digest.update(p.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def batches_one(group: list[dict], pad_id: int) -> dict[str, torch.Tensor]:
    return next(batches(group, len(group), pad_id))


def _take(stream, n: int):
    for i, example in enumerate(stream):
        if i >= n:
            return
        yield example


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m albert_edge.pretrain", description=__doc__.split("\n")[0])
    p.add_argument("--train", nargs="+", required=True, help="text files (.gz ok): documents separated by blank lines")
    p.add_argument("--valid", default=None, help="held-out text file for MLM loss/accuracy")
    p.add_argument("--tokenizer", required=True, help="directory with spiece.model, or the spiece.model file")
    p.add_argument("--config", default="albert-edge-tiny", help="preset name or config.json")
    p.add_argument("--init-from", default=None, help="HF-format checkpoint to continue from (fresh optimizer)")
    p.add_argument("--objective", default="sop", choices=OBJECTIVES)
    p.add_argument("--max-seq-len", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=32, help="per rank")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--out", required=True)
    p.add_argument("--save-every-min", type=float, default=10.0)
    p.add_argument("--valid-every", type=int, default=250)
    p.add_argument("--valid-examples", type=int, default=256)
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--stop-at-step", type=int, default=None, help="checkpoint and exit after this step")
    p.add_argument("--precision", default="fp32", choices=PRECISIONS, help="bf16: mixed-precision autocast")
    a = p.parse_args(argv)
    with cli_errors():
        pretrain(a.train, a.tokenizer, a.out, valid=a.valid, config=a.config, init_from=a.init_from,
                 objective=a.objective, max_seq_len=a.max_seq_len, batch_size=a.batch_size, lr=a.lr,
                 weight_decay=a.weight_decay, steps=a.steps, warmup=a.warmup, save_every_min=a.save_every_min,
                 valid_every=a.valid_every, valid_examples=a.valid_examples, log_every=a.log_every, seed=a.seed,
                 threads=a.threads, resume=a.resume, stop_at_step=a.stop_at_step, precision=a.precision)


if __name__ == "__main__":
    main()
