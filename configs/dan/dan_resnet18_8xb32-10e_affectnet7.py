# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# DAN on AffectNet-7: the AffectNet-8 recipe without Contempt, read from the
# same tree (data/affectnet as distributed); the AffectNet dataset drops the
# Contempt rows (id 7) and counts them in the log, as the reference drops
# folder 7 of its class-folder tree.
_base_ = ['./dan_resnet18_8xb32-10e_affectnet8.py']

from fer_mm.datasets.categories import AFFECTNET_CATEGORIES  # noqa: E402

classes = AFFECTNET_CATEGORIES[:7]  # ids 0..6, Contempt (7) left out
del AFFECTNET_CATEGORIES  # a config key only once, as `classes`
num_classes = 7

model = dict(head=dict(num_classes=num_classes))
data_preprocessor = dict(num_classes=num_classes)
train_dataloader = dict(dataset=dict(classes=classes))
val_dataloader = dict(dataset=dict(classes=classes))
test_dataloader = val_dataloader
