#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
#
# Issue 21, the quality gate of the VAE-GAN (plan: configs/vaegan/README.md,
# "Study: quality gate"). Does a VAE-GAN trained on the built-in synthetic
# set write faces that keep their class? One command:
#
#   bash tools/analysis_tools/studies/vaegan_gate.sh [WORK_DIR]
#
# 1. data: the built-in set (x0.25, seed 0), on which the VAE-GAN trains, and
#    an independent set of new faces (seed 1) on which the oracle trains, so
#    that the oracle has never seen the generator's source images;
# 2. the oracle: ResNet-18, the 30-epoch recipe, on the seed-1 training
#    split; its recall per class on the seed-0 *test* images is the reference
#    (how often real faces of each class are recognised); steps 1-2 are
#    gate_oracle.sh, shared with ecyclegan_gate.sh;
# 3. the VAE-GAN (the CPU config, 6,000 iterations of 16, KL ramped over the
#    whole run), checkpoints every 1,500 iterations;
# 4. at every checkpoint, 200 images per class at s = 0.5 (the augmentation)
#    and at s = 0 (decoded code means, the generator's ceiling), each read by
#    the oracle: the relative gate (0.8 x the real-image share, every class).
# Finished steps are reused when the script is started again.
set -euo pipefail
cd "$(dirname "$0")/../../.."
WORK="${1:-work_dirs/study_vaegan_gate}"
PY="${PYTHON:-python}"
DATA="$WORK/data_seed0"
ITERS=6000
EVERY=1500
# the data, the oracle and its reading of the real test images
bash tools/analysis_tools/studies/gate_oracle.sh "$WORK"
ORACLE_CFG=configs/resnet/resnet18_1xb64-30e_synthetic-rafdb.py
ORACLE_CKPT="$WORK/oracle/epoch_30.pth"
REAL="$WORK/oracle_on_real_test.json"

GAN_CFG=configs/vaegan/vaegan_resnet18-biggan-tiny_1xb16-800iters_synthetic-rafdb-64x64.py
GAN_DIR="$WORK/vaegan"
if [[ ! -f "$GAN_DIR/iter_$ITERS.pth" ]]; then
  resume=()
  [[ -f "$GAN_DIR/last_checkpoint" ]] && resume=(--resume)
  "$PY" tools/train.py "$GAN_CFG" --work-dir "$GAN_DIR" "${resume[@]}" --cfg-options \
    "train_dataloader.dataset.data_root=$DATA" "train_cfg.max_iters=$ITERS" \
    "model.kl_loss.warmup_iters=$ITERS" "default_hooks.checkpoint.interval=$EVERY" \
    default_hooks.checkpoint.max_keep_ckpts=-1 "default_hooks.logger.interval=250"
fi

CLASSES=(Surprise Fear Disgust Happiness Sadness Anger Neutral)
for it in $(seq "$EVERY" "$EVERY" "$ITERS"); do
  for s in 0.5 0; do
    out="$WORK/generated/iter_$it/s$s"
    if [[ ! -f "$out/generator_gate.json" ]]; then
      rm -rf "$out"
      "$PY" tools/generative/vaegan_generate.py "$GAN_CFG" "$GAN_DIR/iter_$it.pth" "$out" \
        --classes "${CLASSES[@]}" --num 200 --strength "$s" --seed 0 \
        --cfg-options "train_dataloader.dataset.data_root=$DATA" >/dev/null
      echo "== VAE-GAN iteration $it, s = $s"
      "$PY" tools/analysis_tools/generator_gate.py "$ORACLE_CFG" "$ORACLE_CKPT" "$out" \
        --threshold 0.8 --reference "$REAL"
    fi
  done
done
echo "== the oracle on the real test images (the reference)"
"$PY" - "$REAL" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(', '.join(f"{k} {100 * v['share']:.1f} %" for k, v in r['shares'].items()))
PY
echo "== summary: keep share per class (relative gate 0.8 x the reference)"
"$PY" - "$WORK" "$ITERS" "$EVERY" <<'PY'
import json, os.path as osp, sys
work, iters, every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for it in range(every, iters + 1, every):
    for s in ('0.5', '0'):
        r = json.load(open(osp.join(work, 'generated', f'iter_{it}', f's{s}', 'generator_gate.json')))
        row = ', '.join(f"{k} {100 * v['share']:.1f}" for k, v in r['shares'].items())
        word = 'PASSED' if r['passed'] else 'failed: ' + ' '.join(r['failed_classes'])
        print(f'iteration {it}, s = {s}: {row} -> {word}')
PY
