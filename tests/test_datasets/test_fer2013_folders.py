# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""FER2013 in the image-folder release: train/ and test/ of emotion folders."""

import logging
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.logging import MMLogger
from mmpretrain.registry import DATASETS

import fer_mm  # noqa: F401
from fer_mm.datasets import FER2013, FER2013_CATEGORIES

# Folder names as released (lower case) and one upper-cased, one synonym:
# (folder, class it must map to, files to write as (name, extension)).
TREE = {
    'train': [
        ('angry', 'Anger', ['Training_10.jpg', 'Training_11.png']),
        ('DISGUST', 'Disgust', ['Training_12.jpg']),
        ('happy', 'Happiness', ['Training_13.jpg', 'Training_14.jpg']),
        ('Neutral', 'Neutral', ['Training_15.PNG']),
        ('surprise', 'Surprise', ['Training_16.jpeg']),
    ],
    'test': [
        ('fear', 'Fear', ['PublicTest_1.png', 'PrivateTest_2.png']),
        ('sad', 'Sadness', ['PrivateTest_3.png']),
    ],
}


@pytest.fixture
def logs():
    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler()
    handler.emit = lambda r: records.append(r.getMessage())
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def make_tree(root, tree=TREE, size=48):
    """Write the tree; return ``{path: (pixels, class name)}``."""
    rng = np.random.default_rng(1)
    written = {}
    for split, folders in tree.items():
        for folder, cls, names in folders:
            os.makedirs(osp.join(root, split, folder), exist_ok=True)
            for name in names:
                img = rng.integers(0, 256, (size, size), dtype=np.uint8)
                path = osp.join(root, split, folder, name)
                ext = '.png' if name.lower().endswith('png') else '.jpg'
                ok, buf = cv2.imencode(ext, img)
                assert ok
                buf.tofile(path)
                # Read back: JPEG is lossy, the loader sees the decoded file.
                written[path] = (cv2.imread(path, cv2.IMREAD_GRAYSCALE), cls)
    return written


def test_folders_layout_counts_labels_and_pixels(tmp_path, logs):
    root = str(tmp_path)
    written = make_tree(root)
    ds = DATASETS.build(
        dict(type='FER2013', data_root=root, split='train', layout='folders')
    )
    assert ds.metainfo['classes'] == FER2013_CATEGORIES
    assert len(ds) == 7
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        pixels, cls = written[info['img_path']]
        assert FER2013_CATEGORIES[info['gt_label']] == cls
        # The same in-memory form as the CSV layout: 48x48x3, gray stacked.
        assert info['img'].shape == (48, 48, 3)
        for c in range(3):
            np.testing.assert_array_equal(info['img'][:, :, c], pixels)
    mapping = [m for m in logs if m.startswith('FER2013: class folders')]
    assert mapping and 'DISGUST -> Disgust' in mapping[-1]
    assert 'angry -> Anger' in mapping[-1]
    assert 'happy -> Happiness' in mapping[-1]
    test = FER2013(root, split='test', layout='folders')
    assert len(test) == 3
    public = FER2013(root, split='test', layout='folders', usage='PublicTest')
    assert [osp.basename(public.get_data_info(0)['img_path'])] == [
        'PublicTest_1.png'
    ]
    assert (
        len(FER2013(root, split='test', layout='folders', usage='PrivateTest'))
        == 2
    )


def test_folders_and_csv_share_the_pipeline(tmp_path):
    root = str(tmp_path)
    written = make_tree(root)
    ds = FER2013(
        root,
        layout='folders',
        pipeline=[
            dict(type='Resize', scale=(64, 64)),
            dict(type='PackInputs'),
        ],
    )
    out = ds[0]
    assert tuple(out['inputs'].shape) == (3, 64, 64)
    cls = written[ds.get_data_info(0)['img_path']][1]
    assert int(out['data_samples'].gt_label) == FER2013_CATEGORIES.index(cls)


def test_folders_unknown_folder_and_other_files(tmp_path, logs):
    root = str(tmp_path)
    make_tree(root)
    open(osp.join(root, 'train', 'happy', 'Thumbs.db'), 'w').close()
    FER2013(root, layout='folders')
    assert any('ignored 1 files' in m and 'Thumbs.db' in m for m in logs)
    os.makedirs(osp.join(root, 'train', 'contempt'))
    with pytest.raises(ValueError, match=r'unknown class folder .*contempt'):
        FER2013(root, layout='folders')
    os.rmdir(osp.join(root, 'train', 'contempt'))
    os.makedirs(osp.join(root, 'train', 'anger'))
    with pytest.raises(ValueError, match=r"'anger' and 'angry'|'angry' and"):
        FER2013(root, layout='folders')


def test_folders_bad_images_are_named(tmp_path):
    root = str(tmp_path)
    make_tree(root, {'train': [('sad', 'Sadness', ['Training_1.png'])]})
    bad = osp.join(root, 'train', 'sad', 'Training_2.jpg')
    with open(bad, 'wb') as f:
        f.write(b'\xff\xd8 not really a jpeg')
    with pytest.raises(ValueError, match=r'Training_2.jpg cannot be decoded'):
        FER2013(root, layout='folders')
    os.remove(bad)
    make_tree(root, {'train': [('sad', 'Sadness', ['Training_3.png'])]}, 64)
    with pytest.raises(ValueError, match=r'Training_3.png is 64x64; expected'):
        FER2013(root, layout='folders')


def test_folders_bad_arguments(tmp_path):
    root = str(tmp_path)
    make_tree(root)
    with pytest.raises(ValueError, match="usage='PublicTest'"):
        FER2013(root, split='val', layout='folders')
    with pytest.raises(ValueError, match='layout must be one of'):
        FER2013(root, layout='kaggle')
    with pytest.raises(ValueError, match="usage is for layout='folders'"):
        FER2013(root, usage='PublicTest')
    with pytest.raises(FileNotFoundError, match=r'folder not found: .*train'):
        FER2013(str(tmp_path / 'nothing'), layout='folders')
    os.rename(
        osp.join(root, 'test', 'sad', 'PrivateTest_3.png'),
        osp.join(root, 'test', 'sad', 'im3.png'),
    )
    with pytest.raises(ValueError, match=r'im3.png: no Usage prefix'):
        FER2013(root, split='test', layout='folders', usage='PrivateTest')
