import json

import pytest
import torch

import albert_edge
from albert_edge.hub import HubError, from_pretrained, save_pretrained

transformers = pytest.importorskip("transformers")

TINY = dict(vocab_size=99, embedding_size=16, hidden_size=36, num_hidden_layers=2, num_attention_heads=6,
            intermediate_size=37, max_position_embeddings=64)


def ids_and_mask():
    ids = torch.randint(5, 99, (2, 9), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    return ids, mask


@pytest.fixture
def hf_classifier(tmp_path):
    torch.manual_seed(0)
    model = transformers.AlbertForSequenceClassification(
        transformers.AlbertConfig(**TINY, id2label={0: "neg", 1: "pos"}, label2id={"neg": 0, "pos": 1})).eval()
    model.save_pretrained(tmp_path / "hf")
    return model, tmp_path / "hf"


def test_hf_directory_loads_with_task_and_labels_from_config(hf_classifier):
    theirs, path = hf_classifier
    ours = from_pretrained(path)
    assert ours.task == "sequence-classification" and ours.config.id2label == {0: "neg", 1: "pos"}
    ids, mask = ids_and_mask()
    with torch.no_grad():
        assert (ours(ids, mask) - theirs(input_ids=ids, attention_mask=mask).logits).abs().max() <= 1e-5


def test_save_pretrained_loads_in_transformers_auto_classes(hf_classifier, tmp_path):
    theirs, path = hf_classifier
    ours = from_pretrained(path)
    save_pretrained(ours, tmp_path / "ours")
    again = transformers.AutoModelForSequenceClassification.from_pretrained(tmp_path / "ours").eval()
    ids, mask = ids_and_mask()
    with torch.no_grad():
        assert (again(input_ids=ids, attention_mask=mask).logits - ours(ids, mask)).abs().max() <= 1e-5
    assert json.loads((tmp_path / "ours" / "config.json").read_text())["architectures"] == \
        ["AlbertForSequenceClassification"]


def test_pytorch_model_bin_with_stale_buffers(tmp_path):
    torch.manual_seed(0)
    theirs = transformers.AlbertForMaskedLM(transformers.AlbertConfig(**TINY)).eval()
    theirs.config.architectures = ["AlbertForMaskedLM"]
    theirs.config.save_pretrained(tmp_path)
    state = dict(theirs.state_dict())
    # Old transformers versions saved these buffers; old checkpoints on the hub still carry them.
    state["albert.embeddings.position_ids"] = torch.arange(64)[None]
    torch.save(state, tmp_path / "pytorch_model.bin")
    ours = from_pretrained(tmp_path)
    ids, mask = ids_and_mask()
    with torch.no_grad():
        diff = (ours(ids, mask) - theirs(input_ids=ids, attention_mask=mask).logits)[mask.bool()]
    assert diff.abs().max() <= 1e-5


def test_pretraining_checkpoint_loads_as_encoder_and_as_new_head(tmp_path):
    torch.manual_seed(0)
    transformers.AlbertForPreTraining(transformers.AlbertConfig(**TINY)).save_pretrained(tmp_path)
    assert from_pretrained(tmp_path).task == "pretraining"
    assert from_pretrained(tmp_path, task="feature-extraction").task == "feature-extraction"
    with pytest.raises(HubError, match="no weights for the token-classification head"):
        from_pretrained(tmp_path, task="token-classification")
    assert from_pretrained(tmp_path, task="token-classification", new_head=True).task == "token-classification"


def test_public_api_is_exported():
    assert albert_edge.from_pretrained is from_pretrained and albert_edge.save_pretrained is save_pretrained


def test_missing_config(tmp_path):
    with pytest.raises(HubError, match="config.json"):
        from_pretrained(tmp_path)


def test_missing_weights(hf_classifier):
    _, path = hf_classifier
    (path / "model.safetensors").unlink()
    with pytest.raises(HubError, match="no model.safetensors"):
        from_pretrained(path)


def test_corrupt_weights(hf_classifier):
    _, path = hf_classifier
    (path / "model.safetensors").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(HubError, match="corrupt or truncated"):
        from_pretrained(path)


def test_missing_tensor_is_named(hf_classifier):
    from safetensors.torch import load_file, save_file

    _, path = hf_classifier
    state = load_file(path / "model.safetensors")
    del state["albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight"]
    save_file(state, path / "model.safetensors")
    with pytest.raises(HubError, match="ffn.weight"):
        from_pretrained(path)


def test_misshapen_tensor_is_named(hf_classifier):
    from safetensors.torch import load_file, save_file

    _, path = hf_classifier
    state = load_file(path / "model.safetensors")
    state["classifier.weight"] = torch.zeros(5, 36)
    save_file(state, path / "model.safetensors")
    with pytest.raises(HubError, match=r"classifier.weight has shape \(5, 36\)"):
        from_pretrained(path)


def test_unknown_task(hf_classifier):
    _, path = hf_classifier
    with pytest.raises(HubError, match="unknown task 'translation'"):
        from_pretrained(path, task="translation")


def test_file_instead_of_directory(hf_classifier):
    _, path = hf_classifier
    with pytest.raises(HubError, match="not a directory"):
        from_pretrained(path / "config.json")


def test_uncached_hub_id_offline_says_how_to_fix(monkeypatch, tmp_path):
    pytest.importorskip("huggingface_hub")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty_cache"))
    with pytest.raises(HubError, match="--model /path/to/dir"):
        from_pretrained("albert/albert-base-v2")
