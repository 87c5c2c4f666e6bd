#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
#
# Issue 21, DAN under occlusion and pose variation (plan: configs/dan/README.md,
# "Study: occlusion and pose"). One command:
#
#   bash tools/analysis_tools/studies/dan_occlusion_pose.sh [WORK_DIR]
#
# 1. the data: synthetic RAF-DB with an occluder on 60 % of the faces (radii
#    x1.6) and the pose ranges x1.8, in training and test alike; 1,226
#    training images (train_scale 0.1) and 766 test images (scale 0.25),
#    data seed 0;
# 2. the baseline (ResNet-18, global pooling, linear head, cross-entropy)
#    and DAN (the same ResNet-18, 4 attention heads, affinity and partition
#    losses) from scratch at 100x100, batch 32, AdamW 1e-3, 12 epochs,
#    seeds 0-4, through compare_configs.py (finished runs are reused).
# Prints per-seed values, mean +- std and the paired difference DAN -
# baseline with its 95 % CI.
set -euo pipefail
cd "$(dirname "$0")/../../.."
WORK="${1:-work_dirs/study_dan_occlusion}"
DATA="$WORK/data"
PY="${PYTHON:-python}"
if [[ ! -f "$DATA/fer_mm_synthetic.json" ]]; then
  "$PY" tools/misc/generate_synthetic.py "$DATA" --scale 0.25 --train-scale 0.1 \
    --occlusion 0.6 --occlusion-size 1.6 --pose-strength 1.8 --seed 0
fi
OPTS=(
  "train_dataloader.dataset.data_root=$DATA"
  "val_dataloader.dataset.data_root=$DATA"
  "test_dataloader.dataset.data_root=$DATA"
)
"$PY" tools/analysis_tools/compare_configs.py \
  configs/dan/linear_resnet18_1xb32-12e_synthetic-rafdb-100px.py \
  configs/dan/dan_resnet18_1xb32-12e_synthetic-rafdb-100px.py \
  --seeds 0 1 2 3 4 --amp --work-dir "$WORK/runs" --cfg-options "${OPTS[@]}"
