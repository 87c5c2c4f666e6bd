#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
#
# Issue 21, DAN under occlusion and pose variation from a pretrained backbone
# (plan: configs/dan/README.md, "Study: occlusion and pose from a pretrained
# backbone"). One command:
#
#   bash tools/analysis_tools/studies/dan_pretrained.sh [WORK_DIR] [LAST_SEED]
#
# 1. the data of the second study (dan_occlusion_pose_v2.sh: 60 % occluded,
#    radii x1.3, pose x1.5, 3,067 training / 766 test images, data seed 0)
#    and the pretraining data: clean synthetic RAF-DB of data seed 1 (other
#    faces; no occluder, the default pose), the same sizes;
# 2. the pretraining: the second study's baseline config (half-width
#    ResNet-18 + GAP + linear, 20 epochs) on the clean data, seed 0, tested
#    on its own clean test split and on the occluded one (diagnostic);
# 3. the baseline and DAN, both with that backbone, fine-tuned 10 epochs on
#    the occluded data through compare_configs.py, one seed at a time for
#    both models (seeds 0 to LAST_SEED, default 4); finished runs are reused;
# 4. the regime check: the fine-tuned baseline's training loss in its last
#    epoch (< 1.20 in every seed), and DAN's loss terms beside it.
# Prints per-seed values, mean +- std and the paired difference DAN -
# baseline with its 95 % CI after every seed.
set -euo pipefail
cd "$(dirname "$0")/../../.."
WORK="${1:-work_dirs/study_dan_pretrained}"
LAST="${2:-4}"
DATA="$WORK/data"
PRE_DATA="$WORK/pretrain_data"
PY="${PYTHON:-python}"
SOURCE=configs/dan/linear_resnet18-w32_1xb32-20e_synthetic-rafdb-100px.py
BASE=configs/dan/linear_resnet18-w32-synpre_1xb32-10e_synthetic-rafdb-100px.py
DAN=configs/dan/dan_resnet18-w32-synpre_1xb32-10e_synthetic-rafdb-100px.py
if [[ ! -f "$DATA/fer_mm_synthetic.json" ]]; then
  "$PY" tools/misc/generate_synthetic.py "$DATA" --scale 0.25 --train-scale 0.25 \
    --occlusion 0.6 --occlusion-size 1.3 --pose-strength 1.5 --seed 0
fi
if [[ ! -f "$PRE_DATA/fer_mm_synthetic.json" ]]; then
  "$PY" tools/misc/generate_synthetic.py "$PRE_DATA" --scale 0.25 --train-scale 0.25 --seed 1
fi
roots() {
  echo "train_dataloader.dataset.data_root=$1" "val_dataloader.dataset.data_root=$1" \
    "test_dataloader.dataset.data_root=$1"
}
PRE="$WORK/pretrain"
if [[ ! -f "$PRE/epoch_20.pth" ]]; then
  resume=()
  [[ -f "$PRE/last_checkpoint" ]] && resume=(--resume)
  # shellcheck disable=SC2046
  "$PY" tools/train.py "$SOURCE" --work-dir "$PRE" --amp "${resume[@]}" \
    --cfg-options randomness.seed=0 $(roots "$PRE_DATA") >/dev/null
fi
echo "== the pretrained network (seed 0, 20 epochs on clean faces of data seed 1)"
for split in clean occluded; do
  root="$PRE_DATA"
  [[ $split == occluded ]] && root="$DATA"
  out="$PRE/test_$split"
  if [[ ! -f "$out/test/fer_metrics.json" ]]; then
    "$PY" tools/test.py "$SOURCE" "$PRE/epoch_20.pth" --work-dir "$out" \
      --cfg-options "test_dataloader.dataset.data_root=$root" >/dev/null
  fi
  "$PY" -c "import json, sys; m = json.load(open(sys.argv[1])); print(
    f'{sys.argv[2]} test split: accuracy {m[\"accuracy\"]:.2f}, macro F1 {m[\"macro_f1\"]:.2f}')" \
    "$out/test/fer_metrics.json" "$split"
done
# shellcheck disable=SC2207
OPTS=($(roots "$DATA") "model.backbone.init_cfg.checkpoint=$PRE/epoch_20.pth")
SEEDS=()
for seed in $(seq 0 "$LAST"); do
  SEEDS+=("$seed")
  echo "== seeds ${SEEDS[*]}"
  "$PY" tools/analysis_tools/compare_configs.py "$BASE" "$DAN" \
    --seeds "${SEEDS[@]}" --amp --work-dir "$WORK/runs" --cfg-options "${OPTS[@]}"
done
echo "== regime check: the baseline's training loss in its last epoch (plan: < 1.20)"
base_runs=() dan_runs=()
for seed in "${SEEDS[@]}"; do
  base_runs+=("$WORK/runs/$(basename "$BASE" .py)/seed$seed")
  dan_runs+=("$WORK/runs/$(basename "$DAN" .py)/seed$seed")
done
"$PY" tools/analysis_tools/last_epoch_losses.py "${base_runs[@]}" --check loss --below 1.20 || true
echo "== DAN's loss terms in its last epoch (diagnostic: loss_cls beside the baseline's loss)"
"$PY" tools/analysis_tools/last_epoch_losses.py "${dan_runs[@]}"
