# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# DAN's AffectNet recipe (yaoing/DAN affectnet.py): Adam lr 1e-4 without
# weight decay, the learning rate x0.6 after every epoch, 10 epochs,
# validation every epoch. The LSD configs reuse it (their paper gives none).
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4, weight_decay=0))
param_scheduler = [dict(type='ExponentialLR', by_epoch=True, gamma=0.6)]
train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=1)
val_cfg = dict()
test_cfg = dict()
