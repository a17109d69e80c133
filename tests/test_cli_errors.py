"""Every CLI, driven with a table of bad inputs (issue: hard edges): each case must exit non-zero with one line that
starts `error: ` and says what is wrong, print no traceback, and leave the files around it exactly as they were
(nothing written, nothing deleted). A second pass runs one case per CLI as a real process and checks its whole
stderr is that one line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from albert_edge import (
    bundle,
    embed_init,
    export,
    finetune,
    pipeline,
    pretrain,
    tokenizer,
)
from albert_edge.bench import __main__ as bench
from albert_edge.tokenizer import BUNDLED_ASSETS

REPO = Path(__file__).resolve().parents[1]
CLIS = {"export": export.main, "finetune": finetune.main, "pretrain": pretrain.main, "embed_init": embed_init.main,
        "tokenizer": tokenizer.main, "pipeline": pipeline.main, "bundle": bundle.main, "bench": bench.main}


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """Inputs every case may use: a tiny model (the bundled tokenizer), its fp32 ONNX export, data files good and
    bad, a non-empty directory, a plain file."""
    import torch
    import transformers

    root = tmp_path_factory.mktemp("cli")
    torch.manual_seed(0)
    config = transformers.AlbertConfig(vocab_size=16000, embedding_size=16, hidden_size=16, num_hidden_layers=1,
                                       num_attention_heads=2, intermediate_size=24, max_position_embeddings=64)
    model = root / "model"
    transformers.AlbertForSequenceClassification(config).eval().save_pretrained(model)
    for name in ("spiece.model", "tokenizer_config.json"):
        if (BUNDLED_ASSETS / name).is_file():
            shutil.copy(BUNDLED_ASSETS / name, model / name)
    export.export(model, backend="onnx", max_seq_len=32, out=root / "exported", verify=False, progress=False)
    files = {
        "good.tsv": b"sentence\tlabel\na fine film\t1\na dull film\t0\n",
        "three.tsv": b"a fine\tfilm\t1\n",
        "words.tsv": b"sentence\tlabel\na fine film\tpositive\n",
        "latin1.tsv": b"sentence\tlabel\ngood\t1\nb\xe9d\t0\n",
        "latin1.txt": b"a first line\nb\xe9d line\n",
        "text.txt": b"Some text.\nMore text here.\n\nAnother document.\n",
        "heads0.json": json.dumps({"num_attention_heads": 0}).encode(),
        "garbage.model": b"not a sentencepiece model",
        "a_file": b"x",
        "full/keep.txt": b"keep me",
        "notexport/readme.txt": b"no manifest here",
        "android/app/build.gradle.kts": b"// the app module's build file",
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))
            if not p.is_symlink()} | {str(p.relative_to(root)): (0, 0) for p in root.rglob("*") if p.is_symlink()}


M, EXP = "{w}/model", "{w}/exported"
# (cli, argv with {w} for the work directory, a fragment the one line must contain)
CASES = [
    ("export", ["--model", "{w}/nope"], "no such directory"),
    ("export", ["--model", M, "--eval-data", "{w}/three.tsv"], "three.tsv:1: 3 field(s)"),
    ("export", ["--model", M, "--eval-data", "{w}/words.tsv"], "words.tsv:2: label 'positive' is not"),
    ("export", ["--model", M, "--int8", "--calibration", "{w}/latin1.txt"], "latin1.txt:2: not UTF-8"),
    ("export", ["--model", M, "--max-seq-len", "100000"], "max_position_embeddings"),
    ("export", ["--model", M, "--threads", "0"], "--threads must be at least 1"),
    ("export", ["--model", M, "--out", "{w}/full"], "--force"),
    ("export", ["--model", M, "--out", "{w}/a_file/sub"], "not a writable"),
    ("finetune", ["--train", "{w}/nope.tsv"], "no such file"),
    ("finetune", ["--train", "{w}/three.tsv"], "three.tsv:1: 3 field(s)"),
    ("finetune", ["--train", "{w}/words.tsv"], "words.tsv:2: label 'positive' is not"),
    ("finetune", ["--train", "{w}/latin1.tsv"], "latin1.tsv:3: not UTF-8"),
    ("finetune", ["--out", "{w}/full"], "--force"),
    ("finetune", ["--threads", "0"], "--threads must be at least 1"),
    ("finetune", ["--model", "{w}/notexport"], "not a model directory"),
    ("finetune", ["--task", "token-classification", "--exit-heads"], "--exit-heads trains classifiers"),
    ("pretrain", ["--train", "{w}/nope.txt"], "not found"),
    ("pretrain", ["--train", "{w}/latin1.txt"], "latin1.txt"),
    ("pretrain", ["--out", "{w}/full"], "--resume"),
    ("pretrain", ["--config", "{w}/heads0.json"], "num_attention_heads"),
    ("pretrain", ["--threads", "0"], "--threads"),
    ("embed_init", ["--train", "{w}/latin1.txt"], "latin1.txt"),
    ("embed_init", ["--out", "{w}/full"], "--force"),
    ("embed_init", ["--threads", "0"], "--threads must be at least 1"),
    ("tokenizer", ["train", "--input", "{w}/latin1.txt", "--out", "{w}/tok"], "latin1.txt:2: not UTF-8"),
    ("tokenizer", ["train", "--input", "{w}/nope.txt", "--out", "{w}/tok"], "nope.txt"),
    ("tokenizer", ["train", "--input", "{w}/text.txt", "--out", "{w}/a_file/tok"], "a_file is not a writable"),
    ("tokenizer", ["train", "--input", "{w}/text.txt", "--out", "{w}/full"], "--force"),
    ("tokenizer", ["export-vocab", "--model", "{w}/garbage.model", "--out", "{w}/v.json"], "garbage.model"),
    ("tokenizer", ["export-vocab", "--model", str(BUNDLED_ASSETS / "spiece.model"), "--out", "{w}/a_file/v.json"],
     "a_file is a file, not a directory"),
    ("pipeline", ["run", "{w}/notexport", "hello"], "notexport"),
    ("pipeline", ["evaluate", EXP, "--data", "{w}/words.tsv"], "words.tsv:2: label 'positive' is not"),
    ("pipeline", ["evaluate", EXP, "--data", "{w}/three.tsv"], "three.tsv:1: 3 field(s)"),
    ("pipeline", ["evaluate", EXP, "--data", "{w}/nope.tsv"], "no such file"),
    ("pipeline", ["evaluate", EXP, "--data", "{w}/good.tsv", "--max-seq-len", "33"], "exceeds the export's"),
    ("pipeline", ["evaluate", M, "--data", "{w}/good.tsv", "--max-seq-len", "65"], "exceeds the model's 64"),
    ("pipeline", ["evaluate", M, "--data", "{w}/good.tsv", "--threads", "0"], "--threads must be at least 1"),
    ("bundle", ["{w}/notexport", "{w}/android"], "notexport"),
    ("bundle", [EXP, "{w}/android"], "the export has no .pte"),
    ("bundle", [EXP, "{w}/full"], "no app/ folder"),
    ("bench", ["{w}/notexport", "--out", "{w}/bench"], "notexport"),
    ("bench", [EXP, "--peers", "tflite", "--out", "{w}/bench"], "tflite"),
    ("bench", [EXP, "--depth-data", "{w}/nope.tsv", "--out", "{w}/bench"], "--depth-data"),
    ("bench", [EXP, "--depth-data", "{w}/good.tsv", "--out", "{w}/bench"], "needs an export with a stepwise program"),
]
# Arguments each CLI needs besides the one under test (a case's own flags come last and win in argparse).
BASE = {
    "export": ["--model", M, "--out", "{w}/out_export", "--backend", "onnx"],
    "finetune": ["--task", "sequence-classification", "--model", M, "--train", "{w}/good.tsv", "--dev",
                 "{w}/good.tsv", "--out", "{w}/out_ft", "--max-seq-len", "32"],
    "pretrain": ["--train", "{w}/text.txt", "--tokenizer", M, "--out", "{w}/out_pt", "--steps", "1"],
    "embed_init": ["--train", "{w}/text.txt", "--tokenizer", M, "--out", "{w}/out_ei"],
}


def _argv(cli: str, args: list[str], work: Path) -> list[str]:
    return [a.replace("{w}", str(work)) for a in BASE.get(cli, []) + args]


@pytest.mark.parametrize("cli, args, fragment", CASES, ids=[f"{c}:{' '.join(a)[:40]}" for c, a, _ in CASES])
def test_each_cli_fails_with_one_line_and_touches_nothing(work, capsys, cli, args, fragment):
    before = _tree(work)
    with pytest.raises(SystemExit) as exit_info:
        CLIS[cli](_argv(cli, args, work))
    message = exit_info.value.code
    assert isinstance(message, str), f"exit status {message!r} instead of a one-line message"
    assert message.startswith("error: ") and "\n" not in message, message
    assert fragment.replace("{w}", str(work)) in message, message
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip() == "", err
    assert _tree(work) == before, "a failed command changed the files around it"


# One case per CLI as a real process: the whole stderr is the one line, the exit status is 1.
PROCESS_CASES = ["export:--model {w}/nope", "finetune:--train {w}/three.tsv", "pretrain:--config {w}/heads0.json",
                 "embed_init:--threads 0", "tokenizer:train --input {w}/latin1.txt --out {w}/tok",
                 "pipeline:evaluate {w}/exported --data {w}/words.tsv", "bundle:{w}/notexport {w}/android",
                 "bench:{w}/notexport --out {w}/bench"]


@pytest.mark.parametrize("case", PROCESS_CASES)
def test_each_cli_process_prints_exactly_one_line(work, case):
    cli, _, args = case.partition(":")
    module = "albert_edge.bench" if cli == "bench" else f"albert_edge.{cli}"
    before = _tree(work)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", module, *_argv(cli, args.split(), work)], capture_output=True,
                            text=True, timeout=300, env=env, cwd=work)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-2000:]
    assert _tree(work) == before
