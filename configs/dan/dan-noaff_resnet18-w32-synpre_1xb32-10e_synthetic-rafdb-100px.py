# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# An ablation of the third occlusion / pose study (README.md, "Ablation: the
# affinity loss"): dan_resnet18-w32-synpre_1xb32-10e_synthetic-rafdb-100px.py
# without the affinity loss (and so without its learnable class centres);
# cross-entropy and partition loss as in DAN. Not the paper's method.
_base_ = ['./dan_resnet18-w32-synpre_1xb32-10e_synthetic-rafdb-100px.py']
model = dict(head=dict(loss_affinity=None))
