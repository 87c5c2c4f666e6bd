# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The ablation of the label-noise follow-up (README.md, "Ablation: the
# correction in training"): arbex-unweighted_resnet18_1xb64-12e_synthetic-rafdb.py
# with the reliability balancing switched off for the whole run. With the
# progress t fixed at 0 the trained distribution is the primary one
# (p_hat = (1 - t) p + t (c p + (1 - c) corr) = p), the anchor and centre
# losses are weighted by t (zero), and the prediction is the primary head's
# (test_mode='primary': the anchors are never trained, so a corrected
# prediction would mean nothing). What is left is ARBEx's MLP primary head
# and its class loss on the same backbone and budget.
_base_ = ['./arbex-unweighted_resnet18_1xb64-12e_synthetic-rafdb.py']
model = dict(head=dict(train_progress=0.0, test_mode='primary'))
