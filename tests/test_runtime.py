"""albert_edge.runtime: one Runner interface over ExecuTorch and ONNX Runtime, checked against the eager model."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from albert_edge import files, runtime
from albert_edge.config import AlbertConfig
from albert_edge.lowering import export_onnx, export_pte
from albert_edge.model import model_for_task

MAX_LEN = 32


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    """A tiny fp32 question-answering model (3 inputs, 2 outputs) as .pte and .onnx, and its eager original."""
    torch.manual_seed(0)
    config = AlbertConfig(vocab_size=300, embedding_size=16, hidden_size=32, num_hidden_layers=2,
                          num_attention_heads=2, intermediate_size=48, max_position_embeddings=64)
    model = model_for_task(config, "question-answering").eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    directory = tmp_path_factory.mktemp("runtime")
    export_pte(model, directory / "qa.pte", input_names=names, max_seq_len=MAX_LEN)
    export_onnx(model, directory / "qa.onnx", input_names=names, max_seq_len=MAX_LEN)
    return model, directory


def inputs(length: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, 300, size=(1, length), dtype=np.int64)
    types = np.zeros_like(ids)
    types[0, length // 2:] = 1
    return {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": types}


def eager(model, feed) -> list[np.ndarray]:
    with torch.no_grad():
        out = model(*(torch.from_numpy(feed[n]) for n in ("input_ids", "attention_mask", "token_type_ids")))
    return [o.numpy() for o in out]


@pytest.mark.parametrize("suffix", ["pte", "onnx"])
def test_runner_matches_eager_at_several_lengths(artifacts, suffix):
    model, directory = artifacts
    with runtime.load(directory / f"qa.{suffix}", vocab_size=300, threads=1) as runner:
        assert runner.backend == suffix
        assert runner.input_names == ["input_ids", "attention_mask", "token_type_ids"]
        for length in (1, 7, MAX_LEN):
            feed = inputs(length, seed=length)
            got = runner.run(feed)
            want = eager(model, feed)
            assert [g.shape for g in got] == [(1, length), (1, length)]
            for g, w in zip(got, want):
                np.testing.assert_allclose(g, w, atol=1e-4, rtol=1e-4)
        # Keyword arrays work as well as a dict; a 1-D sequence is taken as batch 1.
        feed = inputs(5)
        kw = runner.run(input_ids=feed["input_ids"][0], attention_mask=feed["attention_mask"],
                        token_type_ids=feed["token_type_ids"])
        np.testing.assert_allclose(kw[0], runner.run(feed)[0])


def test_pte_outputs_are_copies(artifacts):
    _, directory = artifacts
    runner = runtime.load(directory / "qa.pte", vocab_size=300)
    first = runner.run(inputs(6, seed=1))[0].copy()
    kept = runner.run(inputs(6, seed=1))[0]
    runner.run(inputs(6, seed=2))  # would overwrite planned output memory if `kept` aliased it
    np.testing.assert_array_equal(kept, first)


def test_threads_are_honoured(artifacts):
    from executorch.extension.pybindings import portable_lib

    _, directory = artifacts
    onnx_runner = runtime.load(directory / "qa.onnx", vocab_size=300, threads=2)
    assert onnx_runner._session.get_session_options().intra_op_num_threads == 2
    runtime.load(directory / "qa.pte", vocab_size=300, threads=2)
    assert portable_lib._threadpool_get_thread_count() == 2
    runtime.load(directory / "qa.pte", vocab_size=300, threads=1)
    assert portable_lib._threadpool_get_thread_count() == 1
    with pytest.raises(runtime.RuntimeLoadError, match="threads"):
        runtime.load(directory / "qa.onnx", vocab_size=300, threads=0)


def test_load_export_directory_via_manifest(artifacts, tmp_path):
    _, directory = artifacts
    for suffix in ("pte", "onnx"):
        shutil.copy(directory / f"qa.{suffix}", tmp_path)
    manifest = {"format": "albert_edge.export/1", "name": "qa", "task": "question-answering",
                "artifacts": {"pte": "qa.pte", "onnx": "qa.onnx"},
                "inputs": [{"name": n} for n in ("input_ids", "attention_mask", "token_type_ids")],
                "outputs": [{"name": "start_logits"}, {"name": "end_logits"}],
                "config": {"vocab_size": 300, "type_vocab_size": 2}, "max_seq_len": MAX_LEN,
                "files": {f"qa.{s}": {"bytes": (tmp_path / f"qa.{s}").stat().st_size,
                                      "sha256": files.sha256_file(tmp_path / f"qa.{s}")} for s in ("pte", "onnx")}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    pte = runtime.load(tmp_path)
    assert pte.backend == "pte" and pte.output_names == ["start_logits", "end_logits"]
    onnx_runner = runtime.load(tmp_path, backend="onnx")
    assert onnx_runner.backend == "onnx" and onnx_runner.output_names == ["start_logits", "end_logits"]
    feed = inputs(9)
    np.testing.assert_allclose(pte.run(feed)[0], onnx_runner.run(feed)[0], atol=1e-4)


def test_bad_paths_raise_one_clear_error(artifacts, tmp_path):
    _, directory = artifacts
    with pytest.raises(runtime.RuntimeLoadError, match="no such file"):
        runtime.load(tmp_path / "missing.pte", vocab_size=300)
    (tmp_path / "model.bin").write_bytes(b"x")
    with pytest.raises(runtime.RuntimeLoadError, match="expected a .pte, .onnx or .ort file"):
        runtime.load(tmp_path / "model.bin", vocab_size=300)
    (tmp_path / "garbage.pte").write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(runtime.RuntimeLoadError, match="not an ExecuTorch program"):
        runtime.load(tmp_path / "garbage.pte", vocab_size=300)
    (tmp_path / "truncated.pte").write_bytes((directory / "qa.pte").read_bytes()[:2000])
    with pytest.raises(runtime.RuntimeLoadError, match="not a loadable ExecuTorch program"):
        runtime.load(tmp_path / "truncated.pte", vocab_size=300)
    (tmp_path / "garbage.onnx").write_bytes(b"not a protobuf")
    with pytest.raises(runtime.RuntimeLoadError, match="not a loadable ONNX model"):
        runtime.load(tmp_path / "garbage.onnx", vocab_size=300)
    with pytest.raises(runtime.RuntimeLoadError, match="no manifest.json"):
        runtime.load(tmp_path)


@pytest.mark.parametrize("suffix", ["pte", "onnx"])
def test_bad_inputs_raise_one_clear_error(artifacts, suffix):
    _, directory = artifacts
    runner = runtime.load(directory / f"qa.{suffix}", vocab_size=300)
    feed = inputs(4)
    with pytest.raises(runtime.RuntimeLoadError, match="missing"):
        runner.run(input_ids=feed["input_ids"], attention_mask=feed["attention_mask"])
    with pytest.raises(runtime.RuntimeLoadError, match="unexpected 'position_ids'"):
        runner.run(feed, position_ids=feed["input_ids"])
    with pytest.raises(runtime.RuntimeLoadError, match="shape"):
        runner.run({k: v[None] for k, v in feed.items()})


def test_pte_rejects_lengths_beyond_its_range(artifacts):
    _, directory = artifacts
    runner = runtime.load(directory / "qa.pte", vocab_size=300)
    with pytest.raises(runtime.InvalidInputError, match=rf"has {MAX_LEN + 1} tokens; qa.pte takes 1..{MAX_LEN}"):
        runner.run(inputs(MAX_LEN + 1))


def test_token_type_ids_dropped_only_when_all_zero(tmp_path):
    torch.manual_seed(0)
    config = AlbertConfig(vocab_size=300, embedding_size=16, hidden_size=32, num_hidden_layers=1,
                          num_attention_heads=2, intermediate_size=48, max_position_embeddings=64)
    model = model_for_task(config, "sequence-classification").eval()
    export_onnx(model, tmp_path / "cls.onnx", input_names=["input_ids", "attention_mask"], max_seq_len=16)
    runner = runtime.load(tmp_path / "cls.onnx", vocab_size=300)
    feed = inputs(6)
    feed["token_type_ids"][:] = 0
    with torch.no_grad():
        want = model(torch.from_numpy(feed["input_ids"]), torch.from_numpy(feed["attention_mask"])).numpy()
    np.testing.assert_allclose(runner.run(feed)[0], want, atol=1e-5)
    feed["token_type_ids"][0, 3:] = 1
    with pytest.raises(runtime.RuntimeLoadError, match="unexpected 'token_type_ids'"):
        runner.run(feed)


def test_known_harmless_noise_is_silenced_unless_verbose(artifacts):
    """torchao's CUDA-library load failures, torch's pytree deprecation and ExecuTorch's cpuinfo probe lines are not
    shown by default, and are with ALBERT_EDGE_VERBOSE=1; a real error still reaches stderr."""
    import os
    import subprocess
    import sys

    _, directory = artifacts
    probe = (f"from albert_edge import runtime; r = runtime.load({str(directory / 'qa.pte')!r}, vocab_size=300); "
             "import sys; print('real problem', file=sys.stderr)")
    quiet = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert quiet.stderr.strip() == "real problem", quiet.stderr
    loud = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                          env={**os.environ, "ALBERT_EDGE_VERBOSE": "1"})
    assert "Failed to load" in loud.stderr and "cpuinfo_utils" in loud.stderr
