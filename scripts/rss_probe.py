"""Where a .pte's resident memory goes, step by step, in one fresh process (docs/benchmarks.md, weight cache).

    python scripts/rss_probe.py runs/base_int8/model.pte on     # XNNPACK weight cache on (the runtime's default)
    python scripts/rss_probe.py runs/base_int8/model.pte off
    python scripts/rss_probe.py runs/base_int8/model.pte on --warm out/sst2_int8/model.pte

Prints RSS growth over the process's baseline after load_program, after load_method and after one 128-token run,
how much of the .pte file's own mapping is resident, and how much of that the runtime locked (mlock: the Python
runtime maps the program that way, so its constants stay resident whether or not they are read). Each step also
splits its growth by where the pages are (/proc/self/smaps): anonymous memory (the packed weights, XNNPACK's
workspace, the runtime's buffers), the .pte's mapping, and the runtime's shared libraries, whose code pages a first
run faults in.

`--warm OTHER.pte`: first load and run another program (a small int8 ALBERT: the same kernels), release it, and
take the baseline after that, so the runtime's code is resident before the model under test loads; what remains is
the model's own memory. `--unlock`: after loading, munlock the .pte's mapping and drop its pages, then print how
much of it the next runs bring back (random token ids: the kernel maps file pages 64 KB around each fault).
"""

import argparse
import ctypes
import gc
import os

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
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pte")
    parser.add_argument("cache", choices=["on", "off"])
    parser.add_argument("--warm", help="another .pte to load and run first (see module doc)")
    parser.add_argument("--unlock", action="store_true", help="drop the program's pages after loading")
    args = parser.parse_args()
    target = os.path.realpath(args.pte)  # the path smaps shows
    import executorch.kernels.quantized  # noqa: F401
    import torch
    from executorch.runtime import Runtime

    from albert_edge.backend_options import set_xnnpack_weight_cache
    from albert_edge.bench.worker import resident_kib_by_kind
    from albert_edge.runtime import execute

    def run(method, seq: int, ids=None) -> None:
        ids = np.full((1, seq), 7, dtype=np.int64) if ids is None else ids
        execute(method, [torch.from_numpy(ids), torch.from_numpy(np.ones_like(ids))])

    print(f"weight cache: {set_xnnpack_weight_cache(args.cache == 'on')}")
    if args.warm:
        warm = Runtime.get().load_program(args.warm)
        warm_method = warm.load_method("forward")
        run(warm_method, 16)
        del warm_method, warm
        gc.collect()
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # hand freed heap back, so the model cannot reuse it unseen
    process = psutil.Process()
    baseline, kinds0 = process.memory_info().rss, resident_kib_by_kind(target)

    def report(step: str) -> None:
        grown = resident_kib_by_kind(target)
        split = ", ".join(f"{k} {(grown[k] - kinds0[k]) / 1024:+.1f}" for k in ("anonymous", "program", "libraries"))
        print(f"{step:>14}: +{(process.memory_info().rss - baseline) / 2**20:6.1f} MiB RSS "
              f"({mapped_mib('.pte'):.1f} MiB of it the mapped .pte, {mapped_mib('.pte', 'Locked:'):.1f} MiB "
              f"of that locked in memory; by kind: {split})")

    program = Runtime.get().load_program(args.pte)
    report("load_program")
    method = program.load_method("forward")
    report("load_method")
    if args.unlock:
        libc = ctypes.CDLL("libc.so.6")
        with open("/proc/self/maps", encoding="utf-8") as maps:
            for line in maps:
                fields = line.split()
                if len(fields) >= 6 and fields[5] == target and "w" not in fields[1]:
                    start, end = (int(a, 16) for a in fields[0].split("-"))
                    libc.munlock(ctypes.c_void_p(start), ctypes.c_size_t(end - start))
                    libc.madvise(ctypes.c_void_p(start), ctypes.c_size_t(end - start), 4)  # MADV_DONTNEED
        report("unlocked")
        rng = np.random.default_rng(0)
        for seq in (16, 16, 128):
            run(method, seq, rng.integers(5, 30000, size=(1, seq)))
            report(f"random x{seq}")
        return
    run(method, 128)
    report("first run")


if __name__ == "__main__":
    main()
