# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""A shifted rendering domain: the same faces seen through another camera.

Domain-generalisation claims (ABAW4 LSD: train on synthetic faces, test on
real ones) need a test domain that differs from the training one in the
pixels but not in the expressions. :func:`apply_domain_shift` changes the
*look* of a rendered face, not what it shows: geometry and landmarks are
untouched. Its strength ``d`` (0: the training domain, 1: the shifted domain
of the studies) scales five systematic changes of a camera and one random:

1. tone curve: ``x -> 255 (x / 255) ** (1 / (1 + 0.5 d))`` (brighter mid-tones);
2. contrast: ``x -> m + (1 - 0.4 d) (x - m)``, ``m`` the image mean per
   channel (flatter);
3. colour cast: blue x ``(1 - 0.25 d)``, red x ``(1 + 0.25 d)`` (warm light);
4. defocus: Gaussian blur of ``sigma = 1.2 d`` px at 100 px;
5. sensor noise: i.i.d. Gaussian of standard deviation ``10 d`` grey levels
   (the random part, from the given generator);

then rounding to uint8 (clipped to [0, 255]). ``d = 0`` returns the image
unchanged and draws nothing, so the built-in set is the same as before the
knob existed.
"""

import cv2
import numpy as np

#: The coefficients of the shift at d = 1 (see the module docstring).
GAMMA_GAIN = 0.5
CONTRAST_LOSS = 0.4
CAST = 0.25
BLUR_SIGMA = 1.2
NOISE_STD = 10.0
#: Appended to a sample's key: the shift's noise is a stream of its own.
SHIFT_STREAM = 7


def shift_rng(*key: int) -> np.random.Generator:
    """The generator of a sample's sensor noise, keyed like the sample
    (e.g. ``(seed, split code, index)``) plus :data:`SHIFT_STREAM`."""
    return np.random.default_rng([*key, SHIFT_STREAM])


def apply_domain_shift(
    img: np.ndarray, strength: float, rng: np.random.Generator
) -> np.ndarray:
    """Render ``img`` (BGR uint8, HxWx3) in the shifted domain.

    Args:
        img (np.ndarray): The rendered face.
        strength (float): ``d >= 0``; 0 is the identity.
        rng (numpy.random.Generator): Draws the sensor noise.

    Returns:
        np.ndarray: A new uint8 image of the same shape.
    """
    if strength < 0:
        raise ValueError(f'domain shift strength must be >= 0, got {strength}')
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(
            f'expected a BGR uint8 HxWx3 image, got {img.dtype} {img.shape}'
        )
    if strength == 0:
        return img.copy()
    d = float(strength)
    x = img.astype(np.float64)
    x = 255.0 * (x / 255.0) ** (1.0 / (1.0 + GAMMA_GAIN * d))
    mean = x.mean(axis=(0, 1), keepdims=True)
    x = mean + (1.0 - CONTRAST_LOSS * d) * (x - mean)
    x *= np.array([1.0 - CAST * d, 1.0, 1.0 + CAST * d])  # B, G, R
    sigma = BLUR_SIGMA * d
    if sigma > 0:
        x = cv2.GaussianBlur(x, (0, 0), sigmaX=sigma, sigmaY=sigma)
    x += rng.normal(0.0, NOISE_STD * d, size=x.shape)
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)
