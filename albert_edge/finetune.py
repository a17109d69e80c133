"""`python -m albert_edge.finetune`: fine-tune a pretrained ALBERT for a task and keep the best dev checkpoint.

    python -m albert_edge.finetune --task sequence-classification --model runs/pretrain/final \\
        --train sst2/train.tsv --dev sst2/dev.tsv --labels negative,positive --out runs/sst2

The generic loop (AdamW, linear warmup/decay, length-bucketed batches, evaluation every epoch or every N steps,
best-by-dev checkpoint written atomically in Hugging Face format with the tokenizer, and a resumable training state
`OUT.checkpoint.pt` every `--save-every-min` minutes and on SIGINT/SIGTERM) lives here once. What differs
by task lives in a `Task` class that the task registry (`albert_edge/tasks/`, `TaskSpec.trainer`) names: its CLI
options, how it reads and encodes files, its loss, and its metrics. Sequence classification is here; token
classification (`albert_edge.ner`) and question answering (`albert_edge.qa`) live with the rest of their task code.

Why ~480 lines: the loop's options (precision, resume, time-sliced stops, `--exit-loss`, `--exit-heads`) all change
the same training step and checkpoint, so they stay in the one function that runs it; the CLI is its mirror.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from albert_edge import hub, stepwise, tasks
from albert_edge.data import collate
from albert_edge.files import AlbertEdgeError, OutputDirectory, cli_errors
from albert_edge.training import (
    PRECISIONS,
    atomic_torch_save,
    linear_schedule,
    load_tokenizer,
    make_optimizer,
    stop_on_signals,
)
from albert_edge.tables import label_id, read_table
from albert_edge.tokenizer import AlbertTokenizer

LOG = "train_log.jsonl"
RESULTS = "eval_results.json"
CHECKPOINT = "checkpoint.pt"
# A resumed run must have been started with the same values of these, or it would not continue the same run.
_RESUME_KEYS = ("task", "train", "dev", "model", "epochs", "lr", "batch_size", "max_seq_len", "warmup_ratio",
                "weight_decay", "num_hidden_layers", "seed", "precision", "task_options", "exit_loss",
                "exit_heads")


class FinetuneError(AlbertEdgeError):
    """A fine-tuning input that cannot be used; the message says what is wrong and how to fix it."""


class Task:
    """What one task contributes to the generic loop. Subclasses register themselves in TASKS by `name`."""

    name: ClassVar[str]
    metric: ClassVar[str]  # the dev metric that picks the best checkpoint

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Task-specific CLI options; their dests are the keyword arguments of `__init__`."""

    def read(self, path: Path, tokenizer: AlbertTokenizer, max_seq_len: int) -> list[dict]:
        """Encoded examples (dicts with input_ids, token_type_ids and the task's targets)."""
        raise NotImplementedError

    def configure(self, config) -> None:
        """Set the task's fields (labels, ...) on the model config before the model is built."""

    def loss(self, outputs, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def evaluate(self, model: nn.Module, batches: list[dict[str, torch.Tensor]]) -> dict[str, float]:
        raise NotImplementedError


def f1_scores(predictions: list[int], labels: list[int], num_labels: int) -> list[float]:
    scores = []
    for c in range(num_labels):
        tp = sum(p == c and y == c for p, y in zip(predictions, labels))
        fp = sum(p == c and y != c for p, y in zip(predictions, labels))
        fn = sum(p != c and y == c for p, y in zip(predictions, labels))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return scores


class SequenceClassification(Task):
    """One label per text (or text pair): SST-2 `sentence<TAB>label`, labels integers 0..K-1."""

    name = "sequence-classification"
    metric = "accuracy"

    def __init__(self, text_column: str = "sentence", label_column: str = "label", text_pair_column: str | None = None,
                 labels: Sequence[str] | str | None = None):
        self.text_column = text_column
        self.label_column = label_column
        self.text_pair_column = text_pair_column
        if isinstance(labels, str):
            labels = [name.strip() for name in labels.split(",")]
        if labels is not None and (len(labels) < 2 or len(set(labels)) != len(labels) or not all(labels)):
            raise FinetuneError(f"--labels needs at least two distinct, non-empty names, got {labels}")
        self.labels = list(labels) if labels is not None else None
        self.num_labels = len(self.labels) if self.labels else 0

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        group = parser.add_argument_group("sequence-classification")
        group.add_argument("--text-column", default="sentence")
        group.add_argument("--label-column", default="label")
        group.add_argument("--text-pair-column", default=None, help="second text column, for sentence-pair tasks")
        group.add_argument("--labels", default=None, help="label names in id order, e.g. negative,positive")

    def read(self, path: Path, tokenizer: AlbertTokenizer, max_seq_len: int) -> list[dict]:
        columns = [self.text_column, self.label_column] + ([self.text_pair_column] if self.text_pair_column else [])
        # A file without a header is read as `text<TAB>label` only in the default two-column layout.
        positional = None if self.text_pair_column else (self.text_column, self.label_column)
        rows = read_table(path, columns, positional=positional, what="training/dev")
        examples = []
        for row in rows:
            label = label_id(row[self.label_column], f"{path}:{row.line}", self.labels)
            pair = row[self.text_pair_column] if self.text_pair_column else None
            enc = tokenizer.encode(row[self.text_column], pair, max_length=max_seq_len)
            examples.append({"input_ids": enc.input_ids, "token_type_ids": enc.token_type_ids, "label": label})
        if not self.labels:
            self.num_labels = max(self.num_labels, 2, max(e["label"] for e in examples) + 1)
        return examples

    def configure(self, config) -> None:
        names = self.labels or [f"LABEL_{i}" for i in range(self.num_labels)]
        config.id2label = dict(enumerate(names))
        config.label2id = {name: i for i, name in enumerate(names)}

    def loss(self, outputs, batch):
        return F.cross_entropy(outputs, batch["label"])

    @torch.no_grad()
    def evaluate(self, model, batches):
        predictions, labels, loss_sum = [], [], 0.0
        for batch in batches:
            logits = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
            loss_sum += float(F.cross_entropy(logits, batch["label"], reduction="sum"))
            predictions += logits.argmax(-1).tolist()
            labels += batch["label"].tolist()
        f1 = f1_scores(predictions, labels, self.num_labels)
        result = {
            "accuracy": sum(p == y for p, y in zip(predictions, labels)) / len(labels),
            "loss": loss_sum / len(labels),
        }
        # Binary tasks report the F1 of the positive class (GLUE's convention); others the macro average.
        if self.num_labels == 2:
            result["f1"] = f1[1]
        else:
            result["macro_f1"] = sum(f1) / len(f1)
        return result


@torch.no_grad()
def exit_head_accuracy(model, batches: list[dict[str, torch.Tensor]]) -> dict[str, float]:
    """Dev accuracy of each exit head (`accuracy_depth_<k>`) and their mean (`exit_accuracy`)."""
    correct: list[int] = []
    total = 0
    for batch in batches:
        outputs = stepwise.outputs_at_every_depth(model, (batch["input_ids"], batch["attention_mask"],
                                                          batch["token_type_ids"]))[:-1]
        hits = [int((o.argmax(-1) == batch["label"]).sum()) for o in outputs]
        correct = [a + b for a, b in zip(correct, hits)] if correct else hits
        total += len(batch["label"])
    result = {f"accuracy_depth_{k}": c / total for k, c in enumerate(correct, 1)}
    return {"exit_accuracy": sum(result.values()) / len(result), **result}


# Task name -> its fine-tuning class, as the registry names them (token classification and QA follow `Task`'s protocol
# from their own modules).
TASKS: dict[str, type] = {name: tasks.get(name).trainer_class() for name in tasks.names(trainer=True)}


def length_bucketed(examples: list[dict], batch_size: int, rng: random.Random, pool: int = 50) -> list[list[dict]]:
    """Batches of similar length (little padding) in random order: shuffle, sort within pools of `pool` batches."""
    order = examples[:]
    rng.shuffle(order)
    out = []
    span = batch_size * pool
    for start in range(0, len(order), span):
        chunk = sorted(order[start:start + span], key=lambda e: len(e["input_ids"]))
        out += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(out)
    return out


def _save_atomic(model, tokenizer: AlbertTokenizer, out: Path, results: dict, force: bool) -> None:
    """Replace `out` with a complete model directory in one swap, so a crash never leaves half a checkpoint.
    `force` is the user's --force before the first save, and true afterwards (the output is then our own)."""
    with OutputDirectory(out, force) as tmp:
        hub.save_pretrained(model, tmp)
        tokenizer.save_pretrained(tmp)
        # The device vocabulary spells out identity normalisation only (a spiece.model with a character map,
        # like albert-base-v2's nmt_nfkc, has none); such models still save, for Python and transformers.
        if tokenizer.normalizer == "identity":
            tokenizer.export_vocab(tmp / "vocab.json")
        (tmp / RESULTS).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def finetune(
    task: str,
    train: str | Path,
    dev: str | Path,
    model: str | Path,
    out: str | Path,
    *,
    tokenizer: str | Path | None = None,
    epochs: float = 3.0,
    lr: float = 1e-4,
    batch_size: int = 32,
    max_seq_len: int = 128,
    warmup_ratio: float = 0.1,
    weight_decay: float = 0.01,
    num_hidden_layers: int | None = None,
    eval_every: int | None = None,
    seed: int = 0,
    threads: int = 1,
    precision: str = "fp32",
    force: bool = False,
    save_every_min: float = 10.0,
    resume: bool = False,
    stop_at_step: int | None = None,
    exit_loss: bool = False,
    exit_heads: bool = False,
    **task_options: Any,
) -> dict[str, Any]:
    """Fine-tune `model` (an HF-format directory; the task head starts fresh) and save the best-by-dev model to `out`.

    `num_hidden_layers` changes how many times the shared layer is applied (ALBERT's sharing makes any depth load the
    same weights). `eval_every` adds dev evaluations every that many steps on top of the one after each epoch.
    `precision="bf16"` trains under bf16 autocast (fp32 weights); dev evaluation always runs in fp32.
    An existing non-empty `out` is refused unless `force` (checked before any work, and again at each save).
    The training state (weights, optimizer, schedule, RNGs, place in the epoch, best so far) goes to
    `OUT.checkpoint.pt` every `save_every_min` minutes and on SIGINT/SIGTERM (then the run returns, stopped);
    `resume=True` continues it exactly, and the file is removed when the run ends. `stop_at_step` stops the same
    way after that step (a time-sliced job). `exit_loss` (sequence classification) trains the one classifier to
    answer after every layer application (the mean of the per-depth losses), for early exit on a stepwise export;
    dev evaluation stays at full depth. `exit_heads` (sequence classification, from a fine-tuned classifier) keeps
    the whole model frozen and trains one exit head per depth before the last (`model.AlbertExitHead`, each starting
    as a copy of the pooler + classifier; the PABEE/DeeBERT internal classifiers): `forward` stays bit-identical;
    the best checkpoint is the one with the highest mean dev accuracy of the exit heads (`exit_accuracy`). Both
    together train the body, the model's head and the exit heads jointly (PABEE's setting: the mean of the loss of
    each depth's own head), picked at full depth like `exit_loss`.
    Returns the best dev metrics (with `epoch` and `step`; `stopped: True` if a signal ended it early).
    """
    out = Path(out)
    checkpoint_path = out.with_name(f"{out.name}.{CHECKPOINT}")
    if save_every_min <= 0:
        raise FinetuneError(f"--save-every-min must be positive, got {save_every_min}")
    if resume:
        if not checkpoint_path.is_file():
            raise FinetuneError(f"--resume: no {checkpoint_path}; start without --resume")
    else:
        OutputDirectory(out, force)  # fail before training, not at the first save
    if task not in TASKS:
        raise FinetuneError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    if threads < 1:
        raise FinetuneError(f"--threads must be at least 1, got {threads}")
    for name, value in (("epochs", epochs), ("lr", lr), ("batch_size", batch_size), ("max_seq_len", max_seq_len)):
        if value <= 0:
            raise FinetuneError(f"{name} must be positive, got {value}")
    if precision not in PRECISIONS:
        raise FinetuneError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    if exit_loss and task != "sequence-classification":
        raise FinetuneError(f"--exit-loss trains class logits at every depth; {task} has none")
    if exit_heads and task != "sequence-classification":
        raise FinetuneError(f"--exit-heads trains classifiers for early exit; {task} has no class logits")
    spec = TASKS[task](**task_options)
    model_dir = Path(model)
    if not (model_dir / "config.json").is_file():
        raise FinetuneError(f"--model {model_dir}: not a model directory (no config.json); "
                            "pass the `final` directory written by albert_edge.pretrain")
    tokenizer_path = tokenizer or hub.load_tokenizer_files(model_dir)
    if tokenizer_path is None:
        raise FinetuneError(f"{model_dir} has no spiece.model; pass --tokenizer DIR")
    tok = load_tokenizer(tokenizer_path)
    config = hub.load_config(model_dir)
    if config.vocab_size != tok.vocab_size:
        raise FinetuneError(f"the tokenizer has {tok.vocab_size} pieces, the model {config.vocab_size}; "
                            "pass the tokenizer the model was pretrained with")
    if max_seq_len > config.max_position_embeddings:
        raise FinetuneError(f"max_seq_len {max_seq_len} exceeds the model's {config.max_position_embeddings} positions")
    train_examples = spec.read(Path(train), tok, max_seq_len)
    dev_examples = spec.read(Path(dev), tok, max_seq_len)
    spec.configure(config)
    if num_hidden_layers is not None:
        if config.num_hidden_groups != 1:
            raise FinetuneError("num_hidden_layers can only change for one shared layer group (num_hidden_groups 1)")
        config.num_hidden_layers = num_hidden_layers
    config.validate()

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    frozen = exit_heads and not exit_loss  # only the exit heads train
    net = hub.from_pretrained(model_dir, task=task, new_head=not frozen, config=config).train()
    if exit_heads:
        if config.num_hidden_layers < 2:
            raise FinetuneError("--exit-heads needs at least 2 layer applications")
        if net.exit_head(1) is None:
            net.add_exit_heads()
        for name, parameter in net.named_parameters():
            parameter.requires_grad = not frozen or name.startswith("exit_heads.")

    def train_mode() -> None:  # with the model frozen, no dropout either
        net.train(not frozen)

    train_mode()
    metric = "exit_accuracy" if frozen else spec.metric
    steps_per_epoch = math.ceil(len(train_examples) / batch_size)
    total_steps = max(1, round(steps_per_epoch * epochs))
    optimizer = make_optimizer(net, lr, weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, linear_schedule(max(1, round(warmup_ratio * total_steps)), total_steps))
    dev_batches = [collate(dev_examples[i:i + 128], tok.pad_id) for i in range(0, len(dev_examples), 128)]

    out.parent.mkdir(parents=True, exist_ok=True)
    log_path = out.with_name(f"{out.name}.{LOG}")
    rng = random.Random(seed)
    best: dict[str, Any] = {}
    step = epoch = skip = 0
    previous_elapsed = 0.0
    run_args = {"task": task, "train": str(train), "dev": str(dev), "model": str(model), "epochs": epochs, "lr": lr,
                "batch_size": batch_size, "max_seq_len": max_seq_len, "warmup_ratio": warmup_ratio,
                "weight_decay": weight_decay, "num_hidden_layers": config.num_hidden_layers, "seed": seed,
                "precision": precision, "task_options": {k: task_options[k] for k in sorted(task_options)},
                "exit_loss": exit_loss, "exit_heads": exit_heads}
    epoch_rng = rng.getstate()
    if resume:
        state = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
        saved = {"exit_loss": False, "exit_heads": False, **state["args"]}  # from before these options existed
        changed = [f"{k}={saved.get(k)!r}" for k in _RESUME_KEYS if saved.get(k) != run_args[k]]
        if changed:
            raise FinetuneError(f"--resume: {checkpoint_path} was written by a run with {', '.join(changed)}; "
                                "pass the same values to resume")
        net.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, epoch, skip, best = state["step"], state["epoch"], state["batch_in_epoch"], state["best"]
        previous_elapsed = state["elapsed"]
        epoch_rng = state["epoch_rng"]
        torch.set_rng_state(state["torch_rng"])
        force = True  # --out holds this run's own best checkpoint
        print(f"resuming from {checkpoint_path} at step {step} (epoch {epoch + 1}, batch {skip})")
    started = time.monotonic() - previous_elapsed
    print(f"fine-tuning {task}: {len(train_examples)} train / {len(dev_examples)} dev examples, {total_steps} steps, "
          f"{config.num_hidden_layers} layer applications")

    def save_checkpoint(batch_in_epoch: int) -> None:
        atomic_torch_save({"model": net.state_dict(), "optimizer": optimizer.state_dict(),
                           "scheduler": scheduler.state_dict(), "step": step, "epoch": epoch,
                           "batch_in_epoch": batch_in_epoch, "epoch_rng": epoch_rng,
                           "torch_rng": torch.get_rng_state(), "best": best, "elapsed": time.monotonic() - started,
                           "args": run_args}, checkpoint_path)

    def evaluate(epoch: float) -> None:
        nonlocal best
        net.eval()
        metrics = spec.evaluate(net, dev_batches)
        if exit_heads:
            metrics.update(exit_head_accuracy(net, dev_batches))
        train_mode()
        record = {"epoch": round(epoch, 3), "step": step, "elapsed_s": round(time.monotonic() - started, 1),
                  **{f"dev_{k}": v for k, v in metrics.items()}}
        with open(log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        improved = not best or metrics[metric] > best[metric]
        tqdm.write(f"epoch {epoch:.2f} step {step}: " + ", ".join(f"dev {k} {v:.4f}" for k, v in metrics.items())
                   + (" (best so far; saved)" if improved else ""))
        if improved:
            ours = bool(best)  # from the second save on, --out holds this run's own checkpoint
            best = {**metrics, "epoch": round(epoch, 3), "step": step}
            results = {**best, "task": task, "train": str(train), "dev": str(dev), "model": str(model), "seed": seed,
                       "lr": lr, "batch_size": batch_size, "epochs": epochs, "train_precision": precision,
                       "num_hidden_layers": config.num_hidden_layers, "exit_loss": exit_loss,
                       "exit_heads": exit_heads}
            _save_atomic(net, tok, out, results, force=force or ours)

    with stop_on_signals() as stop:
        last_save = time.monotonic()
        while step < total_steps:
            rng.setstate(epoch_rng)  # the epoch's batch order is drawn from this state, so a resume redraws it
            groups = length_bucketed(train_examples, batch_size, rng)
            progress = tqdm(total=len(groups), initial=skip, desc=f"epoch {epoch + 1}", dynamic_ncols=True)
            for index in range(skip, len(groups)):
                batch = collate(groups[index], tok.pad_id)
                args = (batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
                    outputs = (stepwise.outputs_at_every_depth(net, args) if exit_loss or exit_heads
                               else net(*args))
                if frozen:
                    loss = torch.stack([spec.loss(o.float(), batch) for o in outputs[:-1]]).mean()
                elif exit_loss:
                    loss = torch.stack([spec.loss(o.float(), batch) for o in outputs]).mean()
                else:
                    outputs = (outputs.float() if isinstance(outputs, torch.Tensor)
                               else tuple(o.float() for o in outputs))
                    loss = spec.loss(outputs, batch)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                step += 1
                progress.update(1)
                progress.set_postfix(loss=f"{float(loss.detach()):.4f}", lr=f"{scheduler.get_last_lr()[0]:.2e}")
                if eval_every and step % eval_every == 0 and step % steps_per_epoch:
                    evaluate(step / steps_per_epoch)
                if step >= total_steps:
                    break
                halt = stop["signal"] or step == stop_at_step
                if halt or time.monotonic() - last_save >= save_every_min * 60:
                    save_checkpoint(index + 1)
                    last_save = time.monotonic()
                    if halt:
                        progress.close()
                        print(f"stopped at step {step}; training state in {checkpoint_path}; "
                              "continue with the same command and --resume")
                        return {**best, "stopped": True}
            progress.close()
            epoch, skip = epoch + 1, 0
            evaluate(step / steps_per_epoch)
            epoch_rng = rng.getstate()
    checkpoint_path.unlink(missing_ok=True)  # the run is complete; its best model is in --out
    minutes = (time.monotonic() - started) / 60
    print(f"done in {minutes:.1f} min; best dev {metric} {best[metric]:.4f} at epoch {best['epoch']} "
          f"(step {best['step']}); model in {out}")
    return best


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m albert_edge.finetune", description=__doc__.split("\n")[0])
    p.add_argument("--task", required=True, choices=sorted(TASKS))
    p.add_argument("--train", required=True, help="training file (format set by the task)")
    p.add_argument("--dev", required=True, help="dev file; picks the best checkpoint, never trained on")
    p.add_argument("--model", required=True, help="pretrained HF-format directory (e.g. OUT/final of pretrain)")
    p.add_argument("--tokenizer", default=None, help="defaults to the model directory's spiece.model")
    p.add_argument("--out", required=True, help="directory for the best checkpoint")
    p.add_argument("--epochs", type=float, default=3.0)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-seq-len", type=int, default=128)
    p.add_argument("--warmup-ratio", type=float, default=0.1)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--num-hidden-layers", type=int, default=None, help="applications of the shared layer")
    p.add_argument("--eval-every", type=int, default=None, help="also evaluate every N steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--precision", default="fp32", choices=PRECISIONS, help="bf16: mixed-precision autocast")
    p.add_argument("--force", action="store_true", help="replace an existing non-empty --out")
    p.add_argument("--save-every-min", type=float, default=10.0, help="write OUT.checkpoint.pt this often")
    p.add_argument("--resume", action="store_true", help="continue the run in OUT.checkpoint.pt")
    p.add_argument("--exit-loss", action="store_true",
                   help="sequence classification: train the classifier at every depth, for early exit")
    p.add_argument("--exit-heads", action="store_true",
                   help="sequence classification, from a fine-tuned classifier: freeze it and train one exit head "
                        "per depth before the last, for early exit")
    for cls in TASKS.values():
        cls.add_arguments(p)
    a = vars(p.parse_args(argv))
    task_cls = TASKS[a["task"]]
    generic = {"task", "train", "dev", "model", "tokenizer", "out", "epochs", "lr", "batch_size", "max_seq_len",
               "warmup_ratio", "weight_decay", "num_hidden_layers", "eval_every", "seed", "threads", "precision",
               "force", "save_every_min", "resume", "exit_loss", "exit_heads"}
    probe = argparse.ArgumentParser()
    task_cls.add_arguments(probe)
    task_options = {k: a[k] for k in vars(probe.parse_args([]))}
    with cli_errors():
        finetune(**{k: a[k] for k in generic}, **task_options)


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy's: the registry's trainer classes are that module's.
    from albert_edge.finetune import main as imported_main

    imported_main()
