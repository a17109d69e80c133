"""The export's output contract: `manifest.json` as one typed object, one writer and one reader.

    from albert_edge.manifest import Manifest
    m = Manifest.read("albert_edge_int8")      # ManifestError: one line saying what is wrong and what to do
    m.task, m.max_seq_len, m.artifacts["pte"], m.labels, m.files["albert_edge_xnnpack_int8.pte"]["sha256"]

`albert_edge.export` builds a `Manifest` and writes it once (`write`: strict JSON, so a non-finite SNR is `null`, and
an atomic rename). The runtime, pipelines, the benchmark harness and the Android bundler read it through `read`; the
Android app's `org.albertedge.core.Manifest` reads the same file (`tests/test_android_core.py` has Java read what
Python wrote). The format string is `albert_edge.export/VERSION`: a reader refuses a newer version instead of
misreading it. Importing this module imports neither torch nor any runtime.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from albert_edge.files import AlbertEdgeError, atomic_write_text, strict_json

FILE = "manifest.json"
VERSION = 1  # albert_edge.export/1: what export writes and every reader here understands
FORMAT = f"albert_edge.export/{VERSION}"
BACKENDS = ("pte", "onnx", "ort", "pte_stepwise")


class ManifestError(AlbertEdgeError):
    """A directory without a usable manifest.json; the message says what is wrong and what to do."""


@dataclass
class Manifest:
    name: str  # the export's name (albert_NAME_int8)
    task: str  # a task in albert_edge.tasks
    max_seq_len: int  # the longest input the artifacts take
    artifacts: dict[str, str | None]  # backend (BACKENDS) -> file name in the directory, or None
    config: dict[str, Any] = field(default_factory=dict)  # the model's config.json
    labels: dict[str, str] | None = None  # class id (as a string) -> name, for labelled tasks
    inputs: list[dict[str, Any]] = field(default_factory=list)  # {"name", "dtype", "shape", "seq_range"}
    outputs: list[dict[str, Any]] = field(default_factory=list)  # {"name", "dtype", "shape"}
    runtime_requirements: dict[str, list[str] | None] = field(default_factory=dict)  # backend -> what to register
    quantization: dict[str, Any] | None = None
    ort_operators: str | None = None  # the .ort's required-operators file, for a reduced ONNX Runtime build
    onnx_graph: dict[str, Any] | None = None  # how the .onnx was fused
    stepwise: dict[str, Any] | None = None  # the stepwise .pte's methods and layer schedule (albert_edge.stepwise)
    # backend (pte, pte_stepwise) -> the .ptd file its program reads weights from (a masked-LM's tied table, once)
    external_data: dict[str, str] | None = None
    links: dict[str, str] = field(default_factory=dict)  # model.pte / model.onnx -> the named file
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # file name -> {"bytes", "sha256"}
    tokenizer: dict[str, Any] | None = None  # the tokenizer files an app loads
    postprocess: dict[str, Any] = field(default_factory=dict)  # what an app needs to turn outputs into answers
    delegation: dict[str, Any] | None = None
    parameters: int | None = None
    source_model: str | None = None
    versions: dict[str, str | None] = field(default_factory=dict)
    verification: dict[str, Any] | None = None  # export-vs-eager figures, and task metrics when evaluated
    format: str = FORMAT

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        return {"format": data.pop("format"), **data}

    def to_json(self) -> str:
        return strict_json(self.to_dict())

    def write(self, directory: str | os.PathLike) -> Path:
        """`directory/manifest.json`, strict JSON, written atomically."""
        return atomic_write_text(Path(directory) / FILE, self.to_json())

    def artifact(self, backend: str) -> str | None:
        return self.artifacts.get(backend) or None

    @property
    def id2label(self) -> dict[int, str]:
        return {int(k): v for k, v in (self.labels or {}).items()}

    @classmethod
    def from_dict(cls, data: Any, where: str = FILE) -> Manifest:
        """A Manifest from parsed JSON; ManifestError (naming `where`) for anything the writer would not write."""
        if not isinstance(data, dict):
            raise ManifestError(f"{where}: expected a JSON object; re-run the export")
        fmt = data.get("format")
        match = re.fullmatch(r"albert_edge\.export/(\d+)", fmt) if isinstance(fmt, str) else None
        if match is None:
            raise ManifestError(f"{where}: format {fmt!r} is not an albert_edge export manifest; re-run the export")
        if int(match.group(1)) > VERSION:
            raise ManifestError(f"{where}: format {fmt} was written by a newer albert_edge (this one reads up to "
                                f"{FORMAT}); upgrade albert_edge")
        known = {f.name: f for f in dataclasses.fields(cls)}
        for key in ("name", "task", "max_seq_len", "artifacts"):
            if key not in data:
                raise ManifestError(f"{where}: no {key!r}; re-run the export")
        checks = {"name": str, "task": str, "max_seq_len": int, "artifacts": dict, "config": dict, "inputs": list,
                  "outputs": list, "links": dict, "files": dict, "postprocess": dict, "versions": dict,
                  "runtime_requirements": dict, "labels": (dict, type(None)), "tokenizer": (dict, type(None)),
                  "stepwise": (dict, type(None)), "external_data": (dict, type(None)),
                  "verification": (dict, type(None))}
        for key, kind in checks.items():
            if key in data and (not isinstance(data[key], kind) or isinstance(data[key], bool)):
                raise ManifestError(f"{where}: {key!r} is {type(data[key]).__name__}, not "
                                    f"{getattr(kind, '__name__', 'an object or null')}; re-run the export")
        if data["max_seq_len"] < 1:
            raise ManifestError(f"{where}: max_seq_len {data['max_seq_len']} is not positive; re-run the export")
        for backend, name in data["artifacts"].items():
            if name is not None and (not isinstance(name, str) or not name or "/" in name or name.startswith(".")):
                raise ManifestError(f"{where}: artifacts.{backend} {name!r} is not a file name in the export "
                                    "directory; re-run the export")
        for backend, name in (data.get("external_data") or {}).items():
            if not isinstance(name, str) or not name.endswith(".ptd") or "/" in name or name.startswith("."):
                raise ManifestError(f"{where}: external_data.{backend} {name!r} is not a .ptd file name in the export "
                                    "directory; re-run the export")
        for key in ("inputs", "outputs"):
            if not all(isinstance(io, dict) and isinstance(io.get("name"), str) for io in data.get(key, [])):
                raise ManifestError(f"{where}: every entry of {key!r} needs a 'name'; re-run the export")
        # Keys a newer minor writer may add are kept out of the typed fields, not refused.
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def read(cls, directory: str | os.PathLike) -> Manifest:
        """The manifest of an export directory, or ManifestError saying why the directory is not an export."""
        directory = Path(directory)
        path = directory / FILE
        if not path.is_file():
            raise ManifestError(f"{directory}: no {FILE}; pass a directory written by python -m albert_edge.export")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ManifestError(f"{path}: not valid JSON ({e}); re-run the export") from None
        except OSError as e:
            raise ManifestError(f"{path}: {e.strerror or e}") from None
        return cls.from_dict(data, str(path))
