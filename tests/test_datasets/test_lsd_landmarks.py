# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import os
import os.path as osp
from unittest import mock

import numpy as np
import pytest
import torch
from mmpretrain.registry import TRANSFORMS

import fer_mm  # noqa: F401
from fer_mm.datasets import (
    ABAW4LSD,
    IBUG68_FLIP_INDEX,
    RAFDB_CATEGORIES,
    RAFDBLandmarks,
    load_landmarks,
)
from fer_mm.testing.synthetic import generate_lsd, render_face


def _points():
    # point i at (i, 2 i): every point is recognisable after re-indexing
    return np.stack([np.arange(68), 2 * np.arange(68)], 1).astype(np.float32)


def test_flip_moves_and_reindexes_points():
    img = np.zeros((120, 100, 3), np.uint8)
    img[5, 10] = 255
    flip = TRANSFORMS.build(dict(type='LandmarkRandomFlip', prob=1.0))
    out = flip.transform(dict(img=img, gt_landmarks=_points()))
    assert out['flip'] is True
    assert out['img'][5, 89].tolist() == [255] * 3  # 99 - 10
    pts = out['gt_landmarks']
    # flipped point i = original point IBUG68_FLIP_INDEX[i], x -> 99 - x
    hand = {
        0: (99 - 16, 32),  # jaw ends swap
        8: (99 - 8, 16),  # chin stays
        17: (99 - 26, 52),  # brow outer ends swap
        30: (99 - 30, 60),  # nose tip stays
        31: (99 - 35, 70),  # nostrils swap
        36: (99 - 45, 90),  # outer eye corners swap
        39: (99 - 42, 84),  # inner eye corners swap
        40: (99 - 47, 94),  # lower lids
        48: (99 - 54, 108),  # mouth corners swap
        57: (99 - 57, 114),  # lower lip centre stays
        65: (99 - 67, 134),  # inner lower lip
    }
    for i, (x, y) in hand.items():
        assert pts[i].tolist() == [x, y], i
    # the map is an involution that swaps 2 x 29 points and keeps 10
    assert (IBUG68_FLIP_INDEX[IBUG68_FLIP_INDEX] == np.arange(68)).all()
    assert int((IBUG68_FLIP_INDEX == np.arange(68)).sum()) == 10
    again = flip.transform(dict(img=out['img'], gt_landmarks=pts))
    assert np.array_equal(again['gt_landmarks'], _points())
    assert np.array_equal(again['img'], img)


def test_flip_without_flip_and_bad_points():
    flip = TRANSFORMS.build(dict(type='LandmarkRandomFlip', prob=0.0))
    out = flip.transform(dict(img=np.zeros((4, 4, 3)), gt_landmarks=_points()))
    assert np.array_equal(out['gt_landmarks'], _points())
    flip = TRANSFORMS.build(dict(type='LandmarkRandomFlip', prob=1.0))
    with pytest.raises(ValueError, match=r'a.jpg'):
        flip.transform(
            dict(
                img=np.zeros((4, 4, 3)),
                gt_landmarks=np.zeros((5, 2)),
                img_path='a.jpg',
            )
        )


def test_resize_moves_points():
    resize = TRANSFORMS.build(dict(type='LandmarkResize', scale=(50, 30)))
    pts = np.zeros((68, 2), np.float32)
    pts[0] = (10, 20)
    out = resize.transform(
        dict(img=np.zeros((60, 100, 3), np.uint8), gt_landmarks=pts)
    )
    assert out['img'].shape == (30, 50, 3)
    # (x + 0.5) * s - 0.5 with s = 0.5 in both directions
    assert out['gt_landmarks'][0].tolist() == [4.75, 9.75]
    assert out['gt_landmarks'][1].tolist() == [-0.25, -0.25]


def test_two_views():
    views = TRANSFORMS.build(
        dict(
            type='TwoViews',
            emotion=[
                dict(type='RandomFlip', prob=1.0, direction='horizontal')
            ],
            appearance=[dict(type='ColorJitter', brightness=0.0)],
        )
    )
    img = np.random.randint(0, 255, (8, 10, 3), dtype=np.uint8)
    pts = _points() % 8
    out = views.transform(dict(img=img.copy(), gt_landmarks=pts.copy()))
    assert out['img'].shape == (8, 10, 6)
    assert np.array_equal(out['img'][..., :3], img[:, ::-1])  # emotion
    assert np.array_equal(out['img'][..., 3:], img)  # appearance untouched
    # landmarks follow the appearance view, normalised to its size
    assert isinstance(out['gt_landmarks'], torch.Tensor)
    expected = (pts + 0.5) / np.array([10, 8], np.float32)
    assert np.allclose(out['gt_landmarks'].numpy(), expected)
    packed = TRANSFORMS.build(
        dict(type='PackInputs', algorithm_keys=('gt_landmarks',))
    ).transform(dict(out, gt_label=2))
    assert packed['inputs'].shape == (6, 8, 10)
    assert packed['data_samples'].gt_landmarks.shape == (68, 2)
    # without landmarks: two views, no gt_landmarks
    out = views.transform(dict(img=img.copy()))
    assert 'gt_landmarks' not in out


def test_two_views_refuses_geometry_in_the_landmark_view():
    for bad in (
        dict(type='RandomFlip', prob=0.5),
        dict(type='RandomResizedCrop', scale=32),
        dict(type='Resize', scale=(32, 32)),
    ):
        with pytest.raises(ValueError, match=bad['type'] + '.*landmarks'):
            TRANSFORMS.build(
                dict(type='TwoViews', emotion=[], appearance=[bad])
            )
    TRANSFORMS.build(
        dict(
            type='TwoViews',
            emotion=[],
            appearance=[
                dict(type='LandmarkRandomFlip'),
                dict(type='LandmarkResize', scale=32),
                dict(type='RandomGrayscale', prob=0.1),
            ],
        )
    )


@pytest.fixture(scope='module')
def tiny_lsd(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('lsd'))
    generate_lsd(
        root,
        scale=0.0003,
        val_fraction=0.5,
        seed=0,
        num_workers=1,
        progress=False,
    )
    return root


def test_synthetic_lsd_writes_landmarks(tiny_lsd):
    split = 'training_set_synthetic_images'
    table = load_landmarks(osp.join(tiny_lsd, 'landmarks_68', f'{split}.txt'))
    images = sorted(
        f'{d}/{n}'
        for d in os.listdir(osp.join(tiny_lsd, split))
        for n in os.listdir(osp.join(tiny_lsd, split, d))
    )
    assert sorted(table) == images
    # the file holds the renderer's points of each face, moved from its
    # 100 px canvas to the written 112 px image: (x + 0.5) * 1.12 - 0.5
    _, drawn = render_face(
        RAFDB_CATEGORIES.index('Anger'), np.random.default_rng([0, 10, 0])
    )
    expected = (drawn + 0.5) * 1.12 - 0.5
    assert np.abs(table['ANGRER/00001.jpg'] - expected).max() <= 0.005 + 1e-4
    ds = ABAW4LSD(
        tiny_lsd, split='train', landmark_file=f'landmarks_68/{split}.txt'
    )
    info = ds.get_data_info(0)
    name = osp.relpath(info['img_path'], osp.join(tiny_lsd, split))
    assert np.array_equal(info['gt_landmarks'], table[name])


def test_lsd_landmark_errors(tiny_lsd, tmp_path):
    split = 'training_set_synthetic_images'
    src = osp.join(tiny_lsd, 'landmarks_68', f'{split}.txt')
    lines = open(src).read().splitlines()
    short = tmp_path / 'short.txt'
    short.write_text(lines[0] + '\n' + lines[1].rsplit(' ', 1)[0] + '\n')
    with pytest.raises(ValueError, match=r'short.txt:2: .*136 numbers'):
        ABAW4LSD(tiny_lsd, landmark_file=str(short))
    unknown = tmp_path / 'unknown.txt'
    unknown.write_text(
        'NOPE/00001.jpg'
        + lines[0].split(' ', 1)[1][0:0]
        + ' '
        + lines[0].split(' ', 1)[1]
        + '\n'
    )
    with pytest.raises(
        ValueError, match=r'unknown.txt.*unknown image ' r"'NOPE/00001.jpg'"
    ):
        ABAW4LSD(tiny_lsd, landmark_file=str(unknown))
    partial = tmp_path / 'partial.txt'
    partial.write_text('\n'.join(lines[1:]) + '\n')
    ds = ABAW4LSD(tiny_lsd, landmark_file=str(partial))
    has = ['gt_landmarks' in ds.get_data_info(i) for i in range(len(ds))]
    assert has.count(False) == 1
    with pytest.raises(
        ValueError,
        match=r'partial.txt has no landmarks for ' r"'ANGRER/00001.jpg'",
    ):
        ABAW4LSD(
            tiny_lsd, landmark_file=str(partial), missing_landmarks='error'
        )


def test_rafdb_landmarks(synthetic_rafdb):
    ds = RAFDBLandmarks(synthetic_rafdb, split='test')
    table = load_landmarks(
        osp.join(synthetic_rafdb, 'basic', 'Annotation', 'landmarks_68.txt')
    )
    info = ds.get_data_info(3)
    assert np.array_equal(
        info['gt_landmarks'], table[osp.basename(info['img_path'])]
    )
    with mock.patch(
        'fer_mm.datasets.landmarks.load_landmarks',
        return_value={'test_9999_aligned.jpg': np.zeros((68, 2))},
    ):
        with pytest.raises(ValueError, match='test_9999_aligned.jpg'):
            RAFDBLandmarks(synthetic_rafdb, split='test')
