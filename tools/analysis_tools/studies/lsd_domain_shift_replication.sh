#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
#
# Issue 21, the replication of the LSD multi-task study at the 0.02 size on
# new seeds (plan: configs/lsd/README.md, "Replication on new seeds"). One
# command:
#
#   bash tools/analysis_tools/studies/lsd_domain_shift_replication.sh [WORK_DIR] [JOBS]
#
# The emotion branch and the multi-task model on seeds 5-14 through
# compare_configs.py, in JOBS parallel streams (default 2, one per core; each
# stream its own seeds, so no run is shared), on the data of
# lsd_domain_shift.sh (made by it when missing); then lsd_domain_shift.sh
# over seeds 5-14 alone, which trains nothing more and prints the per-seed
# values, the paired interval on the shifted split (the verdict), the
# unshifted twin and the cost of the shift.
set -euo pipefail
cd "$(dirname "$0")/../../.."
WORK="${1:-work_dirs/study_lsd_domain_shift}"
JOBS="${2:-2}"
PY="${PYTHON:-python}"
SCALE=0.02
EMO=configs/lsd/lsd-emotion_resnet18-w32_1xb32-10e_synthetic-lsd.py
MT=configs/lsd/lsd-mtl_resnet18-w32_1xb32-10e_synthetic-lsd.py
SEEDS=(5 6 7 8 9 10 11 12 13 14)
shifted="$WORK/data_$SCALE/shift1"
for d in 1 0; do
  root="$WORK/data_$SCALE/shift$d"
  if [[ ! -f "$root/fer_mm_synthetic.json" ]]; then
    "$PY" tools/misc/generate_synthetic.py "$root" --layout lsd --scale "$SCALE" \
      --val-fraction 0.3 --seed 0 --test-domain-shift "$d"
  fi
done
pids=()
for ((j = 0; j < JOBS; j++)); do
  mine=()
  for ((k = j; k < ${#SEEDS[@]}; k += JOBS)); do mine+=("${SEEDS[k]}"); done
  "$PY" tools/analysis_tools/compare_configs.py "$EMO" "$MT" --seeds "${mine[@]}" \
    --amp --rare-class Disgust --work-dir "$WORK/runs_$SCALE" --cfg-options \
    "train_dataloader.dataset.data_root=$shifted" \
    "val_dataloader.dataset.data_root=$shifted" \
    "test_dataloader.dataset.data_root=$shifted" >"$WORK/replication_stream$j.log" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
echo "== replication: seeds ${SEEDS[*]} (judged alone)"
SEEDS="${SEEDS[*]}" bash tools/analysis_tools/studies/lsd_domain_shift.sh "$WORK" "$SCALE"
