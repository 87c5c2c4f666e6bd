#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
#
# Issue 21, the second follow-up of the Mixup / MixAugment over-fitting study
# (plan: configs/mixaugment/README.md, "Follow-up: the long tail"): the
# regime of mixaugment_alpha1.sh (245 training / 766 clean test images,
# ResNet-18 from scratch at 64x64, batch 32, 40 epochs, alpha 1.0, seeds 0-4)
# with *balanced* classes in both splits (--long-tail 0), vanilla beside
# Mixup and MixAugment. One command:
#
#   bash tools/analysis_tools/studies/mixaugment_balanced.sh [WORK_DIR]
#
# Prints per-seed values, mean +- std, the paired differences to vanilla
# with 95 % CIs, then vanilla's training-split accuracy (the regime check).
# Finished runs are reused when the script is started again.
set -euo pipefail
cd "$(dirname "$0")/../../.."
WORK="${1:-work_dirs/study_mixaugment_balanced}"
DATA="$WORK/data"
PY="${PYTHON:-python}"
"$PY" tools/misc/generate_synthetic.py "$DATA" --scale 0.25 --train-scale 0.02 \
  --long-tail 0 --seed 0
EPOCHS=40
OPTS=(
  "train_dataloader.dataset.data_root=$DATA"
  "val_dataloader.dataset.data_root=$DATA"
  "test_dataloader.dataset.data_root=$DATA"
  "train_dataloader.batch_size=32"
  "train_cfg.max_epochs=$EPOCHS" "train_cfg.val_interval=$EPOCHS"
  "param_scheduler.0.end=$EPOCHS"
)
VANILLA=configs/mixaugment/vanilla_resnet18_1xb64-8e_synthetic-rafdb.py
"$PY" tools/analysis_tools/compare_configs.py \
  "$VANILLA" \
  configs/mixaugment/mixup-alpha1_resnet18_1xb64-8e_synthetic-rafdb.py \
  configs/mixaugment/mixaugment-alpha1_resnet18_1xb64-8e_synthetic-rafdb.py \
  --seeds 0 1 2 3 4 --amp --work-dir "$WORK/runs" --cfg-options "${OPTS[@]}"
# The regime check: vanilla's accuracy on its own training images.
for seed in 0 1 2 3 4; do
  run="$WORK/runs/vanilla_resnet18_1xb64-8e_synthetic-rafdb/seed$seed"
  out="$run/train_split"
  if [[ ! -f "$out/test/fer_metrics.json" ]]; then
    "$PY" tools/test.py "$VANILLA" "$(cat "$run/last_checkpoint")" --work-dir "$out" \
      --cfg-options "test_dataloader.dataset.data_root=$DATA" \
      test_dataloader.dataset.split=train >/dev/null
  fi
  "$PY" -c "import json,sys; m=json.load(open(sys.argv[1])); print(f'vanilla seed {sys.argv[2]}: train-split accuracy {m[\"accuracy\"]:.2f}')" \
    "$out/test/fer_metrics.json" "$seed"
done
