"""`python -m albert_edge.export` end to end on a random-weight `transformers` checkpoint: files, manifest,
delegation, outputs against transformers at two lengths from one artifact, and every bad input."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from albert_edge import export as export_module
from albert_edge import runtime
from albert_edge.export import ExportError, export, main
from albert_edge.manifest import Manifest
from albert_edge.tokenizer import AlbertTokenizer
from albert_edge.verify import compute_error

transformers = pytest.importorskip("transformers")

BUNDLED_SPIECE = Path(export_module.__file__).resolve().with_name("assets") / "spiece.model"
MAX_LEN = 32
N_BUILTIN = len(export_module._read_text_lines(export_module.VERIFY_SENTENCES, "built-in", comments=True))
OUTSIDE_OK = {"aten_embedding_default", "torchao_dequantize_affine_default", "aten_slice_copy_tensor",
              "aten_select_copy_int", "dim_order_ops__to_dim_order_copy_default", "getitem", "sym_size"}
MANIFEST_KEYS = {"format", "name", "task", "max_seq_len", "config", "labels", "inputs", "outputs", "quantization",
                 "artifacts", "files", "tokenizer", "versions", "verification"}
LABELS = {0: "negative", 1: "positive"}


def hf_config(**overrides):
    # vocab 16000 covers the bundled tokenizer's ids; 2 applications of one shared layer.
    kwargs = dict(vocab_size=16000, embedding_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                  intermediate_size=37, max_position_embeddings=64, hidden_act="gelu_new", id2label=LABELS,
                  label2id={v: k for k, v in LABELS.items()})
    return transformers.AlbertConfig(**{**kwargs, **overrides})


def save_hf(directory: Path, cls=None, **overrides) -> Path:
    if not BUNDLED_SPIECE.is_file():
        pytest.skip("bundled tokenizer albert_edge/assets/spiece.model not found")
    torch.manual_seed(0)
    model = (cls or transformers.AlbertForSequenceClassification)(hf_config(**overrides)).eval()
    model.save_pretrained(directory)
    shutil.copy(BUNDLED_SPIECE, directory / "spiece.model")
    return directory


@pytest.fixture(scope="module")
def hf_dir(tmp_path_factory) -> Path:
    return save_hf(tmp_path_factory.mktemp("hf") / "albert-tiny-sst")


@pytest.fixture(scope="module")
def hf_model(hf_dir):
    return transformers.AlbertForSequenceClassification.from_pretrained(hf_dir).eval()


@pytest.fixture(scope="module")
def eval_tsv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("eval") / "eval.tsv"
    rows = ["sentence\tlabel", "a gripping , funny film .\t1", "dull and far too long .\tnegative",
            "the best thing about it is the music .\tpositive", "i wanted my money back .\t0"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def exports(hf_dir, eval_tsv, tmp_path_factory):
    out = tmp_path_factory.mktemp("exports")
    int8 = export(hf_dir, int8=True, max_seq_len=MAX_LEN, out=out / "int8", threads=1, progress=False)
    fp32 = export(hf_dir, max_seq_len=MAX_LEN, out=out / "fp32", eval_data=eval_tsv, progress=False)
    return {"int8": int8, "fp32": fp32}


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


# -- a good export ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_export_writes_artifacts_links_and_tokenizer(exports, precision):
    result = exports[precision]
    out = result.out
    pte, onnx_file = f"albert_tiny-sst_xnnpack_{precision}.pte", f"albert_tiny-sst_{precision}.onnx"
    assert {p.name for p in out.iterdir()} == {pte, onnx_file, "model.pte", "model.onnx", "spiece.model",
                                              "vocab.json", "tokenizer_config.json", "manifest.json"}
    assert os.readlink(out / "model.pte") == pte and os.readlink(out / "model.onnx") == onnx_file
    assert (out / "spiece.model").read_bytes() == BUNDLED_SPIECE.read_bytes()
    vocab = json.loads((out / "vocab.json").read_text(encoding="utf-8"))
    assert len(vocab["pieces"]) == AlbertTokenizer(BUNDLED_SPIECE).vocab_size
    assert leftovers(out.parent) == []


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_manifest_keys_and_hashes(exports, hf_dir, precision):
    result = exports[precision]
    manifest = json.loads((result.out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == result.manifest
    assert MANIFEST_KEYS <= set(manifest)
    assert manifest["format"] == "albert_edge.export/1"
    assert manifest["task"] == "sequence-classification" and manifest["max_seq_len"] == MAX_LEN
    assert manifest["labels"] == {"0": "negative", "1": "positive"}
    assert manifest["config"]["hidden_size"] == 32
    assert manifest["inputs"] == [
        {"name": "input_ids", "dtype": "int64", "shape": [1, "seq"], "seq_range": [1, MAX_LEN]},
        {"name": "attention_mask", "dtype": "int64", "shape": [1, "seq"], "seq_range": [1, MAX_LEN]},
    ]
    assert manifest["outputs"] == [{"name": "logits", "dtype": "float32", "shape": [1, 2]}]
    assert manifest["tokenizer"]["vocab"] == "vocab.json" and manifest["tokenizer"]["spiece_model"] == "spiece.model"
    assert manifest["tokenizer"]["do_lower_case"] is True
    json.loads((result.out / "manifest.json").read_text(), parse_constant=pytest.fail)  # strict JSON
    needs = manifest["runtime_requirements"]
    # An int8 .pte's embedding runs ExecuTorch's quantized kernel, which plain executorch.runtime does not register.
    assert any("executorch.kernels.quantized" in n for n in needs["pte"]) == (precision == "int8")
    assert needs["onnx"]
    for file, info in manifest["files"].items():
        data = (result.out / file).read_bytes()
        assert info == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}, file
    assert set(manifest["files"]) == {p.name for p in result.out.iterdir()} - {"manifest.json", "model.pte",
                                                                               "model.onnx"}
    assert set(manifest["artifacts"].values()) <= set(manifest["files"])
    assert {"torch", "executorch", "torchao", "onnx", "onnxruntime", "albert_edge"} <= set(manifest["versions"])
    assert manifest["versions"]["torch"] == importlib.metadata.version("torch")
    if precision == "int8":
        assert manifest["quantization"]["scheme"] == "int8-dynamic"
        assert "per-row" in manifest["quantization"]["embedding"]
    else:
        assert manifest["quantization"] is None


def test_full_delegation(exports):
    for result in exports.values():
        delegation = result.manifest["delegation"]
        assert delegation["partitions"] <= 2
        assert set(delegation["non_delegated_ops"]) <= OUTSIDE_OK, delegation


@pytest.mark.parametrize("precision", ["fp32", "int8"])
@pytest.mark.parametrize("backend", ["pte", "onnx"])
def test_artifact_matches_transformers_at_two_lengths(exports, hf_model, precision, backend):
    tokenizer = AlbertTokenizer(BUNDLED_SPIECE)
    runner = runtime.load(exports[precision].out, backend=backend)
    texts = ["Short one.", " ".join(["a long and winding sentence about nothing in particular"] * 6)]
    lengths = []
    for text in texts:
        enc = tokenizer.encode(text, max_length=MAX_LEN)
        ids, mask = np.array([enc.input_ids]), np.array([enc.attention_mask])
        lengths.append(ids.shape[1])
        got = runner.run(input_ids=ids, attention_mask=mask)[0]
        with torch.no_grad():
            want = hf_model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).logits.numpy()
        if precision == "fp32":
            np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)
        else:
            snr = compute_error(want, got)
            assert snr > 25, snr
    assert lengths[0] < 8 and lengths[1] == MAX_LEN  # both from one artifact, neither padded


def test_length_one_runs(exports, hf_model):
    for backend in ("pte", "onnx"):
        runner = runtime.load(exports["fp32"].out, backend=backend)
        got = runner.run(input_ids=np.array([[2]]), attention_mask=np.array([[1]]))[0]
        with torch.no_grad():
            want = hf_model(input_ids=torch.tensor([[2]])).logits.numpy()
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)


def test_verification_figures(exports):
    int8 = exports["int8"].manifest["verification"]
    assert int8["sentences"] == N_BUILTIN and "verify_sentences.txt" in int8["source"]
    for backend in ("pte", "onnx"):
        figures = int8[backend]
        assert figures["top1_agreement"] >= 0.99
        assert figures["predictions"] == N_BUILTIN
        assert figures["snr_db"] > 20 and figures["max_abs_diff"] > 0
        assert figures["accuracy"] is None
    fp32 = exports["fp32"].manifest["verification"]
    assert fp32["sentences"] == 4 and "eval.tsv" in fp32["source"]
    for backend in ("pte", "onnx"):
        assert fp32[backend]["top1_agreement"] == 1.0 and fp32[backend]["max_abs_diff"] < 1e-4
        assert fp32[backend]["accuracy"] == fp32["eager"]["accuracy"]  # fp32 artifacts predict exactly as eager


def test_int8_size_bound_from_parameter_count(exports, hf_model):
    """Each weight stored once: 1 byte per int8 weight, 8 per row (scale, zero point), 4 per fp32 leftover, 64 KB
    program. (tests/test_quantize.py checks the same bound on a model where the shared layer dominates.)"""
    manifest = exports["int8"].manifest
    bound = 65536
    for name, p in hf_model.named_parameters():
        small = p.dim() < 2 or "position_embeddings" in name or "token_type_embeddings" in name
        bound += 4 * p.numel() if small else p.numel() + 8 * p.shape[0]
    for artifact in manifest["artifacts"].values():
        assert manifest["files"][artifact]["bytes"] <= bound, artifact
    fp32 = exports["fp32"].manifest
    assert fp32["files"][fp32["artifacts"]["pte"]]["bytes"] >= 4 * manifest["parameters"]


def test_question_answering_export_takes_token_types(tmp_path):
    hf = save_hf(tmp_path / "qa", transformers.AlbertForQuestionAnswering)
    result = export(hf, backend="onnx", max_seq_len=MAX_LEN, out=tmp_path / "out", progress=False)
    manifest = result.manifest
    assert manifest["task"] == "question-answering" and manifest["labels"] is None
    assert [i["name"] for i in manifest["inputs"]] == ["input_ids", "attention_mask", "token_type_ids"]
    assert [o["name"] for o in manifest["outputs"]] == ["start_logits", "end_logits"]
    assert manifest["artifacts"] == {"pte": None, "onnx": "albert_qa_fp32.onnx"}
    figures = manifest["verification"]["onnx"]
    assert figures["predictions"] == 2 * N_BUILTIN  # start and end per input
    assert figures["top1_agreement"] == 1.0


def test_ort_format_is_written_verified_and_runs(tmp_path, hf_dir):
    """--ort-format: ONNX Runtime's mobile format beside the .onnx, verified against eager like the other artifacts,
    with the operator list a reduced ORT build needs (naming the model, not a path on this machine)."""
    result = export(hf_dir, int8=True, backend="onnx", ort_format=True, max_seq_len=MAX_LEN, out=tmp_path / "out",
                    progress=False)
    manifest, out = result.manifest, result.out
    name = manifest["artifacts"]["ort"]
    assert name == manifest["artifacts"]["onnx"].replace(".onnx", ".ort") and (out / name).is_file()
    config = (out / manifest["ort_operators"]).read_text()
    assert "com.microsoft;1;" in config and "QAttention" in config and "DynamicQuantizeMatMul" in config
    assert str(tmp_path) not in config and f"# - {name}" in config
    assert manifest["files"][name]["sha256"]
    assert manifest["verification"]["ort"]["top1_agreement"] >= 0.99
    runner = runtime.load(out, backend="ort")
    ids = np.array([[2, 15, 27, 3]], dtype=np.int64)
    got = runner.run(input_ids=ids, attention_mask=np.ones_like(ids))[0]
    want = runtime.load(out, backend="onnx").run(input_ids=ids, attention_mask=np.ones_like(ids))[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_task_override_and_no_tokenizer(tmp_path):
    hf = save_hf(tmp_path / "tok", transformers.AlbertForTokenClassification)
    (hf / "spiece.model").unlink()
    result = export(hf, task="feature-extraction", backend="onnx", max_seq_len=16, out=tmp_path / "out",
                    progress=False)
    manifest = result.manifest
    assert manifest["task"] == "feature-extraction" and manifest["tokenizer"] is None
    assert manifest["outputs"] == [{"name": "last_hidden_state", "dtype": "float32", "shape": [1, "seq", 32]}]
    # Real sentences still drive verification: the bundled tokenizer encodes them (its ids fit this vocabulary).
    assert "ids from the bundled tokenizer" in manifest["verification"]["source"]
    assert manifest["verification"]["onnx"]["top1_agreement"] is None
    assert manifest["verification"]["onnx"]["max_abs_diff"] < 1e-4


def test_static_calibration_from_text_file(tmp_path, hf_dir):
    lines = export_module._read_text_lines(export_module.VERIFY_SENTENCES, "built-in", comments=True)[:24]
    calibration = write(tmp_path / "calib.txt", "\n".join(lines).encode())
    result = export(hf_dir, int8=True, backend="onnx", calibration=calibration, max_seq_len=MAX_LEN,
                    out=tmp_path / "out", progress=False)
    quantization = result.manifest["quantization"]
    assert quantization["scheme"] == "int8-static" and quantization["calibration_lines"] == 24
    assert quantization["pte"] is None and "static" in quantization["onnx"]["linear"]
    assert result.manifest["verification"]["onnx"]["top1_agreement"] >= 0.99


def test_reads_sst2_dev_tsv(data_dir):
    from albert_edge.config import AlbertConfig

    config = AlbertConfig(id2label=LABELS)
    sentences, labels = export_module.read_eval_data(data_dir / "sst2" / "dev.tsv", config,
                                                     "sequence-classification")
    assert len(sentences) == len(labels) == 872
    assert set(labels) == {0, 1} and sentences[0] != "sentence"


# -- bad input: one line, nothing written --------------------------------------------------------------------------
def corrupt_weights(tmp_path: Path, hf_dir: Path) -> Path:
    bad = tmp_path / "corrupt"
    shutil.copytree(hf_dir, bad)
    (bad / "model.safetensors").write_bytes(b"\x00" * 64)
    return bad


@pytest.mark.parametrize("case, kwargs, message", [
    ("missing", lambda t, h: {"model": t / "nope" / "model"}, "no such directory"),
    ("no config", lambda t, h: {"model": t}, "config.json"),
    ("corrupt", lambda t, h: {"model": corrupt_weights(t, h)}, "corrupt"),
    ("task", lambda t, h: {"model": h, "task": "summarization"}, "unknown task 'summarization'"),
    ("pretraining", lambda t, h: {"model": h, "task": "pretraining"}, "unknown task 'pretraining'"),
    ("seq len", lambda t, h: {"model": h, "max_seq_len": 65}, "exceeds the model's max_position_embeddings"),
    ("backend", lambda t, h: {"model": h, "backend": "tflite"}, "--backend"),
    ("ort format pte", lambda t, h: {"model": h, "backend": "pte", "ort_format": True}, "--ort-format"),
    ("calibration empty", lambda t, h: {"model": h, "int8": True, "calibration": write(t / "c.txt", b"\n  \n")},
     "no text lines"),
    ("calibration binary", lambda t, h: {"model": h, "int8": True, "calibration": write(t / "c.txt", b"\xff\xfe\x00a")},
     "not UTF-8"),
    ("calibration missing", lambda t, h: {"model": h, "int8": True, "calibration": t / "none.txt"}, "no such file"),
    ("calibration fp32", lambda t, h: {"model": h, "calibration": write(t / "c.txt", b"hello\n")}, "add --int8"),
    ("eval labels", lambda t, h: {"model": h, "eval_data": write(t / "e.tsv", b"good film\tmaybe\n")},
     r"e.tsv:1: label 'maybe' is not an integer 0..1 or one of \['negative', 'positive'\]"),
    ("eval 3 columns", lambda t, h: {"model": h, "eval_data": write(t / "e.tsv", b"good\tfilm\t1\n")},
     "e.tsv:1: 3 field.s.; a file without a header row has exactly 2"),
    ("eval non-UTF-8", lambda t, h: {"model": h, "eval_data": write(t / "e.tsv", b"good\t1\nb\xe9d\t0\n")},
     "e.tsv:2: not UTF-8 text"),
    ("out not writable", lambda t, h: {"model": h, "out": write(t / "file", b"x") / "sub"}, "not a writable"),
    ("out not empty", lambda t, h: {"model": h, "out": write(t / "full" / "x", b"x").parent}, "--force"),
])
def test_bad_input_fails_before_writing(tmp_path, hf_dir, case, kwargs, message):
    work = tmp_path / "work"
    work.mkdir()
    args = kwargs(work, hf_dir)
    args.setdefault("out", tmp_path / "out")
    args.setdefault("max_seq_len", MAX_LEN)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(ExportError, match=message) as err:
        export(progress=False, **args)
    assert "\n" not in str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_cli_prints_one_line_and_exits_nonzero(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--model", str(tmp_path / "missing" / "dir"), "--out", str(tmp_path / "out")])
    assert str(exit_info.value.code).startswith("error: ") and "\n" not in str(exit_info.value.code)
    with pytest.raises(SystemExit) as exit_info:
        main(["--task", "summarization"])
    assert exit_info.value.code == 2  # argparse's own one-line usage error
    assert "invalid choice" in capsys.readouterr().err


def test_no_bundled_model_names_model_flag(tmp_path, monkeypatch):
    monkeypatch.setattr(export_module, "BUNDLED_MODEL", tmp_path / "assets")  # an install without bundled models
    for task in ([], ["--task", "question-answering"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["--out", str(tmp_path / "out"), *task])
        assert "--model" in str(exit_info.value.code) and "\n" not in str(exit_info.value.code)
    assert "no bundled question-answering model" in str(exit_info.value.code)
    assert not (tmp_path / "out").exists()


# -- failures mid-way ----------------------------------------------------------------------------------------------
def fake_pte(model, path, **kwargs):
    path.write_bytes(b"\x00\x00\x00\x00ET12 partial")
    return {"partitions": 1, "delegated_nodes": 1, "non_delegated_nodes": 0, "non_delegated_ops": {}}


def test_interrupted_export_leaves_nothing(tmp_path, hf_dir, monkeypatch):
    def interrupted(model, path, **kwargs):
        path.write_bytes(b"half an onnx file")
        raise KeyboardInterrupt

    monkeypatch.setattr(export_module, "export_pte", fake_pte)
    monkeypatch.setattr(export_module, "export_onnx", interrupted)
    with pytest.raises(KeyboardInterrupt):
        export(hf_dir, max_seq_len=MAX_LEN, out=tmp_path / "out", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_failed_agreement_writes_nothing(tmp_path, hf_dir, monkeypatch):
    def poor(model, artifacts, examples, *args, **kwargs):
        return {"pte": {"top1_agreement": 0.5, "snr_db": 3.0}}

    monkeypatch.setattr(export_module, "export_pte", fake_pte)
    monkeypatch.setattr(export_module, "verify_artifacts", poor)
    with pytest.raises(ExportError, match=r"agreement .* 0.5000 < --min-agreement 0.99"):
        export(hf_dir, backend="pte", max_seq_len=MAX_LEN, out=tmp_path / "out", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_force_replaces_existing_output(tmp_path, hf_dir, monkeypatch):
    monkeypatch.setattr(export_module, "export_pte", fake_pte)
    out = write(tmp_path / "out" / "old.txt", b"old").parent
    with pytest.raises(ExportError, match="--force"):
        export(hf_dir, backend="pte", max_seq_len=MAX_LEN, out=out, verify=False, progress=False)
    result = export(hf_dir, backend="pte", max_seq_len=MAX_LEN, out=out, verify=False, force=True,
                    progress=False)
    assert not (out / "old.txt").exists() and (out / "manifest.json").is_file()
    assert result.manifest["verification"] is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


CONLL = """John NNP B-NP B-PER
Smith NNP I-NP I-PER
lives VBZ B-VP O
in IN B-PP O
Paris NNP B-NP B-LOC

The DT B-NP O
bank NN I-NP O
in IN B-PP O
New NNP B-NP B-LOC
York NNP I-NP I-LOC
closed VBD B-VP O

Mary NNP B-NP B-PER
visited VBD B-VP O
Rome NNP B-NP B-LOC
"""
NER_TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def test_ner_eval_data_records_task_metrics_for_eager_and_artifacts(tmp_path, monkeypatch):
    hf = save_hf(tmp_path / "ner", transformers.AlbertForTokenClassification,
                 id2label=dict(enumerate(NER_TAGS)), label2id={t: i for i, t in enumerate(NER_TAGS)})
    # An "@" in a directory name is not an article range: FILE@a:b is parsed in one place, by the last "@".
    data = write(tmp_path / "data@v1" / "valid.txt", CONLL.encode())
    writes = []
    real_write = Manifest.write
    monkeypatch.setattr(Manifest, "write", lambda self, d: writes.append(d) or real_write(self, d))
    result = export(hf, backend="onnx", max_seq_len=MAX_LEN, out=tmp_path / "out", eval_data=data, progress=False)
    assert len(writes) == 1  # the task metrics ran on the manifest in memory; the file is written once, complete
    assert Manifest.read(tmp_path / "out").to_dict() == result.manifest
    metrics = result.manifest["verification"]["task_metrics"]
    assert metrics["data"] == "valid.txt" and set(metrics) == {"data", "eager", "onnx"}
    assert metrics["eager"]["sentences"] == metrics["onnx"]["sentences"] == 3
    # Eager is scored at the export's length too (it used to take 128 whatever --max-seq-len was).
    assert metrics["eager"]["max_seq_len"] == metrics["onnx"]["max_seq_len"] == MAX_LEN
    # fp32 ONNX runs the same math as eager through the app's code path: the entity F1 must be the same.
    assert metrics["onnx"]["f1"] == pytest.approx(metrics["eager"]["f1"], abs=1e-6)
    # The logit comparison still ran on the built-in sentences, not on CoNLL lines.
    assert "verify_sentences.txt" in result.manifest["verification"]["source"]


def test_ner_eval_data_errors_are_one_line(tmp_path):
    hf = save_hf(tmp_path / "ner", transformers.AlbertForTokenClassification,
                 id2label=dict(enumerate(NER_TAGS)), label2id={t: i for i, t in enumerate(NER_TAGS)})
    with pytest.raises(ExportError, match="no such file"):
        export(hf, backend="onnx", max_seq_len=MAX_LEN, out=tmp_path / "out", eval_data=tmp_path / "nope.txt",
               progress=False)
    bad = write(tmp_path / "bad.txt", b"John NNP B-NP PERSON\n")  # not an IOB2 tag
    with pytest.raises(ExportError, match="--eval-data"):
        export(hf, backend="onnx", max_seq_len=MAX_LEN, out=tmp_path / "out", eval_data=bad, progress=False)
    assert not (tmp_path / "out").exists()


# -- masked LM: the tied embedding/decoder table once ---------------------------------------------------------------
def one_file(monkeypatch):
    """Export as before: no tied table found, so the .pte stores it twice (the comparison for the two-file form)."""
    from albert_edge import lowering

    monkeypatch.setattr(lowering, "tied_table_bytes", lambda programs: None)


@pytest.fixture(scope="module")
def mlm_hf(tmp_path_factory) -> Path:
    return save_hf(tmp_path_factory.mktemp("mlm_hf") / "mlm", transformers.AlbertForMaskedLM)


@pytest.fixture(scope="module")
def mlm_exports(mlm_hf, eval_tsv, tmp_path_factory):
    """A masked-LM checkpoint exported int8 as .pte + .ptd (the default) and as one file, forward and stepwise."""
    root = tmp_path_factory.mktemp("mlm")
    hf = mlm_hf
    # Verified on 4 sentences (the built-in 400 with 16,000-way logits at every position cost minutes). Random
    # weights give near-tied vocabulary logits, so int8 flips some top-1 tokens: agreement ~0.97.
    two = export(hf, int8=True, backend="pte", stepwise=True, max_seq_len=MAX_LEN, out=root / "two", threads=1,
                 eval_data=eval_tsv, min_agreement=0.9, progress=False)
    with pytest.MonkeyPatch.context() as patch:
        one_file(patch)
        one = export(hf, int8=True, backend="pte", stepwise=True, max_seq_len=MAX_LEN, out=root / "one",
                     verify=False, progress=False)
    return hf, two, one


@pytest.mark.slow  # the int8 forward + stepwise exports, twice: ~3 minutes on 2 cores
def test_masked_lm_stores_the_tied_table_once(mlm_exports):
    hf, two, one = mlm_exports
    config = hf_config()
    table = config.vocab_size * config.embedding_size  # int8 weights alone
    assert one.manifest["external_data"] is None and not list(one.out.glob("*.ptd"))
    assert set(two.manifest["external_data"]) == {"pte", "pte_stepwise"}
    files = two.manifest["files"]
    for backend in ("pte", "pte_stepwise"):
        data = two.manifest["external_data"][backend]
        assert data == two.manifest["artifacts"][backend].replace(".pte", ".ptd")
        assert table <= files[data]["bytes"] < 1.5 * table  # one copy (+ its scales), not two
        total = files[two.manifest["artifacts"][backend]]["bytes"] + files[data]["bytes"]
        assert total <= one.manifest["files"][one.manifest["artifacts"][backend]]["bytes"] - 0.9 * table, backend
    # The same program otherwise: both forms give bit-identical logits, verified against eager.
    ids = np.array([[2, 15, 27, 4, 3]], dtype=np.int64)
    for backend in ("pte", "pte_stepwise"):
        got = runtime.load(two.out, backend=backend).run(input_ids=ids, attention_mask=np.ones_like(ids))[0]
        want = runtime.load(one.out, backend=backend).run(input_ids=ids, attention_mask=np.ones_like(ids))[0]
        np.testing.assert_array_equal(got, want)
        assert two.manifest["verification"][backend]["snr_db"] > 15
    hf_model = transformers.AlbertForMaskedLM.from_pretrained(hf).eval()
    with torch.no_grad():
        reference = hf_model(torch.from_numpy(ids), attention_mask=torch.ones(1, 5, dtype=torch.long)).logits.numpy()
    assert compute_error(torch.from_numpy(reference), torch.from_numpy(got)) > 15  # SNR in dB


def test_fp32_masked_lm_stores_the_table_once(mlm_hf, tmp_path, monkeypatch):
    from albert_edge.hub import from_pretrained
    from albert_edge.lowering import export_pte

    net = from_pretrained(mlm_hf)
    names = ["input_ids", "attention_mask"]
    export_pte(net, tmp_path / "two.pte", input_names=names, max_seq_len=MAX_LEN)
    one_file(monkeypatch)
    export_pte(net, tmp_path / "one.pte", input_names=names, max_seq_len=MAX_LEN)
    table = 4 * net.config.vocab_size * net.config.embedding_size
    two_bytes = (tmp_path / "two.pte").stat().st_size + (tmp_path / "two.ptd").stat().st_size
    assert table <= (tmp_path / "two.ptd").stat().st_size < 1.1 * table
    assert two_bytes <= (tmp_path / "one.pte").stat().st_size - 0.9 * table
    ids = np.array([[2, 15, 27, 4, 3]], dtype=np.int64)
    got = runtime.load(tmp_path / "two.pte", vocab_size=16000).run(input_ids=ids, attention_mask=np.ones_like(ids))[0]
    with torch.no_grad():
        want = net(torch.from_numpy(ids), torch.ones(1, 5, dtype=torch.long))
    want = (want[0] if isinstance(want, tuple) else want).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_masked_lm_onnx_stores_the_tied_table_once(mlm_hf, eval_tsv, tmp_path, monkeypatch):
    """The .onnx decoder reads the word-embedding table itself (fp32: Gemm with transB; int8: the per-row table with
    its row scales), where the exporter's folded copy stored it twice."""
    import onnx
    from onnx import numpy_helper

    import quantize.onnx

    config = hf_config()
    vocab, width = config.vocab_size, config.embedding_size
    ids = np.array([[2, 15, 27, 4, 3]], dtype=np.int64)
    hf_model = transformers.AlbertForMaskedLM.from_pretrained(mlm_hf).eval()
    with torch.no_grad():
        want = hf_model(torch.from_numpy(ids), attention_mask=torch.ones(1, 5, dtype=torch.long)).logits.numpy()

    def exported(int8: bool, out: Path):
        result = export(mlm_hf, int8=int8, backend="onnx", max_seq_len=MAX_LEN, out=out, threads=1,
                        eval_data=eval_tsv, min_agreement=0.9, progress=False)
        graph = onnx.load(str(out / result.manifest["artifacts"]["onnx"])).graph
        tables = [i for i in graph.initializer if sorted(i.dims) == sorted([vocab, width])]
        weights = sum(numpy_helper.to_array(i).nbytes for i in graph.initializer)
        got = runtime.load(out, backend="onnx").run(input_ids=ids, attention_mask=np.ones_like(ids))[0]
        return tables, weights, got

    for int8, per_value in ((False, 4), (True, 1)):
        tables, weights, got = exported(int8, tmp_path / f"tied{int(int8)}")
        assert [list(t.dims) for t in tables] == [[vocab, width]], int8  # one table, no transposed copy
        if int8:
            assert tables[0].data_type == onnx.TensorProto.INT8
            assert compute_error(torch.from_numpy(want), torch.from_numpy(got)) > 15  # SNR in dB
        else:
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
        with monkeypatch.context() as patch:  # as before: the decoder keeps the exporter's copy
            patch.setattr(quantize.onnx, "tied_decoders", lambda model: {})
            untied_tables, untied_weights, _ = exported(int8, tmp_path / f"untied{int(int8)}")
        assert len(untied_tables) == 2
        assert weights <= untied_weights - 0.9 * per_value * vocab * width, int8


@pytest.mark.slow
def test_masked_lm_program_without_its_data_file_is_refused(mlm_exports, tmp_path):
    """ExecuTorch ends the process when a program's external data is missing; the runtime refuses first."""
    _, two, _ = mlm_exports
    out, manifest = two.out, two.manifest
    pte, ptd = manifest["artifacts"]["pte"], manifest["external_data"]["pte"]
    ids = np.array([[2, 15, 3]], dtype=np.int64)
    assert runtime.load(out / "model.pte").run(input_ids=ids, attention_mask=np.ones_like(ids))  # via the link
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(out / pte, alone / pte)
    with pytest.raises(runtime.RuntimeLoadError, match=rf"in {ptd}, which is not beside it; copy the export's "):
        runtime.load(alone / pte, vocab_size=16000)
    shutil.copy(out / ptd, alone / ptd)
    assert runtime.load(alone / pte, vocab_size=16000).run(input_ids=ids, attention_mask=np.ones_like(ids))
    broken = tmp_path / "broken"
    shutil.copytree(out, broken, symlinks=True)
    data = bytearray((broken / ptd).read_bytes())
    data[-1] ^= 0xFF
    (broken / ptd).write_bytes(bytes(data))
    with pytest.raises(runtime.IntegrityError, match=rf"{ptd}: sha256 differs"):
        runtime.load(broken)
    (broken / ptd).unlink()
    with pytest.raises(runtime.RuntimeLoadError, match=rf"{ptd}: missing \(the pte program keeps weights there\)"):
        runtime.load(broken)
    with pytest.raises(runtime.RuntimeLoadError, match="missing"):
        runtime.load(broken / pte)


def test_tied_table_found_only_where_both_copies_quantize_alike(mlm_hf):
    """Dynamic int8 linears and the int8 per-row table quantize alike (equal bytes: one copy); calibrated PT2E
    linears or an int4 table do not, and the .pte stays one file."""
    from albert_edge import lowering
    from albert_edge.hub import from_pretrained
    from quantize.xnnpack import XnnpackInt8Recipe

    net = from_pretrained(mlm_hf)
    names = ["input_ids", "attention_mask"]
    args = lowering.example_inputs(net.config, names, MAX_LEN)
    shapes = lowering.seq_dynamic_shapes(names, MAX_LEN)
    vocab, width = net.config.vocab_size, net.config.embedding_size
    found = {recipe: lowering.tied_table_bytes({"forward": recipe.quantize(net, args, shapes, [args])})
             for recipe in (XnnpackInt8Recipe(), XnnpackInt8Recipe(linear="static"),
                            XnnpackInt8Recipe(embedding="int4", embedding_group_size=8))}
    assert list(found.values()) == [vocab * width + 4 * vocab + vocab, None, None]  # int8 data, fp32 scale, int8 zp
    fp32 = torch.export.export(net, args, dynamic_shapes=shapes)
    assert lowering.tied_table_bytes({"forward": fp32}) == 4 * vocab * width
    from albert_edge.model import AlbertForSequenceClassification

    classifier = AlbertForSequenceClassification(net.config).eval()  # no decoder: nothing tied
    assert lowering.tied_table_bytes({"forward": torch.export.export(classifier, args, dynamic_shapes=shapes)}) is None
