#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
#
# Issue 21, the ARBEx label-noise study from a pretrained backbone (plan:
# configs/arbex/README.md, "Study: label noise from a pretrained backbone").
# One command:
#
#   bash tools/analysis_tools/studies/arbex_pretrained.sh [WORK_DIR] [PRETRAIN_WORK_DIR]
#
# 1. the pretraining of the DAN study from a pretrained backbone (the
#    half-width ResNet-18, 20 epochs on clean faces of data seed 1), made by
#    dan_pretrained.sh when missing and reused otherwise;
# 2. a tree of data seed 0 faces (no occlusion, the DAN study's sizes) with
#    40 % symmetric training-label noise, clean test labels;
# 3. the linear baseline and ARBEx, both fine-tuned from that checkpoint,
#    seeds 0-4 (or $SEEDS), through compare_configs.py (per-seed values, paired
#    difference with a 95 % CI);
# 4. a diagnostic after the verdict: every ARBEx checkpoint read with its
#    primary distribution (model.head.test_mode=primary).
# Finished runs are reused when the script is started again.
set -euo pipefail
cd "$(dirname "$0")/../../.."
WORK="${1:-work_dirs/study_arbex_pretrained}"
PRE_WORK="${2:-work_dirs/study_dan_pretrained}"
PY="${PYTHON:-python}"
BASE=configs/dan/linear_resnet18-w32-synpre_1xb32-10e_synthetic-rafdb-100px.py
ARBEX=configs/arbex/arbex-unweighted_resnet18-w32-synpre_1xb32-10e_synthetic-rafdb-100px.py
CKPT="$PRE_WORK/pretrain/epoch_20.pth"
if [[ ! -f "$CKPT" ]]; then
  bash tools/analysis_tools/studies/dan_pretrained.sh "$PRE_WORK" -1
fi
DATA="$WORK/data_noise0.4"
if [[ ! -f "$DATA/fer_mm_synthetic.json" ]]; then
  "$PY" tools/misc/generate_synthetic.py "$DATA" --scale 0.25 --train-scale 0.25 \
    --label-noise 0.4 --noise-type symmetric --seed 0
fi
OPTS=(
  "train_dataloader.dataset.data_root=$DATA"
  "val_dataloader.dataset.data_root=$DATA"
  "test_dataloader.dataset.data_root=$DATA"
  "model.backbone.init_cfg.checkpoint=$CKPT"
)
read -r -a SEEDS <<< "${SEEDS:-0 1 2 3 4}"
"$PY" tools/analysis_tools/compare_configs.py "$BASE" "$ARBEX" --seeds "${SEEDS[@]}" \
  --amp --work-dir "$WORK/runs" --cfg-options "${OPTS[@]}"
echo "== diagnostic: the ARBEx checkpoints read with the primary distribution"
name="$(basename "$ARBEX" .py)"
for seed in "${SEEDS[@]}"; do
  run="$WORK/runs/$name/seed$seed"
  out="$run/primary"
  if [[ ! -f "$out/test/fer_metrics.json" ]]; then
    "$PY" tools/test.py "$ARBEX" "$(cat "$run/last_checkpoint")" --work-dir "$out" \
      --cfg-options "test_dataloader.dataset.data_root=$DATA" \
      model.head.test_mode=primary model.backbone.init_cfg=None >/dev/null
  fi
done
"$PY" - "$WORK/runs" "$(basename "$BASE" .py)" "$name" "${SEEDS[@]}" <<'PY'
import json, os.path as osp, sys
from fer_mm.evaluation.paired_statistics import paired_difference
runs, base, arbex, seeds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def f1(name, seed, *sub):
    return json.load(open(osp.join(runs, name, f'seed{seed}', *sub, 'fer_metrics.json')))['macro_f1']
b = [f1(base, s, 'test') for s in seeds]
c = [f1(arbex, s, 'test') for s in seeds]
p = [f1(arbex, s, 'primary', 'test') for s in seeds]
print('ARBEx primary reading, macro F1:', ', '.join(f'{v:.2f}' for v in p))
for label, x, y in (('primary - baseline', p, b), ('corrected - primary', c, p)):
    d = paired_difference(x, y)
    print(f'{label}: {d["mean"]:+.2f} [{d["ci_low"]:+.2f}, {d["ci_high"]:+.2f}]')
PY
