# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# ARBEx's recipe (arXiv 2305.01486, sec. 4.3): Adam lr 3e-4 without weight
# decay (anchors included), the learning rate x0.995 after every epoch of the
# paper. The configs set the number of epochs, and convert the decay when
# their epoch is not the paper's (arbex_posterv2_8xb32-285e_rafdb.py).
optim_wrapper = dict(optimizer=dict(type='Adam', lr=3e-4))
param_scheduler = [dict(type='ExponentialLR', gamma=0.995, by_epoch=True)]
train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=1)
val_cfg = dict()
test_cfg = dict()
