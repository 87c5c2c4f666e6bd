#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
#
# Issue 21, the follow-up of the Mixup / MixAugment over-fitting study
# (plan: configs/mixaugment/README.md, "Follow-up: mixing strength"): the
# same regime as mixaugment_overfitting.sh (245 training / 766 clean test
# images, ResNet-18 from scratch at 64x64, batch 32, 40 epochs, seeds 0-4),
# with vanilla, Mixup alpha 1.0 and MixAugment alpha 1.0. One command:
#
#   bash tools/analysis_tools/studies/mixaugment_alpha1.sh [WORK_DIR]
#
# Prints per-seed values, mean +- std and the paired differences to vanilla
# with 95 % CIs (finished runs are reused when started again).
set -euo pipefail
cd "$(dirname "$0")/../../.."
WORK="${1:-work_dirs/study_mixaugment_alpha1}"
DATA="$WORK/data"
PY="${PYTHON:-python}"
if [[ ! -f "$DATA/fer_mm_synthetic.json" ]]; then
  "$PY" tools/misc/generate_synthetic.py "$DATA" --scale 0.25 --train-scale 0.02 --seed 0
fi
EPOCHS=40
OPTS=(
  "train_dataloader.dataset.data_root=$DATA"
  "val_dataloader.dataset.data_root=$DATA"
  "test_dataloader.dataset.data_root=$DATA"
  "train_dataloader.batch_size=32"
  "train_cfg.max_epochs=$EPOCHS" "train_cfg.val_interval=$EPOCHS"
  "param_scheduler.0.end=$EPOCHS"
)
"$PY" tools/analysis_tools/compare_configs.py \
  configs/mixaugment/vanilla_resnet18_1xb64-8e_synthetic-rafdb.py \
  configs/mixaugment/mixup-alpha1_resnet18_1xb64-8e_synthetic-rafdb.py \
  configs/mixaugment/mixaugment-alpha1_resnet18_1xb64-8e_synthetic-rafdb.py \
  --seeds 0 1 2 3 4 --amp --work-dir "$WORK/runs" --cfg-options "${OPTS[@]}"
