# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .cam import FaceCAM, dan_head_maps, overlay_map

__all__ = ['FaceCAM', 'dan_head_maps', 'overlay_map']
