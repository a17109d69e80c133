"""Pretraining data: documents streamed from text files, ALBERT's instance creation and n-gram masking, batching.

The layout is BERT/ALBERT `create_pretraining_data.py`'s: UTF-8 text (`.gz` allowed), one document per block of
non-blank lines, blocks separated by blank lines, each line a "sentence" (real sentence splitting is not needed:
segments are just runs of consecutive lines). The semantics follow ALBERT's `create_pretraining_data.py`:

- `create_instances_from_document`: lines are packed into a chunk up to a target length (max_seq_len - 3, or with
  probability `short_seq_prob` a random shorter one); the chunk is cut at a random line boundary into A and B.
  Sentence-order prediction (SOP) swaps A and B half the time (label 1 = swapped); `objective="nsp"` instead takes B
  from a random other document half the time (label 1 = random). `objective="mlm"` keeps the chunk as one segment.
- `NgramMasker`: ALBERT's n-gram masking: n <= 3 with p(n) proportional to 1/n, over whole words (a word starts at a
  "▁" piece, punctuation or a non-English piece: ALBERT's `_is_start_piece_sp`), 15% of tokens up to
  `max_predictions`, each chosen token 80% [MASK] / 10% random / 10% kept; [CLS], [SEP] and padding are never chosen.

Unlike the TF script, which materialises every instance and shuffles them, `PretrainingStream` streams: it reads its
rank's documents (document i goes to rank i % world_size), creates instances document by document, and shuffles them
through a bounded buffer. It is deterministic in (seed, rank): instance creation draws from an RNG keyed by
(seed, epoch, document) and masking from one keyed by (seed, rank, instance number), so `stream.iterate(start=k)`
resumes at exactly the k-th instance without replaying any masking.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from albert_edge import tables
from albert_edge.files import AlbertEdgeError

IGNORE_INDEX = -100  # torch cross_entropy's default ignore_index: unmasked positions and absent SOP labels
OBJECTIVES = ("sop", "nsp", "mlm")
# ALBERT's `_is_start_piece_sp`: these one-character pieces always start a new word.
_PUNCTUATION = set('!"#$%&\'()*+,-./:;?@[\\]^_`{|}~') | {"€", "£"}
_ENGLISH = set("abcdefghijklmnopqrstuvwxyz") | _PUNCTUATION


class DataError(AlbertEdgeError):
    """Training text that cannot be used; the message says what is wrong and how to fix it."""


def check_text_files(paths: Sequence[str | Path]) -> list[Path]:
    """Paths as `Path`s, after checking each one exists and holds some text (raises DataError otherwise)."""
    if not paths:
        raise DataError("no training text given")
    checked = []
    for path in map(Path, paths):
        if not path.is_file():
            raise DataError(f"text file not found: {path}")
        # The whole file, so a byte that is not UTF-8 stops the run here, with its line, and not hours into training
        # (about 1.5 s per 100 MB of gzipped text).
        has_text = False
        for _, text in tables.iter_lines(path, "training text"):
            has_text = has_text or bool(text.strip())
        if not has_text:
            raise DataError(f"{path} is empty: it needs documents of non-blank lines separated by blank lines")
        checked.append(path)
    return checked


def read_documents(paths: Iterable[str | Path]) -> Iterator[list[str]]:
    """Documents (lists of non-blank lines) from text files in order; a blank line ends a document. A byte that is
    not UTF-8 is a DataFileError naming the file and line (albert_edge/tables.py)."""
    for path in paths:
        lines: list[str] = []
        for _, line in tables.iter_lines(path, "training text"):
            line = line.strip()
            if line:
                lines.append(line)
            elif lines:
                yield lines
                lines = []
        if lines:
            yield lines


# -- instance creation -----------------------------------------------------------------------------------------------
@dataclass
class Instance:
    """One pretraining example before masking: `[CLS] A [SEP] B [SEP]` (or `[CLS] A [SEP]` for objective mlm)."""

    input_ids: list[int]
    token_type_ids: list[int]
    sentence_label: int  # SOP: 1 = swapped; NSP: 1 = B from another document; IGNORE_INDEX for mlm


def truncate_seq_pair(a: list[int], b: list[int], max_num_tokens: int, rng: random.Random) -> None:
    """Trim the longer of a, b in place until they fit, from the front or back at random (as ALBERT does)."""
    while len(a) + len(b) > max_num_tokens:
        longer = a if len(a) > len(b) else b
        if rng.random() < 0.5:
            del longer[0]
        else:
            longer.pop()


def create_instances_from_document(
    document: Sequence[Sequence[int]],
    max_seq_len: int,
    rng: random.Random,
    *,
    cls_id: int,
    sep_id: int,
    objective: str = "sop",
    other_documents: Sequence[Sequence[Sequence[int]]] = (),
    short_seq_prob: float = 0.1,
) -> list[Instance]:
    """ALBERT's `create_instances_from_document` over one document of token-id lines.

    Segments never cross the document boundary except for NSP's deliberate random B from `other_documents`.
    One departure: when a chunk holds a single line, ALBERT takes B from a random document even under SOP; here SOP
    splits that line at a random token instead, so SOP never sees cross-document pairs.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; use one of {', '.join(OBJECTIVES)}")
    pair = objective != "mlm"
    max_num_tokens = max_seq_len - (3 if pair else 2)
    if max_num_tokens < 2:
        raise ValueError(f"max_seq_len {max_seq_len} is too short for [CLS] A [SEP] B [SEP]; use at least 8")
    target_len = max_num_tokens
    if rng.random() < short_seq_prob:
        target_len = rng.randint(2, max_num_tokens)

    instances = []
    chunk: list[Sequence[int]] = []
    chunk_len = 0
    i = 0
    while i < len(document):
        segment = document[i]
        if segment:
            chunk.append(segment)
            chunk_len += len(segment)
        if chunk and (i == len(document) - 1 or chunk_len >= target_len):
            instance = None
            if not pair:
                tokens = [t for seg in chunk for t in seg][:max_num_tokens]
                instance = Instance([cls_id, *tokens, sep_id], [0] * (len(tokens) + 2), IGNORE_INDEX)
            else:
                a_end = rng.randint(1, len(chunk) - 1) if len(chunk) >= 2 else 1
                a = [t for seg in chunk[:a_end] for t in seg]
                b = [t for seg in chunk[a_end:] for t in seg]
                label = 0
                if objective == "nsp" and (not b or rng.random() < 0.5):
                    if not other_documents:
                        raise DataError("objective nsp needs at least 2 documents (separated by a blank line)")
                    label = 1
                    other = other_documents[rng.randrange(len(other_documents))]
                    b = []
                    for line in other[rng.randrange(len(other)):]:
                        b.extend(line)
                        if len(b) >= target_len - len(a):
                            break
                    i -= len(chunk) - a_end  # the unused lines go back, as in ALBERT
                elif objective == "sop":
                    if not b:  # one line: split it at a random token
                        cut = rng.randint(1, len(a) - 1) if len(a) >= 2 else 0
                        a, b = a[:cut], a[cut:]
                    if rng.random() < 0.5:
                        a, b = b, a
                        label = 1
                truncate_seq_pair(a, b, max_num_tokens, rng)
                if a and b:
                    instance = Instance(
                        [cls_id, *a, sep_id, *b, sep_id], [0] * (len(a) + 2) + [1] * (len(b) + 1), label
                    )
            if instance is not None:
                instances.append(instance)
            chunk, chunk_len = [], 0
        i += 1
    return instances


# -- masking ---------------------------------------------------------------------------------------------------------
def word_start_table(pieces: Sequence[str]) -> np.ndarray:
    """For each vocabulary id, whether that piece starts a word (ALBERT's `_is_start_piece_sp`)."""
    return np.array(
        [
            p.startswith("\u2581") or p.startswith("<") or p in _PUNCTUATION or not all(c.lower() in _ENGLISH for c in p)
            for p in pieces
        ],
        dtype=bool,
    )


class NgramMasker:
    """ALBERT's `create_masked_lm_predictions` (n-gram, whole-word), returning (input_ids, labels).

    labels[i] is the original id at each chosen position and IGNORE_INDEX elsewhere.
    """

    def __init__(
        self,
        word_start: np.ndarray,
        special_ids: Iterable[int],
        mask_id: int,
        masked_lm_prob: float = 0.15,
        max_predictions: int = 20,
        max_ngram: int = 3,
        whole_word: bool = True,
    ):
        self.word_start = word_start
        self.special = frozenset(int(i) for i in special_ids)
        self.mask_id = mask_id
        self.masked_lm_prob = masked_lm_prob
        self.max_predictions = max_predictions
        self.whole_word = whole_word
        self.ngrams = np.arange(1, max_ngram + 1)
        pvals = 1.0 / self.ngrams
        self.pvals = pvals / pvals.sum()
        # Random replacements are drawn from ordinary pieces only, never a special token.
        self.random_ids = np.array([i for i in range(len(word_start)) if i not in self.special], dtype=np.int64)

    @classmethod
    def for_tokenizer(cls, tokenizer, **kwargs) -> "NgramMasker":
        return cls(word_start_table(tokenizer.pieces), tokenizer.special_ids.values(), tokenizer.mask_id, **kwargs)

    def __call__(self, input_ids: Sequence[int], rng: np.random.Generator) -> tuple[list[int], list[int]]:
        words: list[list[int]] = []
        for i, token in enumerate(input_ids):
            if token in self.special:
                continue
            if self.whole_word and words and not self.word_start[token] and words[-1][-1] == i - 1:
                words[-1].append(i)
            else:
                words.append([i])
        output = list(input_ids)
        labels = [IGNORE_INDEX] * len(input_ids)
        if not words or self.masked_lm_prob <= 0:
            return output, labels
        num_to_predict = min(self.max_predictions, max(1, round(len(input_ids) * self.masked_lm_prob)))

        covered: set[int] = set()
        chosen: list[int] = []
        for start in rng.permutation(len(words)):
            if len(chosen) >= num_to_predict:
                break
            available = min(len(self.ngrams), len(words) - start)
            p = self.pvals[:available] / self.pvals[:available].sum()
            n = int(rng.choice(self.ngrams[:available], p=p))
            # Shorten the n-gram until it fits the prediction budget; skip it if even a unigram does not.
            while n > 0:
                span = [i for word in words[start:start + n] for i in word]
                if len(chosen) + len(span) <= num_to_predict:
                    break
                n -= 1
            if n == 0 or any(i in covered for i in span):
                continue
            covered.update(span)
            chosen.extend(span)

        for i in chosen:
            labels[i] = input_ids[i]
            r = rng.random()
            if r < 0.8:
                output[i] = self.mask_id
            elif r >= 0.9:
                output[i] = int(self.random_ids[rng.integers(len(self.random_ids))])
        return output, labels


# -- the stream ------------------------------------------------------------------------------------------------------
class PretrainingStream:
    """Masked pretraining examples from text files, endless (epoch after epoch) or for `epochs` passes.

    Each yielded example is a dict of lists: input_ids, token_type_ids, labels (MLM) and an int sentence_label.
    """

    def __init__(
        self,
        paths: Sequence[str | Path],
        tokenizer,
        max_seq_len: int = 128,
        *,
        objective: str = "sop",
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        epochs: int | None = None,
        shuffle_buffer: int = 10_000,
        short_seq_prob: float = 0.1,
        masked_lm_prob: float = 0.15,
        max_predictions: int | None = None,
        other_document_pool: int = 16,
    ):
        if objective not in OBJECTIVES:
            raise DataError(f"unknown objective {objective!r}; use one of {', '.join(OBJECTIVES)}")
        self.paths = [Path(p) for p in paths]
        self.tokenizer = tokenizer
        self.max_seq_len = max_seq_len
        self.objective = objective
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.epochs = epochs
        self.shuffle_buffer = shuffle_buffer
        self.short_seq_prob = short_seq_prob
        self.other_document_pool = other_document_pool
        # ALBERT uses 20 predictions for 128 tokens: 15% rounded up, plus one.
        if max_predictions is None:
            max_predictions = int(np.ceil(max_seq_len * masked_lm_prob)) + 1
        self.masker = NgramMasker.for_tokenizer(tokenizer, masked_lm_prob=masked_lm_prob,
                                                max_predictions=max_predictions)

    def _tokenized_documents(self) -> Iterator[tuple[int, list[list[int]]]]:
        count = 0
        for index, lines in enumerate(read_documents(self.paths)):
            count += 1
            if index % self.world_size == self.rank:
                yield index, [self.tokenizer.encode(line, add_special_tokens=False).input_ids for line in lines]
        if count <= self.rank:
            raise DataError(
                f"{', '.join(map(str, self.paths))} holds {count} document(s), too few for {self.world_size} ranks; "
                "each rank needs at least one (separate documents with a blank line)"
            )

    def _instances(self, epoch: int) -> Iterator[Instance]:
        """One pass over this rank's documents, with one document of look-ahead so NSP always has another one."""
        recent: deque[list[list[int]]] = deque(maxlen=self.other_document_pool)
        pending: tuple[int, list[list[int]]] | None = None
        for item in self._tokenized_documents():
            if pending is not None:
                yield from self._from_document(epoch, *pending, [*recent, item[1]])
                recent.append(pending[1])
            pending = item
        if pending is not None:
            yield from self._from_document(epoch, *pending, list(recent))

    def _from_document(self, epoch: int, index: int, document, others) -> list[Instance]:
        rng = random.Random(f"{self.seed}/{epoch}/{index}")
        return create_instances_from_document(
            document, self.max_seq_len, rng, cls_id=self.tokenizer.cls_id, sep_id=self.tokenizer.sep_id,
            objective=self.objective, other_documents=others, short_seq_prob=self.short_seq_prob,
        )

    def _shuffled(self) -> Iterator[Instance]:
        epoch = 0
        while self.epochs is None or epoch < self.epochs:
            rng = random.Random(f"{self.seed}/{self.rank}/shuffle/{epoch}")
            buffer: list[Instance] = []
            produced = 0
            for instance in self._instances(epoch):
                produced += 1
                if len(buffer) < self.shuffle_buffer:
                    buffer.append(instance)
                    continue
                slot = rng.randrange(len(buffer))
                yield buffer[slot]
                buffer[slot] = instance
            if produced == 0:
                raise DataError(f"no training examples could be made from {', '.join(map(str, self.paths))}")
            rng.shuffle(buffer)
            yield from buffer
            epoch += 1

    def iterate(self, start: int = 0) -> Iterator[dict]:
        """Examples from the `start`-th on (0-based); skipping costs instance creation but no masking."""
        for number, instance in enumerate(self._shuffled()):
            if number < start:
                continue
            rng = np.random.default_rng([self.seed, self.rank, number])
            input_ids, labels = self.masker(instance.input_ids, rng)
            yield {
                "input_ids": input_ids,
                "token_type_ids": instance.token_type_ids,
                "labels": labels,
                "sentence_label": instance.sentence_label,
            }

    def __iter__(self) -> Iterator[dict]:
        return self.iterate(0)


def collate(examples: Sequence[dict], pad_id: int = 0) -> dict[str, torch.Tensor]:
    """Pad a list of examples to the longest one (dynamic padding) and stack them into int64 tensors.

    Sequence fields are padded with pad_id (input_ids), 0 (token_type_ids, attention_mask) or IGNORE_INDEX
    (labels); integer fields (sentence_label, label, QA's start/end positions and feature ids) are stacked.
    """
    length = max(len(e["input_ids"]) for e in examples)
    batch = {
        "input_ids": torch.full((len(examples), length), pad_id, dtype=torch.long),
        "attention_mask": torch.zeros((len(examples), length), dtype=torch.long),
        "token_type_ids": torch.zeros((len(examples), length), dtype=torch.long),
    }
    if "labels" in examples[0]:
        batch["labels"] = torch.full((len(examples), length), IGNORE_INDEX, dtype=torch.long)
    for row, e in enumerate(examples):
        n = len(e["input_ids"])
        batch["input_ids"][row, :n] = torch.tensor(e["input_ids"])
        batch["attention_mask"][row, :n] = 1
        if "token_type_ids" in e:
            batch["token_type_ids"][row, :n] = torch.tensor(e["token_type_ids"])
        if "labels" in batch:
            batch["labels"][row, :n] = torch.tensor(e["labels"])
    for key, value in examples[0].items():
        if isinstance(value, int):
            batch[key] = torch.tensor([e[key] for e in examples], dtype=torch.long)
    return batch


def batches(examples: Iterable[dict], batch_size: int, pad_id: int = 0) -> Iterator[dict[str, torch.Tensor]]:
    """Group an example stream into collated batches; the last partial batch is kept."""
    group: list[dict] = []
    for e in examples:
        group.append(e)
        if len(group) == batch_size:
            yield collate(group, pad_id)
            group = []
    if group:
        yield collate(group, pad_id)
