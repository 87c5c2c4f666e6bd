#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The demo (`make demo`): synthetic RAF-DB-layout set -> ResNet-18 trained with
# bf16 autocast through tools/train.py -> tools/test.py metrics and a
# confusion-matrix PNG. Run inside the project environment (make demo does).
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=configs/resnet/resnet18_1xb64-30e_synthetic-rafdb.py
DATA=${DATA:-data/synthetic_rafdb}
WORK=${WORK:-work_dirs/demo}
SCALE=${SCALE:-0.25}
t0=$(date +%s)

echo "== 1/3 synthetic set ($DATA, scale $SCALE)"
python tools/misc/generate_synthetic.py "$DATA" --scale "$SCALE" --seed 0

echo "== 2/3 training ($CONFIG, bf16 autocast on CPU)"
rm -rf "$WORK"
python tools/train.py "$CONFIG" --amp --work-dir "$WORK" \
  --cfg-options train_dataloader.dataset.data_root="$DATA" \
  val_dataloader.dataset.data_root="$DATA" test_dataloader.dataset.data_root="$DATA"

echo "== 3/3 testing the last checkpoint"
CKPT="$WORK/$(cat "$WORK/last_checkpoint" | xargs basename)"
python tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK" \
  --cfg-options test_dataloader.dataset.data_root="$DATA"

python - "$WORK/test/fer_metrics.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print('\n== demo metrics (synthetic RAF-DB test split)')
for k in ('accuracy', 'average_accuracy', 'macro_f1', 'mAP'):
    print(f'  {k:17s} {m[k]:6.2f}')
print('  per-class F1     ' + ', '.join(
    f'{c} {v:.1f}' for c, v in zip(m['evaluated_classes'], m['f1'])))
PY
echo "  confusion matrix  $WORK/test/confusion_matrix.png"
echo "  wall time         $(( $(date +%s) - t0 )) s"
