"""Int8 ALBERT for ExecuTorch's XNNPACK backend, with the shared layer and the embeddings each stored once.

Primitives (`quantize_embeddings_`, `quantize_linears_dynamic_`, `quantize_linears_static`) -> `XnnpackInt8Recipe`
-> a quantized `torch.export.ExportedProgram`, ready for `to_edge_transform_and_lower(..., XnnpackPartitioner())`
and `to_executorch(EXECUTORCH_CONFIG)`.

Measured choices (albert-base-v2 config, ExecuTorch 1.5.1, torchao 0.18):
  - Dynamic linears use torchao `Int8DynamicActivationIntxWeightConfig(int8, PerAxis(0))`: lowers to XNNPACK's
    dynamically quantized fully-connected with the model still in 2 partitions. The PT2E XNNPACKQuantizer's dynamic
    config splits the same model into 4 partitions.
  - Static linears use PT2E (`XNNPACKQuantizer`, symmetric per-channel weights, calibrated int8 activations) on
    nn.Linear only; each application of the shared layer gets its own activation observers (they see different
    ranges) while its weights stay one tensor. 2 partitions.
  - XNNPACK names every constant it serialises by the sha256 of its bytes (`NamedDataStore`), so a weight used by
    12 call sites is stored once: the int8 albert-base-v2 .pte is 12.2 MB for 11.7 M parameters.
  - The word-embedding table is torchao `IntxWeightOnlyConfig` (int8 per row, or int4 in groups). Its
    `dequantize_affine + embedding` pattern is not an XNNPACK op and has no ExecuTorch kernel of its own ("Missing out
    variants: torchao::dequantize_affine"); ExecuTorch's quant-fusion pass rewrites it to
    `quantized_decomposed::embedding_byte` / `embedding_4bit`, whose kernels live in `executorch.kernels.quantized`.
    So: `to_executorch(EXECUTORCH_CONFIG)` (do_quant_fusion_and_const_prop=True), and import
    `executorch.kernels.quantized` before lowering and before loading the .pte (`albert_edge.runtime` does). The
    pattern is `embedding(weight, ids)` with two arguments, so the table's `padding_idx` (which only masks gradients)
    is cleared first.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from albert_edge.files import AlbertEdgeError

LINEAR_SCHEMES = ("dynamic", "static")
EMBEDDING_SCHEMES = ("int8", "int4", "fp32")


class XnnpackQuantizationError(AlbertEdgeError):
    """A recipe that cannot be applied as asked (bad scheme, no calibration data)."""


def register_quantized_kernels() -> None:
    """Load ExecuTorch's quantized kernel library: the AOT out-variants for `embedding_byte`/`embedding_4bit` and,
    in this process, their runtime kernels. Idempotent."""
    # The functional schemas (`embedding_byte`, ...) are defined in Python by ExecuTorch's quant-fusion patterns;
    # the library adds their out-variants and kernels.
    import executorch.exir.passes._quant_patterns_and_replacements  # noqa: F401
    import executorch.kernels.quantized  # noqa: F401

    if not hasattr(torch.ops.quantized_decomposed, "embedding_byte") or not hasattr(
            torch.ops.quantized_decomposed.embedding_byte, "out"):
        raise XnnpackQuantizationError(
            "executorch.kernels.quantized did not register quantized_decomposed::embedding_byte.out; "
            "reinstall executorch (its wheel ships libquantized_ops_aot_lib)")


# -- primitives ------------------------------------------------------------------------------------------------------
def word_embedding_filter(module: nn.Module, fqn: str) -> bool:
    # Only the vocab table: the position and token-type tables are sliced/indexed as plain tensors (a quantized
    # tensor subclass would not slice), and together they are 1% of the parameters.
    return isinstance(module, nn.Embedding) and fqn.endswith("word_embeddings")


def quantize_embeddings_(model: nn.Module, scheme: str = "int8", group_size: int = 32,
                         filter_fn: Callable[[nn.Module, str], bool] = word_embedding_filter) -> list[str]:
    """Quantize embedding tables in place: "int8" per row, "int4" per `group_size` columns; returns their names."""
    if scheme == "fp32":
        return []
    from torchao.quantization import IntxWeightOnlyConfig, quantize_
    from torchao.quantization.granularity import PerAxis, PerGroup

    if scheme not in ("int8", "int4"):
        raise XnnpackQuantizationError(f"embedding scheme {scheme!r}; choose one of {', '.join(EMBEDDING_SCHEMES)}")
    names = [fqn for fqn, m in model.named_modules() if filter_fn(m, fqn)]
    for fqn in names:
        # ExecuTorch's embedding_byte/4bit fusion matches `embedding(weight, ids)`; padding_idx only masks gradients.
        model.get_submodule(fqn).padding_idx = None
    if scheme == "int8":
        config = IntxWeightOnlyConfig(weight_dtype=torch.int8, granularity=PerAxis(0))
    else:
        config = IntxWeightOnlyConfig(weight_dtype=torch.int4, granularity=PerGroup(group_size))
    quantize_(model, config, filter_fn=filter_fn)
    return names


def quantize_linears_dynamic_(model: nn.Module) -> None:
    """Every nn.Linear in place: int8 symmetric per-output-channel weights, int8 activations quantized per token at
    run time (XNNPACK's qd8-f32-qc8w fully-connected)."""
    from torchao.quantization import Int8DynamicActivationIntxWeightConfig, quantize_
    from torchao.quantization.granularity import PerAxis

    quantize_(model, Int8DynamicActivationIntxWeightConfig(weight_dtype=torch.int8, weight_granularity=PerAxis(0)),
              filter_fn=lambda m, fqn: isinstance(m, nn.Linear))


def quantize_linears_static(model: nn.Module, example_inputs: tuple[torch.Tensor, ...], dynamic_shapes: Any,
                            calibration: Iterable[tuple[torch.Tensor, ...]],
                            progress: Callable[[Iterable], Iterable] = iter) -> torch.export.ExportedProgram:
    """PT2E static int8 for nn.Linear: export, insert observers, run `calibration`, convert, re-export."""
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    graph = torch.export.export(model, example_inputs, dynamic_shapes=dynamic_shapes).module()
    quantizer = XNNPACKQuantizer().set_module_type(
        nn.Linear, get_symmetric_quantization_config(is_per_channel=True, is_dynamic=False))
    prepared = prepare_pt2e(graph, quantizer)
    seen = 0
    with torch.no_grad():
        for inputs in progress(calibration):
            prepared(*inputs)
            seen += 1
    if not seen:
        raise XnnpackQuantizationError("static quantization needs calibration inputs (pass --calibration FILE)")
    converted = convert_pt2e(prepared)
    return torch.export.export(converted, example_inputs, dynamic_shapes=dynamic_shapes)


# -- the recipe ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class XnnpackInt8Recipe:
    """What to quantize and how, for a .pte that XNNPACK runs in int8.

    linear: "dynamic" (default; no calibration) or "static" (activation scales calibrated on real text).
    embedding: "int8" per row (default), "int4" per group of `embedding_group_size`, or "fp32".
    """

    linear: str = "dynamic"
    embedding: str = "int8"
    embedding_group_size: int = 32

    def __post_init__(self) -> None:
        if self.linear not in LINEAR_SCHEMES:
            raise XnnpackQuantizationError(f"linear scheme {self.linear!r}; choose one of {', '.join(LINEAR_SCHEMES)}")
        if self.embedding not in EMBEDDING_SCHEMES:
            raise XnnpackQuantizationError(
                f"embedding scheme {self.embedding!r}; choose one of {', '.join(EMBEDDING_SCHEMES)}")

    @property
    def needs_calibration(self) -> bool:
        return self.linear == "static"

    def describe(self) -> dict[str, str]:
        activations = "dynamic per-token int8" if self.linear == "dynamic" else "static int8 (calibrated)"
        embedding = {"int8": "int8 symmetric per-row word embeddings",
                     "int4": f"int4 per-group ({self.embedding_group_size}) word embeddings",
                     "fp32": "fp32"}[self.embedding]
        return {
            "scheme": f"xnnpack-int8-{self.linear}",
            "linear": f"int8 symmetric per-channel weights, {activations} activations",
            "embedding": embedding,
        }

    def quantize(self, model: nn.Module, example_inputs: tuple[torch.Tensor, ...], dynamic_shapes: Any,
                 calibration: Sequence[tuple[torch.Tensor, ...]] | None = None,
                 progress: Callable[[Iterable], Iterable] = iter) -> torch.export.ExportedProgram:
        """A quantized copy of `model`, exported with `dynamic_shapes`; `model` itself is left as it was."""
        if self.needs_calibration and not calibration:
            raise XnnpackQuantizationError("static quantization needs calibration inputs (pass --calibration FILE)")
        register_quantized_kernels()
        model = copy.deepcopy(model).eval()
        quantize_embeddings_(model, self.embedding, self.embedding_group_size)
        if self.linear == "dynamic":
            quantize_linears_dynamic_(model)
            return torch.export.export(model, example_inputs, dynamic_shapes=dynamic_shapes)
        return quantize_linears_static(model, example_inputs, dynamic_shapes, calibration, progress)


def executorch_config(external_constants: Callable[[Any], str | None] | bool = False):
    """The `to_executorch` config every albert_edge .pte is serialised with: quant fusion turns torchao's
    dequantize+embedding into ExecuTorch's quantized embedding kernels (a no-op for fp32 models).
    `external_constants` (ExecuTorch's own option): node -> the external data file's tag, or None to keep it in the
    .pte."""
    from executorch.exir import ExecutorchBackendConfig

    return ExecutorchBackendConfig(do_quant_fusion_and_const_prop=True, external_constants=external_constants)
