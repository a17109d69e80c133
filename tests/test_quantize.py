"""The int8 recipes: weight sharing survives quantization (size bounds from the parameter count), the ExecuTorch
program stays in <= 2 XNNPACK partitions, and both artifacts still compute the model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from albert_edge.config import AlbertConfig
from albert_edge.model import model_for_task
from albert_edge.verify import compute_error
from quantize.onnx import (
    OnnxInt8Recipe,
    OnnxQuantizationError,
    dedupe_initializers,
    fold_weight_transposes,
    fuse_for_ort,
    gemm_to_matmul,
    quantize_gather_rows,
    quantize_rows,
    tie_decoders,
    tied_decoders,
)
from quantize.xnnpack import XnnpackInt8Recipe, XnnpackQuantizationError

# Non-delegated ops that may stay outside XNNPACK: the embedding lookup (and its int8 dequant, fused into
# embedding_byte at serialisation), the position-table slice, the token-type row, the mask cast, the [CLS] select.
OUTSIDE_OK = {"aten_embedding_default", "torchao_dequantize_affine_default", "aten_slice_copy_tensor",
              "aten_select_copy_int", "dim_order_ops__to_dim_order_copy_default", "getitem", "sym_size"}


def small_config(**overrides) -> AlbertConfig:
    # Wide enough that the shared layer (132 K weights) outweighs the size bound's slack (~50 K), so storing it once
    # per application fails `int8_bound`; 2 applications keep lowering to seconds.
    base = dict(vocab_size=2000, embedding_size=64, hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
                intermediate_size=256, max_position_embeddings=64)
    return AlbertConfig(**{**base, **overrides})


def int8_bound(model: torch.nn.Module) -> float:
    """Bytes an int8 artifact may take when every weight is stored once: 1 byte per int8 weight, 8 per weight row
    (a float scale and room for a zero point), 4 per tensor kept in fp32 (1-D tensors and the position and
    token-type tables), and 64 KB for the program itself. Storing the shared layer once per application, as a
    per-use quantizer does, exceeds it by (applications - 1) x the layer's size."""
    n_bytes = 65536
    for name, p in model.named_parameters():
        if p.dim() < 2 or "position_embeddings" in name or "token_type_embeddings" in name:
            n_bytes += 4 * p.numel()
        else:
            n_bytes += p.numel() + 8 * p.shape[0]
    return n_bytes


def seq_dims(names, max_len):
    seq = torch.export.Dim("seq", min=1, max=max_len)
    return tuple({1: seq} for _ in names)


def example(config, length=8, with_types=False):
    ids = torch.randint(5, config.vocab_size, (1, length))
    args = (ids, torch.ones_like(ids))
    return args + ((torch.zeros_like(ids),) if with_types else ())


# -- ONNX primitives on hand-built graphs (milliseconds) -----------------------------------------------------------
def _shared_weight_graph() -> onnx.ModelProto:
    """x -> MatMul(Transpose(W)) -> MatMul(Transpose(W)): one weight used twice, as the shared layer is."""
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((8, 8)).astype(np.float32), "W")
    nodes = [
        helper.make_node("Transpose", ["W"], ["Wt1"], perm=[1, 0]),
        helper.make_node("MatMul", ["x", "Wt1"], ["h"]),
        helper.make_node("Transpose", ["W"], ["Wt2"], perm=[1, 0]),
        helper.make_node("MatMul", ["h", "Wt2"], ["y"]),
    ]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])], [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _run(model: onnx.ModelProto, feed: dict) -> list[np.ndarray]:
    import onnxruntime as ort

    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feed)


def test_fold_weight_transposes_keeps_one_copy_and_the_function():
    model = _shared_weight_graph()
    x = np.random.default_rng(1).standard_normal((1, 8)).astype(np.float32)
    before = _run(model, {"x": x})[0]
    assert fold_weight_transposes(model) == 2
    assert [init.name for init in model.graph.initializer] == ["W.T"]
    assert [n.op_type for n in model.graph.node] == ["MatMul", "MatMul"]
    np.testing.assert_allclose(_run(model, {"x": x})[0], before, rtol=1e-6)


def test_gemm_to_matmul_matches_gemm():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((4, 8)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "W", "b"], ["y"], transB=1)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 4])],
        [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    x = rng.standard_normal((3, 8)).astype(np.float32)
    assert gemm_to_matmul(model) == 1
    assert [n.op_type for n in model.graph.node] == ["MatMul", "Add"]
    np.testing.assert_allclose(_run(model, {"x": x})[0], x @ w.T + b, rtol=1e-5, atol=1e-6)


def test_quantize_rows_is_per_row_symmetric():
    table = np.array([[0.0, 0.0], [1.0, -0.5], [100.0, 50.0]], dtype=np.float32)
    q, scales = quantize_rows(table)
    assert q.dtype == np.int8 and scales.shape == (3, 1)
    np.testing.assert_array_equal(q[0], [0, 0])  # the padding row stays exactly zero
    np.testing.assert_array_equal(q[1], [127, -64])  # its own scale: a small row keeps its resolution
    np.testing.assert_allclose(q * scales, table, rtol=0.01, atol=1e-6)


def test_quantize_gather_rows_dequantizes_gathered_rows():
    rng = np.random.default_rng(3)
    table = rng.standard_normal((2048, 16)).astype(np.float32) * rng.uniform(0.01, 3, (2048, 1)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gather", ["E", "ids"], ["y"], axis=0)], "g",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5, 16])],
        [numpy_helper.from_array(table, "E")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    assert quantize_gather_rows(model) == ["E"]
    kinds = {init.name: init.data_type for init in model.graph.initializer}
    assert kinds == {"E_int8": TensorProto.INT8, "E_row_scale": TensorProto.FLOAT}
    ids = np.array([[0, 7, 2047, 7, 100]])
    got = _run(model, {"ids": ids})[0]
    # Per-row int8: each value within half a step of its own row's scale.
    step = np.abs(table[ids[0]]).max(axis=1, keepdims=True) / 127
    assert np.all(np.abs(got[0] - table[ids[0]]) <= step / 2 + 1e-6)


def test_dedupe_initializers_merges_identical_bytes_only():
    model = _shared_weight_graph()
    w = numpy_helper.to_array(model.graph.initializer[0])
    model.graph.initializer.append(numpy_helper.from_array(w.copy(), "W_copy"))
    model.graph.initializer.append(numpy_helper.from_array(w + 1, "W_other"))
    model.graph.node[2].input[0] = "W_copy"
    model.graph.node.insert(0, helper.make_node("Identity", ["W_other"], ["unused"]))
    assert dedupe_initializers(model) == 1
    assert sorted(i.name for i in model.graph.initializer) == ["W", "W_other"]
    assert model.graph.node[3].input[0] == "W"


def _tied_graph(untied: bool = False) -> tuple[onnx.ModelProto, np.ndarray]:
    """A masked LM's ends: ids -> Gather(E) -> MatMul(E.T, as the exporter folds it) + bias -> logits; `untied` adds a
    second MatMul whose weight has E's transposed shape but other values (it must stay as it is)."""
    rng = np.random.default_rng(4)
    table = rng.standard_normal((2048, 16)).astype(np.float32) * rng.uniform(0.01, 3, (2048, 1)).astype(np.float32)
    inits = [numpy_helper.from_array(table, "E"), numpy_helper.from_array(np.ascontiguousarray(table.T), "E_T"),
             numpy_helper.from_array(rng.standard_normal(2048).astype(np.float32), "bias")]
    nodes = [helper.make_node("Gather", ["E", "ids"], ["h"], axis=0),
             helper.make_node("MatMul", ["h", "E_T"], ["product"], name="decoder"),
             helper.make_node("Add", ["product", "bias"], ["logits"])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 5, 2048])]
    if untied:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(table.T) + 1, "F"))
        nodes.append(helper.make_node("MatMul", ["h", "F"], ["other"], name="untied"))
        outputs.append(helper.make_tensor_value_info("other", TensorProto.FLOAT, [1, 5, 2048]))
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 5])],
                              outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), table


def test_tie_decoders_float_reads_the_table_itself():
    model, table = _tied_graph(untied=True)
    ids = np.array([[0, 7, 2047, 7, 100]])
    before = _run(model, {"ids": ids})
    tied = tied_decoders(model)
    assert tied == {"decoder": "E"}  # the MatMul on other values is not a copy of the table
    assert tie_decoders(model, tied) == 1
    big = sorted(i.name for i in model.graph.initializer if numpy_helper.to_array(i).nbytes > 1024)
    assert big == ["E", "F", "bias"]  # the table once, the other weight kept
    # No Transpose for ONNX Runtime to fold into a copy (its .ort format would store that copy); the bias is Gemm's C.
    ops = [n.op_type for n in model.graph.node]
    assert "Transpose" not in ops and "Add" not in ops and ops.count("Gemm") == 1
    after = _run(model, {"ids": ids})
    np.testing.assert_allclose(after[0], before[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(after[1], before[1])


def test_tie_decoders_int8_uses_the_row_scales_of_the_int8_table():
    model, table = _tied_graph()
    tied = tied_decoders(model)
    quantize_gather_rows(model)
    assert tie_decoders(model, tied) == 1
    kinds = {i.name: i.data_type for i in model.graph.initializer if numpy_helper.to_array(i).nbytes > 1024}
    assert kinds == {"E_int8": TensorProto.INT8, "E_row_scale": TensorProto.FLOAT,  # no copy of the table left
                     "bias": TensorProto.FLOAT}
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("DynamicQuantizeMatMul") == 1 and "Add" not in ops  # the bias folded in
    onnx.checker.check_model(model)
    ids = np.array([[0, 7, 2047, 7, 100]])
    got = _run(model, {"ids": ids})[0]
    # Reference: the per-row int8 table (as gathered) times the same table as B, per-column scales = row scales.
    q, scales = quantize_rows(table)
    bias = numpy_helper.to_array(next(i for i in model.graph.initializer if i.name == "bias"))
    exact = (q[ids[0]] * scales[ids[0]]) @ (q * scales).T + bias
    snr = compute_error(exact, got[0])
    assert snr > 30, snr  # the activations are dynamically quantized to uint8: close to, not equal to, exact
    assert (got[0].argmax(-1) == exact.argmax(-1)).all()


def test_tie_decoders_refuses_a_table_it_cannot_read():
    model, _ = _tied_graph()
    tied = tied_decoders(model)
    model.graph.initializer[0].name = "renamed"
    model.graph.node[0].input[0] = "renamed"
    with pytest.raises(OnnxQuantizationError, match="neither float nor per-row int8"):
        tie_decoders(model, tied)


def test_recipes_reject_unknown_schemes():
    with pytest.raises(OnnxQuantizationError, match="linear scheme"):
        OnnxInt8Recipe(linear="weird")
    with pytest.raises(XnnpackQuantizationError, match="embedding scheme"):
        XnnpackInt8Recipe(embedding="int2")
    with pytest.raises(XnnpackQuantizationError, match="calibration"):
        XnnpackInt8Recipe(linear="static").quantize(torch.nn.Linear(2, 2), (torch.zeros(1, 2),), None, None)


# -- ONNX recipe on a real ALBERT export ---------------------------------------------------------------------------
def fused_onnx(model, path: Path, max_seq_len: int = 64, recipe=None) -> dict:
    """The export's own ONNX path: the ORT formulation traced, ORT's optimizer, shared weights once."""
    from albert_edge.lowering import export_onnx

    return export_onnx(model, path, input_names=["input_ids", "attention_mask"], max_seq_len=max_seq_len,
                       recipe=recipe)


@pytest.fixture(scope="module")
def onnx_fp32(tmp_path_factory):
    torch.manual_seed(0)
    config = small_config()
    model = model_for_task(config, "sequence-classification").eval()
    path = tmp_path_factory.mktemp("onnx") / "fp32.onnx"
    graph = fused_onnx(model, path)
    return model, path, graph


def test_onnx_graph_fuses_every_layer_application(onnx_fp32):
    """Every application of the shared layer, the first included, is one Attention; every norm a LayerNormalization;
    no SkipLayerNormalization (its CPU kernel is ~7x slower than Add + LayerNormalization in ORT 1.32)."""
    model, path, graph = onnx_fp32
    layers = model.config.num_hidden_layers
    assert graph["fused_operators"]["Attention"] == layers
    assert graph["fused_operators"]["LayerNormalization"] == 2 * layers + 1
    assert graph["deduplicated_initializers"] >= 2 * (layers - 1)  # at least QKV weight and bias per extra application
    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    assert ops.count("Attention") == layers and "SkipLayerNormalization" not in ops
    assert ops.count("FastGelu") == layers  # gelu_new
    # The optimizer's per-application QKV concatenations are one tensor after deduplication.
    attention_weights = {n.input[1] for n in onnx.load(str(path)).graph.node if n.op_type == "Attention"}
    assert len(attention_weights) == 1


@pytest.mark.parametrize("overrides", [
    dict(num_hidden_layers=4, num_hidden_groups=2, inner_group_num=2),  # 8 layer applications in 2 groups
    dict(hidden_size=21, num_attention_heads=3, intermediate_size=30, num_hidden_layers=5, num_hidden_groups=3),
    dict(hidden_act="gelu"),  # the exact erf form: BiasGelu instead of FastGelu
], ids=["inner-groups", "odd-heads", "gelu-erf"])
def test_fused_onnx_matches_eager_on_unusual_configs(tmp_path, overrides):
    import onnxruntime as ort

    torch.manual_seed(0)
    config = small_config(**overrides)
    model = model_for_task(config, "sequence-classification").eval()
    graph = fused_onnx(model, tmp_path / "m.onnx")
    assert graph["fused_operators"]["Attention"] == config.num_hidden_layers * config.inner_group_num
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    ids, mask = example(config, 11)
    mask[0, 8:] = 0  # padding goes through the fused attention's mask
    want = model(ids, mask).detach().numpy()
    got = session.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})[0]
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_fusion_check_fails_on_a_graph_it_cannot_fuse(onnx_fp32, tmp_path):
    """A graph that fuses fewer layers than the model has is refused, not shipped half-fused; the XNNPACK
    formulation (head-major bmm attention, decomposed LayerNorm), which ORT's optimizer crashes on, is one line."""
    from albert_edge.model import set_formulation

    model, _, _ = onnx_fp32
    config = model.config
    args = example(config)
    axes = {"input_ids": {1: "seq"}, "attention_mask": {1: "seq"}}
    for formulation in ("ort", "xnnpack"):
        path = tmp_path / f"{formulation}_form.onnx"
        set_formulation(model, formulation)
        torch.onnx.export(model, args, str(path), input_names=list(axes), output_names=["logits"], opset_version=17,
                          dynamo=False, dynamic_axes=axes)
    set_formulation(model, "xnnpack")
    with pytest.raises(OnnxQuantizationError, match=r"fused only \{'Attention': \(2, 3\)"):
        fuse_for_ort(tmp_path / "ort_form.onnx", config.num_attention_heads, config.hidden_size, 3)
    with pytest.raises(OnnxQuantizationError, match="optimizer failed|fused only"):
        fuse_for_ort(tmp_path / "xnnpack_form.onnx", config.num_attention_heads, config.hidden_size,
                     config.num_hidden_layers)


def test_fusion_check_counts_a_layer_only_graph(onnx_fp32, tmp_path):
    """One layer application (the shape scripts/onnx_stepwise_probe.py measures): fused as in the whole graph, and
    counted without the embeddings' norm only when told it has none."""
    from albert_edge import stepwise
    from albert_edge.model import set_formulation

    model, _, _ = onnx_fp32
    config = model.config

    class OneLayer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, hidden, attention_mask):
            encoder = stepwise.encoder_of(self.model)
            return encoder.encoder.albert_layer_groups[0](hidden, encoder.attention_bias(attention_mask, 1))

    path = tmp_path / "layer.onnx"
    args = (torch.randn(1, 7, config.hidden_size), torch.ones(1, 7, dtype=torch.int64))
    set_formulation(model, "ort")
    # eval(): the exporter restores the module's mode afterwards, and train mode would reach the shared model.
    torch.onnx.export(OneLayer().eval(), args, str(path), input_names=["hidden", "attention_mask"],
                      output_names=["out"], opset_version=17, dynamo=False,
                      dynamic_axes={"hidden": {1: "seq"}, "attention_mask": {1: "seq"}})
    set_formulation(model, "xnnpack")
    assert not model.training  # the module-scoped model the other tests compare against
    _, stats, _ = fuse_for_ort(path, config.num_attention_heads, config.hidden_size, 1, embeddings=False)
    assert stats["Attention"] == 1 and stats["LayerNormalization"] == 2
    with pytest.raises(OnnxQuantizationError, match=r"'LayerNormalization': \(2, 3\)"):
        fuse_for_ort(path, config.num_attention_heads, config.hidden_size, 1)


def test_onnx_int8_stores_shared_layer_once(onnx_fp32, tmp_path):
    model, path, _ = onnx_fp32
    out = OnnxInt8Recipe().quantize(path, tmp_path / "int8.onnx")
    quantized = onnx.load(str(out))
    int8 = [i for i in quantized.graph.initializer if i.data_type == TensorProto.INT8 and len(i.dims) == 2]
    # Every 2-D weight once: the fused QKV, dense, ffn, ffn_output + mapping + pooler + classifier + word embeddings.
    n_weights = sum(1 for n, p in model.named_parameters() if p.dim() == 2 and "position" not in n
                    and "token_type" not in n)
    assert len(int8) == n_weights - 2 == 8  # query, key and value are one tensor
    ops = [n.op_type for n in quantized.graph.node]
    assert ops.count("QAttention") == model.config.num_hidden_layers
    assert ops.count("MatMulInteger") == 3 * model.config.num_hidden_layers + 3
    assert out.stat().st_size <= int8_bound(model)


def test_onnx_int8_agrees_with_eager_at_two_lengths(onnx_fp32, tmp_path):
    import onnxruntime as ort

    model, path, _ = onnx_fp32
    out = OnnxInt8Recipe().quantize(path, tmp_path / "int8.onnx")
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    for length in (3, 40):
        ids, mask = example(model.config, length)
        want = model(ids, mask).detach().numpy()
        got = session.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})[0]
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=0.05 * np.abs(want).max() + 1e-3)


def test_onnx_static_recipe_calibrates(onnx_fp32, tmp_path):
    from albert_edge.lowering import Example, export_onnx

    model, path, _ = onnx_fp32
    calibration = [Example({"input_ids": a.numpy(), "attention_mask": b.numpy()}, None)
                   for a, b in (example(model.config, n) for n in (4, 9, 17))]
    out = tmp_path / "static.onnx"
    # Static QDQ has no Attention op: the export fuses everything else and leaves attention to the quantizer.
    graph = export_onnx(model, out, input_names=["input_ids", "attention_mask"], max_seq_len=64,
                        recipe=OnnxInt8Recipe(linear="static"), calibration=calibration)
    assert "Attention" not in graph["fused_operators"]
    ops = {n.op_type for n in onnx.load(str(out)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert out.stat().st_size <= int8_bound(model)
    with pytest.raises(OnnxQuantizationError, match="calibration"):
        OnnxInt8Recipe(linear="static").quantize(path, tmp_path / "x.onnx", [])


def test_onnx_int8_size_bound_albert_base(tmp_path):
    """albert-base-v2's 11.7 M parameters: int8 .onnx <= 13 MB (40 MB when the shared layer is stored per use)."""
    config = AlbertConfig.from_preset("albert-base-v2")
    model = model_for_task(config, "sequence-classification").eval()
    out = tmp_path / "base_int8.onnx"
    graph = fused_onnx(model, out, max_seq_len=128, recipe=OnnxInt8Recipe())
    assert graph["fused_operators"]["Attention"] == 12
    size = out.stat().st_size
    assert size <= 13_000_000
    assert size <= int8_bound(model)


# -- ExecuTorch recipe -------------------------------------------------------------------------------------------------
def lower(program):
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import (
        XnnpackPartitioner,
    )
    from executorch.exir import to_edge_transform_and_lower

    from albert_edge.lowering import delegation_summary
    from quantize.xnnpack import executorch_config

    edge = to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()])
    return delegation_summary(edge), edge.to_executorch(executorch_config()).buffer


def run_pte(buffer: bytes, args) -> torch.Tensor:
    import executorch.kernels.quantized  # noqa: F401
    from executorch.runtime import Runtime

    return Runtime.get().load_program(buffer).load_method("forward").execute(list(args))[0]


@pytest.fixture(scope="module")
def seq_model():
    torch.manual_seed(0)
    config = small_config()
    return model_for_task(config, "sequence-classification").eval()


@pytest.fixture(scope="module")
def dynamic_pte(seq_model):
    return lower(XnnpackInt8Recipe().quantize(seq_model, example(seq_model.config), seq_dims("ab", 64)))


def test_xnnpack_int8_dynamic_delegates_and_stores_shared_layer_once(seq_model, dynamic_pte):
    delegation, buffer = dynamic_pte
    assert delegation["partitions"] <= 2
    assert set(delegation["non_delegated_ops"]) <= OUTSIDE_OK
    assert len(buffer) <= int8_bound(seq_model)
    for length in (1, 5, 64):
        args = example(seq_model.config, length)
        got, want = run_pte(buffer, args), seq_model(*args).detach()
        torch.testing.assert_close(got, want, atol=0.05 * float(want.abs().max()) + 1e-3, rtol=0)


def test_xnnpack_static_with_int4_embedding(seq_model, dynamic_pte):
    """Static (calibrated) linears and an int4 table in one program: still <= 2 partitions, and smaller than the
    int8 program by most of the table's second nibble. Checked on the encoder's hidden states (unit-scale values):
    a random model's logits are too small and near-tied to measure static int8 on."""
    config = seq_model.config
    encoder = model_for_task(config, "feature-extraction").eval()
    encoder.load_state_dict(seq_model.albert.state_dict())  # same weights; its forward never uses the pooler
    calibration = [example(config, n) for n in (4, 11, 30, 50, 64, 20, 8, 33)]
    recipe = XnnpackInt8Recipe(linear="static", embedding="int4")
    delegation, buffer = lower(recipe.quantize(encoder, example(config), seq_dims("ab", 64), calibration))
    assert delegation["partitions"] <= 2
    assert set(delegation["non_delegated_ops"]) <= OUTSIDE_OK
    table = config.vocab_size * config.embedding_size
    # int4 packs two weights a byte; int8 storage here would save only the pooler (17 KB), not 38 KB.
    assert len(buffer) < len(dynamic_pte[1]) - 0.3 * table
    got, want = [], []
    for length in (3, 17, 40, 64):
        args = example(config, length)
        got.append(run_pte(buffer, args).numpy().ravel())
        want.append(encoder(*args).detach().numpy().ravel())
    snr = compute_error(np.concatenate(want), np.concatenate(got))
    assert snr > 20, snr


def test_quantize_leaves_the_float_model_alone(seq_model):
    before = {k: v.clone() for k, v in seq_model.state_dict().items()}
    XnnpackInt8Recipe().quantize(seq_model, example(seq_model.config), seq_dims("ab", 64))
    assert seq_model.albert.embeddings.word_embeddings.padding_idx == seq_model.config.pad_token_id
    for key, value in seq_model.state_dict().items():
        assert type(value) is torch.Tensor and torch.equal(value, before[key]), key


@pytest.mark.slow
def test_xnnpack_int8_size_bound_albert_base():
    """albert-base-v2 int8 .pte <= 12.5 MB: shared layer and embeddings stored once (about 100 s to lower)."""
    config = AlbertConfig.from_preset("albert-base-v2")
    model = model_for_task(config, "sequence-classification").eval()
    delegation, buffer = lower(XnnpackInt8Recipe().quantize(model, example(config), seq_dims("ab", 128)))
    assert delegation["partitions"] <= 2
    assert len(buffer) <= 12_500_000
    assert len(buffer) <= int8_bound(model)
