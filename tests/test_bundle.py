import hashlib
import json
import os

import pytest

from albert_edge.bundle import BundleError, bundle, main


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def export_dir(tmp_path):
    """An export directory's layout (the bundler copies bytes; it never runs the model)."""
    out = tmp_path / "export"
    out.mkdir()
    pte, vocab = b"PTE-BYTES" * 10, b'{"format": "albert_edge.spm_unigram.v1"}'
    (out / "albert_x_xnnpack_int8.pte").write_bytes(pte)
    (out / "vocab.json").write_bytes(vocab)
    manifest = {
        "format": "albert_edge.export/1", "name": "x", "task": "sequence-classification", "max_seq_len": 128,
        "labels": {"0": "negative", "1": "positive"},
        "inputs": [{"name": "input_ids"}, {"name": "attention_mask"}],
        "artifacts": {"pte": "albert_x_xnnpack_int8.pte", "onnx": None},
        "tokenizer": {"vocab": "vocab.json", "spiece_model": "spiece.model"},
        "files": {"albert_x_xnnpack_int8.pte": {"bytes": len(pte), "sha256": sha(pte)},
                  "vocab.json": {"bytes": len(vocab), "sha256": sha(vocab)}},
    }
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


@pytest.fixture
def android_dir(tmp_path):
    (tmp_path / "android" / "app").mkdir(parents=True)
    return tmp_path / "android"


def edit_manifest(export_dir, **changes):
    manifest = json.loads((export_dir / "manifest.json").read_text())
    manifest.update(changes)
    (export_dir / "manifest.json").write_text(json.dumps(manifest))


def test_bundle_copies_and_is_idempotent(export_dir, android_dir):
    assets = bundle(export_dir, android_dir)
    names = sorted(p.name for p in assets.iterdir())
    assert names == ["albert_x_xnnpack_int8.pte", "manifest.json", "vocab.json"]
    (assets / "stale.pte").write_bytes(b"old")
    again = bundle(export_dir, android_dir)
    assert sorted(p.name for p in again.iterdir()) == names
    assert (again / "albert_x_xnnpack_int8.pte").read_bytes() == (export_dir / "albert_x_xnnpack_int8.pte").read_bytes()
    assert not [p for p in assets.parent.iterdir() if p.name.startswith(".assets")]
    # The app's assets folder and its files are ordinary ones (a 0700 folder breaks builds run as another user).
    umask = os.umask(0)
    os.umask(umask)
    assert again.stat().st_mode & 0o777 == 0o777 & ~umask
    assert {p.stat().st_mode & 0o777 for p in again.iterdir()} == {0o644}


@pytest.mark.parametrize("change, message", [
    (dict(task="question-answering"), "not supported by the demo app"),
    (dict(labels=None), "no labels"),
    (dict(inputs=[{"name": "input_ids"}, {"name": "attention_mask"}, {"name": "token_type_ids"}]), "the app passes"),
    (dict(artifacts={"pte": None, "onnx": "m.onnx"}), "no .pte"),
    (dict(tokenizer=None), "no tokenizer vocabulary"),
])
def test_refuses_what_the_app_cannot_run(export_dir, android_dir, change, message):
    bundle(export_dir, android_dir)
    before = sorted(p.name for p in (android_dir / "app/src/main/assets").iterdir())
    edit_manifest(export_dir, **change)
    with pytest.raises(BundleError, match=message):
        bundle(export_dir, android_dir)
    assert sorted(p.name for p in (android_dir / "app/src/main/assets").iterdir()) == before  # previous bundle kept


def test_refuses_a_tampered_pte(export_dir, android_dir):
    (export_dir / "albert_x_xnnpack_int8.pte").write_bytes(b"something else")
    with pytest.raises(BundleError, match="sha256 differs"):
        bundle(export_dir, android_dir)
    assert not (android_dir / "app/src/main/assets").exists()


def test_refuses_missing_manifest_and_wrong_project(export_dir, android_dir, tmp_path):
    (export_dir / "manifest.json").unlink()
    with pytest.raises(BundleError, match="no manifest.json"):
        bundle(export_dir, android_dir)
    with pytest.raises(BundleError, match="no app/ folder"):
        bundle(export_dir, tmp_path / "nowhere")


def test_cli_one_line_error_and_exit_code(export_dir, android_dir, capsys):
    edit_manifest(export_dir, task="masked-lm")
    with pytest.raises(SystemExit) as exit_info:
        main([str(export_dir), str(android_dir)])
    assert str(exit_info.value).startswith("error: ") and "\n" not in str(exit_info.value)


def test_the_stepwise_program_travels_with_the_app_and_is_checked(export_dir, android_dir):
    data = b"ET12 stepwise" * 10
    (export_dir / "albert_x_xnnpack_int8_stepwise.pte").write_bytes(data)
    manifest = json.loads((export_dir / "manifest.json").read_text())
    edit_manifest(export_dir, artifacts={**manifest["artifacts"], "pte_stepwise": "albert_x_xnnpack_int8_stepwise.pte"},
                  files={**manifest["files"], "albert_x_xnnpack_int8_stepwise.pte": {"bytes": len(data),
                                                                                    "sha256": sha(data)}},
                  stepwise={"schedule": ["layer_0", "layer_0"], "exit_policy": {"kind": "entropy", "value": 0.9}})
    assets = bundle(export_dir, android_dir)
    assert (assets / "albert_x_xnnpack_int8_stepwise.pte").read_bytes() == data
    (export_dir / "albert_x_xnnpack_int8_stepwise.pte").write_bytes(data[::-1])
    with pytest.raises(BundleError, match="stepwise.pte: sha256 differs from manifest.json"):
        bundle(export_dir, android_dir)
