"""Benchmark a `.pte` on an Android phone through the demo app's benchmark mode, over adb.

The app (`android_demo/`, `org.albertedge.demo/.BenchmarkActivity`) runs the model `iterations` times after `warmups`
and writes `benchmark_results.json` in ExecuTorch's minibench schema into its files dir. We push the model, clear any
old results, start the activity, poll for the file with `run-as` (the app is debuggable), and return its records so
the harness merges them into the same report as the host runs.

Every adb invocation goes through `run`, a `subprocess.run`-like callable, so command construction and result parsing
are testable without a phone.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from albert_edge.files import AlbertEdgeError

PACKAGE = "org.albertedge.demo"
ACTIVITY = f"{PACKAGE}/.BenchmarkActivity"
REMOTE_DIR = "/data/local/tmp/albert_edge"
RESULTS_FILE = "files/benchmark_results.json"

Runner = Callable[[list[str]], subprocess.CompletedProcess]


class AdbError(AlbertEdgeError):
    """adb or the phone is missing or misbehaving; the message says what to do."""


def _run(cmd: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def adb(serial: str | None, *args: str) -> list[str]:
    return ["adb", *(["-s", serial] if serial else []), *args]


def push_command(pte: Path, serial: str | None) -> list[str]:
    return adb(serial, "push", str(pte), f"{REMOTE_DIR}/{pte.name}")


def start_command(remote_model: str, *, iterations: int, warmups: int, threads: int, seq_len: int,
                  serial: str | None) -> list[str]:
    # -W waits until the activity is up; -S force-stops a previous instance so each run starts cold.
    return adb(serial, "shell", "am", "start", "-W", "-S", "-n", ACTIVITY, "--es", "model_path", remote_model,
               "--ei", "iterations", str(iterations), "--ei", "warmups", str(warmups), "--ei", "threads", str(threads),
               "--ei", "seq_len", str(seq_len))


def clear_results_command(serial: str | None) -> list[str]:
    return adb(serial, "shell", "run-as", PACKAGE, "rm", "-f", RESULTS_FILE)


def read_results_command(serial: str | None) -> list[str]:
    return adb(serial, "shell", "run-as", PACKAGE, "cat", RESULTS_FILE)


def parse_devices(text: str) -> list[tuple[str, str]]:
    """(serial, state) pairs from `adb devices` output."""
    devices = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("List of devices", "*")):
            continue
        parts = line.split()
        if len(parts) >= 2:
            devices.append((parts[0], parts[1]))
    return devices


def check_device(serial: str | None, run: Runner = _run) -> str:
    """The serial of the one usable device, or AdbError saying why there is none."""
    if run is _run and shutil.which("adb") is None:
        raise AdbError("adb not found on PATH; install Android platform-tools (e.g. `apt install adb`) and connect "
                       "a phone with USB debugging enabled")
    try:
        out = run(["adb", "devices"])
    except FileNotFoundError:
        raise AdbError("adb not found on PATH; install Android platform-tools and put adb on PATH") from None
    except subprocess.TimeoutExpired:
        raise AdbError("`adb devices` timed out; restart the adb server with `adb kill-server`") from None
    devices = parse_devices(out.stdout)
    ready = [s for s, state in devices if state == "device"]
    if serial:
        states = dict(devices)
        if serial not in states:
            raise AdbError(f"device {serial} is not connected (adb devices lists: {', '.join(states) or 'none'})")
        if states[serial] != "device":
            raise AdbError(f"device {serial} is {states[serial]}; unlock it and accept the USB debugging prompt")
        return serial
    if not devices:
        raise AdbError("no Android device connected (adb devices lists none); connect a phone with USB debugging on")
    if not ready:
        raise AdbError(f"device {devices[0][0]} is {devices[0][1]}; unlock it and accept the USB debugging prompt")
    if len(ready) > 1:
        raise AdbError(f"{len(ready)} devices connected ({', '.join(ready)}); pick one with --serial")
    return ready[0]


def parse_results(text: str) -> list[dict[str, Any]]:
    """The records of a minibench-schema benchmark_results.json; ValueError when it is not one."""
    data = json.loads(text)
    if not isinstance(data, list) or not data:
        raise ValueError("benchmark_results.json is not a non-empty JSON list")
    for r in data:
        if not isinstance(r, dict) or not {"benchmarkModel", "metric", "actualValue"} <= r.keys():
            raise ValueError(f"not a minibench record: {str(r)[:120]}")
        float(r["actualValue"])
    return data


def _check(out: subprocess.CompletedProcess, what: str) -> None:
    if out.returncode != 0:
        detail = (out.stderr or out.stdout or "").strip().splitlines()
        raise AdbError(f"{what} failed: {detail[-1] if detail else f'exit {out.returncode}'}")


def benchmark_on_device(pte: Path, *, target: str, seq_lens: Sequence[int], threads: Sequence[int], iterations: int,
                        warmups: int, serial: str | None = None, timeout_s: float = 600, poll_s: float = 2.0,
                        run: Runner = _run) -> list[dict[str, Any]]:
    """Run the app's benchmark once per (threads, seq_len) and return all records, tagged with the run settings."""
    serial = check_device(serial, run)
    _check(run(adb(serial, "shell", "mkdir", "-p", REMOTE_DIR)), "creating " + REMOTE_DIR)
    _check(run(push_command(pte, serial)), f"pushing {pte.name}")
    remote = f"{REMOTE_DIR}/{pte.name}"
    records = []
    for n_threads in threads:
        for seq_len in seq_lens:
            run(clear_results_command(serial))
            _check(run(start_command(remote, iterations=iterations, warmups=warmups, threads=n_threads,
                                     seq_len=seq_len, serial=serial)), "starting " + ACTIVITY)
            deadline = time.monotonic() + timeout_s
            while True:
                out = run(read_results_command(serial))
                try:
                    got = parse_results(out.stdout) if out.returncode == 0 else None
                except ValueError:
                    got = None  # not written yet, or caught mid-write
                if got:
                    break
                if time.monotonic() > deadline:
                    raise AdbError(f"no {RESULTS_FILE} from {PACKAGE} after {timeout_s:.0f} s; is the demo app "
                                   f"installed (android_demo/) and does `adb logcat` show an error?")
                time.sleep(poll_s)
            for r in got:
                extra = r["benchmarkModel"].setdefault("extraInfo", {})
                for key, value in (("target", target), ("role", "ours"), ("runtime", "executorch-android"),
                                   ("seq_len", seq_len), ("threads", n_threads), ("batch_size", 1),
                                   ("iterations", iterations), ("warmups", warmups), ("source", f"adb:{serial}")):
                    extra.setdefault(key, str(value))
            records.extend(got)
    return records
