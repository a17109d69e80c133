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


@pytest.mark.parametrize("change, message", [
    ({"num_attention_heads": 0}, "num_attention_heads must be a positive integer, got 0"),
    ({"vocab_size": "16000"}, "vocab_size must be a positive integer, got '16000'"),
    ({"hidden_size": 32.0}, "hidden_size must be a positive integer, got 32.0"),
    ({"num_hidden_layers": True}, "num_hidden_layers must be a positive integer, got True"),
    ({"layer_norm_eps": "tiny"}, "layer_norm_eps must be a number, got 'tiny'"),
    ({"layer_norm_eps": 0}, r"layer_norm_eps must be in \(0, 1\)"),
    ({"hidden_dropout_prob": 1.5}, r"hidden_dropout_prob must be in \[0, 1\)"),
    ({"id2label": ["negative", "positive"]}, "id2label must be an object mapping class ids to names"),
    ({"id2label": {"zero": "negative"}}, "id2label keys and label2id values must be integer class ids"),
    ({"id2label": {}}, "id2label is empty"),
    ({"hidden_act": "mish"}, "hidden_act 'mish' is not supported; use one of gelu_new"),
    ({"hidden_size": 30, "num_attention_heads": 4}, r"hidden_size \(30\) must be a multiple of num_attention_heads"),
])
def test_bad_config_values_name_the_field(change, message):
    from albert_edge.config import ConfigError

    with pytest.raises(ConfigError, match=message) as err:
        AlbertConfig.from_dict({**AlbertConfig.from_preset("albert-edge-tiny").to_dict(), **change})
    assert "\n" not in str(err.value)


def test_activations_listed_in_config_are_the_models():
    from albert_edge.config import HIDDEN_ACTS
    from albert_edge.model import ACTIVATIONS

    assert set(HIDDEN_ACTS) == set(ACTIVATIONS)


def test_export_cli_on_a_bad_config_is_one_line(tmp_path):
    import json
    import subprocess
    import sys

    config = {**AlbertConfig.from_preset("albert-edge-tiny").to_dict(), "num_attention_heads": 0}
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    done = subprocess.run([sys.executable, "-m", "albert_edge.export", "--model", str(tmp_path / "m"),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: " + done.stderr.strip().removeprefix("error: ")] and "num_attention_heads" in done.stderr
    assert not (tmp_path / "out").exists()
