"""ExecuTorch backend options from Python: XNNPACK's weight cache, which the pip wheel's bindings do not expose.

Why: XNNPACK packs a GEMM's weights for every call site that uses them. ALBERT applies one layer at every depth, so
without the weight cache the pip runtime packs the shared layer once per application (albert-base: 12 x 7.08 MB of
packed weights for a layer stored once on disk). With the cache on, a packed weight is keyed by its data and reused.

How: `executorch/lib/libexecutorch.so`, which the Python bindings link dynamically, exports the runtime's
`executorch::runtime::set_option(const char* backend, Span<BackendOption>)` and `get_option` (declared in the wheel's
`include/executorch/runtime/backend/interface.h`). This module calls them through ctypes with the layout of the
wheel's `options.h`:

    struct BackendOption { char key[64]; std::variant<bool, int, std::array<char, 256>> value; };   // 324 bytes

libstdc++ lays the variant out as its 256-byte storage (4-byte aligned) followed by a one-byte index (0 = bool).
`Span<T>` is `{T* data; size_t length;}`, passed by value in two registers. What is written by hand here is only
that layout; every call is checked by reading the option back (`get_option`), and any mismatch, a missing symbol or
a missing library turns the cache off with one warning instead of guessing. The option applies to methods loaded
after it is set (XNNPACK reads it in `init`), process-wide.
"""

from __future__ import annotations

import ctypes
import warnings
from functools import lru_cache

XNNPACK_BACKEND = b"XnnpackBackend"
WEIGHT_CACHE_KEY = b"weight_cache_enabled"
_SET = "_ZN10executorch7runtime10set_optionEPKcNS0_4SpanINS0_13BackendOptionEEE"
_GET = "_ZN10executorch7runtime10get_optionEPKcNS0_4SpanINS0_13BackendOptionEEE"
_BOOL_INDEX = 0  # position of bool in std::variant<bool, int, std::array<char, 256>>
_OK = 0  # executorch::runtime::Error::Ok


class _Value(ctypes.Union):
    _fields_ = [("boolean", ctypes.c_bool), ("integer", ctypes.c_int), ("string", ctypes.c_char * 256)]


class _BackendOption(ctypes.Structure):
    _fields_ = [("key", ctypes.c_char * 64), ("value", _Value), ("index", ctypes.c_ubyte)]


class _Span(ctypes.Structure):
    _fields_ = [("data", ctypes.POINTER(_BackendOption)), ("length", ctypes.c_size_t)]


class BackendOptionsUnavailable(RuntimeError):
    """This ExecuTorch build does not let Python set backend options (the message says why)."""


@lru_cache(maxsize=1)
def _functions() -> tuple[ctypes._CFuncPtr, ctypes._CFuncPtr]:
    # The bindings load libexecutorch.so (and register the XNNPACK backend) on import; reuse that very copy, since
    # a second copy of the library would hold a second, empty backend registry.
    from executorch.extension.pybindings import portable_lib  # noqa: F401

    with open("/proc/self/maps", encoding="utf-8") as maps:
        paths = {line.split()[-1] for line in maps if line.rstrip().endswith("/libexecutorch.so")}
    if len(paths) != 1:
        raise BackendOptionsUnavailable(f"expected one loaded libexecutorch.so, found {len(paths)}")
    library = ctypes.CDLL(paths.pop(), mode=ctypes.RTLD_GLOBAL)
    functions = []
    for symbol in (_SET, _GET):
        try:
            function = getattr(library, symbol)
        except AttributeError:
            raise BackendOptionsUnavailable(f"libexecutorch.so has no {symbol}") from None
        function.argtypes = [ctypes.c_char_p, _Span]
        function.restype = ctypes.c_uint32
        functions.append(function)
    if ctypes.sizeof(_BackendOption) != 324:
        raise BackendOptionsUnavailable(f"BackendOption layout is {ctypes.sizeof(_BackendOption)} bytes, not 324")
    return functions[0], functions[1]


def _call(function: ctypes._CFuncPtr, backend: bytes, key: bytes, value: bool) -> tuple[int, _BackendOption]:
    option = (_BackendOption * 1)()
    option[0].key = key
    option[0].index = _BOOL_INDEX
    option[0].value.boolean = value
    return function(backend, _Span(option, 1)), option[0]


def get_bool_option(backend: bytes, key: bytes) -> bool:
    """A boolean backend option as the runtime holds it; BackendOptionsUnavailable if it cannot be read."""
    _, get = _functions()
    error, option = _call(get, backend, key, False)
    if error != _OK or option.index != _BOOL_INDEX:
        raise BackendOptionsUnavailable(f"get_option({backend.decode()}, {key.decode()}) failed (error {error})")
    return bool(option.value.boolean)


def set_bool_option(backend: bytes, key: bytes, value: bool) -> None:
    """Set a boolean backend option and read it back; BackendOptionsUnavailable if either step fails."""
    set_, _ = _functions()
    error, _ = _call(set_, backend, key, value)
    if error != _OK:
        raise BackendOptionsUnavailable(f"set_option({backend.decode()}, {key.decode()}) failed (error {error})")
    if get_bool_option(backend, key) != value:
        raise BackendOptionsUnavailable(f"{backend.decode()} did not keep {key.decode()}={value}")


_warned = False


def set_xnnpack_weight_cache(enabled: bool) -> bool:
    """Turn XNNPACK's weight cache on or off for methods loaded from now on; returns what is in effect.

    Where options cannot be set (another ExecuTorch build, another platform), warns once and returns False: the
    program still runs, packing shared weights once per call site.
    """
    global _warned
    try:
        set_bool_option(XNNPACK_BACKEND, WEIGHT_CACHE_KEY, enabled)
        return enabled
    except (BackendOptionsUnavailable, OSError) as e:
        if enabled and not _warned:
            _warned = True
            warnings.warn(f"XNNPACK weight cache unavailable ({e}); shared weights are packed once per use",
                          RuntimeWarning, stacklevel=2)
        return False


def xnnpack_weight_cache_enabled() -> bool | None:
    """What the runtime holds now, or None where it cannot be read."""
    try:
        return get_bool_option(XNNPACK_BACKEND, WEIGHT_CACHE_KEY)
    except (BackendOptionsUnavailable, OSError):
        return None
