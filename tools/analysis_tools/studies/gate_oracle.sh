#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
#
# Issue 21, the oracle of the generators' quality gates (plans:
# configs/vaegan/README.md and configs/ecyclegan/README.md, "Study: quality
# gate"), shared by vaegan_gate.sh and ecyclegan_gate.sh. One command:
#
#   bash tools/analysis_tools/studies/gate_oracle.sh [GATE_DIR]
#
# 1. data: the built-in set (x0.25, seed 0), on which the generators train,
#    and an independent set of new faces (seed 1) on which the oracle trains,
#    so that the oracle has never seen the generators' source images;
# 2. the oracle: ResNet-18, the 30-epoch recipe, on the seed-1 training
#    split;
# 3. its reading of the seed-0 *test* images: the reference of the relative
#    gates (how often real faces of each class are recognised), written to
#    GATE_DIR/oracle_on_real_test.json.
# Finished steps are reused when the script is started again.
set -euo pipefail
cd "$(dirname "$0")/../../.."
WORK="${1:-work_dirs/study_vaegan_gate}"
PY="${PYTHON:-python}"
DATA="$WORK/data_seed0"
ORACLE_DATA="$WORK/data_seed1"
for seed in 0 1; do
  root="$WORK/data_seed$seed"
  if [[ ! -f "$root/fer_mm_synthetic.json" ]]; then
    "$PY" tools/misc/generate_synthetic.py "$root" --scale 0.25 --seed "$seed"
  fi
done
ORACLE_CFG=configs/resnet/resnet18_1xb64-30e_synthetic-rafdb.py
ORACLE_DIR="$WORK/oracle"
if [[ ! -f "$ORACLE_DIR/epoch_30.pth" ]]; then
  "$PY" tools/train.py "$ORACLE_CFG" --amp --work-dir "$ORACLE_DIR" --cfg-options \
    "train_dataloader.dataset.data_root=$ORACLE_DATA" \
    "val_dataloader.dataset.data_root=$ORACLE_DATA" \
    "test_dataloader.dataset.data_root=$ORACLE_DATA" randomness.seed=0
fi
REAL="$WORK/oracle_on_real_test.json"
if [[ ! -f "$REAL" ]]; then
  "$PY" tools/analysis_tools/generator_gate.py "$ORACLE_CFG" "$ORACLE_DIR/epoch_30.pth" \
    "$DATA" --split test --out "$REAL"
fi
