# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import os
import os.path as osp
import tempfile
from unittest import TestCase

import numpy as np
import torch
from mmengine.logging import MMLogger
from mmpretrain.registry import DATASETS

import fer_mm  # noqa: F401
from fer_mm.datasets import (
    FER2013,
    FER2013_CATEGORIES,
    FERPLUS_CATEGORIES,
    FERPlus,
)

# (emotion, Usage) of the 10 rows of the small fer2013.csv; data row i is on
# line i + 2 (line 1 is the header).
ROWS = [
    (0, 'Training'),
    (3, 'Training'),
    (6, 'PublicTest'),
    (3, 'Training'),
    (5, 'PrivateTest'),
    (1, 'Training'),
    (4, 'PublicTest'),
    (3, 'PrivateTest'),
    (2, 'Training'),
    (0, 'PublicTest'),
]

# FERPlus votes for the same 10 rows: Image name, then neutral, happiness,
# surprise, sadness, anger, disgust, fear, contempt, unknown, NF.
VOTES = [
    ('fer0000000.png', [4, 0, 0, 1, 3, 2, 0, 0, 0, 0]),
    ('fer0000001.png', [6, 0, 1, 1, 0, 0, 0, 0, 2, 0]),
    ('fer0000002.png', [5, 0, 0, 3, 1, 0, 0, 1, 0, 0]),
    ('', [0, 0, 0, 0, 0, 0, 0, 0, 0, 10]),  # not a face: dropped
    ('fer0000004.png', [0, 0, 10, 0, 0, 0, 0, 0, 0, 0]),
    ('fer0000005.png', [0, 0, 0, 0, 0, 0, 0, 0, 7, 3]),  # no votes: dropped
    ('fer0000006.png', [0, 3, 0, 0, 0, 0, 0, 7, 0, 0]),
    ('fer0000007.png', [0, 10, 0, 0, 0, 0, 0, 0, 0, 0]),
    ('fer0000008.png', [1, 0, 2, 0, 0, 0, 7, 0, 0, 0]),
    ('fer0000009.png', [0, 0, 0, 0, 8, 1, 0, 0, 1, 0]),
]
FERPLUS_HEADER = (
    'Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,'
    'fear,contempt,unknown,NF'
)


def make_pixels(n, seed=0):
    return np.random.default_rng(seed).integers(
        0, 256, (n, 48, 48), dtype=np.uint8
    )


def pixel_string(img):
    return ' '.join(map(str, img.ravel().tolist()))


def write_fer2013(path, rows=ROWS, pixels=None, lines=None):
    """Write fer2013.csv; ``lines`` overrides the data lines (str)."""
    if lines is None:
        pixels = make_pixels(len(rows)) if pixels is None else pixels
        lines = [
            f'{y},{pixel_string(p)},{u}' for (y, u), p in zip(rows, pixels)
        ]
    with open(path, 'w', newline='') as f:
        f.write('emotion,pixels,Usage\n')
        f.writelines(line + '\n' for line in lines)
    return pixels


def write_ferplus(path, rows=ROWS, votes=VOTES, lines=None):
    if lines is None:
        lines = [
            f'{u},{name},' + ','.join(map(str, v))
            for (_, u), (name, v) in zip(rows, votes)
        ]
    with open(path, 'w', newline='') as f:
        f.write(FERPLUS_HEADER + '\n')
        f.writelines(line + '\n' for line in lines)


def indices_of(usage, rows=ROWS):
    return [i for i, (_, u) in enumerate(rows) if u == usage]


class _TmpDirCase(TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name
        self.csv = osp.join(self.root, 'fer2013.csv')
        self.pixels = write_fer2013(self.csv)

    def tearDown(self):
        self.tmp.cleanup()

    def replace_line(self, lineno, text, path=None):
        path = path or self.csv
        with open(path) as f:
            lines = f.read().splitlines()
        lines[lineno - 1] = text
        with open(path, 'w') as f:
            f.write('\n'.join(lines) + '\n')

    def line(self, lineno, path=None):
        with open(path or self.csv) as f:
            return f.read().splitlines()[lineno - 1]


class TestFER2013(_TmpDirCase):
    def test_labels_and_split_counts(self):
        expected = {'train': 'Training', 'val': 'PublicTest'}
        expected['test'] = 'PrivateTest'
        for split, usage in expected.items():
            rows = indices_of(usage)
            for name in (split, usage):  # the raw Usage value works too
                ds = FER2013(data_root=self.root, split=name)
                self.assertEqual(len(ds), len(rows))
                self.assertEqual(
                    ds.get_gt_labels().tolist(), [ROWS[i][0] for i in rows]
                )
        ds = FER2013(data_root=self.root)
        self.assertEqual(len(ds), 5)
        self.assertEqual(ds.CLASSES, FER2013_CATEGORIES)
        self.assertEqual(ds.get_cat_ids(1), [3])
        self.assertIn('Split: \ttrain (Usage Training)', repr(ds))

    def test_image_equals_pixels(self):
        ds = FER2013(data_root=self.root, split='val')
        self.assertEqual(ds.images.shape, (3, 48, 48))
        self.assertEqual(ds.images.dtype, np.uint8)
        for k, i in enumerate(indices_of('PublicTest')):
            info = ds.get_data_info(k)
            img = info['img']
            self.assertEqual(img.dtype, np.uint8)
            self.assertEqual(img.shape, (48, 48, 3))
            for c in range(3):
                np.testing.assert_array_equal(img[:, :, c], self.pixels[i])
            self.assertEqual(info['img_shape'], (48, 48))
            self.assertEqual(info['ori_shape'], (48, 48))
            self.assertEqual(info['img_path'], f'{self.csv}#line{i + 2}')
            self.assertEqual(info['sample_idx'], k)
        # The image handed out is a copy: a pipeline may write to it.
        info['img'][:] = 0
        np.testing.assert_array_equal(
            ds.get_data_info(2)['img'][:, :, 0], self.pixels[9]
        )

    def test_pipeline_output_shape(self):
        ds = DATASETS.build(
            dict(
                type='FER2013',
                data_root=self.root,
                split='train',
                pipeline=[
                    dict(type='Resize', scale=(64, 64)),
                    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
                    dict(type='PackInputs'),
                ],
            )
        )
        self.assertIsInstance(ds, FER2013)
        item = ds[1]
        self.assertEqual(tuple(item['inputs'].shape), (3, 64, 64))
        self.assertEqual(item['inputs'].dtype, torch.uint8)
        sample = item['data_samples']
        self.assertEqual(sample.gt_label.tolist(), [3])
        self.assertNotIn('gt_score', sample)
        self.assertEqual(sample.ori_shape, (48, 48))
        self.assertEqual(sample.img_shape, (64, 64))
        self.assertEqual(sample.img_path, f'{self.csv}#line3')

    def test_indices_subset_and_no_serialization(self):
        train = indices_of('Training')
        for serialize in (True, False):
            ds = FER2013(
                data_root=self.root, indices=[3, 1], serialize_data=serialize
            )
            self.assertEqual(len(ds), 2)
            self.assertEqual(ds.get_gt_labels().tolist(), [1, 3])
            np.testing.assert_array_equal(
                ds.get_data_info(0)['img'][:, :, 0], self.pixels[train[3]]
            )
            sub = FER2013(data_root=self.root, serialize_data=serialize)
            sub = sub.get_subset([4, 0])
            self.assertEqual(sub.get_gt_labels().tolist(), [2, 0])
            np.testing.assert_array_equal(
                sub.get_data_info(0)['img'][:, :, 0], self.pixels[train[4]]
            )

    def test_get_subset_shares_images(self):
        ds = FER2013(data_root=self.root)
        sub = ds.get_subset(2)
        self.assertIs(sub.images, ds.images)
        self.assertFalse(ds.images.flags.writeable)

    def test_lazy_init(self):
        ds = FER2013(data_root=self.root, split='test', lazy_init=True)
        self.assertEqual(len(ds.images), 0)
        self.assertEqual(len(ds), 2)
        np.testing.assert_array_equal(
            ds.get_data_info(1)['img'][:, :, 2], self.pixels[7]
        )

    def test_target_classes(self):
        ds = FER2013(
            data_root=self.root,
            target_classes=('Anger', 'Happiness'),
            drop_unmapped=True,
        )
        self.assertEqual(ds.CLASSES, ('Anger', 'Happiness'))
        # Training rows 0, 1, 3, 5, 8 have emotions 0, 3, 3, 1, 2: Disgust
        # and Fear are dropped, Angry -> 0, Happy (3) -> 1.
        self.assertEqual(ds.get_gt_labels().tolist(), [0, 1, 1])
        for k, i in enumerate([0, 1, 3]):
            np.testing.assert_array_equal(
                ds.get_data_info(k)['img'][:, :, 0], self.pixels[i]
            )
        with self.assertRaisesRegex(
            ValueError, "class 'Disgust' .* no counterpart in target_classes"
        ):
            FER2013(data_root=self.root, target_classes=('Anger', 'Happiness'))

    def test_crlf_quotes_and_formatting(self):
        # CRLF line breaks, a BOM, a quoted field, double spaces and
        # zero-padded values all decode to the same images.
        lines = [
            f'{y},{pixel_string(p)},{u}'
            for (y, u), p in zip(ROWS, self.pixels)
        ]
        lines[0] = f'0,"{pixel_string(self.pixels[0])}",Training'
        lines[1] = '3,' + '  '.join(f'{v:03d}' for v in self.pixels[1].ravel())
        lines[1] += ',Training'
        with open(self.csv, 'w', newline='', encoding='utf-8-sig') as f:
            f.write('emotion,pixels,Usage\r\n')
            f.writelines(line + '\r\n' for line in lines)
        ds = FER2013(data_root=self.root)
        train = indices_of('Training')
        np.testing.assert_array_equal(ds.images, self.pixels[train])

    def test_bad_split_argument(self):
        with self.assertRaisesRegex(
            ValueError, "split must be one of .*'val'"
        ):
            FER2013(data_root=self.root, split='validation')

    # --- bad input: each error names the file, the line and the expectation

    def test_missing_csv(self):
        os.remove(self.csv)
        with self.assertRaisesRegex(
            FileNotFoundError,
            r'CSV file not found: .*fer2013.csv \(expected the Kaggle '
            r'fer2013.csv with the columns emotion,pixels,Usage',
        ):
            FER2013(data_root=self.root)

    def test_missing_header_column(self):
        self.replace_line(1, 'emotion,pixels,usage_')
        with self.assertRaisesRegex(
            ValueError,
            r"fer2013.csv:1: header 'emotion,pixels,usage_' lacks column\(s\) "
            r"\['Usage'\]; expected a header with the columns "
            r'emotion,pixels,Usage',
        ):
            FER2013(data_root=self.root)

    def test_wrong_field_count(self):
        self.replace_line(5, self.line(5).rsplit(',', 1)[0])
        with self.assertRaisesRegex(
            ValueError,
            r'fer2013.csv:5: 2 comma-separated fields; expected 3 '
            r'\(emotion,pixels,Usage\)',
        ):
            FER2013(data_root=self.root)

    def test_wrong_pixel_count(self):
        y, pixels, usage = self.line(4).split(',')
        self.replace_line(4, f'{y},{pixels.rsplit(" ", 1)[0]},{usage}')
        with self.assertRaisesRegex(
            ValueError,
            r'fer2013.csv:4: 2303 pixel values in column "pixels"; expected '
            r'2304 \(48x48\) space-separated integers 0..255',
        ):
            FER2013(data_root=self.root, split='val')

    def test_pixel_count_moved_between_rows(self):
        # Two rows off by one in opposite directions: the total is right,
        # the rows are not.
        train = [i + 2 for i in indices_of('Training')]
        a = self.line(train[0]).split(',')
        b = self.line(train[1]).split(',')
        head, last = a[1].rsplit(' ', 1)
        a[1], b[1] = head, f'{last} {b[1]}'
        self.replace_line(train[0], ','.join(a))
        self.replace_line(train[1], ','.join(b))
        with self.assertRaisesRegex(
            ValueError, r'fer2013.csv:2: 2303 pixel values'
        ):
            FER2013(data_root=self.root)

    def test_non_integer_pixel(self):
        y, pixels, usage = self.line(11).split(',')
        values = pixels.split(' ')
        values[6] = '12.5'
        self.replace_line(11, f'{y},{" ".join(values)},{usage}')
        with self.assertRaisesRegex(
            ValueError,
            r"fer2013.csv:11: pixel 7 '12.5' is not an integer; expected "
            r'integers 0..255',
        ):
            FER2013(data_root=self.root, split='val')

    def test_pixel_out_of_range(self):
        for bad in ('256', '-1'):
            y, pixels, usage = self.line(6).split(',')
            values = pixels.split(' ')
            values[4] = bad
            self.replace_line(6, f'{y},{" ".join(values)},{usage}')
            with self.assertRaisesRegex(
                ValueError,
                rf'fer2013.csv:6: pixel 5 value {bad} is out of range; '
                r'expected integers 0..255',
            ):
                FER2013(data_root=self.root, split='test')
            write_fer2013(self.csv, pixels=self.pixels)

    def test_emotion_out_of_range(self):
        for bad in ('7', '-1', 'happy'):
            _, pixels, usage = self.line(3).split(',')
            self.replace_line(3, f'{bad},{pixels},{usage}')
            with self.assertRaisesRegex(
                ValueError,
                rf"fer2013.csv:3: emotion '{bad}' is not a label; expected an "
                r'integer 0..6 \(Anger, Disgust',
            ):
                FER2013(data_root=self.root)

    def test_unknown_usage(self):
        y, pixels, _ = self.line(8).split(',')
        self.replace_line(8, f'{y},{pixels},Validation')
        with self.assertRaisesRegex(
            ValueError,
            r"fer2013.csv:8: unknown Usage 'Validation'; expected one of "
            r'Training, PublicTest, PrivateTest',
        ):
            FER2013(data_root=self.root)

    def test_empty_split(self):
        rows = [r for r in ROWS if r[1] != 'PrivateTest']
        write_fer2013(self.csv, rows=rows)
        with self.assertRaisesRegex(
            ValueError,
            r"no 'test' samples in .*fer2013.csv \(expected rows with Usage "
            r'PrivateTest\)',
        ):
            FER2013(data_root=self.root, split='test')

    def test_not_utf8(self):
        with open(self.csv, 'ab') as f:
            f.write(b'0,\xff\xfe,Training\n')
        with self.assertRaisesRegex(
            ValueError, r'fer2013.csv:12: not UTF-8 text .*; expected a CSV'
        ):
            FER2013(data_root=self.root)


class TestFERPlus(_TmpDirCase):
    def setUp(self):
        super().setUp()
        self.new_csv = osp.join(self.root, 'fer2013new.csv')
        write_ferplus(self.new_csv)

    def expected(self, usage):
        """Hand-computed (row, soft label) of the kept rows of ``usage``."""
        out = []
        for i in indices_of(usage):
            name, votes = VOTES[i]
            votes = np.array(votes[:8], np.float32)
            if name and votes.sum() > 0:
                out.append((i, votes / votes.sum()))
        return out

    def test_soft_labels_and_dropped_rows(self):
        logger = MMLogger.get_current_instance()
        with self.assertLogs(logger, 'INFO') as logs:
            ds = FERPlus(data_root=self.root, split='train')
        self.assertEqual(ds.CLASSES, FERPLUS_CATEGORIES)
        expected = self.expected('Training')
        # Training rows 0, 1, 3, 5, 8: row 3 has no Image name, row 5 only
        # unknown / NF votes.
        self.assertEqual([i for i, _ in expected], [0, 1, 8])
        self.assertEqual(len(ds), 3)
        self.assertEqual(ds.num_dropped, 2)
        self.assertTrue(
            any('dropped 2 of 5 Training rows' in m for m in logs.output)
        )
        for k, (i, score) in enumerate(expected):
            info = ds.get_data_info(k)
            self.assertEqual(info['gt_score'].dtype, np.float32)
            np.testing.assert_array_equal(info['gt_score'], score)
            self.assertAlmostEqual(float(info['gt_score'].sum()), 1.0, 6)
            self.assertEqual(info['gt_label'], int(score.argmax()))
            # The image is row i of fer2013.csv.
            np.testing.assert_array_equal(info['img'][:, :, 1], self.pixels[i])
            self.assertEqual(info['img_path'], f'{self.new_csv}#line{i + 2}')
        # 0.4 neutral, 0.1 sadness, 0.3 anger, 0.2 disgust
        np.testing.assert_allclose(
            ds.get_data_info(0)['gt_score'],
            [0.4, 0, 0, 0.1, 0.3, 0.2, 0, 0],
            rtol=1e-6,
        )
        self.assertEqual(ds.get_gt_labels().tolist(), [0, 0, 6])

    def test_splits(self):
        for split, usage in (('val', 'PublicTest'), ('test', 'PrivateTest')):
            ds = FERPlus(data_root=self.root, split=split)
            expected = self.expected(usage)
            self.assertEqual(len(ds), len(expected))
            self.assertEqual(
                ds.get_gt_labels().tolist(),
                [int(s.argmax()) for _, s in expected],
            )

    def test_majority_mode(self):
        ds = FERPlus(data_root=self.root, split='val', label_mode='majority')
        # PublicTest rows 2, 6, 9: neutral, contempt, anger.
        self.assertEqual(ds.get_gt_labels().tolist(), [0, 7, 4])
        info = ds.get_data_info(1)
        self.assertNotIn('gt_score', info)
        np.testing.assert_array_equal(info['img'][:, :, 0], self.pixels[6])
        self.assertIn('Label mode: \tmajority', repr(ds))
        with self.assertRaisesRegex(ValueError, 'label_mode must be one of'):
            FERPlus(data_root=self.root, label_mode='hard')

    def test_pack_inputs_gt_score(self):
        ds = DATASETS.build(
            dict(
                type='FERPlus',
                data_root=self.root,
                split='val',
                pipeline=[
                    dict(type='Resize', scale=(64, 64)),
                    dict(type='PackInputs'),
                ],
            )
        )
        item = ds[0]
        self.assertEqual(tuple(item['inputs'].shape), (3, 64, 64))
        sample = item['data_samples']
        self.assertEqual(sample.gt_label.tolist(), [0])
        self.assertIn('gt_score', sample)
        self.assertEqual(tuple(sample.gt_score.shape), (8,))
        torch.testing.assert_close(
            sample.gt_score,
            torch.tensor([5, 0, 0, 3, 1, 0, 0, 1], dtype=torch.float32) / 10,
        )

    def test_target_classes_soft(self):
        # FER2013's 7 classes have no Contempt: its votes are removed and the
        # rest renormalised; a face with only contempt votes besides Happiness
        # keeps Happiness.
        ds = FERPlus(
            data_root=self.root,
            split='val',
            target_classes=FER2013_CATEGORIES,
        )
        self.assertEqual(ds.CLASSES, FER2013_CATEGORIES)
        score = ds.get_data_info(0)['gt_score']
        # neutral 5, sadness 3, anger 1 (contempt 1 removed) in FER2013 order
        np.testing.assert_allclose(
            score, np.array([1, 0, 0, 0, 3, 0, 5], np.float32) / 9, rtol=1e-6
        )
        self.assertEqual(ds.get_gt_labels().tolist(), [6, 3, 0])

    def test_row_count_mismatch(self):
        write_ferplus(self.new_csv, rows=ROWS[:9], votes=VOTES[:9])
        with self.assertRaisesRegex(
            ValueError,
            r'fer2013new.csv has 9 data rows but .*fer2013.csv has 10; '
            r'expected the same rows in the same order',
        ):
            FERPlus(data_root=self.root)

    def test_usage_mismatch(self):
        rows = list(ROWS)
        rows[6] = (4, 'PrivateTest')
        write_ferplus(self.new_csv, rows=rows)
        with self.assertRaisesRegex(
            ValueError,
            r"data row 7 has Usage 'PrivateTest' at .*fer2013new.csv:8 but "
            r"'PublicTest' at .*fer2013.csv:8; expected the two files to list"
            r' the same rows in the same order',
        ):
            FERPlus(data_root=self.root)

    def test_missing_files(self):
        os.remove(self.csv)
        with self.assertRaisesRegex(
            FileNotFoundError,
            r'CSV file not found: .*fer2013.csv \(expected the FER2013 pixels',
        ):
            FERPlus(data_root=self.root)
        os.remove(self.new_csv)
        with self.assertRaisesRegex(
            FileNotFoundError,
            r'CSV file not found: .*fer2013new.csv \(expected the FERPlus '
            r'votes',
        ):
            FERPlus(data_root=self.root)

    def test_missing_vote_column(self):
        self.replace_line(
            1, FERPLUS_HEADER.replace('contempt', 'contemp'), self.new_csv
        )
        with self.assertRaisesRegex(
            ValueError,
            r"fer2013new.csv:1: header .* lacks column\(s\) \['contempt'\]; "
            r'expected a header with the columns Usage,Image name,neutral',
        ):
            FERPlus(data_root=self.root)

    def test_bad_vote(self):
        self.replace_line(
            4, 'PublicTest,fer0000002.png,5,0,x,3,1,0,0,1,0,0', self.new_csv
        )
        with self.assertRaisesRegex(
            ValueError,
            r"fer2013new.csv:4: surprise vote 'x' is not a vote count; "
            r'expected a number >= 0',
        ):
            FERPlus(data_root=self.root)

    def test_unknown_usage(self):
        self.replace_line(
            2, 'Train,fer0000000.png,4,0,0,1,3,2,0,0,0,0', self.new_csv
        )
        with self.assertRaisesRegex(
            ValueError,
            r"fer2013new.csv:2: unknown Usage 'Train'; expected one of "
            r'Training, PublicTest, PrivateTest',
        ):
            FERPlus(data_root=self.root)

    def test_bad_pixels_named_in_pixel_file(self):
        y, pixels, usage = self.line(10).split(',')
        self.replace_line(10, f'{y},{pixels} 7,{usage}')
        with self.assertRaisesRegex(
            ValueError, r'fer2013.csv:10: 2305 pixel values'
        ):
            FERPlus(data_root=self.root)

    def test_empty_split(self):
        votes = [
            (n, [0] * 8 + v[8:]) if u == 'PrivateTest' else (n, v)
            for (_, u), (n, v) in zip(ROWS, VOTES)
        ]
        write_ferplus(self.new_csv, votes=votes)
        with self.assertRaisesRegex(
            ValueError,
            r"no 'test' samples in .*fer2013new.csv \(expected rows with "
            r'Usage PrivateTest and votes on the 8 classes; 2 rows with that '
            r'Usage, all without votes\)',
        ):
            FERPlus(data_root=self.root, split='test')


def test_reads_synthetic_csv(tmp_path):
    from fer_mm.testing.synthetic import generate_fer2013

    meta = generate_fer2013(
        str(tmp_path), scale=0.005, seed=0, num_workers=1, progress=False
    )
    for split, usage in (('train', 'Training'), ('test', 'PrivateTest')):
        ds = FER2013(data_root=str(tmp_path), split=split)
        counts = np.bincount(ds.get_gt_labels(), minlength=7).tolist()
        assert counts == meta['counts'][usage]
