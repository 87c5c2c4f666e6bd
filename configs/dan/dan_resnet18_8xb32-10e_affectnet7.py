# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# DAN on AffectNet-7: the AffectNet-8 recipe without Contempt. The reference
# drops folder 7 from an 8-folder tree; CustomDataset needs a tree without it:
#   data/affectnet7/{train,val}/{0..6}/...  (e.g. symlinks to data/affectnet)
_base_ = ['./dan_resnet18_8xb32-10e_affectnet8.py']

from fer_mm.datasets.categories import AFFECTNET_CATEGORIES  # noqa: E402

classes = AFFECTNET_CATEGORIES[:7]  # ids 0..6, Contempt (7) left out
del AFFECTNET_CATEGORIES  # a config key only once, as `classes`
num_classes = 7
data_root = 'data/affectnet7'

model = dict(head=dict(num_classes=num_classes))
data_preprocessor = dict(num_classes=num_classes)
train_dataloader = dict(
    dataset=dict(data_root=data_root, metainfo=dict(classes=classes))
)
val_dataloader = dict(
    dataset=dict(data_root=data_root, metainfo=dict(classes=classes))
)
test_dataloader = val_dataloader
