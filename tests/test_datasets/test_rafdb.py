# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import os
import os.path as osp
from unittest import TestCase

import cv2
import numpy as np
import pytest
from mmpretrain.registry import DATASETS

import fer_mm  # noqa: F401
from fer_mm.datasets import RAFDB, RAFDB_CATEGORIES

# name, label as written in the list file (1-based)
ENTRIES = [
    ('train_00001.jpg', 5),
    ('train_00002.jpg', 1),
    ('test_0001.jpg', 7),
    ('train_00003.jpg', 7),
    ('test_0002.jpg', 3),
]


def make_tree(root, entries=ENTRIES, aligned=True, original=True):
    img_dir = osp.join(root, 'basic', 'Image')
    os.makedirs(osp.join(img_dir, 'aligned'), exist_ok=True)
    os.makedirs(osp.join(img_dir, 'original'), exist_ok=True)
    os.makedirs(osp.join(root, 'basic', 'EmoLabel'), exist_ok=True)
    img = np.full((100, 100, 3), 128, np.uint8)
    for name, _ in entries:
        stem = osp.splitext(name)[0]
        if aligned:
            cv2.imwrite(
                osp.join(img_dir, 'aligned', f'{stem}_aligned.jpg'), img
            )
        if original:
            cv2.imwrite(osp.join(img_dir, 'original', name), img)
    list_file = osp.join(root, 'basic', 'EmoLabel', 'list_patition_label.txt')
    with open(list_file, 'w') as f:
        f.writelines(f'{n} {y}\n' for n, y in entries)
    return list_file


class TestRAFDB(TestCase):
    def setUp(self):
        import tempfile

        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name
        self.list_file = make_tree(self.root)

    def tearDown(self):
        self.tmp.cleanup()

    def test_parse_train(self):
        ds = DATASETS.build(
            dict(type='RAFDB', data_root=self.root, split='train')
        )
        self.assertIsInstance(ds, RAFDB)
        self.assertEqual(len(ds), 3)
        self.assertEqual(ds.CLASSES, RAFDB_CATEGORIES)
        labels = [ds.get_data_info(i)['gt_label'] for i in range(len(ds))]
        # 1-based in the file, 0-based in fer_mm: 5 -> 4 (Sadness) ...
        self.assertEqual(labels, [4, 0, 6])
        self.assertEqual(ds.CLASSES[labels[0]], 'Sadness')
        paths = [ds.get_data_info(i)['img_path'] for i in range(len(ds))]
        self.assertEqual(
            [osp.basename(p) for p in paths],
            [
                'train_00001_aligned.jpg',
                'train_00002_aligned.jpg',
                'train_00003_aligned.jpg',
            ],
        )
        self.assertTrue(all(osp.isfile(p) for p in paths))
        self.assertIn('Split: \ttrain', repr(ds))

    def test_parse_test_split_and_original(self):
        ds = RAFDB(data_root=self.root, split='test')
        self.assertEqual(
            [ds.get_data_info(i)['gt_label'] for i in range(len(ds))], [6, 2]
        )
        ds = RAFDB(data_root=self.root, split='test', aligned=False)
        self.assertEqual(
            [
                osp.basename(ds.get_data_info(i)['img_path'])
                for i in range(len(ds))
            ],
            ['test_0001.jpg', 'test_0002.jpg'],
        )

    def test_pipeline_loads_image(self):
        ds = RAFDB(
            data_root=self.root,
            split='train',
            pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')],
        )
        item = ds[0]
        self.assertEqual(tuple(item['inputs'].shape), (3, 100, 100))
        self.assertEqual(int(item['data_samples'].gt_label), 4)

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, "split must be 'train'"):
            RAFDB(data_root=self.root, split='val')
        with self.assertRaisesRegex(ValueError, 'subset must be one of'):
            RAFDB(data_root=self.root, subset='basik')

    def test_missing_list_file(self):
        os.remove(self.list_file)
        with self.assertRaisesRegex(
            FileNotFoundError, 'list_patition_label.txt'
        ):
            RAFDB(data_root=self.root)

    def test_unparsable_line(self):
        with open(self.list_file, 'a') as f:
            f.write('train_00009.jpg five\n')
        with self.assertRaisesRegex(
            ValueError, r'list_patition_label.txt:6: cannot parse'
        ):
            RAFDB(data_root=self.root)

    def test_label_out_of_range(self):
        make_tree(self.root, ENTRIES[:2] + [('train_00004.jpg', 8)])
        with self.assertRaisesRegex(
            ValueError,
            r'list_patition_label.txt:3: label 8 out of range; '
            r'expected 1..7',
        ):
            RAFDB(data_root=self.root)

    def test_missing_image(self):
        os.remove(
            osp.join(
                self.root,
                'basic',
                'Image',
                'aligned',
                'train_00003_aligned.jpg',
            )
        )
        with self.assertRaisesRegex(
            FileNotFoundError,
            r'train_00003_aligned.jpg listed at .*'
            r'list_patition_label.txt:4 does not exist',
        ):
            RAFDB(data_root=self.root)
        # Without the check the loader trusts the list file.
        ds = RAFDB(data_root=self.root, check_files=False)
        self.assertEqual(len(ds), 3)

    def _aligned(self, name):
        return osp.join(self.root, 'basic', 'Image', 'aligned', name)

    def test_repeated_line(self):
        # train_00002.jpg is line 2; appended again it becomes line 6.
        with open(self.list_file, 'a') as f:
            f.write('train_00002.jpg 1\n')
        with self.assertRaisesRegex(
            ValueError,
            r"list_patition_label.txt:6: 'train_00002.jpg' is listed again "
            r'\(first at line 2\)',
        ):
            RAFDB(data_root=self.root)
        # A repeat in the other split is caught too (the list is shared).
        make_tree(self.root, ENTRIES + [('test_0001.jpg', 7)])
        with self.assertRaisesRegex(ValueError, r':6: .*first at line 3'):
            RAFDB(data_root=self.root, split='train')

    def test_zero_byte_image(self):
        open(self._aligned('train_00003_aligned.jpg'), 'wb').close()
        with self.assertRaisesRegex(
            ValueError,
            r'train_00003_aligned.jpg listed at .*'
            r'list_patition_label.txt:4 is empty \(0 bytes\)',
        ):
            RAFDB(data_root=self.root)

    def test_unreadable_image_named_by_pipeline(self):
        from fer_mm.datasets import ImageLoadError

        pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
        # Without the start-up check, the pipeline failure names the file:
        # an empty file (OpenCV's bare '!buf.empty()' assertion) ...
        open(self._aligned('train_00001_aligned.jpg'), 'wb').close()
        ds = RAFDB(data_root=self.root, check_files=False, pipeline=pipeline)
        with self.assertRaisesRegex(
            ImageLoadError,
            r'RAFDB: sample 0: image .*train_00001_aligned.jpg is empty '
            r'\(0 bytes\)',
        ):
            ds[0]
        # ... and a file that is not an image.
        with open(self._aligned('train_00002_aligned.jpg'), 'w') as f:
            f.write('not a jpeg')
        with self.assertRaisesRegex(
            ImageLoadError,
            r'sample 1: image .*train_00002_aligned.jpg could not be decoded',
        ):
            ds[1]
        # The intact third image still loads.
        self.assertEqual(tuple(ds[2]['inputs'].shape), (3, 100, 100))

    def test_empty_split(self):
        make_tree(self.root, [e for e in ENTRIES if e[0].startswith('test')])
        with self.assertRaisesRegex(ValueError, "no 'train' samples"):
            RAFDB(data_root=self.root, split='train')

    def test_compound_subset(self):
        root = osp.join(self.root, 'c')
        make_tree(root, [('train_0001.jpg', 11), ('train_0002.jpg', 1)])
        os.rename(osp.join(root, 'basic'), osp.join(root, 'compound'))
        ds = RAFDB(data_root=root, subset='compound')
        self.assertEqual(len(ds.CLASSES), 11)
        self.assertEqual(
            [ds.get_data_info(i)['gt_label'] for i in range(2)], [10, 0]
        )


@pytest.mark.parametrize('split', ['train', 'test'])
def test_reads_synthetic_tree(synthetic_rafdb, split):
    from fer_mm.datasets.categories import (
        RAFDB_TEST_COUNTS,
        RAFDB_TRAIN_COUNTS,
    )
    from fer_mm.testing.synthetic import scaled_counts

    counts = scaled_counts(
        RAFDB_TRAIN_COUNTS if split == 'train' else RAFDB_TEST_COUNTS, 0.02
    )
    ds = RAFDB(data_root=synthetic_rafdb, split=split)
    assert len(ds) == sum(counts)
    labels = [ds.get_data_info(i)['gt_label'] for i in range(len(ds))]
    assert np.bincount(labels).tolist() == counts
