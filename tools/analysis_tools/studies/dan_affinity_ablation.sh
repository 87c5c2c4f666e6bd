#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
#
# Issue 21, the affinity-loss ablation of the DAN study from a pretrained
# backbone (plan: configs/dan/README.md, "Ablation: the affinity loss").
# One command:
#
#   bash tools/analysis_tools/studies/dan_affinity_ablation.sh [WORK_DIR]
#
# Runs dan_pretrained.sh first (its data, pretraining and runs are reused),
# then DAN without the affinity loss on the same pretrained backbone, data
# and seeds 0-4, through compare_configs.py: once against the baseline
# (baseline, DAN, DAN without affinity) and once with DAN paired against
# the ablation (finished runs reused, so the second call trains nothing).
set -euo pipefail
cd "$(dirname "$0")/../../.."
WORK="${1:-work_dirs/study_dan_pretrained}"
PY="${PYTHON:-python}"
BASE=configs/dan/linear_resnet18-w32-synpre_1xb32-10e_synthetic-rafdb-100px.py
DAN=configs/dan/dan_resnet18-w32-synpre_1xb32-10e_synthetic-rafdb-100px.py
NOAFF=configs/dan/dan-noaff_resnet18-w32-synpre_1xb32-10e_synthetic-rafdb-100px.py
bash tools/analysis_tools/studies/dan_pretrained.sh "$WORK" 4 >/dev/null
DATA="$WORK/data"
OPTS=(
  "train_dataloader.dataset.data_root=$DATA"
  "val_dataloader.dataset.data_root=$DATA"
  "test_dataloader.dataset.data_root=$DATA"
  "model.backbone.init_cfg.checkpoint=$WORK/pretrain/epoch_20.pth"
)
echo "== baseline, DAN, DAN without the affinity loss (paired to the baseline)"
"$PY" tools/analysis_tools/compare_configs.py "$BASE" "$DAN" "$NOAFF" --seeds 0 1 2 3 4 \
  --amp --work-dir "$WORK/runs" --cfg-options "${OPTS[@]}"
echo "== DAN paired to DAN without the affinity loss"
"$PY" tools/analysis_tools/compare_configs.py "$NOAFF" "$DAN" --seeds 0 1 2 3 4 \
  --amp --work-dir "$WORK/runs" --cfg-options "${OPTS[@]}"
echo "== the ablation's loss terms in its last epoch"
runs=()
for seed in 0 1 2 3 4; do
  runs+=("$WORK/runs/$(basename "$NOAFF" .py)/seed$seed")
done
"$PY" tools/analysis_tools/last_epoch_losses.py "${runs[@]}"
