"""Lowering a model to the files a device runs: the int8 recipes of both backends, torch.export -> XNNPACK `.pte`,
TorchScript trace -> ORT-fused, quantized `.onnx`, and ONNX Runtime's `.ort` mobile format. `albert_edge.export`
runs these steps in order (and `scripts/delegation_report.py` the `.pte` ones); `ExportError` is the export's one
error type, raised here, in `albert_edge.verify` and in the CLI's input checks.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from albert_edge import tasks
from albert_edge.config import AlbertConfig
from albert_edge.files import AlbertEdgeError
from albert_edge.model import AlbertPreTrainedModel
from albert_edge.quiet import quiet

INT4_EMBEDDING_GROUP = 32  # the int4 recipe's columns per scale (quantize.xnnpack.XnnpackInt8Recipe)


class ExportError(AlbertEdgeError):
    """Input the export cannot use, or an export that failed verification; the message says what to do."""


@dataclass
class Example:
    """One verification input at its own length; `label` only for labelled sequence-classification data."""

    inputs: dict[str, np.ndarray]
    label: int | None = None



def progress_step(bar: tqdm | None, what: str) -> None:
    """Mark the running step done (if any) and name the next one."""
    if bar is None:
        return
    if getattr(bar, "postfix", None):  # a disabled bar has none
        bar.update(1)
    bar.set_postfix_str(what)



# -- export steps ----------------------------------------------------------------------------------------------------
def model_input_names(task: str) -> list[str]:
    """The exported inputs, in forward order: token types only where pairs matter (question answering)."""
    return list(tasks.get(task).inputs)


def example_inputs(config: AlbertConfig, input_names: Sequence[str], max_seq_len: int) -> tuple[torch.Tensor, ...]:
    # Neither 1 (torch.export specialises size-1 dims) nor max: a length strictly inside the range.
    length = min(8, max_seq_len)
    ids = torch.randint(5, config.vocab_size, (1, length))
    arrays = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "token_type_ids": torch.zeros_like(ids)}
    return tuple(arrays[name] for name in input_names)


def seq_dynamic_shapes(input_names: Sequence[str], max_seq_len: int) -> tuple[dict[int, Any], ...]:
    seq = torch.export.Dim("seq", min=1, max=max_seq_len)
    return tuple({1: seq} for _ in input_names)


def delegation_summary(edge_program_manager, method: str = "forward") -> dict[str, Any]:
    """Partitions and per-op node counts of a lowered program's `method` (ExecuTorch's `get_delegation_info`)."""
    from executorch.devtools.backend_debug import get_delegation_info

    info = get_delegation_info(edge_program_manager.exported_program(method).graph_module)
    non_delegated = {}
    if info.num_delegated_nodes or info.num_non_delegated_nodes:  # the bare encoder's stepwise head has no operator
        frame = info.get_operator_delegation_dataframe()
        frame = frame[frame.op_type != "Total"]
        non_delegated = {row.op_type: int(row.occurrences_in_non_delegated_graphs) for row in frame.itertuples()
                         if row.occurrences_in_non_delegated_graphs}
    return {
        "partitions": int(info.num_delegated_subgraphs),
        "delegated_nodes": int(info.num_delegated_nodes),
        "non_delegated_nodes": int(info.num_non_delegated_nodes),
        "non_delegated_ops": non_delegated,
    }


# -- the tied MLM table, once -------------------------------------------------------------------------------------
# The masked-LM decoder reuses the word-embedding table. The embedding lookup runs outside XNNPACK (ExecuTorch's
# quantized `embedding_byte` kernel, or `embedding`) and the decoder inside it, so a one-file .pte stores the table
# twice: once as a program constant, once in the delegate's data. ExecuTorch's named-data store keeps one buffer for
# equal bytes across keys, but only within one destination; program constants and delegate data meet only in an
# external `.ptd` file. So both copies are tagged for `<stem>.ptd`: the .pte holds the rest, the .ptd the table once.
_TIED_STATE = re.compile(r"(^|\.)(word_embeddings|decoder)\.weight$")
# Their constant nodes: `..._weight` (fp32), `..._parametrizations_weight_original<k>` (torchao's int8 data, scale
# and zero point, unwrapped).
_TIED_NODE = re.compile(r"(word_embeddings|decoder)_(weight|parametrizations_weight_original\d+)$")


def _inner_tensors(tensor: torch.Tensor) -> list[torch.Tensor]:
    if type(tensor) in (torch.Tensor, torch.nn.Parameter):
        return [tensor.data]
    names, _ = tensor.__tensor_flatten__()  # a torchao quantized tensor: its int8 data, scale, zero point
    return [getattr(tensor, n) for n in names]


def tied_table_bytes(programs: dict[str, torch.export.ExportedProgram]) -> int | None:
    """The size of one copy of the tied table when `programs` (a .pte's methods) hold the word-embedding table and
    a decoder weight that the recipe turned into equal tensors, so an external data file stores them once; None
    otherwise (no decoder, or a recipe that quantizes the two differently, e.g. static PT2E linears, an int4 table)."""
    tables: dict[str, list[torch.Tensor]] = {}
    for program in programs.values():
        for key, value in program.state_dict.items():
            match = _TIED_STATE.search(key)
            if match:
                tables.setdefault(match.group(2), []).append(value)
    if set(tables) != {"word_embeddings", "decoder"}:
        return None
    reference = _inner_tensors(tables["word_embeddings"][0])
    for value in tables["decoder"]:
        inner = _inner_tensors(value)
        if len(inner) != len(reference) or not all(
                a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b) for a, b in zip(inner, reference)):
            return None
    return sum(t.numel() * t.element_size() for t in reference)


def _tag_delegate_constants(tag: str):
    """An edge transform pass: the tied table's constants, as XNNPACK serialises them, go to `tag`.ptd."""
    from executorch.exir.pass_base import PassResult

    def tag_tied_table(graph_module: torch.fx.GraphModule) -> PassResult:
        for node in graph_module.graph.nodes:
            if node.op == "placeholder" and _TIED_NODE.search(node.name):
                node.meta.setdefault("custom", {})["delegate_constant_tag"] = tag
        return PassResult(graph_module, True)

    return tag_tied_table


def _lower_and_write(programs, path: Path, bar: tqdm | None, what: str) -> dict[str, Any]:
    """XNNPACK-lower `programs` (method -> ExportedProgram), serialise to `path`, and, for a tied MLM table, write
    it once to `path.with_suffix(".ptd")`. Returns the delegation summary per method."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import (
        XnnpackPartitioner,
    )
    from executorch.exir import to_edge_transform_and_lower

    from quantize.xnnpack import executorch_config

    table_bytes = tied_table_bytes(programs)
    tag = path.stem if table_bytes else None
    progress_step(bar, f"{what}: lower to XNNPACK")
    edge = to_edge_transform_and_lower(programs, partitioner=[XnnpackPartitioner()],
                                       transform_passes=[_tag_delegate_constants(tag)] if tag else None)
    delegation = {name: delegation_summary(edge, name) for name in programs}
    progress_step(bar, f"{what}: serialise")
    program = edge.to_executorch(executorch_config(
        external_constants=(lambda node: tag if _TIED_NODE.search(node.name) else None) if tag else False))
    path.write_bytes(program.buffer)
    if tag:
        program.write_tensor_data_to_file(str(path.parent))  # `tag`.ptd, i.e. <stem>.ptd
        data = path.with_suffix(".ptd")
        if not data.is_file() or data.stat().st_size >= 2 * table_bytes:  # both copies: equal bytes did not meet
            raise ExportError(f"{path.name}: the tied embedding/decoder table was not stored once in {data.name}; "
                              "export with --embedding fp32, or report this with the command")
    return delegation


def export_pte(model: AlbertPreTrainedModel, path: Path, *, input_names: Sequence[str], max_seq_len: int,
               recipe=None, calibration: Sequence[Example] = (), bar: tqdm | None = None) -> dict[str, Any]:
    """torch.export (quantized by `recipe` if given) -> XNNPACK -> .pte at `path` (and `<stem>.ptd` beside it for a
    masked-LM head's tied table); returns the delegation summary."""
    from quantize.xnnpack import register_quantized_kernels

    register_quantized_kernels()
    args = example_inputs(model.config, input_names, max_seq_len)
    shapes = seq_dynamic_shapes(input_names, max_seq_len)
    progress_step(bar, "pte: export" + (" + quantize" if recipe else ""))
    with torch.no_grad(), quiet():
        if recipe is None:
            program = torch.export.export(model, args, dynamic_shapes=shapes)
        else:
            batches = [tuple(torch.from_numpy(e.inputs[n]) for n in input_names) for e in calibration]
            program = recipe.quantize(model, args, shapes, batches,
                                      progress=lambda it: tqdm(it, desc="calibrating", total=len(batches),
                                                               leave=False, disable=bar is None or bar.disable))
        return _lower_and_write({"forward": program}, path, bar, "pte")["forward"]


def export_stepwise_pte(model: AlbertPreTrainedModel, path: Path, *, input_names: Sequence[str], max_seq_len: int,
                        recipe=None, bar: tqdm | None = None) -> dict[str, Any]:
    """A multi-method .pte (`albert_edge.stepwise`: embed, one layer per hidden group, head), each method exported
    with the sequence axis dynamic, quantized by `recipe` (dynamic int8 only: static scales would need the hidden
    states as calibration data), lowered to XNNPACK (a masked-LM head's tied table once, in `<stem>.ptd`, as
    `export_pte`); returns the delegation summary per method."""
    from albert_edge import stepwise
    from quantize.xnnpack import register_quantized_kernels

    if recipe is not None and recipe.needs_calibration:
        raise ExportError("--stepwise takes dynamic int8 (or fp32); drop --calibration")
    register_quantized_kernels()
    forward_args = example_inputs(model.config, input_names, max_seq_len)
    seq = torch.export.Dim("seq", min=1, max=max_seq_len)
    args = stepwise.example_inputs(model, forward_args)
    shapes = stepwise.dynamic_shapes(model, tuple({1: seq} for _ in input_names), seq)
    progress_step(bar, "stepwise pte: export" + (" + quantize" if recipe else ""))
    programs = {}
    with torch.no_grad(), quiet():
        for name, module in stepwise.methods(model).items():
            module.eval()
            programs[name] = (torch.export.export(module, args[name], dynamic_shapes=shapes[name]) if recipe is None
                              else recipe.quantize(module, args[name], shapes[name]))
        return _lower_and_write(programs, path, bar, "stepwise pte")


def export_onnx(model: AlbertPreTrainedModel, path: Path, *, input_names: Sequence[str], max_seq_len: int,
                recipe=None, calibration: Sequence[Example] = (), bar: tqdm | None = None) -> dict[str, Any]:
    """The model's ORT formulation traced to ONNX -> ORT's transformer optimizer (every layer one `Attention`) ->
    shared weights stored once -> optionally ORT int8 -> one .onnx file at `path`. Returns what the manifest records
    of the graph (fused-operator counts).

    Traced with the TorchScript exporter (`dynamo=False`): ORT's fusions match its graphs; the dynamo exporter's
    graph of the same module fuses no `Attention` at all (measured with onnxruntime 1.32)."""
    import onnx

    from albert_edge.model import set_formulation
    from quantize.onnx import fuse_for_ort, strip_debug_metadata, tie_decoders, tied_decoders

    config = model.config
    args = example_inputs(config, input_names, max_seq_len)
    progress_step(bar, "onnx: export")
    float_path = path.with_name(f".{path.stem}.float.onnx")
    try:
        set_formulation(model, "ort")
        with torch.no_grad(), quiet():
            torch.onnx.export(model, args, str(float_path), input_names=list(input_names),
                              output_names=list(model.output_names), opset_version=17, dynamo=False,
                              dynamic_axes={name: {1: "seq"} for name in input_names})
            # Static QDQ has no Attention op: its graph keeps attention as MatMuls for the quantizer to cover.
            # Layer applications: each of the num_hidden_layers steps runs inner_group_num layers.
            fused, stats, deduplicated = fuse_for_ort(
                float_path, config.num_attention_heads, config.hidden_size,
                config.num_hidden_layers * config.inner_group_num,
                attention=recipe is None or recipe.linear == "dynamic")
        graph = {"exporter": "torch.onnx (TorchScript)", "formulation": "ort", "fused_operators": stats,
                 "deduplicated_initializers": deduplicated}
        if recipe is None:
            tie_decoders(fused, tied_decoders(fused))  # a masked LM's decoder reads the embedding table itself
            strip_debug_metadata(fused)
            onnx.save(fused, str(path))
            return graph
        progress_step(bar, "onnx: quantize")
        with quiet():
            recipe.quantize(fused, path, [e.inputs for e in calibration] or None)
        return graph
    finally:
        set_formulation(model, "xnnpack")
        float_path.unlink(missing_ok=True)
        float_path.with_name(float_path.name + ".data").unlink(missing_ok=True)


def write_ort_format(onnx_path: Path) -> tuple[Path, Path]:
    """ONNX Runtime's mobile format beside `onnx_path`: `NAME.ort` (the graph optimised once, at ORT_ENABLE_ALL for
    ARM, by onnxruntime's own `convert_onnx_models_to_ort`) and `NAME.required_operators.config`, the operator list
    a reduced ORT build needs (`build.sh --include_ops_by_config`). Returns both paths."""
    from onnxruntime.tools.convert_onnx_models_to_ort import (
        OptimizationStyle,
        convert_onnx_models_to_ort,
    )

    work = onnx_path.with_name(f".{onnx_path.stem}.ort-work")
    work.mkdir()
    try:
        with quiet(), contextlib.redirect_stdout(io.StringIO()):  # the tool prints its progress
            convert_onnx_models_to_ort(onnx_path, output_dir=work,
                                       optimization_styles=[OptimizationStyle.Fixed], target_platform="arm")
        ort_file = onnx_path.with_suffix(".ort")
        config_file = onnx_path.with_name(f"{onnx_path.stem}.required_operators.config")
        os.replace(work / ort_file.name, ort_file)
        # The tool's comment names the absolute path it wrote to; the shipped file names the model only.
        lines = (work / config_file.name).read_text(encoding="utf-8").splitlines()
        lines = [f"# - {ort_file.name}" if line.startswith("# - ") else line for line in lines]
        config_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return ort_file, config_file
    finally:
        shutil.rmtree(work, ignore_errors=True)


def recipes(static: bool, embedding: str, onnx_per_channel: bool):
    """The int8 recipes of both backends: (XnnpackInt8Recipe, OnnxInt8Recipe)."""
    from quantize.onnx import OnnxInt8Recipe
    from quantize.xnnpack import XnnpackInt8Recipe

    linear = "static" if static else "dynamic"
    xnnpack = XnnpackInt8Recipe(linear=linear, embedding=embedding, embedding_group_size=INT4_EMBEDDING_GROUP)
    # ONNX Runtime has no int4 Gather kernel: its table stays int8 when the .pte's is int4. Per-tensor weights by
    # default: on albert-base (random weights, 872 SST-2 dev sentences) per-channel agreed 99.89% vs 99.43% but ran
    # 3-6% slower at seq 16 (docs/benchmarks.md, "ONNX Runtime"); both clear --min-agreement.
    onnx_recipe = OnnxInt8Recipe(linear=linear, embedding="fp32" if embedding == "fp32" else "int8",
                                 per_channel=onnx_per_channel)
    return xnnpack, onnx_recipe



def quantization_entry(xnnpack_recipe, onnx_recipe, pte: bool, onnx: bool, calibration_lines: int) -> dict:
    pte_q, onnx_q = xnnpack_recipe.describe(), onnx_recipe.describe()
    return {"scheme": f"int8-{xnnpack_recipe.linear}", "linear": pte_q["linear"], "embedding": pte_q["embedding"],
            "pte": pte_q if pte else None, "onnx": onnx_q if onnx else None,
            "calibration_lines": calibration_lines or None}
