# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Registry names and head keywords renamed in fer_mm 0.2 keep working for one
release, with a DeprecationWarning that names the replacement."""

import warnings

import pytest
import torch
from mmpretrain.registry import MODELS

import fer_mm  # noqa: F401
from fer_mm.models import (
    ARBExAnchorLoss,
    DANAffinityLoss,
    DANPartitionLoss,
    LSDLandmarkMSELoss,
)

RENAMED = [
    ('AffinityLoss', DANAffinityLoss, dict(num_classes=3, feat_dim=2)),
    ('PartitionLoss', DANPartitionLoss, {}),
    ('AnchorLoss', ARBExAnchorLoss, {}),
    ('LandmarkMSELoss', LSDLandmarkMSELoss, {}),
]


@pytest.mark.parametrize('old, new_cls, args', RENAMED)
def test_old_name_builds_new_class_with_warning(old, new_cls, args):
    with pytest.warns(DeprecationWarning, match=f"type='{new_cls.__name__}'"):
        module = MODELS.build(dict(type=old, loss_weight=2.0, **args))
    assert isinstance(module, new_cls)
    assert module.loss_weight == 2.0
    # The new name is silent.
    with warnings.catch_warnings():
        warnings.simplefilter('error', DeprecationWarning)
        module = MODELS.build(dict(type=new_cls.__name__, **args))
    assert type(module) is new_cls


def test_old_name_computes_the_same_loss():
    heads = torch.tensor([[[1.0, 0.0], [0.0, 1.0]], [[2.0, 1.0], [1.0, 3.0]]])
    with pytest.warns(DeprecationWarning):
        old = MODELS.build(dict(type='PartitionLoss'))
    torch.testing.assert_close(old(heads), DANPartitionLoss()(heads))


def test_dan_head_old_keywords_warn_and_still_apply():
    with pytest.warns(
        DeprecationWarning, match='affinity_loss= .*loss_affinity='
    ):
        head = MODELS.build(
            dict(
                type='DANHead',
                num_classes=3,
                in_channels=4,
                loss=dict(type='CrossEntropyLoss', loss_weight=3.0),
                affinity_loss=None,
                partition_loss=dict(type='DANPartitionLoss', loss_weight=0.5),
            )
        )
    assert head.loss_module.loss_weight == 3.0
    assert head.affinity_loss is None
    assert head.partition_loss.loss_weight == 0.5


def test_dan_head_new_keywords_are_silent():
    with warnings.catch_warnings():
        warnings.simplefilter('error', DeprecationWarning)
        head = MODELS.build(
            dict(
                type='DANHead',
                num_classes=3,
                in_channels=4,
                loss_cls=dict(type='CrossEntropyLoss', loss_weight=3.0),
                loss_affinity=dict(type='DANAffinityLoss', loss_weight=0.25),
                loss_partition=None,
            )
        )
    assert head.loss_module.loss_weight == 3.0
    assert isinstance(head.affinity_loss, DANAffinityLoss)
    # num_classes / feat_dim filled from the head
    assert head.affinity_loss.centers.shape == (3, 4)
    assert head.affinity_loss.loss_weight == 0.25
    assert head.partition_loss is None


def test_head_old_and_new_keyword_together_is_an_error():
    with pytest.raises(TypeError, match='loss_affinity= and .*affinity_loss='):
        MODELS.build(
            dict(
                type='DANHead',
                num_classes=3,
                in_channels=4,
                loss_affinity=None,
                affinity_loss=None,
            )
        )


def test_lsd_head_landmark_keyword():
    with pytest.warns(DeprecationWarning, match='loss_landmark='):
        head = MODELS.build(
            dict(
                type='LSDMultiTaskHead',
                num_classes=2,
                in_channels=2,
                appearance_channels=1,
                landmark_loss=dict(type='LSDLandmarkMSELoss', loss_weight=4.0),
            )
        )
    assert head.landmark_loss.loss_weight == 4.0
    head = MODELS.build(
        dict(
            type='LSDMultiTaskHead',
            num_classes=2,
            in_channels=2,
            appearance_channels=1,
            loss_landmark=dict(type='LSDLandmarkMSELoss', loss_weight=5.0),
        )
    )
    assert head.landmark_loss.loss_weight == 5.0
