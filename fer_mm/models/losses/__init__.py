# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .arbex_anchor_loss import ARBExAnchorLoss, anchor_loss
from .arbex_center_loss import ARBExCenterLoss, arbex_center_loss
from .arbex_class_loss import ARBExClassLoss, arbex_class_loss
from .dan_affinity_loss import DANAffinityLoss, affinity_loss
from .dan_partition_loss import DANPartitionLoss, partition_loss
from .deprecated_names import (
    AffinityLoss,
    AnchorLoss,
    LandmarkMSELoss,
    PartitionLoss,
)
from .landmark_loss import (
    LSDLandmarkMSELoss,
    class_weights_from_counts,
    landmark_mse_loss,
)

__all__ = [
    'ARBExAnchorLoss',
    'ARBExCenterLoss',
    'ARBExClassLoss',
    'anchor_loss',
    'arbex_center_loss',
    'arbex_class_loss',
    'DANAffinityLoss',
    'DANPartitionLoss',
    'affinity_loss',
    'partition_loss',
    'LSDLandmarkMSELoss',
    'class_weights_from_counts',
    'landmark_mse_loss',
    # deprecated names (one release)
    'AffinityLoss',
    'AnchorLoss',
    'LandmarkMSELoss',
    'PartitionLoss',
]
