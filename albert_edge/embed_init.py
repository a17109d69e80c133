"""`python -m albert_edge.embed_init`: word-piece embeddings from corpus co-occurrence (PPMI + truncated SVD).

A CPU-sized first stage of pretraining. Masked-LM pretraining of a small ALBERT spends its first thousands of steps
on the "unigram plateau" (predicting frequent pieces regardless of context) before the embeddings carry meaning; on a
2-core CPU that is most of the budget. Count-based embeddings get the distributional part in minutes: the piece
co-occurrence counts within a window, their positive pointwise mutual information with context-distribution smoothing
(cds 0.75), and the top `embedding_size` singular vectors, weighted by the square roots of the singular values
(Levy, Goldberg & Dagan 2015, "Improving distributional similarity with lessons learned from word embeddings").

The result is an ordinary Hugging Face-format `AlbertForPreTraining` checkpoint (random encoder, these word
embeddings, the tokenizer files) that `albert_edge.pretrain --init-from` and `albert_edge.finetune --model` take:

    python -m albert_edge.embed_init --train corpus.txt.gz --tokenizer albert_edge/assets \\
        --config albert-edge-tiny --out runs/embed_init
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from albert_edge import hub
from albert_edge.data import DataError, check_text_files, read_documents
from albert_edge.files import OutputDirectory, cli_errors
from albert_edge.model import AlbertForPreTraining
from albert_edge.training import load_config, load_tokenizer
from albert_edge.tokenizer import AlbertTokenizer


@dataclass
class Cooccurrences:
    """Sparse symmetric co-occurrence counts: pair keys `row * vocab + column` (sorted, unique) and their weights."""

    vocab: int
    keys: np.ndarray
    weights: np.ndarray
    pieces: int  # pieces read

    def row_sums(self) -> np.ndarray:
        return np.bincount(self.keys // self.vocab, weights=self.weights, minlength=self.vocab)


def _merge(keys: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    unique, inverse = np.unique(keys, return_inverse=True)
    return unique, np.bincount(inverse, weights=weights, minlength=len(unique))


def count_cooccurrences(
    paths: Sequence[str | Path], tokenizer: AlbertTokenizer, window: int = 5, progress: bool = True
) -> Cooccurrences:
    """Counts of piece pairs at most `window` apart within a document, weighted 1/distance (GloVe's weighting),
    both orders. Special pieces are never counted. Memory grows with the number of distinct
    pairs, not with vocab^2 (a 30k vocabulary would need 3.6 GB dense)."""
    vocab = tokenizer.vocab_size
    special = np.array(sorted({tokenizer.pad_id, tokenizer.unk_id, tokenizer.cls_id, tokenizer.sep_id,
                               tokenizer.mask_id}))
    keys, weights = np.zeros(0, dtype=np.int64), np.zeros(0)
    pieces, buffered, pending = 0, 0, []

    def flush() -> None:
        nonlocal keys, weights
        ids = np.concatenate(pending)
        pending.clear()
        ids[np.isin(ids, special)] = -1
        parts, part_weights = [keys], [weights]
        for distance in range(1, window + 1):
            left, right = ids[:-distance], ids[distance:]
            keep = (left >= 0) & (right >= 0)  # -1: document boundary or special piece
            left, right = left[keep], right[keep]
            for pair in (left * vocab + right, right * vocab + left):
                unique, counts = np.unique(pair, return_counts=True)
                parts.append(unique)
                part_weights.append(counts / distance)
        keys, weights = _merge(np.concatenate(parts), np.concatenate(part_weights))

    for document in tqdm(read_documents(paths), desc="counting co-occurrences", unit=" docs", disable=not progress):
        for line in document:
            ids = tokenizer.encode(line, add_special_tokens=False).input_ids
            pending.append(np.asarray(ids, dtype=np.int64))
            pieces += len(ids)
            buffered += len(ids)
        pending.append(np.full(window, -1, dtype=np.int64))
        if buffered > 5_000_000:
            flush()
            buffered = 0
    if pending:
        flush()
    return Cooccurrences(vocab, keys, weights, pieces)


def ppmi_svd(counts: Cooccurrences, dim: int, cds: float = 0.75, seed: int = 0) -> np.ndarray:
    """(V, dim) embeddings U_k * sqrt(S_k) of the PPMI matrix of `counts` (rows of unseen pieces are zero)."""
    if dim >= counts.vocab:
        raise ValueError(f"embedding size {dim} must be smaller than the vocabulary ({counts.vocab})")
    total = counts.weights.sum()
    if total <= 0:
        raise DataError("no piece co-occurs with another: the corpus is too small for embedding initialisation")
    row = counts.row_sums()
    context = row**cds
    context /= context.sum()
    rows, columns = counts.keys // counts.vocab, counts.keys % counts.vocab
    pmi = np.log(counts.weights / total) - np.log(row[rows] / total) - np.log(context[columns])
    positive = pmi > 0
    index = torch.from_numpy(np.stack([rows[positive], columns[positive]]))
    ppmi = torch.sparse_coo_tensor(index, torch.from_numpy(pmi[positive].astype(np.float32)),
                                   (counts.vocab, counts.vocab), is_coalesced=True,
                                   check_invariants=False)
    torch.manual_seed(seed)
    u, s, _ = torch.svd_lowrank(ppmi, q=min(dim + 16, counts.vocab), niter=6)
    vectors = (u[:, :dim] * s[:dim].sqrt()).numpy()
    vectors[row == 0] = 0  # randomized SVD leaves round-off there; these pieces have no evidence at all
    return vectors


def init_checkpoint(
    train: Sequence[str | Path],
    tokenizer: str | Path,
    out: str | Path,
    *,
    config: str | Path = "albert-edge-tiny",
    window: int = 5,
    std: float | None = None,
    seed: int = 0,
    progress: bool = True,
    force: bool = False,
) -> Path:
    """Write an `AlbertForPreTraining` checkpoint whose word embeddings come from `train`'s PPMI-SVD; return `out`.

    The embeddings are rescaled so their element standard deviation is `std` (default: the config's
    `initializer_range`, the scale the rest of the model is initialised at). Pieces the corpus never shows keep
    their random rows, as everything else keeps the usual initialisation drawn with `seed`; the MLM decoder is tied
    to the embeddings as always. An existing non-empty `out` is refused unless `force` (checked before counting).
    """
    output = OutputDirectory(out, force)
    paths = check_text_files(train)
    tok = load_tokenizer(tokenizer)
    cfg = load_config(config, tok)
    if window < 1:
        raise DataError(f"window must be at least 1, got {window}")
    counts = count_cooccurrences(paths, tok, window, progress)
    vectors = ppmi_svd(counts, cfg.embedding_size, seed=seed)
    seen = torch.from_numpy(counts.row_sums() > 0)
    vectors = torch.from_numpy(vectors)[seen]
    vectors *= (std if std is not None else cfg.initializer_range) / vectors.std()
    torch.manual_seed(seed)
    model = AlbertForPreTraining(cfg)
    with torch.no_grad():
        model.albert.embeddings.word_embeddings.weight[seen] = vectors
    info = {"train": [str(p) for p in paths], "pieces_read": counts.pieces, "vocab_pieces_seen": int(seen.sum()),
            "window": window, "embedding_size": cfg.embedding_size, "seed": seed}
    with output as partial:  # appears complete, or not at all
        hub.save_pretrained(model, partial)
        tok.save_pretrained(partial)
        (partial / "embed_init.json").write_text(json.dumps(info, indent=2) + "\n")
    return Path(out)


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m albert_edge.embed_init", description=__doc__.split("\n")[0])
    p.add_argument("--train", nargs="+", required=True, help="text files (.gz ok): documents separated by blank lines")
    p.add_argument("--tokenizer", required=True, help="directory with spiece.model, or the spiece.model file")
    p.add_argument("--config", default="albert-edge-tiny", help="preset name or config.json")
    p.add_argument("--window", type=int, default=5, help="co-occurrence window in pieces, each side")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch threads for the SVD")
    p.add_argument("--out", required=True)
    p.add_argument("--force", action="store_true", help="replace an existing non-empty --out")
    args = p.parse_args(argv)
    if args.threads is not None and args.threads < 1:
        sys.exit(f"error: --threads must be at least 1, got {args.threads}")
    if args.threads:
        torch.set_num_threads(args.threads)
    with cli_errors():
        out = init_checkpoint(args.train, args.tokenizer, args.out, config=args.config, window=args.window,
                              seed=args.seed, force=args.force)
    info = json.loads((out / "embed_init.json").read_text())
    print(f"wrote {out}: {info['pieces_read']:,} pieces read; {info['vocab_pieces_seen']:,} vocabulary pieces got "
          f"corpus embeddings ({info['embedding_size']} dims), the rest keep random ones")


if __name__ == "__main__":
    main()
