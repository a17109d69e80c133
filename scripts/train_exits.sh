#!/usr/bin/env bash
# Adaptive depth on a sentiment model (issue 13): fine-tune with the classifier trained at every depth, choose the
# exit policy on 2,000 SST-2 train rows held out of fine-tuning, report on SST-2 dev (which, as for the bundled
# model, picked the checkpoint). Figures in docs/benchmarks.md ("Adaptive depth"). Run from the repository root;
# needs the stage 2b encoder of scripts/train_tasks.sh in runs/enc_stage2b/final.
set -euo pipefail
DATA=${DATA:-../shared/data}
RUNS=${RUNS:-runs}
N=$(wc -l < "$DATA/sst2/train.tsv")
head -n $((N - 2000)) "$DATA/sst2/train.tsv" > "$RUNS/sst2_train_minus2000.tsv"
(head -n 1 "$DATA/sst2/train.tsv"; tail -n 2000 "$DATA/sst2/train.tsv") > "$RUNS/sst2_train_last2000.tsv"
python -m albert_edge.finetune --task sequence-classification --train "$RUNS/sst2_train_minus2000.tsv" \
    --dev "$DATA/sst2/dev.tsv" --labels negative,positive --epochs 1.5 --lr 4e-4 --batch-size 64 --max-seq-len 128 \
    --eval-every 250 --precision bf16 --seed 0 --threads 1 --exit-loss --model "$RUNS/enc_stage2b/final" \
    --out "$RUNS/sst2_exits" --force
for LOSS in 0.005 0; do
    python -m albert_edge.export --model "$RUNS/sst2_exits" --int8 --stepwise --backend pte \
        --exit-calibration "$RUNS/sst2_train_last2000.tsv" --exit-max-loss "$LOSS" --eval-data "$DATA/sst2/dev.tsv" \
        --threads 1 --out "$RUNS/sst2_exits_int8_loss$LOSS" --force
    OMP_WAIT_POLICY=PASSIVE python scripts/stepwise_probe.py "$RUNS/sst2_exits_int8_loss$LOSS" --threads 2 --seq \
        --adaptive-data "$DATA/sst2/dev.tsv"
done

# The PABEE setting on the same encoder and rows: one exit head per depth trained with the body (--exit-heads
# --exit-loss), the strict policy (--exit-max-loss 0) chosen on the held-out rows; then the harness's depth sweep on
# both exports (figures in docs/benchmarks.md, "Shared classifier or per-depth heads, one body").
python -m albert_edge.finetune --task sequence-classification --train "$RUNS/sst2_train_minus2000.tsv" \
    --dev "$DATA/sst2/dev.tsv" --labels negative,positive --epochs 1.5 --lr 4e-4 --batch-size 64 --max-seq-len 128 \
    --eval-every 250 --precision bf16 --seed 0 --threads 1 --exit-loss --exit-heads --model "$RUNS/enc_stage2b/final" \
    --out "$RUNS/sst2_exit_heads_joint" --force
python -m albert_edge.export --model "$RUNS/sst2_exit_heads_joint" --int8 --stepwise --backend pte \
    --exit-calibration "$RUNS/sst2_train_last2000.tsv" --exit-max-loss 0 --eval-data "$DATA/sst2/dev.tsv" \
    --threads 1 --out "$RUNS/sst2_exit_heads_joint_int8" --force
for EXPORT in sst2_exits_int8_loss0 sst2_exit_heads_joint_int8; do
    OMP_WAIT_POLICY=PASSIVE python -m albert_edge.bench "$RUNS/$EXPORT" --depth-data "$DATA/sst2/dev.tsv" \
        --backends none --peers none --no-ceiling --threads 1,2 --out "$RUNS/bench_depth_$EXPORT"
done
