"""The bundled SST-2 model as shipped: its dev accuracy in eager, in transformers, and through the default export."""

from pathlib import Path

import pytest
import torch

from albert_edge import hub
from albert_edge.export import BUNDLED_EVAL, default_stepwise, export, summary
from albert_edge.pipeline import pipeline
from albert_edge.tables import read_table
from albert_edge.tokenizer import BUNDLED_ASSETS, AlbertTokenizer

transformers = pytest.importorskip("transformers")
CARD_CORRECT = 737  # MODEL_CARD.md: 737 / 872 = 84.52% SST-2 dev accuracy in fp32; the product's bar is 83%


@pytest.fixture(scope="module")
def dev_logits():
    rows = read_table(BUNDLED_EVAL, ["sentence", "label"])
    tok = AlbertTokenizer.from_pretrained(BUNDLED_ASSETS)
    ours = hub.from_pretrained(BUNDLED_ASSETS, task="sequence-classification").eval()
    theirs = transformers.AlbertForSequenceClassification.from_pretrained(BUNDLED_ASSETS).eval()
    labels = torch.tensor([int(r["label"]) for r in rows])
    logits = {"ours": [], "transformers": []}
    with torch.no_grad():
        for i in range(0, len(rows), 128):
            batch = {k: torch.from_numpy(v) for k, v in
                     tok.encode_batch([r["sentence"] for r in rows[i:i + 128]], max_length=128).items()}
            logits["ours"].append(ours(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"]))
            logits["transformers"].append(theirs(**batch).logits)
    return labels, {k: torch.cat(v) for k, v in logits.items()}


def test_bundled_eval_set_is_glue_sst2_dev(data_dir):
    assert BUNDLED_EVAL.read_bytes() == (data_dir / "sst2" / "dev.tsv").read_bytes()


def test_bundled_model_meets_its_sst2_dev_accuracy(dev_logits):
    labels, logits = dev_logits
    correct = int((logits["ours"].argmax(-1) == labels).sum())
    assert len(labels) == 872
    assert correct == CARD_CORRECT and correct / len(labels) >= 0.83


def test_transformers_reads_the_same_model(dev_logits):
    _, logits = dev_logits
    assert torch.equal(logits["ours"].argmax(-1), logits["transformers"].argmax(-1))
    assert (logits["ours"] - logits["transformers"]).abs().max() < 1e-4


def test_default_int8_export_reports_sst2_dev_accuracy(tmp_path):
    """The README's first command: no --model, no --eval-data."""
    result = export(int8=True, out=tmp_path / "sst2_int8", progress=False)
    verification = result.manifest["verification"]
    assert verification["sentences"] == 872 and "sst2_dev.tsv" in verification["source"]
    fp32 = verification["eager"]["accuracy"]
    assert fp32 == pytest.approx(CARD_CORRECT / 872)
    for backend in ("pte", "onnx", "pte_stepwise"):
        assert abs(verification[backend]["accuracy"] - fp32) <= 0.005  # int8 within half a point of fp32
        assert verification[backend]["top1_agreement"] >= 0.99
    # Adaptive depth by default: the stepwise program with the model's exit heads, its policy chosen on the shipped
    # held-in calibration rows and reported on SST-2 dev.
    stepwise = result.manifest["stepwise"]
    assert stepwise["heads"] == ["exit_1", "exit_2", "exit_3", "head"] and stepwise["exit_policy"] is not None
    assert stepwise["exit_calibration"]["data"] == "sst2_exit_calibration.tsv"
    assert stepwise["exit_calibration"]["examples"] == 2000
    shipped = stepwise["exit_evaluation"]
    assert shipped["examples"] == 872 and shipped["mean_depth"] < 3
    assert shipped["accuracy"] >= shipped["full_depth_accuracy"] - 0.005
    printed = summary(result)
    assert "stepwise (full depth) top-1 agreement" in printed
    assert f"on the eval data (872): {100 * shipped['accuracy']:.2f}% at mean depth" in printed
    p = pipeline(result.out)
    assert p.artifact == "pte_stepwise" and p.depth == "adaptive"
    assert p("a gripping , funny and moving film .")["label"] == "positive"
    assert 1 <= p("dull , lifeless and far too long .")["depth"] <= 4
    assert "depth" not in pipeline(result.out, artifact="pte")("fine")  # the fixed-depth program, on request


def test_bundled_exit_heads_leave_the_model_unchanged(dev_logits):
    """The exit heads are extra tensors: forward (and transformers, which ignores them) gives the card's figures;
    the calibration rows are the last 2,000 of SST-2 train, which the exit heads never trained on."""
    model = hub.from_pretrained(BUNDLED_ASSETS)
    assert len(model.exit_heads) == 3 and model.config.extra["exit_heads"] == "per-depth"
    rows = read_table(BUNDLED_ASSETS / "sst2_exit_calibration.tsv", ["sentence", "label"])
    assert len(rows) == 2000 and {r["label"] for r in rows} == {"0", "1"}


def test_default_stepwise_resolution():
    calibration = BUNDLED_ASSETS / "sst2_exit_calibration.tsv"
    assert default_stepwise(None, None, None, None, "all", None) == (True, calibration)
    assert default_stepwise(None, None, None, "sequence-classification", "pte", None) == (True, calibration)
    assert default_stepwise(False, None, None, None, "all", None) == (False, None)  # told not to
    assert default_stepwise(None, "mine.tsv", None, None, "all", None) == (True, "mine.tsv")
    assert default_stepwise(None, None, None, None, "onnx", None) == (False, None)  # no .pte
    assert default_stepwise(None, None, None, None, "all", "calib.txt") == (False, None)  # static int8
    assert default_stepwise(None, None, "some/model", None, "all", None) == (False, None)  # not the bundled model
    assert default_stepwise(None, None, None, "token-classification", "all", None) == (False, None)


# -- the bundled NER model (assets/ner) ------------------------------------------------------------------------------
NER_CARD_SAMPLE_F1 = 76.85  # ner/MODEL_CARD.md: fp32 entity F1 on the shipped ner_sample.conll (CoNLL valid: 80.65)


def test_bundled_ner_exports_by_task_and_reports_its_f1(tmp_path):
    """`export --task token-classification` with no --model: the bundled NER model, verified on its shipped sample
    (ONNX only here, to keep the default run short; the .pte path is the same export code)."""
    result = export(task="token-classification", int8=True, backend="onnx", out=tmp_path / "ner", progress=False)
    manifest = result.manifest
    assert manifest["task"] == "token-classification" and manifest["source_model"] == "bundled:ner"
    metrics = manifest["verification"]["task_metrics"]
    assert metrics["data"] == "ner_sample.conll" and metrics["eager"]["sentences"] == 40
    assert metrics["eager"]["f1"] == pytest.approx(NER_CARD_SAMPLE_F1, abs=0.01)
    assert abs(metrics["onnx"]["f1"] - metrics["eager"]["f1"]) <= 1.5
    assert manifest["tokenizer"]["do_lower_case"] is False  # the cased tokenizer travels with it


def test_bundled_ner_sample_is_what_its_script_writes(tmp_path):
    import subprocess
    import sys

    from albert_edge import tasks

    shipped = tasks.get("token-classification").bundled.eval_data()
    script = Path(__file__).resolve().parents[1] / "scripts" / "make_ner_sample.py"
    subprocess.run([sys.executable, str(script), str(tmp_path / "sample.conll")], check=True, capture_output=True)
    assert (tmp_path / "sample.conll").read_bytes() == shipped.read_bytes()


# -- the bundled QA model (assets/qa) --------------------------------------------------------------------------------
QA_CARD_SAMPLE = (33.18, 41.24)  # qa/MODEL_CARD.md: fp32 EM / F1 on squad_dev_sample.json (dev-38: 35.14 F1)


def test_bundled_qa_exports_by_task_and_answers(tmp_path):
    """`export --task question-answering` with no --model: the bundled QA model at its recorded 256 tokens, verified
    on its shipped two articles (ONNX only here, to keep the default run short), and answering real text."""
    result = export(task="question-answering", int8=True, backend="onnx", out=tmp_path / "qa", progress=False)
    manifest = result.manifest
    assert manifest["task"] == "question-answering" and manifest["source_model"] == "bundled:qa"
    assert manifest["max_seq_len"] == 256 and manifest["tokenizer"]["do_lower_case"] is False
    metrics = manifest["verification"]["task_metrics"]
    assert metrics["data"] == "squad_dev_sample.json" and metrics["eager"]["questions"] == 220
    assert (metrics["eager"]["exact_match"], metrics["eager"]["f1"]) == pytest.approx(QA_CARD_SAMPLE, abs=0.01)
    assert abs(metrics["onnx"]["f1"] - metrics["eager"]["f1"]) <= 1.0
    shown = summary(result)  # says which data the agreement used and which the task metric scored
    assert "built-in verify_sentences.txt against fp32 eager (its logits; the task metric below scores" in shown
    assert "task metric (data squad_dev_sample.json)" in shown
    context = ("The Normans were the people who in the 10th and 11th centuries gave their name to Normandy, a "
               "region in France. They were descended from Norse raiders and pirates from Denmark, Iceland and "
               "Norway.")
    answer = pipeline(tmp_path / "qa", artifact="onnx")(question="Where is Normandy?", context=context)
    assert answer["answer"] == context[answer["start"]:answer["end"]] and "France" in answer["answer"]
