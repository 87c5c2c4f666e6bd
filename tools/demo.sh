#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The demo (`make demo`): synthetic RAF-DB-layout set -> ResNet-18 trained
# from scratch through tools/train.py -> tools/test.py metrics and a
# confusion-matrix PNG. Run inside the project environment (make demo does).
#
# `--amp` picks the precision by the hardware: bf16 autocast on CPUs with
# native bf16 (AMX / AVX-512-BF16), float32 elsewhere (emulated bf16 is ~24x
# slower). DEMO_AMP_DTYPE=float32|bfloat16 forces one.
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${CONFIG:-configs/resnet/resnet18_1xb64-6e_synthetic-rafdb-48px.py}
DATA=${DATA:-data/synthetic_rafdb}
WORK=${WORK:-work_dirs/demo}
SCALE=${SCALE:-0.25}
AMP_DTYPE=${DEMO_AMP_DTYPE:-auto}
t0=$(date +%s)

python - <<'PY'
from fer_mm.utils.precision import describe_cpu, cpu_has_native_bf16
print('== CPU:', describe_cpu())
print('   precision with --amp:',
      'bf16 autocast (native)' if cpu_has_native_bf16() else
      'float32 (no native bf16 on this CPU)')
PY

echo "== 1/3 synthetic set ($DATA, scale $SCALE)"
python tools/misc/generate_synthetic.py "$DATA" --scale "$SCALE" --seed 0
t1=$(date +%s)

echo "== 2/3 training ($CONFIG)"
rm -rf "$WORK"
python tools/train.py "$CONFIG" --amp --amp-dtype "$AMP_DTYPE" --work-dir "$WORK" \
  --cfg-options train_dataloader.dataset.data_root="$DATA" \
  val_dataloader.dataset.data_root="$DATA" test_dataloader.dataset.data_root="$DATA"
t2=$(date +%s)

echo "== 3/3 testing the last checkpoint"
CKPT="$WORK/$(cat "$WORK/last_checkpoint" | xargs basename)"
python tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK" \
  --cfg-options test_dataloader.dataset.data_root="$DATA"
t3=$(date +%s)

python - "$WORK/test/fer_metrics.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
n = len(m['evaluated_classes'])
print('\n== demo metrics (synthetic RAF-DB test split)')
for k in ('accuracy', 'average_accuracy', 'macro_f1', 'mAP'):
    print(f'  {k:17s} {m[k]:6.2f}')
print(f'  (chance: average accuracy {100 / n:.2f} for {n} classes)')
print('  per-class F1     ' + ', '.join(
    f'{c} {v:.1f}' for c, v in zip(m['evaluated_classes'], m['f1'])))
PY
echo "  confusion matrix  $WORK/test/confusion_matrix.png"
echo "  wall time         $((t3 - t0)) s (data $((t1 - t0)) s, training $((t2 - t1)) s, test $((t3 - t2)) s)"
