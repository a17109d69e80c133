"""The bundled SST-2 model as shipped: its dev accuracy in eager, in transformers, and through the default export."""

from pathlib import Path

import pytest
import torch

from albert_edge import hub
from albert_edge.export import BUNDLED_EVAL, export
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
    for backend in ("pte", "onnx"):
        assert abs(verification[backend]["accuracy"] - fp32) <= 0.005  # int8 within half a point of fp32
        assert verification[backend]["top1_agreement"] >= 0.99


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
    import runpy

    from albert_edge import tasks

    shipped = tasks.get("token-classification").bundled.eval_data()
    before = shipped.read_bytes()
    try:
        runpy.run_path(str(Path(__file__).resolve().parents[1] / "scripts" / "make_ner_sample.py"), run_name="__main__")
        assert shipped.read_bytes() == before
    finally:
        shipped.write_bytes(before)  # the shipped file stays as committed whatever the script wrote
