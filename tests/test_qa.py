"""albert_edge.qa: SQuAD reading, windows and targets, n-best decoding across windows, official EM/F1, predict."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from albert_edge import AlbertConfig, model_for_task, qa
from albert_edge.data import collate
from albert_edge.qa import QaDataError, SquadExample
from albert_edge.tokenizer import BUNDLED_ASSETS, AlbertTokenizer

LETTERS = "a b c d e f g h i j"  # one piece per word with the bundled tokenizer: "▁a", "▁b", ...


@pytest.fixture(scope="module")
def tok():
    return AlbertTokenizer.from_pretrained(BUNDLED_ASSETS)


def windows_over_letters(tok, room=4, stride=2, answer=None):
    """Windows of `room` context pieces over LETTERS for a one-piece question ("where")."""
    pieces = qa.context_pieces(tok, LETTERS)
    assert len(pieces.ids) == 10 and len(tok.encode("where", add_special_tokens=False).input_ids) == 1
    return pieces, qa.question_windows(tok, "where", pieces, max_seq_len=room + 4, doc_stride=stride,
                                       answer=answer)


def logits_for(windows, start_at: dict[int, float], end_at: dict[int, float]):
    """Start / end logits per window that score context piece p (an index into the context) as given, else 0."""
    starts, ends = [], []
    for w in windows:
        s, e = np.zeros(len(w.input_ids)), np.zeros(len(w.input_ids))
        for p in range(w.start, w.start + w.length):
            s[w.offset + p - w.start] = start_at.get(p, 0.0)
            e[w.offset + p - w.start] = end_at.get(p, 0.0)
        starts.append(s)
        ends.append(e)
    return starts, ends


# -- windows and targets ---------------------------------------------------------------------------------------------
def test_window_starts_are_doc_stride_apart_and_cover_the_context():
    assert qa.window_starts(10, 4, 2) == [(0, 4), (2, 4), (4, 4), (6, 4)]
    assert qa.window_starts(10, 4, 8) == [(0, 4), (4, 4), (8, 2)]  # a stride past the room still covers every piece
    assert qa.window_starts(3, 4, 2) == [(0, 3)]
    with pytest.raises(ValueError, match="no room"):
        qa.window_starts(3, 0, 2)


def test_question_and_context_token_types(tok):
    _, windows = windows_over_letters(tok)
    w = windows[0]
    assert w.input_ids[:3] == [tok.cls_id, 165, tok.sep_id] and w.input_ids[-1] == tok.sep_id
    assert w.token_type_ids == [0, 0, 0, 1, 1, 1, 1, 1] and w.offset == 3


def test_answer_crossing_a_stride_window_targets_only_windows_that_hold_it(tok):
    # "d e f" is pieces 3..5: window 0 (pieces 0-3) and window 2 (4-7) cut it, window 1 (2-5) holds it.
    answer = (LETTERS.index("d"), LETTERS.index("f") + 1)
    _, windows = windows_over_letters(tok, answer=answer)
    assert [(w.start, w.length) for w in windows] == [(0, 4), (2, 4), (4, 4), (6, 4)]
    assert [(w.start_position, w.end_position) for w in windows] == [(0, 0), (3 + 1, 3 + 3), (0, 0), (0, 0)]


def test_decoding_picks_the_answer_across_windows_with_max_context(tok):
    pieces, windows = windows_over_letters(tok)
    # Piece 3 has its most context in window 1 (window 0 holds it at its edge), so only window 1 may start there;
    # piece 2 has one piece of context on each side in window 0, none on the left in window 1.
    assert [w.is_max_context for w in windows[:2]] == [[True, True, True, False], [False, True, True, False]]
    starts, ends = logits_for(windows, {3: 8.0}, {5: 8.0})
    first, last, probability = qa.best_span(windows, starts, ends)
    assert (first, last) == (3, 5) and 0 < probability <= 1
    assert LETTERS[pieces.starts[first]:pieces.ends[last]] == "d e f"


def test_no_pair_within_max_answer_length_falls_back_to_the_best_valid_span(tok):
    pieces = qa.context_pieces(tok, LETTERS)
    windows = qa.question_windows(tok, "where", pieces, max_seq_len=64)
    assert len(windows) == 1
    starts, ends = logits_for(windows, {0: 10.0, 5: 6.0}, {9: 10.0, 6: 5.0})
    # The best start (a) and end (j) are 10 pieces apart; with at most 3 pieces, "f g" (6 + 5) wins.
    assert qa.best_span(windows, starts, ends, n_best_size=20, max_answer_length=3)[:2] == (5, 6)
    # With one candidate each, the pair (a, j) is invalid and every valid pair is searched instead.
    assert qa.best_span(windows, starts, ends, n_best_size=1, max_answer_length=3)[:2] == (5, 6)
    assert qa.best_span(windows, starts, ends, n_best_size=20, max_answer_length=10)[:2] == (0, 9)


def test_context_piece_offsets_map_back_to_the_text(tok):
    context = "  Zoë's café,\tin 2½ ﬁne days."
    pieces = qa.context_pieces(tok, context)
    assert len(pieces.ids) == len(pieces.starts) == len(pieces.ends)
    texts = [context[s:e] for s, e in zip(pieces.starts, pieces.ends)]
    assert texts[:6] == ["Zo", "ë", "'", "s", "café", ","]  # "Zoë's" -> ▁zo e ' s: precomposed ë stays one char
    assert "ﬁne" in texts and "2½" in texts  # normalisation changed these words' length: pieces span the word


# -- metrics ---------------------------------------------------------------------------------------------------------
def test_squad_normalisation():
    assert qa.normalize_answer("The  Quick, brown fox!") == "quick brown fox"
    assert qa.normalize_answer("an apple a day; theatre") == "apple day theatre"  # articles only as words
    assert qa.normalize_answer("U.S.-based") == "usbased"


def test_squad_em_and_f1_hand_worked():
    assert qa.exact_match("the Denver Broncos", "Denver Broncos!")
    assert not qa.exact_match("Denver", "Denver Broncos")
    assert qa.f1_score("Denver Broncos won", "the Denver Broncos") == pytest.approx(0.8)  # P 2/3, R 1
    assert qa.f1_score("Carolina", "Denver Broncos") == 0.0
    assert qa.f1_score("the", "a") == 0.0  # both normalise to nothing: no common token
    examples = [SquadExample("1", "q", "c", [{"text": "Denver Broncos", "answer_start": 0},
                                             {"text": "Broncos", "answer_start": 7}]),
                SquadExample("2", "q", "c", [{"text": "Santa Clara", "answer_start": 0}])]
    scores = qa.squad_scores({"1": "Broncos", "2": "Clara, California"}, examples)
    # Q1: exact against its second answer. Q2: P 1/2, R 1/2 -> F1 1/2.
    assert scores == {"exact_match": 50.0, "f1": pytest.approx(75.0), "questions": 2}
    assert qa.squad_scores({"1": "Broncos"}, examples)["f1"] == 50.0  # no prediction scores 0


# -- inference with a real model -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_run(tok):
    torch.manual_seed(0)
    config = AlbertConfig(vocab_size=tok.vocab_size, embedding_size=16, hidden_size=32, num_hidden_layers=2,
                          num_attention_heads=2, intermediate_size=37, max_position_embeddings=64)
    model = model_for_task(config, "question-answering").eval()

    def run(ids, mask, types):
        with torch.no_grad():
            start, end = model(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types))
        return start.numpy(), end.numpy()

    return run


def test_predict_returns_a_span_of_the_context(tok, tiny_run):
    context = "Super Bowl 50 was an American football game to determine the champion of the NFL. " * 4
    answer = qa.predict(tiny_run, tok, "Who won Super Bowl 50?", context, max_seq_len=48, doc_stride=16)
    assert answer["answer"] and context[answer["start"]:answer["end"]] == answer["answer"]
    assert 0 < answer["score"] <= 1


def test_evaluate_independent_of_batching(tok, tiny_run):
    context = "The Normans were the people who in the 10th and 11th centuries gave their name to Normandy."
    examples = [SquadExample(str(i), q, context, [{"text": "Normandy", "answer_start": context.index("Normandy")}])
                for i, q in enumerate(["Who were the Normans?", "When?", "What region is named after them?"])]
    one = qa.evaluate(tiny_run, tok, examples, max_seq_len=32, doc_stride=8, batch_size=1)
    many = qa.evaluate(tiny_run, tok, examples, max_seq_len=32, doc_stride=8, batch_size=4)
    assert one == many and one["questions"] == 3


def test_training_features_targets_point_at_the_answer(tok):
    context = "The Normans gave their name to Normandy, a region in France."
    example = SquadExample("x", "What was named after them?", context,
                           [{"text": "Normandy", "answer_start": context.index("Normandy")}])
    features = qa.training_features(tok, [example], max_seq_len=24, doc_stride=4)
    assert len(features) > 1
    holding = [w for w in features if w.start_position]
    assert holding and all(tok.decode(w.input_ids[w.start_position:w.end_position + 1]) == "normandy,"
                           or tok.decode(w.input_ids[w.start_position:w.end_position + 1]) == "normandy"
                           for w in holding)
    batch = next(qa.iter_batches(features, 8, tok.pad_id))
    assert batch["input_ids"].shape == batch["token_type_ids"].shape and batch["start_positions"].shape == (
        len(features),)


# -- data ------------------------------------------------------------------------------------------------------------
def test_read_squad_real_file_split_by_article(data_dir):
    path = data_dir / "squad" / "squad-v1.1-dev-38.json"
    every = qa.read_squad(path)
    train, held_out = qa.read_squad(path, slice(0, 30)), qa.read_squad(path, qa.parse_articles("30:"))
    assert len(every) == 8582 and len(train) + len(held_out) == len(every)
    assert {e.title for e in train}.isdisjoint({e.title for e in held_out})
    assert train[0].answers[0] == {"text": "Denver Broncos", "answer_start": 177}
    found = sum(e.context[a["answer_start"]:].startswith(a["text"]) for e in every for a in e.answers)
    assert found / sum(len(e.answers) for e in every) > 0.99


def test_read_squad_reads_the_gzipped_training_set(data_dir):
    """The rebuilt SQuAD v1.1 train file ships gzipped; it is read as is, article ranges included."""
    path = data_dir / "squad" / "train-v1.1-reconstructed.json.gz"
    if not path.is_file():
        pytest.skip("no SQuAD train file")
    every = qa.read_squad(path)
    assert len(every) == 87_599
    tail = qa.read_squad(*qa.split_articles(f"{path}@430:"))
    assert 0 < len(tail) < 5000 and tail[-1].question == every[-1].question
    assert all(e.context[a["answer_start"]:].startswith(a["text"]) for e in tail for a in e.answers)


def test_article_ranges_are_the_last_at_sign():
    assert qa.article_spec("runs/a@b/squad.json@30:") == (Path("runs/a@b/squad.json"), "30:")
    assert qa.article_spec("runs/a@b/squad.json") == (Path("runs/a@b/squad.json"), None)
    assert qa.split_articles("squad.json@0:30") == (Path("squad.json"), slice(0, 30))


def test_read_squad_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.json"):
        qa.read_squad(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"version": "1.1", "articles": []}))
    with pytest.raises(QaDataError, match="no 'data' list"):
        qa.read_squad(bad)
    bad.write_text("{not json")
    with pytest.raises(QaDataError, match="not valid JSON"):
        qa.read_squad(bad)
    broken_gz = tmp_path / "bad.json.gz"
    broken_gz.write_bytes(b"\x1f\x8b\x08 truncated")
    with pytest.raises(QaDataError, match="bad.json.gz: not valid JSON"):
        qa.read_squad(broken_gz)
    bad.write_text(json.dumps({"data": [{"title": "t", "paragraphs": [{"context": "c", "qas": [{"id": 1}]}]}]}))
    with pytest.raises(QaDataError, match="article 0"):
        qa.read_squad(bad)
    with pytest.raises(ValueError, match="START:STOP"):
        qa.parse_articles("30")



def test_finetune_task_reads_an_article_range_and_records_its_geometry(tok, tmp_path):
    context = "The Normans gave their name to Normandy, a region in France."
    articles = [{"title": title, "paragraphs": [{"context": context, "qas": [
        {"id": title, "question": "What was named after them?",
         "answers": [{"text": "Normandy", "answer_start": context.index("Normandy")}]}]}]} for title in "abc"]
    path = tmp_path / "squad.json"
    path.write_text(json.dumps({"data": articles}))
    task = qa.QuestionAnsweringTask(doc_stride=4)
    features = task.read(Path(f"{path}@1:"), tok, 24)
    assert [e.id for e in task._read[0][1]] == ["b", "c"]
    # Each window's targets point at "normandy" or, outside it, at [CLS]; its id names the window.
    batch = collate(features, tok.pad_id)
    start, end = batch["start_position"], batch["end_position"]
    assert batch["feature_id"].tolist() == list(range(len(features)))
    for row, (s, e) in enumerate(zip(start.tolist(), end.tolist())):
        assert (s, e) == (0, 0) or tok.decode(batch["input_ids"][row, s:e + 1].tolist()) in ("normandy", "normandy,")
    assert start.any()
    config = AlbertConfig(vocab_size=tok.vocab_size, embedding_size=16, hidden_size=32, num_hidden_layers=1,
                          num_attention_heads=2, intermediate_size=37)
    task.configure(config)
    assert config.extra["postprocess"]["doc_stride"] == 4 and config.extra["postprocess"]["max_seq_len"] == 24
    model = model_for_task(config, "question-answering").eval()
    with torch.no_grad():
        assert float(task.loss(model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"]), batch)) > 0
    scores = task.evaluate(model, [batch])
    assert set(scores) == {"f1", "exact_match"} and 0 <= scores["f1"] <= 100
    # Batches in any order decode the same; a second read's features are told apart by id, a partial set refused.
    halves = [collate(features[i::2], tok.pad_id) for i in (1, 0)]
    assert task.evaluate(model, halves) == scores
    second = task.read(Path(f"{path}@0:1"), tok, 24)
    assert second[0]["feature_id"] == len(features)
    assert task.evaluate(model, [collate(second, tok.pad_id)])["f1"] >= 0
    with pytest.raises(ValueError, match="not all the windows of one file"):
        task.evaluate(model, [halves[0]])
