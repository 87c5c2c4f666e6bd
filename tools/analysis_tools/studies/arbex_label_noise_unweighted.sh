#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
#
# Issue 21, the follow-up of the ARBEx label-noise study (plan:
# configs/arbex/README.md, "Follow-up: label noise without class weights"):
# the 40 % symmetric-noise data of arbex_label_noise.sh, both models without
# class weights (plain cross-entropy; ARBExHead(class_weights=None)), the
# same budget and seeds 0-4. One command (it makes the data if
# arbex_label_noise.sh has not):
#
#   bash tools/analysis_tools/studies/arbex_label_noise_unweighted.sh [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/../../.."
WORK="${1:-work_dirs/study_arbex_label_noise}"
DATA="$WORK/data_noise0.4"
PY="${PYTHON:-python}"
if [[ ! -f "$DATA/fer_mm_synthetic.json" ]]; then
  "$PY" tools/misc/generate_synthetic.py "$DATA" --scale 0.25 --train-scale 0.1 \
    --label-noise 0.4 --noise-type symmetric --seed 0
fi
"$PY" tools/analysis_tools/compare_configs.py \
  configs/arbex/linear-unweighted_resnet18_1xb64-12e_synthetic-rafdb.py \
  configs/arbex/arbex-unweighted_resnet18_1xb64-12e_synthetic-rafdb.py \
  --seeds 0 1 2 3 4 --amp --work-dir "$WORK/runs_noise0.4_unweighted" \
  --cfg-options "train_dataloader.dataset.data_root=$DATA" \
  "val_dataloader.dataset.data_root=$DATA" \
  "test_dataloader.dataset.data_root=$DATA"
