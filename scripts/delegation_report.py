"""How much of ALBERT XNNPACK runs: partitions and non-delegated nodes per op, fp32 and int8, dynamic seq length.

    python scripts/delegation_report.py                                  # albert-base-v2, sequence-classification
    python scripts/delegation_report.py --preset albert-edge-tiny --task question-answering --precision int8

Random weights (delegation does not depend on their values); the program is lowered exactly as
`python -m albert_edge.export` lowers it (same dynamic `seq` dim, same int8 recipe), and ExecuTorch's
`get_delegation_info` counts the nodes. The README's delegation table comes from this script.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import torch

from albert_edge.config import PRESETS, AlbertConfig
from albert_edge.export import EXPORT_TASKS
from albert_edge.lowering import example_inputs, model_input_names, seq_dynamic_shapes
from albert_edge.model import model_for_task


def delegation_report(preset: str = "albert-base-v2", task: str = "sequence-classification", max_seq_len: int = 128,
                      precisions: Sequence[str] = ("fp32", "int8"), embedding: str = "int8") -> str:
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import (
        XnnpackPartitioner,
    )
    from executorch.devtools.backend_debug import get_delegation_info
    from executorch.exir import to_edge_transform_and_lower

    from quantize.xnnpack import XnnpackInt8Recipe, register_quantized_kernels

    register_quantized_kernels()
    torch.manual_seed(0)
    config = AlbertConfig.from_preset(preset)
    model = model_for_task(config, task).eval()
    names = model_input_names(task)
    args, shapes = example_inputs(config, names, max_seq_len), seq_dynamic_shapes(names, max_seq_len)
    n_params = sum(p.numel() for p in model.parameters())
    lines = [f"{preset} {task}: {n_params:,} parameters, inputs {names}, seq 1..{max_seq_len}"]
    for precision in precisions:
        started = time.perf_counter()
        with torch.no_grad():
            if precision == "int8":
                program = XnnpackInt8Recipe(embedding=embedding).quantize(model, args, shapes)
            else:
                program = torch.export.export(model, args, dynamic_shapes=shapes)
            edge = to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()])
        info = get_delegation_info(edge.exported_program().graph_module)
        frame = info.get_operator_delegation_dataframe()
        lines.append("")
        lines.append(f"== {precision}: {info.num_delegated_subgraphs} partition(s), {info.num_delegated_nodes} "
                     f"delegated nodes, {info.num_non_delegated_nodes} non-delegated "
                     f"(lowered in {time.perf_counter() - started:.0f}s)")
        lines.append(f"{'op':48s} {'delegated':>10s} {'not delegated':>14s}")
        for row in frame.itertuples():
            lines.append(f"{row.op_type:48s} {row.occurrences_in_delegated_graphs:>10d} "
                         f"{row.occurrences_in_non_delegated_graphs:>14d}")
            if row.op_type == "torchao_dequantize_affine_default" and row.occurrences_in_non_delegated_graphs:
                lines.append("  (the word-embedding table's dequant + embedding: fused into ExecuTorch's "
                             "quantized_decomposed::embedding_byte/4bit kernel when serialised)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="albert-base-v2")
    parser.add_argument("--task", choices=EXPORT_TASKS, default="sequence-classification")
    parser.add_argument("--max-seq-len", type=int, default=128)
    parser.add_argument("--precision", choices=("fp32", "int8"), nargs="+", default=["fp32", "int8"])
    parser.add_argument("--embedding", choices=("int8", "int4", "fp32"), default="int8",
                        help="word-embedding table in the int8 program")
    args = parser.parse_args(argv)
    print(delegation_report(args.preset, args.task, args.max_seq_len, args.precision, args.embedding))


if __name__ == "__main__":
    main()
