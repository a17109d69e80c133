"""albert_edge.ner: CoNLL reading, first-piece alignment, conlleval's entity metrics, windowed tagging, predict."""

import numpy as np
import pytest
import torch

from albert_edge import AlbertConfig, model_for_task, ner
from albert_edge.data import collate
from albert_edge.ner import IGNORE_INDEX, NerDataError
from albert_edge.tokenizer import BUNDLED_ASSETS, AlbertTokenizer

LABELS = list(ner.CONLL2003_LABELS)
LABEL2ID = {label: i for i, label in enumerate(LABELS)}
ID2LABEL = dict(enumerate(LABELS))


@pytest.fixture(scope="module")
def tok():
    return AlbertTokenizer.from_pretrained(BUNDLED_ASSETS)


def piece_rule_run_fn(rules: dict[int, str]):
    """Logits that tag a piece by its id (`rules`, else O): decoding under test, the model taken out of it."""

    def run(input_ids, attention_mask, token_type_ids):
        logits = np.zeros((*input_ids.shape, len(LABELS)), dtype=np.float32)
        logits[..., LABEL2ID["O"]] = 1.0
        for piece, tag in rules.items():
            logits[input_ids == piece, LABEL2ID[tag]] = 5.0
        return logits

    return run


# -- alignment -------------------------------------------------------------------------------------------------------
def test_a_word_split_into_pieces_is_labelled_on_its_first_piece_only(tok):
    words, tags = ["Peter", "Blackburn", "visited"], ["B-PER", "I-PER", "O"]
    assert tok.tokenize("Blackburn") == ["▁black", "burn"]  # the premise: one word, two pieces
    feature = ner.encode_for_training(tok, words, tags, LABEL2ID, max_seq_len=32)
    assert feature["input_ids"] == [tok.cls_id, 1050, 353, 6450, 4464, tok.sep_id]
    assert feature["labels"] == [IGNORE_INDEX, LABEL2ID["B-PER"], LABEL2ID["I-PER"], IGNORE_INDEX, LABEL2ID["O"],
                                 IGNORE_INDEX]
    assert len(feature["attention_mask"]) == len(feature["token_type_ids"]) == 6


def test_truncation_keeps_labels_on_their_words(tok):
    words, tags = ["Peter", "Blackburn", "visited"], ["B-PER", "I-PER", "O"]
    # The cut falls inside "Blackburn": its first piece survives, so the entity's last word keeps its label.
    cut = ner.encode_for_training(tok, words, tags, LABEL2ID, max_seq_len=4)
    assert cut["input_ids"] == [tok.cls_id, 1050, 353, tok.sep_id]
    assert cut["labels"] == [IGNORE_INDEX, LABEL2ID["B-PER"], LABEL2ID["I-PER"], IGNORE_INDEX]
    # One piece fewer: "Blackburn" has no piece left and no label, nothing else shifts.
    cut = ner.encode_for_training(tok, words, tags, LABEL2ID, max_seq_len=3)
    assert cut["input_ids"] == [tok.cls_id, 1050, tok.sep_id]
    assert cut["labels"] == [IGNORE_INDEX, LABEL2ID["B-PER"], IGNORE_INDEX]


def test_training_features_split_long_sentences_into_windows_that_keep_every_label(tok):
    words, tags = ["Peter", "Blackburn", "visited"] * 3, ["B-PER", "I-PER", "O"] * 3
    features = ner.training_features(tok, [words], [tags], LABEL2ID, max_seq_len=5)
    assert all(len(f["input_ids"]) <= 5 for f in features)
    labelled = [LABELS[label] for f in features for label in f["labels"] if label != IGNORE_INDEX]
    assert labelled == tags  # every word once, in order, none lost to truncation


def test_encode_for_training_rejects_unknown_tags_and_mismatched_lengths(tok):
    with pytest.raises(ValueError, match="B-FOOD"):
        ner.encode_for_training(tok, ["pizza"], ["B-FOOD"], LABEL2ID, 16)
    with pytest.raises(ValueError, match="2 words but 1 tags"):
        ner.encode_for_training(tok, ["a", "b"], ["O"], LABEL2ID, 16)


def test_word_windows_never_split_a_word_and_cover_every_first_piece():
    word_index = [0, 0, 1, 1, 1, 2]
    assert ner.word_windows(word_index, 4) == [(0, 2), (2, 6)]
    assert ner.word_windows(word_index, 6) == [(0, 6)]
    # Word 1 alone is longer than the budget: it is cut after 2 pieces and its third piece is skipped.
    assert ner.word_windows(word_index, 2) == [(0, 2), (2, 4), (5, 6)]


def test_long_sentences_are_tagged_in_windows_with_entities_across_the_edge(tok):
    words = ["Peter", "Blackburn", "visited"] * 4
    run = piece_rule_run_fn({1050: "B-PER", 353: "I-PER", 6450: "B-LOC"})  # "burn" is tagged but is not a first piece
    tagged = ner.tag_words(run, tok, [words], ID2LABEL, max_seq_len=5, batch_size=3)[0]
    assert [tag for tag, _ in tagged] == ["B-PER", "I-PER", "O"] * 4
    # 3 pieces a window: windows "Peter Blackburn" | "visited Peter" | "Blackburn visited" | ..., so every other
    # entity is split across two windows and must still come back whole.
    assert ner.entities([tag for tag, _ in tagged]) == [("PER", 0, 2), ("PER", 3, 5), ("PER", 6, 8), ("PER", 9, 11)]


# -- IOB2 and metrics ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tags, spans", [
    (["B-PER", "I-PER", "O", "B-LOC"], [("PER", 0, 2), ("LOC", 3, 4)]),
    (["B-PER", "B-PER", "I-PER"], [("PER", 0, 1), ("PER", 1, 3)]),
    (["O", "I-MISC", "I-MISC"], [("MISC", 1, 3)]),  # conlleval: a stray I- starts an entity
    (["B-PER", "I-LOC", "I-LOC"], [("PER", 0, 1), ("LOC", 1, 3)]),  # a type change starts a new one
    (["O", "O"], []),
    ([], []),
])
def test_entities_follow_conlleval(tags, spans):
    assert ner.entities(tags) == spans


def test_entity_scores_hand_worked_type_mismatch_and_partial_span():
    gold = [["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG", "I-ORG"]]
    # PER exact (correct); the LOC predicted as ORG (type mismatch); ORG one word short (partial span).
    pred = [["B-PER", "I-PER", "O", "B-ORG", "O", "B-ORG", "O"]]
    s = ner.entity_scores(gold, pred)
    assert s["precision"] == pytest.approx(100 / 3) and s["recall"] == pytest.approx(100 / 3)
    assert s["f1"] == pytest.approx(100 / 3)
    assert s["per_type"]["PER"] == {"precision": 100.0, "recall": 100.0, "f1": 100.0, "support": 1}
    assert s["per_type"]["LOC"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert s["per_type"]["ORG"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}


def test_entity_scores_extra_entity_costs_precision_only():
    gold = [["B-PER", "O"], ["B-LOC", "I-LOC"]]
    pred = [["B-PER", "B-MISC"], ["B-LOC", "I-LOC"]]
    s = ner.entity_scores(gold, pred)
    assert (s["precision"], s["recall"]) == (pytest.approx(200 / 3), 100.0)
    assert s["f1"] == pytest.approx(80.0)  # 2PR/(P+R) = 2 * 2/3 / (5/3)
    assert s["per_type"]["MISC"]["support"] == 0


def test_entity_scores_rejects_misaligned_input():
    with pytest.raises(ValueError, match="sentence 0"):
        ner.entity_scores([["O", "O"]], [["O"]])


# -- inference -------------------------------------------------------------------------------------------------------
def test_predict_gives_character_offsets_into_the_raw_text(tok):
    run = piece_rule_run_fn({1050: "B-PER", 353: "I-PER", 1821: "B-LOC"})
    text = "  Peter\tBlackburn  visited Paris."
    found = ner.predict(run, tok, text, ID2LABEL)
    assert [(e["entity"], e["text"], e["start"], e["end"]) for e in found] == [
        ("PER", "Peter\tBlackburn", 2, 17), ("LOC", "Paris", 27, 32)]  # the final "." is CoNLL's own token
    assert all(text[e["start"]:e["end"]] == e["text"] and 0.5 < e["score"] <= 1 for e in found)
    assert ner.predict(run, tok, " \n ", ID2LABEL) == []


@pytest.mark.parametrize("text, words", [
    ("in Helsinki, said Pekka Lundmark.", ["in", "Helsinki", ",", "said", "Pekka", "Lundmark", "."]),
    ("(Reuters) U.S. troops left Germany's base", ["(", "Reuters", ")", "U.S.", "troops", "left", "Germany", "'s",
                                                  "base"]),
    ('"Hello," he said.', ['"', "Hello", ",", '"', "he", "said", "."]),
    ("Paris.", ["Paris", "."]), (".", ["."]), ("...", ["..."]), ("", []),
])
def test_conll_words_split_punctuation_as_conll_does(text, words):
    found = ner.conll_words(text)
    assert [w for w, _, _ in found] == words
    assert all(text[a:b] == w for w, a, b in found)


def test_evaluate_a_real_model_independent_of_batching(tok):
    torch.manual_seed(0)
    config = AlbertConfig(vocab_size=tok.vocab_size, embedding_size=16, hidden_size=32, num_hidden_layers=2,
                          num_attention_heads=2, intermediate_size=37, max_position_embeddings=64,
                          id2label=ID2LABEL)
    model = model_for_task(config, "token-classification").eval()

    def run(ids, mask, types):
        with torch.no_grad():
            return model(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types)).numpy()

    sentences = [["EU", "rejects", "German", "call"], ["Peter", "Blackburn"], ["BRUSSELS", "1996-08-22"] * 5]
    tags = [["B-ORG", "O", "B-MISC", "O"], ["B-PER", "I-PER"], ["B-LOC", "O"] * 5]
    one = ner.evaluate(run, tok, sentences, tags, ID2LABEL, max_seq_len=16, batch_size=1)
    many = ner.evaluate(run, tok, sentences, tags, ID2LABEL, max_seq_len=16, batch_size=3)
    assert one == many and one["sentences"] == 3
    assert 0.0 <= one["f1"] <= 100.0


# -- data ------------------------------------------------------------------------------------------------------------
def test_read_conll_real_files(data_dir):
    sentences, tags = ner.read_conll(data_dir / "conll2003" / "train.txt")
    assert len(sentences) == 14041 and sum(map(len, sentences)) == 203621  # the official eng.train counts
    assert sum(t == "B-PER" for sentence in tags for t in sentence) == 6600
    assert sentences[0] == ["EU", "rejects", "German", "call", "to", "boycott", "British", "lamb", "."]
    assert ner.labels_of(tags) == LABELS
    sentences, tags = ner.read_conll(data_dir / "conll2003" / "valid.txt")
    assert len(sentences) == 3250 and sum(map(len, sentences)) == 51362
    assert ner.entity_scores(tags, tags)["f1"] == 100.0


def test_read_conll_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        ner.read_conll(tmp_path / "missing.txt")
    bad = tmp_path / "bad.txt"
    bad.write_text("EU NNP B-NP B-ORG\nrejects\n")
    with pytest.raises(NerDataError, match=r"bad.txt:2: .*'rejects'"):
        ner.read_conll(bad)
    bad.write_text("EU NNP B-NP ORG\n")  # not IOB2
    with pytest.raises(NerDataError, match="bad.txt:1"):
        ner.read_conll(bad)
    bad.write_text("\n\n")
    with pytest.raises(NerDataError, match="no sentences"):
        ner.read_conll(bad)
    ok = tmp_path / "ok.txt"
    ok.write_text("-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\n\n\nPeter NNP B-NP B-PER\nSmith NNP I-NP I-PER")
    assert ner.read_conll(ok) == ([["EU"], ["Peter", "Smith"]], [["B-ORG"], ["B-PER", "I-PER"]])


def test_labels_of_other_tag_sets():
    assert ner.labels_of([["B-FOOD", "O", "I-FOOD", "B-DRINK"]]) == ["O", "B-DRINK", "I-DRINK", "B-FOOD", "I-FOOD"]


def test_finetune_task_reads_trains_and_scores_conll(tok, tmp_path):
    train = tmp_path / "train.txt"
    train.write_text("EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\nPeter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n")
    dev = tmp_path / "dev.txt"
    dev.write_text("Peter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n\nEU NNP B-NP B-FOOD\n")
    task = ner.TokenClassificationTask()
    features = task.read(train, tok, 16)
    assert task.labels == LABELS and len(features) == 2
    with pytest.raises(NerDataError, match="B-FOOD"):  # labels come from the training file
        task.read(dev, tok, 16)
    config = AlbertConfig(vocab_size=tok.vocab_size, embedding_size=16, hidden_size=32, num_hidden_layers=1,
                          num_attention_heads=2, intermediate_size=37)
    task.configure(config)
    assert config.id2label == ID2LABEL
    model = model_for_task(config, "token-classification").eval()
    batch = collate(features, tok.pad_id)
    with torch.no_grad():
        logits = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
    assert float(task.loss(logits, batch)) > 0
    scores = task.evaluate(model, [batch])
    assert set(scores) == {"f1", "precision", "recall", "loss"} and 0 <= scores["f1"] <= 100
