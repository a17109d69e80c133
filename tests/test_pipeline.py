"""albert_edge.pipeline on tiny exported directories: the runtime path gives what the eager model gives."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from albert_edge import AlbertConfig, model_for_task, ner, qa, save_pretrained
from albert_edge.export import export
from albert_edge.pipeline import (
    PipelineError,
    QuestionAnsweringPipeline,
    TextClassificationPipeline,
    TokenClassificationPipeline,
    eager_run_fn,
    evaluate,
    main,
    pipeline,
    postprocess_params,
)
from albert_edge.tokenizer import BUNDLED_ASSETS, AlbertTokenizer

MAX_SEQ_LEN = 48  # small, so the texts below need several windows
LONG_TEXT = "Peter Blackburn of the European Commission visited Paris and Brussels on Monday. " * 8
CONTEXT = ("The Normans were the people who in the 10th and 11th centuries gave their name to Normandy, "
           "a region in France. They were descended from Norse raiders and pirates from Denmark, Iceland and "
           "Norway who, under their leader Rollo, agreed to swear fealty to King Charles III.")


@pytest.fixture(scope="module")
def tok():
    return AlbertTokenizer.from_pretrained(BUNDLED_ASSETS)


def _export(tmp_path_factory, tok, task, id2label=None, backend="onnx"):
    """A random-weight tiny model for `task`, saved with the bundled tokenizer and exported fp32 without verify."""
    torch.manual_seed(0)
    config = AlbertConfig(vocab_size=tok.vocab_size, embedding_size=16, hidden_size=32, num_hidden_layers=2,
                          num_attention_heads=2, intermediate_size=37, max_position_embeddings=64,
                          **({"id2label": id2label} if id2label else {}))
    model = model_for_task(config, task).eval()
    head = model.classifier if hasattr(model, "classifier") else model.qa_outputs
    with torch.no_grad():
        head.weight.mul_(50)  # decisive logits: no near-ties for fp32 rounding to flip between eager and runtime
    root = tmp_path_factory.mktemp(task)
    save_pretrained(model, root / "hf")
    tok.save_pretrained(root / "hf")
    export(root / "hf", out=root / "export", max_seq_len=MAX_SEQ_LEN, backend=backend, verify=False,
           progress=False)
    return model, root / "export"


@pytest.fixture(scope="module")
def ner_export(tmp_path_factory, tok):
    return _export(tmp_path_factory, tok, "token-classification", dict(enumerate(ner.CONLL2003_LABELS)))


@pytest.fixture(scope="module")
def qa_export(tmp_path_factory, tok):
    return _export(tmp_path_factory, tok, "question-answering")


@pytest.fixture(scope="module")
def cls_export(tmp_path_factory, tok):
    return _export(tmp_path_factory, tok, "sequence-classification", {0: "negative", 1: "positive"})


def test_token_classification_pipeline_matches_eager(ner_export, tok):
    model, directory = ner_export
    p = pipeline(directory)
    assert isinstance(p, TokenClassificationPipeline) and p.artifact == "onnx"
    assert len(tok.encode(LONG_TEXT).input_ids) > 2 * MAX_SEQ_LEN  # several word windows
    found = p(LONG_TEXT)
    expected = ner.predict(eager_run_fn(model), tok, LONG_TEXT, model.config.id2label, MAX_SEQ_LEN)
    assert found and [{k: e[k] for k in ("entity", "start", "end", "text")} for e in found] == \
        [{k: e[k] for k in ("entity", "start", "end", "text")} for e in expected]
    assert np.allclose([e["score"] for e in found], [e["score"] for e in expected], atol=1e-4)
    assert all(LONG_TEXT[e["start"]:e["end"]] == e["text"] for e in found)
    assert p("   ") == []


def test_question_answering_pipeline_matches_eager(qa_export, tok):
    model, directory = qa_export
    p = pipeline(directory)
    assert isinstance(p, QuestionAnsweringPipeline)
    question = "Who gave their name to Normandy?"
    answer = p(question=question, context=CONTEXT)
    params = postprocess_params("question-answering")
    expected = qa.predict(eager_run_fn(model), tok, question, CONTEXT, MAX_SEQ_LEN, params["doc_stride"],
                          params["max_query_length"], params["max_answer_length"], params["n_best_size"])
    assert (answer["answer"], answer["start"], answer["end"]) == (expected["answer"], expected["start"],
                                                                  expected["end"])
    assert answer["answer"] == CONTEXT[answer["start"]:answer["end"]] and answer["score"] == \
        pytest.approx(expected["score"], abs=1e-4)


def test_text_classification_pipeline_matches_eager(cls_export, tok):
    model, directory = cls_export
    p = pipeline(directory)
    assert isinstance(p, TextClassificationPipeline)
    result = p("a gripping, funny and moving film")
    enc = tok.encode("a gripping, funny and moving film", max_length=MAX_SEQ_LEN)
    with torch.no_grad():
        probs = torch.softmax(model(torch.tensor([enc.input_ids]))[0], -1)
    assert result == {"label": model.config.id2label[int(probs.argmax())],
                      "score": pytest.approx(float(probs.max()), abs=1e-5)}


def test_pipelines_take_a_list_of_strings(cls_export, ner_export, qa_export):
    """Hugging Face pipelines' convention: a string gives one result, a list gives a list in the same order."""
    classify = pipeline(cls_export[1])
    texts = ["a gripping, funny and moving film", "dull", "an utterly forgettable sequel"]
    assert classify(texts) == [classify(t) for t in texts] and classify([]) == []
    tag = pipeline(ner_export[1])
    assert tag([LONG_TEXT, "   "]) == [tag(LONG_TEXT), []]
    answer = pipeline(qa_export[1])
    questions = ["Who gave their name to Normandy?", "Who was Rollo?"]
    one_context = answer(question=questions, context=CONTEXT)
    assert one_context == [answer(question=q, context=CONTEXT) for q in questions]
    assert answer(question=questions, context=[CONTEXT, CONTEXT]) == one_context
    for bad, message in ((None, "got NoneType"), (b"bytes", "got bytes"), (["ok", 3], "got a list holding int"),
                         (42, "got int")):
        with pytest.raises(TypeError, match=f"text must be a string or a list of strings, {message}"):
            classify(bad)
        with pytest.raises(TypeError, match="text must be a string or a list of strings"):
            tag(bad)
    with pytest.raises(TypeError, match="question must be a string or a list of strings, got NoneType"):
        answer(question=None, context=CONTEXT)
    with pytest.raises(TypeError, match="got 2 questions and 3 contexts"):
        answer(question=questions, context=[CONTEXT] * 3)


def test_evaluate_leaves_the_callers_torch_threads(ner_export, tmp_path):
    conll = tmp_path / "valid.txt"
    conll.write_text("EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n")
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        evaluate(ner_export[1].parent / "hf", conll, threads=1)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_evaluate_export_equals_eager(ner_export, qa_export, tmp_path):
    conll = tmp_path / "valid.txt"
    conll.write_text("EU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\n\n"
                     "Peter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n\n"
                     + "BRUSSELS NNP B-NP B-LOC\n1996-08-22 CD I-NP O\n" * 8)
    model, directory = ner_export
    exported = evaluate(directory, conll, batch_size=3)  # rows of different lengths in one batch
    eager = evaluate(directory.parent / "hf", conll, max_seq_len=MAX_SEQ_LEN)
    assert (exported["artifact"], eager["artifact"]) == ("onnx", "eager")
    assert {k: exported[k] for k in ("f1", "precision", "recall")} == {k: eager[k] for k in ("f1", "precision",
                                                                                              "recall")}
    squad = tmp_path / "squad.json"
    qas = [{"id": str(i), "question": q, "answers": [{"text": "Normandy", "answer_start": CONTEXT.index("Normandy")}]}
           for i, q in enumerate(["Who were the Normans?", "What is named after them?", "Who was Rollo?"])]
    squad.write_text(json.dumps({"data": [{"title": "Normans", "paragraphs": [{"context": CONTEXT, "qas": qas}]}]}))
    model, directory = qa_export
    exported = evaluate(directory, squad, batch_size=2)
    eager = evaluate(directory.parent / "hf", squad, max_seq_len=MAX_SEQ_LEN)
    assert (exported["exact_match"], exported["f1"], exported["questions"]) == \
        (eager["exact_match"], eager["f1"], 3)


def test_cli_run_prints_json(ner_export, qa_export, capsys):
    _, directory = ner_export
    main(["run", str(directory), "Peter Blackburn visited Paris."])
    entities = json.loads(capsys.readouterr().out)
    assert isinstance(entities, list) and all({"entity", "start", "end", "text", "score"} <= set(e) for e in entities)
    _, directory = qa_export
    main(["run", str(directory), "--question", "Who gave their name to Normandy?", "--context", CONTEXT])
    answer = json.loads(capsys.readouterr().out)
    assert CONTEXT[answer["start"]:answer["end"]] == answer["answer"]
    with pytest.raises(SystemExit, match="^error: .*needs --question and --context"):
        main(["run", str(directory), "--question", "Who?"])


def test_bad_export_directories(ner_export, tmp_path):
    with pytest.raises(PipelineError, match="no manifest.json"):
        pipeline(tmp_path)
    (tmp_path / "manifest.json").write_text("{oops")
    with pytest.raises(PipelineError, match="not valid JSON"):
        pipeline(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "albert_edge.export/1", "name": "m", "task": "masked-lm", "max_seq_len": 8, "artifacts": {"onnx": "m.onnx"}}))
    with pytest.raises(PipelineError, match="no pipeline for task 'masked-lm'"):
        pipeline(tmp_path)
    _, directory = ner_export
    with pytest.raises(PipelineError, match="no pte artifact"):
        pipeline(directory, artifact="pte")  # exported with --backend onnx
    with pytest.raises(PipelineError, match="not question-answering"):
        QuestionAnsweringPipeline(directory)
    with pytest.raises(SystemExit, match="^error: .*no manifest.json"):
        main(["run", str(tmp_path / "nowhere"), "text"])


def test_postprocess_params_cover_what_an_app_needs():
    assert postprocess_params("question-answering") == {
        "doc_stride": 128, "max_query_length": 64, "max_answer_length": 30, "n_best_size": 20,
        "word_split": "whitespace", "max_context_rule": True}
    assert postprocess_params("token-classification")["scheme"] == "IOB2"
    assert postprocess_params("sequence-classification") == {"activation": "softmax"}
    # A fine-tuned checkpoint's recorded values (config.json "postprocess") win; unknown keys do not leak through.
    tuned = postprocess_params("question-answering", {"postprocess": {"doc_stride": 64, "max_seq_len": 128}})
    assert tuned["doc_stride"] == 64 and "max_seq_len" not in tuned


@pytest.mark.slow
def test_pte_pipelines_match_onnx(tmp_path_factory, tok):
    """The app's artifact: the XNNPACK .pte gives the ONNX file's entities and answers."""
    _, ner_dir = _export(tmp_path_factory, tok, "token-classification", dict(enumerate(ner.CONLL2003_LABELS)),
                         backend="all")
    pte, onnx = pipeline(ner_dir, artifact="pte"), pipeline(ner_dir, artifact="onnx")
    strip = [{k: e[k] for k in ("entity", "start", "end")} for e in pte(LONG_TEXT)]
    assert strip and strip == [{k: e[k] for k in ("entity", "start", "end")} for e in onnx(LONG_TEXT)]
    _, qa_dir = _export(tmp_path_factory, tok, "question-answering", backend="all")
    question = "Who gave their name to Normandy?"
    a = pipeline(qa_dir, artifact="pte")(question=question, context=CONTEXT)
    b = pipeline(qa_dir, artifact="onnx")(question=question, context=CONTEXT)
    assert (a["start"], a["end"]) == (b["start"], b["end"])


def test_an_onnx_export_runs_without_torch(cls_export, ner_export):
    """`import albert_edge` and the ONNX path (runtime, pipelines, NER decoding) never import torch."""
    probe = textwrap.dedent(f"""
        import sys
        import albert_edge
        assert "torch" not in sys.modules, "import albert_edge"
        from albert_edge.pipeline import pipeline
        print(pipeline({str(cls_export[1])!r})("a fine film"))
        print(pipeline({str(ner_export[1])!r})("Peter Blackburn went to Brussels"))
        assert "torch" not in sys.modules, sorted(m for m in sys.modules if m.startswith("torch"))[:5]
    """)
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-1500:]
    assert "'label'" in done.stdout
