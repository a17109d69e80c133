"""Int8 ALBERT for ONNX Runtime: ORT's own quantizer, plus the graph edits it needs to keep ALBERT small.

Primitives (each a plain function on an `onnx.ModelProto`) -> `OnnxInt8Recipe` -> a quantized `.onnx` file.

Why the edits. `torch.onnx.export` writes a linear on a 3-D input as `MatMul(x, Transpose(W))` and one on a 2-D input
as `Gemm(x, W, transB=1)`. ORT's dynamic quantizer (`MatMulInteger`) only takes MatMuls whose B is an initializer and
knows no Gemm, so out of the box it quantizes 3 of ALBERT's ~75 weight uses. Folding the transposes with a generic
constant folder makes B an initializer, but one per *use*: the shared layer, applied 12 times, is then stored and
quantized 12 times (the 40 MB seen for albert-base-v2, instead of 12). So:

  - `fold_weight_transposes` folds `Transpose(initializer)` once per (weight, perm) and rewires every use to it;
  - `gemm_to_matmul` turns `Gemm(x, W, b, transB=1)` into `MatMul(x, W.T) + b`, so the pooler is quantized too;
  - ORT's `quantize_dynamic` / `quantize_static` then quantize each weight once (they key weights by name);
  - `quantize_gather_rows` stores the word-embedding table as int8 with one scale per row. ORT's own Gather
    quantization uses a single scale for the whole table (one rare token's large row would flatten all others),
    so this is written by hand: `Gather(int8 table) -> Cast -> Mul(Gather(row scales))`, 4 standard ops;
  - `tied_decoders` / `tie_decoders`: a masked LM's decoder is tied to the word-embedding table, but the exporter
    folds its `W.T` into a second initializer; the decoder is rewired to read the table itself (`Gemm` with
    `transB=1`; in int8 `DynamicQuantizeMatMul` on the per-row table, its row scales the per-column scales);
  - `dedupe_initializers` merges initializers with identical bytes: a safety net that keeps the shared layer stored
    once whatever a future exporter or quantizer does;
  - `strip_debug_metadata` drops the exporter's per-node provenance strings (1.5 MB on albert-base-v2).

Before quantizing, `fuse_for_ort` runs ONNX Runtime's transformer optimizer on the graph the export traces from the
model's "ort" formulation (`albert_edge.model.set_formulation`): every layer becomes one `Attention` (Q, K, V, the
scores, softmax and context in one kernel, which `quantize_dynamic` turns into `QAttention`) and one `FastGelu`, with
`LayerNormalization` for every norm. Its `SkipLayerNormalization` fusion is turned off, by measurement: in
onnxruntime 1.32 the CPU kernel is ~9x slower than the `Add` + `LayerNormalization` it replaces (833 vs 92 us for
128 x 768, one thread: `python scripts/ort_probe.py layernorm`), and albert-base has 25 norms. The optimizer's
fused QKV weights are one concatenation per layer application, so `OnnxModel.remove_duplicated_initializer` then
stores (and the quantizer quantizes) the shared layer once.

Result on the albert-base-v2 config (11.7 M parameters): 12.14 MB, every linear a `DynamicQuantizeMatMul` or
`QAttention` once ORT loads it (docs/benchmarks.md has the latency against ORT's own recipe on Hugging Face's graph).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from albert_edge.files import AlbertEdgeError

LINEAR_SCHEMES = ("dynamic", "static")
EMBEDDING_SCHEMES = ("int8", "fp32")


class OnnxQuantizationError(AlbertEdgeError):
    """A model this recipe cannot quantize, or unusable calibration data."""


# -- primitives ------------------------------------------------------------------------------------------------------
def _initializers(model: onnx.ModelProto) -> dict[str, onnx.TensorProto]:
    return {init.name: init for init in model.graph.initializer}


def _rename_inputs(model: onnx.ModelProto, renames: dict[str, str]) -> None:
    for node in model.graph.node:
        for i, name in enumerate(node.input):
            if name in renames:
                node.input[i] = renames[name]
    for output in model.graph.output:
        if output.name in renames:
            raise OnnxQuantizationError(f"graph output {output.name} is a folded constant; nothing to quantize there")


def _drop_unused_initializers(model: onnx.ModelProto) -> None:
    used = {name for node in model.graph.node for name in node.input}
    keep = [init for init in model.graph.initializer if init.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(keep)


def fold_weight_transposes(model: onnx.ModelProto) -> int:
    """Replace every `Transpose(initializer)` by one pre-transposed initializer per (weight, perm); returns the count
    of nodes removed. Uses of the same weight share the folded tensor, so weight sharing survives."""
    inits = _initializers(model)
    folded: dict[tuple[str, tuple[int, ...]], str] = {}
    renames: dict[str, str] = {}
    keep = []
    for node in model.graph.node:
        if node.op_type != "Transpose" or node.input[0] not in inits:
            keep.append(node)
            continue
        source = inits[node.input[0]]
        perm = next((tuple(a.ints) for a in node.attribute if a.name == "perm"), None)
        perm = perm or tuple(reversed(range(len(source.dims))))
        key = (source.name, perm)
        if key not in folded:
            name = f"{source.name}.T" if perm == (1, 0) else f"{source.name}.perm{''.join(map(str, perm))}"
            array = np.ascontiguousarray(numpy_helper.to_array(source).transpose(perm))
            model.graph.initializer.append(numpy_helper.from_array(array, name))
            folded[key] = name
        renames[node.output[0]] = folded[key]
    removed = len(model.graph.node) - len(keep)
    del model.graph.node[:]
    model.graph.node.extend(keep)
    _rename_inputs(model, renames)
    _drop_unused_initializers(model)
    return removed


def gemm_to_matmul(model: onnx.ModelProto) -> int:
    """`Gemm(x, W, b)` with an initializer W, alpha = beta = 1 and no transA -> `MatMul(x, W or W.T) [+ b]`.

    ORT's dynamic quantizer has no integer Gemm; as a MatMul with a constant B the pooler and classifier are
    quantized like every other linear. Returns the number of Gemms rewritten."""
    inits = _initializers(model)
    transposed: dict[str, str] = {}
    nodes, rewritten = [], 0
    for node in model.graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if (node.op_type != "Gemm" or node.input[1] not in inits or attrs.get("transA", 0)
                or attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0):
            nodes.append(node)
            continue
        weight = node.input[1]
        if attrs.get("transB", 0):
            if weight not in transposed:
                transposed[weight] = f"{weight}.T"
                array = np.ascontiguousarray(numpy_helper.to_array(inits[weight]).T)
                model.graph.initializer.append(numpy_helper.from_array(array, transposed[weight]))
            weight = transposed[weight]
        has_bias = len(node.input) > 2 and node.input[2]
        product = f"{node.output[0]}_matmul" if has_bias else node.output[0]
        nodes.append(helper.make_node("MatMul", [node.input[0], weight], [product], name=f"{node.name}_MatMul"))
        if has_bias:
            nodes.append(helper.make_node("Add", [product, node.input[2]], [node.output[0]], name=f"{node.name}_Add"))
        rewritten += 1
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    _drop_unused_initializers(model)
    return rewritten


def quantize_rows(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 with one scale per row: (int8 table, float32 scales of shape (rows, 1)).

    Same convention as ExecuTorch's `embedding_byte` (scale = max|row| / 127, zero point 0), so both artifacts
    hold the same numbers."""
    table = np.asarray(table, dtype=np.float32)
    scales = np.abs(table).max(axis=1, keepdims=True) / 127.0
    scales = np.where(scales == 0, 1.0, scales).astype(np.float32)  # an all-zero row (padding) stays zero
    q = np.clip(np.rint(table / scales), -127, 127).astype(np.int8)
    return q, scales


def quantize_gather_rows(model: onnx.ModelProto, min_rows: int = 1024) -> list[str]:
    """Store every float Gather table with at least `min_rows` rows as per-row int8; returns the tables' names.

    `Gather(W, ids)` becomes `Mul(Cast(Gather(W_int8, ids)), Gather(scales, ids))`: only the gathered rows are
    dequantized, so the cost per token is E multiplies. Small tables (positions, token types) stay float: they are
    tiny and some are sliced rather than gathered."""
    inits = _initializers(model)
    done: dict[str, tuple[str, str]] = {}
    nodes = []
    for node in model.graph.node:
        table = inits.get(node.input[0]) if node.op_type == "Gather" else None
        axis = next((a.i for a in node.attribute if a.name == "axis"), 0)
        if (table is None or axis != 0 or table.data_type != onnx.TensorProto.FLOAT or len(table.dims) != 2
                or table.dims[0] < min_rows):
            nodes.append(node)
            continue
        if table.name not in done:
            q, scales = quantize_rows(numpy_helper.to_array(table))
            done[table.name] = (f"{table.name}_int8", f"{table.name}_row_scale")
            model.graph.initializer.append(numpy_helper.from_array(q, done[table.name][0]))
            model.graph.initializer.append(numpy_helper.from_array(scales, done[table.name][1]))
        q_name, scale_name = done[table.name]
        out, ids = node.output[0], node.input[1]
        base = node.name or out
        nodes += [
            helper.make_node("Gather", [q_name, ids], [f"{out}_int8"], name=f"{base}_q", axis=0),
            helper.make_node("Cast", [f"{out}_int8"], [f"{out}_float"], name=f"{base}_cast", to=onnx.TensorProto.FLOAT),
            helper.make_node("Gather", [scale_name, ids], [f"{out}_scale"], name=f"{base}_scale", axis=0),
            helper.make_node("Mul", [f"{out}_float", f"{out}_scale"], [out], name=f"{base}_dequant"),
        ]
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    _drop_unused_initializers(model)
    return sorted(done)


def tied_decoders(model: onnx.ModelProto) -> dict[str, str]:
    """The MatMuls whose constant B is the transpose of a Gather table (a masked LM's decoder, tied to the word
    embeddings): {MatMul node name: table name}. The exporter folds the decoder's `W.T` into an initializer of its
    own, so a tied table is stored twice; these are the nodes `tie_decoders` rewires. Unnamed nodes get a name."""
    inits = _initializers(model)
    tables = {}
    for node in model.graph.node:
        table = inits.get(node.input[0]) if node.op_type == "Gather" else None
        if table is not None and table.data_type == onnx.TensorProto.FLOAT and len(table.dims) == 2:
            tables.setdefault(tuple(reversed(table.dims)), []).append(table.name)
    tied: dict[str, str] = {}
    for i, node in enumerate(model.graph.node):
        weight = inits.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) == 2 else None
        if weight is None or tuple(weight.dims) not in tables:
            continue
        b = numpy_helper.to_array(weight)
        for name in tables[tuple(weight.dims)]:
            if np.array_equal(b, numpy_helper.to_array(inits[name]).T):
                node.name = node.name or f"tied_decoder_{i}"
                tied[node.name] = name
                break
    return tied


def tie_decoders(model: onnx.ModelProto, tied: dict[str, str]) -> int:
    """Make each decoder of `tied` (`tied_decoders`, found on the float graph) read its table instead of a copy, its
    bias Add folded in (one pass and one (tokens, vocab) buffer less):

    - float table (fp32 export): `Gemm(x, table, bias, transB=1)`, x flattened to (tokens, E) and the logits
      restored to x's leading shape (Gemm is 2-D);
    - per-row int8 table (`quantize_gather_rows` ran): `DynamicQuantizeMatMul(x, Transpose(table_int8), row scales,
      0, bias)`, the table's row scales as B's per-column scales — more exact than the per-tensor scale the
      quantizer gives a copy. ONNX Runtime folds the Transpose into a constant when it loads the graph, so the call
      costs what it did; `QGemm(transB=1)` would need no Transpose, but its bias must be int32 in a_scale * b_scale
      units, which a dynamically quantized input cannot give, and a separate Add raised albert-base's peak RSS at
      128 tokens from 80.0 to 93.0 MiB (docs/benchmarks.md). ORT's mobile format (`.ort`) stores graphs after
      that folding, so there the int8 table is stored twice, as before. Under the static recipe too: there the
      decoder's input is quantized per call like this, the other linears' are calibrated.

    Returns the number of decoders rewired."""
    inits = _initializers(model)

    def constant(array: np.ndarray, name: str) -> None:  # a small initializer the rewired graph needs, added once
        if name not in inits:
            inits[name] = numpy_helper.from_array(array, name)
            model.graph.initializer.append(inits[name])

    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    graph_outputs = {o.name for o in model.graph.output}
    nodes, rewired, absorbed = [], 0, set()
    for node in model.graph.node:
        if node.op_type == "Add" and node.output[0] in absorbed:
            continue
        table = tied.get(node.name) if node.op_type == "MatMul" else None
        if table is None:
            nodes.append(node)
            continue
        x, out, base = node.input[0], node.output[0], node.name
        q, scale, zero = f"{table}_int8", f"{table}_row_scale", f"{table}_int8_zero_point"
        source = inits.get(table) or inits.get(q)
        if source is None or (table not in inits and scale not in inits):
            raise OnnxQuantizationError(f"decoder {base} is tied to {table}, which is neither float nor per-row "
                                        "int8 in this graph")
        vocab, width = source.dims
        bias = []
        after = consumers.get(out, [])
        if len(after) == 1 and after[0].op_type == "Add" and out not in graph_outputs:
            other = [name for name in after[0].input if name != out]
            if len(other) == 1 and other[0] in inits and list(inits[other[0]].dims) == [vocab]:
                bias, out = other, after[0].output[0]
                absorbed.add(out)
        if table in inits:  # still float
            flat, vocab_dim = f"{table}_flat_{width}", f"{table}_vocab"
            constant(np.array([-1, width], dtype=np.int64), flat)
            constant(np.array([vocab], dtype=np.int64), vocab_dim)
            nodes += [
                helper.make_node("Reshape", [x, flat], [f"{base}_x2d"], name=f"{base}_flatten"),
                helper.make_node("Gemm", [f"{base}_x2d", table, *bias], [f"{base}_y2d"], name=base, transB=1),
                helper.make_node("Shape", [x], [f"{base}_x_shape"], name=f"{base}_x_shape", end=-1),
                helper.make_node("Concat", [f"{base}_x_shape", vocab_dim], [f"{base}_out_shape"],
                                 name=f"{base}_out_shape", axis=0),
                helper.make_node("Reshape", [f"{base}_y2d", f"{base}_out_shape"], [out], name=f"{base}_restore"),
            ]
        else:
            constant(np.array(0, dtype=np.int8), zero)
            constant(np.array([-1], dtype=np.int64), f"{table}_scale_shape")
            nodes += [
                helper.make_node("Transpose", [q], [f"{base}_tied_T"], name=f"{base}_tied_T", perm=[1, 0]),
                # B's per-column scales are 1-D; the Gather path reads the same scales as (rows, 1).
                helper.make_node("Reshape", [scale, f"{table}_scale_shape"], [f"{base}_b_scale"],
                                 name=f"{base}_b_scale"),
                helper.make_node("DynamicQuantizeMatMul", [x, f"{base}_tied_T", f"{base}_b_scale", zero, *bias], [out],
                                 name=base, domain="com.microsoft"),
            ]
        rewired += 1
    if rewired and not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    _drop_unused_initializers(model)
    return rewired


def dedupe_initializers(model: onnx.ModelProto) -> int:
    """Merge initializers with the same dtype, shape and bytes into one; returns how many were dropped."""
    first: dict[tuple, str] = {}
    renames: dict[str, str] = {}
    for init in model.graph.initializer:
        raw = numpy_helper.to_array(init)
        key = (init.data_type, tuple(init.dims), hashlib.sha256(np.ascontiguousarray(raw).tobytes()).digest())
        if key in first:
            renames[init.name] = first[key]
        else:
            first[key] = init.name
    graph_inputs = {i.name for i in model.graph.input}
    renames = {k: v for k, v in renames.items() if k not in graph_inputs}
    _rename_inputs(model, renames)
    _drop_unused_initializers(model)
    return len(renames)


def strip_debug_metadata(model: onnx.ModelProto) -> None:
    """Drop the per-node provenance `torch.onnx.export` records (module path, FX node, stack): ~1.5 KB a node,
    1.5 MB on albert-base-v2, and nothing a runtime reads."""
    for node in model.graph.node:
        del node.metadata_props[:]
        node.doc_string = ""
    del model.graph.value_info[:]


def fuse_for_ort(model: onnx.ModelProto | str | Path, num_heads: int, hidden_size: int, num_layers: int,
                 attention: bool = True, embeddings: bool = True) -> tuple[onnx.ModelProto, dict[str, int], int]:
    """ONNX Runtime's transformer optimizer (BERT fusions, `SkipLayerNormalization` off: see the module docstring),
    then one copy of each repeated initializer. Returns the model, its fused-operator counts and how many
    initializer copies were dropped. `attention=False` leaves attention as MatMuls (the static QDQ quantizer has no
    `Attention`). Raises when a layer application did not fuse: a silently half-fused graph is the regression this
    guards against. `embeddings=False`: a graph of layer applications only (no embeddings' norm to count)."""
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    options = FusionOptions("bert")
    options.enable_skip_layer_norm = False
    options.enable_bias_skip_layer_norm = False
    options.enable_attention = attention
    source = str(model) if isinstance(model, (str, Path)) else model
    try:
        optimized = optimize_model(source, model_type="bert", num_heads=num_heads, hidden_size=hidden_size,
                                   optimization_options=options, opt_level=0)
    except Exception as e:  # its pattern matchers raise assorted errors on graphs they were not written for
        raise OnnxQuantizationError(f"ONNX Runtime's transformer optimizer failed on this graph "
                                    f"({type(e).__name__}: {e})") from None
    stats = {k: v for k, v in optimized.get_fused_operator_statistics().items() if v}
    # 2 LayerNorms per application (after attention, after the FFN), plus the embeddings' own.
    expected = {"Attention": num_layers if attention else 0, "LayerNormalization": 2 * num_layers + embeddings}
    short = {k: (stats.get(k, 0), n) for k, n in expected.items() if stats.get(k, 0) < n}
    if short:
        raise OnnxQuantizationError(f"ONNX Runtime's optimizer fused only {short} (found, expected) of this ALBERT; "
                                    "the traced graph no longer matches its patterns")
    before = len(optimized.model.graph.initializer)
    with contextlib.redirect_stdout(io.StringIO()):  # it prints "Removed N initializers ..."
        optimized.remove_duplicated_initializer({})
    fused = optimized.model
    if not any(o.domain == "com.microsoft" for o in fused.opset_import):  # the contrib ops' domain
        fused.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return fused, stats, before - len(fused.graph.initializer)


def weight_bytes(model: onnx.ModelProto) -> int:
    """Bytes of all initializers: what the file costs beyond its (small) graph."""
    return sum(numpy_helper.to_array(init).nbytes for init in model.graph.initializer)


class _CalibrationReader:
    """ORT's CalibrationDataReader protocol over an iterable of input dicts."""

    def __init__(self, batches: Iterable[dict[str, np.ndarray]]):
        self._batches: Iterator[dict[str, np.ndarray]] = iter(batches)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._batches, None)


# -- the recipe ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OnnxInt8Recipe:
    """Int8 weights for every linear (per output channel, symmetric) and the word-embedding table (per row).

    linear="dynamic": activations quantized per call from their own range (ORT `quantize_dynamic`: `MatMulInteger`,
    `QAttention` for the fused attention). linear="static": activation ranges calibrated on real inputs
    (ORT `quantize_static`, QDQ format, MinMax; attention stays unfused MatMuls, which QDQ covers).
    embedding="int8" | "fp32". per_channel: one weight scale per output channel instead of per tensor.
    """

    linear: str = "dynamic"
    embedding: str = "int8"
    per_channel: bool = False

    def __post_init__(self) -> None:
        if self.linear not in LINEAR_SCHEMES:
            raise OnnxQuantizationError(f"linear scheme {self.linear!r}; choose one of {', '.join(LINEAR_SCHEMES)}")
        if self.embedding not in EMBEDDING_SCHEMES:
            raise OnnxQuantizationError(
                f"embedding scheme {self.embedding!r}; choose one of {', '.join(EMBEDDING_SCHEMES)}")

    def describe(self) -> dict[str, str]:
        activations = "dynamic per-tensor uint8" if self.linear == "dynamic" else "static uint8 (MinMax calibrated)"
        weights = "per-channel" if self.per_channel else "per-tensor"
        return {
            "scheme": f"onnxruntime-int8-{self.linear}",
            "linear": f"int8 symmetric {weights} weights, {activations} activations",
            "embedding": "int8 symmetric per-row word embeddings" if self.embedding == "int8" else "fp32",
        }

    def quantize(self, model: onnx.ModelProto | str | Path, out: str | Path,
                 calibration: Sequence[dict[str, np.ndarray]] | None = None) -> Path:
        """Quantize an fp32 ALBERT export and write it to `out` (a single file); returns `out`."""
        from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static

        model = onnx.load(str(model)) if not isinstance(model, onnx.ModelProto) else model
        fold_weight_transposes(model)
        gemm_to_matmul(model)
        # A masked LM's decoder reuses the int8 word-embedding table (tie_decoders) instead of a quantized copy.
        tied = tied_decoders(model) if self.embedding == "int8" else {}
        out = Path(out)
        # The fused graph has contrib ops ORT's shape inference cannot type; their outputs are float.
        options = {"MatMulConstBOnly": True, "DefaultTensorType": onnx.TensorProto.FLOAT}
        if self.linear == "dynamic":
            quantize_dynamic(model, out, op_types_to_quantize=["MatMul", "Attention"], per_channel=self.per_channel,
                             weight_type=QuantType.QInt8, nodes_to_exclude=list(tied), extra_options=options)
        else:
            if not calibration:
                raise OnnxQuantizationError("static quantization needs calibration inputs (pass --calibration FILE)")
            # The calibrator runs the float model itself, so it needs a file it may also write beside.
            staging = out.with_name(f".{out.name}.float.onnx")
            try:
                onnx.save(model, staging)
                quantize_static(staging, out, _CalibrationReader(calibration), quant_format=QuantFormat.QDQ,
                                op_types_to_quantize=["MatMul"], per_channel=self.per_channel,
                                nodes_to_exclude=list(tied), activation_type=QuantType.QUInt8,
                                weight_type=QuantType.QInt8,
                                extra_options={**options, "WeightSymmetric": True})
            finally:
                staging.unlink(missing_ok=True)
        quantized = onnx.load(str(out))
        if self.embedding == "int8":
            quantize_gather_rows(quantized)
            tie_decoders(quantized, tied)
        dedupe_initializers(quantized)
        strip_debug_metadata(quantized)
        onnx.checker.check_model(quantized)
        onnx.save(quantized, out)
        return out
