# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .cam import (
    FaceCAM,
    dan_head_maps,
    overlay_map,
    window_attention,
    window_attention_maps,
)

__all__ = [
    'FaceCAM',
    'dan_head_maps',
    'overlay_map',
    'window_attention',
    'window_attention_maps',
]
