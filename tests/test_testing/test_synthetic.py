# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from fer_mm.datasets.categories import RAFDB_TEST_COUNTS, RAFDB_TRAIN_COUNTS
from fer_mm.testing.synthetic import (
    generate_rafdb,
    render_face,
    render_sample,
    scaled_counts,
)
from fer_mm.testing.synthetic.rafdb_layout import split_labels


def test_render_is_deterministic_per_seed():
    img_a, lm_a = render_face(3, np.random.default_rng([7, 0, 5]))
    img_b, lm_b = render_face(3, np.random.default_rng([7, 0, 5]))
    img_c, _ = render_face(3, np.random.default_rng([8, 0, 5]))
    assert img_a.shape == (100, 100, 3) and img_a.dtype == np.uint8
    assert np.array_equal(img_a, img_b) and np.array_equal(lm_a, lm_b)
    assert not np.array_equal(img_a, img_c)


def test_landmarks_follow_the_drawn_face():
    for label in range(7):
        img, lm = render_face(label, np.random.default_rng([1, label]))
        assert lm.shape == (68, 2)
        # Most of the 68 points stay inside the 100x100 frame.
        inside = ((lm >= 0) & (lm < 100)).all(1).mean()
        assert inside > 0.9
        # iBUG order: left eye (36-41) left of the right eye (42-47) in the
        # face's own frame; the chin (8) is below the nose tip (30) and the
        # nose tip below the eyes, measured along the face's vertical axis.
        eye_l, eye_r = lm[36:42].mean(0), lm[42:48].mean(0)
        across = (eye_r - eye_l) / np.linalg.norm(eye_r - eye_l)
        down = np.array([-across[1], across[0]])
        assert (lm[30] - (eye_l + eye_r) / 2) @ down > 5
        assert (lm[8] - lm[30]) @ down > 10


def test_expressions_differ_in_their_cues():
    # Mouth opening (inner lips) is larger for Surprise than for Neutral, and
    # mouth corners are higher than the lip centre for Happiness only.
    def mean_cue(label, fn, n=40):
        return np.mean(
            [fn(render_sample(0, 'train', i, label, 0.0)[1]) for i in range(n)]
        )

    def opening(lm):
        return np.linalg.norm(lm[66] - lm[62])

    def smile(lm):
        corners = (lm[48] + lm[54]) / 2
        return np.linalg.norm(corners - lm[57]) - np.linalg.norm(
            corners - lm[51]
        )

    assert mean_cue(0, opening) > mean_cue(6, opening) + 3
    assert mean_cue(3, smile) > mean_cue(4, smile) + 2


def test_scaled_counts_keep_rafdb_proportions():
    counts = scaled_counts(RAFDB_TRAIN_COUNTS, 0.25)
    ratio = np.array(counts) / sum(counts)
    ref = np.array(RAFDB_TRAIN_COUNTS) / sum(RAFDB_TRAIN_COUNTS)
    assert np.abs(ratio - ref).max() < 0.002
    assert scaled_counts(RAFDB_TRAIN_COUNTS, 1.0) == list(RAFDB_TRAIN_COUNTS)
    assert min(scaled_counts(RAFDB_TEST_COUNTS, 0.001)) == 2
    with pytest.raises(ValueError, match='scale must be > 0'):
        scaled_counts(RAFDB_TRAIN_COUNTS, 0)


def test_split_labels_are_shuffled_and_deterministic():
    a, b = split_labels('train', 0.1, 3), split_labels('train', 0.1, 3)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, split_labels('train', 0.1, 4))
    assert np.bincount(a).tolist() == scaled_counts(RAFDB_TRAIN_COUNTS, 0.1)
    assert not np.array_equal(a, np.sort(a))


def test_generate_tree(synthetic_rafdb, tmp_path):
    root = synthetic_rafdb
    with open(osp.join(root, 'fer_mm_synthetic.json')) as f:
        meta = json.load(f)
    assert list(meta['counts']['train'].values()) == scaled_counts(
        RAFDB_TRAIN_COUNTS, 0.02
    )
    list_file = osp.join(root, 'basic', 'EmoLabel', 'list_patition_label.txt')
    lines = open(list_file).read().split('\n')
    assert (
        lines[0] == f'train_00001.jpg {split_labels("train", 0.02, 0)[0] + 1}'
    )
    assert any(line.startswith('test_0001.jpg ') for line in lines)
    img = cv2.imread(
        osp.join(root, 'basic', 'Image', 'aligned', 'test_0063_aligned.jpg')
    )
    assert img.shape == (100, 100, 3)

    # Same settings, another process count: byte-identical files.
    other = str(tmp_path / 'again')
    generate_rafdb(other, scale=0.02, seed=0, num_workers=1, progress=False)
    for name in ('train_00007_aligned.jpg', 'test_0013_aligned.jpg'):
        a = open(osp.join(root, 'basic', 'Image', 'aligned', name), 'rb')
        b = open(osp.join(other, 'basic', 'Image', 'aligned', name), 'rb')
        assert a.read() == b.read()
    assert (
        open(list_file).read()
        == open(
            osp.join(other, 'basic', 'EmoLabel', 'list_patition_label.txt')
        ).read()
    )


def test_label_noise_rate():
    flips = [render_sample(0, 'train', i, 3, 0.2)[2] != 3 for i in range(2000)]
    assert 0.17 < np.mean(flips) < 0.23
    assert all(
        render_sample(0, 'train', i, 3, 0.0)[2] == 3 for i in range(200)
    )


# ---------------------------------------------------------------- regimes
# The knobs of the method studies. Expectations come from the definitions
# (binomial rates, RAF-DB's published counts), not from the generator.


def _labels(path):
    with open(path) as f:
        return dict(line.split() for line in f)


def _rate_bounds(p, n):
    """p +- 4 binomial standard errors."""
    se = (p * (1 - p) / n) ** 0.5
    return p - 4 * se, p + 4 * se


@pytest.mark.parametrize('noise_type', ['symmetric', 'pairwise'])
def test_label_noise_only_on_train_with_true_labels_kept(tmp_path, noise_type):
    from fer_mm.testing.synthetic.rafdb_layout import PAIR_FLIP

    clean = str(tmp_path / 'clean')
    noisy = str(tmp_path / 'noisy')
    generate_rafdb(clean, scale=0.03, seed=1, num_workers=1, progress=False)
    meta = generate_rafdb(
        noisy, scale=0.03, seed=1, label_noise=0.3, noise_type=noise_type,
        num_workers=1, progress=False,
    )  # fmt: skip
    label_dir = ('basic', 'EmoLabel')
    truth = _labels(osp.join(clean, *label_dir, 'list_patition_label.txt'))
    kept = _labels(osp.join(noisy, *label_dir, 'true_labels.txt'))
    written = _labels(osp.join(noisy, *label_dir, 'list_patition_label.txt'))
    assert kept == truth  # the true labels are the clean run's labels
    train = [n for n in truth if n.startswith('train')]
    test = [n for n in truth if n.startswith('test')]
    assert all(written[n] == truth[n] for n in test)  # clean evaluation
    flipped = [n for n in train if written[n] != truth[n]]
    lo, hi = _rate_bounds(0.3, len(train))
    assert lo < len(flipped) / len(train) < hi
    assert meta['noisy_train_labels'] == len(flipped)
    if noise_type == 'pairwise':
        # RAF-DB labels are 1-based in the file
        assert all(
            int(written[n]) - 1 == PAIR_FLIP[int(truth[n]) - 1]
            for n in flipped
        )
    assert meta['settings']['label_noise'] == 0.3


def test_long_tail_and_train_size(tmp_path):
    from fer_mm.testing.synthetic.rafdb_layout import long_tail_counts

    # 0: balanced, the total kept (12,271 / 7 = 1753)
    assert long_tail_counts(RAFDB_TRAIN_COUNTS, 1.0, 0.0) == [1753] * 7
    # 2: max / min ratio squared: (4772 / 281) ** 2 = 288.4
    counts = long_tail_counts(RAFDB_TRAIN_COUNTS, 1.0, 2.0)
    assert abs(max(counts) / min(counts) - (4772 / 281) ** 2) < 2.0
    assert abs(sum(counts) - 12271) <= 7
    assert long_tail_counts(RAFDB_TRAIN_COUNTS, 0.5, 1.0) == scaled_counts(
        RAFDB_TRAIN_COUNTS, 0.5
    )
    meta = generate_rafdb(
        str(tmp_path / 'small'), scale=0.02, train_scale=0.01, long_tail=0.0,
        seed=0, num_workers=1, progress=False,
    )  # fmt: skip
    # train: 12,271 * 0.01 / 7 = 17.5 -> 18 per class; test balanced too
    assert list(meta['counts']['train'].values()) == [18] * 7
    assert list(meta['counts']['test'].values()) == [9] * 7  # 3068*.02/7
    assert meta['settings']['train_scale'] == 0.01
    assert 'occlusion' not in meta['settings']  # defaults are not listed


def test_occlusion_rate_and_size(monkeypatch):
    from fer_mm.testing.synthetic import face_renderer

    calls = []
    original = face_renderer._draw_occluder

    def spy(img, rng, size=1.0):
        calls.append(size)
        return original(img, rng, size)

    monkeypatch.setattr(face_renderer, '_draw_occluder', spy)
    n = 300
    for occlusion, size in ((0.0, 1.0), (0.5, 2.0), (1.0, 1.0)):
        calls.clear()
        for i in range(n):
            render_face(
                i % 7, np.random.default_rng([5, i]), occlusion=occlusion,
                occlusion_size=size,
            )  # fmt: skip
        if occlusion in (0.0, 1.0):
            assert len(calls) == occlusion * n
        else:
            lo, hi = _rate_bounds(occlusion, n)
            assert lo < len(calls) / n < hi
            assert set(calls) == {size}
    calls.clear()
    for i in range(n):  # the default: 12 %
        render_face(i % 7, np.random.default_rng([5, i]))
    lo, hi = _rate_bounds(0.12, n)
    assert lo < len(calls) / n < hi


def test_pose_strength_scales_the_roll():
    """Roll of the eye line (landmarks 36 and 45, the outer eye corners):
    uniform in +-25 deg times pose_strength, so its mean absolute value is
    12.5 * pose_strength; 0 leaves the face upright."""

    def mean_abs_roll(strength, n=300):
        rolls = []
        for i in range(n):
            _, lm = render_face(
                3, np.random.default_rng([9, i]), occlusion=0.0,
                intensity_range=(0.0, 0.0), pose_strength=strength,
            )  # fmt: skip
            dx, dy = lm[45] - lm[36]
            rolls.append(abs(np.degrees(np.arctan2(dy, dx))))
        return float(np.mean(rolls))

    assert mean_abs_roll(0.0) < 0.5  # the neutral face's eye line is level
    for k in (1.0, 2.0):
        assert abs(mean_abs_roll(k) - 12.5 * k) < 0.15 * 12.5 * k
