# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Registry names used before fer_mm 0.2, kept for one release.

Each old name builds its renamed class and warns (``DeprecationWarning``)
on construction.
"""

from mmpretrain.registry import MODELS

from ...utils.deprecation import deprecated_alias
from .arbex_anchor_loss import ARBExAnchorLoss
from .dan_affinity_loss import DANAffinityLoss
from .dan_partition_loss import DANPartitionLoss
from .landmark_loss import LSDLandmarkMSELoss

AffinityLoss = deprecated_alias(MODELS, 'AffinityLoss', DANAffinityLoss)
PartitionLoss = deprecated_alias(MODELS, 'PartitionLoss', DANPartitionLoss)
AnchorLoss = deprecated_alias(MODELS, 'AnchorLoss', ARBExAnchorLoss)
LandmarkMSELoss = deprecated_alias(
    MODELS, 'LandmarkMSELoss', LSDLandmarkMSELoss
)

__all__ = ['AffinityLoss', 'PartitionLoss', 'AnchorLoss', 'LandmarkMSELoss']
