# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""FER2013 and FERPlus: 48x48 gray faces stored as pixel strings in CSVs.

The images never exist as files: the ``pixels`` column of ``fer2013.csv`` is
decoded once at load time into one ``(N, 48, 48)`` uint8 array, and
:meth:`get_data_info` hands each sample to the pipeline as an in-memory
``img`` (48x48x3 uint8, the gray plane stacked three times), so pipelines
start directly with ``Resize`` / ``RandomFlip`` / ``PackInputs`` and need no
``LoadImageFromFile``.
"""

import os.path as osp
from typing import List, Optional, Tuple

import numpy as np
from mmengine.logging import MMLogger
from mmengine.utils import is_abs
from mmpretrain.registry import DATASETS

from .base_fer import FERDataset
from .categories import FER2013_CATEGORIES, FERPLUS_CATEGORIES
from .fer2013_csv import (
    _INT_RE,
    FER2013_SIZE,
    _iter_csv,
    _PixelDecoder,
)
from .fer2013_folders import USAGE_PREFIXES, read_class_folders
from .fingerprint import official

#: ``split`` names and the ``Usage`` value each selects.
FER2013_SPLITS = {
    'train': 'Training',
    'val': 'PublicTest',
    'test': 'PrivateTest',
}
#: Per-class counts of each Usage of the released fer2013.csv (FER2013 order:
#: Angry, Disgust, Fear, Happy, Sad, Surprise, Neutral), as commonly reported
#: for that file (not re-counted here: the file cannot be shipped); each
#: split's counts sum to its published size (28,709 / 3,589 / 3,589), and the
#: folder release's test/ holds PublicTest + PrivateTest (7,178).
FER2013_OFFICIAL_COUNTS = {
    'Training': (3995, 436, 4097, 7215, 4830, 3171, 4965),
    'PublicTest': (467, 56, 496, 895, 653, 415, 607),
    'PrivateTest': (491, 55, 528, 879, 594, 416, 626),
}
#: The ``Usage`` values of fer2013.csv / fer2013new.csv.
FER2013_USAGES = ('Training', 'PublicTest', 'PrivateTest')
#: The vote columns of fer2013new.csv that are classes (FERPLUS order).
FERPLUS_VOTE_COLUMNS = tuple(c.lower() for c in FERPLUS_CATEGORIES)


def _usage_of(name: str, split: str) -> str:
    """The ``Usage`` value a ``split`` argument selects."""
    usage = FER2013_SPLITS.get(split, split)
    if usage not in FER2013_USAGES:
        raise ValueError(
            f'{name}: split must be one of {list(FER2013_SPLITS)} or a Usage '
            f'value {list(FER2013_USAGES)}, got {split!r}'
        )
    return usage


def _join_root(data_root: Optional[str], path: str) -> str:
    """Join ``path`` to ``data_root`` the way BaseDataset joins ann_file."""
    if path and data_root and not is_abs(path):
        return osp.join(data_root, path)
    return path


class _InMemoryFERDataset(FERDataset):
    """A FERDataset whose images are rows of one in-memory uint8 array.

    ``load_data_list`` of a subclass fills :attr:`images` and returns small
    dicts with ``img_index`` (the row of :attr:`images`), ``img_path`` (an
    identifier, not a file), ``gt_label`` and optionally ``gt_score``. These
    go through the usual ``filter_data`` (``target_classes``), ``indices``
    and serialisation; :meth:`get_data_info` adds the image on demand.
    """

    def __init__(self, *args, **kwargs):
        self.images = np.zeros((0, FER2013_SIZE, FER2013_SIZE), np.uint8)
        super().__init__(*args, **kwargs)

    def _get_ann_info(self, idx: int) -> dict:
        """The annotation of sample ``idx`` without the image."""
        return super().get_data_info(idx)

    def get_data_info(self, idx: int) -> dict:
        """Sample ``idx`` with its image: ``img`` is 48x48x3 uint8 (BGR).

        Args:
            idx (int): Index of the sample.

        Returns:
            dict: ``img``, ``img_shape``, ``ori_shape``, ``gt_label``
            (and ``gt_score``), ``img_path``, ``img_index``, ``sample_idx``.
        """
        info = self._get_ann_info(idx)
        gray = self.images[info['img_index']]
        img = np.repeat(gray[:, :, None], 3, axis=2)
        info['img'] = img
        info['img_shape'] = img.shape[:2]
        info['ori_shape'] = img.shape[:2]
        return info

    def get_gt_labels(self) -> np.ndarray:
        """All ground-truth labels (without decoding images)."""
        return np.array(
            [self._get_ann_info(i)['gt_label'] for i in range(len(self))],
            dtype=np.int64,
        )

    def get_cat_ids(self, idx: int) -> List[int]:
        """The class of sample ``idx`` (without building its image)."""
        return [int(self._get_ann_info(idx)['gt_label'])]

    def _copy_without_annotation(self, memo=None) -> '_InMemoryFERDataset':
        # ``get_subset`` deep-copies every attribute but the annotations;
        # share the read-only image array instead of copying it.
        memo = {} if memo is None else memo
        memo[id(self.images)] = self.images
        return super()._copy_without_annotation(memo)


@DATASETS.register_module()
class FER2013(_InMemoryFERDataset):
    """The FER2013 dataset (ICML 2013 facial expression challenge).

    Paper: `Challenges in Representation Learning: A report on three machine
    learning contests <https://arxiv.org/abs/1307.0414>`_.

    Two layouts are read. ``layout='csv'``, the original release::

        data_root/
        └── fer2013.csv        # emotion,pixels,Usage
                               # 0,70 80 82 ... (2304 values),Training

    ``layout='folders'``, the image-folder release most people download
    (Kaggle), 48x48 gray PNG or JPEG files under emotion-name folders::

        data_root/
        ├── train/             # 28,709 images (Usage Training)
        │   ├── angry/Training_3908.jpg
        │   └── disgust/ fear/ happy/ neutral/ sad/ surprise/
        └── test/              # 7,178 images (PublicTest + PrivateTest)
            └── angry/PublicTest_1034.jpg ... surprise/PrivateTest_9934.jpg

    Folder names are matched case-insensitively through the canonical
    vocabulary (``angry`` -> Anger, ``happy`` -> Happiness, ...) onto the
    same classes as the CSV, and the mapping is logged; any other folder is an
    error, and files without an image extension are counted in the log.
    There, ``split`` is the folder (``'train'`` or ``'test'``) and ``usage``
    may keep one of the CSV's test splits by file-name prefix.

    ``emotion`` is 0..6 = Angry, Disgust, Fear, Happy, Sad, Surprise, Neutral
    (:data:`FER2013_CATEGORIES`, in canonical names). ``pixels`` holds the
    48x48 gray face as 2304 space-separated integers 0..255, row-major.
    ``Usage`` is Training (28,709 rows), PublicTest (3,589) or PrivateTest
    (3,589).

    All rows of the split are decoded at load time into one read-only
    ``(N, 48, 48)`` uint8 array (:attr:`images`, 2,304 bytes a sample: 66 MB
    for Training). :meth:`get_data_info` returns the sample's image as
    ``img`` (48x48x3 uint8, the gray plane stacked into BGR) with
    ``img_shape``/``ori_shape``, so the pipeline needs no
    ``LoadImageFromFile``. ``img_path`` is an identifier,
    ``'<ann_file>#line<n>'`` (``n`` = the CSV line), not a file.

    Every row is checked for its Usage and emotion; the pixels of the rows of
    the split are checked while decoding. A bad row raises an error naming the
    file, the line and what was expected.

    Args:
        data_root (str): The folder holding ``fer2013.csv`` (or ``train/``
            and ``test/``).
        ann_file (str): The CSV, relative to ``data_root``. Defaults to
            ``'fer2013.csv'``.
        split (str): CSV: ``'train'`` (Usage Training), ``'val'``
            (PublicTest) or ``'test'`` (PrivateTest), or a Usage value
            itself. Folders: ``'train'`` or ``'test'`` (the folder).
            Defaults to ``'train'``.
        layout (str): ``'csv'`` or ``'folders'``. Defaults to ``'csv'``.
        usage (str, optional): Folders only: keep the files named
            ``<usage>_*`` (``'PublicTest'`` or ``'PrivateTest'``, the CSV's
            val and test splits inside ``test/``). Defaults to None (all).
        **kwargs: Other arguments of :class:`fer_mm.datasets.FERDataset`
            (``target_classes``, ``drop_unmapped``) and
            :class:`mmpretrain.datasets.BaseDataset` (``pipeline``,
            ``test_mode``, ``indices`` ...).

    Examples:
        >>> from fer_mm.datasets import FER2013
        >>> train = FER2013(data_root='data/fer2013', split='train')
        >>> train
        Dataset FER2013
            Number of samples:  28709
            Number of categories:       7
            Annotation file:    data/fer2013/fer2013.csv
            Split:      train (Usage Training)
        >>> info = train.get_data_info(0)
        >>> info['img'].shape, info['img'].dtype, info['img_path']
        ((48, 48, 3), dtype('uint8'), 'data/fer2013/fer2013.csv#line2')
    """

    METAINFO = {'classes': FER2013_CATEGORIES}
    LAYOUTS = ('csv', 'folders')
    FOLDER_SPLITS = ('train', 'test')

    def __init__(
        self,
        data_root: str,
        ann_file: str = 'fer2013.csv',
        split: str = 'train',
        layout: str = 'csv',
        usage: Optional[str] = None,
        **kwargs,
    ):
        if layout not in self.LAYOUTS:
            raise ValueError(
                f'FER2013: layout must be one of {list(self.LAYOUTS)}, got '
                f'{layout!r}'
            )
        self.split = split
        self.layout = layout
        if layout == 'folders':
            if split not in self.FOLDER_SPLITS:
                raise ValueError(
                    f"FER2013: with layout='folders' split is the folder, "
                    f"'train' or 'test', got {split!r}; the CSV's val and "
                    "test splits are usage='PublicTest' / 'PrivateTest' of "
                    "split='test'"
                )
            if usage is not None and usage not in USAGE_PREFIXES:
                raise ValueError(
                    f'FER2013: usage must be one of {list(USAGE_PREFIXES)}, '
                    f'got {usage!r}'
                )
            self.usage = usage
            ann_file = ''
            kwargs.setdefault('data_prefix', split)
        else:
            if usage is not None:
                raise ValueError(
                    "FER2013: usage is for layout='folders'; with the CSV "
                    'choose the Usage by split'
                )
            self.usage = _usage_of('FER2013', split)
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Decode the split's images (see the class docstring)."""
        if self.layout == 'folders':
            return self._load_folders()
        path = self.ann_file
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'FER2013: CSV file not found: {path} (expected the Kaggle '
                'fer2013.csv with the columns emotion,pixels,Usage)'
            )
        num_classes = len(FER2013_CATEGORIES)
        decoder = _PixelDecoder(path, 'FER2013')
        labels, linenos = [], []
        for lineno, (emotion, pixels, usage) in _iter_csv(
            path, 'FER2013', ('emotion', 'pixels', 'Usage')
        ):
            usage = usage.strip()
            if usage not in FER2013_USAGES:
                raise ValueError(
                    f'FER2013: {path}:{lineno}: unknown Usage {usage!r}; '
                    f'expected one of {", ".join(FER2013_USAGES)}'
                )
            emotion = emotion.strip()
            if not _INT_RE.fullmatch(emotion) or not (
                0 <= int(emotion) < num_classes
            ):
                raise ValueError(
                    f'FER2013: {path}:{lineno}: emotion {emotion!r} is not a '
                    f'label; expected an integer 0..{num_classes - 1} '
                    f'({", ".join(FER2013_CATEGORIES)})'
                )
            if usage != self.usage:
                continue
            decoder.add(lineno, pixels)
            labels.append(int(emotion))
            linenos.append(lineno)
        if not labels:
            raise ValueError(
                f'FER2013: no {self.split!r} samples in {path} (expected rows '
                f'with Usage {self.usage})'
            )
        self.images = decoder.result()
        return [
            dict(img_index=i, img_path=f'{path}#line{lineno}', gt_label=label)
            for i, (lineno, label) in enumerate(zip(linenos, labels))
        ]

    def official_spec(self):
        """The published size and class counts of the split."""
        if self.layout == 'csv' or self.split == 'train' or self.usage:
            usage = self.usage or 'Training'
            counts = FER2013_OFFICIAL_COUNTS[usage]
            name = f'FER2013 {usage} split'
        else:  # the folder release's test/: both test splits
            counts = np.add(
                FER2013_OFFICIAL_COUNTS['PublicTest'],
                FER2013_OFFICIAL_COUNTS['PrivateTest'],
            )
            name = 'FER2013 test folder (PublicTest + PrivateTest)'
        return official(
            name,
            FER2013_CATEGORIES,
            counts,
            image_size=(FER2013_SIZE, FER2013_SIZE),
            source='per-class counts commonly reported for fer2013.csv',
        )

    def _load_folders(self) -> List[dict]:
        root = self.data_prefix['img_path']
        if not osp.isdir(root):
            raise FileNotFoundError(
                f'FER2013: folder not found: {root} (expected '
                f'<data_root>/{self.split}/<emotion>/*.jpg of the image-folder '
                'release)'
            )
        images, labels, paths, mapping, others = read_class_folders(
            root, self.usage
        )
        logger = MMLogger.get_current_instance()
        logger.info(
            'FER2013: class folders '
            + ', '.join(
                f'{f} -> {FER2013_CATEGORIES[i]}' for f, i in mapping.items()
            )
        )
        if others:
            logger.info(
                f'FER2013: ignored {len(others)} files under {root} without '
                f'an image extension, e.g. {others[0]}'
            )
        if not labels:
            raise ValueError(
                f'FER2013: no images under {root}/<emotion>/'
                + (f' named {self.usage}_*' if self.usage else '')
            )
        self.images = images
        return [
            dict(img_index=i, img_path=path, gt_label=label)
            for i, (path, label) in enumerate(zip(paths, labels))
        ]

    def extra_repr(self) -> List[str]:
        if self.layout == 'folders':
            return [
                f'Image folder: \t{self.data_prefix["img_path"]}',
                f'Split: \t{self.split}'
                + (f' (Usage {self.usage})' if self.usage else ''),
            ]
        return [
            f'Annotation file: \t{self.ann_file}',
            f'Split: \t{self.split} (Usage {self.usage})',
        ]


@DATASETS.register_module()
class FERPlus(_InMemoryFERDataset):
    """FERPlus: FER2013's faces relabelled by 10 annotators each.

    Paper: `Training Deep Networks for Facial Expression Recognition with
    Crowd-Sourced Label Distribution <https://arxiv.org/abs/1608.01041>`_.

    The expected layout (``fer2013new.csv`` from microsoft/FERPlus next to
    the Kaggle ``fer2013.csv``)::

        data_root/
        ├── fer2013new.csv   # Usage,Image name,neutral,happiness,surprise,
        │                    #   sadness,anger,disgust,fear,contempt,unknown,NF
        │                    # Training,fer0000000.png,4,0,0,1,3,2,0,0,0,0
        └── fer2013.csv      # emotion,pixels,Usage (the pixels)

    Row ``i`` of ``fer2013new.csv`` is row ``i`` of ``fer2013.csv``: the row
    counts and the Usage of every row must agree. The votes for the 8 classes
    (:data:`FERPLUS_CATEGORIES`; ``unknown`` and ``NF`` are no classes) give
    the labels:

    - ``label_mode='soft'``: ``gt_score`` = the 8 votes normalised to sum 1
      (float32) and ``gt_label`` = their argmax (ties: the first class in
      FERPlus order);
    - ``label_mode='majority'``: ``gt_label`` = the argmax only.

    Rows without votes on the 8 classes (an empty ``Image name`` or all-zero
    votes, i.e. faces the annotators rejected) are dropped, and their count
    is logged. Images are held in memory as in :class:`FER2013`.

    Args:
        data_root (str): The folder holding both CSVs.
        ann_file (str): The FERPlus votes, relative to ``data_root``.
            Defaults to ``'fer2013new.csv'``.
        pixel_file (str): The FER2013 CSV with the pixels, relative to
            ``data_root``. Defaults to ``'fer2013.csv'``.
        split (str): ``'train'`` (Usage Training), ``'val'`` (PublicTest) or
            ``'test'`` (PrivateTest), or a Usage value itself. Defaults to
            ``'train'``.
        label_mode (str): ``'soft'`` or ``'majority'``. Defaults to
            ``'soft'``.
        **kwargs: Other arguments of :class:`fer_mm.datasets.FERDataset`
            (``target_classes`` maps ``gt_score`` column-wise) and
            :class:`mmpretrain.datasets.BaseDataset`.

    Examples:
        >>> from fer_mm.datasets import FERPlus
        >>> ds = FERPlus(data_root='data/fer2013', split='val')
        >>> ds.metainfo['classes'][:3]
        ('Neutral', 'Happiness', 'Surprise')
        >>> info = ds.get_data_info(0)
        >>> info['gt_score'].dtype, float(info['gt_score'].sum())
        (dtype('float32'), 1.0)
        >>> int(info['gt_label']) == int(info['gt_score'].argmax())
        True
    """

    METAINFO = {'classes': FERPLUS_CATEGORIES}
    LABEL_MODES = ('soft', 'majority')
    NO_OFFICIAL = (
        'no reference counts: FERPlus publishes none after dropping the rows '
        'without votes; compare two runs by the digest'
    )

    def __init__(
        self,
        data_root: str,
        ann_file: str = 'fer2013new.csv',
        pixel_file: str = 'fer2013.csv',
        split: str = 'train',
        label_mode: str = 'soft',
        **kwargs,
    ):
        if label_mode not in self.LABEL_MODES:
            raise ValueError(
                f'FERPlus: label_mode must be one of {list(self.LABEL_MODES)}'
                f', got {label_mode!r}'
            )
        self.split = split
        self.usage = _usage_of('FERPlus', split)
        self.label_mode = label_mode
        self.pixel_file = _join_root(data_root, pixel_file)
        self.num_dropped = 0
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    def _read_votes(self) -> Tuple[List[Tuple[str, int]], List[tuple]]:
        """``(Usage, line)`` of every row; ``(row, line, name, votes)`` of
        the rows of the split."""
        path = self.ann_file
        columns = ('Usage', 'Image name') + FERPLUS_VOTE_COLUMNS
        usages, selected = [], []
        for lineno, fields in _iter_csv(path, 'FERPlus', columns):
            usage, image_name = fields[0].strip(), fields[1].strip()
            if usage not in FER2013_USAGES:
                raise ValueError(
                    f'FERPlus: {path}:{lineno}: unknown Usage {usage!r}; '
                    f'expected one of {", ".join(FER2013_USAGES)}'
                )
            votes = np.zeros(len(FERPLUS_VOTE_COLUMNS), np.float32)
            for k, (column, value) in enumerate(
                zip(FERPLUS_VOTE_COLUMNS, fields[2:])
            ):
                try:
                    votes[k] = float(value)
                except ValueError:
                    votes[k] = np.nan
                if not np.isfinite(votes[k]) or votes[k] < 0:
                    raise ValueError(
                        f'FERPlus: {path}:{lineno}: {column} vote {value!r} '
                        'is not a vote count; expected a number >= 0'
                    )
            row = len(usages)
            usages.append((usage, lineno))
            if usage == self.usage:
                selected.append((row, lineno, image_name, votes))
        return usages, selected

    def load_data_list(self) -> List[dict]:
        """Join the votes with the pixels (see the class docstring)."""
        for path, what in (
            (self.ann_file, 'the FERPlus votes (fer2013new.csv)'),
            (self.pixel_file, 'the FER2013 pixels (fer2013.csv)'),
        ):
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'FERPlus: CSV file not found: {path} (expected {what} '
                    'under data_root)'
                )
        usages, selected = self._read_votes()
        keep = {}
        for row, lineno, image_name, votes in selected:
            if image_name and votes.sum() > 0:
                keep[row] = (lineno, votes)
        self.num_dropped = len(selected) - len(keep)

        decoder = _PixelDecoder(self.pixel_file, 'FERPlus')
        num_rows = 0
        for lineno, (pixels, usage) in _iter_csv(
            self.pixel_file, 'FERPlus', ('pixels', 'Usage')
        ):
            row = num_rows
            num_rows += 1
            if row >= len(usages):
                continue  # counted, reported below
            usage = usage.strip()
            if usage != usages[row][0]:
                raise ValueError(
                    f'FERPlus: data row {row + 1} has Usage '
                    f'{usages[row][0]!r} at {self.ann_file}:{usages[row][1]} '
                    f'but {usage!r} at {self.pixel_file}:{lineno}; expected '
                    'the two files to list the same rows in the same order'
                )
            if row in keep:
                decoder.add(lineno, pixels)
        if num_rows != len(usages):
            raise ValueError(
                f'FERPlus: {self.ann_file} has {len(usages)} data rows but '
                f'{self.pixel_file} has {num_rows}; expected the same rows in '
                'the same order'
            )
        if self.num_dropped:
            MMLogger.get_current_instance().info(
                f'FERPlus: dropped {self.num_dropped} of {len(selected)} '
                f'{self.usage} rows of {self.ann_file} without votes on the '
                f'{len(FERPLUS_CATEGORIES)} classes (empty Image name or '
                'all-zero votes)'
            )
        if not keep:
            raise ValueError(
                f'FERPlus: no {self.split!r} samples in {self.ann_file} '
                f'(expected rows with Usage {self.usage} and votes on the '
                f'{len(FERPLUS_CATEGORIES)} classes; {len(selected)} rows '
                'with that Usage, all without votes)'
            )
        self.images = decoder.result()
        data_list = []
        for i, (lineno, votes) in enumerate(keep.values()):
            info = dict(
                img_index=i,
                img_path=f'{self.ann_file}#line{lineno}',
                gt_label=int(votes.argmax()),
            )
            if self.label_mode == 'soft':
                info['gt_score'] = votes / votes.sum()
            data_list.append(info)
        return data_list

    def extra_repr(self) -> List[str]:
        return [
            f'Annotation file: \t{self.ann_file}',
            f'Pixel file: \t{self.pixel_file}',
            f'Split: \t{self.split} (Usage {self.usage})',
            f'Label mode: \t{self.label_mode}',
        ]
