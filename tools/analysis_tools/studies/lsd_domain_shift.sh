#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
#
# Issue 21, the LSD multi-task study (plan: configs/lsd/README.md, "Study:
# multi-task on a shifted test domain"): the multi-task model (emotion +
# landmark branches) vs the emotion branch alone, at three training-set
# sizes, trained on the synthetic LSD layout and tested on its validation
# ("real") split rendered in a shifted domain (--test-domain-shift 1).
# One command:
#
#   bash tools/analysis_tools/studies/lsd_domain_shift.sh [WORK_DIR] [SCALE ...]
#
# (default scales 0.005 0.01 0.02; seeds from $SEEDS, default "0 1 2").
# For every scale: the shifted tree and an
# unshifted twin (the same training images; its validation split in the
# training domain), then compare_configs.py (per-seed values,
# paired difference to the emotion branch with a 95 % CI) on the shifted
# split, then every last checkpoint tested on the unshifted twin (the cost of
# the shift per model). Finished runs are reused when started again.
set -euo pipefail
cd "$(dirname "$0")/../../.."
WORK="${1:-work_dirs/study_lsd_domain_shift}"
shift || true
SCALES=("$@")
[[ ${#SCALES[@]} -gt 0 ]] || SCALES=(0.005 0.01 0.02)
PY="${PYTHON:-python}"
EMO=configs/lsd/lsd-emotion_resnet18-w32_1xb32-10e_synthetic-lsd.py
MT=configs/lsd/lsd-mtl_resnet18-w32_1xb32-10e_synthetic-lsd.py
read -r -a SEEDS <<< "${SEEDS:-0 1 2}"
for scale in "${SCALES[@]}"; do
  shifted="$WORK/data_$scale/shift1"
  plain="$WORK/data_$scale/shift0"
  for d in 1 0; do
    root="$WORK/data_$scale/shift$d"
    if [[ ! -f "$root/fer_mm_synthetic.json" ]]; then
      "$PY" tools/misc/generate_synthetic.py "$root" --layout lsd --scale "$scale" \
        --val-fraction 0.3 --seed 0 --test-domain-shift "$d"
    fi
  done
  echo "== scale $scale: tested on the shifted validation split"
  "$PY" tools/analysis_tools/compare_configs.py "$EMO" "$MT" --seeds "${SEEDS[@]}" \
    --amp --rare-class Disgust --work-dir "$WORK/runs_$scale" --cfg-options \
    "train_dataloader.dataset.data_root=$shifted" \
    "val_dataloader.dataset.data_root=$shifted" \
    "test_dataloader.dataset.data_root=$shifted"
  for cfg in "$EMO" "$MT"; do
    name="$(basename "$cfg" .py)"
    for seed in "${SEEDS[@]}"; do
      run="$WORK/runs_$scale/$name/seed$seed"
      out="$run/unshifted"
      if [[ ! -f "$out/test/fer_metrics.json" ]]; then
        "$PY" tools/test.py "$cfg" "$(cat "$run/last_checkpoint")" --work-dir "$out" \
          --cfg-options "test_dataloader.dataset.data_root=$plain" >/dev/null
      fi
    done
  done
  echo "== scale $scale: the same checkpoints on the unshifted validation split"
  "$PY" - "$WORK/runs_$scale" "$(basename "$EMO" .py)" "$(basename "$MT" .py)" "${SEEDS[@]}" <<'PY'
import json, os.path as osp, sys
from fer_mm.evaluation.paired_statistics import paired_difference
runs, emo, mt, seeds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def f1(name, seed, sub):
    p = osp.join(runs, name, f'seed{seed}', *sub, 'fer_metrics.json')
    return json.load(open(p))['macro_f1']
rows = {}
for name in (emo, mt):
    shifted = [f1(name, s, ('test',)) for s in seeds]
    plain = [f1(name, s, ('unshifted', 'test')) for s in seeds]
    rows[name] = (shifted, plain)
    drop = [b - a for a, b in zip(shifted, plain)]
    print(f'{name}: macro F1 unshifted {", ".join(f"{v:.2f}" for v in plain)}; '
          f'shifted {", ".join(f"{v:.2f}" for v in shifted)}; '
          f'cost of the shift {", ".join(f"{v:.2f}" for v in drop)}')
for label, k in (('unshifted', 1), ('shifted', 0)):
    d = paired_difference(rows[mt][k], rows[emo][k])
    print(f'multi-task - emotion branch, {label}: {d["mean"]:+.2f} '
          f'[{d["ci_low"]:+.2f}, {d["ci_high"]:+.2f}]')
cost = lambda n: [b - a for a, b in zip(*rows[n])]
d = paired_difference(cost(mt), cost(emo))
print(f'cost of the shift, multi-task - emotion branch: {d["mean"]:+.2f} '
      f'[{d["ci_low"]:+.2f}, {d["ci_high"]:+.2f}] (negative: multi-task loses less)')
PY
done
