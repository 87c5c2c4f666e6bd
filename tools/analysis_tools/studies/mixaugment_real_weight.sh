#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
#
# Issue 21, why MixAugment falls short of Mixup (plan:
# configs/mixaugment/README.md, "Follow-up: why MixAugment falls short of
# Mixup"): the balanced regime of mixaugment_balanced.sh (whose runs are
# reused: run it first, or this script trains them too) with one more
# model, MixAugment with its real terms weighted 0.25. One command:
#
#   bash tools/analysis_tools/studies/mixaugment_real_weight.sh [WORK_DIR]
#
# Prints the four models per seed, mean +- std and the paired differences
# to vanilla, then MixAugment (0.25) - MixAugment (1.0) and - Mixup.
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
M=configs/mixaugment
"$PY" tools/analysis_tools/compare_configs.py \
  "$M/vanilla_resnet18_1xb64-8e_synthetic-rafdb.py" \
  "$M/mixup-alpha1_resnet18_1xb64-8e_synthetic-rafdb.py" \
  "$M/mixaugment-alpha1_resnet18_1xb64-8e_synthetic-rafdb.py" \
  "$M/mixaugment-alpha1-real0.25_resnet18_1xb64-8e_synthetic-rafdb.py" \
  --seeds 0 1 2 3 4 --amp --work-dir "$WORK/runs" --cfg-options "${OPTS[@]}"
"$PY" - "$WORK/runs" <<'PY'
import json, os.path as osp, sys
from fer_mm.evaluation.paired_statistics import paired_difference
runs = sys.argv[1]
def f1(name):
    return [json.load(open(osp.join(runs, f'{name}_resnet18_1xb64-8e_synthetic-rafdb',
                                    f'seed{s}', 'test', 'fer_metrics.json')))['macro_f1']
            for s in range(5)]
new = f1('mixaugment-alpha1-real0.25')
for other in ('mixaugment-alpha1', 'mixup-alpha1'):
    d = paired_difference(new, f1(other))
    print(f'MixAugment (real_weight 0.25) - {other}: macro F1 {d["mean"]:+.2f} '
          f'[{d["ci_low"]:+.2f}, {d["ci_high"]:+.2f}]')
PY
