"""albert_edge.tokenizer against the reference users run: transformers 5's AlbertTokenizer.from_pretrained(dir)."""

import inspect
import io
import json
import pickle
import random
import shutil
import unicodedata
from pathlib import Path

import numpy as np
import pytest
import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2

from albert_edge import tokenizer as T
from albert_edge.tables import DataFileError
from albert_edge.tokenizer import AlbertTokenizer, TokenizerError, train_tokenizer

transformers = pytest.importorskip("transformers")
transformers.logging.set_verbosity_error()

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

HARD_STRINGS = [
    "café naïve Zoë",
    "1,000,000 and 3.14, 9, 10,",
    "“curly” ‘single’ quotes, ``TeX'' quotes and ''' ```",
    "Ελληνικά ΟΔΟΣ Кириллица 中文字 日本語 한국어 😀😀 👍🏽 x",
    "tabs\tand   repeated  spaces\n\nnew\u00a0lines\u3000ideographic",
    "",
    "   \t ",
    "İstanbul ǅ ﬁ ½ ＡＢＣ Å",
    "<PAD> <pad> [mask] [MASK]x y[CLS][SEP] <Unk> <unk>",
    "a▁b ▁ ▁▁ x▁",
    "\x1c\x00 control \x7f",
    "\u0301abc \u0301 e\u0301",
    # What a SentencePiece character map (nmt_nfkc) changes: full-width forms, ligatures, enclosed and compatibility
    # characters, NBSP and other spaces, zero-width characters, halfwidth kana, Hangul (NFKD'd to jamo), CR LF.
    "ＡＢＣ１２３ ｈｅｌｌｏ， ｗｏｒｌｄ！",
    "ﬁne ﬂow oﬀ ﬃ Ĳ",
    "①②③ ⑩ ⑳ ㈠ ㈎ ⒜ ⓐ",
    "a\u00a0b \u00a0 c\u202fd e\u2009f",
    "㍻ ㎏ ™ ℃ … x² ½",
    "\u200b zero\u200bwidth \ufeffbom soft\u00adhyphen",
    "ｶﾀｶﾅ ﾊﾟﾝ",
    "x\u0085y\u1680z\u2028w\r\nv",
    "한국어 텍스트, 서울",
]


def _stdlib_prose() -> list[str]:
    """English text that is always present, for training when shared/data is missing."""
    import argparse
    import collections
    import json as j
    import pathlib
    import re
    import subprocess
    import typing

    lines = []
    for module in (argparse, collections, j, pathlib, re, subprocess, typing):
        for _, obj in inspect.getmembers(module):
            lines.extend((inspect.getdoc(obj) or "").splitlines())
    return [line for line in lines if line.strip()]


def _real_lines() -> list[str]:
    """A few thousand lines from every corpus in shared/data (SST-2 dev, CoNLL words joined, novels, WikiText)."""
    if not DATA.is_dir():
        pytest.skip("shared/data is missing")
    lines = [row.split("\t")[0] for row in (DATA / "sst2/dev.tsv").read_text().splitlines()[1:]]
    sentence: list[str] = []
    conll = []
    for row in (DATA / "conll2003/valid.txt").read_text().splitlines() + [""]:
        if row.strip():
            sentence.append(row.split(" ")[0])
        elif sentence:
            conll.append(" ".join(sentence))
            sentence = []
    lines += conll[:800]
    lines += (DATA / "corpus/novels_valid.txt").read_text().splitlines()[:1500]
    lines += (DATA / "corpus/wikitext2_raw_test.txt").read_text().splitlines()[:800]
    return lines


@pytest.fixture(scope="session")
def small_dir(tmp_path_factory) -> Path:
    """A vocab-1000 model trained on a few thousand lines, as a directory transformers can load."""
    out = tmp_path_factory.mktemp("small_tok")
    corpus = tmp_path_factory.mktemp("small_corpus") / "corpus.txt"
    if DATA.is_dir():
        sst = (DATA / "sst2/train.tsv").read_text().splitlines()[1:2001]
        novels = (DATA / "corpus/novels_valid.txt").read_text().splitlines()[:2000]
        corpus.write_text("\n".join([row.split("\t")[0] for row in sst] + novels) + "\n")
    else:
        corpus.write_text("\n".join(_stdlib_prose()) + "\n")
    train_tokenizer([corpus], out, vocab_size=1000, sample_lines=4000, num_threads=1)
    shutil.copy(corpus, out / "corpus.txt")  # after training: --out must be empty (or absent) to be written
    return out


# Trained into the nmt_nfkc model below, so that Hangul syllables and these scripts are pieces of its vocabulary.
NON_LATIN_LINES = ["한국어 텍스트는 서울에서 왔다", "한국어 문장 하나 더", "ελληνικά κείμενα", "русский текст здесь"] * 5


@pytest.fixture(scope="session")
def nfkc_dir(tmp_path_factory, small_dir) -> Path:
    """A vocab-1000 model with SentencePiece's default nmt_nfkc character map and ALBERT's special ids (like
    albert-base-v2's spiece.model), saved as a directory transformers can load."""
    out = tmp_path_factory.mktemp("nfkc_tok")
    lines = [line.lower() for line in (small_dir / "corpus.txt").read_text().splitlines()] + NON_LATIN_LINES
    spm.set_random_generator_seed(0)
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=model, model_type="unigram", vocab_size=1000,
        pad_id=0, unk_id=1, bos_id=-1, eos_id=-1, pad_piece="<pad>", unk_piece="<unk>",
        control_symbols=["[CLS]", "[SEP]", "[MASK]"], normalization_rule_name="nmt_nfkc", character_coverage=1.0,
        num_threads=1, minloglevel=2,
    )  # fmt: skip
    (out / "spiece.model").write_bytes(model.getvalue())
    return AlbertTokenizer(out / "spiece.model").save_pretrained(out)


@pytest.fixture(scope="session", params=["small", "bundled", "nfkc"])
def model_dir(request, small_dir) -> Path:
    if request.param == "small":
        return small_dir
    if request.param == "nfkc":
        return request.getfixturevalue("nfkc_dir")
    if not (T.BUNDLED_ASSETS / T.MODEL_FILE).is_file():
        pytest.skip("bundled tokenizer not trained yet")
    return T.BUNDLED_ASSETS


@pytest.fixture(scope="session")
def pair(model_dir):
    """(ours, transformers') for the same spiece.model."""
    return AlbertTokenizer.from_pretrained(model_dir), transformers.AlbertTokenizer.from_pretrained(str(model_dir))


def test_special_ids_are_albert(pair):
    ours, hf = pair
    assert (ours.pad_id, ours.unk_id, ours.cls_id, ours.sep_id, ours.mask_id) == (0, 1, 2, 3, 4)
    assert ours.convert_ids_to_tokens([0, 1, 2, 3, 4]) == ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]
    assert ours.vocab_size == len(hf)
    assert [hf.pad_token_id, hf.unk_token_id, hf.cls_token_id, hf.sep_token_id, hf.mask_token_id] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("text", HARD_STRINGS)
def test_hard_strings_match_transformers(pair, text):
    ours, hf = pair
    assert ours.encode(text).input_ids == hf(text)["input_ids"]
    assert ours.tokenize(text) == hf.tokenize(text)
    ids = ours.encode(text).input_ids
    for skip in (True, False):
        assert ours.decode(ids, skip_special_tokens=skip) == hf.decode(ids, skip_special_tokens=skip)


def test_real_text_matches_transformers(pair):
    ours, hf = pair
    lines = _real_lines()
    expected = hf(lines)["input_ids"]
    mismatches = [line for line, ids in zip(lines, expected) if ours.encode(line).input_ids != ids]
    assert not mismatches, f"{len(mismatches)}/{len(lines)} lines differ, e.g. {mismatches[:3]}"
    assert [ours.decode(ids) for ids in expected[:300]] == hf.batch_decode(expected[:300], skip_special_tokens=True)


def test_an_unknown_run_is_one_unk(pair):
    ours, _ = pair
    ids = ours.encode("\U0001f600\U0001f600\U0001f600", add_special_tokens=False).input_ids
    assert ids.count(ours.unk_id) == 1 and ids[-1] == ours.unk_id
    pieces = ours.tokenize("\U0001f600\U0001f600")
    assert pieces[-1] == "\U0001f600\U0001f600" and ours.convert_tokens_to_ids(pieces[-1]) == ours.unk_id


def test_random_unicode_matches_transformers(pair):
    ours, hf = pair
    rng = random.Random(0)
    alphabet = [chr(c) for c in [*range(32, 127)] * 4 + [*range(0xA0, 0x250), *range(0x370, 0x3FF),
                *range(0x400, 0x4FF), *range(0x2000, 0x206F), *range(0x4E00, 0x4E40), *range(0x1F600, 0x1F640),
                9, 10, 13, 0x1C, 0x2581, 0x3000]]  # fmt: skip
    texts = []
    for _ in range(1500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        insert = rng.choice(["", "", "[MASK]", "<pad>", "<UNK>", "[cls]", "``", "''"])
        texts.append(text[:5] + insert + text[5:])
    assert [ours.encode(t).input_ids for t in texts] == hf(texts)["input_ids"]
    assert [ours.tokenize(t) for t in texts] == [hf.tokenize(t) for t in texts]


def test_pickles_for_dataloader_workers(pair):
    ours, _ = pair
    clone = pickle.loads(pickle.dumps(ours))
    assert clone.encode("a pickled tokenizer", "still works").input_ids == ours.encode(
        "a pickled tokenizer", "still works"
    ).input_ids


def _model_with_pieces(template: Path, pieces: list[tuple[str, float]], out: Path) -> Path:
    """A copy of `template` whose normal pieces are replaced, to pin down behaviour real scores rarely reach."""
    from sentencepiece import sentencepiece_model_pb2

    proto = sentencepiece_model_pb2.ModelProto.FromString(template.read_bytes())
    specials = [p for p in proto.pieces if p.type != T.NORMAL]
    del proto.pieces[:]
    proto.pieces.extend(specials)
    for piece, score in pieces:
        proto.pieces.add(piece=piece, score=score, type=T.NORMAL)
    out.mkdir()
    (out / "spiece.model").write_bytes(proto.SerializeToString())
    return out


def test_viterbi_ties_keep_the_earliest_candidate(small_dir, tmp_path):
    """Equal scores: transformers keeps the first candidate found (strict >), scanning by start, then by end."""
    pieces = [("▁", -1.0), ("a", -1.0), ("b", -1.0), ("▁a", -1.0), ("ab", -1.0), ("▁ab", -2.0), ("ba", -2.0)]
    directory = _model_with_pieces(small_dir / "spiece.model", pieces, tmp_path / "ties")
    ours = AlbertTokenizer.from_pretrained(directory)
    hf = transformers.AlbertTokenizer.from_pretrained(str(directory))
    for text in ["ab", "aab", "abab", "bab ba", "a b ab", "abc", "ccab"]:
        assert ours.tokenize(text) == hf.tokenize(text), text
        assert ours.encode(text).input_ids == hf(text)["input_ids"], text
    assert ours.tokenize("ab") == ["▁ab"]  # not "▁a" "b" nor "▁" "ab", which score the same


# Latin, Greek, Cyrillic, Hebrew, Arabic, punctuation, CJK, Hangul, emoji. Outside them, transformers' older
# Unicode tables differ for characters added after Unicode 10.
CHECKED_BLOCKS = [(0x0000, 0x07BF), (0x1E00, 0x2BFF), (0x3000, 0x31FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3),
                  (0xFB00, 0xFFEF), (0x1F300, 0x1FAFF)]  # fmt: skip


@pytest.mark.parametrize("keep_accents", [False, True])
@pytest.mark.parametrize("lowercase", [True, False])
def test_normalizer_matches_transformers_per_code_point(small_dir, keep_accents, lowercase):
    hf = transformers.AlbertTokenizer.from_pretrained(
        str(small_dir), keep_accents=keep_accents, do_lower_case=lowercase
    ).backend_tokenizer.normalizer
    chars = [chr(cp) for lo, hi in CHECKED_BLOCKS for cp in range(lo, hi + 1) if not 0xD800 <= cp < 0xE000]
    differ = [
        hex(ord(c))
        for c in chars
        if T.normalize(c, lowercase=lowercase, strip_accents=not keep_accents) != hf.normalize_str(c)
    ]
    assert not differ
    for text in ("ΟΔΟΣ ΑΣ", "``''``", "'''", "Å\u030a", "ＩＳＴ İ"):
        assert T.normalize(text, lowercase=lowercase, strip_accents=not keep_accents) == hf.normalize_str(text)


def test_whitespace_split_matches_transformers(small_dir):
    pre = transformers.AlbertTokenizer.from_pretrained(str(small_dir)).backend_tokenizer.pre_tokenizer
    for cp in range(0x3100):
        text = f"a{chr(cp)}b"
        assert [w for w, _ in pre.pre_tokenize_str(text)] == list(T._words(text)), hex(cp)


def test_pair_encoding_and_token_types(pair):
    ours, hf = pair
    a, b = "The quick brown fox.", "It jumped over the lazy dog!"
    enc = ours.encode(a, b)
    ref = hf(a, b, return_token_type_ids=True)
    assert (enc.input_ids, enc.token_type_ids, enc.attention_mask) == (
        ref["input_ids"], ref["token_type_ids"], ref["attention_mask"]
    )  # fmt: skip
    n_first = len(ours.encode(a).input_ids)
    assert enc.token_type_ids == [0] * n_first + [1] * (len(enc) - n_first)
    assert enc.input_ids[0] == ours.cls_id and enc.input_ids.count(ours.sep_id) == 2
    bare = ours.encode(a, b, add_special_tokens=False)
    ref = hf(a, b, add_special_tokens=False, return_token_type_ids=True)
    assert (bare.input_ids, bare.token_type_ids) == (ref["input_ids"], ref["token_type_ids"])


@pytest.mark.parametrize("strategy", ["longest_first", "only_first", "only_second"])
def test_truncation_matches_transformers(pair, strategy):
    ours, hf = pair
    texts = [("a short one", "a much much longer second sentence with many more words in it than the first"),
             ("equal length texts here", "equal length texts here"),
             ("one two three four five six seven", "eight")]  # fmt: skip
    for a, b in texts:
        total = len(ours.encode(a, b))
        for max_length in range(3, total + 2):
            try:
                got = ours.encode(a, b, max_length=max_length, truncation=strategy)
            except ValueError:  # only_* cannot remove enough: transformers errors too
                with pytest.raises(Exception):
                    hf(a, b, max_length=max_length, truncation=strategy)
                continue
            ref = hf(a, b, max_length=max_length, truncation=strategy, return_token_type_ids=True)
            assert got.input_ids == ref["input_ids"], (a, b, max_length)
            assert got.token_type_ids == ref["token_type_ids"]
            assert len(got) <= max_length
        if strategy == "longest_first":
            for max_length in range(2, total + 2):
                single = ours.encode(b, max_length=max_length)
                assert single.input_ids == hf(b, max_length=max_length, truncation=True)["input_ids"]
    with pytest.raises(ValueError, match="special tokens"):
        ours.encode("a", "b", max_length=2)


def test_encode_words_alignment(pair):
    ours, hf = pair
    words = ["EU", "rejects", "Zoë's", "1,000", "", "  ", "[MASK]", "well-known", "a b", "\u0301", "😀😀", "ＡＢＣ１２３",
             "ﬁne", "x\u00a0y", "서울"]  # fmt: skip
    ids, word_index = ours.encode_words(words)
    assert ids == ours.encode(" ".join(words), add_special_tokens=False).input_ids
    ref = hf(words, is_split_into_words=True, add_special_tokens=False)
    assert ids == ref["input_ids"] and word_index == ref.word_ids()
    assert len(ids) == len(word_index) and word_index == sorted(word_index)
    assert {4, 5, 9}.isdisjoint(word_index)  # nothing to encode in "", "  " or a lone combining accent
    assert word_index.count(3) > 1  # "1,000" is several pieces
    for i, word in enumerate(words):
        assert [t for t, w in zip(ids, word_index) if w == i] == ours.encode(word, add_special_tokens=False).input_ids


def test_encode_words_on_conll(pair):
    ours, hf = pair
    if not DATA.is_dir():
        pytest.skip("shared/data is missing")
    sentences, words = [], []
    for row in (DATA / "conll2003/valid.txt").read_text().splitlines()[:4000] + [""]:
        if row.strip():
            words.append(row.split(" ")[0])
        elif words:
            sentences.append(words)
            words = []
    for words in sentences:
        ids, word_index = ours.encode_words(words)
        ref = hf(words, is_split_into_words=True, add_special_tokens=False)
        assert (ids, word_index) == (ref["input_ids"], ref.word_ids()), words


def test_encode_batch_pads_and_masks(pair):
    ours, _ = pair
    texts = ["short", ("a question?", "a longer context that goes on"), ""]
    batch = ours.encode_batch(texts, max_length=8)
    assert set(batch) == {"input_ids", "token_type_ids", "attention_mask"}
    assert all(a.dtype == np.int64 and a.shape == (3, 8) for a in batch.values())
    for row, text in enumerate(texts):
        enc = ours.encode(*((text,) if isinstance(text, str) else text), max_length=8)
        n = len(enc)
        assert batch["input_ids"][row, :n].tolist() == enc.input_ids
        assert (batch["input_ids"][row, n:] == ours.pad_id).all()
        assert batch["attention_mask"][row].tolist() == [1] * n + [0] * (8 - n)
        assert batch["token_type_ids"][row].tolist() == enc.token_type_ids + [0] * (8 - n)
    assert ours.encode_batch(["a", "b c"], max_length=16)["input_ids"].shape[1] == len(ours.encode("b c"))
    assert ours.encode_batch(["a"], max_length=16, pad_to=32)["input_ids"].shape == (1, 32)
    with pytest.raises(ValueError, match="pad_to"):
        ours.encode_batch(["a long enough sentence here"], max_length=16, pad_to=3)


@pytest.mark.parametrize("keep_accents", [False, True])
def test_save_pretrained_round_trip(small_dir, tmp_path, keep_accents):
    ours = AlbertTokenizer(small_dir / "spiece.model", keep_accents=keep_accents)
    saved = ours.save_pretrained(tmp_path / "saved")
    assert sorted(p.name for p in saved.iterdir()) == ["spiece.model", "tokenizer_config.json"]
    reloaded = AlbertTokenizer.from_pretrained(saved)
    assert (reloaded.keep_accents, reloaded.do_lower_case) == (keep_accents, True)
    hf = transformers.AlbertTokenizer.from_pretrained(str(saved))
    auto = transformers.AutoTokenizer.from_pretrained(str(saved))
    assert type(auto).__name__ == "AlbertTokenizer" and auto.keep_accents == keep_accents
    for text in HARD_STRINGS:
        assert reloaded.encode(text).input_ids == hf(text)["input_ids"] == auto(text)["input_ids"], text
    accents_kept = reloaded.encode("café").input_ids != reloaded.encode("cafe").input_ids
    assert accents_kept == keep_accents


def test_export_vocab_schema(pair, tmp_path):
    ours, _ = pair
    if ours.normalizer != "identity":
        pytest.skip("export_vocab refuses character maps (test_export_vocab_refuses_a_character_map)")
    path = ours.export_vocab(tmp_path / "vocab.json")
    vocab = json.loads(path.read_text(encoding="utf-8"))
    assert list(vocab) == ["format", "normalizer", "special", "unk_score_penalty", "pieces"]
    assert vocab["format"] == "albert_edge.spm_unigram.v1"
    assert vocab["normalizer"] == {"lowercase": True, "strip_accents": True, "collapse_whitespace": True,
                                   "replace_quotes": True, "add_dummy_prefix": True, "nfkd": True}  # fmt: skip
    assert vocab["special"] == {"pad": 0, "unk": 1, "cls": 2, "sep": 3, "mask": 4}
    assert vocab["unk_score_penalty"] == 10.0
    assert len(vocab["pieces"]) == ours.vocab_size
    assert vocab["pieces"][:5] == [["<pad>", 0.0, 3], ["<unk>", 0.0, 2], ["[CLS]", 0.0, 3], ["[SEP]", 0.0, 3],
                                   ["[MASK]", 0.0, 3]]  # fmt: skip
    assert {t for _, _, t in vocab["pieces"][5:]} == {1}
    sp = spm.SentencePieceProcessor(model_proto=ours.model_bytes)
    for i, (piece, score, _) in enumerate(vocab["pieces"]):
        assert piece == sp.id_to_piece(i)
        assert score == sp.get_score(i) == float(np.float32(score))  # float32 values, printed exactly


def test_sentencepiece_agrees_on_plain_text(pair):
    """The trained model behaves as SentencePiece itself segments it (no special-token text, no ties)."""
    ours, _ = pair
    sp = spm.SentencePieceProcessor(model_proto=ours.model_bytes)
    for text in ["the film is a charming , funny ride", "Café society in 1893, said Mr. Holmes."]:
        normalized = " ".join(T._WHITESPACE.split(T.normalize(text)))
        assert sp.encode(normalized) == ours.encode(text, add_special_tokens=False).input_ids


def test_bundled_assets_are_consistent(tmp_path):
    if not (T.BUNDLED_ASSETS / T.MODEL_FILE).is_file():
        pytest.skip("bundled tokenizer not trained yet")
    tok = AlbertTokenizer.from_pretrained(T.BUNDLED_ASSETS)
    assert tok.vocab_size == 16000
    fresh = tok.export_vocab(tmp_path / "vocab.json").read_bytes()
    assert fresh == (T.BUNDLED_ASSETS / T.VOCAB_FILE).read_bytes(), "vocab.json is stale: rerun export-vocab"
    # split_digits: no multi-character piece holds a digit, so ALBERT's "9," re-split rule can never apply.
    assert not [p for p in tok.pieces if len(p) > 1 and any(unicodedata.category(c) == "Nd" for c in p)]
    # Digits and keyboard punctuation are known characters (required_chars), not <unk>.
    text = "It cost $1,000,000 (40%) on 12/03/1999 — “don’t” 0123456789 £5"
    assert tok.unk_id not in tok.encode(text).input_ids
    assert tok.tokenize("1,000,000")[1:] == ["1", ",", "0", "0", "0", ",", "0", "0", "0"]


def test_training_is_reproducible(small_dir, tmp_path):
    corpus = small_dir / "corpus.txt"
    first = train_tokenizer([corpus], tmp_path / "a", vocab_size=300, sample_lines=1500, seed=3, num_threads=1)
    second = train_tokenizer([corpus], tmp_path / "b", vocab_size=300, sample_lines=1500, seed=3, num_threads=1)
    assert first.read_bytes() == second.read_bytes()
    assert (tmp_path / "a" / "vocab.json").is_file()


def test_cased_training_keeps_capitals_and_matches_transformers(small_dir, tmp_path):
    """`--cased` (NER needs capitals): pieces with capitals, do_lower_case false saved, transformers agrees."""
    transformers = pytest.importorskip("transformers")
    corpus = tmp_path / "cased.txt"
    text = (small_dir / "corpus.txt").read_text(encoding="utf-8").splitlines()[:1500]
    corpus.write_text("\n".join(line.title() if i % 2 else line for i, line in enumerate(text)) + "\n")
    train_tokenizer([corpus], tmp_path / "tok", vocab_size=400, sample_lines=1500, seed=0, num_threads=1,
                    cased=True)
    ours = AlbertTokenizer.from_pretrained(tmp_path / "tok")
    assert ours.do_lower_case is False
    assert any(p.lstrip("\u2581")[:1].isupper() for p in ours.pieces)
    assert json.loads((tmp_path / "tok" / "vocab.json").read_text())["normalizer"]["lowercase"] is False
    hf = transformers.AlbertTokenizer.from_pretrained(str(tmp_path / "tok"))
    for line in ["The Quick Brown Fox of London .", text[1].title(), text[2]]:
        assert ours.encode(line).input_ids == hf(line)["input_ids"]
    assert ours.tokenize("London") != ours.tokenize("london")


def test_training_reads_gzip_and_tsv_column(tmp_path):
    import gzip

    gz = tmp_path / "text.txt.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as f:
        f.write("first document line\n\nsecond document, another line\n")
    tsv = tmp_path / "data.tsv"
    tsv.write_text("sentence\tlabel\na good film \t1\na bad film \t0\n")
    assert list(T.read_lines(gz)) == ["first document line", "second document, another line"]
    assert list(T.read_lines(tsv, "sentence")) == ["a good film ", "a bad film "]
    with pytest.raises(TokenizerError, match="--tsv-column"):
        list(T.read_lines(tsv))
    with pytest.raises(DataFileError, match="no column 'text'"):
        list(T.read_lines(tsv, "text"))


def test_bad_inputs_give_clear_errors(tmp_path, small_dir, capsys):
    with pytest.raises(FileNotFoundError, match="SentencePiece model not found"):
        AlbertTokenizer(tmp_path / "missing.model")
    garbage = tmp_path / "garbage.model"
    garbage.write_bytes(b"not a model")
    with pytest.raises(TokenizerError, match="not a SentencePiece model"):
        AlbertTokenizer(garbage)
    with pytest.raises(TokenizerError, match="remove_space"):
        AlbertTokenizer(small_dir / "spiece.model", remove_space=False)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n  \n")
    with pytest.raises(TokenizerError, match="no non-blank lines"):
        train_tokenizer([empty], tmp_path / "out", vocab_size=100)
    with pytest.raises(FileNotFoundError, match="training input not found"):
        train_tokenizer([tmp_path / "nope.txt"], tmp_path / "out", vocab_size=100)
    with pytest.raises(TokenizerError, match="Vocabulary size|vocab"):
        train_tokenizer([small_dir / "corpus.txt"], tmp_path / "out", vocab_size=200_000, sample_lines=200)
    missing_model = str(tmp_path / "missing.model")
    for argv in (["train", "--input", str(tmp_path / "nope.txt"), "--out", str(tmp_path)],
                 ["train", "--input", str(empty), "--out", str(tmp_path / "out")],
                 ["train", "--input", str(small_dir / "corpus.txt"), "--out", str(tmp_path)],  # not empty
                 ["export-vocab", "--model", missing_model, "--out", str(tmp_path / "v.json")]):  # fmt: skip
        with pytest.raises(SystemExit) as exit_info:
            T.main(argv)
        assert str(exit_info.value).startswith("error: ") and "\n" not in str(exit_info.value)
    assert not (tmp_path / "out" / "spiece.model").exists()


def test_nfkc_model_reads_its_normaliser(nfkc_dir, small_dir):
    assert AlbertTokenizer.from_pretrained(nfkc_dir).normalizer == "nmt_nfkc"
    assert AlbertTokenizer.from_pretrained(small_dir).normalizer == "identity"


def test_a_character_map_tokenizer_pickles(nfkc_dir):
    """DataLoader workers under spawn pickle the tokenizer; the map (tokenizers' Precompiled) travels as its bytes."""
    import pickle

    ours = AlbertTokenizer.from_pretrained(nfkc_dir)
    text = "Ｆｕｌｌ-width ﬁ and 한국어"
    want = ours.encode(text).input_ids
    assert pickle.loads(pickle.dumps(ours)).encode(text).input_ids == want
    assert pickle.loads(pickle.dumps(AlbertTokenizer.from_pretrained(nfkc_dir))).encode(text).input_ids == want


@pytest.mark.parametrize("keep_accents", [False, True])
def test_character_map_matches_transformers_per_code_point(nfkc_dir, keep_accents):
    """ALBERT's normalisation then the nmt_nfkc map, against transformers' normaliser (Hangul syllables included)."""
    ours = AlbertTokenizer.from_pretrained(nfkc_dir)
    hf = transformers.AlbertTokenizer.from_pretrained(str(nfkc_dir), keep_accents=keep_accents).backend_tokenizer
    chars = [chr(cp) for lo, hi in CHECKED_BLOCKS for cp in range(lo, hi + 1) if not 0xD800 <= cp < 0xE000]
    differ = [hex(ord(c)) for c in chars if _charsmapped(ours, c, keep_accents) != hf.normalizer.normalize_str(c)]
    assert not differ


def _charsmapped(tok: AlbertTokenizer, text: str, keep_accents: bool) -> str:
    return tok._charsmap(T.normalize(text, strip_accents=not keep_accents))


@pytest.mark.parametrize("keep_accents", [False, True])
def test_character_map_clusters_match_transformers(nfkc_dir, keep_accents):
    """Sequences: transformers maps a short grapheme cluster by its shortest key, longer ones code point by point."""
    ours = AlbertTokenizer.from_pretrained(nfkc_dir)
    hf = transformers.AlbertTokenizer.from_pretrained(str(nfkc_dir), keep_accents=keep_accents).backend_tokenizer
    # The map's keys shorter than 6 UTF-8 bytes (the ones tokenizers looks whole clusters up by), via SentencePiece.
    spec = sentencepiece_model_pb2.ModelProto.FromString(ours.model_bytes).normalizer_spec.SerializeToString()
    pairs = spm.SentencePieceNormalizer(normalizer_spec=spec).decompile()
    keys = [k for k, _ in pairs if len(k.encode("utf-8")) < 6 and any(lo <= ord(k[0]) <= hi for lo, hi in CHECKED_BLOCKS)]
    marks = [chr(cp) for cp in range(0x300, 0x370)] + list("\u093e\u102b\u0e33\u200d\u200c\uff9e\r\n")
    singles = [k for k in keys if len(k) == 1]
    pool = singles + marks * 10 + [chr(cp) for cp in range(0x1100, 0x1200)] + list("aeAE ") * 40 + ["가", "ㄳ"] * 20
    rng = random.Random(0)
    texts = ["".join(rng.choice(pool) for _ in range(rng.randint(1, 10))) for _ in range(3000)]
    # Every multi-code-point key, alone and with one more mark (the shortest key, not the longest, must win).
    texts += [k + extra for k in keys if len(k) > 1 for extra in ("", rng.choice(marks))]
    texts += ["e\u0301", "e\u0301\u0323", "Ａ\u0301", "ﬁ\u0301", "α\u0301\u0308", "\u00ad\u0301", "가ㄳ", "\r\n\u0301"]
    differ = [ascii(t) for t in texts if _charsmapped(ours, t, keep_accents) != hf.normalizer.normalize_str(t)]
    assert not differ, f"{len(differ)}/{len(texts)} differ, e.g. {differ[:5]}"


def test_character_map_follows_transformers_where_sentencepiece_differs(nfkc_dir):
    """The reference is transformers, not SentencePiece's own encoder (which recomposes NFKD'd Hangul into syllables
    and matches the longest key, not the shortest)."""
    ours = AlbertTokenizer.from_pretrained(nfkc_dir)
    hf = transformers.AlbertTokenizer.from_pretrained(str(nfkc_dir))
    sp = spm.SentencePieceProcessor(model_proto=ours.model_bytes)
    korean = "한국어 텍스트는 서울에서 왔다"
    assert ours.encode(korean).input_ids == hf(korean)["input_ids"]
    assert ours.unk_id in hf(korean)["input_ids"]  # the jamo transformers keeps are not pieces
    assert ours.unk_id not in sp.encode(T.normalize(korean))  # the syllables SentencePiece rebuilds are
    kept = transformers.AlbertTokenizer.from_pretrained(str(nfkc_dir), keep_accents=True).backend_tokenizer.normalizer
    plain = spm.SentencePieceNormalizer(model_proto=ours.model_bytes, add_dummy_prefix=False,
                                        remove_extra_whitespaces=False, escape_whitespaces=False)  # fmt: skip
    accented = "ａ\u0301"  # full-width a + combining acute: "a" in transformers, "á" in SentencePiece
    assert _charsmapped(ours, accented, keep_accents=True) == kept.normalize_str(accented) == "a"
    assert plain.normalize(accented) == "á"


def test_export_vocab_refuses_a_character_map(nfkc_dir, tmp_path):
    ours = AlbertTokenizer.from_pretrained(nfkc_dir)
    with pytest.raises(TokenizerError, match="'nmt_nfkc' normaliser") as info:
        ours.export_vocab(tmp_path / "vocab.json")
    message = str(info.value)
    assert "\n" not in message and "python -m albert_edge.tokenizer train" in message
    with pytest.raises(SystemExit) as exit_info:
        T.main(["export-vocab", "--model", str(nfkc_dir / "spiece.model"), "--out", str(tmp_path / "cli.json")])
    assert str(exit_info.value) == f"error: {message}"
    assert not list(tmp_path.iterdir())


def test_export_vocab_cli(small_dir, tmp_path, capsys):
    out = tmp_path / "vocab.json"
    T.main(["export-vocab", "--model", str(small_dir / "spiece.model"), "--out", str(out), "--keep-accents"])
    vocab = json.loads(out.read_text(encoding="utf-8"))
    assert vocab["normalizer"]["strip_accents"] is False and vocab["normalizer"]["nfkd"] is False
    assert "wrote" in capsys.readouterr().out
