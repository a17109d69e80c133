"""`python -m albert_edge.bundle EXPORT_DIR ANDROID_DEMO_DIR`: put an export into the Android demo's assets.

Copies the `.pte`, the tokenizer vocabulary (`vocab.json`) and `manifest.json` into `app/src/main/assets/`, after
checking that the app can run them: a sequence-classification model with labels, whose `.pte` takes
(input_ids, attention_mask) and matches the manifest's sha256. Idempotent: the assets folder is rebuilt in a temp
folder and swapped in whole, so a failed run leaves the previous bundle as it was.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

from albert_edge import tasks
from albert_edge.files import AlbertEdgeError, OutputDirectory, cli_errors, sha256_file
from albert_edge.manifest import Manifest
from albert_edge.runtime import MANIFEST, RuntimeLoadError, read_manifest

ASSETS = Path("app") / "src" / "main" / "assets"
SUPPORTED_TASKS = tasks.names(app=True)  # what the demo app runs
APP_INPUTS = ["input_ids", "attention_mask"]


class BundleError(AlbertEdgeError):
    """An export the app cannot run, or a folder that is not the Android demo."""


def check_export(export_dir: Path) -> tuple[Manifest, list[Path]]:
    """The manifest and the files to bundle, or a BundleError saying why the app cannot run this export."""
    manifest_path = export_dir / MANIFEST
    try:
        manifest = read_manifest(export_dir)
    except RuntimeLoadError as e:
        raise BundleError(str(e)) from None
    task = manifest.task
    if task not in SUPPORTED_TASKS:
        raise BundleError(f"{export_dir}: task {task!r} is not supported by the demo app (it runs "
                          f"{', '.join(SUPPORTED_TASKS)}); export a sequence-classification model")
    if not manifest.labels:
        raise BundleError(f"{manifest_path}: no labels; the app shows a label name per class")
    inputs = [i["name"] for i in manifest.inputs]
    if inputs != APP_INPUTS:
        raise BundleError(f"{manifest_path}: the model takes {inputs}, the app passes {APP_INPUTS}")
    pte_name = manifest.artifact("pte")
    if not pte_name:
        raise BundleError(f"{export_dir}: the export has no .pte; re-run the export with --backend pte or all")
    vocab_name = (manifest.tokenizer or {}).get("vocab")
    if not vocab_name:
        raise BundleError(f"{manifest_path}: no tokenizer vocabulary; export a model that ships its spiece.model")
    files = []
    # The stepwise program goes too when the export has one: the app then runs the loop (adaptive depth with the
    # manifest's exit policy, android_demo/README.md).
    stepwise_name = manifest.artifact("pte_stepwise")
    for name in (pte_name, vocab_name, *([stepwise_name] if stepwise_name else [])):
        path = export_dir / name
        if not path.is_file():
            raise BundleError(f"{path}: missing; the export directory is incomplete, re-run the export")
        expected = manifest.files.get(name, {}).get("sha256")
        if expected and sha256_file(path) != expected:
            raise BundleError(f"{path}: sha256 differs from manifest.json; the file changed after export, re-run it")
        files.append(path)
    return manifest, files + [manifest_path]


def bundle(export_dir: str | os.PathLike, android_dir: str | os.PathLike) -> Path:
    """Fill `android_dir/app/src/main/assets/` from `export_dir`; returns the assets folder."""
    export_dir, android_dir = Path(export_dir), Path(android_dir)
    if not (android_dir / "app").is_dir():
        raise BundleError(f"{android_dir}: no app/ folder; pass the android_demo project directory")
    _, files = check_export(export_dir)
    assets = android_dir / ASSETS
    # The assets folder is this command's own output (git-ignored), so it is always replaced, in one swap.
    with OutputDirectory(assets, force=True, what="assets folder") as staging:
        for f in files:
            shutil.copy2(f.resolve(), staging / f.name)
            os.chmod(staging / f.name, 0o644)
    return assets


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m albert_edge.bundle", description=__doc__.splitlines()[0])
    parser.add_argument("export_dir", help="a directory written by python -m albert_edge.export")
    parser.add_argument("android_dir", help="the android_demo project directory")
    args = parser.parse_args(argv)
    with cli_errors():
        assets = bundle(args.export_dir, args.android_dir)
    for f in sorted(assets.iterdir()):
        print(f"{f.stat().st_size:>12,d}  {f}")


if __name__ == "__main__":
    main()
