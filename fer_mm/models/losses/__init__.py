# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .arbex_losses import (
    AnchorLoss,
    ARBExCenterLoss,
    ARBExClassLoss,
    anchor_loss,
    arbex_center_loss,
    arbex_class_loss,
)
from .dan_losses import (
    AffinityLoss,
    PartitionLoss,
    affinity_loss,
    partition_loss,
)
from .landmark_loss import (
    LandmarkMSELoss,
    class_weights_from_counts,
    landmark_mse_loss,
)

__all__ = [
    'AnchorLoss',
    'ARBExCenterLoss',
    'ARBExClassLoss',
    'anchor_loss',
    'arbex_center_loss',
    'arbex_class_loss',
    'AffinityLoss',
    'PartitionLoss',
    'affinity_loss',
    'partition_loss',
    'LandmarkMSELoss',
    'class_weights_from_counts',
    'landmark_mse_loss',
]
