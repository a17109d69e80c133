"""What gets benchmarked: a `Target` is one model file (or model directory) plus how to run it and what it is.

Our targets come from export directories (`manifest.json` says which files, which inputs, which quantization); the
eager reference and the peers are built from the same weights (`peers.py`); the GEMM ceiling is `ceiling.py`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from albert_edge.config import AlbertConfig
from albert_edge.manifest import FILE as MANIFEST
from albert_edge.manifest import Manifest
from albert_edge.files import AlbertEdgeError
from albert_edge.runtime import RuntimeLoadError, data_file, read_manifest

# How the worker fills each named model input: random token ids, an all-ones mask, all-zero token types.
INPUT_KINDS = {"input_ids": "ids", "attention_mask": "ones", "token_type_ids": "zeros"}


class BenchError(AlbertEdgeError):
    """Something the user can fix: a bad artifact directory, an unknown option value, a missing package."""


@dataclass
class Target:
    label: str  # unique within a model: "pte-int8", "onnx-fp32", "eager-fp32", "hf-ortopt-int8", "ceiling-int8"
    kind: str  # how the worker loads it: pte | onnx | eager | hf-eager; native: the C++ runner (`native.py`)
    path: Path
    model: str  # the model it belongs to, e.g. "albert_base_v2"
    quantization: str  # fp32 | int8
    role: str  # ours | reference | peer | ceiling (the report orders and styles rows by it)
    backend: str  # minibench's `backend`: xnnpack, onnxruntime, pytorch-eager, ...
    runtime: str  # the library that runs it: executorch, onnxruntime, torch, transformers
    inputs: list[dict[str, Any]]
    size_bytes: int
    task: str | None = None
    planned_bytes: int | None = None  # ExecuTorch memory-planned activations (.pte only)
    extra: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)  # passed to the worker's loader (pte: weight_cache)

    def worker_spec(self, threads: int, seq_lens: list[int], iterations: int, warmups: int) -> dict[str, Any]:
        return {"kind": self.kind, "path": str(self.path), "task": self.task, "threads": threads,
                "seq_lens": sorted(seq_lens), "iterations": iterations, "warmups": warmups, "batch": 1,
                "inputs": self.inputs, "seed": 0, **self.options}


def size_on_disk(path: Path) -> int:
    """Bytes of a file (a .pte with its external weights, `<stem>.ptd`), or of the weight files in a model directory
    (config and tokenizer files are not weights)."""
    path = Path(path)
    if path.is_file():
        data = data_file(path)
        return path.stat().st_size + (data.stat().st_size if path.suffix == ".pte" and data.is_file() else 0)
    return sum(p.stat().st_size for p in path.iterdir() if p.suffix in (".safetensors", ".bin", ".pt"))


def token_inputs(names: list[str], vocab_size: int) -> list[dict[str, Any]]:
    specs = []
    for name in names:
        if name not in INPUT_KINDS:
            raise BenchError(f"model input {name!r} is not one the benchmark can fill ({', '.join(INPUT_KINDS)})")
        specs.append({"name": name, "kind": INPUT_KINDS[name], "vocab_size": vocab_size})
    return specs


def planned_memory(pte: Path) -> int | None:
    """Bytes of memory ExecuTorch plans for the method's activations (the sum of its non-constant buffers), read
    from the program's execution plan. XNNPACK's own workspace inside a delegate is allocated at run time and is not
    part of it. None when the program cannot be parsed."""
    try:
        from executorch.exir._serialize._program import deserialize_pte_binary

        program = deserialize_pte_binary(Path(pte).read_bytes())
        program = getattr(program, "program", program)
        plan = next(p for p in program.execution_plan if p.name == "forward")
    except Exception:  # an executorch without this private API, or a program with no forward: report unknown
        return None
    return int(sum(plan.non_const_buffer_sizes))


@dataclass
class Artifact:
    """One export directory, as its manifest describes it."""

    directory: Path
    manifest: Manifest

    @classmethod
    def read(cls, directory: str | os.PathLike) -> "Artifact":
        directory = Path(directory)
        path = directory / MANIFEST
        if not directory.is_dir():
            raise BenchError(f"{directory}: no such directory; pass an export directory "
                             "(written by python -m albert_edge.export --out DIR)")
        try:
            manifest = read_manifest(directory)
        except RuntimeLoadError as e:
            raise BenchError(str(e)) from None
        if not manifest.config:
            raise BenchError(f"{path}: no 'config'; it was not written by this albert_edge's export, re-run it")
        return cls(directory, manifest)

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def model(self) -> str:
        return self.name if self.name.startswith("albert") else f"albert_{self.name}"

    @property
    def config(self) -> AlbertConfig:
        return AlbertConfig.from_dict(self.manifest.config)

    @property
    def task(self) -> str | None:
        return self.manifest.task

    @property
    def max_seq_len(self) -> int:
        return self.manifest.max_seq_len

    @property
    def quantization(self) -> str:
        return "int8" if self.manifest.quantization else "fp32"

    @property
    def input_names(self) -> list[str]:
        return [i["name"] for i in self.manifest.inputs] or ["input_ids", "attention_mask"]

    def file(self, backend: str) -> Path | None:
        name = self.manifest.artifact(backend)
        return self.directory / name if name and (self.directory / name).is_file() else None

    @property
    def checkpoint(self) -> Path | None:
        """The HF-format model directory the export read (manifest `source_model`), when it is still there."""
        source = self.manifest.source_model
        if source == "bundled":
            source = Path(__file__).resolve().parents[1] / "assets"
        elif source and source.startswith("bundled:"):  # a task's bundled model, e.g. bundled:ner
            source = Path(__file__).resolve().parents[1] / "assets" / source.split(":", 1)[1]
        if not source:
            return None
        # A relative path is relative to where the export ran: the current directory, usually; else the artifact's.
        for candidate in (Path(source), self.directory.parent / source):
            if (candidate / "config.json").is_file():
                return candidate
        return None

    def targets(self, backends: tuple[str, ...]) -> list[Target]:
        """This export's .pte and .onnx, as far as `backends` asks for them and the export wrote them."""
        out, natives = [], []
        inputs = token_inputs(self.input_names, self.config.vocab_size)
        scheme = (self.manifest.quantization or {}).get("scheme", "") if self.quantization == "int8" else ""
        # (artifact, worker kind, minibench backend, runtime, the --backends name that selects it)
        for backend, kind, minibench_backend, runtime, selected_by in (
                ("pte", "pte", "xnnpack", "executorch", "pte"),
                ("onnx", "onnx", "onnxruntime", "onnxruntime", "onnx"),
                ("ort", "onnx", "onnxruntime-ort-format", "onnxruntime", "onnx")):  # the .onnx's mobile form
            path = self.file(backend)
            native = kind == "pte" and "native" in backends  # the same file in the native runner (`native.py`)
            if path is None or (selected_by not in backends and not native):
                continue
            data = (self.manifest.external_data or {}).get(backend)
            if data and not (self.directory / data).is_file():  # ExecuTorch would end the worker without a word
                raise BenchError(f"{self.directory / data}: missing (the {backend} program keeps weights there); "
                                 "the export directory is incomplete, re-run the export")
            recipe = f"albert_edge export{' ' + scheme if scheme else ''}"
            # A static-int8 export beside a dynamic one of the same model gets its own rows.
            label = f"{backend}-{self.quantization}" + ("-static" if scheme.endswith("static") else "")
            target = Target(
                label=label, kind=kind, path=path, model=self.model,
                quantization=self.quantization, role="ours", backend=minibench_backend, runtime=runtime,
                inputs=inputs, size_bytes=size_on_disk(path), task=self.task,
                planned_bytes=planned_memory(path) if kind == "pte" else None,
                extra={"artifact": path.name, "recipe": recipe})
            if kind == "pte":
                # The runtime's default packs shared weights once (XNNPACK weight cache); the -nocache row is the pip
                # runtime's own default, so the memory the cache saves is visible in the report.
                target.options = {"weight_cache": True}
                if native:  # a C++ process like an app's; the harness drops the row where the runner cannot build
                    natives.append(replace(target, label=f"{label}-native", kind="native",
                                           runtime="executorch (C++ Module)",
                                           extra={**target.extra, "recipe": f"{recipe}, native C++ runner"}))
                if selected_by not in backends:
                    continue
                out.append(target)
                out.append(replace(target, label=f"{label}-nocache", options={"weight_cache": False},
                                   extra={**target.extra, "recipe": f"{recipe}, XNNPACK weight cache off"}))
            else:
                out.append(target)
        return out + natives
