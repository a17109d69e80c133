"""Build the task encoder's pretraining corpus (scripts/train_tasks.sh, stage 0): unlabelled text only.

Writes, under OUT (default runs/corpus):
  squad_train_contexts.txt   SQuAD v1.1 *training* contexts, one paragraph a line, one article a document
  conll_train_sentences.txt  CoNLL-2003 *train* sentences (tokens joined by spaces), one document
  encoder_corpus.txt.gz      every document of the novels, ELTeC and the two files above, in one seeded shuffled
                             order, blank lines between documents (the pretraining stream reads files in order, so
                             mixing here keeps the Wikipedia and news text from arriving only at the end)
Nothing from SST-2, the SQuAD dev articles, CoNLL valid or WikiText goes in: those are for evaluation.

    python scripts/make_task_corpus.py --data ../shared/data --out runs/corpus
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from pathlib import Path


def read_documents(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        text = f.read()
    return [doc.strip("\n") for doc in text.split("\n\n") if doc.strip()]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--out", default="runs/corpus")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    data, out = Path(args.data), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    with gzip.open(data / "squad/train-v1.1-reconstructed.json.gz", "rt", encoding="utf-8") as f:
        squad = json.load(f)["data"]
    articles = ["\n".join(p["context"].strip().replace("\n", " ") for p in a["paragraphs"]) for a in squad]
    (out / "squad_train_contexts.txt").write_text("\n\n".join(articles) + "\n", encoding="utf-8")

    sentences, words = [], []
    for line in (data / "conll2003/train.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            words.append(line.split(" ")[0])
        elif words:
            sentences.append(" ".join(words))
            words = []
    if words:
        sentences.append(" ".join(words))
    (out / "conll_train_sentences.txt").write_text("\n".join(sentences) + "\n", encoding="utf-8")

    documents = read_documents(data / "corpus/novels_train.txt.gz")
    documents += read_documents(data / "corpus/eltec_eng_train.txt.gz")
    documents += articles + ["\n".join(sentences)]
    random.Random(args.seed).shuffle(documents)
    with gzip.open(out / "encoder_corpus.txt.gz", "wt", encoding="utf-8", compresslevel=6) as f:
        f.write("\n\n".join(documents) + "\n")
    print(f"{len(documents)} documents ({len(articles)} SQuAD train articles, {len(sentences)} CoNLL train sentences)")


if __name__ == "__main__":
    main()
