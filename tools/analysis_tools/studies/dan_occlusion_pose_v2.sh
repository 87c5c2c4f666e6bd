#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
#
# Issue 21, DAN under occlusion and pose variation, second plan (plan:
# configs/dan/README.md, "Study: occlusion and pose, second plan"). One
# command:
#
#   bash tools/analysis_tools/studies/dan_occlusion_pose_v2.sh [WORK_DIR] [LAST_SEED]
#
# 1. the data: synthetic RAF-DB with an occluder on 60 % of the faces (radii
#    x1.3) and the pose ranges x1.5, in training and test alike; 3,067
#    training images (train_scale 0.25) and 766 test images (scale 0.25),
#    data seed 0;
# 2. the baseline (half-width ResNet-18, global pooling, linear head) and
#    DAN (the same backbone, 4 attention heads, affinity and partition
#    losses) from scratch at 100x100, batch 32, 20 epochs, through
#    compare_configs.py, one seed at a time for both models (seeds 0 to
#    LAST_SEED, default 4), so that an interrupted study still has paired
#    seeds; finished runs are reused;
# 3. the regime check: the baseline's training loss as logged in its last
#    epoch, per seed (the plan requires < 1.20 in every seed).
# Prints per-seed values, mean +- std and the paired difference DAN -
# baseline with its 95 % CI after every seed.
set -euo pipefail
cd "$(dirname "$0")/../../.."
WORK="${1:-work_dirs/study_dan_occlusion_v2}"
LAST="${2:-4}"
DATA="$WORK/data"
PY="${PYTHON:-python}"
BASE=configs/dan/linear_resnet18-w32_1xb32-20e_synthetic-rafdb-100px.py
DAN=configs/dan/dan_resnet18-w32_1xb32-20e_synthetic-rafdb-100px.py
if [[ ! -f "$DATA/fer_mm_synthetic.json" ]]; then
  "$PY" tools/misc/generate_synthetic.py "$DATA" --scale 0.25 --train-scale 0.25 \
    --occlusion 0.6 --occlusion-size 1.3 --pose-strength 1.5 --seed 0
fi
OPTS=(
  "train_dataloader.dataset.data_root=$DATA"
  "val_dataloader.dataset.data_root=$DATA"
  "test_dataloader.dataset.data_root=$DATA"
)
SEEDS=()
for seed in $(seq 0 "$LAST"); do
  SEEDS+=("$seed")
  echo "== seeds ${SEEDS[*]}"
  "$PY" tools/analysis_tools/compare_configs.py "$BASE" "$DAN" \
    --seeds "${SEEDS[@]}" --amp --work-dir "$WORK/runs" --cfg-options "${OPTS[@]}"
done
echo "== regime check: the baseline's training loss in its last epoch (plan: < 1.20)"
runs=()
for seed in "${SEEDS[@]}"; do
  runs+=("$WORK/runs/$(basename "$BASE" .py)/seed$seed")
done
"$PY" tools/analysis_tools/last_epoch_losses.py "${runs[@]}" --check loss --below 1.20 || true
