# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# DAN from scratch on the built-in synthetic set (RAF-DB layout, 64x64 input,
# so the attention heads see a 2x2 map), with the demo's schedule; sized for
# a quick CPU run with --amp. Compare with
# configs/resnet/resnet18_1xb64-30e_synthetic-rafdb.py.
_base_ = [
    '../_base_/models/dan_resnet18.py',
    '../_base_/datasets/synthetic_rafdb_bs64.py',
    '../_base_/schedules/fer_bs64_adamw_30e.py',
    '../_base_/default_runtime.py',
]
