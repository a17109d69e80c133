"""The export's typed manifest: one writer (strict JSON, atomic) and one reader with one-line errors."""

import json
import math
import subprocess
import sys

import pytest

from albert_edge.manifest import FORMAT, Manifest, ManifestError


def _manifest(**changes) -> Manifest:
    return Manifest(name="x", task="sequence-classification", max_seq_len=128,
                    artifacts={"pte": "albert_x.pte", "onnx": None}, config={"vocab_size": 99},
                    labels={"0": "negative", "1": "positive"}, inputs=[{"name": "input_ids"}], **changes)


def test_round_trip_in_strict_json(tmp_path):
    manifest = _manifest(verification={"pte": {"snr_db": math.inf, "top1_agreement": 1.0}})
    path = manifest.write(tmp_path)
    text = path.read_text()
    assert "Infinity" not in text and json.loads(text)["verification"]["pte"]["snr_db"] is None
    assert list(json.loads(text))[0] == "format" and json.loads(text)["format"] == FORMAT
    read = Manifest.read(tmp_path)
    assert read.task == "sequence-classification" and read.id2label == {0: "negative", 1: "positive"}
    assert read.artifact("pte") == "albert_x.pte" and read.artifact("onnx") is None and read.artifact("ort") is None
    assert read.to_dict() == json.loads(text)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # the temp file was renamed away


def test_keys_a_newer_writer_adds_are_ignored(tmp_path):
    data = {**_manifest().to_dict(), "something_new": [1, 2]}
    (tmp_path / "manifest.json").write_text(json.dumps(data))
    assert Manifest.read(tmp_path).name == "x"


@pytest.mark.parametrize("text, message", [
    (None, "no manifest.json; pass a directory written by python -m albert_edge.export"),
    ("{", "not valid JSON"),
    ("[]", "expected a JSON object"),
    ('{"format": "onnx"}', "format 'onnx' is not an albert_edge export manifest"),
    ('{"format": "albert_edge.export/9"}', "written by a newer albert_edge"),
    ('{"format": "albert_edge.export/1", "name": "x", "task": "t", "max_seq_len": 8}', "no 'artifacts'"),
    ('{"format": "albert_edge.export/1", "name": "x", "task": "t", "max_seq_len": "8", "artifacts": {}}',
     "'max_seq_len' is str, not int"),
    ('{"format": "albert_edge.export/1", "name": "x", "task": "t", "max_seq_len": true, "artifacts": {}}',
     "'max_seq_len' is bool, not int"),
    ('{"format": "albert_edge.export/1", "name": "x", "task": "t", "max_seq_len": 0, "artifacts": {}}',
     "max_seq_len 0 is not positive"),
    ('{"format": "albert_edge.export/1", "name": "x", "task": "t", "max_seq_len": 8, "artifacts": {"pte": "../a"}}',
     "artifacts.pte '../a' is not a file name in the export directory"),
    ('{"format": "albert_edge.export/1", "name": "x", "task": "t", "max_seq_len": 8, "artifacts": {}, '
     '"inputs": [{"dtype": "int64"}]}', "every entry of 'inputs' needs a 'name'"),
    ('{"format": "albert_edge.export/1", "name": "x", "task": "t", "max_seq_len": 8, "artifacts": {}, '
     '"labels": ["a"]}', "'labels' is list, not an object or null"),
    ('{"format": "albert_edge.export/1", "name": "x", "task": "t", "max_seq_len": 8, "artifacts": {}, '
     '"external_data": {"pte": "../w.ptd"}}', "external_data.pte '../w.ptd' is not a .ptd file name"),
    ('{"format": "albert_edge.export/1", "name": "x", "task": "t", "max_seq_len": 8, "artifacts": {}, '
     '"external_data": {"pte": "w.bin"}}', "external_data.pte 'w.bin' is not a .ptd file name"),
    ('{"format": "albert_edge.export/1", "name": "x", "task": "t", "max_seq_len": 8, "artifacts": {}, '
     '"external_data": ["w.ptd"]}', "'external_data' is list, not an object or null"),
])
def test_bad_manifests_are_one_line(tmp_path, text, message):
    if text is not None:
        (tmp_path / "manifest.json").write_text(text)
    with pytest.raises(ManifestError) as info:
        Manifest.read(tmp_path)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_the_manifest_module_imports_no_torch():
    code = "import sys, albert_edge.manifest; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
