"""Parity with Hugging Face's ALBERT on random weights, both directions, every head."""

import pytest
import torch

from albert_edge.config import AlbertConfig
from albert_edge.model import FORMULATIONS, TASKS, LayerNorm, gelu_new, model_for_task, set_formulation

transformers = pytest.importorskip("transformers")

# transformers' own AlbertModelTester sizes (vocab 99, E 16, H 36), varied over the sharing knobs.
CONFIGS = {
    "tester": dict(vocab_size=99, embedding_size=16, hidden_size=36, num_hidden_layers=2, num_hidden_groups=2,
                   num_attention_heads=6, intermediate_size=37),
    "e_equals_h": dict(vocab_size=99, embedding_size=32, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                       intermediate_size=64),
    "inner_group_2": dict(vocab_size=99, embedding_size=16, hidden_size=24, num_hidden_layers=4, num_hidden_groups=2,
                          inner_group_num=2, num_attention_heads=2, intermediate_size=48),
    "odd_heads_uneven_groups": dict(vocab_size=99, embedding_size=8, hidden_size=21, num_hidden_layers=5,
                                    num_hidden_groups=3, num_attention_heads=3, intermediate_size=30),
    "gelu_v1": dict(vocab_size=99, embedding_size=16, hidden_size=20, num_hidden_layers=3, num_attention_heads=5,
                    intermediate_size=40, hidden_act="gelu"),
}
HF_CLASSES = {
    "sequence-classification": "AlbertForSequenceClassification",
    "token-classification": "AlbertForTokenClassification",
    "question-answering": "AlbertForQuestionAnswering",
    "masked-lm": "AlbertForMaskedLM",
    "pretraining": "AlbertForPreTraining",
    "feature-extraction": "AlbertModel",
}
TOL = 1e-5


def hf_outputs(out, task):
    if task == "feature-extraction":
        return [out.last_hidden_state]
    keys = {"question-answering": ["start_logits", "end_logits"],
            "pretraining": ["prediction_logits", "sop_logits"]}.get(task, ["logits"])
    return [out[k] for k in keys]


def batch(vocab, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, vocab, (3, 13), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0
    mask[2, 4:] = 0
    token_types = torch.zeros_like(ids)
    token_types[:, 6:] = 1
    return ids, mask, token_types


def compare(ours, theirs, task, cfg):
    ids, mask, token_types = batch(cfg["vocab_size"])
    with torch.no_grad():
        a = hf_outputs(theirs(input_ids=ids, attention_mask=mask, token_type_ids=token_types), task)
        b = ours(ids, mask, token_types)
    b = list(b) if isinstance(b, tuple) else [b]
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.shape == y.shape
        if x.dim() >= 2 and x.shape[:2] == ids.shape:  # per-token outputs: padded positions are don't-care
            x, y = x[mask.bool()], y[mask.bool()]
        assert (x - y).abs().max().item() <= TOL


def make_pair(cfg, task, seed):
    hf_cls = getattr(transformers, HF_CLASSES[task])
    torch.manual_seed(seed)
    theirs = hf_cls(transformers.AlbertConfig(**cfg, num_labels=3 if task.endswith("classification") else 2)).eval()
    ours = model_for_task(AlbertConfig(**{**cfg, "id2label": {i: str(i) for i in range(theirs.config.num_labels)}}),
                          task).eval()
    return ours, theirs


@pytest.mark.parametrize("formulation", FORMULATIONS)
@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("task", sorted(HF_CLASSES))
def test_hf_to_ours(name, task, formulation):
    """Both spellings of the model (XNNPACK's, traced for the .pte; ORT's, traced for the .onnx) are transformers'."""
    ours, theirs = make_pair(CONFIGS[name], task, seed=1)
    missing, unexpected = ours.load_state_dict(theirs.state_dict(), strict=False)
    assert not unexpected
    assert set(missing) <= {"predictions.decoder.weight", "predictions.decoder.bias"}  # tied, present via the tie
    compare(set_formulation(ours, formulation), theirs, task, CONFIGS[name])


def test_unknown_formulation_is_named():
    with pytest.raises(ValueError, match="unknown formulation 'tflite'"):
        set_formulation(torch.nn.Linear(2, 2), "tflite")


@pytest.mark.parametrize("name", ["tester", "inner_group_2", "odd_heads_uneven_groups"])
@pytest.mark.parametrize("task", sorted(HF_CLASSES))
def test_ours_to_hf(name, task):
    ours, theirs = make_pair(CONFIGS[name], task, seed=2)
    torch.manual_seed(3)
    ours.init_weights()  # our own weights, fresh, then load into transformers
    ours_state = ours.state_dict()
    hf_keys = set(theirs.state_dict())
    assert set(ours_state) >= hf_keys - {"albert.embeddings.position_ids", "albert.embeddings.token_type_ids"}
    theirs.load_state_dict({k: v for k, v in ours_state.items() if k in hf_keys}, strict=False)
    compare(ours, theirs, task, CONFIGS[name])


def test_state_dict_keys_are_hf_names():
    ours, theirs = make_pair(CONFIGS["tester"], "pretraining", seed=0)
    assert set(ours.state_dict()) == set(theirs.state_dict())
    assert "albert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.weight" in ours.state_dict()


def test_parameter_count_does_not_grow_with_depth():
    base = AlbertConfig.from_preset("albert-base-v2")
    counts = {n: sum(p.numel() for p in model_for_task(AlbertConfig.from_preset("albert-base-v2",
                                                                                 num_hidden_layers=n),
                                                       "feature-extraction").parameters())
              for n in (1, 12, 24)}
    assert len(set(counts.values())) == 1
    # albert-base-v2 is 11.7 M parameters (the paper's 12 M), pooler included.
    assert 11.6e6 < counts[base.num_hidden_layers] < 11.8e6


def test_groups_are_used_in_hf_order():
    # 4 applications over 2 groups: group 0 twice, then group 1 twice (HF: group = int(i / (n / g))).
    cfg = AlbertConfig(**{**CONFIGS["tester"], "num_hidden_layers": 4})
    model = model_for_task(cfg, "feature-extraction").eval()
    calls = []
    for idx, group in enumerate(model.encoder.albert_layer_groups):
        group.register_forward_hook(lambda *_, idx=idx: calls.append(idx))
    model(torch.randint(5, 99, (1, 5)))
    assert calls == [0, 0, 1, 1]


def test_decomposed_layer_norm_matches_torch():
    x = torch.randn(2, 7, 48) * 5 + 3
    ln = LayerNorm(48, eps=1e-12)
    torch.nn.init.normal_(ln.weight)
    torch.nn.init.normal_(ln.bias)
    assert torch.allclose(ln(x), torch.nn.functional.layer_norm(x, (48,), ln.weight, ln.bias, 1e-12), atol=1e-5)


def test_gelu_new_matches_transformers():
    from transformers.activations import NewGELUActivation

    x = torch.linspace(-8, 8, 1001)
    assert torch.allclose(gelu_new(x), NewGELUActivation()(x), atol=1e-6)


def test_sequence_length_is_free_and_padding_is_ignored():
    cfg = AlbertConfig(**CONFIGS["tester"])
    model = model_for_task(cfg, "sequence-classification").eval()
    ids = torch.randint(5, 99, (1, 6))
    padded = torch.cat([ids, torch.zeros(1, 10, dtype=torch.long)], dim=1)
    mask = torch.cat([torch.ones(1, 6), torch.zeros(1, 10)], dim=1).long()
    with torch.no_grad():
        assert torch.allclose(model(ids), model(padded, mask), atol=1e-5)


def test_every_task_has_a_model():
    assert set(TASKS) == set(HF_CLASSES)
    with pytest.raises(ValueError, match="unknown task"):
        model_for_task(AlbertConfig(**CONFIGS["tester"]), "summarization")


def test_unknown_activation_is_named():
    with pytest.raises(ValueError, match="hidden_act 'mish'"):
        model_for_task(AlbertConfig(**CONFIGS["tester"], hidden_act="mish"), "feature-extraction")
