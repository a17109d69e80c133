"""Where a .pte's resident memory goes, step by step, in one fresh process (docs/benchmarks.md, weight cache).

    python scripts/rss_probe.py runs/base_int8/model.pte on     # XNNPACK weight cache on (the runtime's default)
    python scripts/rss_probe.py runs/base_int8/model.pte off

Prints RSS growth over the process's baseline after load_program, after load_method and after one 128-token run,
how much of the .pte file's own mapping is resident, and how much of that the runtime locked (mlock: the Python
runtime maps the program that way, so its constants stay resident whether or not they are read).
"""

import sys

import numpy as np
import psutil


def mapped_mib(suffix: str, field: str = "Rss:") -> float:
    """`field` (resident, or "Locked:") KiB of mappings whose path ends in `suffix`, from /proc/self/smaps, in MiB."""
    total, current = 0, ""
    with open("/proc/self/smaps", encoding="utf-8") as smaps:
        for line in smaps:
            fields = line.split()
            if "-" in fields[0]:  # a mapping's header line: address range ... [path]
                current = fields[5] if len(fields) >= 6 else ""
            elif fields[0] == field and current.endswith(suffix):
                total += int(fields[1])
    return total / 1024


def main() -> None:
    path, mode = sys.argv[1], sys.argv[2]
    import executorch.kernels.quantized  # noqa: F401
    import torch
    from executorch.runtime import Runtime

    from albert_edge.backend_options import set_xnnpack_weight_cache
    from albert_edge.runtime import execute

    process = psutil.Process()
    baseline = process.memory_info().rss

    def report(step: str) -> None:
        print(f"{step:>14}: +{(process.memory_info().rss - baseline) / 2**20:6.1f} MiB RSS "
              f"({mapped_mib('.pte'):.1f} MiB of it the mapped .pte, {mapped_mib('.pte', 'Locked:'):.1f} MiB "
              "of that locked in memory)")

    print(f"weight cache: {set_xnnpack_weight_cache(mode == 'on')}")
    program = Runtime.get().load_program(path)
    report("load_program")
    method = program.load_method("forward")
    report("load_method")
    ids = np.full((1, 128), 7, dtype=np.int64)
    execute(method, [torch.from_numpy(ids), torch.from_numpy(np.ones_like(ids))])
    report("first run")


if __name__ == "__main__":
    main()
