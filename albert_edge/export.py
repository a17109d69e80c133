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

Why ~550 lines: every option's rule is checked here, in one place and before anything is written (the bad-input
contract), and `export()` reads as the list of steps; the steps themselves live in `lowering.py` and `verify.py`.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import re
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from albert_edge import tables, tasks
from albert_edge.config import AlbertConfig
from albert_edge.files import OutputDirectory, OutputError, cli_errors, sha256_file
from albert_edge.hub import (
    HubError,
    from_pretrained,
    load_config,
    load_tokenizer_files,
    resolve,
    task_of,
)
from albert_edge.lowering import (
    INT4_EMBEDDING_GROUP,
    ExportError,
    export_onnx,
    export_pte,
    export_stepwise_pte,
    model_input_names,
    progress_step,
    quantization_entry,
    recipes,
    write_ort_format,
)
from albert_edge.manifest import Manifest
from albert_edge.model import AlbertPreTrainedModel
from albert_edge.pipeline import postprocess_params
from albert_edge.qa import article_spec
from albert_edge.quiet import set_verbose
from albert_edge.runtime import InputLimits, data_file
from albert_edge.tokenizer import BUNDLED_ASSETS as BUNDLED_TOKENIZER
from albert_edge.tokenizer import AlbertTokenizer, TokenizerError
from albert_edge import stepwise as stepwise_module
from albert_edge.verify import (
    Example,
    build_examples,
    check_agreement,
    task_metrics,
    verify_artifacts,
)
from albert_edge.verify import exit_calibration as exit_calibration_entry

EXPORT_TASKS = tasks.names(exportable=True)
BACKENDS = ("pte", "onnx", "all")
EMBEDDINGS = ("int8", "int4", "fp32")
# The bundled models (albert_edge/assets/; the registry names each task's directory, default name and the labelled
# sample it verifies on when exported with no arguments, e.g. SST-2 dev for the sentiment model).
BUNDLED_MODEL = tasks.ASSETS
BUNDLED_EVAL = tasks.get("sequence-classification").bundled.eval_data(BUNDLED_MODEL)
VERIFY_SENTENCES = Path(__file__).resolve().with_name("verify_sentences.txt")
CALIBRATION_LIMIT = 256  # lines: activation ranges settle well before this on sentence-length text


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


def default_stepwise(stepwise: bool | None, exit_calibration, model, task: str | None, backend: str,
                     calibration) -> tuple[bool, Any]:
    """`stepwise=None`: on, with the shipped calibration data as `exit_calibration`, for a bundled model that ships
    it (adaptive depth by default) when the export writes a dynamic-int8 or fp32 .pte; otherwise off."""
    if stepwise is not None:
        return stepwise, exit_calibration
    bundled = tasks.get(task or "sequence-classification").bundled if model is None else None
    shipped = bundled.exit_data(BUNDLED_MODEL) if bundled else None
    if shipped is None or backend not in ("pte", "all") or calibration is not None:
        return False, exit_calibration
    return True, exit_calibration if exit_calibration is not None else shipped


def default_name(model: str | os.PathLike | None) -> str:
    if model is None:
        return "edge"
    stem = Path(str(model).rstrip("/")).name.lower()
    stem = re.sub(r"^albert[-_]?", "", stem)
    return re.sub(r"[^a-z0-9]+", "-", stem).strip("-") or "model"


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
    min_agreement: float | None = None,
    eval_data: str | os.PathLike | None = None,
    force: bool = False,
    embedding: str = "int8",
    name: str | None = None,
    ort_format: bool = False,
    onnx_per_channel: bool = False,
    stepwise: bool | None = None,
    exit_calibration: str | os.PathLike | None = None,
    exit_max_loss: float = 0.005,
    progress: bool = True,
) -> ExportResult:
    """Export `model` (an HF-format ALBERT dir or hub id; default: the bundled model) and return what was written.
    `ort_format` also writes the `.onnx` in ONNX Runtime's mobile format (`.ort` + the operator list for a reduced
    ORT build). `onnx_per_channel`: the int8 `.onnx` with one weight scale per output channel (default per tensor).
    `stepwise` also writes a stepwise `.pte` (`albert_edge.stepwise`: methods embed, layer_<g>, head; the app runs
    the loop over depth), verified against eager at full depth like the others. `exit_calibration` (with
    `stepwise`, sequence classification): a labelled `sentence<TAB>label` file of held-in data (never the data you
    report) on which an early-exit policy is chosen (`albert_edge.exits.calibrate`, at most `exit_max_loss`
    accuracy lost against full depth); it goes into the manifest, and labelled `eval_data` reports its accuracy and
    mean depth. `stepwise=None` (the default) is False, except for a bundled model that ships exit-policy
    calibration data (the sentiment model): its default export writes the stepwise program with a policy chosen on
    that data, and pipelines run it adaptively; `stepwise=False` turns that off.

    Raises ExportError for input it cannot use (nothing is written) and when verification agreement falls below
    `min_agreement` (the output directory is not created; default: the task's, 0.99, or 0.95 for QA).
    """
    started = time.perf_counter()
    # 1. Check everything cheap before loading anything.
    if ort_format and backend == "pte":
        raise ExportError("--ort-format converts the .onnx; use it with --backend onnx or all")
    stepwise, exit_calibration = default_stepwise(stepwise, exit_calibration, model, task, backend, calibration)
    if stepwise and backend == "onnx":
        raise ExportError("--stepwise writes a .pte; use it with --backend pte or all")
    if stepwise and calibration is not None:
        raise ExportError("--stepwise takes dynamic int8 (or fp32); drop --calibration")
    if exit_calibration is not None and not stepwise:
        raise ExportError("--exit-calibration chooses the stepwise program's exit policy; add --stepwise")
    if not 0.0 <= exit_max_loss < 1.0:
        raise ExportError(f"--exit-max-loss must be in [0, 1), got {exit_max_loss}")
    if backend not in BACKENDS:
        raise ExportError(f"--backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if task is not None and task not in EXPORT_TASKS:
        raise ExportError(f"unknown task {task!r}; choose one of {', '.join(EXPORT_TASKS)}")
    if embedding not in EMBEDDINGS:
        raise ExportError(f"--embedding {embedding!r}; choose one of {', '.join(EMBEDDINGS)}")
    if max_seq_len is not None and max_seq_len < 2:
        raise ExportError(f"--max-seq-len must be at least 2, got {max_seq_len}")
    if min_agreement is not None and not 0.0 <= min_agreement <= 1.0:
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
    min_agreement = tasks.get(task).min_agreement if min_agreement is None else min_agreement
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
    exit_texts, exit_labels = None, None
    if exit_calibration is not None:
        if task != "sequence-classification":
            raise ExportError(f"--exit-calibration decides on class logits; a {task} model has none")
        exit_texts, exit_labels = read_eval_data(exit_calibration, config, task)

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
    stepwise_name = f"albert_{name}_xnnpack_{precision}_stepwise.pte" if stepwise else None
    steps = ((3 if pte_name else 0) + ((2 if int8 else 1) + int(ort_format) if onnx_name else 0) + 2 + int(verify)
             + (3 if stepwise_name else 0) + (1 if exit_calibration is not None else 0))
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
            stepwise_entry = None
            if stepwise_name:
                stepwise_delegation = export_stepwise_pte(net, staging / stepwise_name, input_names=input_names,
                                                          max_seq_len=max_seq_len, recipe=xnnpack_recipe, bar=bar)
                artifacts["pte_stepwise"] = staging / stepwise_name
                stepwise_entry = {**stepwise_module.manifest_entry(net, input_names),
                                  "delegation": stepwise_delegation}
            onnx_graph = None
            if onnx_name:
                onnx_graph = export_onnx(net, staging / onnx_name, input_names=input_names,
                                         max_seq_len=max_seq_len, recipe=onnx_recipe,
                                         calibration=calibration_examples, bar=bar)
                os.symlink(onnx_name, staging / "model.onnx")
                artifacts["onnx"] = staging / onnx_name
                if ort_format:
                    progress_step(bar, "onnx: .ort format")
                    ort_path, operators_path = write_ort_format(staging / onnx_name)
                    artifacts["ort"] = ort_path
            progress_step(bar, "tokenizer files")
            tokenizer_entry = write_tokenizer_files(tokenizer, staging) if tokenizer is not None else None
            verification = None
            if verify:
                progress_step(bar, "verify")
                figures = verify_artifacts(net, artifacts, examples, task, threads, input_names, progress,
                                           stepwise_schedule=(stepwise_entry or {}).get("schedule"))
                verification = {**figures, "sentences": len(examples), "source": verify_source, "threads": threads}
                check_agreement(figures, min_agreement, artifacts, int8)
            if exit_texts is not None:
                progress_step(bar, "stepwise: exit policy")
                held_in = build_examples(exit_texts, exit_labels, tokenizer, config, task, max_seq_len, input_names)
                labelled_eval = [e for e in examples if e.label is not None]
                stepwise_entry.update(exit_calibration_entry(
                    artifacts["pte_stepwise"], stepwise_entry["schedule"], held_in, labelled_eval, input_names,
                    InputLimits(config.vocab_size, config.type_vocab_size), threads, exit_max_loss,
                    Path(exit_calibration).name, heads=stepwise_entry["heads"]))
            progress_step(bar, "manifest")
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
                           **({"ort": artifacts["ort"].name} if "ort" in artifacts else {}),
                           **({"pte_stepwise": stepwise_name} if stepwise_name else {})},
                stepwise=stepwise_entry,
                # A masked-LM's tied table, stored once outside the program (albert_edge.lowering).
                external_data={backend: data.name for backend in ("pte", "pte_stepwise") if backend in artifacts
                               and (data := data_file(artifacts[backend])).is_file()} or None,
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

        progress_step(bar, "done")
    except OutputError as e:  # --out changed during the export, or another export holds it
        raise ExportError(str(e)) from None
    finally:
        bar.close()
    # What the file holds, exactly (a non-finite SNR is null there too).
    return ExportResult(out, json.loads(manifest.to_json()), time.perf_counter() - started)


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
        scored = " (its logits; the task metric below scores the --eval-data)" if v.get("task_metrics") else ""
        lines.append(f"  verified on {v['sentences']} inputs from {v['source']} against fp32 eager{scored}:")
        for backend in ("pte", "onnx", "ort", "pte_stepwise"):
            if backend in v:
                r = v[backend]
                agreement = "n/a" if r["top1_agreement"] is None else f"{100 * r['top1_agreement']:.2f}%"
                accuracy = "" if r["accuracy"] is None else (
                    f"  accuracy {100 * r['accuracy']:.2f}% (eager {100 * v['eager']['accuracy']:.2f}%)")
                snr = "inf (identical)" if r["snr_db"] is None else r["snr_db"]
                name = "stepwise (full depth)" if backend == "pte_stepwise" else f"{backend:4s}"
                lines.append(f"    {name} top-1 agreement {agreement}  SNR {snr} dB  max|diff| "
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
    stepwise = m.get("stepwise") or {}
    if stepwise.get("exit_calibration"):
        c, policy, depths = stepwise["exit_calibration"], stepwise.get("exit_policy"), len(stepwise["schedule"])
        rule = (f"{policy['kind']} {policy['value']:g}" if policy else "none beats full depth")
        lines.append(f"  exit policy: {rule} (chosen on {c['examples']} rows of {c['data']}: "
                     f"{100 * c['accuracy']:.2f}% at mean depth {c['mean_depth']:.2f} of {depths}, full depth "
                     f"{100 * c['full_depth_accuracy']:.2f}%)")
        e = stepwise.get("exit_evaluation")
        if e:
            lines.append(f"    on the eval data ({e['examples']}): {100 * e['accuracy']:.2f}% at mean depth "
                         f"{e['mean_depth']:.2f} of {depths} (full depth {100 * e['full_depth_accuracy']:.2f}%)")
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
    parser.add_argument("--min-agreement", type=float, default=None,
                        help="fail when an artifact's top-1 agreement with fp32 eager is below this (default 0.99; "
                             "0.95 for question-answering, whose top-1 is a position in the window)")
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
    parser.add_argument("--stepwise", action=argparse.BooleanOptionalAction, default=None,
                        help="also write a stepwise .pte (methods embed, layer, head: the app chooses the depth); "
                             "default on for the bundled sentiment model (adaptive depth), off otherwise")
    parser.add_argument("--exit-calibration", default=None, metavar="FILE",
                        help="held-in sentence<TAB>label data to choose the stepwise early-exit policy on")
    parser.add_argument("--exit-max-loss", type=float, default=0.005,
                        help="accuracy the exit policy may lose against full depth on that data (default 0.005)")
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
                        ort_format=args.ort_format, onnx_per_channel=args.onnx_per_channel, stepwise=args.stepwise,
                        exit_calibration=args.exit_calibration, exit_max_loss=args.exit_max_loss)
    print(summary(result))


if __name__ == "__main__":
    main()
