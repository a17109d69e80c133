"""Extractive question answering (SQuAD v1.1): reader, windowed features, n-best span decoding, EM/F1, `predict`.

The recipe is BERT's `run_squad.py`, with character offsets kept all the way so an answer maps back to the exact
characters of the context:
  - features: `[CLS] question [SEP] context window [SEP]`, token type 0 up to the first [SEP], 1 after; the question
    is cut to `max_query_length` pieces; a context longer than the room left is covered by windows whose starts are
    `doc_stride` pieces apart (BERT's meaning of the stride: the step, not the overlap);
  - training targets: the answer's first and last piece, or [CLS] (position 0) in a window that does not hold the
    whole answer;
  - decoding: per window, the `n_best_size` best starts and ends among context pieces, pairs with end >= start and
    at most `max_answer_length` pieces, ranked by start + end logit; a start counts only in the window where it has
    the most context on both sides (BERT's `_check_is_max_context`), so overlapping windows do not vote twice; the
    best pair over all windows of the question wins;
  - metrics: SQuAD v1.1's official exact match and F1 (lower-case, drop punctuation, drop a/an/the, collapse
    whitespace; max over the reference answers; averaged, in percent).

Piece offsets: the context is split on whitespace into words with offsets (as BERT's reader does) and each word is
encoded alone (`AlbertTokenizer.encode_words` gives the same ids as encoding the whole text). Within a word, pieces
get character offsets when normalisation kept the word's length (lower-casing and accent stripping of precomposed
letters do); otherwise (ligatures, `` quotes) each piece spans its whole word.

Why one module of ~540 lines: reading, windows, decoding, the metric and the fine-tuning task all depend on the
same window geometry (stride, max-context rule, offsets); the task class is the last ~90 lines.
"""

from __future__ import annotations

import gzip
import json
import re
import string
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from albert_edge.files import AlbertEdgeError

if TYPE_CHECKING:  # numpy work at run time; torch only for training (imported there)
    import torch
from albert_edge.ner import pad_batch, split_words
from albert_edge.tokenizer import WORD_START, normalize

# BERT run_squad.py's defaults.
MAX_SEQ_LEN = 384
DOC_STRIDE = 128
MAX_QUERY_LENGTH = 64
MAX_ANSWER_LENGTH = 30
N_BEST_SIZE = 20

# run_fn(input_ids, attention_mask, token_type_ids) -> (start_logits (B, T), end_logits (B, T)).
RunFn = Callable[[np.ndarray, np.ndarray, np.ndarray], Sequence[np.ndarray]]


class QaDataError(AlbertEdgeError):
    """A SQuAD file that cannot be read; the message says what is wrong."""


@dataclass
class SquadExample:
    id: str
    question: str
    context: str
    answers: list[dict] = field(default_factory=list)  # [{"text", "answer_start"}], SQuAD's own keys
    title: str = ""


# -- data ------------------------------------------------------------------------------------------------------------
def read_squad(path: str | Path, articles: slice | None = None) -> list[SquadExample]:
    """Questions of a SQuAD v1.1 JSON file, in file order; `articles` selects articles (e.g. `slice(0, 30)`)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"SQuAD file not found: {path}")
    try:
        raw = path.read_bytes()
        document = json.loads(gzip.decompress(raw) if path.suffix == ".gz" else raw)
    except (UnicodeDecodeError, json.JSONDecodeError, gzip.BadGzipFile, EOFError) as e:
        raise QaDataError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise QaDataError(f"{path}: no 'data' list; expected SQuAD v1.1 JSON "
                          "{'data': [{'title', 'paragraphs': [{'context', 'qas'}]}]}")
    examples = []
    for number, article in enumerate(document["data"][articles or slice(None)]):
        try:
            for paragraph in article["paragraphs"]:
                context = paragraph["context"]
                for qa in paragraph["qas"]:
                    answers = [{"text": a["text"], "answer_start": int(a["answer_start"])} for a in qa["answers"]]
                    examples.append(SquadExample(str(qa["id"]), qa["question"], context, answers,
                                                 article.get("title", "")))
        except (KeyError, TypeError, ValueError) as e:
            raise QaDataError(f"{path}: article {number} is not SQuAD v1.1 ({type(e).__name__}: {e})") from None
    return examples


def parse_articles(spec: str | None) -> slice | None:
    """`"0:30"` -> slice(0, 30), `":30"`, `"30:"`; None or "" -> all articles."""
    if not spec:
        return None
    start, sep, stop = spec.partition(":")
    if not sep:
        raise ValueError(f"articles {spec!r}: expected START:STOP, e.g. 0:30")
    try:
        return slice(int(start) if start else None, int(stop) if stop else None)
    except ValueError:
        raise ValueError(f"articles {spec!r}: expected integers, e.g. 0:30 or 30:") from None


# -- features --------------------------------------------------------------------------------------------------------
@dataclass
class ContextPieces:
    """A context's piece ids and each piece's character span `[start, end)` in the context."""

    ids: list[int]
    starts: list[int]
    ends: list[int]


def context_pieces(tokenizer, context: str) -> ContextPieces:
    words = split_words(context)
    ids, word_index = tokenizer.encode_words([w for w, _, _ in words])
    starts, ends = [], []
    position = 0
    for index, (word, word_start, word_end) in enumerate(words):
        n = 0
        while position + n < len(word_index) and word_index[position + n] == index:
            n += 1
        if not n:
            continue
        pieces = tokenizer.tokenize(word)
        # A leading "▁" is the word-start marker, not a character of the text.
        widths = [len(p) - p.startswith(WORD_START) for p in pieces]
        normalized = normalize(word, lowercase=tokenizer.do_lower_case, strip_accents=not tokenizer.keep_accents)
        if len(pieces) == n and sum(widths) == len(word) == len(normalized):
            offset = word_start
            for width in widths:
                starts.append(offset)
                offset += width
                ends.append(offset)
        else:
            starts.extend([word_start] * n)
            ends.extend([word_end] * n)
        position += n
    return ContextPieces(ids, starts, ends)


def window_starts(n_pieces: int, room: int, doc_stride: int) -> list[tuple[int, int]]:
    """`(first piece, length)` of each context window: BERT's doc spans, starts `doc_stride` apart."""
    if room < 1:
        raise ValueError("max_seq_len leaves no room for the context after the question; raise it or lower "
                         "max_query_length")
    if doc_stride < 1:
        raise ValueError(f"doc_stride must be positive, got {doc_stride}")
    spans, start = [], 0
    while True:
        length = min(n_pieces - start, room)
        spans.append((start, length))
        if start + length >= n_pieces:
            return spans
        start += min(length, doc_stride)


def max_context(spans: Sequence[tuple[int, int]], window: int, piece: int) -> bool:
    """Whether `piece` has its most context (min of left and right, ties to the longer window) in `window`."""
    best, best_score = None, None
    for index, (start, length) in enumerate(spans):
        if not start <= piece < start + length:
            continue
        score = min(piece - start, start + length - 1 - piece) + 0.01 * length
        if best_score is None or score > best_score:
            best, best_score = index, score
    return best == window


@dataclass
class Window:
    """One model input for one question: `[CLS] question [SEP] context[start:start+length] [SEP]`."""

    example: int
    input_ids: list[int]
    token_type_ids: list[int]
    offset: int  # input position of the window's first context piece
    start: int  # index of that piece in the context's pieces
    length: int
    is_max_context: list[bool]
    start_position: int = 0  # training targets; 0 ([CLS]) when the window does not hold the answer
    end_position: int = 0


def question_windows(tokenizer, question: str, pieces: ContextPieces, example: int = 0,
                     max_seq_len: int = MAX_SEQ_LEN, doc_stride: int = DOC_STRIDE,
                     max_query_length: int = MAX_QUERY_LENGTH, answer: tuple[int, int] | None = None) -> list[Window]:
    """The windows of one question over its context; with `answer` (character span), the training targets."""
    query = tokenizer.encode(question, add_special_tokens=False).input_ids[:max_query_length]
    spans = window_starts(len(pieces.ids), max_seq_len - len(query) - 3, doc_stride)
    answer_pieces = None
    if answer is not None:
        first = [i for i, end in enumerate(pieces.ends) if end > answer[0]]
        last = [i for i, start in enumerate(pieces.starts) if start < answer[1]]
        if first and last and first[0] <= last[-1]:
            answer_pieces = (first[0], last[-1])
    windows = []
    head = [tokenizer.cls_id, *query, tokenizer.sep_id]
    for index, (start, length) in enumerate(spans):
        window = Window(
            example=example,
            input_ids=head + pieces.ids[start: start + length] + [tokenizer.sep_id],
            token_type_ids=[0] * len(head) + [1] * (length + 1),
            offset=len(head), start=start, length=length,
            is_max_context=[max_context(spans, index, p) for p in range(start, start + length)],
        )
        if answer_pieces and start <= answer_pieces[0] and answer_pieces[1] < start + length:
            window.start_position = answer_pieces[0] - start + len(head)
            window.end_position = answer_pieces[1] - start + len(head)
        windows.append(window)
    return windows


class _ContextCache:
    """SQuAD asks about five questions per paragraph: encode each context once."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.last: tuple[str, ContextPieces] | None = None

    def __call__(self, context: str) -> ContextPieces:
        if self.last is None or self.last[0] != context:
            self.last = (context, context_pieces(self.tokenizer, context))
        return self.last[1]


def encode_examples(tokenizer, examples: Sequence[SquadExample], max_seq_len: int = MAX_SEQ_LEN,
                    doc_stride: int = DOC_STRIDE, max_query_length: int = MAX_QUERY_LENGTH, targets: bool = False
                    ) -> tuple[list[ContextPieces], list[Window]]:
    """Each question's context pieces, and the windows of all questions (with targets from the first answer when
    `targets`: SQuAD's training files have one answer per question)."""
    cache = _ContextCache(tokenizer)
    pieces, windows = [], []
    for index, example in enumerate(tqdm(examples, desc="qa features", unit="q", disable=len(examples) < 1000)):
        answer = None
        if targets and example.answers:
            first = example.answers[0]
            answer = (first["answer_start"], first["answer_start"] + len(first["text"]))
        pieces.append(cache(example.context))
        windows.extend(question_windows(tokenizer, example.question, pieces[-1], index, max_seq_len, doc_stride,
                                        max_query_length, answer))
    return pieces, windows


def training_features(tokenizer, examples: Sequence[SquadExample], max_seq_len: int = MAX_SEQ_LEN,
                      doc_stride: int = DOC_STRIDE, max_query_length: int = MAX_QUERY_LENGTH) -> list[Window]:
    """Every window of every question, with its start / end targets."""
    return encode_examples(tokenizer, examples, max_seq_len, doc_stride, max_query_length, targets=True)[1]


def iter_batches(features: Sequence[Window], batch_size: int, pad_id: int,
                 order: Sequence[int] | None = None) -> Iterator[dict[str, np.ndarray]]:
    """Padded int64 batches of windows, with `start_positions` / `end_positions` targets."""
    order = list(range(len(features)) if order is None else order)
    for i in range(0, len(order), batch_size):
        chunk = [features[j] for j in order[i: i + batch_size]]
        ids, mask, types = pad_batch([w.input_ids for w in chunk], pad_id)
        for row, w in enumerate(chunk):
            types[row, : len(w.token_type_ids)] = w.token_type_ids
        yield {"input_ids": ids, "attention_mask": mask, "token_type_ids": types,
               "start_positions": np.array([w.start_position for w in chunk], dtype=np.int64),
               "end_positions": np.array([w.end_position for w in chunk], dtype=np.int64)}


# -- decoding --------------------------------------------------------------------------------------------------------
def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    m = x.max()
    return x - m - np.log(np.exp(x - m).sum())


def best_span(windows: Sequence[Window], start_logits: Sequence[np.ndarray], end_logits: Sequence[np.ndarray],
              n_best_size: int = N_BEST_SIZE, max_answer_length: int = MAX_ANSWER_LENGTH
              ) -> tuple[int, int, float] | None:
    """The best answer over a question's windows, as `(first context piece, last context piece, probability)`.

    Logits are those of each window's input (length >= its input ids; padding beyond is ignored). Candidates are
    the `n_best_size` best starts x ends among context pieces; when none of those pairs is valid (an end before its
    start, or longer than `max_answer_length`), every valid pair is searched instead, so a context always yields an
    answer. The probability is softmax(start) x softmax(end) over the window's input positions.
    """
    best: tuple[float, int, int, float] | None = None  # (logit sum, first piece, last piece, probability)
    for window, start_row, end_row in zip(windows, start_logits, end_logits):
        n = len(window.input_ids)
        start_row, end_row = np.asarray(start_row)[:n], np.asarray(end_row)[:n]
        context = np.arange(window.offset, window.offset + window.length)
        starts = context[np.asarray(window.is_max_context, dtype=bool)]
        if not len(starts):
            continue
        top_starts = starts[np.argsort(-start_row[starts], kind="stable")[:n_best_size]]
        top_ends = context[np.argsort(-end_row[context], kind="stable")[:n_best_size]]
        pairs = _valid_pairs(top_starts, top_ends, max_answer_length)
        if not pairs:
            pairs = _valid_pairs(starts, context, max_answer_length)
        s, e = max(pairs, key=lambda p: (start_row[p[0]] + end_row[p[1]], -p[0], -p[1]))
        total = float(start_row[s] + end_row[e])
        if best is None or total > best[0]:
            probability = float(np.exp(_log_softmax(start_row)[s] + _log_softmax(end_row)[e]))
            best = (total, s - window.offset + window.start, e - window.offset + window.start, probability)
    return None if best is None else best[1:]


def _valid_pairs(starts: np.ndarray, ends: np.ndarray, max_answer_length: int) -> list[tuple[int, int]]:
    return [(int(s), int(e)) for s in starts for e in ends if s <= e < s + max_answer_length]


# -- metrics (SQuAD v1.1's evaluate-v1.1.py, written from its definition) --------------------------------------------
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower-case, remove punctuation, remove the articles a/an/the, collapse whitespace (in that order)."""
    text = "".join(c for c in text.lower() if c not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, truth: str) -> bool:
    return normalize_answer(prediction) == normalize_answer(truth)


def f1_score(prediction: str, truth: str) -> float:
    predicted, true = normalize_answer(prediction).split(), normalize_answer(truth).split()
    common = sum((Counter(predicted) & Counter(true)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(true)
    return 2 * precision * recall / (precision + recall)


def squad_scores(predictions: dict[str, str], examples: Sequence[SquadExample]) -> dict:
    """Exact match and F1 in percent, each the max over a question's reference answers, averaged over questions.

    A question without a prediction scores 0, as in the official script.
    """
    em = f1 = 0.0
    for example in examples:
        truths = [a["text"] for a in example.answers]
        if not truths:
            raise ValueError(f"question {example.id} has no reference answer; SQuAD v1.1 needs one per question")
        prediction = predictions.get(example.id)
        if prediction is None:
            continue
        em += max(exact_match(prediction, t) for t in truths)
        f1 += max(f1_score(prediction, t) for t in truths)
    n = max(len(examples), 1)
    return {"exact_match": 100.0 * em / n, "f1": 100.0 * f1 / n, "questions": len(examples)}


# -- inference -------------------------------------------------------------------------------------------------------
def decode_answers(examples: Sequence[SquadExample], pieces: Sequence[ContextPieces], windows: Sequence[Window],
                   start_logits: Sequence[np.ndarray], end_logits: Sequence[np.ndarray],
                   max_answer_length: int = MAX_ANSWER_LENGTH, n_best_size: int = N_BEST_SIZE) -> list[dict]:
    """Per question, the best span over its windows as `{"answer", "start", "end", "score"}` (character offsets).

    `pieces[i]` is question i's context; `windows[j].example` names the question window j (and its logits) belong
    to. A question with no context piece gets an empty answer with score 0.
    """
    by_example: dict[int, list[int]] = {}
    for j, window in enumerate(windows):
        by_example.setdefault(window.example, []).append(j)
    answers = []
    for index, example in enumerate(examples):
        ids = by_example.get(index, [])
        span = best_span([windows[j] for j in ids], [start_logits[j] for j in ids], [end_logits[j] for j in ids],
                         n_best_size, max_answer_length)
        if span is None:
            answers.append({"answer": "", "start": 0, "end": 0, "score": 0.0})
            continue
        first, last, probability = span
        start, end = pieces[index].starts[first], pieces[index].ends[last]
        answers.append({"answer": example.context[start:end], "start": start, "end": end, "score": probability})
    return answers


def answer_questions(run_fn: RunFn, tokenizer, examples: Sequence[SquadExample], max_seq_len: int = MAX_SEQ_LEN,
                     doc_stride: int = DOC_STRIDE, max_query_length: int = MAX_QUERY_LENGTH,
                     max_answer_length: int = MAX_ANSWER_LENGTH, n_best_size: int = N_BEST_SIZE,
                     batch_size: int = 16, progress: bool = False) -> list[dict]:
    """For each question, `{"answer", "start", "end", "score"}` (character offsets into its context)."""
    pieces, windows = encode_examples(tokenizer, examples, max_seq_len, doc_stride, max_query_length)
    start_logits: list[np.ndarray | None] = [None] * len(windows)
    end_logits: list[np.ndarray | None] = [None] * len(windows)
    # Similar lengths together: less padding, and the same answers as batch size 1 (padding is masked out).
    order = sorted(range(len(windows)), key=lambda i: len(windows[i].input_ids))
    batches = [order[i: i + batch_size] for i in range(0, len(order), batch_size)]
    for batch in tqdm(batches, desc="answering", unit="batch", disable=not progress):
        chunk = next(iter_batches(windows, len(batch), tokenizer.pad_id, batch))
        starts, ends = run_fn(chunk["input_ids"], chunk["attention_mask"], chunk["token_type_ids"])[:2]
        for row, i in enumerate(batch):
            start_logits[i], end_logits[i] = np.asarray(starts[row]), np.asarray(ends[row])
    return decode_answers(examples, pieces, windows, start_logits, end_logits, max_answer_length, n_best_size)


def evaluate(run_fn: RunFn, tokenizer, examples: Sequence[SquadExample], max_seq_len: int = MAX_SEQ_LEN,
             doc_stride: int = DOC_STRIDE, max_query_length: int = MAX_QUERY_LENGTH,
             max_answer_length: int = MAX_ANSWER_LENGTH, n_best_size: int = N_BEST_SIZE, batch_size: int = 16,
             progress: bool = False) -> dict:
    """SQuAD v1.1 exact match and F1 (percent) of `run_fn` on `examples`.

    `run_fn(input_ids, attention_mask, token_type_ids) -> (start_logits, end_logits)` takes int64 numpy arrays: an
    eager model, an ExecuTorch program or an ONNX session (see `albert_edge.pipeline.run_fn_for`).
    """
    answers = answer_questions(run_fn, tokenizer, examples, max_seq_len, doc_stride, max_query_length,
                               max_answer_length, n_best_size, batch_size, progress)
    return squad_scores({e.id: a["answer"] for e, a in zip(examples, answers)}, examples)


def predict(run_fn: RunFn, tokenizer, question: str, context: str, max_seq_len: int = MAX_SEQ_LEN,
            doc_stride: int = DOC_STRIDE, max_query_length: int = MAX_QUERY_LENGTH,
            max_answer_length: int = MAX_ANSWER_LENGTH, n_best_size: int = N_BEST_SIZE) -> dict:
    """The answer to `question` in `context`: `{"answer", "start", "end", "score"}`, `context[start:end] == answer`."""
    example = SquadExample("predict", question, context)
    return answer_questions(run_fn, tokenizer, [example], max_seq_len, doc_stride, max_query_length,
                            max_answer_length, n_best_size, batch_size=1)[0]


def evaluate_file(run_fn: RunFn, tokenizer, data: str | Path, *, labels: dict[int, str], params: dict,
                  max_seq_len: int, batch_size: int, limit: int | None, articles: str | None) -> dict:
    """The registry's task metric (`pipeline.evaluate`): SQuAD EM/F1 on a SQuAD v1.1 file's `articles`."""
    examples = read_squad(data, parse_articles(articles))[:limit]
    return evaluate(run_fn, tokenizer, examples, max_seq_len, params["doc_stride"], params["max_query_length"],
                    params["max_answer_length"], params["n_best_size"], batch_size, progress=True)


def postprocess_params() -> dict:
    """What an app needs, besides the model's `max_seq_len`, to build windows and decode answers as `predict` does.

    `doc_stride` is the step between window starts (BERT's meaning); a start counts only in its max-context window.
    """
    return {"doc_stride": DOC_STRIDE, "max_query_length": MAX_QUERY_LENGTH, "max_answer_length": MAX_ANSWER_LENGTH,
            "n_best_size": N_BEST_SIZE, "word_split": "whitespace", "max_context_rule": True}


# -- fine-tuning -----------------------------------------------------------------------------------------------------


def article_spec(path: str | Path) -> tuple[Path, str | None]:
    """`squad.json@0:30` -> (squad.json, "0:30"); a name without a trailing `@START:STOP` -> (name, None). The
    last `@` counts, so a path holding an `@` elsewhere still works. Every `FILE@a:b` option is parsed here."""
    text = str(path)
    head, sep, spec = text.rpartition("@")
    if sep and re.fullmatch(r"-?\d*:-?\d*", spec):
        return Path(head), spec
    return Path(text), None


def split_articles(path: str | Path) -> tuple[Path, slice | None]:
    """`squad.json@0:30` -> (squad.json, slice(0, 30)): one SQuAD file split by article into train and dev."""
    file, spec = article_spec(path)
    return file, parse_articles(spec)


class QuestionAnsweringTask:
    """Extractive QA for `python -m albert_edge.finetune --task question-answering` (SQuAD v1.1 JSON).

    Follows `albert_edge.finetune.Task`'s protocol (the registry names it; subclassing would make this numpy module
    import torch). A file may name an article range, `--train squad.json@0:30 --dev squad.json@30:`. Every window of
    every question is a training example with its `start_position`/`end_position` (both [CLS] when the window does
    not hold the answer) and a `feature_id` that says which read and window it is, so `evaluate` decodes the windows
    it is given by id. The dev metric is SQuAD F1 (EM alongside).
    """

    name = "question-answering"
    metric = "f1"

    def __init__(self, doc_stride: int = DOC_STRIDE, max_query_length: int = MAX_QUERY_LENGTH,
                 max_answer_length: int = MAX_ANSWER_LENGTH, n_best_size: int = N_BEST_SIZE):
        self.doc_stride = doc_stride
        self.max_query_length = max_query_length
        self.max_answer_length = max_answer_length
        self.n_best_size = n_best_size
        self.max_seq_len = MAX_SEQ_LEN
        # Each read: its first feature id, questions, context pieces and windows (feature id = first + window index).
        self._read: list[tuple[int, list[SquadExample], list[ContextPieces], list[Window]]] = []

    @classmethod
    def add_arguments(cls, parser) -> None:
        group = parser.add_argument_group("question-answering (files may name articles: squad.json@0:30)")
        group.add_argument("--doc-stride", type=int, default=DOC_STRIDE, help="pieces between window starts")
        group.add_argument("--max-query-length", type=int, default=MAX_QUERY_LENGTH)
        group.add_argument("--max-answer-length", type=int, default=MAX_ANSWER_LENGTH)
        group.add_argument("--n-best-size", type=int, default=N_BEST_SIZE)

    def read(self, path: Path, tokenizer, max_seq_len: int) -> list[dict]:
        file, articles = split_articles(path)
        self.max_seq_len = max_seq_len
        examples = read_squad(file, articles)
        if not examples:
            raise QaDataError(f"{path}: no questions (check the article range)")
        pieces, windows = encode_examples(tokenizer, examples, max_seq_len, self.doc_stride, self.max_query_length,
                                          targets=True)
        first = sum(len(read[3]) for read in self._read)
        self._read.append((first, examples, pieces, windows))
        return [{"input_ids": w.input_ids, "token_type_ids": w.token_type_ids, "start_position": w.start_position,
                 "end_position": w.end_position, "feature_id": first + i} for i, w in enumerate(windows)]

    def configure(self, config) -> None:
        """Record the window and decoding parameters in config.json (`postprocess`), so an export and its pipeline
        use the lengths and stride the model was tuned with. The QA head itself needs nothing: it is two logits
        wide."""
        config.extra["postprocess"] = {**postprocess_params(), "max_seq_len": self.max_seq_len,
                                       "doc_stride": self.doc_stride,
                                       "max_query_length": self.max_query_length,
                                       "max_answer_length": self.max_answer_length, "n_best_size": self.n_best_size}

    def loss(self, outputs, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        start_logits, end_logits = outputs
        import torch.nn.functional as F

        return (F.cross_entropy(start_logits, batch["start_position"])
                + F.cross_entropy(end_logits, batch["end_position"])) / 2

    def evaluate(self, model, batches) -> dict[str, float]:
        import torch

        with torch.no_grad():
            return self._evaluate(model, batches)

    def _evaluate(self, model, batches) -> dict[str, float]:
        by_id = {}
        for batch in batches:
            start_logits, end_logits = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
            by_id.update(zip(batch["feature_id"].tolist(), zip(start_logits.numpy(), end_logits.numpy())))
        # The read these features came from, by id; every one of its windows must be there.
        first, examples, pieces, windows = next(
            (read for read in self._read if read[0] <= min(by_id) < read[0] + len(read[3])), (None,) * 4)
        if first is None or sorted(by_id) != list(range(first, first + len(windows))):
            raise ValueError(f"evaluate() got {len(by_id)} features that are not all the windows of one file read "
                             "by this task")
        starts = [by_id[first + i][0] for i in range(len(windows))]
        ends = [by_id[first + i][1] for i in range(len(windows))]
        answers = decode_answers(examples, pieces, windows, starts, ends, self.max_answer_length, self.n_best_size)
        scores = squad_scores({e.id: a["answer"] for e, a in zip(examples, answers)}, examples)
        return {"f1": scores["f1"], "exact_match": scores["exact_match"]}
