#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
#
# Issue 21, ARBEx under label noise (plan: configs/arbex/README.md, "Study:
# label noise"). One command:
#
#   bash tools/analysis_tools/studies/arbex_label_noise.sh [WORK_DIR]
#
# 1. the data: synthetic RAF-DB, 1,226 training images (train_scale 0.1)
#    and 766 clean test images (scale 0.25), data seed 0, written twice:
#    with clean training labels and with 40 % symmetric training-label noise
#    (the same images; the true labels kept in EmoLabel/true_labels.txt);
# 2. at each noise rate, the baseline (ResNet-18, global pooling, linear
#    head, class-weighted cross-entropy) and ARBEx (the same ResNet-18 and
#    class weights, ARBExHead) from scratch at 64x64, batch 64, AdamW 1e-3
#    cosine, 12 epochs, seeds 0-4, through compare_configs.py (finished runs
#    are reused when started again).
# Prints per-seed values, mean +- std and the paired difference ARBEx -
# baseline with its 95 % CI at each noise rate, and the realised noise rate.
set -euo pipefail
cd "$(dirname "$0")/../../.."
WORK="${1:-work_dirs/study_arbex_label_noise}"
PY="${PYTHON:-python}"
for noise in 0 0.4; do
  DATA="$WORK/data_noise$noise"
  if [[ ! -f "$DATA/fer_mm_synthetic.json" ]]; then
    "$PY" tools/misc/generate_synthetic.py "$DATA" --scale 0.25 --train-scale 0.1 \
      --label-noise "$noise" --noise-type symmetric --seed 0
  fi
  "$PY" - "$DATA" <<'PY'
import os.path as osp
import sys

root = osp.join(sys.argv[1], 'basic', 'EmoLabel')


def read(name):
    with open(osp.join(root, name)) as f:
        return dict(line.split() for line in f if line.startswith('train'))


written = read('list_patition_label.txt')
true_path = osp.join(root, 'true_labels.txt')
true = read('true_labels.txt') if osp.isfile(true_path) else written
flipped = sum(written[k] != true[k] for k in written)
print(f'{sys.argv[1]}: {flipped} of {len(written)} training labels differ '
      f'from the true ones ({100 * flipped / len(written):.2f} %)')
PY
  echo "== training-label noise $noise =="
  "$PY" tools/analysis_tools/compare_configs.py \
    configs/arbex/linear_resnet18_1xb64-12e_synthetic-rafdb.py \
    configs/arbex/arbex_resnet18_1xb64-12e_synthetic-rafdb.py \
    --seeds 0 1 2 3 4 --amp --work-dir "$WORK/runs_noise$noise" \
    --cfg-options "train_dataloader.dataset.data_root=$DATA" \
    "val_dataloader.dataset.data_root=$DATA" \
    "test_dataloader.dataset.data_root=$DATA"
done
