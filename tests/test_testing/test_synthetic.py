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
