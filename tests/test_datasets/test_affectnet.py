# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""AffectNet in its official CSV layout and in the reference's class folders.

The tree is built here: each image is random clutter with a synthetic face
pasted at a known box, the CSV gives that box, and the crop the pipeline
returns is compared with the pixels of that box read back from the file.
"""

import logging
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.logging import MMLogger
from mmpretrain.registry import DATASETS

import fer_mm  # noqa: F401
from fer_mm.datasets import AFFECTNET_CATEGORIES, AffectNet, ImageLoadError
from fer_mm.datasets.affectnet import AFFECTNET_COLUMNS
from fer_mm.testing.synthetic import render_face

HEADER = ','.join(AFFECTNET_COLUMNS)
# (expression id, face box x, y, w, h, image w, h): ids 8..10 and 7 included.
ROWS = [
    (0, 10, 12, 60, 64, 120, 100),
    (1, 30, 5, 50, 50, 90, 80),
    (1, 0, 0, 80, 70, 80, 70),
    (7, 20, 20, 40, 40, 100, 100),  # Contempt: dropped for AffectNet-7
    (8, 5, 5, 40, 40, 60, 60),  # None
    (9, 5, 5, 40, 40, 60, 60),  # Uncertain
    (10, 5, 5, 40, 40, 60, 60),  # Non-Face
    (10, 5, 5, 40, 40, 60, 60),
    (6, 15, 25, 45, 55, 110, 90),
    (3, 2, 3, 70, 60, 74, 66),
]


@pytest.fixture
def logs():
    """Messages fer_mm's datasets send to the current MMLogger."""
    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler()
    handler.emit = lambda r: records.append(r.getMessage())
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def make_affectnet(root, rows=ROWS, csv_name='training.csv', header=True):
    """Write the official layout; return the images as written."""
    rng = np.random.default_rng(0)
    lines, images = [HEADER] if header else [], []
    for i, (expr, x, y, w, h, iw, ih) in enumerate(rows):
        img = rng.integers(0, 256, (ih, iw, 3), dtype=np.uint8)
        face, _ = render_face(i % 7, rng)
        face = cv2.resize(face, (w, h))  # cut where the box leaves the image
        img[y : y + h, x : x + w] = face[: ih - y, : iw - x]
        sub = str(100 + i % 3)
        rel = f'{sub}/img{i:03d}.png'  # PNG: the pixels read back exactly
        os.makedirs(
            osp.join(root, 'Manually_Annotated_Images', sub), exist_ok=True
        )
        cv2.imwrite(osp.join(root, 'Manually_Annotated_Images', rel), img)
        marks = ';'.join(f'{x + k % 40}.5' for k in range(136))
        va = '-2,-2' if expr == 10 else f'{0.1 * i:.2f},{-0.05 * i:.2f}'
        lines.append(f'{rel},{x},{y},{w},{h},{marks},{expr},{va}')
        images.append(img)
    folder = osp.join(root, 'Manually_Annotated_file_lists')
    os.makedirs(folder, exist_ok=True)
    with open(osp.join(folder, csv_name), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return images


PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='CropFaceBox'),
]


def test_affectnet8_csv_counts_labels_and_crops(tmp_path, logs):
    root = str(tmp_path)
    images = make_affectnet(root)
    ds = DATASETS.build(
        dict(
            type='AffectNet', data_root=root, split='train', pipeline=PIPELINE
        )
    )
    assert ds.metainfo['classes'] == AFFECTNET_CATEGORIES
    kept = [k for k, r in enumerate(ROWS) if r[0] <= 7]
    assert len(ds) == len(kept) == 6
    assert [int(ds.get_data_info(i)['gt_label']) for i in range(6)] == [
        ROWS[k][0] for k in kept
    ]
    # The dropped rows are counted by expression id in one log line.
    line = [m for m in logs if 'AffectNet: kept' in m]
    assert len(line) == 1
    assert 'kept 6 of 10 train samples' in line[0]
    assert '8 None: 1' in line[0] and '9 Uncertain: 1' in line[0]
    assert '10 Non-Face: 2' in line[0]
    for i, k in enumerate(kept):
        expr, x, y, w, h, iw, ih = ROWS[k]
        out = ds[i]
        np.testing.assert_array_equal(
            out['img'], images[k][y : y + h, x : x + w]
        )
        assert out['img_shape'] == (h, w)
        info = ds.get_data_info(i)
        assert info['gt_valence'] == pytest.approx(0.1 * k)
        assert info['gt_arousal'] == pytest.approx(-0.05 * k)
        assert info['ann_line'].endswith(f'training.csv:{k + 2}')


def test_affectnet7_by_number_or_names_drops_contempt(tmp_path, logs):
    root = str(tmp_path)
    make_affectnet(root)
    ds7 = AffectNet(root, num_classes=7)
    names = ['anger', 'Surprise', 'happy', 'Neutral', 'Sad', 'fear', 'Disgust']
    by_name = AffectNet(root, classes=names)
    assert ds7.metainfo['classes'] == by_name.metainfo['classes']
    assert ds7.metainfo['classes'] == AFFECTNET_CATEGORIES[:7]
    assert len(ds7) == 5
    assert any('7 Contempt: 1' in m for m in logs)
    # Anger is id 6 and label 6 in both orders; Surprise 3.
    assert sorted(int(ds7.get_data_info(i)['gt_label']) for i in range(5)) == [
        0,
        1,
        1,
        3,
        6,
    ]
    subset = AffectNet(root, classes=['Anger', 'Happiness'])
    assert subset.metainfo['classes'] == ('Happiness', 'Anger')
    assert [int(subset.get_data_info(i)['gt_label']) for i in range(3)] == [
        0,
        0,
        1,
    ]
    with pytest.raises(ValueError, match="class 'Other' is not an AffectNet"):
        AffectNet(root, classes=['Other'])
    with pytest.raises(ValueError, match='num_classes must be 7 or 8'):
        AffectNet(root, num_classes=6)


def test_affectnet_margin_landmarks_and_headerless_csv(tmp_path):
    root = str(tmp_path)
    images = make_affectnet(root, csv_name='validation.csv', header=False)
    ds = AffectNet(
        root,
        split='val',
        with_landmarks=True,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='CropFaceBox', margin=0.1),
        ],
    )
    assert len(ds) == 6
    expr, x, y, w, h, iw, ih = ROWS[0]
    out = ds[0]
    # 10% of 60 = 6 px left and right, 10% of 64 = 6.4 -> 7 px (outwards).
    x1, x2 = x - 6, x + w + 6
    y1, y2 = int(np.floor(y - 6.4)), int(np.ceil(y + h + 6.4))
    np.testing.assert_array_equal(out['img'], images[0][y1:y2, x1:x2])
    # Landmarks move with the crop: x + k % 40 + .5 in the image.
    pts = ds.get_data_info(0)['gt_landmarks']
    assert pts.shape == (68, 2)
    np.testing.assert_allclose(out['gt_landmarks'], pts - [x1, y1])
    # Row 2 (the box is the whole image): the margin is clipped to the image.
    out = ds[2]
    np.testing.assert_array_equal(out['img'], images[2])


def test_affectnet_class_folders_of_the_reference(tmp_path, logs):
    root = str(tmp_path)
    for folder, n in (('0', 2), ('3', 1), ('7', 2), ('9', 1)):
        os.makedirs(osp.join(root, 'train', folder))
        for i in range(n):
            cv2.imwrite(
                osp.join(root, 'train', folder, f'{i}.jpg'),
                np.zeros((8, 8, 3), np.uint8),
            )
    open(osp.join(root, 'train', '0', 'Thumbs.db'), 'w').close()
    ds8 = AffectNet(root, layout='folders')
    assert [int(ds8.get_data_info(i)['gt_label']) for i in range(5)] == [
        0,
        0,
        3,
        7,
        7,
    ]
    ds7 = AffectNet(root, layout='folders', num_classes=7)
    assert len(ds7) == 3
    assert any('9 Uncertain: 1' in m and '7 Contempt: 2' in m for m in logs)
    assert any('ignored 1 files' in m for m in logs)
    # Names work as folder names too; an unknown name is an error.
    os.rename(
        osp.join(root, 'train', '3'), osp.join(root, 'train', 'surprise')
    )
    assert len(AffectNet(root, layout='folders')) == 5
    os.makedirs(osp.join(root, 'train', 'smiling'))
    with pytest.raises(ValueError, match=r'unknown class folder .*smiling'):
        AffectNet(root, layout='folders')


@pytest.mark.parametrize(
    'row, message',
    [
        ('a.png,1,2,3', r'training.csv:3: 4 comma-separated fields'),
        ('101/img001.png,x,0,5,5,,1,0,0', r'training.csv:3: cannot parse'),
        ('101/img001.png,0,0,0,5,,1,0,0', r'training.csv:3: image .* box'),
        ('101/img001.png,0,0,5,5,,11,0,0', r'training.csv:3: expression 11'),
        ('101/missing.png,0,0,5,5,,1,0,0', r'missing.png listed at .*:3 '),
    ],
)
def test_affectnet_bad_rows_name_file_and_line(tmp_path, row, message):
    root = str(tmp_path)
    make_affectnet(root, rows=ROWS[:1])
    path = osp.join(root, 'Manually_Annotated_file_lists', 'training.csv')
    with open(path, 'a') as f:
        f.write(row + '\n')
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        AffectNet(root)


def test_affectnet_box_outside_image_and_unreadable_image(tmp_path):
    root = str(tmp_path)
    # The box reaches 10 px beyond the right edge of the 60x60 image.
    make_affectnet(root, rows=[(1, 30, 5, 40, 40, 60, 60), ROWS[0]])
    ds = AffectNet(root, pipeline=PIPELINE)
    with pytest.raises(
        ImageLoadError, match=r'x2=70 .*training.csv:2 lies outside the 60x60'
    ):
        ds[0]
    clip = AffectNet(
        root,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='CropFaceBox', out_of_image='clip'),
        ],
    )
    assert clip[0]['img'].shape == (40, 30, 3)
    # An image that cannot be decoded is named.
    with open(ds.get_data_info(1)['img_path'], 'wb') as f:
        f.write(b'not a png')
    with pytest.raises(
        ImageLoadError, match=r'img001.png could not be decoded'
    ):
        ds[1]


def test_affectnet_missing_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'training.csv'):
        AffectNet(str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r'folder not found: .*train'):
        AffectNet(str(tmp_path), layout='folders')


@pytest.mark.parametrize(
    'config, num_classes',
    [
        ('configs/dan/dan_resnet18_8xb32-10e_affectnet8.py', 8),
        ('configs/dan/dan_resnet18_8xb32-10e_affectnet7.py', 7),
        ('configs/poster_v2/posterv2_8xb18-200e_affectnet7.py', 7),
    ],
)
def test_affectnet_configs_read_the_official_tree(
    tmp_path, config, num_classes
):
    from mmengine.config import Config

    root = str(tmp_path)
    make_affectnet(root)
    make_affectnet(root, csv_name='validation.csv')
    cfg = Config.fromfile(config)
    assert cfg.train_dataloader.sampler.type == 'ClassBalancedSampler'
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.data_root = root
        ds = DATASETS.build(loader.dataset)
        assert len(ds.metainfo['classes']) == num_classes
        assert len(ds) == (6 if num_classes == 8 else 5)
        out = ds[0]
        assert tuple(out['inputs'].shape) == (3, 224, 224)


def test_affectnet_fingerprint_names_the_published_counts(tmp_path, logs):
    make_affectnet(str(tmp_path))
    AffectNet(str(tmp_path), num_classes=7)
    (line,) = [m for m in logs if m.startswith('AffectNet train:')]
    assert (
        'does NOT match the official AffectNet train split, 7 classes' in line
    )
    assert '5 samples (official 283901)' in line
    assert 'Neutral 1/74874' in line and 'Happiness 2/134415' in line
