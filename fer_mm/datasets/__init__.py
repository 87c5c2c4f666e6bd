# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .affectnet import AffectNet
from .affwild2 import AffWild2
from .base_fer import FERDataset, ImageLoadError
from .categories import (
    AFFECTNET_CATEGORIES,
    AFFWILD2_CATEGORIES,
    CANONICAL_EXPRESSIONS,
    FER2013_CATEGORIES,
    FERPLUS_CATEGORIES,
    LSD_CATEGORIES,
    RAFDB_CATEGORIES,
    RAFDB_COMPOUND_CATEGORIES,
    canonical_name,
    label_mapping,
    remap_labels,
)
from .fer2013 import FER2013, FERPlus
from .generated_mix import GeneratedMixDataset, GeneratedMixSampler
from .landmarks import (
    IBUG68_FLIP_INDEX,
    attach_landmarks,
    load_landmarks,
    write_landmarks,
)
from .lsd import ABAW4LSD
from .rafdb import RAFDB
from .rafdb_landmarks import RAFDBLandmarks
from .samplers import (
    BaggingSampler,
    ClassBalancedSampler,
    VideoRefinementSampler,
    bagging_subset,
)
from .transforms import (
    CropFaceBox,
    LandmarkRandomFlip,
    LandmarkResize,
    TwoViews,
)

__all__ = [
    'CANONICAL_EXPRESSIONS',
    'RAFDB_CATEGORIES',
    'RAFDB_COMPOUND_CATEGORIES',
    'RAFDB',
    'AffWild2',
    'AffectNet',
    'CropFaceBox',
    'FERDataset',
    'ImageLoadError',
    'FER2013',
    'FERPlus',
    'AFFECTNET_CATEGORIES',
    'AFFWILD2_CATEGORIES',
    'FER2013_CATEGORIES',
    'FERPLUS_CATEGORIES',
    'LSD_CATEGORIES',
    'canonical_name',
    'label_mapping',
    'remap_labels',
    'load_landmarks',
    'write_landmarks',
    'ABAW4LSD',
    'ClassBalancedSampler',
    'VideoRefinementSampler',
    'GeneratedMixDataset',
    'GeneratedMixSampler',
    'BaggingSampler',
    'bagging_subset',
    'IBUG68_FLIP_INDEX',
    'attach_landmarks',
    'RAFDBLandmarks',
    'LandmarkRandomFlip',
    'LandmarkResize',
    'TwoViews',
]
