# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""The built-in synthetic FER set (the embedded default data)."""

from .face_renderer import EXPRESSION_PARAMS, PROTOTYPES, render_face
from .folder_layouts import generate_fer2013, generate_lsd
from .rafdb_layout import generate_rafdb, render_sample, scaled_counts
from .video_layouts import generate_affwild2

__all__ = [
    'generate_affwild2',
    'generate_fer2013',
    'generate_lsd',
    'EXPRESSION_PARAMS',
    'PROTOTYPES',
    'render_face',
    'generate_rafdb',
    'render_sample',
    'scaled_counts',
]
