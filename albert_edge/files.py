"""The plumbing every stage shares: atomic files and directories, hashing, strict JSON, the error
base class and the CLIs' one-line error handler. Reading user text and tables is `albert_edge/tables.py`.

`OutputDirectory` is how every CLI writes a directory (`export --out`, `finetune --out`, `embed_init --out`,
`bundle`): it never destroys what it did not write.
- An existing non-empty `--out` (or a file there) is refused unless `force`; a symlink at `--out` (dangling, looping
  or not) is refused always, since replacing it would replace the link, not what it points at.
- One writer per `--out`: an exclusive `flock` on a hidden `.NAME.lock` beside it; a second writer fails at once.
- Work happens in a hidden staging directory beside `--out`; staging directories of killed runs (their process is
  gone) are removed by the next run on the same `--out`, which says so on stderr.
- The final step re-checks `--out` and swaps atomically: `renameat2(RENAME_NOREPLACE)` into a path that must still
  be absent, `renameat2(RENAME_EXCHANGE)` with an existing `--out` under `force` (Linux 3.15+). Where renameat2 is
  missing, two renames with a window in which `--out` is absent but the old output sits intact at `.NAME.old-PID`
  beside it, so the user always has the old or the new output.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path


class AlbertEdgeError(ValueError):
    """A mistake the user can fix; every CLI prints its message as one line and exits non-zero."""


class OutputError(AlbertEdgeError):
    """An output path that cannot be written as asked (exists, is locked, is a symlink, is not writable)."""


def error_line(err: BaseException) -> str:
    """The one line a CLI prints for `err`: the SDK's own messages as they are, an OSError as "PATH: reason" (not
    Python's "[Errno 13] Permission denied: 'PATH'")."""
    if isinstance(err, OSError) and err.strerror:
        reason = err.strerror[:1].lower() + err.strerror[1:]
        if err.filename is not None and err.filename2 is not None:
            return f"{err.filename} -> {err.filename2}: {reason}"
        return f"{err.filename}: {reason}" if err.filename is not None else reason
    text = " ".join(str(err).split())  # one line, whatever the message held
    return text or type(err).__name__


@contextlib.contextmanager
def cli_errors(interrupted: str = "interrupted"):
    """Every CLI's `main` runs inside this: a user's mistake (`AlbertEdgeError`), an OS error (missing file,
    permissions, disk full) or a bad value becomes `error: <one line>` on stderr and exit status 1; Ctrl-C or
    SIGTERM becomes `interrupted` (status 1) instead of a traceback."""
    try:
        yield
    except (AlbertEdgeError, OSError, ValueError) as err:
        raise SystemExit(f"error: {error_line(err)}") from None
    except KeyboardInterrupt:
        raise SystemExit(interrupted) from None


# -- files ------------------------------------------------------------------------------------------------------------
def _nearest_existing(path: Path) -> Path:
    """`path` itself or its closest ancestor that exists (what a mkdir -p would write into)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes, mode: int = 0o644) -> Path:
    """Write `path` through a temp file in the same directory and a rename: readers see the old or the new file."""
    path = Path(path)
    existing = _nearest_existing(path.parent)
    if not existing.is_dir():
        raise OutputError(f"{path}: {existing} is a file, not a directory; pass a path in a directory")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)  # mkstemp makes files owner-only; outputs are ordinary shared files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str, mode: int = 0o644) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"), mode)


def strict_json(value, indent: int | None = 2) -> str:
    """JSON that every parser reads (RFC 8259): a non-finite float (an SNR of identical outputs is +inf) becomes
    null, where Python's json would write `Infinity`/`NaN`."""
    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v

    return json.dumps(clean(value), indent=indent, allow_nan=False) + "\n"


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


# -- directories ------------------------------------------------------------------------------------------------------
_RENAME_NOREPLACE, _RENAME_EXCHANGE, _AT_FDCWD = 1, 2, -100


def _renameat2(source: Path, target: Path, flags: int) -> bool:
    """rename(2) with flags; False where the platform has no renameat2 (then the caller falls back)."""
    libc_name = ctypes.util.find_library("c")
    if sys.platform != "linux" or libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    function = getattr(libc, "renameat2", None)
    if function is None:
        return False
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if function(_AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target), flags) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL):  # old kernel, or a file system without the flag
        return False
    raise OSError(code, os.strerror(code), str(target))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class OutputDirectory:
    """Write a directory atomically. `with OutputDirectory(out, force) as staging:` fills `staging`; leaving the block
    normally moves it to `out`, an exception removes it. `what` names the option in messages (e.g. "--out")."""

    def __init__(self, out: str | os.PathLike, force: bool = False, what: str = "--out"):
        self.out, self.force, self.what = Path(out), force, what
        self.staging: Path | None = None
        self._lock: int | None = None
        self.check()

    # The checks are cheap and run twice: before any work, and again right before the swap.
    def check(self) -> None:
        out, what = self.out, self.what
        if out.is_symlink():
            where = "dangling" if not out.exists() else f"to {os.readlink(out)}"
            raise OutputError(f"{what} {out} is a symlink ({where}); pass the real directory path")
        if out.exists() and not self.force:
            if not out.is_dir():
                raise OutputError(f"{what} {out} is an existing file; pass another path, or --force to replace it")
            if any(out.iterdir()):
                raise OutputError(f"{what} {out} exists and is not empty; pass --force to replace it")
        existing = _nearest_existing(out.parent)
        if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
            raise OutputError(f"{what} {out}: {existing} is not a writable directory; pass {what} somewhere writable")

    def _prefix(self, kind: str) -> str:
        return f".{self.out.name}.{kind}-"

    def __enter__(self) -> Path:
        parent = self.out.parent
        parent.mkdir(parents=True, exist_ok=True)
        self._acquire_lock()
        try:
            self._remove_stale_staging()
            self.staging = parent / f"{self._prefix('tmp')}{os.getpid()}"
            shutil.rmtree(self.staging, ignore_errors=True)  # our own pid: a previous run that died in this process
            os.mkdir(self.staging, 0o777)  # the umask applies, as for any directory the user creates
        except BaseException:
            self._release_lock()
            raise
        return self.staging

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self._commit()
        finally:
            if self.staging is not None and os.path.lexists(self.staging):
                _remove(self.staging)
            self._release_lock()

    def _acquire_lock(self) -> None:
        import fcntl

        lock_path = self.out.parent / f".{self.out.name}.lock"
        while True:
            fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise OutputError(f"{self.what} {self.out} is being written by another process (lock "
                                  f"{lock_path.name} held); wait for it to finish or pick another path") from None
            try:  # the holder before us may have removed the file after we opened it: lock the live one
                same = os.fstat(fd).st_ino == os.stat(lock_path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self._lock, self._lock_path = fd, lock_path
                return
            os.close(fd)

    def _release_lock(self) -> None:
        if self._lock is not None:
            Path(self._lock_path).unlink(missing_ok=True)
            os.close(self._lock)
            self._lock = None

    def _remove_stale_staging(self) -> None:
        for kind in ("tmp", "old"):
            for path in self.out.parent.glob(f"{self._prefix(kind)}*"):
                pid = path.name.rsplit("-", 1)[-1]
                if not pid.isdigit() or _pid_alive(int(pid)) and int(pid) != os.getpid():
                    continue
                if kind == "old" and not self.out.exists():
                    continue  # the only copy of a previous output whose swap was interrupted: leave it for the user
                shutil.rmtree(path, ignore_errors=True)
                print(f"removed {path}, left by an interrupted run (process {pid})", file=sys.stderr)

    def _commit(self) -> None:
        assert self.staging is not None
        self.check()  # something may have appeared at --out while we worked
        out = self.out
        if not os.path.lexists(out):
            if _renameat2(self.staging, out, _RENAME_NOREPLACE):
                return
            os.rename(self.staging, out)
            return
        if _renameat2(self.staging, out, _RENAME_EXCHANGE):
            _remove(self.staging)  # the staging path now holds the old output
            return
        old = out.parent / f"{self._prefix('old')}{os.getpid()}"
        os.rename(out, old)
        os.rename(self.staging, out)
        _remove(old)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)

