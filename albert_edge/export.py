"""`python -m albert_edge.export`: an ALBERT checkpoint -> an XNNPACK `.pte` and an `.onnx`, verified against eager.

    python -m albert_edge.export --int8 --out dist/sst2              # the bundled model, int8, both backends,
                                                                     # verified on its SST-2 dev set
    python -m albert_edge.export --model path/to/hf_dir --task token-classification --backend onnx

A straight line: load -> export (quantize) -> lower -> serialise -> verify -> manifest, all inside a temp directory
next to `--out` that is renamed into place at the end, so a failed or interrupted run leaves nothing behind.

Both artifacts take `input_ids`, `attention_mask` (and `token_type_ids` for question answering) as int64 arrays of
shape (1, seq) for any seq in 1..max_seq_len: one artifact serves every length, no padding to the maximum.
`manifest.json` describes inputs, outputs, labels, quantization, files (sha256) and the verification figures;
`albert_edge.runtime.load(out_dir)` and the Android demo read it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import io
import json
import math
import os
import re
import shutil
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from albert_edge import tables, tasks
from albert_edge.config import AlbertConfig
from albert_edge.manifest import Manifest
from albert_edge.files import AlbertEdgeError, OutputDirectory, OutputError, cli_errors, sha256_file
from albert_edge.hub import HubError, from_pretrained, load_config, load_tokenizer_files, resolve, task_of
from albert_edge.model import AlbertPreTrainedModel
from albert_edge.pipeline import postprocess_params
from albert_edge.qa import article_spec
from albert_edge.quiet import quiet, set_verbose
from albert_edge.tokenizer import BUNDLED_ASSETS as BUNDLED_TOKENIZER
from albert_edge.tokenizer import AlbertTokenizer, TokenizerError

EXPORT_TASKS = tasks.names(exportable=True)
BACKENDS = ("pte", "onnx", "all")
EMBEDDINGS = ("int8", "int4", "fp32")
INT4_EMBEDDING_GROUP = 32  # the int4 recipe's columns per scale (quantize.xnnpack.XnnpackInt8Recipe)
# The bundled models (albert_edge/assets/; the registry names each task's directory, default name and the labelled
# sample it verifies on when exported with no arguments, e.g. SST-2 dev for the sentiment model).
BUNDLED_MODEL = tasks.ASSETS
BUNDLED_EVAL = tasks.get("sequence-classification").bundled.eval_data(BUNDLED_MODEL)
VERIFY_SENTENCES = Path(__file__).resolve().with_name("verify_sentences.txt")
CALIBRATION_LIMIT = 256  # lines: activation ranges settle well before this on sentence-length text


class ExportError(AlbertEdgeError):
    """Input the export cannot use, or an export that failed verification; the message says what to do."""


@dataclass
class Example:
    """One verification input at its own length; `label` only for labelled sequence-classification data."""

    inputs: dict[str, np.ndarray]
    label: int | None = None


@dataclass
class ExportResult:
    out: Path
    manifest: dict[str, Any]
    seconds: float


# -- input checks (all before anything is written) ---------------------------------------------------------------
def _read_text_lines(path: Path, what: str, comments: bool = False) -> list[str]:
    """Non-blank lines, stripped; with `comments`, lines starting with # are skipped too (the built-in file)."""
    try:
        return tables.read_lines(path, what, comments)
    except tables.DataFileError as e:
        raise ExportError(str(e)) from None


def read_calibration(path: str | os.PathLike) -> list[str]:
    lines = _read_text_lines(Path(path), "calibration")
    if not lines:
        raise ExportError(f"calibration file {path} has no text lines; give it real sentences, one per line")
    return lines[:CALIBRATION_LIMIT]


def read_eval_data(path: str | os.PathLike, config: AlbertConfig, task: str) -> tuple[list[str], list[int] | None]:
    """Sentences and (for sequence classification) label ids from a `sentence<TAB>label` table, header optional
    (`albert_edge/tables.py` has the rules); other tasks take the sentence column (or the whole line) only."""
    labelled = tasks.get(task).labelled_eval_data
    try:
        rows = tables.read_table(path, ["sentence|text", "label"] if labelled else ["sentence|text"],
                                 optional=() if labelled else ["label"], positional=("sentence", "label"),
                                 what="eval data")
        if not labelled:
            return [row["sentence"] for row in rows], None
        labels = [tables.label_id(row["label"], f"{path}:{row.line}", config.id2label) for row in rows]
    except tables.DataFileError as e:
        raise ExportError(str(e)) from None
    return [row["sentence"] for row in rows], labels


def default_name(model: str | os.PathLike | None) -> str:
    if model is None:
        return "edge"
    stem = Path(str(model).rstrip("/")).name.lower()
    stem = re.sub(r"^albert[-_]?", "", stem)
    return re.sub(r"[^a-z0-9]+", "-", stem).strip("-") or "model"


# -- tokenised inputs ------------------------------------------------------------------------------------------------
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


# -- export steps ----------------------------------------------------------------------------------------------------
def model_input_names(task: str) -> list[str]:
    """The exported inputs, in forward order: token types only where pairs matter (question answering)."""
    return list(tasks.get(task).inputs)


def example_inputs(config: AlbertConfig, input_names: Sequence[str], max_seq_len: int) -> tuple[torch.Tensor, ...]:
    # Neither 1 (torch.export specialises size-1 dims) nor max: a length strictly inside the range.
    length = min(8, max_seq_len)
    ids = torch.randint(5, config.vocab_size, (1, length))
    arrays = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "token_type_ids": torch.zeros_like(ids)}
    return tuple(arrays[name] for name in input_names)


def seq_dynamic_shapes(input_names: Sequence[str], max_seq_len: int) -> tuple[dict[int, Any], ...]:
    seq = torch.export.Dim("seq", min=1, max=max_seq_len)
    return tuple({1: seq} for _ in input_names)


def delegation_summary(edge_program_manager) -> dict[str, Any]:
    """Partitions and per-op node counts of a lowered program (ExecuTorch's `get_delegation_info`)."""
    from executorch.devtools.backend_debug import get_delegation_info

    info = get_delegation_info(edge_program_manager.exported_program().graph_module)
    frame = info.get_operator_delegation_dataframe()
    frame = frame[frame.op_type != "Total"]
    non_delegated = {row.op_type: int(row.occurrences_in_non_delegated_graphs) for row in frame.itertuples()
                     if row.occurrences_in_non_delegated_graphs}
    return {
        "partitions": int(info.num_delegated_subgraphs),
        "delegated_nodes": int(info.num_delegated_nodes),
        "non_delegated_nodes": int(info.num_non_delegated_nodes),
        "non_delegated_ops": non_delegated,
    }


def export_pte(model: AlbertPreTrainedModel, path: Path, *, input_names: Sequence[str], max_seq_len: int,
               recipe=None, calibration: Sequence[Example] = (), bar: tqdm | None = None) -> dict[str, Any]:
    """torch.export (quantized by `recipe` if given) -> XNNPACK -> .pte at `path`; returns the delegation summary."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    from quantize.xnnpack import executorch_config, register_quantized_kernels

    register_quantized_kernels()
    args = example_inputs(model.config, input_names, max_seq_len)
    shapes = seq_dynamic_shapes(input_names, max_seq_len)
    _step(bar, "pte: export" + (" + quantize" if recipe else ""))
    with torch.no_grad(), quiet():
        if recipe is None:
            program = torch.export.export(model, args, dynamic_shapes=shapes)
        else:
            batches = [tuple(torch.from_numpy(e.inputs[n]) for n in input_names) for e in calibration]
            program = recipe.quantize(model, args, shapes, batches,
                                      progress=lambda it: tqdm(it, desc="calibrating", total=len(batches),
                                                               leave=False, disable=bar is None or bar.disable))
        _step(bar, "pte: lower to XNNPACK")
        edge = to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()])
        delegation = delegation_summary(edge)
        _step(bar, "pte: serialise")
        buffer = edge.to_executorch(executorch_config()).buffer
    path.write_bytes(buffer)
    return delegation


def export_onnx(model: AlbertPreTrainedModel, path: Path, *, input_names: Sequence[str], max_seq_len: int,
                recipe=None, calibration: Sequence[Example] = (), bar: tqdm | None = None) -> dict[str, Any]:
    """The model's ORT formulation traced to ONNX -> ORT's transformer optimizer (every layer one `Attention`) ->
    shared weights stored once -> optionally ORT int8 -> one .onnx file at `path`. Returns what the manifest records
    of the graph (fused-operator counts).

    Traced with the TorchScript exporter (`dynamo=False`): ORT's fusions match its graphs; the dynamo exporter's
    graph of the same module fuses no `Attention` at all (measured with onnxruntime 1.32)."""
    import onnx

    from albert_edge.model import set_formulation
    from quantize.onnx import fuse_for_ort, strip_debug_metadata

    config = model.config
    args = example_inputs(config, input_names, max_seq_len)
    _step(bar, "onnx: export")
    float_path = path.with_name(f".{path.stem}.float.onnx")
    try:
        set_formulation(model, "ort")
        with torch.no_grad(), quiet():
            torch.onnx.export(model, args, str(float_path), input_names=list(input_names),
                              output_names=list(model.output_names), opset_version=17, dynamo=False,
                              dynamic_axes={name: {1: "seq"} for name in input_names})
            # Static QDQ has no Attention op: its graph keeps attention as MatMuls for the quantizer to cover.
            # Layer applications: each of the num_hidden_layers steps runs inner_group_num layers.
            fused, stats, deduplicated = fuse_for_ort(
                float_path, config.num_attention_heads, config.hidden_size,
                config.num_hidden_layers * config.inner_group_num,
                attention=recipe is None or recipe.linear == "dynamic")
        graph = {"exporter": "torch.onnx (TorchScript)", "formulation": "ort", "fused_operators": stats,
                 "deduplicated_initializers": deduplicated}
        if recipe is None:
            strip_debug_metadata(fused)
            onnx.save(fused, str(path))
            return graph
        _step(bar, "onnx: quantize")
        with quiet():
            recipe.quantize(fused, path, [e.inputs for e in calibration] or None)
        return graph
    finally:
        set_formulation(model, "xnnpack")
        float_path.unlink(missing_ok=True)
        float_path.with_name(float_path.name + ".data").unlink(missing_ok=True)


def write_ort_format(onnx_path: Path) -> tuple[Path, Path]:
    """ONNX Runtime's mobile format beside `onnx_path`: `NAME.ort` (the graph optimised once, at ORT_ENABLE_ALL for
    ARM, by onnxruntime's own `convert_onnx_models_to_ort`) and `NAME.required_operators.config`, the operator list
    a reduced ORT build needs (`build.sh --include_ops_by_config`). Returns both paths."""
    from onnxruntime.tools.convert_onnx_models_to_ort import OptimizationStyle, convert_onnx_models_to_ort

    work = onnx_path.with_name(f".{onnx_path.stem}.ort-work")
    work.mkdir()
    try:
        with quiet(), contextlib.redirect_stdout(io.StringIO()):  # the tool prints its progress
            convert_onnx_models_to_ort(onnx_path, output_dir=work,
                                       optimization_styles=[OptimizationStyle.Fixed], target_platform="arm")
        ort_file = onnx_path.with_suffix(".ort")
        config_file = onnx_path.with_name(f"{onnx_path.stem}.required_operators.config")
        os.replace(work / ort_file.name, ort_file)
        # The tool's comment names the absolute path it wrote to; the shipped file names the model only.
        lines = (work / config_file.name).read_text(encoding="utf-8").splitlines()
        lines = [f"# - {ort_file.name}" if line.startswith("# - ") else line for line in lines]
        config_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return ort_file, config_file
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _step(bar: tqdm | None, what: str) -> None:
    """Mark the running step done (if any) and name the next one."""
    if bar is None:
        return
    if getattr(bar, "postfix", None):  # a disabled bar has none
        bar.update(1)
    bar.set_postfix_str(what)


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
           threads: int | None, input_names: Sequence[str], progress: bool = True) -> dict[str, dict[str, Any]]:
    """Run every artifact on every example at its own length and compare with the fp32 eager model.

    `threads` applies to the eager reference and to both runtimes."""
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


# -- manifest --------------------------------------------------------------------------------------------------------
def _version(package: str) -> str | None:
    for name in (package, package.replace("_", "-")):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            return importlib.metadata.version(name)
    return None


def _io_spec(model: AlbertPreTrainedModel, input_names: Sequence[str], max_seq_len: int) -> tuple[list, list]:
    spec = tasks.get(model.task)
    inputs = [{"name": n, "dtype": "int64", "shape": [1, "seq"], "seq_range": [1, max_seq_len]} for n in input_names]
    outputs = [{"name": n, "dtype": "float32", "shape": s}
               for n, s in zip(spec.outputs, spec.output_shapes(model.config))]
    return inputs, outputs


# -- the export's steps ----------------------------------------------------------------------------------------------
def recipes(static: bool, embedding: str, onnx_per_channel: bool):
    """The int8 recipes of both backends: (XnnpackInt8Recipe, OnnxInt8Recipe)."""
    from quantize.onnx import OnnxInt8Recipe
    from quantize.xnnpack import XnnpackInt8Recipe

    linear = "static" if static else "dynamic"
    xnnpack = XnnpackInt8Recipe(linear=linear, embedding=embedding, embedding_group_size=INT4_EMBEDDING_GROUP)
    # ONNX Runtime has no int4 Gather kernel: its table stays int8 when the .pte's is int4. Per-tensor weights by
    # default: on albert-base (random weights, 872 SST-2 dev sentences) per-channel agreed 99.89% vs 99.43% but ran
    # 3-6% slower at seq 16 (docs/benchmarks.md, "ONNX Runtime"); both clear --min-agreement.
    onnx_recipe = OnnxInt8Recipe(linear=linear, embedding="fp32" if embedding == "fp32" else "int8",
                                 per_channel=onnx_per_channel)
    return xnnpack, onnx_recipe


def verification_examples(eval_texts: list[str] | None, eval_labels: list[int] | None, eval_data, tokenizer,
                          config: AlbertConfig, task: str, max_seq_len: int,
                          input_names: Sequence[str]) -> tuple[list[Example], str]:
    """What the artifacts are compared with eager on, and how the manifest names it: the eval data's sentences (with
    labels), else the built-in sentences; tokenized by the model's tokenizer, else the bundled one."""
    if eval_texts is not None:
        source, texts, labels = f"eval data {Path(eval_data).name}", eval_texts, eval_labels
    else:
        source = f"built-in {VERIFY_SENTENCES.name}"
        texts, labels = _read_text_lines(VERIFY_SENTENCES, "built-in", comments=True), None
    if tokenizer is None:
        # No spiece.model in the checkpoint: the bundled tokenizer still turns the real sentences into realistic id
        # sequences (when its ids fit the model's vocabulary). Only verification uses it; nothing of it is shipped.
        bundled = AlbertTokenizer.from_pretrained(BUNDLED_TOKENIZER)
        if bundled.vocab_size <= config.vocab_size:
            tokenizer = bundled
            source += " (ids from the bundled tokenizer: the checkpoint ships no spiece.model)"
        else:
            source += " (random token ids: the checkpoint ships no spiece.model)"
    return build_examples(texts, labels, tokenizer, config, task, max_seq_len, input_names), source


def write_tokenizer_files(tokenizer: AlbertTokenizer, directory: Path) -> dict[str, Any]:
    """spiece.model, tokenizer_config.json and (where it exists) the device vocabulary; the manifest's entry."""
    tokenizer.save_pretrained(directory)
    # A tokenizer with SentencePiece's compiled normaliser (e.g. original albert-base-v2) runs in Python but has no
    # device vocabulary; the manifest says so and the Android bundler refuses it.
    device_vocab = tokenizer.normalizer == "identity"
    if device_vocab:
        tokenizer.export_vocab(directory / "vocab.json")
    return {"vocab": "vocab.json" if device_vocab else None, "spiece_model": "spiece.model",
            "config": "tokenizer_config.json", "do_lower_case": tokenizer.do_lower_case,
            "normalizer": tokenizer.normalizer}


def quantization_entry(xnnpack_recipe, onnx_recipe, pte: bool, onnx: bool, calibration_lines: int) -> dict:
    pte_q, onnx_q = xnnpack_recipe.describe(), onnx_recipe.describe()
    return {"scheme": f"int8-{xnnpack_recipe.linear}", "linear": pte_q["linear"], "embedding": pte_q["embedding"],
            "pte": pte_q if pte else None, "onnx": onnx_q if onnx else None,
            "calibration_lines": calibration_lines or None}


# -- the export ------------------------------------------------------------------------------------------------------
def export(
    model: str | os.PathLike | None = None,
    *,
    task: str | None = None,
    int8: bool = False,
    max_seq_len: int | None = None,
    backend: str = "all",
    out: str | os.PathLike | None = None,
    threads: int | None = None,
    calibration: str | os.PathLike | None = None,
    verify: bool = True,
    min_agreement: float = 0.99,
    eval_data: str | os.PathLike | None = None,
    force: bool = False,
    embedding: str = "int8",
    name: str | None = None,
    ort_format: bool = False,
    onnx_per_channel: bool = False,
    progress: bool = True,
) -> ExportResult:
    """Export `model` (an HF-format ALBERT dir or hub id; default: the bundled model) and return what was written.
    `ort_format` also writes the `.onnx` in ONNX Runtime's mobile format (`.ort` + the operator list for a reduced
    ORT build). `onnx_per_channel`: the int8 `.onnx` with one weight scale per output channel (default per tensor).

    Raises ExportError for input it cannot use (nothing is written) and when verification agreement falls below
    `min_agreement` (the output directory is not created).
    """
    started = time.perf_counter()
    # 1. Check everything cheap before loading anything.
    if ort_format and backend == "pte":
        raise ExportError("--ort-format converts the .onnx; use it with --backend onnx or all")
    if backend not in BACKENDS:
        raise ExportError(f"--backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if task is not None and task not in EXPORT_TASKS:
        raise ExportError(f"unknown task {task!r}; choose one of {', '.join(EXPORT_TASKS)}")
    if embedding not in EMBEDDINGS:
        raise ExportError(f"--embedding {embedding!r}; choose one of {', '.join(EMBEDDINGS)}")
    if max_seq_len is not None and max_seq_len < 2:
        raise ExportError(f"--max-seq-len must be at least 2, got {max_seq_len}")
    if not 0.0 <= min_agreement <= 1.0:
        raise ExportError(f"--min-agreement must be in [0, 1], got {min_agreement}")
    if threads is not None and threads < 1:
        raise ExportError(f"--threads must be at least 1, got {threads}")
    if calibration is not None and not int8:
        raise ExportError("--calibration sets static int8 quantization; add --int8")
    calibration_lines = read_calibration(calibration) if calibration is not None else None
    source = model
    if model is None:
        bundled_task = task or "sequence-classification"
        bundled = tasks.get(bundled_task).bundled
        source = bundled.directory(BUNDLED_MODEL) if bundled else None
        if source is None or not (source / "config.json").is_file():
            shipped = [t for t in tasks.names(bundled=True)
                       if (tasks.get(t).bundled.directory(BUNDLED_MODEL) / "config.json").is_file()]
            raise ExportError(f"no bundled {bundled_task} model in this install; pass --model PATH_OR_HUB_ID "
                              f"(bundled: {', '.join(shipped) or 'none'})")
        if eval_data is None and verify and bundled.eval_data(BUNDLED_MODEL).is_file():
            eval_data = bundled.eval_data(BUNDLED_MODEL)
        name = name or bundled.name
    try:
        config = load_config(resolve(source))
    except HubError as e:
        raise ExportError(str(e)) from None
    task = task or task_of(config)
    # Default: what fine-tuning recorded, else 128 (or the model's positions, if fewer).
    max_seq_len = max_seq_len or int((config.extra.get("postprocess") or {}).get("max_seq_len")
                                     or min(128, config.max_position_embeddings))
    if task not in EXPORT_TASKS:
        raise ExportError(f"the checkpoint is a {task} model, which is not exportable; pass --task with one of "
                          f"{', '.join(EXPORT_TASKS)}")
    if int8 and embedding == "int4" and config.embedding_size % INT4_EMBEDDING_GROUP:
        raise ExportError(f"--embedding int4 quantizes the word embeddings in groups of {INT4_EMBEDDING_GROUP} "
                          f"columns; this model's embedding_size {config.embedding_size} is not a multiple of it "
                          "(use --embedding int8)")
    if max_seq_len > config.max_position_embeddings:
        raise ExportError(f"--max-seq-len {max_seq_len} exceeds the model's max_position_embeddings "
                          f"({config.max_position_embeddings}); pass at most {config.max_position_embeddings}")
    name = name or default_name(model)
    precision = "int8" if int8 else "fp32"
    out = Path(out) if out is not None else Path(f"albert_{name}_{precision}")
    try:  # refuses a non-empty --out (without force), a symlink, a folder it cannot write
        output = OutputDirectory(out, force)
    except OutputError as e:
        raise ExportError(str(e)) from None
    task_eval = None
    if eval_data is not None and tasks.get(task).task_metric_in_export:
        # NER and QA data (CoNLL, SQuAD JSON with an optional @first:last article range) score the artifacts with
        # the task's own metric; the logit comparison keeps using the built-in sentences.
        data_path, articles = article_spec(eval_data)
        if not data_path.is_file():
            raise ExportError(f"--eval-data {data_path}: no such file")
        task_eval, eval_data = (str(data_path), articles), None
    eval_texts, eval_labels = (read_eval_data(eval_data, config, task) if eval_data is not None else (None, None))

    # 2. Load.
    try:
        net = from_pretrained(source, task)
        tokenizer_dir = load_tokenizer_files(source)
        tokenizer = AlbertTokenizer.from_pretrained(tokenizer_dir) if tokenizer_dir else None
    except (HubError, TokenizerError) as e:
        raise ExportError(str(e)) from None
    if tokenizer is not None and tokenizer.vocab_size > config.vocab_size:
        raise ExportError(f"spiece.model has {tokenizer.vocab_size} pieces but the model's vocab_size is "
                          f"{config.vocab_size}; they do not belong together")
    input_names = model_input_names(task)

    xnnpack_recipe, onnx_recipe = (recipes(bool(calibration_lines), embedding, onnx_per_channel) if int8
                                   else (None, None))
    calibration_examples = (build_examples(calibration_lines, None, tokenizer, config, task, max_seq_len, input_names)
                            if calibration_lines else [])
    examples, verify_source = verification_examples(
        eval_texts, eval_labels, eval_data, tokenizer, config, task, max_seq_len, input_names)

    # 3. Build everything in a temp dir beside the target; rename it into place only when all of it succeeded.
    pte_name = f"albert_{name}_xnnpack_{precision}.pte" if backend in ("pte", "all") else None
    onnx_name = f"albert_{name}_{precision}.onnx" if backend in ("onnx", "all") else None
    steps = (3 if pte_name else 0) + ((2 if int8 else 1) + int(ort_format) if onnx_name else 0) + 2 + int(verify)
    bar = tqdm(total=steps, desc=f"export {name} {precision}", unit="step", disable=not progress)
    try:
        with output as staging:  # built in a hidden staging dir, swapped into place at the end
            delegation = None
            artifacts: dict[str, Path] = {}
            if pte_name:
                delegation = export_pte(net, staging / pte_name, input_names=input_names, max_seq_len=max_seq_len,
                                        recipe=xnnpack_recipe, calibration=calibration_examples, bar=bar)
                os.symlink(pte_name, staging / "model.pte")
                artifacts["pte"] = staging / pte_name
            onnx_graph = None
            if onnx_name:
                onnx_graph = export_onnx(net, staging / onnx_name, input_names=input_names,
                                         max_seq_len=max_seq_len, recipe=onnx_recipe,
                                         calibration=calibration_examples, bar=bar)
                os.symlink(onnx_name, staging / "model.onnx")
                artifacts["onnx"] = staging / onnx_name
                if ort_format:
                    _step(bar, "onnx: .ort format")
                    ort_path, operators_path = write_ort_format(staging / onnx_name)
                    artifacts["ort"] = ort_path
            _step(bar, "tokenizer files")
            tokenizer_entry = write_tokenizer_files(tokenizer, staging) if tokenizer is not None else None
            verification = None
            if verify:
                _step(bar, "verify")
                figures = verify_artifacts(net, artifacts, examples, task, threads, input_names, progress)
                verification = {**figures, "sentences": len(examples), "source": verify_source, "threads": threads}
                _check_agreement(figures, min_agreement, artifacts, int8)
            _step(bar, "manifest")
            inputs, outputs = _io_spec(net, input_names, max_seq_len)
            quantization = (quantization_entry(xnnpack_recipe, onnx_recipe, bool(pte_name), bool(onnx_name),
                                               len(calibration_examples)) if int8 else None)
            files = {p.name: {"bytes": p.stat().st_size, "sha256": sha256_file(p)}
                     for p in sorted(staging.iterdir()) if p.is_file() and not p.is_symlink()}
            manifest = Manifest(
                # What a plain runtime must load besides the file (error 0x14 from executorch.runtime otherwise).
                runtime_requirements={
                    "pte": (["import executorch.kernels.quantized (the int8 embedding kernel, "
                             "quantized_decomposed::embedding_byte)"] if int8 and embedding != "fp32" else [])
                    if pte_name else None,
                    "onnx": ["onnxruntime with the com.microsoft contrib ops (every standard build; a reduced build "
                             "needs the ops in ort_operators)"] if onnx_name else None},
                name=name,
                task=task,
                max_seq_len=max_seq_len,
                config=config.to_dict(),
                labels=({str(k): v for k, v in config.id2label.items()} if tasks.get(task).labelled else None),
                inputs=inputs,
                outputs=outputs,
                quantization=quantization,
                artifacts={"pte": pte_name, "onnx": onnx_name,
                           **({"ort": artifacts["ort"].name} if "ort" in artifacts else {})},
                # The operators a reduced ONNX Runtime build must include to run the .ort (android_demo/README.md).
                ort_operators=operators_path.name if "ort" in artifacts else None,
                onnx_graph=onnx_graph,
                links={link: target for link, target in (("model.pte", pte_name), ("model.onnx", onnx_name))
                       if target},
                files=files,
                tokenizer=tokenizer_entry,
                # What an app needs to turn outputs into answers (softmax; NER label decoding; QA stride, n-best, max
                # answer length), with the values a fine-tuned checkpoint recorded taking precedence.
                postprocess=postprocess_params(task, config),
                delegation=delegation,
                parameters=sum(p.numel() for p in net.parameters()),
                source_model=str(model) if model is not None else (
                    "bundled" if source == BUNDLED_MODEL else f"bundled:{Path(source).name}"),
                versions={pkg: _version(pkg) for pkg in ("torch", "executorch", "torchao", "onnx", "onnxruntime",
                                                         "albert_edge")},
                verification=verification,
            )
            if verify and task_eval is not None:  # through the pipelines, on the manifest in memory
                verification["task_metrics"] = task_metrics(staging, manifest, source, artifacts, task_eval,
                                                            threads, max_seq_len)
            manifest.write(staging)  # once; the whole staging directory is what appears atomically

        _step(bar, "done")
    except OutputError as e:  # --out changed during the export, or another export holds it
        raise ExportError(str(e)) from None
    finally:
        bar.close()
    # What the file holds, exactly (a non-finite SNR is null there too).
    return ExportResult(out, json.loads(manifest.to_json()), time.perf_counter() - started)


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


def _check_agreement(figures: dict[str, dict[str, Any]], min_agreement: float, artifacts: dict[str, Path],
                     int8: bool) -> None:
    for backend, path in artifacts.items():
        agreement = figures[backend]["top1_agreement"]
        if agreement is not None and agreement < min_agreement:
            advice = ("try --embedding fp32, verify on your own data (--eval-data), or lower --min-agreement"
                      if int8 else "an fp32 artifact should agree exactly: please report this as a bug")
            raise ExportError(
                f"{path.name}: top-1 agreement with the fp32 model is {agreement:.4f} < --min-agreement "
                f"{min_agreement} (SNR {figures[backend]['snr_db']} dB); nothing was written; {advice}")


# -- summary and CLI -------------------------------------------------------------------------------------------------
def summary(result: ExportResult) -> str:
    m = result.manifest
    lines = [f"wrote {result.out}/ in {result.seconds:.0f}s: {m['name']} ({m['task']}, "
             f"{'int8' if m['quantization'] else 'fp32'}, seq 1..{m['max_seq_len']}, {m['parameters']:,} parameters)"]
    for file, info in m["files"].items():
        lines.append(f"  {info['bytes'] / 1e6:9.2f} MB  {file}")
    for link, target in m["links"].items():
        lines.append(f"  {'':>12}  {link} -> {target}")
    if m["delegation"]:
        d = m["delegation"]
        lines.append(f"  xnnpack: {d['partitions']} partition(s), {d['delegated_nodes']} delegated nodes, "
                     f"{d['non_delegated_nodes']} not delegated {d['non_delegated_ops']}")
    v = m["verification"]
    if v:
        lines.append(f"  verified on {v['sentences']} inputs from {v['source']} against fp32 eager:")
        for backend in ("pte", "onnx", "ort"):
            if backend in v:
                r = v[backend]
                agreement = "n/a" if r["top1_agreement"] is None else f"{100 * r['top1_agreement']:.2f}%"
                accuracy = "" if r["accuracy"] is None else (
                    f"  accuracy {100 * r['accuracy']:.2f}% (eager {100 * v['eager']['accuracy']:.2f}%)")
                snr = "inf (identical)" if r["snr_db"] is None else r["snr_db"]
                lines.append(f"    {backend:4s} top-1 agreement {agreement}  SNR {snr} dB  max|diff| "
                             f"{r['max_abs_diff']:.2e}  {r['mean_ms']} ms/input{accuracy}")
        metrics = v.get("task_metrics")
        if metrics:
            lines.append(f"  task metric (data {metrics['data']}):")
            for artifact in ("eager", "pte", "onnx", "ort"):
                if artifact in metrics:
                    shown = {k: round(val, 2) for k, val in metrics[artifact].items() if k in ("f1", "exact_match")}
                    lines.append(f"    {artifact:5s} " + "  ".join(f"{k} {val}" for k, val in shown.items()))
    else:
        lines.append("  not verified (--no-verify)")
    return "\n".join(lines)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m albert_edge.export", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, metavar="PATH_OR_HUB_ID",
                        help="HF-format ALBERT directory or hub id (default: the bundled model)")
    parser.add_argument("--task", choices=EXPORT_TASKS, default=None, help="default: the checkpoint's own")
    parser.add_argument("--int8", action="store_true", help="int8 weights (default: fp32)")
    parser.add_argument("--max-seq-len", type=int, default=None,
                        help="longest input the artifacts accept (default: the length fine-tuning recorded in "
                             "config.json's postprocess block, else 128 or the model's positions if fewer)")
    parser.add_argument("--backend", choices=BACKENDS, default="all")
    parser.add_argument("--out", default=None, metavar="DIR", help="default: ./albert_<name>_<fp32|int8>")
    parser.add_argument("--threads", type=int, default=None, help="threads for verification runs")
    parser.add_argument("--calibration", default=None, metavar="FILE",
                        help="UTF-8 text, one sentence per line: static int8 calibrated on it (with --int8)")
    parser.add_argument("--no-verify", action="store_true", help="skip running the artifacts against eager")
    parser.add_argument("--min-agreement", type=float, default=0.99,
                        help="fail when an artifact's top-1 agreement with fp32 eager is below this")
    parser.add_argument("--eval-data", default=None, metavar="FILE",
                        help="labelled `sentence<TAB>label` TSV to verify on (and report accuracy); default for "
                             "the bundled model: its SST-2 dev set, albert_edge/assets/sst2_dev.tsv")
    parser.add_argument("--embedding", choices=EMBEDDINGS, default="int8",
                        help="word-embedding table with --int8 (int4 applies to the .pte; ONNX keeps int8)")
    parser.add_argument("--name", default=None, help="name in the file names (default: from the model directory)")
    parser.add_argument("--force", action="store_true", help="replace a non-empty --out")
    parser.add_argument("--onnx-per-channel", action="store_true",
                        help="int8 .onnx weights with one scale per output channel (default: per tensor, faster)")
    parser.add_argument("--ort-format", action="store_true",
                        help="also write the .onnx in ONNX Runtime's mobile format (.ort + required_operators.config "
                             "for a reduced ORT build)")
    parser.add_argument("--verbose", action="store_true",
                        help="also show third-party messages known to be harmless (albert_edge/quiet.py)")
    args = parser.parse_args(argv)
    set_verbose(args.verbose)
    # `kill` (SIGTERM) unwinds like Ctrl-C, so the staging directory is removed either way.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    with cli_errors(interrupted="interrupted; nothing was written"):
        result = export(args.model, task=args.task, int8=args.int8, max_seq_len=args.max_seq_len,
                        backend=args.backend, out=args.out, threads=args.threads, calibration=args.calibration,
                        verify=not args.no_verify, min_agreement=args.min_agreement,
                        eval_data=args.eval_data, force=args.force, embedding=args.embedding, name=args.name,
                        ort_format=args.ort_format, onnx_per_channel=args.onnx_per_channel)
    print(summary(result))


if __name__ == "__main__":
    main()
