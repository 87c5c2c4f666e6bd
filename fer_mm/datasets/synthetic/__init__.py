# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""The built-in synthetic FER set (the embedded default data)."""

from .face_renderer import EXPRESSION_PARAMS, PROTOTYPES, render_face
from .rafdb_layout import generate_rafdb, render_sample, scaled_counts

__all__ = [
    'EXPRESSION_PARAMS',
    'PROTOTYPES',
    'render_face',
    'generate_rafdb',
    'render_sample',
    'scaled_counts',
]
