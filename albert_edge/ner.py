"""Token classification (NER): CoNLL reader, sub-word alignment, entity-level metrics, evaluation and `predict`.

The conventions are CoNLL-2003's and BERT's:
  - data: one `token POS chunk NER` line per word, sentences separated by blank lines, tags in IOB2;
  - alignment: a word is labelled at its first piece; its other pieces (and [CLS], [SEP], padding) carry -100, the
    index cross-entropy ignores (Devlin et al. 2019, section 5.3); at prediction time a word takes the tag predicted
    at its first piece;
  - metrics: entity-level precision / recall / F1 as `conlleval` computes them: an entity counts only when its span
    and its type both match exactly. Chunks are read the way `conlleval` reads IOB2: an entity starts at `B-X`, or at
    an `I-X` that does not continue an entity of type X (so a model's stray `I-X` is an entity, not dropped).
    Scores are percentages (0-100), as conlleval prints them.

Everything the exported model needs at run time - whitespace word splitting with character offsets, word windows that
fit the model, first-piece decoding, IOB2 spans - is here in plain numpy, so `albert_edge.pipeline` (and an app that
mirrors it) runs exactly what `evaluate` measured.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from albert_edge.files import AlbertEdgeError

if TYPE_CHECKING:  # numpy work at run time; torch only for training (imported there)
    import torch

IGNORE_INDEX = -100  # torch cross_entropy's default ignore_index
# The label order of the Hugging Face `conll2003` dataset, so checkpoints fine-tuned there read the same ids.
CONLL2003_LABELS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC")
_TAG = re.compile(r"^(?:O|[BI]-\S+)$")
_WORD = re.compile(r"\S+")

# run_fn(input_ids, attention_mask, token_type_ids) -> logits (B, T, num_labels); int64 arrays of shape (B, T) in.
RunFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


class NerDataError(AlbertEdgeError):
    """A CoNLL file that cannot be read; the message names the file and line."""


# -- data ------------------------------------------------------------------------------------------------------------
def read_conll(path: str | Path) -> tuple[list[list[str]], list[list[str]]]:
    """Sentences (lists of words) and their IOB2 tags from a CoNLL-2003 file.

    Each non-blank line is `token POS chunk NER` (any line of two or more space-separated columns is read as token
    first, tag last); blank lines end sentences; `-DOCSTART-` lines, which other distributions carry, are skipped.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"CoNLL file not found: {path}")
    sentences: list[list[str]] = []
    tags: list[list[str]] = []
    words: list[str] = []
    labels: list[str] = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            columns = line.split()
            if not columns or columns[0] == "-DOCSTART-":
                if words:
                    sentences.append(words)
                    tags.append(labels)
                    words, labels = [], []
                continue
            if len(columns) < 2 or not _TAG.match(columns[-1]):
                raise NerDataError(f"{path}:{number}: expected 'token POS chunk TAG' with an IOB2 tag (O, B-X or "
                                   f"I-X), got {line.rstrip()!r}")
            words.append(columns[0])
            labels.append(columns[-1])
    if words:
        sentences.append(words)
        tags.append(labels)
    if not sentences:
        raise NerDataError(f"{path}: no sentences; expected CoNLL lines 'token POS chunk TAG' separated by blank lines")
    return sentences, tags


def labels_of(tags: Sequence[Sequence[str]]) -> list[str]:
    """The label list for a tag set: CoNLL-2003's order when the tags are its own, else O then sorted B-/I- pairs."""
    seen = {t for sentence in tags for t in sentence}
    if seen <= set(CONLL2003_LABELS):
        return list(CONLL2003_LABELS)
    types = sorted({t[2:] for t in seen if t != "O"})
    return ["O"] + [f"{prefix}-{kind}" for kind in types for prefix in ("B", "I")]


# -- alignment -------------------------------------------------------------------------------------------------------
def first_piece_positions(word_index: Sequence[int]) -> dict[int, int]:
    """word index -> position of its first piece. Words that produced no piece (only whitespace or stripped accents)
    are absent: they have nowhere to be labelled."""
    first: dict[int, int] = {}
    for position, word in enumerate(word_index):
        first.setdefault(word, position)
    return first


def encode_for_training(tokenizer, words: Sequence[str], tags: Sequence[str], label2id: dict[str, int],
                        max_seq_len: int) -> dict[str, list[int]]:
    """`[CLS] pieces [SEP]` with each word's label on its first piece and -100 elsewhere, cut to `max_seq_len`.

    Truncation drops pieces from the right, so every kept label still sits on its own word's first piece: a word
    whose first piece is cut loses its label, a word cut after its first piece keeps it.
    """
    if len(words) != len(tags):
        raise ValueError(f"{len(words)} words but {len(tags)} tags")
    unknown = sorted({t for t in tags if t not in label2id})
    if unknown:
        raise ValueError(f"tags {unknown} are not among the model's labels {sorted(label2id)}")
    if max_seq_len < 3:
        raise ValueError(f"max_seq_len={max_seq_len} leaves no room for a piece between [CLS] and [SEP]")
    ids, word_index = tokenizer.encode_words(words)
    ids, word_index = ids[: max_seq_len - 2], word_index[: max_seq_len - 2]
    labels = [IGNORE_INDEX] * len(ids)
    for word, position in first_piece_positions(word_index).items():
        labels[position] = label2id[tags[word]]
    n = len(ids) + 2
    return {
        "input_ids": [tokenizer.cls_id, *ids, tokenizer.sep_id],
        "attention_mask": [1] * n,
        "token_type_ids": [0] * n,
        "labels": [IGNORE_INDEX, *labels, IGNORE_INDEX],
    }


def word_windows(word_index: Sequence[int], budget: int) -> list[tuple[int, int]]:
    """Split a sentence's pieces into windows of at most `budget` pieces that never cut a word, as piece ranges.

    Inference uses these instead of truncation, so no word of a long text goes unlabelled. A single word longer than
    the budget is cut after `budget` pieces; its first piece, which carries its label, is kept.
    """
    windows: list[tuple[int, int]] = []
    start, n = 0, len(word_index)
    while start < n:
        end = min(start + budget, n)
        if end < n and word_index[end] == word_index[end - 1]:
            # The window would split a word: end it before that word, unless the word alone fills the window.
            back = end
            while back > start and word_index[back - 1] == word_index[end]:
                back -= 1
            if back > start:
                end = back
            else:
                windows.append((start, end))
                while end < n and word_index[end] == word_index[start]:
                    end += 1
                start = end
                continue
        windows.append((start, end))
        start = end
    return windows


# -- IOB2 and metrics ------------------------------------------------------------------------------------------------
def entities(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Entity spans `(type, first word, last word + 1)` in an IOB2 tag sequence, read the way conlleval reads it.

    An entity starts at `B-X`, or at `I-X` when the previous tag is not of type X (conlleval's "start of chunk" for
    an I- tag after O or after another type); it continues while the tags are `I-X`.
    """
    spans: list[tuple[str, int, int]] = []
    kind, start = None, 0
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, tag_type = tag.partition("-")
        continues = prefix == "I" and tag_type == kind
        if kind is not None and not continues:
            spans.append((kind, start, i))
            kind = None
        if prefix == "B" or (prefix == "I" and not continues):
            kind, start = tag_type, i
    return spans


def entity_scores(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict:
    """Entity-level precision, recall and F1 (percent) over sentences, overall and per type (conlleval's numbers).

    An entity is correct only when a gold entity has exactly its type, first word and last word.
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sentences but {len(predicted)} predicted")
    true_positive, n_gold, n_pred = Counter(), Counter(), Counter()
    for sentence, (gold_tags, pred_tags) in enumerate(zip(gold, predicted)):
        if len(gold_tags) != len(pred_tags):
            raise ValueError(f"sentence {sentence}: {len(gold_tags)} gold tags but {len(pred_tags)} predicted")
        gold_spans, pred_spans = set(entities(gold_tags)), set(entities(pred_tags))
        n_gold.update(kind for kind, _, _ in gold_spans)
        n_pred.update(kind for kind, _, _ in pred_spans)
        true_positive.update(kind for kind, _, _ in gold_spans & pred_spans)

    def prf(tp: int, n_p: int, n_g: int) -> dict[str, float]:
        precision = 100.0 * tp / n_p if n_p else 0.0
        recall = 100.0 * tp / n_g if n_g else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1}

    scores = prf(sum(true_positive.values()), sum(n_pred.values()), sum(n_gold.values()))
    scores["per_type"] = {kind: {**prf(true_positive[kind], n_pred[kind], n_gold[kind]), "support": n_gold[kind]}
                          for kind in sorted(n_gold | n_pred)}
    return scores


# -- inference -------------------------------------------------------------------------------------------------------
def _softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def pad_batch(sequences: Sequence[Sequence[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """int64 (input_ids, attention_mask, token_type_ids) of shape (B, longest), padded on the right."""
    length = max(len(s) for s in sequences)
    ids = np.full((len(sequences), length), pad_id, dtype=np.int64)
    mask = np.zeros((len(sequences), length), dtype=np.int64)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)] = sequence
        mask[row, : len(sequence)] = 1
    return ids, mask, np.zeros_like(ids)


def tag_words(run_fn: RunFn, tokenizer, sentences: Sequence[Sequence[str]], id2label: dict[int, str],
              max_seq_len: int = 128, batch_size: int = 32, progress: bool = False) -> list[list[tuple[str, float]]]:
    """For every word of every sentence, the tag predicted at its first piece and that tag's probability.

    Long sentences are split into word windows (`word_windows`), so every word is tagged; a word that produced no
    piece is tagged "O" with probability 1.
    """
    if max_seq_len < 3:
        raise ValueError(f"max_seq_len={max_seq_len} leaves no room for a piece between [CLS] and [SEP]")
    results: list[list[tuple[str, float]]] = [[("O", 1.0)] * len(words) for words in sentences]
    pieces = []  # (sentence, word_index slice, input ids)
    for s, words in enumerate(sentences):
        ids, word_index = tokenizer.encode_words(words)
        for start, end in word_windows(word_index, max_seq_len - 2):
            pieces.append((s, word_index[start:end], [tokenizer.cls_id, *ids[start:end], tokenizer.sep_id]))
    # Similar lengths together: less padding, and the same answers as batch size 1 (padding is masked out).
    order = sorted(range(len(pieces)), key=lambda i: len(pieces[i][2]))
    batches = [order[i: i + batch_size] for i in range(0, len(order), batch_size)]
    for batch in tqdm(batches, desc="tagging", unit="batch", disable=not progress):
        logits = np.asarray(run_fn(*pad_batch([pieces[i][2] for i in batch], tokenizer.pad_id)))
        probs = _softmax(logits.astype(np.float64))
        for row, i in enumerate(batch):
            s, word_index, _ = pieces[i]
            for word, position in first_piece_positions(word_index).items():
                label = int(probs[row, position + 1].argmax())  # +1: [CLS]
                results[s][word] = (id2label[label], float(probs[row, position + 1, label]))
    return results


def evaluate(run_fn: RunFn, tokenizer, sentences: Sequence[Sequence[str]], labels: Sequence[Sequence[str]],
             id2label: dict[int, str], max_seq_len: int = 128, batch_size: int = 32, progress: bool = False) -> dict:
    """Entity precision / recall / F1 (percent, conlleval's) of `run_fn` on tagged sentences.

    `run_fn(input_ids, attention_mask, token_type_ids) -> logits (B, T, num_labels)` takes int64 numpy arrays: an
    eager model, an ExecuTorch program or an ONNX session (see `albert_edge.pipeline.run_fn_for`).
    """
    tagged = tag_words(run_fn, tokenizer, sentences, id2label, max_seq_len, batch_size, progress)
    scores = entity_scores(labels, [[tag for tag, _ in words] for words in tagged])
    scores["sentences"] = len(sentences)
    return scores


def split_words(text: str) -> list[tuple[str, int, int]]:
    """Whitespace-separated words of `text` with their character offsets `(word, start, end)`."""
    return [(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]


# CoNLL-style word splitting of raw text: punctuation that CoNLL-2003 writes as its own token comes off a word's edges
# ("Paris," -> "Paris" ","; "(Reuters)" -> "(" "Reuters" ")"; "Germany's" -> "Germany" "'s"); a final "." comes off
# unless the word has another "." ("U.S." stays whole, as in CoNLL). Models are trained on CoNLL's tokens, so tagging
# "Helsinki," as one word would ask them about a word they never saw.
_LEADING = re.compile(r"^[(\[{\"'“‘]+")
_TRAILING = re.compile(r"(?:[)\]},;:!?\"'”’]|'s|’s)+$")


def conll_words(text: str) -> list[tuple[str, int, int]]:
    """Words of `text` with offsets `(word, start, end)`, punctuation split off as CoNLL-2003 tokenises it."""
    out = []
    for word, start, end in split_words(text):
        lead = _LEADING.match(word)
        head = lead.end() if lead and lead.end() < len(word) else 0
        core_end = len(word)
        trail = _TRAILING.search(word, head)
        if trail and trail.start() > head:
            core_end = trail.start()
        if core_end - head > 1 and word[core_end - 1] == "." and "." not in word[head:core_end - 1]:
            core_end -= 1
        pieces = [(start + i, start + j) for i, j in ((0, head), (head, core_end)) if j > i]
        tail, position = word[core_end:], start + core_end
        for m in re.finditer(r"'s|’s|\.+|.", tail):  # each trailing mark is its own token ("'s" whole)
            pieces.append((position + m.start(), position + m.end()))
        out += [(text[a:b], a, b) for a, b in pieces]
    return out


def predict(run_fn: RunFn, tokenizer, text: str, id2label: dict[int, str], max_seq_len: int = 128) -> list[dict]:
    """Entities in raw text: `[{"entity", "start", "end", "text", "score"}]`, offsets into `text`.

    Words are split on whitespace, then punctuation comes off their edges as CoNLL tokenises it (`conll_words`); the
    score is the mean probability of the entity's word tags.
    """
    words = conll_words(text)
    if not words:
        return []
    tagged = tag_words(run_fn, tokenizer, [[w for w, _, _ in words]], id2label, max_seq_len, batch_size=1)[0]
    found = []
    for kind, first, last in entities([tag for tag, _ in tagged]):
        start, end = words[first][1], words[last - 1][2]
        score = float(np.mean([p for _, p in tagged[first:last]]))
        found.append({"entity": kind, "start": start, "end": end, "text": text[start:end], "score": score})
    return found


def evaluate_file(run_fn: RunFn, tokenizer, data: str | Path, *, labels: dict[int, str], params: dict,
                  max_seq_len: int, batch_size: int, limit: int | None, articles: str | None) -> dict:
    """The registry's task metric (`pipeline.evaluate`): entity F1 / precision / recall on a CoNLL file."""
    sentences, tags = read_conll(data)
    scores = evaluate(run_fn, tokenizer, sentences[:limit], tags[:limit], labels, max_seq_len, batch_size,
                      progress=True)
    return {k: scores[k] for k in ("f1", "precision", "recall", "sentences")}


def postprocess_params() -> dict:
    """What an app needs, besides the label map and the model's `max_seq_len`, to find entities as `predict` does."""
    return {"scheme": "IOB2", "word_split": "whitespace+conll_punctuation", "word_label": "first_piece",
            "long_text": "word_windows"}


# -- training --------------------------------------------------------------------------------------------------------
def training_features(tokenizer, sentences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]],
                      label2id: dict[str, int], max_seq_len: int = 128) -> list[dict[str, list[int]]]:
    """One feature per word window of each sentence (`word_windows`), so a long sentence trains on all its words.

    Sentences that produce no piece at all are skipped: they have no position to label.
    """
    features = []
    for words, sentence_tags in zip(sentences, tags):
        _, word_index = tokenizer.encode_words(words)
        for start, end in word_windows(word_index, max_seq_len - 2):
            first, last = word_index[start], word_index[end - 1] + 1
            features.append(encode_for_training(tokenizer, words[first:last], sentence_tags[first:last], label2id,
                                                max_seq_len))
    return features


class TokenClassificationTask:
    """Token classification for `python -m albert_edge.finetune --task token-classification` (CoNLL files).

    Follows `albert_edge.finetune.Task`'s protocol without subclassing it: finetune imports this module. The labels
    are those of the first file read (`--train`; CoNLL-2003's order for its tags). The dev metric is entity F1 over
    the dev features, which are word windows: an entity cut by a window edge is scored as two (`evaluate` above
    tags whole sentences and gives the reported numbers).
    """

    name = "token-classification"
    metric = "f1"

    def __init__(self) -> None:
        self.labels: list[str] | None = None

    @classmethod
    def add_arguments(cls, parser) -> None:
        """No options: the labels come from the training file."""

    def read(self, path: Path, tokenizer, max_seq_len: int) -> list[dict]:
        sentences, tags = read_conll(path)
        if self.labels is None:
            self.labels = labels_of(tags)
        label2id = {label: i for i, label in enumerate(self.labels)}
        try:
            return training_features(tokenizer, sentences, tags, label2id, max_seq_len)
        except ValueError as e:
            raise NerDataError(f"{path}: {e}; the labels come from the training file") from None

    def configure(self, config) -> None:
        config.id2label = dict(enumerate(self.labels))
        config.label2id = {label: i for i, label in enumerate(self.labels)}

    def loss(self, outputs: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        import torch.nn.functional as F

        return F.cross_entropy(outputs.reshape(-1, outputs.shape[-1]), batch["labels"].reshape(-1),
                               ignore_index=IGNORE_INDEX)

    def evaluate(self, model, batches) -> dict[str, float]:
        import torch

        with torch.no_grad():
            return self._evaluate(model, batches)

    def _evaluate(self, model, batches) -> dict[str, float]:
        import torch.nn.functional as F

        gold, predicted = [], []
        loss_sum = tokens = 0
        for batch in batches:
            logits = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
            labels = batch["labels"]
            loss_sum += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                              ignore_index=IGNORE_INDEX, reduction="sum"))
            tokens += int((labels != IGNORE_INDEX).sum())
            for row_logits, row_labels in zip(logits, labels):
                keep = row_labels != IGNORE_INDEX
                gold.append([self.labels[i] for i in row_labels[keep].tolist()])
                predicted.append([self.labels[i] for i in row_logits[keep].argmax(-1).tolist()])
        scores = entity_scores(gold, predicted)
        return {"f1": scores["f1"], "precision": scores["precision"], "recall": scores["recall"],
                "loss": loss_sum / max(tokens, 1)}
