"""Task pipelines over an exported directory: text in, labels / entities / answers out.

    from albert_edge.pipeline import pipeline
    classify = pipeline("out/sst2")                    # picks the class from manifest.json's task
    classify("a gripping, funny film")                 # {"label": "positive", "score": 0.97}
    pipeline("out/ner")("Peter Blackburn visited Paris.")
    pipeline("out/qa")(question="Who visited?", context="Peter Blackburn visited Paris.")

A pipeline loads what `python -m albert_edge.export` wrote - `manifest.json`, the `.pte` or `.onnx` through
`albert_edge.runtime`, the tokenizer shipped beside them - never the eager model, and runs one text at a time the way
an app does: the same tokenizer, the same pre- and post-processing (`albert_edge.ner`, `albert_edge.qa`), the
parameters an app reads from the manifest's `postprocess` block (`postprocess_params`).

`python -m albert_edge.pipeline evaluate` measures a task metric - accuracy (SST-2 TSV), entity F1 (CoNLL), SQuAD
EM/F1 - for an exported artifact or, given a Hugging Face model directory, for the eager fp32 model; the same
functions give the export's verification its task numbers (`run_fn_for`).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from albert_edge import ner, qa, runtime, tables, tasks
from albert_edge.config import AlbertConfig
from albert_edge.manifest import FILE as MANIFEST
from albert_edge.manifest import Manifest
from albert_edge.files import AlbertEdgeError, cli_errors
from albert_edge.quiet import set_verbose
from albert_edge.tokenizer import MODEL_FILE, AlbertTokenizer

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


class PipelineError(AlbertEdgeError):
    """An export directory a pipeline cannot run; the message says what is wrong and how to fix it."""


def postprocess_params(task: str, config: AlbertConfig | dict | None = None) -> dict[str, Any]:
    """Post-processing an app needs for `task`, beyond the manifest's labels and max_seq_len.

    The exporter stores this as the manifest's `postprocess` block and pipelines read it back. Values a fine-tuned
    checkpoint recorded in its config.json (`postprocess`, e.g. the QA doc stride it was tuned with) override the
    defaults; `config` is the model's AlbertConfig or its config.json dict.
    """
    try:
        defaults = tasks.get(task).postprocess_defaults()
    except tasks.UnknownTaskError:
        defaults = {}
    if isinstance(config, AlbertConfig):
        config = config.extra
    recorded = (config or {}).get("postprocess") or {}
    return {**defaults, **{k: v for k, v in recorded.items() if k in defaults}}


# -- run functions: (input_ids, attention_mask, token_type_ids) int64 arrays -> the model's outputs ------------------
def eager_run_fn(model) -> Callable[..., Any]:
    """An eager `albert_edge` model as a run_fn: numpy in, numpy out (a tuple for QA's two outputs)."""
    import torch

    model.eval()

    def run(input_ids: np.ndarray, attention_mask: np.ndarray, token_type_ids: np.ndarray):
        with torch.no_grad():
            out = model(torch.from_numpy(input_ids), torch.from_numpy(attention_mask), torch.from_numpy(token_type_ids))
        return tuple(o.numpy() for o in out) if isinstance(out, tuple) else out.numpy()

    return run


def runner_run_fn(runner, depth: int | None = None) -> Callable[..., Any]:
    """An `albert_edge.runtime` Runner as a run_fn. Rows run one at a time, each cut to its own length, as an app
    runs them; outputs are padded back to the batch (QA returns (start, end), other tasks their one output)."""
    names = list(runner.input_names)
    unknown = [n for n in names if n not in INPUT_NAMES]
    if unknown:
        raise PipelineError(f"the model takes inputs {names}; pipelines feed only {list(INPUT_NAMES)}")

    def run(input_ids: np.ndarray, attention_mask: np.ndarray, token_type_ids: np.ndarray):
        arrays = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
        rows, lengths = [], []
        for row in range(input_ids.shape[0]):
            n = int(attention_mask[row].sum())
            lengths.append(n)
            feed = {k: np.ascontiguousarray(arrays[k][row: row + 1, :n]) for k in names}
            rows.append([np.asarray(o) for o in (runner.run(feed, depth=depth) if depth else runner.run(feed))])
        outputs = []
        for k in range(len(rows[0])):
            per_row = [r[k] for r in rows]
            # Per-token outputs ((1, n, ...) for a row of n tokens) are padded back to the batch length; when all
            # rows have one length it is the batch length and padding changes nothing.
            if all(o.ndim >= 2 and o.shape[1] == n for o, n in zip(per_row, lengths)):
                padded = np.zeros((len(rows), input_ids.shape[1], *per_row[0].shape[2:]), dtype=per_row[0].dtype)
                for row, out in enumerate(per_row):
                    padded[row, : out.shape[1]] = out[0]
                outputs.append(padded)
            else:
                outputs.append(np.concatenate(per_row, axis=0))
        return tuple(outputs) if len(outputs) > 1 else outputs[0]

    return run


def run_fn_for(model_or_runner) -> Callable[..., Any]:
    """A run_fn for an eager model (`torch.nn.Module`) or a `runtime.Runner` (anything with `.run`/`.input_names`)."""
    if hasattr(model_or_runner, "run") and hasattr(model_or_runner, "input_names"):
        return runner_run_fn(model_or_runner)
    return eager_run_fn(model_or_runner)


# -- pipelines -------------------------------------------------------------------------------------------------------
def read_manifest(directory: str | Path) -> Manifest:
    try:
        return runtime.read_manifest(directory)
    except runtime.RuntimeLoadError as e:
        raise PipelineError(str(e)) from None


class Pipeline:
    """Base: an exported model (`artifact` "pte" or "onnx"; default the .pte when there is one) and its tokenizer."""

    task: str = ""

    def __init__(self, directory: str | Path, artifact: str | None = None, threads: int | None = None,
                 manifest: Manifest | None = None, depth: int | str | None = None, exit_policy=None):
        """`depth` (the stepwise artifact only): a number of layer applications, or "adaptive" to stop when
        `exit_policy` (an `albert_edge.exits.ExitPolicy`; default the manifest's `stepwise.exit_policy`) says so.
        With neither `artifact` nor `depth` given, an export that records an exit policy runs adaptively (its
        stepwise program); `artifact="pte"` runs the fixed-depth program instead."""
        self.directory = Path(directory)
        self.manifest = manifest or read_manifest(self.directory)
        if self.manifest.task != self.task:
            raise PipelineError(f"{self.directory} holds a {self.manifest.task} model, not {self.task}; "
                                f"use pipeline() to pick the right class")
        artifacts = {k: v for k, v in self.manifest.artifacts.items() if v}
        if not artifacts:
            raise PipelineError(f"{self.directory}: the manifest lists no artifacts; re-run the export")
        if artifact is None and depth is None and "pte_stepwise" in artifacts \
                and (self.manifest.stepwise or {}).get("exit_policy"):
            artifact, depth = "pte_stepwise", "adaptive"
        artifact = artifact or ("pte" if "pte" in artifacts else next(iter(artifacts)))
        if artifact not in artifacts:
            raise PipelineError(f"{self.directory} has no {artifact} artifact (it has {', '.join(artifacts)})")
        path = self.directory / artifacts[artifact]
        if not path.is_file():
            raise PipelineError(f"{path}: missing; the export directory is incomplete, re-run the export")
        self.artifact = artifact
        self.tokenizer = self._tokenizer()
        self.max_seq_len = self.manifest.max_seq_len
        self.labels = self.manifest.id2label
        self.params = {**postprocess_params(self.task, self.manifest.config), **self.manifest.postprocess}
        # Through the directory, so the runner takes its input names from the manifest.
        self.runner = runtime.load(self.directory, threads=threads, backend=artifact, manifest=self.manifest)
        self.depth, self.exit_policy = self._depth(depth, exit_policy)
        self.run_fn = runner_run_fn(self.runner, self.depth if isinstance(self.depth, int) else None)

    def _depth(self, depth, exit_policy):
        if depth is None:
            return None, None
        if not isinstance(self.runner, runtime.StepwiseRunner):
            raise PipelineError(f"depth={depth!r} needs the stepwise artifact: export with --stepwise and pass "
                                "artifact='pte_stepwise'")
        if depth == "adaptive":
            if self.task != "sequence-classification":
                raise PipelineError(f"adaptive depth decides on class logits; a {self.task} model takes a fixed depth")
            from albert_edge.exits import ExitPolicy

            recorded = (self.manifest.stepwise or {}).get("exit_policy")
            policy = exit_policy or (ExitPolicy.from_dict(recorded) if recorded else None)
            if policy is None:
                raise PipelineError(f"{self.directory / MANIFEST} records no exit policy; pass exit_policy=")
            return depth, policy
        if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= self.runner.num_layers:
            raise PipelineError(f"depth must be 1..{self.runner.num_layers} or 'adaptive', got {depth!r}")
        return depth, None

    def _tokenizer(self) -> AlbertTokenizer:
        name = (self.manifest.tokenizer or {}).get("spiece_model") or MODEL_FILE
        if not (self.directory / name).is_file():
            raise PipelineError(f"{self.directory}: no {name}; export a model that ships its spiece.model")
        if name == MODEL_FILE:
            return AlbertTokenizer.from_pretrained(self.directory)  # also reads tokenizer_config.json's flags
        return AlbertTokenizer(self.directory / name)

    def _need_labels(self) -> None:
        if not self.labels:
            raise PipelineError(f"{self.directory / MANIFEST}: no labels; re-export a model saved with its labels")

    @staticmethod
    def _texts(value: Any, name: str = "text") -> tuple[list[str], bool]:
        """Hugging Face pipelines' convention: one string gives one result, a list of strings a list of results."""
        if isinstance(value, str):
            return [value], True
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return list(value), False
        got = type(value).__name__ if not isinstance(value, (list, tuple)) else (
            f"a {type(value).__name__} holding {type(next(v for v in value if not isinstance(v, str))).__name__}")
        raise TypeError(f"{name} must be a string or a list of strings, got {got}")


class TextClassificationPipeline(Pipeline):
    """`("text") -> {"label", "score"}`: the softmax's best class."""

    task = "sequence-classification"

    def __call__(self, text: str | Sequence[str]) -> dict | list[dict]:
        texts, single = self._texts(text)
        self._need_labels()
        results = [self._one(t) for t in texts]
        return results[0] if single else results

    def _one(self, text: str) -> dict:
        enc = self.tokenizer.encode(text, max_length=self.max_seq_len)
        ids = np.array([enc.input_ids], dtype=np.int64)
        types = np.array([enc.token_type_ids], dtype=np.int64)
        used = self.depth
        if self.depth == "adaptive":
            feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": types}
            outputs, used = self.runner.run_adaptive(self.exit_policy, {n: feed[n] for n in self.runner.input_names})
            logits = np.asarray(outputs[0])
        else:
            logits = np.asarray(self.run_fn(ids, np.ones_like(ids), types))
        probs = np.exp(logits[0] - logits[0].max())
        probs /= probs.sum()
        best = int(probs.argmax())
        return {"label": self.labels[best], "score": float(probs[best]), **({"depth": used} if used else {})}


class TokenClassificationPipeline(Pipeline):
    """`("text") -> [{"entity", "start", "end", "text", "score"}]`, character offsets into the text."""

    task = "token-classification"

    def __call__(self, text: str | Sequence[str]) -> list[dict] | list[list[dict]]:
        texts, single = self._texts(text)
        self._need_labels()
        results = [ner.predict(self.run_fn, self.tokenizer, t, self.labels, self.max_seq_len) for t in texts]
        return results[0] if single else results


class QuestionAnsweringPipeline(Pipeline):
    """`(question=..., context=...) -> {"answer", "start", "end", "score"}`, `context[start:end] == answer`."""

    task = "question-answering"

    def __call__(self, question: str | Sequence[str], context: str | Sequence[str]) -> dict | list[dict]:
        questions, single = self._texts(question, "question")
        contexts, single_context = self._texts(context, "context")
        if single_context and not single:
            contexts = contexts * len(questions)  # several questions about one context
        if len(contexts) != len(questions):
            raise TypeError(f"got {len(questions)} questions and {len(contexts)} contexts; pass one context, or one "
                            "per question")
        p = self.params
        results = [qa.predict(self.run_fn, self.tokenizer, q, c, self.max_seq_len, p["doc_stride"],
                              p["max_query_length"], p["max_answer_length"], p["n_best_size"])
                   for q, c in zip(questions, contexts)]
        return results[0] if single and single_context else results


def pipeline(directory: str | Path, artifact: str | None = None, threads: int | None = None,
             manifest: Manifest | None = None, **options: Any) -> Pipeline:
    """The pipeline for the task in `directory/manifest.json` (the registry names its class); `manifest` stands in
    for the file (export's task metrics run before it is written)."""
    manifest = manifest or read_manifest(directory)
    task = manifest.task
    if task not in tasks.names(pipeline=True):
        raise PipelineError(f"{directory}: no pipeline for task {task!r}; pipelines run "
                            f"{', '.join(tasks.names(pipeline=True))}")
    return tasks.get(task).pipeline_class()(directory, artifact=artifact, threads=threads, manifest=manifest,
                                            **options)


# -- evaluation ------------------------------------------------------------------------------------------------------
def evaluate(model: str | Path, data: str | Path, artifact: str | None = None, articles: str | None = None,
             limit: int | None = None, max_seq_len: int | None = None, batch_size: int = 16,
             threads: int | None = 1, manifest: Manifest | None = None) -> dict[str, Any]:
    """The task metric of an export (`artifact` "pte"/"onnx") or of a Hugging Face model directory (eager fp32).

    `data` is an SST-2 style TSV (sentence, label), a CoNLL file, or SQuAD JSON (`articles` e.g. "30:"); `limit`
    keeps the first N sentences / questions. `manifest` stands in for an export directory's manifest.json.
    Returns the metrics with the task, artifact and seconds taken.
    """
    model = Path(model)
    if threads is not None and threads < 1:
        raise PipelineError(f"--threads must be at least 1, got {threads}")
    if max_seq_len is not None and max_seq_len < 2:
        raise PipelineError(f"--max-seq-len must be at least 2, got {max_seq_len}")
    if manifest is not None or (model / MANIFEST).is_file():
        p = pipeline(model, artifact=artifact, threads=threads, manifest=manifest)
        task, run_fn, tokenizer, labels = p.task, p.run_fn, p.tokenizer, p.labels
        if max_seq_len is not None and max_seq_len > p.max_seq_len:
            raise PipelineError(f"--max-seq-len {max_seq_len} exceeds the export's max_seq_len {p.max_seq_len}; "
                                "re-export with a larger --max-seq-len")
        max_seq_len = max_seq_len or p.max_seq_len
        params, source = p.params, p.artifact
    else:
        import torch

        from albert_edge import hub

        if artifact not in (None, "eager"):
            raise PipelineError(f"{model} is not an export directory (no {MANIFEST}); --artifact {artifact} needs one")
        if threads:
            caller_threads = torch.get_num_threads()
            torch.set_num_threads(threads)
            try:
                return evaluate(model, data, "eager", articles, limit, max_seq_len, batch_size, threads=None)
            finally:
                torch.set_num_threads(caller_threads)  # the caller's setting, not ours, once we return
        net = hub.from_pretrained(model)
        task, run_fn, labels = net.task, eager_run_fn(net), net.config.id2label
        tokenizer = AlbertTokenizer.from_pretrained(model)
        tuned = (net.config.extra.get("postprocess") or {}).get("max_seq_len")
        positions = net.config.max_position_embeddings
        if max_seq_len is not None and max_seq_len > positions:
            raise PipelineError(f"--max-seq-len {max_seq_len} exceeds the model's {positions} positions")
        max_seq_len = max_seq_len or tuned or min(tasks.get(task).default_max_seq_len, positions)
        params, source = postprocess_params(task, net.config), "eager"
    started = time.perf_counter()
    metric = tasks.get(task).metric_function()
    if metric is None:
        raise PipelineError(f"no task metric for {task!r}")
    result = metric(run_fn, tokenizer, data, labels=labels, params=params, max_seq_len=max_seq_len,
                    batch_size=batch_size, limit=limit, articles=articles)
    return {"task": task, "artifact": source, "max_seq_len": max_seq_len, **result,
            "seconds": round(time.perf_counter() - started, 1)}


def accuracy(run_fn, tokenizer, data: str | Path, *, labels: dict, params: dict, max_seq_len: int, batch_size: int,
             limit: int | None, articles: str | None = None) -> dict:
    """The registry's sequence-classification metric: accuracy on a `sentence<TAB>label` table (header optional;
    labels as ids or as the model's label names)."""
    rows = tables.read_table(data, ["sentence|text", "label"], positional=("sentence", "label"), what="eval data")
    rows = rows[:limit]
    targets = np.array([tables.label_id(r["label"], f"{data}:{r.line}", labels) for r in rows])
    correct = 0
    for i in range(0, len(rows), batch_size):
        chunk = rows[i: i + batch_size]
        batch = tokenizer.encode_batch([r["sentence"] for r in chunk], max_length=max_seq_len)
        logits = np.asarray(run_fn(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"]))
        correct += int((logits.argmax(-1) == targets[i: i + batch_size]).sum())
    return {"accuracy": 100.0 * correct / len(rows), "examples": len(rows)}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m albert_edge.pipeline", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run an export on one text (or a question and its context)")
    run.add_argument("export_dir")
    run.add_argument("text", nargs="?", help="the text to classify or tag")
    run.add_argument("--question", default=None, help="question-answering: the question")
    run.add_argument("--context", default=None, help="question-answering: the text holding the answer")
    run.add_argument("--artifact", choices=("pte", "onnx", "ort", "pte_stepwise"), default=None)
    ev = commands.add_parser("evaluate", help="task metric of an export or of an HF model directory (eager)")
    ev.add_argument("model", help="export directory, or Hugging Face model directory for the eager fp32 model")
    ev.add_argument("--data", required=True, help="SST-2 TSV, CoNLL file or SQuAD JSON")
    ev.add_argument("--artifact", choices=("pte", "onnx", "ort", "pte_stepwise", "eager"), default=None)
    ev.add_argument("--articles", default=None, help="SQuAD article range, e.g. 30: (the held-out articles)")
    ev.add_argument("--limit", type=int, default=None, help="only the first N sentences / questions")
    ev.add_argument("--max-seq-len", type=int, default=None)
    ev.add_argument("--batch-size", type=int, default=16)
    ev.add_argument("--threads", type=int, default=1)
    parser.add_argument("--verbose", action="store_true",
                        help="also show third-party messages known to be harmless (albert_edge/quiet.py)")
    args = parser.parse_args(argv)
    set_verbose(args.verbose)
    with cli_errors():
        if args.command == "run":
            p = pipeline(args.export_dir, artifact=args.artifact)
            if p.task == "question-answering":
                context = args.context if args.context is not None else args.text
                if args.question is None or context is None:
                    raise PipelineError("a question-answering export needs --question and --context")
                print(json.dumps(p(question=args.question, context=context), ensure_ascii=False))
            else:
                print(json.dumps(p(args.text or ""), ensure_ascii=False))
        else:
            print(json.dumps(evaluate(args.model, args.data, args.artifact, args.articles, args.limit,
                                      args.max_seq_len, args.batch_size, args.threads)))


if __name__ == "__main__":
    main()
