# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import json
import os
import os.path as osp

import numpy as np
import pytest
from mmpretrain.registry import DATASETS

import fer_mm  # noqa: F401
from fer_mm.datasets import AffWild2
from fer_mm.datasets.categories import LSD_CATEGORIES

HEADER = 'Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other'
CH = 'EXPR_Classification_Challenge'


def make_video(
    root,
    video,
    labels,
    split='Train_Set',
    frames=None,
    frame_root='cropped_aligned',
    header=HEADER,
):
    ann = osp.join(root, 'annotations', CH, split)
    os.makedirs(ann, exist_ok=True)
    with open(osp.join(ann, f'{video}.txt'), 'w') as f:
        f.write(header + '\n')
        f.writelines(f'{y}\n' for y in labels)
    folder = osp.join(root, frame_root, video)
    os.makedirs(folder, exist_ok=True)
    for i in frames if frames is not None else range(1, len(labels) + 1):
        open(osp.join(folder, f'{i:05d}.jpg'), 'wb').close()


@pytest.fixture
def tree(tmp_path):
    root = str(tmp_path)
    # frame 3 annotated -1, frame 5 missing on disk (no face found)
    make_video(root, 'v1', [0, 4, -1, 7, 2, 1], frames=[1, 2, 3, 4, 6])
    # a two-person clip, stored under the second frame root
    make_video(root, 'v2_left', [6, 6, 5], frame_root='cropped_aligned_new')
    make_video(root, 'v2_right', [3, -1, 3], frame_root='cropped_aligned_new')
    make_video(root, 'v3', [1, 1], split='Validation_Set')
    return root


def load(root, **kw):
    kw.setdefault('frame_roots', ['cropped_aligned', 'cropped_aligned_new'])
    return AffWild2(root, **kw)


def test_join_on_index_drops_invalid_and_missing(tree):
    ds = load(tree)
    assert ds.video_names == ['v1', 'v2_left', 'v2_right']
    rows = [ds.get_data_info(i) for i in range(len(ds))]
    got = [(r['video'], r['frame'], r['gt_label']) for r in rows]
    assert got == [
        ('v1', 1, 0),
        ('v1', 2, 4),
        ('v1', 4, 7),
        ('v1', 6, 1),
        ('v2_left', 1, 6),
        ('v2_left', 2, 6),
        ('v2_left', 3, 5),
        ('v2_right', 1, 3),
        ('v2_right', 3, 3),
    ]
    assert rows[0]['img_path'] == osp.join(
        tree, 'cropped_aligned', 'v1', '00001.jpg'
    )
    assert rows[4]['img_path'] == osp.join(
        tree, 'cropped_aligned_new', 'v2_left', '00001.jpg'
    )
    assert ds.get_gt_labels().tolist() == [r[2] for r in got]
    assert ds.get_video_ids().tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2]
    assert ds.get_cat_ids(2) == [7]
    assert len(load(tree, split='val')) == 2


def test_check_frames_off_trusts_annotations(tree):
    ds = load(tree, check_frames=False)
    # frame 5 of v1 is kept (no disk check), -1 frames still dropped
    assert len(ds) == 10


def test_challenge_folder_is_configurable(tree):
    os.rename(
        osp.join(tree, 'annotations', CH),
        osp.join(tree, 'annotations', 'EXPR_Recognition_Challenge'),
    )
    with pytest.raises(FileNotFoundError, match='EXPR_Classification'):
        load(tree)
    ds = load(tree, challenge='EXPR_Recognition_Challenge')
    assert len(ds) == 9


def test_registry_pipeline_and_indices(tree):
    ds = DATASETS.build(
        dict(
            type='AffWild2',
            data_root=tree,
            indices=3,
            frame_roots=['cropped_aligned', 'cropped_aligned_new'],
            pipeline=[
                dict(
                    type='PackInputs', meta_keys=('video', 'frame', 'img_path')
                )
            ],
        )
    )
    assert len(ds) == 3
    item = ds[2]
    assert item['data_samples'].frame == 4
    assert int(item['data_samples'].gt_label) == 7


def test_cross_dataset_mapping_by_name(tree):
    # LSD has no Neutral / Other: explicit error, or drop when asked.
    with pytest.raises(ValueError, match="class 'Neutral'.*target_classes"):
        load(tree, target_classes=LSD_CATEGORIES)
    ds = load(tree, target_classes=LSD_CATEGORIES, drop_unmapped=True)
    assert ds.metainfo['classes'] == LSD_CATEGORIES
    names = [LSD_CATEGORIES[y] for y in ds.get_gt_labels()]
    # Happiness, Surprise, Surprise, Sadness, Fear, Fear (+ Anger of v1)
    assert names == [
        'Happiness',
        'Anger',
        'Surprise',
        'Surprise',
        'Sadness',
        'Fear',
        'Fear',
    ]


def test_subset_keeps_arrays(tree):
    ds = load(tree)
    sub = ds.get_subset([8, 0])
    assert len(sub) == 2 and sub.get_data_info(0)['video'] == 'v2_right'


@pytest.mark.parametrize(
    'content,match',
    [
        ('Neutral,Anger\n0\n', r'v9.txt:1: expected the header'),
        (HEADER + '\n0\nx\n', r'v9.txt:3: expected one integer label'),
        (HEADER + '\n0\n9\n', r'v9.txt:3: label 9 out of range'),
    ],
)
def test_bad_annotation_files(tree, content, match):
    path = osp.join(tree, 'annotations', CH, 'Train_Set', 'v9.txt')
    with open(path, 'w') as f:
        f.write(content)
    os.makedirs(osp.join(tree, 'cropped_aligned', 'v9'))
    with pytest.raises(ValueError, match=match):
        load(tree)


def test_missing_paths(tmp_path, tree):
    with pytest.raises(FileNotFoundError, match='annotation folder not found'):
        AffWild2(str(tmp_path / 'nowhere'))
    make_video(tree, 'v4', [0, 1])
    os.rename(
        osp.join(tree, 'cropped_aligned', 'v4'), osp.join(tree, 'elsewhere')
    )
    with pytest.raises(
        FileNotFoundError, match="no frame folder for video 'v4'"
    ):
        load(tree)
    with pytest.raises(ValueError, match='split must be one of'):
        AffWild2(tree, split='test')


def test_empty_split(tmp_path):
    make_video(str(tmp_path), 'v1', [-1, -1])
    with pytest.raises(ValueError, match='no usable frame'):
        AffWild2(str(tmp_path))


def test_reads_the_synthetic_layout(tmp_path):
    from fer_mm.testing.synthetic import generate_affwild2

    root = str(tmp_path / 'aw2')
    meta = generate_affwild2(
        root,
        num_videos=5,
        frames_per_video=(40, 60),
        val_videos=1,
        num_workers=1,
        progress=False,
    )
    train = AffWild2(root, split='train')
    val = AffWild2(root, split='val')
    videos = meta['videos']
    assert len(train) + len(val) == sum(v['usable'] for v in videos.values())
    assert sum(v['invalid'] for v in videos.values()) > 0
    assert sum(v['missing'] for v in videos.values()) > 0
    assert any(
        n.endswith('_left') for n in train.video_names + val.video_names
    )
    # per-class counts of the index equal what the generator wrote
    counts = np.zeros(8, int)
    for v in videos.values():
        if v['split'] == 'Train_Set':
            counts += v['counts']
    assert (
        np.bincount(train.get_gt_labels(), minlength=8).tolist()
        == counts.tolist()
    )
    with open(osp.join(root, 'fer_mm_synthetic.json')) as f:
        assert json.load(f)['settings']['num_videos'] == 5


@pytest.mark.parametrize(
    'body,match',
    [
        # two values on one line used to shift every later frame's label
        ('0\n3 4\n1\n', r'v9.txt:3: expected one integer label in -1\.\.7'),
        # the line numbers count blank lines
        ('0\n\n5\nx\n', r'v9.txt:3: expected one integer label.*got \'\''),
        ('0\n1\n\n\n2\n', r'v9.txt:4: expected one integer label'),
    ],
)
def test_annotation_read_line_by_line(tree, body, match):
    path = osp.join(tree, 'annotations', CH, 'Train_Set', 'v9.txt')
    with open(path, 'w') as f:
        f.write(HEADER + '\n' + body)
    os.makedirs(osp.join(tree, 'cropped_aligned', 'v9'))
    with pytest.raises(ValueError, match=match):
        load(tree)


def test_trailing_newlines_and_crlf_are_fine(tree):
    path = osp.join(tree, 'annotations', CH, 'Validation_Set', 'v3.txt')
    with open(path, 'w', newline='') as f:
        f.write(HEADER + '\r\n1\r\n2\r\n\r\n\n')
    ds = load(tree, split='val')
    assert [ds.get_data_info(i)['gt_label'] for i in range(len(ds))] == [1, 2]


def test_annotation_shorter_than_video_is_an_error(tree):
    # v5 has 4 frames on disk but 2 labels: frames 3 and 4 have no label.
    make_video(tree, 'v5', [0, 1], frames=[1, 2, 3, 4])
    with pytest.raises(ValueError) as info:
        load(tree)
    msg = str(info.value)
    assert 'v5.txt' in msg and '2 labels' in msg
    assert '2 frames on disk after the last annotated frame' in msg
    assert 'allow_length_mismatch=True' in msg


def test_length_mismatches_accepted_and_counted(tree):
    from unittest import mock

    from mmengine.logging import MMLogger

    make_video(tree, 'v5', [0, 1], frames=[1, 2, 3, 4])  # 2 unlabelled
    make_video(tree, 'v6', [0, 1, 2, 3, 4], frames=[1, 2])  # 3 past the end
    logger = MMLogger.get_current_instance()
    with mock.patch.object(logger, 'warning') as warning:
        ds = load(tree, allow_length_mismatch=True)
    text = ' '.join(str(c.args[0]) for c in warning.call_args_list)
    assert (
        'length mismatches in 2 of 5 videos: 2 frames on disk without a '
        'label (1 videos: v5), 3 labels past the last frame on disk '
        '(1 videos: v6)'
    ) in text
    frames = [
        (r['video'], r['frame']) for r in map(ds.get_data_info, range(len(ds)))
    ]
    assert ('v5', 3) not in frames and ('v5', 2) in frames
    assert ('v6', 2) in frames and ('v6', 3) not in frames
