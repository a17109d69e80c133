import json

import pytest

from albert_edge.config import PRESETS, AlbertConfig, ConfigError


def test_defaults_match_transformers():
    transformers = pytest.importorskip("transformers")
    ours, theirs = AlbertConfig().to_dict(), transformers.AlbertConfig().to_dict()
    for key, value in ours.items():
        if key in theirs and key not in ("id2label", "label2id"):
            assert theirs[key] == value, key


def test_round_trip_keeps_unknown_keys(tmp_path):
    raw = {"model_type": "albert", "hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 128,
           "architectures": ["AlbertForMaskedLM"], "transformers_version": "4.0.0", "some_future_flag": [1, 2],
           "id2label": {"0": "neg", "1": "pos"}}
    (tmp_path / "config.json").write_text(json.dumps(raw))
    cfg = AlbertConfig.from_json_file(tmp_path)
    assert cfg.id2label == {0: "neg", 1: "pos"} and cfg.label2id == {"neg": 0, "pos": 1}
    assert cfg.extra["some_future_flag"] == [1, 2]
    out = json.loads(cfg.save(tmp_path / "copy").read_text())
    for key, value in raw.items():
        assert out[key] == value


def test_num_labels_only_config():
    cfg = AlbertConfig.from_dict({"num_labels": 3, "hidden_size": 64, "num_attention_heads": 4})
    assert cfg.num_labels == 3 and cfg.id2label[2] == "LABEL_2"


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_are_valid_and_load_in_transformers(name):
    transformers = pytest.importorskip("transformers")
    cfg = AlbertConfig.from_preset(name)
    theirs = transformers.AlbertConfig(**cfg.to_dict())
    assert theirs.hidden_size == cfg.hidden_size and theirs.num_hidden_layers == cfg.num_hidden_layers


def test_base_v2_numbers():
    cfg = AlbertConfig.from_preset("albert-base-v2")
    assert (cfg.embedding_size, cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads,
            cfg.intermediate_size, cfg.hidden_act) == (128, 768, 12, 12, 3072, "gelu_new")


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    ("{not json", "not valid JSON"),
    ('{"model_type": "bert"}', "not 'albert'"),
    ('{"hidden_size": 100, "num_attention_heads": 12}', "multiple of num_attention_heads"),
    ('{"num_hidden_groups": 5, "num_hidden_layers": 2}', "num_hidden_groups"),
])
def test_bad_config_files(tmp_path, content, message):
    if content is not None:
        (tmp_path / "config.json").write_text(content)
    with pytest.raises(ConfigError, match=message):
        AlbertConfig.from_json_file(tmp_path)


def test_unknown_preset():
    with pytest.raises(ConfigError, match="unknown preset"):
        AlbertConfig.from_preset("albert-huge")
