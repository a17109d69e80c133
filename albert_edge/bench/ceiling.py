"""The reference ceiling: how fast this machine runs the encoder's own GEMMs, fp32 and int8, through XNNPACK.

A latency alone says little across machines; a fraction of what the machine's GEMM kernels can do says how much is
left. ALBERT's encoder is, per application of its one shared layer, six GEMMs at sequence length T: q, k, v and the
attention output (T x H x H each), the FFN in (T x H x I) and out (T x I x H). `GemmStack` is exactly those six
linears, chained, with one set of weights applied `num_hidden_layers` times -- the way ALBERT runs them, so whatever
the runtime does with a weight used L times happens to both alike. (ExecuTorch 1.5's XNNPACK delegate, with its
weight cache off as in the pip wheel's Python runtime, packs a separate copy per use: L copies stream through the
caches instead of one staying resident, in the ceiling as in the model.) It is lowered to XNNPACK fp32 and int8 (to
the same XNNPACK operators the export's recipe produces) and timed by the same worker as the models.

    fraction = encoder GEMM FLOPs / latency / ceiling throughput   (same T, same threads, same precision)

Attention's batched matmuls, softmax, LayerNorm, GELU, the embedding and the head are work the ceiling does not
count, so a model's fraction is below 1 by construction; the gap is what those and the framework overhead cost.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch
from torch import nn

from albert_edge.config import AlbertConfig

RECIPE_VERSION = "3"


def encoder_gemm_flops(config: AlbertConfig, seq_len: int, batch: int = 1) -> float:
    """FLOPs (2 per multiply-add) of the encoder's six GEMMs over all layer applications."""
    h, i, n = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    return 2.0 * batch * seq_len * n * (4 * h * h + 2 * h * i)


class GemmStack(nn.Module):
    """The six encoder GEMMs of one ALBERT layer, one shared set of weights, applied `layers` times."""

    def __init__(self, hidden: int, intermediate: int, layers: int):
        super().__init__()
        self.layers = layers
        self.query, self.key, self.value, self.dense = (nn.Linear(hidden, hidden) for _ in range(4))
        self.ffn = nn.Linear(hidden, intermediate)
        self.ffn_output = nn.Linear(intermediate, hidden)
        # Unit-variance-preserving weights: 6 x layers chained GEMMs with nn.Linear's default init would shrink the
        # activations into denormals, which x86 fp32 kernels run many times slower.
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=m.in_features ** -0.5)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, H)
        for _ in range(self.layers):
            x = self.dense(self.value(self.key(self.query(x))))
            x = self.ffn_output(self.ffn(x))  # (B, T, I) -> (B, T, H)
        return x


def _dynamic_int8(module: nn.Module, example: tuple[torch.Tensor, ...], dynamic_shapes) -> torch.export.ExportedProgram:
    """Dynamically quantized linears (int8 per-channel weights) through PT2E's XNNPACKQuantizer.

    The export quantizes with torchao (`quantize.xnnpack.XnnpackInt8Recipe`); for a graph of bare linears both
    lower to the same XNNPACK operator -- a dynamically quantized fully-connected, whose activations XNNPACK
    quantizes per row (qd8-f32-qc8w) -- and measured the same speed here (albert-edge-tiny shapes, 1 thread:
    0.25 vs 0.24 ms at seq 16, 0.86 vs 0.89 ms at seq 64). PT2E lowers its graph about 3x faster, which keeps
    the quick benchmark suite inside its time budget.
    """
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True, is_dynamic=True))
    prepared = prepare_pt2e(torch.export.export(module, example, dynamic_shapes=dynamic_shapes).module(), quantizer)
    prepared(*example)
    return torch.export.export(convert_pt2e(prepared), example, dynamic_shapes=dynamic_shapes)


def build_ceiling(config: AlbertConfig, max_seq_len: int, int8: bool, out_dir: str | os.PathLike) -> Path:
    """Lower `GemmStack` for `config` to an XNNPACK .pte (cached by shape and precision) and return its path."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    from quantize.xnnpack import executorch_config

    h, i, n = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    out_dir = Path(out_dir)
    target = out_dir / f"gemm_ceiling_h{h}_i{i}_l{n}_t{max_seq_len}_{'int8' if int8 else 'fp32'}_v{RECIPE_VERSION}.pte"
    if target.is_file():
        return target
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    module = GemmStack(h, i, n).eval()
    example = (torch.randn(1, min(32, max_seq_len), h),)
    dynamic_shapes = ({1: torch.export.Dim("seq", min=1, max=max_seq_len)},)
    with torch.no_grad():
        if int8:
            program = _dynamic_int8(module, example, dynamic_shapes)
        else:
            program = torch.export.export(module, example, dynamic_shapes=dynamic_shapes)
        lowered = to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()])
        buffer = lowered.to_executorch(executorch_config()).buffer
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{target.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(buffer)
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)
    return target
