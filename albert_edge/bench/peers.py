"""The peers: how the same ALBERT weights run with the tools people use today, built in the benchmark's own run so
that every ratio compares like with like (same weights, same machine, same hour).

  hf-eager-fp32        transformers' AlbertFor* in eager PyTorch, fp32
  hf-onnx-int8         `torch.onnx.export` of transformers' model + ONNX Runtime `quantize_dynamic` (defaults)
  hf-ortopt-fp32       the same export through ONNX Runtime's transformer optimizer (`optimize_model(model_type=
                       "bert")`: fuses Attention, FastGelu, SkipLayerNormalization)
  hf-ortopt-int8       ... then `quantize_dynamic(extra_options={"DefaultTensorType": FLOAT})`: ORT at its best
  hf-optimum-et-int8   the recipe optimum-executorch applies to ALBERT: torchao `quantize_` with
                       `Int8DynamicActivationIntxWeightConfig(int8, PerAxis(0))` on transformers' model,
                       `torch.export` with a dynamic sequence dim, XNNPACK lowering with its compile/backend configs

optimum-executorch itself is not a dependency: its recipe is four library calls, reproduced here from its
`recipes/xnnpack.py` and `quantization.py` (qlinear "8da8w"). Its `RemovePaddingIdxEmbeddingPass` is left out: it only
lets a quantized embedding lower, and this recipe leaves embeddings in fp32.

The ONNX peers export transformers' model with `attn_implementation="eager"`: its default (SDPA) exports to a graph
whose attention ORT's optimizer does not recognise, so "ORT at its best" would run unfused attention.

Every file is built once into the cache directory (keyed by the weights) and reused by later runs.
"""

from __future__ import annotations

import importlib.util
import json
import os
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from albert_edge.bench.targets import Target, planned_memory, size_on_disk, token_inputs
from albert_edge.config import AlbertConfig

PEERS: dict[str, str] = {
    "hf-eager-fp32": "transformers eager PyTorch, fp32",
    "hf-onnx-int8": "HF ONNX export + ORT quantize_dynamic",
    "hf-ortopt-fp32": "HF ONNX export + ORT transformer optimizer + remove_duplicated_initializer, fp32",
    "hf-ortopt-int8": "HF ONNX export + ORT transformer optimizer + remove_duplicated_initializer + quantize_dynamic",
    "hf-optimum-et-int8": "optimum-executorch recipe: torchao 8da8w + XNNPACK",
}
# Cheap to build (seconds): what the quick pytest suite runs. The optimum-executorch recipe lowers ~60 partitions,
# which takes minutes.
QUICK_PEERS = ("hf-eager-fp32", "hf-onnx-int8", "hf-ortopt-fp32", "hf-ortopt-int8")
NEEDS = {"hf-eager-fp32": ("transformers",), "hf-onnx-int8": ("transformers", "onnxruntime", "onnx"),
         "hf-ortopt-fp32": ("transformers", "onnxruntime", "onnx"),
         "hf-ortopt-int8": ("transformers", "onnxruntime", "onnx"),
         "hf-optimum-et-int8": ("transformers", "torchao", "executorch")}
PEER_INPUTS = ["input_ids", "attention_mask"]


def missing_packages(peer: str) -> list[str]:
    return [p for p in NEEDS[peer] if importlib.util.find_spec(p) is None]


@contextmanager
def _atomic(target: Path, suffix: str) -> Iterator[Path]:
    """A temporary path next to `target`, renamed onto it when the block succeeds."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _hf_model(hf_dir: Path, **kwargs):
    import transformers

    config = json.loads((hf_dir / "config.json").read_text())
    cls = getattr(transformers, (config.get("architectures") or ["AlbertModel"])[0])
    return cls.from_pretrained(hf_dir, **kwargs).eval()


def _wrapped(model):
    import torch

    class Positional(torch.nn.Module):
        """transformers' model called positionally, returning plain tensors: what exporters take."""

        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids, attention_mask=attention_mask, return_dict=False)

    return Positional(model).eval()


def _example(config: AlbertConfig, seq_len: int):
    import torch

    ids = torch.randint(5, config.vocab_size, (1, seq_len), generator=torch.Generator().manual_seed(0))
    return ids, torch.ones_like(ids)


def export_hf_onnx(hf_dir: Path, config: AlbertConfig, target: Path) -> Path:
    import torch

    if target.is_file():
        return target
    model = _wrapped(_hf_model(hf_dir, attn_implementation="eager"))
    with _atomic(target, ".onnx") as tmp, warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        # The TorchScript exporter (dynamo=False): its graph is the one ORT's transformer optimizer pattern-matches.
        torch.onnx.export(model, _example(config, 16), str(tmp), input_names=PEER_INPUTS, output_names=["output_0"],
                          dynamic_axes={n: {0: "batch", 1: "sequence"} for n in PEER_INPUTS}, opset_version=17,
                          dynamo=False)
    return target


def ort_quantize(source: Path, target: Path, optimized: bool) -> Path:
    import onnx
    from onnxruntime.quantization import quantize_dynamic

    if target.is_file():
        return target
    # The optimizer's fused ops carry no type information for some outputs; DefaultTensorType tells the quantizer
    # to assume float, as ORT's own BERT quantization examples do.
    extra = {"DefaultTensorType": onnx.TensorProto.FLOAT} if optimized else {}
    with _atomic(target, ".onnx") as tmp:
        quantize_dynamic(str(source), str(tmp), extra_options=extra)
    return target


def ort_optimize(source: Path, config: AlbertConfig, target: Path) -> tuple[Path, dict[str, int]]:
    from onnxruntime.transformers.optimizer import optimize_model

    stats_file = target.with_suffix(".fusions.json")
    if target.is_file() and stats_file.is_file():
        return target, json.loads(stats_file.read_text())
    optimized = optimize_model(str(source), model_type="bert", num_heads=config.num_attention_heads,
                               hidden_size=config.hidden_size)
    stats = {k: int(v) for k, v in optimized.get_fused_operator_statistics().items() if v}
    # ORT's own tool for ALBERT (its docstring names it): the fused QKV weights repeat once per layer application.
    optimized.remove_duplicated_initializer({})
    with _atomic(target, ".onnx") as tmp:
        optimized.save_model_to_file(str(tmp))
    stats_file.write_text(json.dumps(stats))
    return target, stats


def optimum_executorch_pte(hf_dir: Path, config: AlbertConfig, max_seq_len: int, target: Path) -> Path:
    import torch
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import EdgeCompileConfig, ExecutorchBackendConfig, to_edge_transform_and_lower
    from torchao.quantization import Int8DynamicActivationIntxWeightConfig, quantize_
    from torchao.quantization.granularity import PerAxis
    from torchao.utils import unwrap_tensor_subclass

    if target.is_file():
        return target
    model = _hf_model(hf_dir)
    quantize_(model, Int8DynamicActivationIntxWeightConfig(weight_dtype=torch.int8, weight_granularity=PerAxis(0)),
              filter_fn=lambda m, fqn: isinstance(m, torch.nn.Linear))
    unwrap_tensor_subclass(model)
    seq = torch.export.Dim("sequence", min=1, max=max_seq_len)
    example = _example(config, min(max_seq_len, 32))
    with torch.no_grad():
        program = torch.export.export(_wrapped(model), example, strict=True,
                                      dynamic_shapes={"input_ids": {1: seq}, "attention_mask": {1: seq}})
        lowered = to_edge_transform_and_lower(
            program, partitioner=[XnnpackPartitioner()],
            compile_config=EdgeCompileConfig(_check_ir_validity=False, _skip_dim_order=True))
        buffer = lowered.to_executorch(
            ExecutorchBackendConfig(extract_delegate_segments=True, do_quant_fusion_and_const_prop=True)).buffer
    with _atomic(target, ".pte") as tmp:
        tmp.write_bytes(buffer)
    return target


def build_peer(peer: str, hf_dir: Path, config: AlbertConfig, task: str | None, max_seq_len: int, model: str,
               cache: Path) -> Target:
    """Build (or reuse from `cache`) one peer and describe it as a Target."""
    cache.mkdir(parents=True, exist_ok=True)
    inputs = token_inputs(PEER_INPUTS, config.vocab_size)
    common = dict(model=model, role="peer", inputs=inputs, task=task)
    if peer == "hf-eager-fp32":
        return Target(label=peer, kind="hf-eager", path=hf_dir, quantization="fp32", backend="pytorch-eager",
                      runtime="transformers", size_bytes=size_on_disk(hf_dir), extra={"recipe": PEERS[peer]},
                      **common)
    if peer == "hf-optimum-et-int8":
        path = optimum_executorch_pte(hf_dir, config, max_seq_len, cache / "hf_optimum_et_int8.pte")
        return Target(label=peer, kind="pte", path=path, quantization="int8", backend="xnnpack",
                      runtime="executorch", size_bytes=size_on_disk(path), planned_bytes=planned_memory(path),
                      extra={"recipe": PEERS[peer], "artifact": path.name}, **common)
    plain = export_hf_onnx(hf_dir, config, cache / "hf.onnx")
    extra = {"recipe": PEERS[peer]}
    if peer == "hf-onnx-int8":
        path = ort_quantize(plain, cache / "hf_int8.onnx", optimized=False)
    else:
        path, fusions = ort_optimize(plain, config, cache / "hf_ortopt_dedup.onnx")
        extra["fusions"] = " ".join(f"{k}={v}" for k, v in sorted(fusions.items()))
        if peer == "hf-ortopt-int8":
            path = ort_quantize(path, cache / "hf_ortopt_dedup_int8.onnx", optimized=True)
    extra["artifact"] = path.name
    return Target(label=peer, kind="onnx", path=path, quantization="int8" if peer.endswith("int8") else "fp32",
                  backend="onnxruntime", runtime="onnxruntime", size_bytes=size_on_disk(path), extra=extra, **common)
