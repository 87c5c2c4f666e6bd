#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
#
# Issue 21, the quality gate of ECycleGAN (plan: configs/ecyclegan/README.md,
# "Study: quality gate"): are Neutral faces translated to Disgust read as
# Disgust by an independent oracle? One command:
#
#   bash tools/analysis_tools/studies/ecyclegan_gate.sh [WORK_DIR] [VAEGAN_GATE_DIR] [ID_WEIGHT]
#
# (ID_WEIGHT: the identity loss weight, absolute; default the config's 5 =
# 0.5 x the cycle weight 10. The second plan runs
#   bash tools/analysis_tools/studies/ecyclegan_gate.sh \
#       work_dirs/study_ecyclegan_gate_id0 work_dirs/study_vaegan_gate 0;
# the length and the checkpoint spacing come from $ITERS and $EVERY, default
# 1500 and 500; the third plan runs
#   ITERS=4500 EVERY=750 bash tools/analysis_tools/studies/ecyclegan_gate.sh \
#       work_dirs/study_ecyclegan_gate_id0_4500 work_dirs/study_vaegan_gate 0)
#
# 1. the data, the oracle and its reference on real test faces are those of
#    vaegan_gate.sh (gate_oracle.sh, run here first if they are missing; the
#    VAE-GAN itself is not needed);
# 2. the tiny ECycleGAN on the seed-0 training split, $ITERS iterations (the
#    learning rate decays linearly over the second half), a checkpoint every
#    $EVERY (a killed run resumes);
# 3. at every checkpoint 200 Neutral training faces (seed 0) translated to
#    Disgust and read by the oracle: the relative gate (0.8 x the real share).
# Finished steps are reused when the script is started again.
set -euo pipefail
cd "$(dirname "$0")/../../.."
WORK="${1:-work_dirs/study_ecyclegan_gate}"
GATE="${2:-work_dirs/study_vaegan_gate}"
ID_WEIGHT="${3:-}"
PY="${PYTHON:-python}"
DATA="$GATE/data_seed0"
ORACLE_CFG=configs/resnet/resnet18_1xb64-30e_synthetic-rafdb.py
ORACLE_CKPT="$GATE/oracle/epoch_30.pth"
REAL="$GATE/oracle_on_real_test.json"
bash tools/analysis_tools/studies/gate_oracle.sh "$GATE"
ITERS="${ITERS:-1500}"
EVERY="${EVERY:-500}"
[[ $((ITERS % EVERY)) == 0 ]] || { echo "ITERS=$ITERS is not a multiple of EVERY=$EVERY" >&2; exit 2; }
GAN_CFG=configs/ecyclegan/ecyclegan_rrdb2x3-tiny_1xb4-300iters_synthetic-rafdb-neutral2disgust.py
GAN_DIR="$WORK/ecyclegan"
GAN_OPTS=(
  "train_dataloader.dataset.dataset.data_root=$DATA"
  "train_cfg.max_iters=$ITERS"
  "param_scheduler.begin=$((ITERS / 2))" "param_scheduler.end=$ITERS"
  "default_hooks.checkpoint.interval=$EVERY"
  default_hooks.checkpoint.max_keep_ckpts=-1 "default_hooks.logger.interval=100"
  randomness.seed=0
)
if [[ "$ID_WEIGHT" == 0 ]]; then
  GAN_OPTS+=(model.id_loss=None) # the term removed (not computed at weight 0)
elif [[ -n "$ID_WEIGHT" ]]; then
  GAN_OPTS+=("model.id_loss.loss_weight=$ID_WEIGHT")
fi
if [[ ! -f "$GAN_DIR/iter_$ITERS.pth" ]]; then
  resume=()
  [[ -f "$GAN_DIR/last_checkpoint" ]] && resume=(--resume)
  "$PY" tools/train.py "$GAN_CFG" --work-dir "$GAN_DIR" "${resume[@]}" \
    --cfg-options "${GAN_OPTS[@]}"
fi
for it in $(seq "$EVERY" "$EVERY" "$ITERS"); do
  out="$WORK/translated/iter_$it"
  if [[ ! -f "$out/generator_gate.json" ]]; then
    rm -rf "$out"
    "$PY" tools/generative/ecyclegan_translate.py "$GAN_CFG" "$GAN_DIR/iter_$it.pth" "$out" \
      --num 200 --seed 0 --no-progress \
      --cfg-options "train_dataloader.dataset.dataset.data_root=$DATA" >/dev/null
    echo "== ECycleGAN iteration $it: 200 Neutral faces translated to Disgust"
    "$PY" tools/analysis_tools/generator_gate.py "$ORACLE_CFG" "$ORACLE_CKPT" "$out" \
      --classes Disgust --threshold 0.8 --reference "$REAL"
  fi
done
echo "== summary: share read as Disgust (gate: 0.8 x the real share)"
"$PY" - "$WORK" "$ITERS" "$EVERY" "$REAL" <<'PY'
import json, os.path as osp, sys
work, iters, every, real = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ref = json.load(open(real))['shares']['Disgust']['share']
print(f'real Disgust test faces read as Disgust: {100 * ref:.1f} %; required {80 * ref:.1f} %')
for it in range(every, iters + 1, every):
    r = json.load(open(osp.join(work, 'translated', f'iter_{it}', 'generator_gate.json')))
    d = r['shares']['Disgust']
    lo, hi = d['ci95']
    read = ', '.join(f'{k} {v}' for k, v in sorted(d['read_as'].items(), key=lambda kv: -kv[1]))
    word = 'PASSED' if r['passed'] else 'failed'
    print(f'iteration {it}: {100 * d["share"]:.1f} % [{100 * lo:.1f}, {100 * hi:.1f}] '
          f'-> {word}; read as: {read}')
PY
