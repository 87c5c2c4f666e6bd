# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Face detection, 5-point alignment and tracking for inference."""

from .alignment import (
    TEMPLATES,
    FaceAligner,
    similarity_transform,
    transform_points,
)
from .base_detector import FACE_DETECTORS, BaseFaceDetector, FaceDetections
from .haar_detector import HaarDetector
from .landmarks68 import DlibLandmarks68, find_landmark_model
from .mtcnn_detector import MTCNNDetector
from .tracking import IoUTracker, LandmarkFlow, box_iou

__all__ = [
    'TEMPLATES',
    'FaceAligner',
    'similarity_transform',
    'transform_points',
    'FACE_DETECTORS',
    'BaseFaceDetector',
    'FaceDetections',
    'HaarDetector',
    'DlibLandmarks68',
    'find_landmark_model',
    'MTCNNDetector',
    'IoUTracker',
    'LandmarkFlow',
    'box_iou',
]
