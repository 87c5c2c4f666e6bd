#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
#
# Issue 21, the second stage of the LSD study (plan: configs/lsd/README.md,
# "Study: the bag of five at five times the budget"): at the 0.02 size of
# lsd_domain_shift.sh, three bags of 5 multi-task members, each on a 20 %
# subsample for 50 epochs (about the steps of one model on 100 %), soft-voted
# on the shifted validation split, against the single multi-task model of
# the same seed (trained by lsd_domain_shift.sh, which this script runs
# first if its runs are missing). One command:
#
#   bash tools/analysis_tools/studies/lsd_bag.sh [WORK_DIR]
#
# A restarted bag reuses its finished members (tools/train_bag.py). Prints
# every member's and every bag's macro F1, the single models', and the
# paired difference bag - single model with its 95 % CI.
set -euo pipefail
cd "$(dirname "$0")/../../.."
WORK="${1:-work_dirs/study_lsd_domain_shift}"
PY="${PYTHON:-python}"
MT=configs/lsd/lsd-mtl_resnet18-w32_1xb32-10e_synthetic-lsd.py
MEMBER=configs/lsd/lsd-mtl_resnet18-w32_1xb32-50e_synthetic-lsd.py
SHIFTED="$WORK/data_0.02/shift1"
PLAIN="$WORK/data_0.02/shift0"
SINGLE="$WORK/runs_0.02/$(basename "$MT" .py)"
BAGS=(0 1 2)
for s in "${BAGS[@]}"; do
  if [[ ! -f "$SINGLE/seed$s/test/fer_metrics.json" ]]; then
    bash tools/analysis_tools/studies/lsd_domain_shift.sh "$WORK" 0.02
  fi
done
for s in "${BAGS[@]}"; do
  bag="$WORK/bag_0.02/bag$s"
  "$PY" tools/train_bag.py "$MEMBER" --members 5 --fraction 0.2 \
    --seed $((10 * s + 1)) --work-dir "$bag" --cfg-options \
    "train_dataloader.dataset.data_root=$SHIFTED" \
    "val_dataloader.dataset.data_root=$SHIFTED" \
    "test_dataloader.dataset.data_root=$SHIFTED"
  for split in shifted unshifted; do
    root="$SHIFTED"
    [[ "$split" == unshifted ]] && root="$PLAIN"
    if [[ ! -f "$bag/ensemble_$split/ensemble_metrics.json" ]]; then
      "$PY" tools/analysis_tools/ensemble_test.py --bag "$bag/bag.json" \
        --work-dir "$bag/ensemble_$split" \
        --cfg-options "test_dataloader.dataset.data_root=$root"
    fi
  done
done
"$PY" - "$WORK" "$SINGLE" "${BAGS[@]}" <<'PY'
import json, os.path as osp, sys
from fer_mm.evaluation.paired_statistics import paired_difference
work, single, bags = sys.argv[1], sys.argv[2], sys.argv[3:]
def load(p):
    with open(p) as f:
        return json.load(f)
bag_f1, one_f1 = [], []
for s in bags:
    report = load(osp.join(work, 'bag_0.02', f'bag{s}', 'ensemble_shifted',
                           'ensemble_metrics.json'))
    plain = load(osp.join(work, 'bag_0.02', f'bag{s}', 'ensemble_unshifted',
                          'ensemble_metrics.json'))
    members = [m['fer/macro_f1'] for m in report['members']]
    bag_f1.append(report['ensemble']['fer/macro_f1'])
    one_f1.append(load(osp.join(single, f'seed{s}', 'test',
                                'fer_metrics.json'))['macro_f1'])
    print(f'bag {s}: members {", ".join(f"{v:.2f}" for v in members)} '
          f'(mean {sum(members) / len(members):.2f}); bag {bag_f1[-1]:.2f} '
          f'(unshifted {plain["ensemble"]["fer/macro_f1"]:.2f}); '
          f'single model seed {s}: {one_f1[-1]:.2f}')
d = paired_difference(bag_f1, one_f1)
print(f'bag - single model, shifted macro F1: {d["mean"]:+.2f} '
      f'[{d["ci_low"]:+.2f}, {d["ci_high"]:+.2f}] over {len(bags)} seeds')
PY
