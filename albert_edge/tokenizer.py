"""ALBERT's SentencePiece tokenizer: training, an encoder that matches `transformers`, and the device vocabulary.

ALBERT tokenizes with a SentencePiece *unigram* model whose first five ids are fixed:
0 `<pad>`, 1 `<unk>`, 2 `[CLS]`, 3 `[SEP]`, 4 `[MASK]`. The reference we match id for id is what users of
transformers 5 get: `transformers.AlbertTokenizer.from_pretrained(dir)` (a `tokenizers`-backed tokenizer built from
`dir/spiece.model`). Its pipeline is reproduced here in plain Python so that the same steps, written down in
`AlbertTokenizer.export_vocab`, can be ported to Java for the phone. Beware: in transformers 5.24,
`transformers.AlbertTokenizer(vocab_file="spiece.model")` silently ignores the file and builds a five-token
vocabulary (every word becomes <unk>); load a directory with `from_pretrained` instead.

Models are trained with SentencePiece's `identity` normalisation rule, and ALBERT's normalisation (quote
replacement, NFKD accent stripping, lower-casing, whitespace collapse) is done here before training and before
encoding. Existing checkpoints' tokenizers (albert-base-v2's among them) use SentencePiece's `nmt_nfkc` rule, a
precompiled character map applied after ALBERT's normalisation; they encode here exactly as in transformers (the map
is applied by the `tokenizers` library's `Precompiled` normaliser, the one transformers uses; see `_Charsmap`), but
`export_vocab` refuses them, because the phone tokenizer does not carry the map.

The SDK's bundled tokenizer (`albert_edge/assets/`) was trained from the repository root with:

    python -m albert_edge.tokenizer train \\
        --input ../shared/data/corpus/novels_train.txt.gz ../shared/data/sst2/train.tsv \\
        --tsv-column sentence --vocab-size 16000 --out albert_edge/assets

and its device vocabulary (also written by `train`) can be regenerated with:

    python -m albert_edge.tokenizer export-vocab --model albert_edge/assets/spiece.model \\
        --out albert_edge/assets/vocab.json

Known differences from transformers (none for text in Latin, Greek, Cyrillic, CJK or emoji): `tokenizers` uses
older Unicode tables for NFKD and combining marks than Python 3.11 (Unicode 14), so about 440 code points added to
Unicode after version 10 normalise differently (e.g. U+1AC1, U+1FBF0); `tests/test_tokenizer.py` checks the
scripts above code point by code point.

Why one module of ~650 lines: the encoder, the trainer and the device vocabulary share one normalisation and one set
of special-token rules, and a reader checks the Python encoder against `docs/device_tokenizer.md` line by line;
split, the three would drift (the Java port already is the second copy).
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import random
import re
import string
import time
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2
from tqdm import tqdm

from albert_edge import tables
from albert_edge.files import AlbertEdgeError, OutputDirectory, atomic_write_bytes, cli_errors

BUNDLED_ASSETS = Path(__file__).resolve().with_name("assets")
MODEL_FILE = "spiece.model"
VOCAB_FILE = "vocab.json"
CONFIG_FILE = "tokenizer_config.json"
VOCAB_FORMAT = "albert_edge.spm_unigram.v1"

SPECIAL_TOKENS = {"pad": "<pad>", "unk": "<unk>", "cls": "[CLS]", "sep": "[SEP]", "mask": "[MASK]"}
# sentencepiece src/unigram_model.cc `kUnkPenalty`, copied by tokenizers as `K_UNK_PENALTY`: an unknown character
# scores this much below the lowest piece score, so any segmentation using real pieces wins.
UNK_SCORE_PENALTY = 10.0
# ModelProto.SentencePiece.Type
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
UNIGRAM = 1  # TrainerSpec.ModelType

WORD_START = "\u2581"  # "▁", SentencePiece's visible space
# Rust's `char::is_whitespace` (Unicode White_Space), which tokenizers' WhitespaceSplit uses. Python's `str.split()`
# would also split on U+001C..U+001F, which transformers keeps as (unknown) characters.
_WHITESPACE = re.compile("[\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
# Longest first, so the alternation matches leftmost-longest like tokenizers' Aho-Corasick over added tokens.
_SPECIAL_SPLIT = re.compile(
    "(" + "|".join(re.escape(t) for t in sorted(SPECIAL_TOKENS.values(), key=len, reverse=True)) + ")"
)


class TokenizerError(AlbertEdgeError):
    """A tokenizer file or training input that cannot be used; the message says how to fix it."""


class _Charsmap:
    """A SentencePiece precompiled character map (`nmt_nfkc`, `nfkc`, ... or a custom rule), applied by tokenizers'
    `Precompiled` normaliser, as transformers applies it (not as SentencePiece does: tokenizers looks up whole short
    grapheme clusters by their shortest key, so after NFKD a Hangul syllable stays conjoining jamo and "Ａ" + U+0301
    becomes "A", where SentencePiece recomposes the syllable and gives "Á"). Picklable: it keeps the map's bytes."""

    def __init__(self, precompiled_charsmap: bytes):
        self.precompiled_charsmap = precompiled_charsmap
        self._normalizer = None

    def __call__(self, text: str) -> str:
        if self._normalizer is None:
            try:
                from tokenizers.normalizers import Precompiled
            except ImportError:
                raise TokenizerError("this spiece.model has a character map, which needs the tokenizers package: "
                                     "pip install tokenizers") from None
            self._normalizer = Precompiled(self.precompiled_charsmap)
        return self._normalizer.normalize_str(text)

    def __getstate__(self) -> dict:
        return {"precompiled_charsmap": self.precompiled_charsmap, "_normalizer": None}


def normalize(text: str, *, lowercase: bool = True, strip_accents: bool = True) -> str:
    """ALBERT's normalisation, in transformers 5's order: quotes, NFKD + accent stripping, lower-casing.

    Whitespace is left in place; `_words` splits on it.
    """
    text = text.replace("``", '"').replace("''", '"')
    if strip_accents and not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        # Rust's `is_combining_mark` is general category M (Mn, Mc, Me), not Python's `combining()` class.
        text = "".join(c for c in text if unicodedata.category(c)[0] != "M")
    if lowercase:
        # Rust lower-cases one character at a time, so the context-dependent final sigma (ς) never appears;
        # Python's `str.lower()` applies it, hence the per-character path when a capital sigma is present.
        text = "".join(c.lower() for c in text) if "\u03a3" in text else text.lower()
    return text


def _words(normalized: str) -> Iterator[str]:
    """Split normalised text into the strings the unigram model segments, each starting with "▁".

    tokenizers' WhitespaceSplit, then Metaspace(prepend_scheme="always", split=True): a word gets a leading "▁"
    unless it already has one, and is cut before every "▁" inside it (a literal "▁" in the text acts as a space).
    """
    for word in _WHITESPACE.split(normalized):
        if not word:
            continue
        if not word.startswith(WORD_START):
            word = WORD_START + word
        for part in word.split(WORD_START)[1:]:
            yield WORD_START + part


@dataclass
class Encoding:
    """One encoded text or text pair, as python lists of equal length."""

    input_ids: list[int]
    token_type_ids: list[int]
    attention_mask: list[int]

    def __len__(self) -> int:
        return len(self.input_ids)


class AlbertTokenizer:
    """ALBERT's tokenizer over a SentencePiece unigram `spiece.model`, id-exact with transformers 5.

    >>> tok = AlbertTokenizer.from_pretrained(BUNDLED_ASSETS)
    >>> enc = tok.encode("Is this thing on?", max_length=128)   # [CLS] ... [SEP]

    `remove_space` exists for transformers-style configs; only True is supported, because transformers 5 always
    splits on whitespace. `normalizer` names the model's SentencePiece normaliser: "identity" for models from
    `train_tokenizer`, "nmt_nfkc" for albert-base-v2's; only identity models can go to the phone (`export_vocab`).
    """

    def __init__(
        self,
        spiece_model: str | Path,
        do_lower_case: bool = True,
        keep_accents: bool = False,
        remove_space: bool = True,
    ):
        if not remove_space:
            raise TokenizerError("remove_space=False is not supported: transformers 5 always collapses whitespace")
        path = Path(spiece_model)
        if not path.is_file():
            raise FileNotFoundError(
                f"SentencePiece model not found: {path} "
                "(train one with `python -m albert_edge.tokenizer train --input ... --out DIR`)"
            )
        self.model_bytes = path.read_bytes()
        try:
            spm.SentencePieceProcessor(model_proto=self.model_bytes)  # rejects files that are not a model
        except RuntimeError:
            raise TokenizerError(f"{path} is not a SentencePiece model (it does not parse as one)") from None
        proto = sentencepiece_model_pb2.ModelProto.FromString(self.model_bytes)
        if proto.trainer_spec.model_type != UNIGRAM:
            raise TokenizerError(f"{path} is not a unigram model; ALBERT needs model_type=unigram")
        # transformers applies the map whenever there is one, whatever the rule's name says.
        self._charsmap = None
        self.normalizer = "identity"
        if proto.normalizer_spec.precompiled_charsmap:
            self._charsmap = _Charsmap(proto.normalizer_spec.precompiled_charsmap)
            self.normalizer = proto.normalizer_spec.name or "custom"
        self.do_lower_case = do_lower_case
        self.keep_accents = keep_accents
        self.remove_space = remove_space
        self.pieces = [p.piece for p in proto.pieces]
        self.scores = [float(p.score) for p in proto.pieces]
        self.types = [int(p.type) for p in proto.pieces]
        self._piece_to_id = {piece: i for i, piece in enumerate(self.pieces)}
        missing = [t for t in SPECIAL_TOKENS.values() if t not in self._piece_to_id]
        if missing:
            raise TokenizerError(f"{path} lacks ALBERT's special pieces {missing}; train it with train_tokenizer")
        self.special_ids = {name: self._piece_to_id[token] for name, token in SPECIAL_TOKENS.items()}
        self._min_score = min(self.scores)
        self._max_piece_chars = max(len(p) for p in self.pieces)
        self._start_cache()

    def _start_cache(self) -> None:
        # Words repeat (Zipf), so caching their segmentation makes pure-Python Viterbi cheap on real text.
        self._segment = functools.lru_cache(maxsize=1 << 17)(self._viterbi)

    def __getstate__(self) -> dict:
        # The cache wraps a bound method and cannot be pickled (DataLoader workers under spawn pickle the tokenizer).
        return {k: v for k, v in self.__dict__.items() if k != "_segment"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._start_cache()

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> AlbertTokenizer:
        """Load `directory/spiece.model` and, if present, the flags in transformers' `tokenizer_config.json`."""
        directory = Path(directory)
        flags = {}
        config = directory / CONFIG_FILE
        if config.is_file():
            saved = json.loads(config.read_text(encoding="utf-8"))
            flags = {k: saved[k] for k in ("do_lower_case", "keep_accents", "remove_space") if k in saved}
        return cls(directory / MODEL_FILE, **flags)

    def save_pretrained(self, directory: str | Path) -> Path:
        """Write `spiece.model` and a `tokenizer_config.json` that `transformers.AutoTokenizer` loads."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(directory / MODEL_FILE, self.model_bytes)
        config = {
            "tokenizer_class": "AlbertTokenizer",
            "do_lower_case": self.do_lower_case,
            "keep_accents": self.keep_accents,
            "remove_space": self.remove_space,
            # transformers' AlbertTokenizer defaults bos/eos to [CLS]/[SEP]; spelled out so nothing is guessed.
            "bos_token": SPECIAL_TOKENS["cls"],
            "eos_token": SPECIAL_TOKENS["sep"],
            **{f"{name}_token": token for name, token in SPECIAL_TOKENS.items()},
        }
        atomic_write_bytes(directory / CONFIG_FILE, (json.dumps(config, indent=2) + "\n").encode())
        return directory

    @property
    def vocab_size(self) -> int:
        return len(self.pieces)

    @property
    def pad_id(self) -> int:
        return self.special_ids["pad"]

    @property
    def unk_id(self) -> int:
        return self.special_ids["unk"]

    @property
    def cls_id(self) -> int:
        return self.special_ids["cls"]

    @property
    def sep_id(self) -> int:
        return self.special_ids["sep"]

    @property
    def mask_id(self) -> int:
        return self.special_ids["mask"]

    def tokenize(self, text: str) -> list[str]:
        """Pieces as transformers' `tokenize` returns them: a run of unknown characters is one string of its text."""
        return [token for token, _ in self._tokens(text)]

    def convert_tokens_to_ids(self, tokens: str | Sequence[str]) -> int | list[int]:
        if isinstance(tokens, str):
            return self._piece_to_id.get(tokens, self.unk_id)
        return [self._piece_to_id.get(t, self.unk_id) for t in tokens]

    def convert_ids_to_tokens(self, ids: int | Sequence[int]) -> str | list[str]:
        if isinstance(ids, int):
            return self.pieces[ids]
        return [self.pieces[i] for i in ids]

    def encode(
        self,
        text: str,
        text_pair: str | None = None,
        *,
        max_length: int | None = None,
        add_special_tokens: bool = True,
        truncation: str = "longest_first",
    ) -> Encoding:
        """`[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]`, token type 1 for b and its [SEP].

        `max_length` counts the special tokens; `truncation` is transformers' "longest_first", "only_first" or
        "only_second" and cuts from the right.
        """
        first = self._ids(text)
        second = None if text_pair is None else self._ids(text_pair)
        if max_length is not None:
            n_special = (2 if second is None else 3) if add_special_tokens else 0
            first, second = _truncate(first, second, max_length - n_special, truncation)
        if add_special_tokens:
            first = [self.cls_id, *first, self.sep_id]
            if second is not None:
                second = [*second, self.sep_id]
        second = second or []
        ids = first + second
        return Encoding(ids, [0] * len(first) + [1] * len(second), [1] * len(ids))

    def encode_batch(
        self,
        texts: Sequence[str | tuple[str, str]],
        max_length: int,
        pad_to: int | None = None,
    ) -> dict[str, np.ndarray]:
        """Encode texts (or `(text, pair)` tuples) into int64 arrays of shape (batch, length).

        Length is the longest encoding, or `pad_to` when given (for fixed-shape exported models); padding uses the
        pad id, token type 0 and attention mask 0.
        """
        encodings = [self.encode(*((t,) if isinstance(t, str) else t), max_length=max_length) for t in texts]
        longest = max((len(e) for e in encodings), default=0)
        length = longest if pad_to is None else pad_to
        if length < longest:
            raise ValueError(f"pad_to={pad_to} is shorter than the longest encoding ({longest}); raise it")
        batch = {
            "input_ids": np.full((len(encodings), length), self.pad_id, dtype=np.int64),
            "token_type_ids": np.zeros((len(encodings), length), dtype=np.int64),
            "attention_mask": np.zeros((len(encodings), length), dtype=np.int64),
        }
        for row, enc in enumerate(encodings):
            for key, values in batch.items():
                values[row, : len(enc)] = getattr(enc, key)
        return batch

    def encode_words(self, words: Sequence[str]) -> tuple[list[int], list[int]]:
        """Ids (no special tokens) for pre-split words, and for each id the index of the word it came from.

        For NER and QA alignment. Each word is encoded on its own, which gives exactly the ids of
        `encode(" ".join(words), add_special_tokens=False)`: transformers never lets a piece cross whitespace.
        A word that is empty or only whitespace (or only accents when they are stripped) yields no id, so a word
        index may be absent; the result equals transformers' `is_split_into_words=True` with `word_ids()`.
        """
        ids, word_index = [], []
        for index, word in enumerate(words):
            word_ids = self._ids(word)
            ids.extend(word_ids)
            word_index.extend([index] * len(word_ids))
        return ids, word_index

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        """Text for ids, as transformers decodes it: "▁" becomes a space, the first one is dropped."""
        specials = set(self.special_ids.values())
        tokens = [self.pieces[i] for i in ids if not (skip_special_tokens and i in specials)]
        text = "".join(tokens).replace(WORD_START, " ")
        return text[1:] if tokens and tokens[0].startswith(WORD_START) else text

    def export_vocab(self, path: str | Path) -> Path:
        """Write the JSON vocabulary that on-device tokenizers (Java, `android_demo/`) read.

        Only for models with SentencePiece's `identity` normaliser (those from `train_tokenizer`); other models raise
        `TokenizerError`, since the device tokenizer has no character map.

        The file's schema and the algorithm a device follows to reproduce `tokenize()` / `encode()` id for id are
        specified in `docs/device_tokenizer.md` (the Java port in `android_demo/core` follows it).
        """
        if self._charsmap is not None:
            raise TokenizerError(
                f"the phone tokenizer cannot reproduce this model's {self.normalizer!r} normaliser (a SentencePiece "
                "character map); retrain the tokenizer with `python -m albert_edge.tokenizer train` (identity "
                "normalisation) and pretrain the model with it"
            )
        strip = not self.keep_accents
        vocab = {
            "format": VOCAB_FORMAT,
            "normalizer": {
                "lowercase": self.do_lower_case,
                "strip_accents": strip,
                "collapse_whitespace": self.remove_space,
                "replace_quotes": True,
                "add_dummy_prefix": True,
                "nfkd": strip,
            },
            "special": dict(self.special_ids),
            "unk_score_penalty": UNK_SCORE_PENALTY,
            "pieces": [[p, s, t] for p, s, t in zip(self.pieces, self.scores, self.types)],
        }
        text = json.dumps(vocab, ensure_ascii=False, separators=(",", ":")) + "\n"
        path = Path(path)
        atomic_write_bytes(path, text.encode("utf-8"))
        return path

    def _ids(self, text: str) -> list[int]:
        return [i for _, i in self._tokens(text)]

    def _tokens(self, text: str) -> list[tuple[str, int]]:
        tokens = []
        for index, part in enumerate(_SPECIAL_SPLIT.split(text)):
            if index % 2:  # re.split puts the captured special tokens at odd indices
                tokens.append((part, self._piece_to_id[part]))
                continue
            normalized = normalize(part, lowercase=self.do_lower_case, strip_accents=not self.keep_accents)
            if self._charsmap is not None:  # transformers applies it last, after lower-casing
                normalized = self._charsmap(normalized)
            for word in _words(normalized):
                tokens.extend(self._segment(word))
        return tokens

    def _viterbi(self, chunk: str) -> tuple[tuple[str, int], ...]:
        """Best segmentation of one "▁"-led chunk: tokenizers' `Unigram::encode_optimized` (export_vocab steps 5-6)."""
        n = len(chunk)
        best = [0.0] * (n + 1)
        start_of = [-1] * (n + 1)  # -1: no path ends here yet
        id_of = [0] * (n + 1)
        unk_score = self._min_score - UNK_SCORE_PENALTY
        for start in range(n):
            base = best[start]
            has_single = False
            for end in range(start + 1, min(n, start + self._max_piece_chars) + 1):
                piece_id = self._piece_to_id.get(chunk[start:end])
                if piece_id is None:
                    continue
                score = base + self.scores[piece_id]
                if start_of[end] < 0 or score > best[end]:
                    best[end], start_of[end], id_of[end] = score, start, piece_id
                has_single = has_single or end == start + 1
            if not has_single:
                end = start + 1
                score = base + unk_score
                if start_of[end] < 0 or score > best[end]:
                    best[end], start_of[end], id_of[end] = score, start, self.unk_id
        tokens: list[tuple[str, int]] = []
        unknown_run: list[str] = []
        end = n
        while end > 0:
            start = start_of[end]
            if id_of[end] == self.unk_id:
                unknown_run.append(chunk[start:end])
            else:
                if unknown_run:
                    tokens.append(self._merged_unknown(unknown_run))
                    unknown_run = []
                tokens.append((chunk[start:end], id_of[end]))
            end = start
        if unknown_run:
            tokens.append(self._merged_unknown(unknown_run))
        return tuple(reversed(tokens))

    def _merged_unknown(self, reversed_run: list[str]) -> tuple[str, int]:
        text = "".join(reversed(reversed_run))
        return text, self._piece_to_id.get(text, self.unk_id)


def _truncate(
    first: list[int], second: list[int] | None, budget: int, strategy: str
) -> tuple[list[int], list[int] | None]:
    """transformers' (tokenizers') `truncate_encodings`, keeping the leading ids."""
    if budget < 0:
        # transformers silently skips truncation here and returns an over-long encoding; refusing is safer.
        raise ValueError("max_length is smaller than the number of special tokens ([CLS]/[SEP]); raise it")
    total = len(first) + (len(second) if second is not None else 0)
    if total <= budget:
        return first, second
    if budget == 0:  # tokenizers empties both sides here, whatever the strategy
        return [], None if second is None else []
    if strategy == "longest_first":
        if second is None:
            return first[:budget], None
        n1, n2 = sorted((len(first), len(second)))
        n2 = n1 if n1 > budget else max(n1, budget - n1)
        if n1 + n2 > budget:
            n1 = budget // 2
            n2 = n1 + budget % 2
        if len(first) > len(second):
            n1, n2 = n2, n1
        return first[:n1], second[:n2]
    if strategy in ("only_first", "only_second"):
        target = first if strategy == "only_first" else second
        if target is None:
            raise ValueError("truncation='only_second' needs a text pair")
        if len(target) <= total - budget:
            raise ValueError(f"cannot truncate to max_length with {strategy!r}: that sequence is too short")
        keep = len(target) - (total - budget)
        return (first[:keep], second) if strategy == "only_first" else (first, second[:keep])
    raise ValueError(f"unknown truncation {strategy!r}; use 'longest_first', 'only_first' or 'only_second'")


def read_lines(path: str | Path, tsv_column: str | None = None) -> Iterator[str]:
    """Non-blank lines of a text file (.gz allowed), or one column of a headed TSV (.tsv / .tsv.gz); errors name the
    file and line (`albert_edge/tables.py`)."""
    path = Path(path)
    if ".tsv" in path.suffixes:
        if tsv_column is None:
            raise TokenizerError(f"{path} is a TSV file; name the column that holds the text (--tsv-column / tsv_column)")
        lines = (row[tsv_column] for row in tables.iter_table(path, [tsv_column], what="training input"))
    else:
        lines = (text for _, text in tables.iter_lines(path, "training input"))
    for line in lines:
        if line.strip():  # blank lines separate documents; they carry no text
            yield line


def train_tokenizer(
    files: Sequence[str | Path],
    out_dir: str | Path,
    vocab_size: int = 16000,
    *,
    sample_lines: int = 1_000_000,
    seed: int = 0,
    tsv_column: str | None = None,
    num_threads: int = 2,
    character_coverage: float = 0.9995,
    cased: bool = False,
    force: bool = False,
) -> Path:
    """Train ALBERT's unigram SentencePiece model; write `out_dir/spiece.model` and `out_dir/vocab.json`.

    Lines from all files are sampled uniformly (reservoir, `seed`) down to `sample_lines`, normalised like
    `AlbertTokenizer` does before encoding, and given to SentencePiece with the identity rule. Special-token strings
    in the corpus are treated as spaces, as encoding would split them out. `cased` keeps capitals (NER needs them)
    and records `do_lower_case: false` in `out_dir/tokenizer_config.json`. Returns the path of `spiece.model`.
    `out_dir` is written as a whole, atomically; an existing non-empty one is replaced only with `force`.
    """
    if not files:
        raise TokenizerError("no training input given")
    for file in files:  # fail before reading anything
        if not Path(file).is_file():
            raise FileNotFoundError(f"training input not found: {file}")
        if ".tsv" in Path(file).suffixes and tsv_column is None:
            raise TokenizerError(f"{file} is a TSV file; name the column that holds the text (--tsv-column)")
    output = OutputDirectory(out_dir, force)  # refuses a non-empty or unwritable --out before any reading
    rng = random.Random(seed)
    sample: list[str] = []
    seen = 0
    for file in files:
        before = seen
        # disable=None: the bars show on a terminal only, not in logs or captured stderr
        for line in tqdm(read_lines(file, tsv_column), desc=f"reading {Path(file).name}", unit=" lines",
                         disable=None):
            if len(sample) < sample_lines:
                sample.append(line)
            else:
                slot = rng.randrange(seen + 1)
                if slot < sample_lines:
                    sample[slot] = line
            seen += 1
        if seen == before:
            raise TokenizerError(f"training input {file} has no non-blank lines")
    sentences = [
        " ".join(w for w in _WHITESPACE.split(normalize(_SPECIAL_SPLIT.sub(" ", line), lowercase=not cased)) if w)
        for line in tqdm(sample, desc="normalising", unit=" lines", disable=None)
    ]
    sentences = [s for s in sentences if s]
    tqdm.write(f"training a {vocab_size}-piece unigram model on {len(sentences)} of {seen} lines")
    spm.set_random_generator_seed(seed)
    model = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(sentences),
            model_writer=model,
            model_type="unigram",
            vocab_size=vocab_size,
            pad_id=0,
            unk_id=1,
            bos_id=-1,
            eos_id=-1,
            pad_piece=SPECIAL_TOKENS["pad"],
            unk_piece=SPECIAL_TOKENS["unk"],
            control_symbols=[SPECIAL_TOKENS["cls"], SPECIAL_TOKENS["sep"], SPECIAL_TOKENS["mask"]],
            normalization_rule_name="identity",
            add_dummy_prefix=True,
            remove_extra_whitespaces=True,
            # Keeps every digit its own piece, so ALBERT's "9," re-split rule can never apply (see export_vocab).
            split_digits=True,
            byte_fallback=False,
            character_coverage=character_coverage,
            # Digits and punctuation are rare in novels and fell under the coverage cut (a first bundled model had
            # no digits at all); QA and NER text needs them, and phone keyboards type curly quotes and dashes.
            required_chars=string.digits
            + (string.ascii_letters if cased else string.ascii_lowercase)
            + string.punctuation
            + "‘’“”–—£€°·•",
            input_sentence_size=0,  # already sampled above, reproducibly
            max_sentence_length=1 << 16,  # novels have paragraph-long lines; the default 4192 bytes drops them
            num_threads=num_threads,
            minloglevel=1,
        )
    except RuntimeError as err:
        raise TokenizerError(f"SentencePiece training failed: {err}") from None
    with output as staging:
        atomic_write_bytes(staging / MODEL_FILE, model.getvalue())
        tokenizer = AlbertTokenizer(staging / MODEL_FILE, do_lower_case=not cased)
        tokenizer.save_pretrained(staging)
        tokenizer.export_vocab(staging / VOCAB_FILE)
    return Path(out_dir) / MODEL_FILE


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m albert_edge.tokenizer", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train spiece.model (+ vocab.json) from text, .gz or .tsv files")
    train.add_argument("--input", nargs="+", required=True, help="text files (one sentence/line per line)")
    train.add_argument("--vocab-size", type=int, default=16000, help="pieces, the five specials included")
    train.add_argument("--out", required=True, help="directory for spiece.model and vocab.json")
    train.add_argument("--tsv-column", default=None, help="column of .tsv inputs that holds the text")
    train.add_argument("--sample-lines", type=int, default=1_000_000, help="train on at most this many lines")
    train.add_argument("--seed", type=int, default=0, help="for line sampling and SentencePiece")
    train.add_argument("--threads", type=int, default=2, help="SentencePiece trainer threads")
    train.add_argument("--cased", action="store_true", help="keep capitals (the saved tokenizer does not lower-case)")
    train.add_argument("--force", action="store_true", help="replace a non-empty --out")
    export = commands.add_parser("export-vocab", help="write the device vocabulary JSON for a spiece.model")
    export.add_argument("--model", required=True, help="spiece.model")
    export.add_argument("--out", required=True, help="vocab.json to write")
    export.add_argument("--keep-accents", action="store_true")
    export.add_argument("--cased", action="store_true", help="do not lower-case")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    with cli_errors():
        if args.command == "train":
            path = train_tokenizer(
                args.input,
                args.out,
                args.vocab_size,
                sample_lines=args.sample_lines,
                seed=args.seed,
                tsv_column=args.tsv_column,
                num_threads=args.threads,
                cased=args.cased,
                force=args.force,
            )
            tok = AlbertTokenizer.from_pretrained(path.parent)
        else:
            tok = AlbertTokenizer(args.model, do_lower_case=not args.cased, keep_accents=args.keep_accents)
            path = tok.export_vocab(args.out)
    example = "The café's 1,000 “quoted” words."
    print(f"wrote {path} in {time.perf_counter() - started:.1f}s; vocab size {tok.vocab_size}")
    print(f"{example!r} -> {tok.tokenize(example)}")


if __name__ == "__main__":
    main()
