# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""tools/dataset_converters/make_landmarks.py: dlib's 68 points on the
synthetic RAF-DB set, against the landmarks the generator drew."""

import importlib.util
import json
import os.path as osp

import numpy as np
import pytest
import torch

from fer_mm.datasets import RAFDBLandmarks, load_landmarks

pytest.importorskip('dlib', reason='requirements/landmarks.txt not installed')

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'dataset_converters', 'make_landmarks.py')
# Measured on this set (scale 0.004: 68 images of 100x100): 62 of 68 faces
# found (53 by dlib's HOG, 9 by the MTCNN fallback), mean point error
# 3.47 px (median 3.08, worst face 11.9): dlib's iBUG model on drawn faces.
MAX_MEAN_ERROR = 4.0


def _tool():
    spec = importlib.util.spec_from_file_location('make_landmarks', TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope='module')
def rafdb(tmp_path_factory):
    from fer_mm.testing.synthetic import generate_rafdb

    root = str(tmp_path_factory.mktemp('rafdb'))
    generate_rafdb(root, scale=0.004, seed=3, num_workers=1, progress=False)
    return root


def test_landmarks_match_the_generator(rafdb, tmp_path):
    torch.set_num_threads(1)
    img_root = osp.join(rafdb, 'basic', 'Image', 'aligned')
    out = str(tmp_path / 'landmarks_68.txt')
    report = _tool().main([img_root, out])
    truth = load_landmarks(
        osp.join(rafdb, 'basic', 'Annotation', 'landmarks_68.txt')
    )
    found = load_landmarks(out)
    assert report['images'] == len(truth)
    assert len(found) == report['with_landmarks'] >= 0.8 * len(truth)
    assert sorted(report['no_face']) == sorted(set(truth) - set(found))
    errors = [
        np.linalg.norm(found[n] - truth[n], axis=1).mean() for n in found
    ]
    assert np.mean(errors) < MAX_MEAN_ERROR, np.mean(errors)
    # The eye points land on the drawn eyes (a wrong point order would not).
    eyes = [
        np.linalg.norm(found[n][36:48].mean(0) - truth[n][36:48].mean(0))
        for n in found
    ]
    assert np.median(eyes) < 3.0
    # The file is what RAFDBLandmarks reads; faces without points are masked.
    ds = RAFDBLandmarks(rafdb, split='train', landmark_file=out)
    with_pts = sum(
        'gt_landmarks' in ds.get_data_info(i) for i in range(len(ds))
    )
    assert with_pts == sum(n.startswith('train') for n in found)
    with open(out + '.report.json') as f:
        assert json.load(f)['with_landmarks'] == len(found)
    assert not osp.exists(out + '.partial')


def test_killed_run_continues_from_its_partial_file(rafdb, tmp_path):
    img_root = osp.join(rafdb, 'basic', 'Image', 'aligned')
    out = str(tmp_path / 'lm.txt')
    names = _tool().list_images(img_root)
    # A killed run: three finished lines and a fourth cut short.
    fake = ' '.join(['1.00'] * 136)
    with open(out + '.partial', 'w') as f:
        f.write(''.join(f'{n} {fake}\n' for n in names[:3]))
        f.write(f'{names[3]} 1.0 2.')
    tool = _tool()
    tool.read_partial(out + '.partial')  # what the next run starts from
    with open(out + '.partial') as f:
        assert f.read().count('\n') == 3  # the cut line is gone
    report = tool.main([img_root, out])
    assert report['box_sources']['resumed'] == 3
    found = load_landmarks(out)
    for n in names[:3]:  # kept, not recomputed
        np.testing.assert_array_equal(found[n], np.ones((68, 2)))
    assert names[3] in found or names[3] in report['no_face']
    assert not np.array_equal(found.get(names[3], 0), np.ones((68, 2)))


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='image folder not found'):
        _tool().main([str(tmp_path / 'nope'), str(tmp_path / 'x.txt')])
