"""The Android demo's plain-Java core, tested on the JVM without the Android SDK.

* compiles ``android_demo/core`` (main with ``--release 8``: only APIs every supported Android has) and its JUnit 4
  tests with ``javac`` against Debian's junit4 + hamcrest jars, and runs them with JUnitCore; the tokenizer
  suites check the Java tokenizer against ``golden_tokens.tsv`` / ``golden_inputs.tsv`` id for id;
* compiles the app's Java sources against core and the compile-only shim (``android_demo/shim``) of the Android and
  ExecuTorch signatures they use;
* checks that the golden files still match the Python tokenizer, so a tokenizer change cannot leave them stale.

The core parses JSON with ``org.json``, which Android ships; on the JVM it is Debian's ``libandroid-json-java`` (the
same classes). Skips with the reason when ``javac``/``java``, the junit4 jar or the org.json jar is missing
(``apt-get install default-jdk junit4 libandroid-json-java``). Set ``JUNIT_JAR`` / ``HAMCREST_JAR`` / ``JSON_JAR``
to use jars from elsewhere.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ANDROID = REPO / "android_demo"
CORE = ANDROID / "core" / "src"
RESOURCES = CORE / "test" / "resources"
DEBIAN_JARS = Path("/usr/share/java")


def _jar(env: str, names: tuple[str, ...]) -> Path | None:
    if os.environ.get(env):
        return Path(os.environ[env])
    return next((DEBIAN_JARS / n for n in names if (DEBIAN_JARS / n).is_file()), None)


JUNIT = _jar("JUNIT_JAR", ("junit4.jar", "junit.jar"))
HAMCREST = _jar("HAMCREST_JAR", ("hamcrest-core.jar", "hamcrest.jar"))
ORG_JSON = _jar("JSON_JAR", ("com.android.json.jar", "json-android.jar"))
MISSING = [
    what
    for what, ok in (
        ("javac", shutil.which("javac")),
        ("java", shutil.which("java")),
        ("junit4.jar (apt-get install junit4)", JUNIT and JUNIT.is_file()),
        ("hamcrest jar (apt-get install junit4)", HAMCREST and HAMCREST.is_file()),
        ("org.json jar (apt-get install libandroid-json-java)", ORG_JSON and ORG_JSON.is_file()),
    )
    if not ok
]
needs_jdk = pytest.mark.skipif(bool(MISSING), reason=f"JVM toolchain missing: {', '.join(MISSING)}")


def _sources(root: Path) -> list[str]:
    return sorted(str(p) for p in root.rglob("*.java"))


def _javac(out: Path, sources: list[str], classpath: list[Path] = (), release: int = 11) -> None:
    cmd = ["javac", "--release", str(release), "-encoding", "UTF-8", "-nowarn", "-d", str(out)]
    if classpath:
        cmd += ["-cp", os.pathsep.join(map(str, classpath))]
    result = subprocess.run(cmd + sources, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"javac failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def core_classes(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("core-main")
    _javac(out, _sources(CORE / "main" / "java"), [ORG_JSON], release=8)
    return out


@needs_jdk
def test_core_junit_suite(core_classes, tmp_path):
    test_out = tmp_path / "core-test"
    _javac(test_out, _sources(CORE / "test" / "java"), [core_classes, ORG_JSON, JUNIT, HAMCREST], release=8)
    classes = sorted(
        str(p.relative_to(test_out).with_suffix("")).replace(os.sep, ".") for p in test_out.rglob("*Test.class")
    )
    assert len(classes) >= 9, f"expected the core's JUnit classes, found {classes}"
    classpath = os.pathsep.join(map(str, [core_classes, ORG_JSON, test_out, RESOURCES, JUNIT, HAMCREST]))
    result = subprocess.run(
        ["java", "-cp", classpath, "org.junit.runner.JUnitCore", *classes],
        capture_output=True, text=True, timeout=300,
    )
    output = result.stdout + result.stderr
    ok = re.search(r"^OK \((\d+) tests?\)", output, re.M)
    failed = re.search(r"^Tests run: (\d+),\s+Failures: (\d+)", output, re.M)
    if ok:
        summary = f"OK, {ok.group(1)} tests"
    else:
        summary = f"{failed.group(2)} of {failed.group(1)} failed" if failed else "no summary"
    assert result.returncode == 0 and ok, f"JUnit: {summary}\n{output[-6000:]}"
    assert int(ok.group(1)) >= 76, f"JUnit ran only {ok.group(1)} tests; a suite went missing"


@needs_jdk
def test_app_compiles_against_shim(core_classes, tmp_path):
    shim_out = tmp_path / "shim"
    _javac(shim_out, _sources(ANDROID / "shim" / "src"))
    app_sources = _sources(ANDROID / "app" / "src" / "main" / "java")
    assert app_sources, "no app sources found"
    _javac(tmp_path / "app", app_sources, [shim_out, core_classes, ORG_JSON])


READ_MANIFEST = """
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import org.albertedge.core.InputLimits;
import org.albertedge.core.Manifest;

public class ReadManifest {
  public static void main(String[] args) throws Exception {
    Manifest m = Manifest.parse(new String(Files.readAllBytes(Paths.get(args[0])), StandardCharsets.UTF_8));
    InputLimits limits = InputLimits.of(m);
    System.out.println(m.name + "|" + m.task + "|" + m.maxSeqLen + "|" + limits.vocabSize + "|"
        + limits.typeVocabSize + "|" + limits.dynamicSeqLen + "|" + m.labels + "|" + m.pteFile + "|" + m.onnxFile
        + "|" + m.stepwisePteFile + "|" + m.stepwiseSchedule + "|" + m.exitPolicy.kind + "|" + m.exitPolicy.minDepth);
  }
}
"""


@needs_jdk
def test_java_reads_the_manifest_python_writes(core_classes, tmp_path):
    """The app's Manifest (and the input limits it takes from it) on a manifest the export wrote."""
    import shutil

    import transformers

    from albert_edge.export import export
    from albert_edge.tokenizer import BUNDLED_ASSETS

    config = transformers.AlbertConfig(vocab_size=16000, embedding_size=16, hidden_size=16, num_hidden_layers=2,
                                       num_attention_heads=2, intermediate_size=24, max_position_embeddings=64,
                                       id2label={0: "negative", 1: "positive"})
    transformers.AlbertForSequenceClassification(config).eval().save_pretrained(tmp_path / "hf")
    for name in ("spiece.model",):  # the app needs the device vocabulary
        shutil.copy(BUNDLED_ASSETS / name, tmp_path / "hf" / name)
    held_in = tmp_path / "held_in.tsv"
    held_in.write_text("sentence\tlabel\ngood\t1\nbad\t0\nfine\t1\nawful\t0\n")
    result = export(tmp_path / "hf", max_seq_len=32, out=tmp_path / "out", verify=False, stepwise=True,
                    exit_calibration=held_in, exit_max_loss=0.99, progress=False)
    source = tmp_path / "ReadManifest.java"
    source.write_text(READ_MANIFEST)
    _javac(tmp_path / "cls", [str(source)], [core_classes, ORG_JSON], release=8)
    run = subprocess.run(["java", "-cp", os.pathsep.join([str(core_classes), str(ORG_JSON), str(tmp_path / "cls")]),
                          "ReadManifest",
                          str(result.out / "manifest.json")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    m = result.manifest
    assert run.stdout.strip() == "|".join(map(str, [
        m["name"], "sequence-classification", 32, 16000, 2, "true", "[negative, positive]", m["artifacts"]["pte"],
        m["artifacts"]["onnx"], m["artifacts"]["pte_stepwise"], "[layer_0, layer_0]", m["stepwise"]["exit_policy"]["kind"],
        m["stepwise"]["exit_policy"]["min_depth"]]))


def test_golden_files_match_the_python_tokenizer(tmp_path):
    tokenizer_module = pytest.importorskip("albert_edge.tokenizer")
    spiece = tokenizer_module.BUNDLED_ASSETS / tokenizer_module.MODEL_FILE
    if not spiece.is_file():
        pytest.skip(f"no bundled tokenizer at {spiece}")
    stale = "stale Android golden files; run python scripts/make_android_golden.py"
    tok = tokenizer_module.AlbertTokenizer(spiece)
    exported = Path(tok.export_vocab(tmp_path / "vocab.json"))
    assert (RESOURCES / "vocab.json").read_bytes() == exported.read_bytes(), f"vocab.json differs: {stale}"

    lines = (RESOURCES / "golden_tokens.tsv").read_text(encoding="utf-8").split("\n")[1:]
    rows = [line.rsplit("\t", 1) for line in lines if line]
    assert len(rows) >= 2000
    for text, ids in rows:
        assert tok.encode(_unescape(text)).input_ids == [int(i) for i in ids.split()], f"{text!r}: {stale}"

    lines = (RESOURCES / "golden_inputs.tsv").read_text(encoding="utf-8").split("\n")[1:]
    for line in filter(None, lines):
        max_length, text, pair, ids, types = line.split("\t")
        enc = tok.encode(_unescape(text), None if pair == "\\N" else _unescape(pair), max_length=int(max_length))
        assert enc.input_ids == [int(i) for i in ids.split()], f"{text!r} ({max_length}): {stale}"
        assert enc.token_type_ids == [int(i) for i in types.split()], f"{text!r} ({max_length}): {stale}"


def _unescape(s: str) -> str:
    """Inverse of make_android_golden.escape (and of TokenizerGoldenTest.unescape)."""
    simple = {"t": "\t", "n": "\n", "r": "\r"}

    def one(m: re.Match) -> str:
        e = m.group(1)
        return chr(int(e[1:], 16)) if len(e) == 5 else simple.get(e, e)

    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", one, s)


def test_no_binaries_in_the_android_project():
    """The Gradle project fetches ExecuTorch from Maven Central; nothing prebuilt may be committed."""
    git = shutil.which("git")
    if not git or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        [git, "ls-files", "--cached", "--others", "--exclude-standard", "android_demo"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.split()
    binaries = [f for f in listed if Path(f).suffix in {".jar", ".aar", ".so", ".apk", ".pte", ".onnx", ".class"}]
    assert not binaries, f"binary files in android_demo/ (fetch them at build time instead): {binaries}"
    assert "android_demo/app/build.gradle.kts" in listed
    gradle = (ANDROID / "app" / "build.gradle.kts").read_text(encoding="utf-8")
    assert 'implementation("org.pytorch:executorch-android:1.5.1")' in gradle


def test_exit_golden_file_matches_the_python_policies():
    """golden_exits.tsv (ExitPolicyTest's cases) is what albert_edge.exits decides today."""
    import sys

    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from make_exit_golden import golden_lines
    finally:
        sys.path.pop(0)
    committed = (RESOURCES / "golden_exits.tsv").read_text(encoding="utf-8").splitlines()
    assert committed == golden_lines(), "stale golden_exits.tsv; run python scripts/make_exit_golden.py"
