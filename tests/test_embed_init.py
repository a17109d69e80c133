"""albert_edge.embed_init: co-occurrence counts, PPMI-SVD embeddings and the initial checkpoint they go into."""

import json
from collections import Counter

import numpy as np
import pytest
import torch

from albert_edge import hub
from albert_edge.embed_init import Cooccurrences, count_cooccurrences, init_checkpoint, main, ppmi_svd
from albert_edge.model import AlbertForPreTraining
from albert_edge.training import load_config
from albert_edge.tokenizer import BUNDLED_ASSETS, AlbertTokenizer

TINY = {"vocab_size": 99, "embedding_size": 16, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
        "intermediate_size": 64, "max_position_embeddings": 64, "initializer_range": 0.05}


@pytest.fixture(scope="module")
def tokenizer():
    return AlbertTokenizer.from_pretrained(BUNDLED_ASSETS)


@pytest.fixture()
def corpus(tmp_path):
    # Two topics that never share a line: their words should end up in two directions of the embedding space.
    sea = "the boat rocked on the grey water while gulls cried over the harbour".split()
    war = "soldiers marched through mud and rifles fired across the trenches".split()
    rng = np.random.default_rng(0)
    lines = []
    for doc in range(6):
        words = sea if doc % 2 else war
        lines += [" ".join(rng.choice(words, size=10)) for _ in range(30)] + [""]
    path = tmp_path / "train.txt"
    path.write_text("\n".join(lines))
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY))
    return path, config


def test_counts_match_a_brute_force_count(tmp_path, tokenizer):
    path = tmp_path / "t.txt"
    path.write_text("red green blue red\nblue green\n\nred yellow\n")
    counts = count_cooccurrences([path], tokenizer, window=2, progress=False)
    documents = [tokenizer.encode("red green blue red", add_special_tokens=False).input_ids
                 + tokenizer.encode("blue green", add_special_tokens=False).input_ids,
                 tokenizer.encode("red yellow", add_special_tokens=False).input_ids]
    expected = Counter()
    for ids in documents:  # lines of a document run on; documents do not
        for i, a in enumerate(ids):
            for d in (1, 2):
                if i + d < len(ids):
                    expected[a, ids[i + d]] += 1 / d
                    expected[ids[i + d], a] += 1 / d
    got = {(int(k) // counts.vocab, int(k) % counts.vocab): w for k, w in zip(counts.keys, counts.weights)}
    assert got.keys() == expected.keys()
    assert all(got[k] == pytest.approx(expected[k]) for k in expected)
    assert counts.pieces == sum(map(len, documents))


def test_special_pieces_are_never_counted(tmp_path, tokenizer):
    path = tmp_path / "t.txt"
    path.write_text("calm [MASK] sea [SEP] <unk> today\n")
    counts = count_cooccurrences([path], tokenizer, window=3, progress=False)
    special = {tokenizer.mask_id, tokenizer.sep_id, tokenizer.unk_id, tokenizer.cls_id, tokenizer.pad_id}
    ids = set(tokenizer.encode("calm [MASK] sea [SEP] <unk> today", add_special_tokens=False).input_ids)
    assert ids & special  # the text really holds special pieces...
    seen = set((counts.keys // counts.vocab).tolist()) | set((counts.keys % counts.vocab).tolist())
    assert seen and not seen & special  # ...and none of them got a count


def test_ppmi_svd_separates_pieces_that_never_co_occur():
    vocab, group = 40, range(10)
    rows, cols = [], []
    for offset in (0, 10):  # pieces 0-9 co-occur among themselves, 10-19 likewise; 20-39 never appear
        for i in group:
            for j in group:
                rows.append(offset + i)
                cols.append(offset + j)
    keys = np.array(rows) * vocab + np.array(cols)
    order = np.argsort(keys)
    counts = Cooccurrences(vocab, keys[order], np.full(len(keys), 3.0), pieces=100)
    vectors = torch.from_numpy(ppmi_svd(counts, dim=4))
    unit = vectors[:20] / vectors[:20].norm(dim=1, keepdim=True)
    cosine = unit @ unit.T
    assert cosine[:10, :10].min() > 0.9 and cosine[10:, 10:].min() > 0.9
    assert cosine[:10, 10:].abs().max() < 0.1
    assert torch.all(vectors[20:] == 0)  # no evidence, no direction


def test_checkpoint_has_corpus_embeddings_and_a_standard_initialisation(corpus, tmp_path, tokenizer):
    path, config = corpus
    out = init_checkpoint([path], BUNDLED_ASSETS, tmp_path / "init", config=config, progress=False)
    model = hub.from_pretrained(out, task="pretraining")
    vectors = model.albert.embeddings.word_embeddings.weight.detach()
    used = set(tokenizer.encode(path.read_text().replace("\n", " "), add_special_tokens=False).input_ids)
    seen = torch.zeros(len(vectors), dtype=torch.bool)
    seen[sorted(used)] = True
    assert vectors[seen].std().item() == pytest.approx(TINY["initializer_range"], rel=1e-4)
    unit = vectors / vectors.norm(dim=1, keepdim=True).clamp_min(1e-12)
    sea, war = ("boat", "water", "harbour"), ("soldiers", "mud", "fired")  # one piece each, one topic each
    ids = {w: tokenizer.convert_tokens_to_ids("▁" + w) for w in sea + war}
    same = min(unit[ids[a]] @ unit[ids[b]] for group in (sea, war) for a in group for b in group)
    across = max(unit[ids[a]] @ unit[ids[b]] for a in sea for b in war)
    assert same > across + 0.3
    # Everything else, including the rows of pieces the corpus never shows, is the usual seed-0 initialisation.
    torch.manual_seed(0)
    fresh = AlbertForPreTraining(load_config(config, tokenizer)).state_dict()
    for key, value in model.state_dict().items():
        if "word_embeddings" in key or "decoder.weight" in key:
            assert torch.equal(value[~seen], fresh[key][~seen]) and not torch.equal(value[seen], fresh[key][seen])
        else:
            assert torch.equal(value, fresh[key]), key
    info = json.loads((out / "embed_init.json").read_text())
    assert info["vocab_pieces_seen"] == len(used) and info["embedding_size"] == TINY["embedding_size"]
    assert (out / "spiece.model").is_file() and not list(tmp_path.glob(".init.partial-*"))


@pytest.mark.parametrize("change, message", [
    ({"train": "missing.txt"}, "text file not found"),
    ({"train": "empty.txt"}, "is empty"),
    ({"window": "0"}, "window must be at least 1"),
    ({"config": "albert-nano"}, "unknown preset 'albert-nano'"),
])
def test_bad_inputs_fail_with_one_line_and_write_nothing(corpus, tmp_path, change, message):
    path, config = corpus
    (tmp_path / "empty.txt").write_text("\n\n")
    args = {"train": str(path), "config": str(config), "window": "5"}
    args.update({k: str(tmp_path / v) if k == "train" else v for k, v in change.items()})
    with pytest.raises(SystemExit) as exit_info:
        main(["--train", args["train"], "--tokenizer", str(BUNDLED_ASSETS), "--config", args["config"],
              "--window", args["window"], "--out", str(tmp_path / "out")])
    text = str(exit_info.value.code)
    assert text.startswith("error: ") and message in text and "\n" not in text
    assert not (tmp_path / "out").exists()


def test_an_existing_output_is_kept_without_force(corpus, tmp_path):
    path, config = corpus
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    argv = ["--train", str(path), "--tokenizer", str(BUNDLED_ASSETS), "--config", str(config), "--out", str(out)]
    with pytest.raises(SystemExit, match="error: --out .* exists and is not empty; pass --force"):
        main(argv)
    assert (out / "mine.txt").read_text() == "keep"
    with pytest.raises(SystemExit, match="error: --threads must be at least 1"):
        main([*argv, "--threads", "0"])
    main([*argv, "--force"])
    assert (out / "embed_init.json").is_file() and not (out / "mine.txt").exists()
