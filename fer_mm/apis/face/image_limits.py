# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Size limits of face detection: refuse huge images, detect large ones on
a downscaled copy."""

from typing import Tuple

import cv2
import numpy as np


def check_pixel_limit(img: np.ndarray, max_pixels: int, owner: str) -> None:
    """Raise a ``ValueError`` naming the size if ``img`` has more than
    ``max_pixels`` pixels."""
    h, w = img.shape[:2]
    if h * w > max_pixels:
        raise ValueError(
            f'{owner}: the image is {w}x{h} = {h * w} pixels, beyond the '
            f'limit of {max_pixels} (max_pixels); downscale it first'
        )


def downscale_to(
    img: np.ndarray, max_side: int
) -> Tuple[np.ndarray, float, float]:
    """``img`` resized (INTER_AREA) so that its longer side is at most
    ``max_side``, and the factors ``(sx, sy)`` that map the copy's x and y
    back to the original's (1.0 when it was not resized)."""
    h, w = img.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1.0:
        return img, 1.0, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    return small, w / size[0], h / size[1]
