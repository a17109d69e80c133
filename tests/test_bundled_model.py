"""The bundled SST-2 model as shipped: the accuracy its card claims, and the same predictions in transformers."""

import pytest
import torch

from albert_edge import hub
from albert_edge.finetune import read_table
from albert_edge.tokenizer import BUNDLED_ASSETS, AlbertTokenizer

transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def dev_logits(data_dir):
    rows = read_table(data_dir / "sst2" / "dev.tsv", ["sentence", "label"])
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


def test_bundled_model_meets_its_sst2_dev_accuracy(dev_logits):
    labels, logits = dev_logits
    correct = int((logits["ours"].argmax(-1) == labels).sum())
    assert len(labels) == 872
    # MODEL_CARD.md: 737 / 872 = 84.52%; the product's bar is 83%.
    assert correct == 737 and correct / len(labels) >= 0.83


def test_transformers_reads_the_same_model(dev_logits):
    _, logits = dev_logits
    assert torch.equal(logits["ours"].argmax(-1), logits["transformers"].argmax(-1))
    assert (logits["ours"] - logits["transformers"]).abs().max() < 1e-4
