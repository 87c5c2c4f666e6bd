# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
""" "Is this the official copy?": the fingerprint line on build, and the file
the hook writes into the work directory."""

import json
import logging
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.logging import MMLogger
from mmengine.runner import BaseLoop
from torch.utils.data import DataLoader

import fer_mm  # noqa: F401
from fer_mm.datasets import FER2013, RAFDB, RAFDB_CATEGORIES
from fer_mm.datasets.categories import RAFDB_TEST_COUNTS
from fer_mm.engine.hooks import DatasetFingerprintHook


@pytest.fixture
def logs():
    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler()
    handler.emit = lambda r: records.append((r.levelno, r.getMessage()))
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def make_rafdb_test(root, counts=RAFDB_TEST_COUNTS, size=100):
    """A RAF-DB basic tree with the test split only, ``counts`` per class."""
    img_dir = osp.join(root, 'basic', 'Image', 'aligned')
    os.makedirs(img_dir)
    os.makedirs(osp.join(root, 'basic', 'EmoLabel'))
    ok, jpg = cv2.imencode('.jpg', np.full((size, size, 3), 128, np.uint8))
    lines, k = [], 0
    for label, n in enumerate(counts, 1):
        for _ in range(n):
            k += 1
            lines.append(f'test_{k:04d}.jpg {label}')
            jpg.tofile(osp.join(img_dir, f'test_{k:04d}_aligned.jpg'))
    path = osp.join(root, 'basic', 'EmoLabel', 'list_patition_label.txt')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def fingerprint_lines(logs):
    return [
        (lv, m)
        for lv, m in logs
        if m.startswith(('RAFDB test', 'FER2013 test'))
    ]


def test_official_rafdb_copy_matches(tmp_path, logs):
    make_rafdb_test(str(tmp_path))
    ds = RAFDB(str(tmp_path), split='test')
    lines = fingerprint_lines(logs)
    assert len(lines) == 1
    level, line = lines[0]
    assert level == logging.INFO
    assert line.startswith(
        'RAFDB test: matches the official RAF-DB basic test split (aligned '
        'images) (3068 samples, 7 classes, 100x100, digest '
    )
    fp = ds.fingerprint
    assert fp['matches'] is True and fp['differences'] == []
    assert fp['class_counts'] == dict(zip(RAFDB_CATEGORIES, RAFDB_TEST_COUNTS))
    # The digest depends on files and labels, not on where the tree lies.
    other = tmp_path / 'copy'
    make_rafdb_test(str(other))
    assert (
        RAFDB(str(other), split='test').fingerprint['digest'] == fp['digest']
    )


def test_resplit_and_resized_copy_is_reported(tmp_path, logs):
    counts = list(RAFDB_TEST_COUNTS)
    counts[1] -= 4  # four Fear images gone
    counts[6] += 1  # one more Neutral
    make_rafdb_test(str(tmp_path), counts, size=112)
    ds = RAFDB(str(tmp_path), split='test')
    level, line = fingerprint_lines(logs)[0]
    assert level == logging.WARNING
    assert 'does NOT match the official RAF-DB basic test split' in line
    assert '3065 samples (official 3068)' in line
    assert 'class counts (here/official) Fear 70/74, Neutral 681/680' in line
    assert 'image size 112x112 (official 100x100)' in line
    assert ds.fingerprint['matches'] is False
    assert len(ds.fingerprint['differences']) == 3


def test_subsets_and_remapped_labels_are_not_compared(tmp_path, logs):
    make_rafdb_test(str(tmp_path))
    RAFDB(str(tmp_path), split='test', indices=100)
    ds = RAFDB(
        str(tmp_path),
        split='test',
        target_classes=('Happiness', 'Sadness'),
        drop_unmapped=True,
    )
    lines = [m for _, m in fingerprint_lines(logs)]
    assert 'not compared: indices select a subset' in lines[0]
    assert '100 samples' in lines[0]
    assert 'not compared: target_classes remaps the labels' in lines[1]
    assert ds.fingerprint['matches'] is None
    assert ds.get_subset(5).fingerprint is None


def test_fer2013_folder_fingerprint_names_the_test_folder(tmp_path, logs):
    os.makedirs(tmp_path / 'test' / 'happy')
    cv2.imwrite(
        str(tmp_path / 'test' / 'happy' / 'PublicTest_1.png'),
        np.zeros((48, 48), np.uint8),
    )
    FER2013(str(tmp_path), split='test', layout='folders')
    level, line = fingerprint_lines(logs)[0]
    assert level == logging.WARNING
    assert 'FER2013 test folder (PublicTest + PrivateTest)' in line
    assert '1 samples (official 7178)' in line
    assert 'image size' not in line.split('(1 samples')[0]  # 48x48 is right


class _Loop(BaseLoop):
    def run(self):
        pass


class _Runner:
    def __init__(self, work_dir):
        self.work_dir = work_dir
        self.logger = MMLogger.get_current_instance()


def test_hook_writes_fingerprints_next_to_the_config(tmp_path):
    root = tmp_path / 'data'
    make_rafdb_test(str(root))
    ds = RAFDB(str(root), split='test')
    work = tmp_path / 'work'
    work.mkdir()
    runner = _Runner(str(work))
    runner._train_loop = _Loop(runner, DataLoader(ds, collate_fn=list))
    runner._val_loop = dict(type='ValLoop')  # not built: left out
    hook = DatasetFingerprintHook()
    hook.before_run(runner)
    data = json.loads((work / 'dataset_fingerprint.json').read_text())
    assert sorted(data) == ['train']
    (entry,) = data['train']
    assert entry['digest'] == ds.fingerprint['digest']
    assert entry['matches'] is True and entry['num_samples'] == 3068
    assert entry['data_root'] == str(root)
    # A later test run in the same folder adds its loop, keeps train's.
    test_runner = _Runner(str(work))
    test_runner._test_loop = _Loop(
        test_runner, DataLoader(ds.get_subset(10), collate_fn=list)
    )
    hook.before_run(test_runner)
    data = json.loads((work / 'dataset_fingerprint.json').read_text())
    assert sorted(data) == ['test', 'train']
    assert data['test'][0]['num_samples'] == 10
    assert not [p for p in os.listdir(work) if p.endswith('.tmp')]


def test_synthetic_tree_is_named_not_compared(tmp_path, logs):
    from fer_mm.testing.synthetic import generate_rafdb

    generate_rafdb(str(tmp_path), scale=0.002, num_workers=1, progress=False)
    ds = RAFDB(str(tmp_path), split='test')
    level, line = fingerprint_lines(logs)[0]
    assert level == logging.INFO
    assert (
        "fer_mm's synthetic set (fer_mm_synthetic.json in data_root)" in line
    )
    assert ds.fingerprint['matches'] is None
