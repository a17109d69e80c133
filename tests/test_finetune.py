"""albert_edge.finetune: sequence classification end to end on a slice of SST-2, and its input checks."""

import json
import random

import pytest
import torch
from safetensors.torch import load_file

from albert_edge import hub
from albert_edge.config import AlbertConfig
from albert_edge.finetune import TASKS, FinetuneError, f1_scores, finetune, length_bucketed, main
from albert_edge.model import AlbertForPreTraining
from albert_edge.tokenizer import BUNDLED_ASSETS, AlbertTokenizer


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """A tiny random-weight 'pretrained' checkpoint, as albert_edge.pretrain writes it (with the tokenizer)."""
    directory = tmp_path_factory.mktemp("pretrained")
    torch.manual_seed(0)
    config = AlbertConfig(vocab_size=16000, embedding_size=16, hidden_size=32, num_hidden_layers=2,
                          num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    hub.save_pretrained(AlbertForPreTraining(config), directory)
    AlbertTokenizer.from_pretrained(BUNDLED_ASSETS).save_pretrained(directory)
    return directory


@pytest.fixture()
def sst2_slice(data_dir, tmp_path):
    train_lines = (data_dir / "sst2" / "train.tsv").read_text(encoding="utf-8").splitlines()[:301]
    dev_lines = (data_dir / "sst2" / "dev.tsv").read_text(encoding="utf-8").splitlines()[:101]
    train, dev = tmp_path / "train.tsv", tmp_path / "dev.tsv"
    train.write_text("\n".join(train_lines) + "\n", encoding="utf-8")
    dev.write_text("\n".join(dev_lines) + "\n", encoding="utf-8")
    return train, dev


def test_sst2_end_to_end_keeps_best_and_saves_hf_with_labels(pretrained, sst2_slice, tmp_path):
    train, dev = sst2_slice
    out = tmp_path / "sst2"
    best = finetune("sequence-classification", train, dev, pretrained, out, epochs=2, lr=1e-3, batch_size=16,
                    max_seq_len=64, num_hidden_layers=3, labels="negative,positive")
    assert {"config.json", "model.safetensors", "spiece.model", "tokenizer_config.json", "vocab.json"} <= {
        p.name for p in out.iterdir()}
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["AlbertForSequenceClassification"]
    assert config["id2label"] == {"0": "negative", "1": "positive"} and config["num_hidden_layers"] == 3
    log = [json.loads(line) for line in (tmp_path / "sst2.train_log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1.0, 2.0]
    assert best["accuracy"] == max(r["dev_accuracy"] for r in log)  # the kept checkpoint is the best epoch
    results = json.loads((out / "eval_results.json").read_text())
    assert results["accuracy"] == best["accuracy"] and 0 <= results["f1"] <= 1

    # The saved directory reproduces the selected dev accuracy when reloaded.
    model = hub.from_pretrained(out)
    tok = AlbertTokenizer.from_pretrained(out)
    rows = [line.split("\t") for line in dev.read_text().splitlines()[1:]]
    batch = tok.encode_batch([r[0] for r in rows], max_length=64)
    with torch.no_grad():
        logits = model(*(torch.from_numpy(batch[k]) for k in ("input_ids", "attention_mask", "token_type_ids")))
    accuracy = (logits.argmax(-1) == torch.tensor([int(r[1]) for r in rows])).float().mean().item()
    assert accuracy == pytest.approx(best["accuracy"])


def test_repeats_change_depth_not_size(pretrained, sst2_slice, tmp_path):
    train, dev = sst2_slice
    sizes = []
    for layers in (1, 4):
        finetune("sequence-classification", train, dev, pretrained, tmp_path / f"l{layers}", epochs=0.1,
                 num_hidden_layers=layers, precision="bf16")
        sizes.append((tmp_path / f"l{layers}" / "model.safetensors").stat().st_size)
    assert sizes[0] == sizes[1]


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("train_text, extra, message", [
    (None, [], "no such file"),
    ("text\tlabel\ngood\t1\n", [], "no column 'sentence'; its header is ['text', 'label']"),
    ("good\tx\t1\n", [], "train.tsv:1: 3 field(s); a file without a header row has exactly 2"),
    (b"sentence\tlabel\ngood\t1\nb\xe9d\t0\n", [], "train.tsv:3: not UTF-8 text (byte 2 of the line is 0xe9)"),
    ("sentence\tlabel\ngood\tpositive\n", [], "train.tsv:2: label 'positive' is not a non-negative integer class id"),
    ("sentence\tlabel\ngood\t2\n", ["--labels", "negative,positive"], "train.tsv:2: label '2' is not an integer 0..1 or one of ['negative', 'positive']"),
    ("sentence\tlabel\n", [], "has a header but no examples"),
    ("", [], "has no rows; it needs `sentence<TAB>label` lines"),
])
def test_bad_inputs_fail_with_one_line_before_training(pretrained, tmp_path, train_text, extra, message):
    train = tmp_path / "train.tsv"
    if isinstance(train_text, bytes):
        train.write_bytes(train_text)
    elif train_text is not None:
        _write(train, train_text)
    dev = _write(tmp_path / "dev.tsv", "sentence\tlabel\nfine\t1\nbad\t0\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["--task", "sequence-classification", "--train", str(train), "--dev", str(dev),
              "--model", str(pretrained), "--out", str(tmp_path / "out"), *extra])
    text = str(exit_info.value.code)
    assert text.startswith("error: ") and message in text and "\n" not in text
    assert not (tmp_path / "out").exists()


def test_model_directory_is_checked(tmp_path):
    dev = _write(tmp_path / "dev.tsv", "sentence\tlabel\nfine\t1\n")
    with pytest.raises(SystemExit, match="error: --model .* not a model directory"):
        main(["--task", "sequence-classification", "--train", str(dev), "--dev", str(dev),
              "--model", str(tmp_path), "--out", str(tmp_path / "out")])


def test_custom_columns_and_csv(pretrained, tmp_path):
    csv_file = _write(tmp_path / "reviews.csv", 'review,stars\n"great, really",2\nawful,0\nok,1\n')
    best = finetune("sequence-classification", csv_file, csv_file, pretrained, tmp_path / "out", epochs=1,
                    text_column="review", label_column="stars")
    assert "macro_f1" in best  # three classes
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["id2label"] == {"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"}


def test_length_buckets_cover_every_example_once():
    examples = [{"input_ids": [0] * random.Random(i).randint(3, 60), "id": i} for i in range(1000)]
    batches = length_bucketed(examples, 32, random.Random(0), pool=10)
    assert sorted(e["id"] for b in batches for e in b) == list(range(1000))

    def padding(groups):
        return sum(max(len(e["input_ids"]) for e in b) * len(b) - sum(len(e["input_ids"]) for e in b) for b in groups)

    unbucketed = [examples[i:i + 32] for i in range(0, 1000, 32)]
    assert padding(batches) < 0.25 * padding(unbucketed)


def test_f1_and_registry():
    assert f1_scores([1, 1, 0, 0], [1, 0, 0, 0], 2) == pytest.approx([0.8, 2 / 3])
    assert set(TASKS) == {"sequence-classification", "token-classification", "question-answering"}


# -- never destroy what it did not write ------------------------------------------------------------------------------
def _run(pretrained, tmp_path, out, *extra):
    data = _write(tmp_path / "d.tsv", "sentence\tlabel\nfine\t1\nbad\t0\ngood\t1\nawful\t0\n")
    return main(["--task", "sequence-classification", "--train", str(data), "--dev", str(data),
                 "--model", str(pretrained), "--out", str(out), "--epochs", "1", *extra])


def test_existing_output_is_refused_before_training(pretrained, tmp_path, capsys):
    full = tmp_path / "full"
    full.mkdir()
    (full / "mine.txt").write_text("keep")
    a_file = _write(tmp_path / "a_file", "keep")
    for out, message in ((full, "exists and is not empty; pass --force"), (a_file, "is an existing file")):
        with pytest.raises(SystemExit) as exit_info:
            _run(pretrained, tmp_path, out)
        assert str(exit_info.value.code).startswith("error: ") and message in str(exit_info.value.code)
    assert "fine-tuning" not in capsys.readouterr().out  # refused before any work
    assert (full / "mine.txt").read_text() == "keep" and a_file.read_text() == "keep"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    _run(pretrained, tmp_path, full, "--force")
    assert (full / "config.json").is_file() and not (full / "mine.txt").exists()


@pytest.mark.parametrize("extra, message", [(["--threads", "0"], "--threads must be at least 1")])
def test_bad_options_are_one_line(pretrained, tmp_path, extra, message):
    with pytest.raises(SystemExit, match=f"error: {message}"):
        _run(pretrained, tmp_path, tmp_path / "out", *extra)
    assert not (tmp_path / "out").exists()


def test_a_tokenizer_with_a_character_map_saves(tmp_path):
    """albert-base-v2's spiece.model has an nmt_nfkc map: no device vocabulary, but the model saves and reloads."""
    import io

    import sentencepiece as spm

    words = "good bad fine awful great film movie plot acting music story dull witty".split()
    lines = [" ".join(random.Random(i).sample(words, 6)) for i in range(300)]
    proto = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=proto, model_type="unigram", vocab_size=36, pad_id=0, unk_id=1,
        bos_id=-1, eos_id=-1, pad_piece="<pad>", unk_piece="<unk>", control_symbols=["[CLS]", "[SEP]", "[MASK]"],
        normalization_rule_name="nmt_nfkc", num_threads=1, minloglevel=2)
    pretrained = tmp_path / "pt"
    pretrained.mkdir()
    (pretrained / "spiece.model").write_bytes(proto.getvalue())
    tok = AlbertTokenizer.from_pretrained(pretrained)
    assert tok.normalizer == "nmt_nfkc"
    tok.save_pretrained(pretrained)
    torch.manual_seed(0)
    config = AlbertConfig(vocab_size=tok.vocab_size, embedding_size=16, hidden_size=32, num_hidden_layers=1,
                          num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    hub.save_pretrained(AlbertForPreTraining(config), pretrained)
    _run(pretrained, tmp_path, tmp_path / "out")
    assert (tmp_path / "out" / "model.safetensors").is_file() and not (tmp_path / "out" / "vocab.json").exists()
    assert AlbertTokenizer.from_pretrained(tmp_path / "out").normalizer == "nmt_nfkc"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_ner_finetune_keeps_its_metric_names(pretrained, tmp_path):
    """eval_results.json holds the dev entity precision, not the training precision (bf16) under the same key."""
    conll = _write(tmp_path / "c.txt", "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\n\n"
                   "Peter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n\n" + "BRUSSELS NNP B-NP B-LOC\n" * 3)
    best = finetune("token-classification", conll, conll, pretrained, tmp_path / "ner", epochs=1, batch_size=2,
                    precision="bf16")
    results = json.loads((tmp_path / "ner" / "eval_results.json").read_text())
    assert isinstance(results["precision"], float) and results["precision"] == best["precision"]
    assert results["train_precision"] == "bf16" and results["task"] == "token-classification"


def test_a_stopped_run_resumes_to_the_same_model(pretrained, sst2_slice, tmp_path):
    train, dev = sst2_slice
    common = dict(epochs=2, lr=1e-3, batch_size=16, max_seq_len=64, eval_every=5, labels="negative,positive")
    whole = finetune("sequence-classification", train, dev, pretrained, tmp_path / "whole", **common)
    assert not (tmp_path / "whole.checkpoint.pt").exists()  # removed once the run is complete

    out = tmp_path / "sliced"
    stopped = finetune("sequence-classification", train, dev, pretrained, out, stop_at_step=12, **common)
    assert stopped["stopped"] and (tmp_path / "sliced.checkpoint.pt").is_file()
    with pytest.raises(FinetuneError, match=r"written by a run with lr=0\.001; pass the same values"):
        finetune("sequence-classification", train, dev, pretrained, out, resume=True, **{**common, "lr": 2e-3})
    resumed = finetune("sequence-classification", train, dev, pretrained, out, resume=True, **common)
    assert not (tmp_path / "sliced.checkpoint.pt").exists()

    assert {k: resumed[k] for k in ("accuracy", "loss", "epoch", "step")} == {
        k: whole[k] for k in ("accuracy", "loss", "epoch", "step")}
    a, b = (load_file(str(d / "model.safetensors")) for d in (tmp_path / "whole", out))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    strip = lambda path: [{k: v for k, v in json.loads(line).items() if k != "elapsed_s"}  # noqa: E731
                          for line in path.read_text().splitlines()]
    assert strip(tmp_path / "sliced.train_log.jsonl") == strip(tmp_path / "whole.train_log.jsonl")


def test_resume_without_a_checkpoint_is_one_line(pretrained, tmp_path):
    with pytest.raises(SystemExit, match=r"error: --resume: no .*out\.checkpoint\.pt; start without --resume"):
        _run(pretrained, tmp_path, tmp_path / "out", "--resume")
    assert not (tmp_path / "out").exists()


def test_qa_finetune_end_to_end(pretrained, data_dir, tmp_path):
    """The generic loop with QA's start/end targets and id-matched dev windows, on two real SQuAD articles: the kept
    checkpoint is the best dev F1 and records its window geometry."""
    squad = data_dir / "squad" / "squad-v1.1-dev-38.json"
    best = finetune("question-answering", f"{squad}@0:1", f"{squad}@1:2", pretrained, tmp_path / "qa", epochs=2,
                    lr=2e-3, batch_size=16, max_seq_len=64, doc_stride=32)
    config = json.loads((tmp_path / "qa" / "config.json").read_text())
    assert config["architectures"] == ["AlbertForQuestionAnswering"]
    assert config["postprocess"]["max_seq_len"] == 64 and config["postprocess"]["doc_stride"] == 32
    assert 0 <= best["exact_match"] <= best["f1"] <= 100
    log = [json.loads(line) for line in (tmp_path / "qa.train_log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1.0, 2.0] and best["f1"] == max(r["dev_f1"] for r in log)


def test_exit_loss_trains_the_classifier_at_every_depth(pretrained, tmp_path):
    """With --exit-loss the shallow depths answer better than without it (same data, seed and steps)."""
    from albert_edge import stepwise

    words = ["good", "bad"]
    rows = [f"the film was {words[i % 2]} , said critic {i}\t{1 - i % 2}" for i in range(192)]
    train = _write(tmp_path / "train.tsv", "sentence\tlabel\n" + "\n".join(rows) + "\n")
    common = dict(epochs=15, lr=1e-2, batch_size=16, max_seq_len=32, num_hidden_layers=3, labels="negative,positive")
    finetune("sequence-classification", train, train, pretrained, tmp_path / "plain", **common)
    finetune("sequence-classification", train, train, pretrained, tmp_path / "exits", exit_loss=True, **common)
    assert json.loads((tmp_path / "exits" / "eval_results.json").read_text())["exit_loss"] is True
    tok = AlbertTokenizer.from_pretrained(tmp_path / "exits")
    batch = tok.encode_batch([r.split("\t")[0] for r in rows], max_length=32)
    args = [torch.from_numpy(batch[k]) for k in ("input_ids", "attention_mask")]
    gold = torch.tensor([int(r.split("\t")[1]) for r in rows])
    losses = {}
    for name in ("plain", "exits"):
        with torch.no_grad():
            per_depth = stepwise.outputs_at_every_depth(hub.from_pretrained(tmp_path / name), args)
        losses[name] = [float(torch.nn.functional.cross_entropy(o, gold)) for o in per_depth]
    # Depth 1 was trained to answer with --exit-loss and not without.
    assert losses["exits"][0] < 0.5 * losses["plain"][0], losses
    with pytest.raises(FinetuneError, match="--exit-loss trains class logits at every depth"):
        finetune("token-classification", train, train, pretrained, tmp_path / "x", exit_loss=True)

    # --exit-heads from the plain classifier: the model itself stays bit-identical, the exit heads learn to answer.
    finetune("sequence-classification", train, train, tmp_path / "plain", tmp_path / "heads", exit_heads=True,
             **{**common, "epochs": 5})
    results = json.loads((tmp_path / "heads" / "eval_results.json").read_text())
    assert results["exit_heads"] is True and 0 <= results["exit_accuracy"] <= 1 and "accuracy_depth_2" in results
    assert json.loads((tmp_path / "heads" / "config.json").read_text())["exit_heads"] == "per-depth"
    plain, heads = hub.from_pretrained(tmp_path / "plain"), hub.from_pretrained(tmp_path / "heads")
    body = {k: v for k, v in heads.state_dict().items() if not k.startswith("exit_heads.")}
    assert body.keys() == plain.state_dict().keys()
    assert all(torch.equal(v, plain.state_dict()[k]) for k, v in body.items())
    with torch.no_grad():
        assert torch.equal(heads(*args), plain(*args))
        per_depth = stepwise.outputs_at_every_depth(heads, args)
        parts = stepwise.methods(heads)
        hidden = parts["layer_0"](*parts["embed"](*args))
        assert torch.equal(per_depth[0], heads.exit_heads[0](hidden))  # depth 1 answers with its own head
        assert torch.equal(per_depth[-1], heads(*args)) and torch.equal(stepwise.run_eager(heads, args, 1), per_depth[0])
    exit_losses = [float(torch.nn.functional.cross_entropy(o, gold)) for o in per_depth]
    assert exit_losses[0] < losses["plain"][0] and exit_losses[1] < losses["plain"][1], (exit_losses, losses)
    # Both: the body and every depth's own head train together (PABEE's setting).
    finetune("sequence-classification", train, train, pretrained, tmp_path / "joint", exit_heads=True, exit_loss=True,
             **common)
    joint = hub.from_pretrained(tmp_path / "joint")
    with torch.no_grad():
        joint_losses = [float(torch.nn.functional.cross_entropy(o, gold))
                        for o in stepwise.outputs_at_every_depth(joint, args)]
    assert len(joint.exit_heads) == 2 and joint_losses[0] < 0.5 * losses["plain"][0], (joint_losses, losses)
    with pytest.raises(FinetuneError, match="--exit-heads trains classifiers for early exit"):
        finetune("token-classification", train, train, pretrained, tmp_path / "z", exit_heads=True)
