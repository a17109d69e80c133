"""Verification of exported artifacts against the fp32 eager model: the inputs (real sentences encoded at their own
lengths, or random ids when there is no tokenizer), the figures (SNR in dB, top-1 agreement, accuracy on labelled
data), the agreement gate, and the task metrics (entity F1, SQuAD EM/F1) through the pipelines an app mirrors.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from albert_edge import tasks
from albert_edge.config import AlbertConfig
from albert_edge.lowering import Example, ExportError
from albert_edge.manifest import Manifest
from albert_edge.model import AlbertPreTrainedModel
from albert_edge.tokenizer import AlbertTokenizer


# -- inputs ------------------------------------------------------------------------------------------------
def _encode(tokenizer: AlbertTokenizer, text: str, pair: str | None, max_seq_len: int,
            input_names: Sequence[str]) -> dict[str, np.ndarray]:
    enc = tokenizer.encode(text, pair, max_length=max_seq_len)
    return {name: np.asarray([getattr(enc, name)], dtype=np.int64) for name in input_names}


def _random_inputs(rng: np.random.Generator, length: int, vocab_size: int,
                   input_names: Sequence[str]) -> dict[str, np.ndarray]:
    ids = rng.integers(5, vocab_size, size=(1, length), dtype=np.int64)
    ids[0, 0] = 2  # [CLS], as every tokenised input starts
    arrays = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
    return {name: arrays[name] for name in input_names}


def build_examples(texts: Sequence[str], labels: Sequence[int] | None, tokenizer: AlbertTokenizer | None,
                   config: AlbertConfig, task: str, max_seq_len: int, input_names: Sequence[str]) -> list[Example]:
    """Each text encoded at its own length. Question answering pairs each text with the next one (question,
    context); without a tokenizer, random ids with the texts' word counts stand in (no text can be encoded)."""
    examples = []
    rng = np.random.default_rng(0)
    for i, text in enumerate(texts):
        label = labels[i] if labels is not None else None
        if tokenizer is None:
            length = min(max_seq_len, max(1, len(text.split()) + 2))
            examples.append(Example(_random_inputs(rng, length, config.vocab_size, input_names), label))
            continue
        pair = texts[(i + 1) % len(texts)] if tasks.get(task).text_pairs else None
        examples.append(Example(_encode(tokenizer, text, pair, max_seq_len, input_names), label))
    return examples


# -- verification ----------------------------------------------------------------------------------------------------
def compute_error(reference: np.ndarray, actual: np.ndarray) -> float:
    """SNR in dB, torchao's `compute_error` convention: 20 * log10(||ref|| / ||ref - actual||)."""
    noise = float(np.linalg.norm(reference - actual))
    signal = float(np.linalg.norm(reference))
    if noise == 0.0:
        return math.inf
    return 20.0 * math.log10(signal / noise) if signal else -math.inf


def _top1(task: str, outputs: Sequence[np.ndarray]) -> np.ndarray | None:
    """The predictions agreement is counted over: one per sentence, token, or QA start/end."""
    agreement = tasks.get(task).agreement
    if agreement == "none":
        return None
    if agreement == "all":
        return np.concatenate([o.reshape(-1, o.shape[-1]).argmax(-1) for o in outputs])
    return outputs[0].reshape(-1, outputs[0].shape[-1]).argmax(-1)


def verify_artifacts(model: AlbertPreTrainedModel, artifacts: dict[str, Path], examples: Sequence[Example], task: str,
                     threads: int | None, input_names: Sequence[str], progress: bool = True,
                     stepwise_schedule: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Run every artifact on every example at its own length and compare with the fp32 eager model.

    `threads` applies to the eager reference and to both runtimes; the stepwise .pte runs at full depth through
    `runtime.StepwiseRunner` with `stepwise_schedule`."""
    from albert_edge import runtime

    references = []
    torch_threads = torch.get_num_threads()
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        with torch.no_grad():
            for example in tqdm(examples, desc="verify: eager", leave=False, disable=not progress):
                out = model(*(torch.from_numpy(example.inputs[n]) for n in input_names))
                references.append([o.numpy() for o in (out if isinstance(out, tuple) else (out,))])
    finally:
        torch.set_num_threads(torch_threads)
    results: dict[str, dict[str, Any]] = {}
    labelled = [e.label is not None for e in examples]
    if all(labelled) and examples:
        gold = np.array([e.label for e in examples])
        results["eager"] = {"accuracy": float(np.mean([_top1(task, r)[0] for r in references] == gold))}
    for backend, path in artifacts.items():
        if backend == "pte_stepwise":
            limits = runtime.InputLimits(model.config.vocab_size, model.config.type_vocab_size)
            runner = runtime.StepwiseRunner(path, stepwise_schedule or [], threads, list(input_names), limits=limits)
        else:
            runner = runtime.load(path, threads=threads, vocab_size=model.config.vocab_size,
                                  type_vocab_size=model.config.type_vocab_size)
        diffs, ref_flat, act_flat, agree, total, correct, seconds = [], [], [], 0, 0, 0, 0.0
        try:
            for example, reference in tqdm(list(zip(examples, references)), desc=f"verify: {backend}",
                                           leave=False, disable=not progress):
                started = time.perf_counter()
                actual = runner.run(example.inputs)
                seconds += time.perf_counter() - started
                for r, a in zip(reference, actual):
                    if r.shape != a.shape:
                        raise ExportError(f"{path.name}: output shape {a.shape} differs from eager {r.shape}")
                    diffs.append(float(np.abs(r - a).max()))
                    ref_flat.append(r.ravel())
                    act_flat.append(a.ravel())
                want, got = _top1(task, reference), _top1(task, actual)
                if want is not None:
                    agree += int((want == got).sum())
                    total += want.size
                if example.label is not None:
                    correct += int(got[0] == example.label)
        finally:
            runner.close()
        results[backend] = {
            "max_abs_diff": max(diffs),
            "snr_db": round(compute_error(np.concatenate(ref_flat), np.concatenate(act_flat)), 2),
            "top1_agreement": agree / total if total else None,
            "predictions": total,
            "accuracy": correct / len(examples) if all(labelled) and examples else None,
            "mean_ms": round(1000 * seconds / len(examples), 2),
        }
    return results


def task_metrics(export_dir: Path, manifest: Manifest, source: str | os.PathLike, artifacts: dict[str, Path],
                 task_eval: tuple[str, str | None], threads: int | None, max_seq_len: int) -> dict[str, Any]:
    """Entity F1 (NER) or SQuAD EM/F1 (QA) of the fp32 eager model and of each exported artifact, on real task data,
    through the same pipeline code an app mirrors, all at the export's `max_seq_len`."""
    from albert_edge.pipeline import evaluate

    data, articles = task_eval
    results = {}
    try:
        for artifact, model_dir in [("eager", source)] + [(backend, export_dir) for backend in artifacts]:
            scores = evaluate(model_dir, data, artifact=artifact, articles=articles, max_seq_len=max_seq_len,
                              threads=threads or 1, manifest=None if artifact == "eager" else manifest)
            results[artifact] = {k: v for k, v in scores.items() if k not in ("task", "artifact")}
    except (ValueError, OSError) as e:  # the task readers' data errors are ValueErrors naming file and line
        raise ExportError(f"--eval-data {data}: {e}") from None
    return {"data": Path(data).name + (f"@{articles}" if articles else ""), **results}


def check_agreement(figures: dict[str, dict[str, Any]], min_agreement: float, artifacts: dict[str, Path],
                     int8: bool) -> None:
    for backend, path in artifacts.items():
        agreement = figures[backend]["top1_agreement"]
        if agreement is not None and agreement < min_agreement:
            advice = ("try --embedding fp32, verify on your own data (--eval-data), or lower --min-agreement"
                      if int8 else "an fp32 artifact should agree exactly: please report this as a bug")
            raise ExportError(
                f"{path.name}: top-1 agreement with the fp32 model is {agreement:.4f} < --min-agreement "
                f"{min_agreement} (SNR {figures[backend]['snr_db']} dB); nothing was written; {advice}")


def depth_logits(runner, examples: Sequence[Example]) -> np.ndarray:
    """A `runtime.StepwiseRunner`'s first output after every depth, per example: (examples, depths, classes)."""
    return np.stack([np.stack([outputs[0][0] for outputs in runner.outputs_by_depth(e.inputs)]) for e in examples])


def exit_calibration(path: Path, schedule: list[str], calibration: Sequence[Example], evaluation: Sequence[Example],
                     input_names: Sequence[str], limits, threads: int | None, max_loss: float,
                     source: str, heads: list[str] | None = None) -> dict[str, Any]:
    """Choose an exit policy on held-in labelled `calibration` examples (`exits.calibrate`), and report it on the
    labelled `evaluation` examples (the export's eval data) when there are any: the manifest's stepwise entry.
    `heads`: the method answering at each depth (the manifest's `stepwise.heads`)."""
    from albert_edge import exits, runtime

    runner = runtime.StepwiseRunner(path, schedule, threads, list(input_names), limits=limits, heads=heads)
    try:
        logits = depth_logits(runner, calibration)
        held_out = depth_logits(runner, evaluation) if evaluation else None
    finally:
        runner.close()
    policy, figures = exits.calibrate(logits, [e.label for e in calibration], max_loss=max_loss)
    entry: dict[str, Any] = {"exit_policy": policy.to_dict() if policy else None,
                             "exit_calibration": {"data": source, "examples": len(calibration), **figures}}
    if held_out is not None:
        labels = [e.label for e in evaluation]
        full = float(np.mean(held_out[:, -1].argmax(-1) == np.asarray(labels)))
        shipped = exits.evaluate(policy, held_out, labels) if policy else {"accuracy": full,
                                                                            "mean_depth": held_out.shape[1]}
        entry["exit_evaluation"] = {"examples": len(evaluation), "full_depth_accuracy": full, **shipped}
    return entry
