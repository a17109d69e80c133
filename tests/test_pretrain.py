"""albert_edge.pretrain end to end on tiny settings: training, exact resume, DDP under torchrun, bad inputs."""

import json
import math
import os
import random
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from albert_edge import hub
from albert_edge.pretrain import main, pretrain
from albert_edge.tokenizer import BUNDLED_ASSETS

from conftest import REPO

TINY = {"vocab_size": 99, "embedding_size": 16, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
        "intermediate_size": 64, "max_position_embeddings": 64}


@pytest.fixture()
def corpus(tmp_path):
    words = ("the old man walked slowly down to the river where boats rocked in the grey water and gulls "
             "cried over the harbour wall").split()
    rng = random.Random(0)
    lines = []
    for _ in range(4):
        lines += [" ".join(rng.choices(words, k=rng.randint(5, 14))) for _ in range(25)] + [""]
    train = tmp_path / "train.txt"
    train.write_text("\n".join(lines))
    valid = tmp_path / "valid.txt"
    valid.write_text("\n".join(lines[:20]))
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY))
    return train, valid, config


def run(corpus, out, **kwargs):
    train, valid, config = corpus
    args = dict(valid=valid, config=config, max_seq_len=32, batch_size=4, steps=8, warmup=2, lr=1e-3,
                valid_every=4, valid_examples=8, log_every=2, seed=0)
    return pretrain([train], BUNDLED_ASSETS, out, **{**args, **kwargs})


def test_pretrain_end_to_end_writes_hf_model_and_logs(corpus, tmp_path):
    final = run(corpus, tmp_path / "out")
    assert {p.name for p in final.iterdir()} >= {"config.json", "model.safetensors", "spiece.model"}
    model = hub.from_pretrained(final)
    assert model.task == "pretraining" and model.config.vocab_size == 16000  # vocabulary follows the tokenizer
    records = [json.loads(line) for line in (tmp_path / "out" / "log.jsonl").read_text().splitlines()]
    train_records = [r for r in records if "loss" in r]
    assert [r["step"] for r in train_records] == [2, 4, 6, 8]
    assert all(0 <= r["mlm_acc"] <= 1 and 0 <= r["sop_acc"] <= 1 for r in train_records)
    assert train_records[-1]["mlm_loss"] < train_records[0]["mlm_loss"]  # it learns something in 8 steps
    assert sum("valid_mlm_loss" in r for r in records) == 2


def test_bf16_autocast_trains(corpus, tmp_path):
    final = run(corpus, tmp_path / "bf16", precision="bf16")
    records = [json.loads(line) for line in (tmp_path / "bf16" / "log.jsonl").read_text().splitlines()]
    losses = [r["mlm_loss"] for r in records if "mlm_loss" in r]
    assert all(map(math.isfinite, losses)) and losses[-1] < losses[0]
    assert hub.from_pretrained(final).albert.embeddings.word_embeddings.weight.dtype == torch.float32


def test_resume_matches_uninterrupted_run(corpus, tmp_path):
    straight = run(corpus, tmp_path / "straight")
    checkpoint = run(corpus, tmp_path / "resumed", stop_at_step=3)
    assert checkpoint.name == "checkpoint.pt"
    resumed = run(corpus, tmp_path / "resumed", resume=True)
    a, b = load_file(straight / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match="batch_size=4"):
        run(corpus, tmp_path / "resumed", resume=True, batch_size=8)


def test_torchrun_two_ranks_keep_identical_parameters(corpus, tmp_path):
    train, valid, config = corpus
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "albert_edge.pretrain", "--train", str(train), "--tokenizer", str(BUNDLED_ASSETS),
           "--config", str(config), "--max-seq-len", "32", "--batch-size", "4", "--steps", "5", "--warmup", "2",
           "--out", str(tmp_path / "ddp"), "--log-every", "1"]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads(line) for line in (tmp_path / "ddp" / "log.jsonl").read_text().splitlines()]
    fingerprints = next(r["parameter_sha256_by_rank"] for r in records if "parameter_sha256_by_rank" in r)
    assert len(fingerprints) == 2 and fingerprints[0] == fingerprints[1]
    # The ranks trained (parameters moved away from the initialisation) on 2 x 4 examples per step.
    steps = [r for r in records if "loss" in r]
    assert steps[-1]["tokens_seen"] > steps[0]["tokens_seen"] and steps[-1]["step"] == 5
    assert (tmp_path / "ddp" / "final" / "model.safetensors").is_file()


@pytest.mark.parametrize("change, message", [
    ({"train": "missing.txt"}, "text file not found"),
    ({"train": "empty.txt"}, "is empty"),
    ({"config": "albert-nano"}, "unknown preset 'albert-nano'"),
    ({"tokenizer": "no_tokenizer_here"}, "SentencePiece model not found"),
    ({"threads": "0"}, "--threads must be at least 1, got 0"),
    ({"out_file": "x"}, "is a file; pass a directory path"),
    ({"out_full": "x"}, "exists and is not empty; pass --resume"),
])
def test_bad_inputs_fail_with_one_line(corpus, tmp_path, capsys, change, message):
    train, _, config = corpus
    (tmp_path / "empty.txt").write_text("\n\n")
    args = {"train": str(train), "config": str(config), "tokenizer": str(BUNDLED_ASSETS)}
    args.update({k: str(tmp_path / v) if k in ("train", "tokenizer") else v for k, v in change.items()})
    if "out_file" in change:
        (tmp_path / "out").write_text("mine")
    if "out_full" in change:
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / "mine.txt").write_text("mine")
    argv = ["--train", args["train"], "--tokenizer", args["tokenizer"], "--config", args["config"],
            "--out", str(tmp_path / "out"), "--steps", "1", "--threads", args.get("threads", "1")]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    text = str(exit_info.value.code)
    assert text.startswith("error: ") and message in text and "\n" not in text
    assert not (tmp_path / "out").is_dir() or not (tmp_path / "out" / "checkpoint.pt").exists()  # nothing trained


def test_nsp_on_a_single_document_is_refused(tmp_path):
    path = tmp_path / "one.txt"
    path.write_text("\n".join(f"line number {i} of the only document" for i in range(40)))
    (tmp_path / "tiny.json").write_text(json.dumps(TINY))
    with pytest.raises(SystemExit, match="error: objective nsp needs at least 2 documents"):
        main(["--train", str(path), "--tokenizer", str(BUNDLED_ASSETS), "--config", str(tmp_path / "tiny.json"),
              "--objective", "nsp", "--max-seq-len", "32", "--batch-size", "2", "--steps", "1",
              "--out", str(tmp_path / "out")])


def test_mlm_stage_continues_from_a_pretrained_directory(corpus, tmp_path):
    first = run(corpus, tmp_path / "stage1", steps=4)
    second = run(corpus, tmp_path / "stage2", steps=4, init_from=first, objective="mlm", config="ignored")
    before, after = load_file(first / "model.safetensors"), load_file(second / "model.safetensors")
    key = "albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight"
    assert not torch.equal(before[key], after[key])  # it trained on from stage 1's weights...
    # ...and not from a fresh initialisation: the SOP head, unused by objective mlm, is carried over (only AdamW's
    # decoupled weight decay touches it).
    sop = "sop_classifier.classifier.weight"
    assert torch.allclose(before[sop], after[sop], rtol=1e-3, atol=0) and before[sop].abs().max() > 0.01
    records = [json.loads(line) for line in (tmp_path / "stage2" / "log.jsonl").read_text().splitlines()]
    assert all(r["sop_loss"] == 0 for r in records if "sop_loss" in r)
