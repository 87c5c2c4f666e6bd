#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
#
# Issue 21, the replication of the DAN study from a pretrained backbone on
# new seeds (plan: configs/dan/README.md, "Replication on new seeds"). One
# command:
#
#   bash tools/analysis_tools/studies/dan_pretrained_replication.sh [WORK_DIR] [JOBS]
#
# Runs dan_pretrained.sh first if its pretraining is missing (its data and
# checkpoint are reused), then the baseline and DAN on seeds 5-14 through
# compare_configs.py, in JOBS parallel streams (default 2, one per core; each
# stream its own seeds, so no run is shared), then one compare_configs.py
# call over seeds 5-14 that trains nothing and prints the per-seed values,
# means and the paired interval of the replication alone.
set -euo pipefail
cd "$(dirname "$0")/../../.."
WORK="${1:-work_dirs/study_dan_pretrained}"
JOBS="${2:-2}"
PY="${PYTHON:-python}"
BASE=configs/dan/linear_resnet18-w32-synpre_1xb32-10e_synthetic-rafdb-100px.py
DAN=configs/dan/dan_resnet18-w32-synpre_1xb32-10e_synthetic-rafdb-100px.py
if [[ ! -f "$WORK/pretrain/epoch_20.pth" || ! -f "$WORK/data/fer_mm_synthetic.json" ]]; then
  bash tools/analysis_tools/studies/dan_pretrained.sh "$WORK" 0 >/dev/null
fi
DATA="$WORK/data"
OPTS=(
  "train_dataloader.dataset.data_root=$DATA"
  "val_dataloader.dataset.data_root=$DATA"
  "test_dataloader.dataset.data_root=$DATA"
  "model.backbone.init_cfg.checkpoint=$WORK/pretrain/epoch_20.pth"
)
SEEDS=(5 6 7 8 9 10 11 12 13 14)
pids=()
for ((j = 0; j < JOBS; j++)); do
  mine=()
  for ((k = j; k < ${#SEEDS[@]}; k += JOBS)); do mine+=("${SEEDS[k]}"); done
  "$PY" tools/analysis_tools/compare_configs.py "$BASE" "$DAN" --seeds "${mine[@]}" \
    --amp --work-dir "$WORK/runs" --cfg-options "${OPTS[@]}" >"$WORK/replication_stream$j.log" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
echo "== replication: seeds ${SEEDS[*]} (judged alone)"
"$PY" tools/analysis_tools/compare_configs.py "$BASE" "$DAN" --seeds "${SEEDS[@]}" \
  --amp --work-dir "$WORK/runs" --cfg-options "${OPTS[@]}"
