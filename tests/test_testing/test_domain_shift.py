# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""The shifted rendering domain: every step by hand on images whose answer
is known, and the layouts that use it (test / validation split only, the
faces, labels and landmarks of the unshifted split)."""

import json
import os.path as osp

import cv2
import numpy as np
import pytest

from fer_mm.testing.synthetic import generate_lsd, generate_rafdb
from fer_mm.testing.synthetic.domain_shift import apply_domain_shift


class _NoNoise:
    """A generator whose normal draws are zero (the systematic part)."""

    def normal(self, loc, scale, size):
        return np.zeros(size)


def test_constant_image_by_hand():
    """A flat grey 128 image: contrast and blur leave a constant alone, so
    channel c is 255 (128 / 255) ** (1 / (1 + 0.5 d)) times the cast gain
    (B 1 - 0.25 d, G 1, R 1 + 0.25 d)."""
    img = np.full((40, 40, 3), 128, np.uint8)
    for d in (0.5, 1.0):
        toned = 255 * (128 / 255) ** (1 / (1 + 0.5 * d))
        expect = [toned * (1 - 0.25 * d), toned, toned * (1 + 0.25 * d)]
        out = apply_domain_shift(img, d, _NoNoise())
        for c in range(3):
            assert np.all(out[..., c] == int(np.rint(expect[c])))
    # d = 1: 255 * 0.50196 ** (2 / 3) = 161.05 -> B 120.8, G 161.0, R 201.3
    assert apply_domain_shift(img, 1.0, _NoNoise())[0, 0].tolist() == [
        121,
        161,
        201,
    ]


def test_contrast_and_blur_by_hand():
    """Two halves 100 | 200 (grey, no cast on G): after the tone curve the
    halves are a and b, contrast pulls them to m +- 0.6 (b - a) / 2 at
    d = 1, and the blur (sigma 1.2 px) leaves pixels far from the edge at
    those values while the edge column is smoothed."""
    img = np.zeros((20, 40, 3), np.uint8)
    img[:, :20] = 100
    img[:, 20:] = 200
    a = 255 * (100 / 255) ** (2 / 3)
    b = 255 * (200 / 255) ** (2 / 3)
    m = (a + b) / 2
    lo, hi = m - 0.6 * (b - a) / 2, m + 0.6 * (b - a) / 2
    out = apply_domain_shift(img, 1.0, _NoNoise()).astype(float)
    g = out[..., 1]
    assert g[10, 2] == np.rint(lo) and g[10, 37] == np.rint(hi)
    # the two columns beside the edge are pulled towards each other
    assert lo < g[10, 19] < g[10, 20] < hi
    assert g[10, 20] - g[10, 19] < 0.5 * (hi - lo)


def test_noise_std_and_identity():
    img = np.full((100, 100, 3), 128, np.uint8)
    out = apply_domain_shift(img, 1.0, np.random.default_rng(0)).astype(float)
    clean = apply_domain_shift(img, 1.0, _NoNoise()).astype(float)
    residual = out - clean
    # std 10 over 30,000 pixels (rounding adds 1/12 of a variance)
    assert abs(residual.std() - np.sqrt(100 + 1 / 12)) < 0.3
    assert abs(residual.mean()) < 0.3
    same = apply_domain_shift(img, 0.0, np.random.default_rng(0))
    assert np.array_equal(same, img) and same is not img
    with pytest.raises(ValueError, match='must be >= 0'):
        apply_domain_shift(img, -0.1, np.random.default_rng(0))
    with pytest.raises(ValueError, match='BGR uint8'):
        apply_domain_shift(img[..., 0], 1.0, np.random.default_rng(0))


def _aligned(root, name):
    return cv2.imread(
        osp.join(root, 'basic', 'Image', 'aligned', name + '_aligned.jpg')
    )


def test_rafdb_shift_moves_the_test_split_only(tmp_path):
    kw = dict(scale=0.01, seed=3, num_workers=1, progress=False)
    plain = str(tmp_path / 'plain')
    shifted = str(tmp_path / 'shifted')
    generate_rafdb(plain, **kw)
    meta = generate_rafdb(shifted, test_domain_shift=1.0, **kw)
    assert meta['settings']['test_domain_shift'] == 1.0
    plain_meta = json.load(open(osp.join(plain, 'fer_mm_synthetic.json')))
    assert 'test_domain_shift' not in plain_meta['settings']
    for f in ('list_patition_label.txt', 'true_labels.txt'):
        a = open(osp.join(plain, 'basic', 'EmoLabel', f)).read()
        assert a == open(osp.join(shifted, 'basic', 'EmoLabel', f)).read()
    assert (
        open(osp.join(plain, 'basic', 'Annotation', 'landmarks_68.txt')).read()
        == open(
            osp.join(shifted, 'basic', 'Annotation', 'landmarks_68.txt')
        ).read()
    )
    # training images are byte-for-byte the same files' pixels
    assert np.array_equal(
        _aligned(plain, 'train_00001'), _aligned(shifted, 'train_00001')
    )
    # test images: warmer (R up, B down) and flatter
    t0, t1 = _aligned(plain, 'test_0001'), _aligned(shifted, 'test_0001')
    r_over_b = [im[..., 2].mean() / im[..., 0].mean() for im in (t0, t1)]
    assert r_over_b[1] > 1.3 * r_over_b[0]
    assert t1[..., 1].std() < t0[..., 1].std()
    with pytest.raises(ValueError, match='test_domain_shift must be >= 0'):
        generate_rafdb(str(tmp_path / 'bad'), test_domain_shift=-1, **kw)


def test_lsd_shift_moves_the_real_split_only(tmp_path):
    kw = dict(scale=0.001, val_fraction=0.5, seed=0, num_workers=1)
    plain, shifted = str(tmp_path / 'plain'), str(tmp_path / 'shifted')
    generate_lsd(plain, progress=False, **kw)
    meta = generate_lsd(shifted, progress=False, val_domain_shift=1.0, **kw)
    assert meta['settings']['val_domain_shift'] == 1.0
    syn = 'training_set_synthetic_images/HAPPINESS/00001.jpg'
    real = 'validation_set_real_images/HAPPINESS/00001.jpg'
    a, b = (cv2.imread(osp.join(r, syn)) for r in (plain, shifted))
    assert np.array_equal(a, b)
    a, b = (cv2.imread(osp.join(r, real)) for r in (plain, shifted))
    assert b[..., 2].mean() / b[..., 0].mean() > 1.3 * (
        a[..., 2].mean() / a[..., 0].mean()
    )
    for split in (
        'training_set_synthetic_images',
        'validation_set_real_images',
    ):
        f = osp.join('landmarks_68', f'{split}.txt')
        assert (
            open(osp.join(plain, f)).read()
            == open(osp.join(shifted, f)).read()
        )
