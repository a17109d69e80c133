"""albert_edge.data: document streaming, ALBERT's instance creation (SOP/NSP) and n-gram masking statistics."""

import gzip
import random
from collections import Counter

import numpy as np
import pytest

from albert_edge.data import (
    IGNORE_INDEX, DataError, NgramMasker, PretrainingStream, check_text_files, collate,
    create_instances_from_document, read_documents, word_start_table,
)
from albert_edge.tokenizer import BUNDLED_ASSETS, AlbertTokenizer

CLS, SEP, MASK = 2, 3, 4
SPECIAL = (0, 1, CLS, SEP, MASK)


@pytest.fixture(scope="module")
def tokenizer():
    return AlbertTokenizer.from_pretrained(BUNDLED_ASSETS)


def synthetic_masker(vocab: int = 1000, word_start_every: int = 1, **kwargs) -> NgramMasker:
    # ids >= 5 are ordinary; with word_start_every=2 every other id continues the previous word.
    starts = np.array([i < 5 or i % word_start_every == 0 for i in range(vocab)])
    return NgramMasker(starts, SPECIAL, MASK, **kwargs)


def test_read_documents_splits_on_blank_lines_and_reads_gzip(tmp_path):
    text = "a b\nc d\n\n\nsecond doc\n\nthird\nend\n"
    plain, packed = tmp_path / "t.txt", tmp_path / "t.txt.gz"
    plain.write_text(text)
    packed.write_bytes(gzip.compress(text.encode()))
    expected = [["a b", "c d"], ["second doc"], ["third", "end"]]
    assert list(read_documents([plain])) == expected
    assert list(read_documents([packed, plain])) == expected + expected


def test_check_text_files_rejects_missing_and_empty(tmp_path):
    with pytest.raises(DataError, match="not found"):
        check_text_files([tmp_path / "nope.txt"])
    (tmp_path / "empty.txt").write_text("\n\n  \n")
    with pytest.raises(DataError, match="empty"):
        check_text_files([tmp_path / "empty.txt"])


def test_masking_rate_and_80_10_10():
    masker = synthetic_masker()
    rng = np.random.default_rng(0)
    masked = chosen = as_mask = kept = replaced = 0
    total = 0
    for _ in range(600):
        ids = [CLS, *rng.integers(5, 1000, 62).tolist(), SEP, *rng.integers(5, 1000, 63).tolist(), SEP]
        out, labels = masker(ids, rng)
        total += len(ids)
        for token, new, label in zip(ids, out, labels):
            if label == IGNORE_INDEX:
                assert new == token
                continue
            assert label == token and token not in SPECIAL
            chosen += 1
            as_mask += new == MASK
            kept += new == token
            replaced += new not in (MASK, token)
            assert new not in (0, 1, CLS, SEP)  # random replacements are never special tokens
        masked += sum(label != IGNORE_INDEX for label in labels)
    # 15% of 128 rounds to 19, under ALBERT's cap of 20 predictions.
    assert masked / total == pytest.approx(19 / 128, abs=0.004)
    assert as_mask / chosen == pytest.approx(0.8, abs=0.02)
    assert kept / chosen == pytest.approx(0.1, abs=0.015)
    assert replaced / chosen == pytest.approx(0.1, abs=0.015)


def test_never_masks_special_tokens_even_when_short():
    masker = synthetic_masker()
    rng = np.random.default_rng(1)
    for _ in range(200):
        ids = [CLS, 7, SEP, 9, SEP]
        out, labels = masker(ids, rng)
        assert [labels[i] for i in (0, 2, 4)] == [IGNORE_INDEX] * 3
        assert sum(label != IGNORE_INDEX for label in labels) == 1  # max(1, round(5 * 0.15))
        assert out[0] == CLS and out[2] == SEP and out[4] == SEP


def test_ngram_span_lengths_follow_one_over_n():
    # Sparse masking (20 of 1000 words) so separate spans rarely touch; each maximal run is one n-gram.
    masker = synthetic_masker(masked_lm_prob=0.02, max_predictions=20)
    rng = np.random.default_rng(2)
    runs = Counter()
    for _ in range(400):
        ids = [CLS, *rng.integers(5, 1000, 998).tolist(), SEP]
        _, labels = masker(ids, rng)
        run = 0
        for label in [*labels, IGNORE_INDEX]:
            if label != IGNORE_INDEX:
                run += 1
            elif run:
                runs[run] += 1
                run = 0
    n = sum(runs.values())
    # p(n) = (1/n) / (1 + 1/2 + 1/3): 6/11, 3/11, 2/11; merged neighbours make a few runs longer than 3.
    assert runs[1] / n == pytest.approx(6 / 11, abs=0.04)
    assert runs[2] / n == pytest.approx(3 / 11, abs=0.04)
    assert runs[3] / n == pytest.approx(2 / 11, abs=0.04)
    assert sum(v for k, v in runs.items() if k > 3) / n < 0.05


def test_whole_words_are_masked_together():
    masker = synthetic_masker(word_start_every=2)  # even id starts a word, odd id continues it
    rng = np.random.default_rng(3)
    for _ in range(300):
        body = [t for _ in range(30) for t in (2 * rng.integers(3, 400), 2 * rng.integers(3, 400) + 1)]
        ids = [CLS, *map(int, body), SEP]
        _, labels = masker(ids, rng)
        for start in range(1, len(ids) - 1, 2):
            assert (labels[start] == IGNORE_INDEX) == (labels[start + 1] == IGNORE_INDEX)


def test_word_start_table_follows_albert():
    table = word_start_table(["<pad>", "\u2581the", "ing", ",", "é", "[CLS]"])
    assert table.tolist() == [True, True, False, True, True, False]


def _document(doc: int, lines: int, length: int = 5) -> list[list[int]]:
    # Token = 1000 * (doc + 1) + 10 * line + position: any token says which document and line it came from.
    return [[1000 * (doc + 1) + 10 * line + k for k in range(length)] for line in range(lines)]


def _segments(instance):
    ids, types = instance.input_ids, instance.token_type_ids
    first_sep = ids.index(SEP)
    assert ids[0] == CLS and ids[-1] == SEP
    assert types == [0] * (first_sep + 1) + [1] * (len(ids) - first_sep - 1)
    return ids[1:first_sep], ids[first_sep + 1:-1]


def test_sop_swaps_half_the_pairs_and_stays_in_the_document():
    rng = random.Random(0)
    labels = Counter()
    for doc in range(200):
        for inst in create_instances_from_document(_document(doc, 12), 32, rng, cls_id=CLS, sep_id=SEP):
            a, b = _segments(inst)
            assert len(inst.input_ids) <= 32 and a and b
            assert {t // 1000 for t in a + b} == {doc + 1}  # never crosses the document boundary
            lines_a, lines_b = {t % 1000 // 10 for t in a}, {t % 1000 // 10 for t in b}
            if inst.sentence_label == 0:
                assert max(lines_a) <= min(lines_b)  # in order (equal only when one line was split)
            else:
                assert max(lines_b) <= min(lines_a)  # swapped
            labels[inst.sentence_label] += 1
    assert labels[1] / sum(labels.values()) == pytest.approx(0.5, abs=0.05)


def test_nsp_takes_b_from_another_document():
    rng = random.Random(1)
    docs = [_document(d, 12) for d in range(5)]
    labels = Counter()
    for d, doc in enumerate(docs):
        for _ in range(40):
            for inst in create_instances_from_document(doc, 32, rng, cls_id=CLS, sep_id=SEP, objective="nsp",
                                                       other_documents=docs[:d] + docs[d + 1:]):
                a, b = _segments(inst)
                assert {t // 1000 for t in a} == {d + 1}
                b_docs = {t // 1000 for t in b}
                if inst.sentence_label == 1:
                    assert len(b_docs) == 1 and b_docs != {d + 1}
                else:
                    assert b_docs == {d + 1}
                labels[inst.sentence_label] += 1
    # A coin flip per pair, plus ALBERT's forced random B for one-line chunks (a few more 1s than half).
    assert 0.45 < labels[1] / sum(labels.values()) < 0.65


def test_nsp_needs_two_documents():
    with pytest.raises(DataError, match="2 documents"):
        for _ in range(20):
            create_instances_from_document(_document(0, 6), 32, random.Random(0), cls_id=CLS, sep_id=SEP,
                                           objective="nsp")


def _corpus(tmp_path, docs: int = 6):
    words = "the cat sat on a mat while old dogs ran far away and birds sang in green trees".split()
    rng = random.Random(0)
    lines = []
    for _ in range(docs):
        lines += [" ".join(rng.choices(words, k=rng.randint(4, 12))) for _ in range(15)] + [""]
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(lines))
    return path


def test_stream_resumes_exactly_and_shards_by_document(tokenizer, tmp_path):
    path = _corpus(tmp_path)
    stream = PretrainingStream([path], tokenizer, 32, seed=3, shuffle_buffer=16)
    first = [e for _, e in zip(range(60), stream)]  # more than one epoch of this small corpus
    assert [e for _, e in zip(range(20), stream.iterate(start=40))] == first[40:60]
    assert any(e["sentence_label"] == 1 for e in first) and any(e["sentence_label"] == 0 for e in first)

    def texts(rank):
        s = PretrainingStream([path], tokenizer, 32, seed=3, rank=rank, world_size=2, epochs=1, masked_lm_prob=0)
        return {tuple(e["input_ids"]) for e in s}

    assert texts(0) and texts(1) and not texts(0) & texts(1)
    with pytest.raises(DataError, match="too few"):
        list(PretrainingStream([path], tokenizer, 32, rank=7, world_size=8, epochs=1))


def test_collate_pads_dynamically():
    batch = collate([
        {"input_ids": [2, 9, 3], "token_type_ids": [0, 0, 0], "labels": [-100, 9, -100], "sentence_label": 1},
        {"input_ids": [2, 8, 7, 3, 6, 3], "token_type_ids": [0, 0, 0, 0, 1, 1], "labels": [-100] * 6,
         "sentence_label": 0},
    ])
    assert batch["input_ids"].shape == (2, 6)
    assert batch["input_ids"][0].tolist() == [2, 9, 3, 0, 0, 0]
    assert batch["attention_mask"][0].tolist() == [1, 1, 1, 0, 0, 0]
    assert batch["labels"][0].tolist() == [-100, 9, -100, -100, -100, -100]
    assert batch["token_type_ids"][1].tolist() == [0, 0, 0, 0, 1, 1]
    assert batch["sentence_label"].tolist() == [1, 0]
