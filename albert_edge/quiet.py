"""Third-party noise a user reads as failure, silenced where it is known to be harmless; everything else stays.

Known harmless, with the pinned torch 2.13 / torchao 0.18 / executorch 1.5.1:
- torchao logs `Failed to load .../torchao/_C_mxfp8...so: Could not load this library` (and `_C_cutlass_90a`) at
  import: CUDA-only kernels that a CPU machine does not have.
- torch's pytree logs `<enum 'KernelPreference'> is an Enum subclass and is now natively supported ...
  register_constant() ... deprecated` when torchao registers its enums.
- torch.export warns `isinstance(treespec, LeafSpec) is deprecated` (FutureWarning) dozens of times per export.
- ExecuTorch's runtime prints `[cpuinfo_utils.cpp:NN] ...` lines to stderr while it probes ARM-only sysfs files.
- torch.onnx warns that the TorchScript-based exporter is legacy (DeprecationWarning): the `.onnx` path uses it on
  purpose, because ONNX Runtime's fusions match its graphs.

How it is scoped: log filters on the two loggers that emit the first two, matching only those messages; the
warning filters only inside `quiet()` blocks (the SDK's own export calls); stderr lines only inside
`native_stderr_filtered()` blocks (the runtime's program loading), where every line that is not a cpuinfo probe is
written back. `set_verbose(True)` (the CLIs' `--verbose`, or ALBERT_EDGE_VERBOSE=1) turns all of it off.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Iterator

_KNOWN_LOG_MESSAGES = (
    re.compile(r"Failed to load .*torchao.*_C_\w+.*Could not load this library"),
    re.compile(r"is an Enum subclass and is now natively supported by torch\.compile"),
)
_KNOWN_STDERR = re.compile(rb"^\[cpuinfo_utils\.cpp:\d+\] ")
_verbose = os.environ.get("ALBERT_EDGE_VERBOSE", "") not in ("", "0")


class _DropKnown(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _verbose:
            return True
        message = record.getMessage()
        return not any(p.search(message) for p in _KNOWN_LOG_MESSAGES)


_FILTER = _DropKnown()
for _name in ("torchao", "torch.utils._pytree"):
    logging.getLogger(_name).addFilter(_FILTER)


def set_verbose(verbose: bool) -> None:
    """Show everything (True) or drop the known-harmless messages (False, the default)."""
    global _verbose
    _verbose = verbose


def is_verbose() -> bool:
    return _verbose


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Around the SDK's own export calls: the exporters' advisory chatter (torch.onnx / torch.export info logs, ORT's
    "consider pre-processing", torch.onnx UserWarnings) and torch.export's LeafSpec FutureWarning are not shown;
    errors are."""
    if _verbose:
        yield
        return
    loggers = [logging.getLogger(), logging.getLogger("torch.onnx"), logging.getLogger("torch.export")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            # Raised once per node while ExecuTorch deep-copies graphs: pytree deprecations inside torch itself.
            warnings.filterwarnings("ignore", category=FutureWarning, message=".*LeafSpec.*")
            warnings.filterwarnings("ignore", category=UserWarning, module="torch.onnx")
            # The .onnx path uses the TorchScript exporter on purpose (ORT's fusions match its graphs).
            warnings.filterwarnings("ignore", category=DeprecationWarning,
                                    message=".*legacy TorchScript-based ONNX export.*")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


@contextlib.contextmanager
def native_stderr_filtered() -> Iterator[None]:
    """Capture what native code writes to fd 2 inside the block; write back every line but the cpuinfo probes.
    For short native calls only (the output appears when the block ends)."""
    if _verbose:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded interpreter, closed fd): nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [line for line in capture.read().splitlines(keepends=True) if not _KNOWN_STDERR.match(line)]
            if kept:
                os.write(2, b"".join(kept))
