"""albert_edge.files: atomic writes, and output directories that never destroy what they did not write."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import textwrap

import pytest

from albert_edge import files
from albert_edge.files import AlbertEdgeError, OutputDirectory, OutputError


def test_atomic_write_is_readable_by_all_and_leaves_no_temp(tmp_path):
    path = files.atomic_write_text(tmp_path / "sub" / "a.json", "{}\n")
    assert path.read_text() == "{}\n" and oct(path.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in path.parent.iterdir()] == ["a.json"]
    assert files.sha256_file(path) == "ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356"


def test_every_error_has_one_base():
    from albert_edge.bench.targets import BenchError
    from albert_edge.bundle import BundleError
    from albert_edge.config import ConfigError
    from albert_edge.data import DataError
    from albert_edge.export import ExportError
    from albert_edge.finetune import FinetuneError
    from albert_edge.hub import HubError
    from albert_edge.ner import NerDataError
    from albert_edge.pipeline import PipelineError
    from albert_edge.qa import QaDataError
    from albert_edge.runtime import InvalidInputError, RuntimeLoadError
    from albert_edge.tokenizer import TokenizerError
    from quantize.onnx import OnnxQuantizationError
    from quantize.xnnpack import XnnpackQuantizationError

    for error in (BenchError, BundleError, ConfigError, DataError, ExportError, FinetuneError, HubError, NerDataError,
                  PipelineError, QaDataError, InvalidInputError, RuntimeLoadError, TokenizerError,
                  OnnxQuantizationError, XnnpackQuantizationError, OutputError):
        assert issubclass(error, AlbertEdgeError) and issubclass(error, ValueError), error


def test_writes_a_new_directory_with_ordinary_permissions(tmp_path):
    out = tmp_path / "deep" / "out"
    with OutputDirectory(out) as staging:
        (staging / "f.txt").write_text("new")
        assert staging.name.startswith(".out.tmp-") and not out.exists()
    assert (out / "f.txt").read_text() == "new"
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask
    assert sorted(p.name for p in out.parent.iterdir()) == ["out"]  # no staging, no lock left


def test_refuses_what_it_did_not_write(tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    with pytest.raises(OutputError, match="exists and is not empty; pass --force"):
        OutputDirectory(full)
    a_file = tmp_path / "file"
    a_file.write_text("mine")
    with pytest.raises(OutputError, match="is an existing file"):
        OutputDirectory(a_file)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    for link in (dangling, loop):
        with pytest.raises(OutputError, match="is a symlink"):
            OutputDirectory(link, force=True)
    (tmp_path / "ro").mkdir()
    os.chmod(tmp_path / "ro", 0o555)
    try:
        if not os.access(tmp_path / "ro", os.W_OK):  # root ignores the mode
            with pytest.raises(OutputError, match="not a writable directory"):
                OutputDirectory(tmp_path / "ro" / "out")
    finally:
        os.chmod(tmp_path / "ro", 0o755)
    assert (full / "keep.txt").read_text() == "mine" and a_file.read_text() == "mine"


def test_force_swaps_in_one_step_and_an_empty_dir_is_fine(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with OutputDirectory(out) as staging:  # empty: no --force needed
        (staging / "v1").write_text("1")
    with OutputDirectory(out, force=True) as staging:
        (staging / "v2").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == ["v2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_failure_leaves_the_old_output_and_no_staging(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old").write_text("old")
    with pytest.raises(RuntimeError):
        with OutputDirectory(out, force=True) as staging:
            (staging / "half").write_text("x")
            raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"] and (out / "old").read_text() == "old"


def test_rechecks_before_the_swap(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(OutputError, match="exists and is not empty"):
        with OutputDirectory(out) as staging:
            (staging / "ours").write_text("x")
            out.mkdir()
            (out / "theirs").write_text("appeared meanwhile")
    assert [p.name for p in out.iterdir()] == ["theirs"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def _hold(out, started, release):
    with OutputDirectory(out):
        started.set()
        release.wait(30)


def test_two_writers_cannot_both_win(tmp_path):
    out = tmp_path / "out"
    context = multiprocessing.get_context("fork")
    started, release = context.Event(), context.Event()
    holder = context.Process(target=_hold, args=(out, started, release))
    holder.start()
    try:
        assert started.wait(30)
        with pytest.raises(OutputError, match="being written by another process"):
            with OutputDirectory(out):
                pass
    finally:
        release.set()
        holder.join(30)
    assert holder.exitcode == 0 and out.is_dir()


def test_staging_of_a_killed_run_is_removed_by_the_next(tmp_path, capsys):
    out = tmp_path / "out"
    script = textwrap.dedent(f"""
        import os, signal
        from albert_edge.files import OutputDirectory
        with OutputDirectory({str(out)!r}) as staging:
            (staging / "partial.pte").write_bytes(b"x" * 100)
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    assert subprocess.run([sys.executable, "-c", script]).returncode == -9
    left = [p.name for p in tmp_path.iterdir()]
    assert any(name.startswith(".out.tmp-") for name in left)
    with OutputDirectory(out) as staging:
        (staging / "f").write_text("ok")
    assert "left by an interrupted run" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_fallback_without_renameat2_never_leaves_the_user_with_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "_renameat2", lambda *a: False)
    out = tmp_path / "out"
    with OutputDirectory(out) as staging:
        (staging / "v1").write_text("1")
    seen = []
    real_rename = os.rename

    def rename(src, dst):
        real_rename(src, dst)
        names = {p.name for p in tmp_path.iterdir()}
        seen.append("out" in names or any(n.startswith(".out.old-") for n in names))

    monkeypatch.setattr(files.os, "rename", rename)
    with OutputDirectory(out, force=True) as staging:
        (staging / "v2").write_text("2")
    assert all(seen) and [p.name for p in out.iterdir()] == ["v2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_strict_json_writes_null_for_non_finite_numbers():
    """The manifest is read by Java's org.json-style parsers and browsers: no `Infinity`/`NaN` tokens."""
    import json
    import math

    from albert_edge.files import strict_json

    text = strict_json({"snr_db": math.inf, "diff": [1.5, -math.inf, math.nan], "nested": {"x": (1, 2)}})

    def refuse(token):
        raise AssertionError(f"non-standard JSON token {token}")

    assert json.loads(text, parse_constant=refuse) == {"snr_db": None, "diff": [1.5, None, None],
                                                       "nested": {"x": [1, 2]}}
