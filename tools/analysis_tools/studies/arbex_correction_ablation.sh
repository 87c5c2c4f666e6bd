#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
#
# Issue 21, the ablation of the ARBEx label-noise follow-up (plan:
# configs/arbex/README.md, "Ablation: the correction in training"): on the
# 40 % symmetric-noise data of arbex_label_noise.sh, without class weights,
# the same budget and seeds 0-4: the linear baseline, ARBEx as in the
# follow-up, and ARBEx with the reliability balancing off for the whole run
# (train_progress 0, primary prediction). One command (it makes the data if
# arbex_label_noise.sh has not):
#
#   bash tools/analysis_tools/studies/arbex_correction_ablation.sh [WORK_DIR]
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
  configs/arbex/arbex-unweighted-nocorrection_resnet18_1xb64-12e_synthetic-rafdb.py \
  --seeds 0 1 2 3 4 --amp --work-dir "$WORK/runs_noise0.4_ablation" \
  --cfg-options "train_dataloader.dataset.data_root=$DATA" \
  "val_dataloader.dataset.data_root=$DATA" \
  "test_dataloader.dataset.data_root=$DATA"
