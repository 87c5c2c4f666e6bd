# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import csv
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.logging import MMLogger
from mmpretrain.registry import DATASETS

from .base_fer import FERDataset
from .categories import AFFECTNET_CATEGORIES, canonical_name
from .fingerprint import official

#: The columns of AffectNet's ``training.csv`` / ``validation.csv``.
AFFECTNET_COLUMNS = (
    'subDirectory_filePath',
    'face_x',
    'face_y',
    'face_width',
    'face_height',
    'facial_landmarks',
    'expression',
    'valence',
    'arousal',
)
#: ``expression`` values that are no expression class.
AFFECTNET_NON_EXPRESSIONS = {8: 'None', 9: 'Uncertain', 10: 'Non-Face'}
#: Per-class counts of the manually annotated training set (AffectNet order),
#: as commonly cited from the AffectNet paper (Mollahosseini et al., 2017);
#: the validation set has 500 images per class.
AFFECTNET_OFFICIAL_COUNTS = {
    'train': (74874, 134415, 25459, 14090, 6378, 3803, 24882, 3750),
    'val': (500,) * 8,
}
_CSV_FILES = {
    'train': 'Manually_Annotated_file_lists/training.csv',
    'val': 'Manually_Annotated_file_lists/validation.csv',
}
_FOLDER_SPLITS = {'train': 'train', 'val': 'val'}
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')


def affectnet_classes(num_classes: int) -> tuple:
    """AffectNet-7 (without Contempt) or AffectNet-8, in AffectNet order."""
    if num_classes not in (7, 8):
        raise ValueError(
            f'AffectNet: num_classes must be 7 or 8, got {num_classes!r}'
        )
    return AFFECTNET_CATEGORIES[:num_classes]


@DATASETS.register_module()
class AffectNet(FERDataset):
    """AffectNet, manually annotated part (7 or 8 expression classes).

    Paper: `AffectNet: A Database for Facial Expression, Valence, and Arousal
    Computing in the Wild <https://arxiv.org/abs/1708.03985>`_.

    Two layouts are read. ``layout='csv'`` is the tree as distributed::

        data_root/
        ├── Manually_Annotated_file_lists/
        │   ├── training.csv     # subDirectory_filePath,face_x,face_y,
        │   │                    #   face_width,face_height,facial_landmarks,
        │   │                    #   expression,valence,arousal
        │   └── validation.csv   # the same columns (header optional)
        └── Manually_Annotated_Images/
            └── 689/737db2483489148d783ef278f43f486c0a97e140fc4b6b61b84363ca.jpg

    ``expression`` is 0..10: 0 Neutral, 1 Happy, 2 Sad, 3 Surprise, 4 Fear,
    5 Disgust, 6 Anger, 7 Contempt (:data:`AFFECTNET_CATEGORIES`), 8 None,
    9 Uncertain, 10 Non-Face. Rows with 8..10, and rows of a class left out
    of ``classes`` (Contempt for AffectNet-7), are dropped and counted per
    value in the log. Every kept sample carries ``face_bbox`` (``x1, y1, x2,
    y2`` in pixels, from ``face_x/y/width/height``), ``gt_valence`` and
    ``gt_arousal`` (floats, for later heads), ``ann_line``
    (``'<csv>:<line>'``, named by errors) and, with ``with_landmarks``,
    ``gt_landmarks`` (68x2). The image is cropped to the face box by the
    :class:`~fer_mm.datasets.transforms.CropFaceBox` transform right after
    ``LoadImageFromFile`` (its ``margin`` option widens the box).

    ``layout='folders'`` is the class-folder tree the reference
    implementations (DAN, POSTER V2) read with torchvision's ``ImageFolder``,
    made by hand from the above and already cropped::

        data_root/
        ├── train/0/*.jpg ... train/7/*.jpg
        └── val/0/*.jpg   ... val/7/*.jpg

    Folder names are AffectNet ids (``0``..``10``) or expression names
    (``Happy``, ``anger`` ...: case-insensitive, mapped by canonical name).
    Folders of classes outside ``classes`` and of ids 8..10 are dropped and
    counted in the log; any other folder name is an error.

    Args:
        data_root (str): Root of the tree.
        split (str): ``'train'`` or ``'val'``. Defaults to ``'train'``.
        layout (str): ``'csv'`` or ``'folders'``. Defaults to ``'csv'``.
        num_classes (int): 7 (AffectNet-7, no Contempt) or 8. Ignored when
            ``classes`` is given. Defaults to 8.
        classes (Sequence[str], optional): The classes to keep, by name
            (AffectNet's or canonical names); the labels follow AffectNet's
            order. Defaults to None (``num_classes``).
        ann_file (str, optional): The CSV, relative to ``data_root``.
            Defaults to ``Manually_Annotated_file_lists/training.csv`` or
            ``validation.csv``.
        img_prefix (str, optional): Image folder under ``data_root``.
            Defaults to ``'Manually_Annotated_Images'`` (csv) or the split
            name (folders).
        with_landmarks (bool): Parse ``facial_landmarks`` into
            ``gt_landmarks``. Defaults to False.
        check_files (bool): Check that every listed image exists (one folder
            listing per sub-directory). Defaults to True.
        **kwargs: Other arguments of :class:`fer_mm.datasets.FERDataset`
            (``target_classes``) and :class:`mmpretrain.datasets.BaseDataset`.

    Examples:
        >>> from fer_mm.datasets import AffectNet
        >>> train = AffectNet('data/affectnet', split='train', num_classes=7)
        >>> train
        Dataset AffectNet
            Number of samples:  283901
            Number of categories:       7
            Root of dataset:    data/affectnet
            Split:      train (csv)
        >>> sorted(train.get_data_info(0))[:4]
        ['ann_line', 'face_bbox', 'gt_arousal', 'gt_label']
    """

    METAINFO = {'classes': AFFECTNET_CATEGORIES}
    LAYOUTS = ('csv', 'folders')

    def __init__(
        self,
        data_root: str,
        split: str = 'train',
        layout: str = 'csv',
        num_classes: int = 8,
        classes: Optional[Sequence[str]] = None,
        ann_file: Optional[str] = None,
        img_prefix: Optional[str] = None,
        with_landmarks: bool = False,
        check_files: bool = True,
        **kwargs,
    ):
        if split not in _CSV_FILES:
            raise ValueError(
                f"AffectNet: split must be 'train' or 'val', got {split!r}"
            )
        if layout not in self.LAYOUTS:
            raise ValueError(
                f'AffectNet: layout must be one of {list(self.LAYOUTS)}, got '
                f'{layout!r}'
            )
        self.split = split
        self.layout = layout
        self.with_landmarks = with_landmarks
        self.check_files = check_files
        self.selected = self._select(classes, num_classes)
        self.dropped: Dict[str, int] = {}
        kwargs['metainfo'] = dict(
            kwargs.get('metainfo') or {}, classes=self.selected
        )
        if layout == 'csv':
            ann_file = ann_file or _CSV_FILES[split]
            img_prefix = img_prefix or 'Manually_Annotated_Images'
        else:
            ann_file = ''
            img_prefix = img_prefix or _FOLDER_SPLITS[split]
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=img_prefix,
            **kwargs,
        )

    @staticmethod
    def _select(classes, num_classes) -> tuple:
        if classes is None:
            return affectnet_classes(num_classes)
        canon = [canonical_name(c) for c in AFFECTNET_CATEGORIES]
        picked = set()
        for name in classes:
            try:
                key = canonical_name(name)
            except KeyError:
                key = None
            if key not in canon:
                raise ValueError(
                    f'AffectNet: class {name!r} is not an AffectNet class; '
                    f'expected names among {list(AFFECTNET_CATEGORIES)}'
                )
            picked.add(key)
        # AffectNet order, whatever order the names came in.
        return tuple(c for c in AFFECTNET_CATEGORIES if c in picked)

    def official_spec(self):
        """The published counts of the selected classes of the split."""
        ref = dict(
            zip(AFFECTNET_CATEGORIES, AFFECTNET_OFFICIAL_COUNTS[self.split])
        )
        return official(
            f'AffectNet {self.split} split, {len(self.selected)} classes',
            self.selected,
            [ref[c] for c in self.selected],
            source='AffectNet paper, manually annotated set',
        )

    # ------------------------------------------------------------ helpers
    def _label_of_id(self, expression: int) -> int:
        """The label of an AffectNet id in ``self.selected``, or -1."""
        if expression >= len(AFFECTNET_CATEGORIES):
            return -1
        name = AFFECTNET_CATEGORIES[expression]
        return self.selected.index(name) if name in self.selected else -1

    def _drop(self, expression: int) -> None:
        name = AFFECTNET_NON_EXPRESSIONS.get(expression)
        if name is None:
            name = AFFECTNET_CATEGORIES[expression]
        key = f'{expression} {name}'
        self.dropped[key] = self.dropped.get(key, 0) + 1

    def _log_dropped(self, total: int, kept: int, source: str) -> None:
        if not self.dropped:
            return
        MMLogger.get_current_instance().info(
            f'AffectNet: kept {kept} of {total} {self.split} samples of '
            f'{source}; dropped (expression id and name: count) '
            + ', '.join(f'{k}: {v}' for k, v in sorted(self.dropped.items()))
        )

    # ------------------------------------------------------------ loading
    def load_data_list(self) -> List[dict]:
        self.dropped = {}
        if self.layout == 'csv':
            return self._load_csv()
        return self._load_folders()

    def _rows(self, path: str):
        """Yield ``(line number, fields)``; the header line is optional."""
        with open(path, newline='', encoding='utf-8') as f:
            reader = csv.reader(f)
            for row in reader:
                lineno = reader.line_num
                if not row or not ''.join(row).strip():
                    continue
                if lineno == 1 and row[0].strip() == AFFECTNET_COLUMNS[0]:
                    header = tuple(c.strip() for c in row)
                    if header[: len(AFFECTNET_COLUMNS)] != AFFECTNET_COLUMNS:
                        raise ValueError(
                            f'AffectNet: {path}:1: header {",".join(header)}'
                            f'; expected {",".join(AFFECTNET_COLUMNS)}'
                        )
                    continue
                yield lineno, row

    def _bad(self, path, lineno, what) -> ValueError:
        return ValueError(
            f'AffectNet: {path}:{lineno}: {what}; expected the columns '
            f'{",".join(AFFECTNET_COLUMNS)} (face box in integer pixels, '
            'width and height > 0, expression 0..10)'
        )

    def _load_csv(self) -> List[dict]:
        path = self.ann_file
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'AffectNet: CSV file not found: {path} (expected '
                f'<data_root>/{_CSV_FILES[self.split]} as distributed)'
            )
        img_dir = self.data_prefix['img_path']
        if self.check_files and not osp.isdir(img_dir):
            raise FileNotFoundError(
                f'AffectNet: image folder not found: {img_dir} (expected '
                '<data_root>/Manually_Annotated_Images/<subDirectory>/)'
            )
        listings: Dict[str, set] = {}
        data_list, total = [], 0
        for lineno, row in self._rows(path):
            total += 1
            if len(row) < len(AFFECTNET_COLUMNS):
                raise self._bad(
                    path, lineno, f'{len(row)} comma-separated fields'
                )
            rel = row[0].strip()
            try:
                x, y, w, h = (int(float(v)) for v in row[1:5])
                expression = int(row[6])
                valence, arousal = float(row[7]), float(row[8])
            except ValueError as err:
                raise self._bad(
                    path, lineno, f'cannot parse ({err})'
                ) from None
            if not rel or w <= 0 or h <= 0 or x < 0 or y < 0:
                raise self._bad(
                    path, lineno, f'image {rel!r}, face box {x},{y},{w},{h}'
                )
            if not 0 <= expression <= 10:
                raise self._bad(path, lineno, f'expression {expression}')
            label = self._label_of_id(expression)
            if label < 0:
                self._drop(expression)
                continue
            img_path = osp.join(img_dir, rel)
            if self.check_files:
                self._check_file(listings, img_dir, rel, path, lineno)
            info = dict(
                img_path=img_path,
                gt_label=label,
                face_bbox=np.array([x, y, x + w, y + h], np.float32),
                gt_valence=valence,
                gt_arousal=arousal,
                ann_line=f'{path}:{lineno}',
            )
            if self.with_landmarks:
                info['gt_landmarks'] = self._landmarks(row[5], path, lineno)
            data_list.append(info)
        self._log_dropped(total, len(data_list), path)
        if not data_list:
            raise ValueError(
                f'AffectNet: no samples of the classes {list(self.selected)} '
                f'in {path} ({total} rows)'
            )
        return data_list

    @staticmethod
    def _check_file(listings, img_dir, rel, path, lineno) -> None:
        sub, name = osp.split(rel)
        if sub not in listings:
            folder = osp.join(img_dir, sub)
            listings[sub] = (
                set(os.listdir(folder)) if osp.isdir(folder) else set()
            )
        if name not in listings[sub]:
            raise FileNotFoundError(
                f'AffectNet: image {osp.join(img_dir, rel)} listed at '
                f'{path}:{lineno} does not exist'
            )

    @staticmethod
    def _landmarks(text: str, path: str, lineno: int) -> np.ndarray:
        try:
            values = np.array(text.split(';'), dtype=np.float32)
        except ValueError:
            values = np.empty(0, np.float32)
        if values.size != 136:
            raise ValueError(
                f'AffectNet: {path}:{lineno}: facial_landmarks has '
                f'{values.size} values; expected 136 (68 x;y pairs)'
            )
        return values.reshape(68, 2)

    def _folder_id(self, folder: str, root: str) -> int:
        name = folder.strip()
        if name.isdigit() and 0 <= int(name) <= 10:
            return int(name)
        try:
            key = canonical_name(name)
        except KeyError:
            key = None
        canon = [canonical_name(c) for c in AFFECTNET_CATEGORIES]
        if key not in canon:
            raise ValueError(
                f'AffectNet: unknown class folder {osp.join(root, folder)}; '
                'expected AffectNet ids 0..10 or expression names '
                f'{list(AFFECTNET_CATEGORIES)}'
            )
        return canon.index(key)

    def _load_folders(self) -> List[dict]:
        root = self.data_prefix['img_path']
        if not osp.isdir(root):
            raise FileNotFoundError(
                f'AffectNet: folder not found: {root} (expected '
                '<data_root>/<split>/<class id>/*.jpg)'
            )
        folders = sorted(
            d for d in os.listdir(root) if osp.isdir(osp.join(root, d))
        )
        ids: Dict[int, str] = {}
        for folder in folders:
            expression = self._folder_id(folder, root)
            if expression in ids:
                raise ValueError(
                    f'AffectNet: folders {ids[expression]!r} and {folder!r} '
                    f'in {root} are the same class'
                )
            ids[expression] = folder
        data_list, total, others = [], 0, 0
        for expression, folder in sorted(ids.items()):
            label = self._label_of_id(expression)
            for name in sorted(os.listdir(osp.join(root, folder))):
                if not name.lower().endswith(IMG_EXTENSIONS):
                    others += 1
                    continue
                total += 1
                if label < 0:
                    self._drop(expression)
                    continue
                data_list.append(
                    dict(img_path=osp.join(root, folder, name), gt_label=label)
                )
        logger = MMLogger.get_current_instance()
        logger.info(
            'AffectNet: class folders '
            + ', '.join(
                f'{f} -> {AFFECTNET_CATEGORIES[i]}'
                if i < len(AFFECTNET_CATEGORIES)
                else f'{f} -> {AFFECTNET_NON_EXPRESSIONS[i]} (dropped)'
                for i, f in sorted(ids.items())
            )
        )
        if others:
            logger.info(
                f'AffectNet: ignored {others} files without an image '
                f'extension {IMG_EXTENSIONS} under {root}'
            )
        self._log_dropped(total, len(data_list), root)
        if not data_list:
            raise ValueError(
                f'AffectNet: no images of the classes {list(self.selected)} '
                f'under {root}/<class>/'
            )
        return data_list

    def extra_repr(self) -> List[str]:
        return [
            f'Root of dataset: \t{self.data_root}',
            f'Split: \t{self.split} ({self.layout})',
        ]
