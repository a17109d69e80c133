"""Stepwise programs (albert_edge/stepwise.py): embed -> layer x N -> head, the loop over depth outside the program."""

import json

import numpy as np
import pytest
import torch

from albert_edge import runtime, stepwise, tasks
from albert_edge.config import AlbertConfig
from albert_edge.exits import ExitPolicy, exit_depth
from albert_edge.export import ExportError, export
from albert_edge.lowering import export_pte, export_stepwise_pte, model_input_names
from albert_edge.model import model_for_task
from albert_edge.pipeline import PipelineError, pipeline
from quantize.xnnpack import XnnpackInt8Recipe
from test_export import save_hf  # the tiny transformers checkpoint the export tests use

CONFIG = dict(vocab_size=300, embedding_size=16, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
              intermediate_size=64, max_position_embeddings=64, id2label={0: "a", 1: "b", 2: "c"})


def _inputs(task: str, seq: int = 11, seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    arrays = {"input_ids": torch.randint(5, 300, (1, seq), generator=g), "attention_mask": torch.ones(1, seq).long(),
              "token_type_ids": (torch.arange(seq) >= seq // 2).long()[None]}
    return [arrays[n] for n in model_input_names(task)]


def _tuple(out):
    return out if isinstance(out, tuple) else (out,)


def test_schedule_is_hf_group_arithmetic():
    assert stepwise.schedule(AlbertConfig(**{**CONFIG, "num_hidden_layers": 12})) == [0] * 12
    assert stepwise.schedule(AlbertConfig(**{**CONFIG, "num_hidden_layers": 6, "num_hidden_groups": 3})) == [
        0, 0, 1, 1, 2, 2]


@pytest.mark.parametrize("task", tasks.names(exportable=True))
@pytest.mark.parametrize("groups", [1, 3])
def test_the_eager_chain_is_forward(task, groups):
    torch.manual_seed(0)
    model = model_for_task(AlbertConfig(**{**CONFIG, "num_hidden_groups": groups}), task).eval()
    x = _inputs(task)
    with torch.no_grad():
        want, got = _tuple(model(*x)), _tuple(stepwise.run_eager(model, x))
    assert all(torch.equal(a, b) for a, b in zip(want, got))
    with torch.no_grad():  # depth 1 is a different model, not the same one
        shallow = _tuple(stepwise.run_eager(model, x, depth=1))
    assert not torch.equal(shallow[0], want[0])
    with pytest.raises(ValueError, match="depth must be in 1..3"):
        stepwise.run_eager(model, x, depth=4)


# Every task in fp32 and int8 (about 20-30 s an export). The default run keeps sequence classification in fp32 (the
# int8 chain is verified against eager by the export test below); the rest run with -m slow.
DEFAULT = {("sequence-classification", False)}
CASES = [(task, int8) if (task, int8) in DEFAULT else pytest.param(task, int8, marks=pytest.mark.slow)
         for int8 in (False, True) for task in tasks.names(exportable=True)]


@pytest.mark.parametrize("task, int8", CASES)
def test_stepwise_pte_matches_forward_at_every_depth(task, int8, tmp_path):
    torch.manual_seed(0)
    model = model_for_task(AlbertConfig(**CONFIG), task).eval()
    names = model_input_names(task)
    path = tmp_path / "m.pte"
    delegation = export_stepwise_pte(model, path, input_names=names, max_seq_len=32,
                                     recipe=XnnpackInt8Recipe() if int8 else None)
    assert set(delegation) == {"embed", "layer_0", "head"}
    # Each method is one XNNPACK partition (the bare encoder's head is the identity: nothing to delegate).
    identity_head = task == "feature-extraction"
    assert [d["partitions"] for d in delegation.values()] == [1, 1, 0 if identity_head else 1]
    runner = runtime.StepwiseRunner(path, ["layer_0"] * 3, input_names=names,
                                    limits=runtime.InputLimits(300, 2, 32))
    for seq in (3, 11, 32):  # one program serves every length
        x = _inputs(task, seq)
        for depth in (1, 2, 3):
            with torch.no_grad():
                want = [o.numpy() for o in _tuple(stepwise.run_eager(model, x, depth=depth))]
            got = runner.run({n: a.numpy() for n, a in zip(names, x)}, depth=depth)
            for a, b in zip(want, got):
                if int8:  # dynamic int8 against fp32: close, not equal
                    assert 20 * np.log10(np.linalg.norm(a) / np.linalg.norm(a - b)) > 20
                else:
                    np.testing.assert_allclose(b, a, atol=1e-5, rtol=1e-5)
    with pytest.raises(runtime.InvalidInputError, match="depth must be in 1..3"):
        runner.run({n: a.numpy() for n, a in zip(names, _inputs(task))}, depth=0)
    runner.close()


def test_per_depth_exit_heads_are_methods_of_their_own(tmp_path):
    torch.manual_seed(0)
    model = model_for_task(AlbertConfig(**CONFIG), "sequence-classification").eval()
    model.add_exit_heads()
    for head in model.exit_heads:  # different from the final head, so a wrong method would show
        torch.nn.init.normal_(head.classifier.weight)
    names = model_input_names("sequence-classification")
    entry = stepwise.manifest_entry(model, names)
    assert entry["heads"] == ["exit_1", "exit_2", "head"]
    assert entry["methods"] == ["embed", "layer_0", "head", "exit_1", "exit_2"]
    path = tmp_path / "m.pte"
    delegation = export_stepwise_pte(model, path, input_names=names, max_seq_len=32)
    assert set(delegation) == set(entry["methods"])
    runner = runtime.StepwiseRunner(path, entry["schedule"], input_names=names, heads=entry["heads"],
                                    limits=runtime.InputLimits(300, 2, 32))
    x = _inputs("sequence-classification", 9)
    feed = {n: a.numpy() for n, a in zip(names, x)}
    by_depth = runner.outputs_by_depth(feed)
    with torch.no_grad():
        forward = model(*x).numpy()
        for depth in (1, 2, 3):
            want = stepwise.run_eager(model, x, depth=depth).numpy()
            np.testing.assert_allclose(runner.run(feed, depth=depth)[0], want, atol=1e-5, rtol=1e-5)
            np.testing.assert_allclose(by_depth[depth - 1][0], want, atol=1e-5, rtol=1e-5)
        # Depth 1 is its exit head's answer, not the final head's on the same hidden state.
        assert not np.allclose(by_depth[0][0], model.head(stepwise.methods(model)["layer_0"](
            *stepwise.methods(model)["embed"](*x))).numpy(), atol=1e-3)
    np.testing.assert_allclose(by_depth[-1][0], forward, atol=1e-5, rtol=1e-5)
    outputs, depth = runner.run_adaptive(ExitPolicy("entropy", 1.0), feed)  # stops at once, on exit_1
    assert depth == 1 and np.array_equal(outputs[0], by_depth[0][0])
    with pytest.raises(runtime.RuntimeLoadError, match="names 2 heads for 3 depths"):
        runtime.StepwiseRunner(path, entry["schedule"], heads=["exit_1", "head"], limits=None)
    runner.close()


def test_export_writes_verifies_and_describes_the_stepwise_program(tmp_path):
    hf = save_hf(tmp_path / "hf")
    held_in = tmp_path / "held_in.tsv"
    held_in.write_text("sentence\tlabel\n" + "".join(f"sentence number {i} is {'good' if i % 2 else 'bad'} .\t{i % 2}\n"
                                                     for i in range(12)))
    report = tmp_path / "report.tsv"
    report.write_text("sentence\tlabel\na gripping , funny film .\t1\ndull and far too long .\t0\n")
    # A loss budget this wide admits any policy, so the cheapest (exit at depth 1) is chosen.
    result = export(hf, int8=True, backend="pte", max_seq_len=32, out=tmp_path / "out", stepwise=True,
                    exit_calibration=held_in, exit_max_loss=0.99, eval_data=report, progress=False)
    manifest = json.loads((result.out / "manifest.json").read_text())
    name = manifest["artifacts"]["pte_stepwise"]
    assert name.endswith("_stepwise.pte") and name in manifest["files"]
    entry = manifest["stepwise"]
    assert entry["methods"] == ["embed", "layer_0", "head"] and entry["schedule"] == ["layer_0"] * 2
    assert entry["num_hidden_layers"] == 2 and entry["embed_inputs"] == ["input_ids", "attention_mask"]
    figures = manifest["verification"]["pte_stepwise"]
    # The chain at full depth runs the same int8 kernels as `forward`: it agrees with eager as the .pte does.
    assert figures["top1_agreement"] == manifest["verification"]["pte"]["top1_agreement"] == 1.0
    assert abs(figures["snr_db"] - manifest["verification"]["pte"]["snr_db"]) < 1.0 and figures["snr_db"] > 25
    assert figures["accuracy"] == manifest["verification"]["pte"]["accuracy"]
    # The exit policy: chosen on the held-in file, reported on the eval data.
    assert entry["exit_policy"] is not None and entry["exit_calibration"]["mean_depth"] == 1.0
    assert entry["exit_calibration"]["data"] == "held_in.tsv" and entry["exit_calibration"]["examples"] == 12
    assert entry["exit_evaluation"]["examples"] == 2 and entry["exit_evaluation"]["mean_depth"] == 1.0
    p = pipeline(result.out, artifact="pte_stepwise")
    q = pipeline(result.out, artifact="pte")
    text = "a gripping , funny film ."
    assert p(text)["label"] == q(text)["label"] and "depth" not in p(text)
    # A stepwise .pte loaded by path finds its schedule in the manifest beside it.
    by_path = runtime.load(result.out / name)
    assert isinstance(by_path, runtime.StepwiseRunner) and by_path.num_layers == 2
    # Adaptive depth: the runner's decisions are the offline policy's on the same per-depth logits.
    ids = p.tokenizer.encode(text).input_ids
    feed = {"input_ids": np.array([ids]), "attention_mask": np.ones((1, len(ids)), dtype=np.int64)}
    by_depth = by_path.outputs_by_depth(feed)
    assert len(by_depth) == 2 and np.array_equal(by_depth[-1][0], by_path.run(feed)[0])
    for policy in (ExitPolicy("patience", 1), ExitPolicy("entropy", 1.0), ExitPolicy("entropy", 0.0),
                   ExitPolicy("patience", 1, min_depth=2)):
        outputs, depth = by_path.run_adaptive(policy, feed)
        assert depth == exit_depth(policy, [o[0] for o in by_depth])
        assert np.array_equal(outputs[0], by_depth[depth - 1][0])
    # Pipelines: a fixed depth, or adaptive with a policy; the depth used is reported per input.
    labels = ["negative", "positive"]
    shallow = pipeline(result.out, artifact="pte_stepwise", depth=1)(text)
    assert shallow["depth"] == 1 and shallow["label"] == labels[int(np.argmax(by_depth[0][0]))]
    policy = ExitPolicy("entropy", 0.0)  # never confident enough: full depth, overriding the manifest's policy
    adaptive = pipeline(result.out, artifact="pte_stepwise", depth="adaptive", exit_policy=policy)([text, text])
    assert [r["depth"] for r in adaptive] == [2, 2]
    recorded = pipeline(result.out, artifact="pte_stepwise", depth="adaptive")(["fine", "awful"])
    assert [r["depth"] for r in recorded] == [1, 1]  # the manifest's policy, no exit_policy= needed
    for kwargs, message in (({"artifact": "pte", "depth": 1}, "needs the stepwise artifact"),
                            ({"artifact": "pte_stepwise", "depth": 3}, "depth must be 1..2 or 'adaptive'")):
        with pytest.raises(PipelineError, match=message):
            pipeline(result.out, **kwargs)
    # The harness's depth sweep: every setting end to end through the runtime, on the same labelled sentences.
    from albert_edge.bench import bench, depth

    # One run: the Python sweep, and the same sweep in the native runner (a C++ process like an app's) where the
    # runner can be built here (with its forward rows, `pte-int8-native`).
    run = bench([result.out], out=tmp_path / "bench", threads=(1,), backends=("native",), peers=(), ceiling=False,
                depth_data=report, warmups=1, seq_lens=(8,), iterations=2, progress=False)
    sweeps: dict[str, dict] = {}
    for r in run.records:
        extra = r["benchmarkModel"]["extraInfo"]
        if extra.get("sweep") == "depth":
            label, setting = extra["target"].split(": ")
            sweeps.setdefault(label, {}).setdefault(setting, {})[r["metric"]] = r["actualValue"]
    rows = sweeps["pte-int8-stepwise"]
    shipped = "shipped " + depth.policy_name(entry["exit_policy"])
    assert list(rows)[:4] == ["forward", "depth 1", "depth 2", shipped] and "entropy 0.10" in rows
    assert [rows[s]["mean_depth"] for s in ("forward", "depth 1", "depth 2", shipped)] == [2, 1, 2, 1]
    # The same predictions as the export's own verification of forward and of the shipped policy.
    assert rows["forward"]["accuracy(%)"] == rows["depth 2"]["accuracy(%)"] == 100 * figures["accuracy"]
    assert rows[shipped]["accuracy(%)"] == 100 * entry["exit_evaluation"]["accuracy"]
    assert all(m["avg_inference_latency(ms)"] > 0 for m in rows.values())
    # The shipped policy stops at depth 1 on both sentences: at its depths, the fixed runs are the depth-1 runs.
    assert rows[shipped]["fixed_at_same_depths(ms)"] == pytest.approx(rows["depth 1"]["avg_inference_latency(ms)"])
    assert "fixed_at_same_depths(ms)" not in rows["depth 2"]
    text = run.files["report"].read_text()
    assert "## Depth:" in text and f"| {shipped} |" in text and "Goal: shipped" in text
    assert run.files[f"accuracy_vs_latency_{run.records[0]['benchmarkModel']['name']}"].stat().st_size > 0
    # The native sweep, where it ran: every setting's predictions and depths are the Python sweep's (its policy code
    # is a second implementation of exits.py).
    if any(n.startswith("native runner rows skipped") for n in run.notes):
        return
    native_rows = sweeps["pte-int8-stepwise-native"]
    assert list(native_rows) == list(rows)
    assert [(m["accuracy(%)"], m["mean_depth"]) for m in native_rows.values()] == \
        [(m["accuracy(%)"], m["mean_depth"]) for m in rows.values()]
    assert "stepwise-native" in text


def test_stepwise_refuses_what_it_cannot_do(tmp_path):
    hf = save_hf(tmp_path / "hf")
    with pytest.raises(ExportError, match="--stepwise writes a .pte; use it with --backend pte or all"):
        export(hf, backend="onnx", stepwise=True, out=tmp_path / "a", progress=False)
    calibration = tmp_path / "c.txt"
    calibration.write_text("some text\n")
    with pytest.raises(ExportError, match="--stepwise takes dynamic int8"):
        export(hf, int8=True, calibration=calibration, stepwise=True, out=tmp_path / "b", progress=False)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.slow
def test_a_plain_pte_is_not_a_stepwise_one(tmp_path):
    model = model_for_task(AlbertConfig(**CONFIG), "sequence-classification").eval()
    export_pte(model, tmp_path / "plain.pte", input_names=["input_ids", "attention_mask"], max_seq_len=16)
    with pytest.raises(runtime.RuntimeLoadError, match="no `embed` method"):
        runtime.StepwiseRunner(tmp_path / "plain.pte", ["layer_0"], limits=None)


@pytest.mark.parametrize("kwargs, message", [
    ({"exit_calibration": "x.tsv"}, "--exit-calibration chooses the stepwise program's exit policy; add --stepwise"),
    ({"stepwise": True, "exit_calibration": "x.tsv", "exit_max_loss": 1.5}, "--exit-max-loss must be in"),
])
def test_exit_calibration_bad_options(tmp_path, kwargs, message):
    with pytest.raises(ExportError, match=message):
        export(save_hf(tmp_path / "hf"), backend="pte", out=tmp_path / "out", progress=False, **kwargs)
    assert not (tmp_path / "out").exists()
