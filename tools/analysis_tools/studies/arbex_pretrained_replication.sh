#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
#
# Issue 21, the replication of the ARBEx label-noise study from a pretrained
# backbone on new seeds (plan: configs/arbex/README.md, "Replication on new
# seeds"). One command:
#
#   bash tools/analysis_tools/studies/arbex_pretrained_replication.sh [WORK_DIR] [JOBS]
#
# The linear baseline and ARBEx on seeds 5-14 through compare_configs.py, in
# JOBS parallel streams (default 2, one per core; each stream its own seeds),
# on the data and pretraining checkpoint of arbex_pretrained.sh; then
# arbex_pretrained.sh over seeds 5-14 alone, which trains nothing more and
# prints the per-seed values, the paired interval (the verdict) and the
# primary-distribution diagnostic.
set -euo pipefail
cd "$(dirname "$0")/../../.."
WORK="${1:-work_dirs/study_arbex_pretrained}"
JOBS="${2:-2}"
PRE_WORK=work_dirs/study_dan_pretrained
PY="${PYTHON:-python}"
BASE=configs/dan/linear_resnet18-w32-synpre_1xb32-10e_synthetic-rafdb-100px.py
ARBEX=configs/arbex/arbex-unweighted_resnet18-w32-synpre_1xb32-10e_synthetic-rafdb-100px.py
DATA="$WORK/data_noise0.4"
CKPT="$PRE_WORK/pretrain/epoch_20.pth"
if [[ ! -f "$CKPT" || ! -f "$DATA/fer_mm_synthetic.json" ]]; then
  SEEDS="0" bash tools/analysis_tools/studies/arbex_pretrained.sh "$WORK" "$PRE_WORK" >/dev/null
fi
OPTS=(
  "train_dataloader.dataset.data_root=$DATA"
  "val_dataloader.dataset.data_root=$DATA"
  "test_dataloader.dataset.data_root=$DATA"
  "model.backbone.init_cfg.checkpoint=$CKPT"
)
SEEDS=(5 6 7 8 9 10 11 12 13 14)
pids=()
for ((j = 0; j < JOBS; j++)); do
  mine=()
  for ((k = j; k < ${#SEEDS[@]}; k += JOBS)); do mine+=("${SEEDS[k]}"); done
  "$PY" tools/analysis_tools/compare_configs.py "$BASE" "$ARBEX" --seeds "${mine[@]}" \
    --amp --work-dir "$WORK/runs" --cfg-options "${OPTS[@]}" >"$WORK/replication_stream$j.log" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
echo "== replication: seeds ${SEEDS[*]} (judged alone)"
SEEDS="${SEEDS[*]}" bash tools/analysis_tools/studies/arbex_pretrained.sh "$WORK" "$PRE_WORK"
