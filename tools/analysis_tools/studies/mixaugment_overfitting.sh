#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
#
# Issue 21, Mixup / MixAugment in an over-fitting regime (plan:
# configs/mixaugment/README.md, "Study: over-fitting regime"). One command:
#
#   bash tools/analysis_tools/studies/mixaugment_overfitting.sh [WORK_DIR]
#
# 1. the data: synthetic RAF-DB, 245 training images (train_scale 0.02,
#    RAF-DB's long tail) and 766 clean test images (scale 0.25), seed 0;
# 2. vanilla, Mixup and MixAugment (alpha 0.1) ResNet-18 from scratch, 64x64,
#    batch 32, AdamW 1e-3 cosine, 40 epochs (320 steps), seeds 0-4, through
#    compare_configs.py (finished runs are reused when started again);
# 3. vanilla's last checkpoints evaluated on the *training* split (the
#    over-fitting check of the plan).
# Prints per-seed values, mean +- std and paired differences with 95 % CIs.
set -euo pipefail
cd "$(dirname "$0")/../../.."
WORK="${1:-work_dirs/study_mixaugment_overfitting}"
DATA="$WORK/data"
PY="${PYTHON:-python}"
"$PY" tools/misc/generate_synthetic.py "$DATA" --scale 0.25 --train-scale 0.02 --seed 0
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
  configs/mixaugment/mixup_resnet18_1xb64-8e_synthetic-rafdb.py \
  configs/mixaugment/mixaugment_resnet18_1xb64-8e_synthetic-rafdb.py \
  --seeds 0 1 2 3 4 --amp --work-dir "$WORK/runs" --cfg-options "${OPTS[@]}"
# The regime check: vanilla's accuracy on its own training images.
for seed in 0 1 2 3 4; do
  run="$WORK/runs/vanilla_resnet18_1xb64-8e_synthetic-rafdb/seed$seed"
  out="$run/train_split"
  if [[ ! -f "$out/test/fer_metrics.json" ]]; then
    "$PY" tools/test.py configs/mixaugment/vanilla_resnet18_1xb64-8e_synthetic-rafdb.py \
      "$(cat "$run/last_checkpoint")" --work-dir "$out" \
      --cfg-options "test_dataloader.dataset.data_root=$DATA" \
      test_dataloader.dataset.split=train >/dev/null
  fi
  "$PY" -c "import json,sys; m=json.load(open(sys.argv[1])); print(f'vanilla seed {sys.argv[2]}: train-split accuracy {m[\"accuracy\"]:.2f}')" \
    "$out/test/fer_metrics.json" "$seed"
done
