"""Inputs are checked at the runtime's boundary before any kernel sees them (issue: hard edges).

ExecuTorch's int8 embedding kernel aborts the process on an out-of-range id, the int4 one segfaults on -1 and reads
garbage past the table, ONNX Gather wraps negative ids: every such input must raise `InvalidInputError` instead.
The risky cases run in a subprocess, so a regression fails this test rather than killing pytest.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from albert_edge import runtime
from albert_edge.export import export

transformers = pytest.importorskip("transformers")

VOCAB, MAX_LEN = 300, 16
# (case, input overrides): each must raise InvalidInputError naming the input.
BAD_INPUTS = {
    "id -1": {"input_ids": [[5, -1, 7]]},
    "id == vocab": {"input_ids": [[5, VOCAB, 7]]},
    "id 2**40": {"input_ids": [[5, 2**40, 7]]},
    "float ids": {"input_ids": [[5.0, 6.5, 7.0]]},
    "mask 7": {"attention_mask": [[1, 7, 1]]},
    "mask -1": {"attention_mask": [[1, -1, 1]]},
    "token type 2": {"token_type_ids": [[0, 2, 0]]},
    "seq max+1": {"input_ids": [[5] * (MAX_LEN + 1)], "attention_mask": [[1] * (MAX_LEN + 1)],
                  "token_type_ids": [[0] * (MAX_LEN + 1)]},
    "empty": {"input_ids": [[]], "attention_mask": [[]], "token_type_ids": [[]]},
    "batch 2": {"input_ids": [[5, 6, 7]] * 2, "attention_mask": [[1, 1, 1]] * 2, "token_type_ids": [[0, 0, 0]] * 2},
    "shapes differ": {"attention_mask": [[1, 1]]},
    "strings": {"input_ids": [["a", "b", "c"]]},
    "ragged": {"input_ids": [[5, 6], [7]]},
}
GOOD = {"input_ids": [[5, 6, 7]], "attention_mask": [[1, 1, 1]], "token_type_ids": [[0, 1, 1]]}


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    """A tiny QA model (3 inputs) exported as int8 (int8 embedding), int8 with an int4 embedding, and fp32."""
    root = tmp_path_factory.mktemp("edges")
    torch.manual_seed(0)
    config = transformers.AlbertConfig(vocab_size=VOCAB, embedding_size=32, hidden_size=32, num_hidden_layers=2,
                                       num_attention_heads=2, intermediate_size=37, max_position_embeddings=64)
    transformers.AlbertForQuestionAnswering(config).eval().save_pretrained(root / "hf")
    variants = {"int8": dict(int8=True), "int4": dict(int8=True, embedding="int4"), "fp32": dict()}
    return {name: export(root / "hf", max_seq_len=MAX_LEN, out=root / name, threads=1, verify=False,
                         progress=False, **kw).out for name, kw in variants.items()}


def feed(case: dict) -> dict:
    return {**GOOD, **case}


@pytest.mark.parametrize("variant", ["int8", "int4", "fp32"])
@pytest.mark.parametrize("backend", ["pte", "onnx"])
def test_bad_inputs_raise_and_the_process_survives(exports, variant, backend):
    probe = textwrap.dedent("""
        import json, sys, numpy as np
        from albert_edge import runtime
        directory, backend, cases, good = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
        runner = runtime.load(directory, backend=backend)
        outcome = {}
        for name, case in cases.items():
            try:
                runner.run({k: np.array(v) if name not in ("ragged", "float ids") else v
                            for k, v in {**good, **case}.items()})
                outcome[name] = "ran"
            except runtime.InvalidInputError as e:
                outcome[name] = "InvalidInputError: " + str(e)
            except Exception as e:
                outcome[name] = type(e).__name__ + ": " + str(e)
        outcome["good"] = [o.shape for o in runner.run({k: np.array(v) for k, v in good.items()})]
        print(json.dumps(outcome, default=list))
    """)
    done = subprocess.run([sys.executable, "-c", probe, str(exports[variant]), backend, json.dumps(BAD_INPUTS),
                           json.dumps(GOOD)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"process died ({done.returncode}): {done.stderr[-2000:]}"
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome.pop("good") == [[1, 3], [1, 3]]
    for name, result in outcome.items():
        assert result.startswith("InvalidInputError: "), f"{variant} {backend} {name}: {result}"
        message = result.split(": ", 1)[1]
        assert len(message.splitlines()) == 1
        named = [k for k in BAD_INPUTS[name]]
        assert any(k in message for k in named) or name in ("shapes differ",), message


def test_messages_name_the_input_and_the_allowed_range(exports):
    with runtime.load(exports["int8"]) as runner:
        with pytest.raises(runtime.InvalidInputError, match=r"input_ids\[1\] = 300 is outside \[0, 299\]"):
            runner.run(feed(BAD_INPUTS["id == vocab"]))
        with pytest.raises(runtime.InvalidInputError, match=r"attention_mask\[1\] = 7 is outside \[0, 1\]"):
            runner.run(feed(BAD_INPUTS["mask 7"]))
        with pytest.raises(runtime.InvalidInputError, match=r"input_ids must hold integers, got dtype float64"):
            runner.run(feed({"input_ids": np.array([[5.0, 6.0, 7.0]])}))
        with pytest.raises(runtime.InvalidInputError, match=rf"has {MAX_LEN + 1} tokens; .* takes 1..{MAX_LEN}"):
            runner.run(feed(BAD_INPUTS["seq max+1"]))
        # Booleans are a valid mask; any integer dtype is a valid id array.
        ok = runner.run({"input_ids": np.array([[5, 6, 7]], dtype=np.int32),
                         "attention_mask": np.array([[True, True, False]]), "token_type_ids": np.zeros((1, 3), int)})
        assert ok[0].shape == (1, 3)


def test_onnx_length_bound_comes_from_the_manifest(exports):
    manifest = json.loads((exports["fp32"] / "manifest.json").read_text())
    with runtime.load(exports["fp32"], backend="onnx") as runner:
        assert runner.limits == runtime.InputLimits(VOCAB, 2, manifest["max_seq_len"])


def test_a_file_outside_an_export_needs_its_vocabulary_size(exports, tmp_path):
    lone = tmp_path / "model.onnx"
    lone.write_bytes((exports["fp32"] / "model.onnx").read_bytes())
    with pytest.raises(runtime.RuntimeLoadError, match="pass vocab_size="):
        runtime.load(lone)
    with runtime.load(lone, vocab_size=VOCAB, max_seq_len=MAX_LEN) as runner:
        with pytest.raises(runtime.InvalidInputError, match="outside"):
            runner.run(feed(BAD_INPUTS["id -1"]))
    with runtime.load(lone, check_inputs=False) as runner:  # the opt-out still checks dtype and shape
        assert runner.limits is None
        with pytest.raises(runtime.InvalidInputError, match="integers"):
            runner.run(feed({"input_ids": [[1.5, 2.0, 3.0]]}))
    # A file inside an export directory takes the limits from its manifest, by name or through the model.* link.
    with runtime.load(exports["int8"] / "model.pte") as runner:
        assert runner.limits.vocab_size == VOCAB
    # The opt-out means the same for an export directory.
    with runtime.load(exports["fp32"], backend="onnx", check_inputs=False) as runner:
        assert runner.limits is None


def test_int4_embedding_needs_whole_groups(tmp_path):
    torch.manual_seed(0)
    config = transformers.AlbertConfig(vocab_size=VOCAB, embedding_size=24, hidden_size=32, num_hidden_layers=1,
                                       num_attention_heads=2, intermediate_size=37, max_position_embeddings=64)
    transformers.AlbertForSequenceClassification(config).save_pretrained(tmp_path / "hf")
    from albert_edge.export import ExportError

    with pytest.raises(ExportError, match="embedding_size 24 is not a multiple of it"):
        export(tmp_path / "hf", int8=True, embedding="int4", out=tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_artifacts_are_checked_against_the_manifest_before_they_run(exports, tmp_path):
    import shutil

    copy = tmp_path / "export"
    shutil.copytree(exports["int8"], copy, symlinks=True)
    pte = copy / json.loads((copy / "manifest.json").read_text())["artifacts"]["pte"]
    onnx = copy / json.loads((copy / "manifest.json").read_text())["artifacts"]["onnx"]
    data = bytearray(pte.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte, same size
    pte.write_bytes(bytes(data))
    with pytest.raises(runtime.IntegrityError, match="sha256 differs from manifest.json"):
        runtime.load(copy)
    with pytest.raises(runtime.IntegrityError, match="sha256 differs"):
        runtime.load(copy / "model.pte")  # through the link, too
    onnx.write_bytes(onnx.read_bytes()[:-4096])
    with pytest.raises(runtime.IntegrityError, match="bytes, manifest.json says"):
        runtime.load(copy, backend="onnx")
    # The opt-out skips the check: a manifest that records a wrong sha256 for an intact file then loads and runs.
    intact = tmp_path / "intact"
    shutil.copytree(exports["int8"], intact, symlinks=True)
    manifest = json.loads((intact / "manifest.json").read_text())
    manifest["files"][manifest["artifacts"]["pte"]]["sha256"] = "0" * 64
    (intact / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(runtime.IntegrityError):
        runtime.load(intact)
    with runtime.load(intact, check_integrity=False) as runner:
        assert runner.run(feed({}))[0].shape == (1, 3)
