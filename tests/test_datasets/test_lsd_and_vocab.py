# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import os
import os.path as osp

import numpy as np
import pytest

import fer_mm  # noqa: F401
from fer_mm.datasets import (
    ABAW4LSD,
    AFFWILD2_CATEGORIES,
    FER2013_CATEGORIES,
    LSD_CATEGORIES,
    RAFDB,
    RAFDB_CATEGORIES,
    canonical_name,
    label_mapping,
    load_landmarks,
    remap_labels,
    write_landmarks,
)
from fer_mm.datasets.lsd import match_class_folder


def make_lsd(root, folders, split='training_set_synthetic_images', n=2):
    for folder in folders:
        os.makedirs(osp.join(root, split, folder), exist_ok=True)
        for i in range(n):
            open(osp.join(root, split, folder, f'{i:05d}.jpg'), 'wb').close()


@pytest.mark.parametrize('folder', ['ANGERE', 'ANGRER', 'ANGER', 'anger'])
def test_misspelled_anger_folder(folder):
    assert match_class_folder(folder) == 'Anger'


def test_lsd_dataset_maps_folders(tmp_path):
    root = str(tmp_path)
    make_lsd(
        root, ['ANGRER', 'DISGUST', 'FEAR', 'HAPPINESS', 'SADNESS', 'SURPRISE']
    )
    ds = ABAW4LSD(root, split='train')
    assert len(ds) == 12
    assert ds.folder_map['ANGRER'] == 'Anger'
    labels = ds.get_gt_labels().tolist()
    assert labels == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert 'ANGRER' in ds.get_data_info(0)['img_path']
    assert ds.folder_map == dict(
        zip(
            ['ANGRER', 'DISGUST', 'FEAR', 'HAPPINESS', 'SADNESS', 'SURPRISE'],
            LSD_CATEGORIES,
        )
    )


def test_lsd_bad_trees(tmp_path):
    root = str(tmp_path)
    with pytest.raises(FileNotFoundError, match='training_set_synthetic'):
        ABAW4LSD(root)
    make_lsd(root, ['ANGER', 'NEUTRAL'])
    with pytest.raises(ValueError, match=r'NEUTRAL: unknown class folder'):
        ABAW4LSD(root)
    root2 = str(tmp_path / 'b')
    make_lsd(root2, ['ANGER', 'ANGERE'])
    with pytest.raises(ValueError, match="both map to class 'Anger'"):
        ABAW4LSD(root2)
    root3 = str(tmp_path / 'c')
    make_lsd(root3, ['ANGER'], n=0)
    with pytest.raises(ValueError, match='no images'):
        ABAW4LSD(root3)


def test_lsd_reads_synthetic_layout(tmp_path):
    from fer_mm.testing.synthetic import generate_lsd

    meta = generate_lsd(
        str(tmp_path), scale=0.0005, num_workers=1, progress=False
    )
    train = ABAW4LSD(str(tmp_path), split='train')
    val = ABAW4LSD(str(tmp_path), split='val')
    assert len(train) == sum(
        meta['counts']['training_set_synthetic_images'].values()
    )
    assert len(val) == sum(
        meta['counts']['validation_set_real_images'].values()
    )
    assert set(train.folder_map) == {
        'ANGRER',
        'DISGUST',
        'FEAR',
        'HAPPINESS',
        'SADNESS',
        'SURPRISE',
    }


def test_vocabulary_mapping_by_name():
    assert canonical_name('Angry') == 'Anger'
    assert canonical_name('happy') == 'Happiness'
    with pytest.raises(KeyError, match='unknown expression name'):
        canonical_name('Joy')
    m = label_mapping(FER2013_CATEGORIES, RAFDB_CATEGORIES)
    # FER2013 Angry(0) -> RAF-DB Anger(5), Happy(3) -> Happiness(3), ...
    assert m.tolist() == [5, 2, 1, 3, 4, 0, 6]
    assert label_mapping(AFFWILD2_CATEGORIES, LSD_CATEGORIES).tolist() == [
        -1,
        0,
        1,
        2,
        3,
        4,
        5,
        -1,
    ]
    with pytest.raises(ValueError, match=r"\['Neutral', 'Other'\]"):
        label_mapping(AFFWILD2_CATEGORIES, LSD_CATEGORIES, strict=True)
    labels = np.array([0, 1, 7, -1])
    assert remap_labels(
        labels, AFFWILD2_CATEGORIES, LSD_CATEGORIES
    ).tolist() == [-1, 0, -1, -1]


def test_rafdb_target_classes(synthetic_rafdb):
    native = RAFDB(data_root=synthetic_rafdb, split='test')
    ds = RAFDB(
        data_root=synthetic_rafdb,
        split='test',
        target_classes=AFFWILD2_CATEGORIES,
    )
    assert ds.metainfo['classes'] == AFFWILD2_CATEGORIES
    for i in range(len(ds)):
        a = RAFDB_CATEGORIES[native.get_data_info(i)['gt_label']]
        b = AFFWILD2_CATEGORIES[ds.get_data_info(i)['gt_label']]
        assert a == b


def test_landmark_file_round_trip(tmp_path, synthetic_rafdb):
    pts = np.random.default_rng(0).uniform(0, 100, (2, 68, 2))
    path = str(tmp_path / 'lm.txt')
    write_landmarks(path, ['a.jpg', 'b.jpg'], pts)
    got = load_landmarks(path)
    assert np.allclose(got['b.jpg'], pts[1], atol=0.006)
    with open(path, 'a') as f:
        f.write('c.jpg 1 2 3\n')
    with pytest.raises(ValueError, match=r'lm.txt:3: expected an image name'):
        load_landmarks(path)
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        load_landmarks(str(tmp_path / 'nope.txt'))
    # The synthetic RAF-DB tree ships landmarks for every image.
    lms = load_landmarks(
        osp.join(synthetic_rafdb, 'basic', 'Annotation', 'landmarks_68.txt')
    )
    ds = RAFDB(data_root=synthetic_rafdb, split='train')
    names = {
        osp.basename(ds.get_data_info(i)['img_path']) for i in range(len(ds))
    }
    assert names <= set(lms)


ALL_LSD = ['ANGER', 'DISGUST', 'FEAR', 'HAPPINESS', 'SADNESS', 'SURPRISE']


def test_lsd_hidden_entries_skipped_and_logged(tmp_path):
    from unittest import mock

    from mmengine.logging import MMLogger

    root = str(tmp_path)
    make_lsd(root, ALL_LSD + ['.ipynb_checkpoints'])
    split = osp.join(root, 'training_set_synthetic_images')
    open(osp.join(split, 'ANGER', '.DS_Store'), 'wb').close()
    open(osp.join(split, 'FEAR', 'notes.txt'), 'wb').close()
    logger = MMLogger.get_current_instance()
    with mock.patch.object(logger, 'info') as info:
        ds = ABAW4LSD(root)
    assert len(ds) == 12
    text = ' '.join(str(c.args[0]) for c in info.call_args_list)
    assert 'skipped 1 hidden folder (.ipynb_checkpoints)' in text
    assert 'skipped 2 files that are not images' in text


def test_lsd_missing_empty_and_nested_class_folders(tmp_path):
    root = str(tmp_path / 'a')
    make_lsd(root, ALL_LSD[:-1])
    with pytest.raises(ValueError, match=r"no folder for class 'Surprise'"):
        ABAW4LSD(root)
    # an explicit option accepts it (and the count is logged)
    assert len(ABAW4LSD(root, allow_missing_classes=True)) == 10

    root = str(tmp_path / 'b')
    make_lsd(root, ALL_LSD)
    empty = osp.join(root, 'training_set_synthetic_images', 'FEAR')
    for name in os.listdir(empty):
        os.remove(osp.join(empty, name))
    with pytest.raises(ValueError, match=r'FEAR holds no images'):
        ABAW4LSD(root)

    root = str(tmp_path / 'c')
    make_lsd(root, ALL_LSD)
    nested = osp.join(root, 'training_set_synthetic_images', 'SADNESS', 'x')
    os.makedirs(nested)
    with pytest.raises(
        ValueError, match=r'SADNESS/x: a folder inside a class'
    ):
        ABAW4LSD(root)
