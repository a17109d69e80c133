"""albert_edge.backend_options: XNNPACK's weight cache set through the runtime's C++ set_option/get_option."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from albert_edge import backend_options, runtime
from albert_edge.config import AlbertConfig
from albert_edge.lowering import export_pte
from albert_edge.model import model_for_task


@pytest.fixture
def restore_cache():
    before = backend_options.xnnpack_weight_cache_enabled()
    yield
    if before is not None:
        backend_options.set_xnnpack_weight_cache(before)


def test_weight_cache_round_trips_through_the_runtime(restore_cache):
    for value in (True, False, True):
        assert backend_options.set_xnnpack_weight_cache(value) is value
        assert backend_options.xnnpack_weight_cache_enabled() is value


def test_unknown_backend_is_an_error_not_a_crash():
    with pytest.raises(backend_options.BackendOptionsUnavailable, match="NoSuchBackend"):
        backend_options.set_bool_option(b"NoSuchBackend", backend_options.WEIGHT_CACHE_KEY, True)


def test_falls_back_with_one_warning_when_options_are_unavailable(monkeypatch):
    def unavailable():
        raise backend_options.BackendOptionsUnavailable("libexecutorch.so has no set_option")

    monkeypatch.setattr(backend_options, "_functions", unavailable)
    monkeypatch.setattr(backend_options, "_warned", False)
    with pytest.warns(RuntimeWarning, match="weight cache unavailable"):
        assert backend_options.set_xnnpack_weight_cache(True) is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # only once per process
        assert backend_options.set_xnnpack_weight_cache(True) is False
    assert backend_options.xnnpack_weight_cache_enabled() is None


def test_ctypes_layout_matches_the_wheels_header(tmp_path):
    """sizeof and offsets of BackendOption, compiled against the installed ExecuTorch's own options.h."""
    import executorch

    include = Path(executorch.__path__[0]) / "include"
    compiler = shutil.which("g++") or shutil.which("c++")
    if compiler is None or not (include / "executorch/runtime/backend/options.h").is_file():
        pytest.skip("needs a C++ compiler and the wheel's headers")
    source = tmp_path / "layout.cpp"
    source.write_text(textwrap.dedent("""
        #include <executorch/runtime/backend/options.h>
        #include <cstddef>
        #include <cstdio>
        using executorch::runtime::BackendOption;
        int main() {
          BackendOption o{};
          const unsigned char* p = reinterpret_cast<const unsigned char*>(&o);
          o.value = true;
          int bool_index = p[320];
          o.value = 7;
          printf("%zu %zu %d %d %d\\n", sizeof(o), offsetof(BackendOption, value), bool_index, p[320],
                 *reinterpret_cast<const int*>(p + 64));
        }
    """))
    binary = tmp_path / "layout"
    subprocess.run([compiler, "-std=c++17", "-I", str(include), str(source), "-o", str(binary)], check=True)
    size, value_offset, bool_index, int_index, int_value = map(int, subprocess.check_output([str(binary)]).split())
    S = backend_options._BackendOption
    assert (size, value_offset) == (backend_options.ctypes.sizeof(S), S.value.offset) == (324, 64)
    assert S.index.offset == 320 and (bool_index, int_index, int_value) == (backend_options._BOOL_INDEX, 1, 7)


@pytest.fixture(scope="module")
def shared_layer_pte(tmp_path_factory):
    torch.manual_seed(0)
    # 6 applications of a 256-wide layer (~3 MB of fp32 weights): without the cache, 5 more packed copies.
    config = AlbertConfig(vocab_size=300, embedding_size=16, hidden_size=256, num_hidden_layers=6,
                          num_attention_heads=4, intermediate_size=1024, max_position_embeddings=64)
    model = model_for_task(config, "sequence-classification").eval()
    path = tmp_path_factory.mktemp("cache") / "model.pte"
    export_pte(model, path, input_names=["input_ids", "attention_mask"], max_seq_len=32)
    return path


def test_outputs_identical_with_and_without_the_cache(shared_layer_pte, restore_cache):
    ids = np.random.default_rng(0).integers(5, 300, size=(1, 20), dtype=np.int64)
    feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    with runtime.load(shared_layer_pte, vocab_size=300, weight_cache=True) as cached:
        assert cached.weight_cache is True
        with_cache = cached.run(feed)[0]
    with runtime.load(shared_layer_pte, vocab_size=300, weight_cache=False) as plain:
        assert plain.weight_cache is False
        without = plain.run(feed)[0]
    np.testing.assert_array_equal(with_cache, without)


def test_cache_packs_the_shared_layer_once(shared_layer_pte, tmp_path):
    """Fresh processes, because packed weights stay for the process's life: RSS growth with the cache is smaller."""
    probe = textwrap.dedent(f"""
        import sys, numpy as np, psutil
        from albert_edge import runtime
        before = psutil.Process().memory_info().rss
        r = runtime.load({str(shared_layer_pte)!r}, vocab_size=300, weight_cache=sys.argv[1] == "on")
        ids = np.full((1, 32), 7, dtype=np.int64)
        r.run(input_ids=ids, attention_mask=np.ones_like(ids))
        print(r.weight_cache, psutil.Process().memory_info().rss - before)
    """)
    grown = {}
    for mode in ("on", "off"):
        out = subprocess.run([sys.executable, "-c", probe, mode], capture_output=True, text=True, check=True)
        state, delta = out.stdout.split()
        assert state == str(mode == "on")
        grown[mode] = int(delta)
    assert grown["on"] < grown["off"] - 8 * 2**20, grown
