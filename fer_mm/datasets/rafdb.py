# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import os
import os.path as osp
from typing import List

from mmpretrain.registry import DATASETS

from .base_fer import FERDataset
from .categories import (
    RAFDB_CATEGORIES,
    RAFDB_COMPOUND_CATEGORIES,
    RAFDB_TEST_COUNTS,
    RAFDB_TRAIN_COUNTS,
)
from .fingerprint import official


@DATASETS.register_module()
class RAFDB(FERDataset):
    """The Real-world Affective Faces Database (RAF-DB).

    Paper: `Reliable Crowdsourcing and Deep Locality-Preserving Learning for
    Expression Recognition in the Wild <https://arxiv.org/abs/1708.00217>`_.

    The expected directory tree (as distributed)::

        data_root/
        └── basic/                                  (or compound/)
            ├── EmoLabel/
            │   └── list_patition_label.txt         # (sic) "train_00001.jpg 5"
            └── Image/
                ├── aligned/train_00001_aligned.jpg # 100x100 aligned faces
                └── original/train_00001.jpg

    Labels in the list file are 1-based (basic: 1..7 = Surprise, Fear,
    Disgust, Happiness, Sadness, Anger, Neutral; compound: 1..11); fer_mm
    stores them 0-based. The split is given by the file-name prefix
    (``train`` / ``test``).

    Args:
        data_root (str): The RAF-DB root (the folder holding ``basic/``).
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        subset (str): ``'basic'`` (7 classes) or ``'compound'`` (11 classes).
            Defaults to ``'basic'``.
        aligned (bool): Read ``Image/aligned/*_aligned.jpg`` (True) or
            ``Image/original/*.jpg`` (False). Defaults to True.
        check_files (bool): Verify at load time that every listed image
            exists, so a damaged tree fails at start-up with the missing file
            named. Defaults to True.
        **kwargs: Other arguments of :class:`fer_mm.datasets.FERDataset`
            (``target_classes``) and :class:`mmpretrain.datasets.BaseDataset`
            (``pipeline``, ``test_mode``, ``indices`` ...).

    Examples:
        >>> from fer_mm.datasets import RAFDB
        >>> train = RAFDB(data_root='data/rafdb', split='train')
        >>> train
        Dataset RAFDB
            Number of samples:  12271
            Number of categories:       7
            Root of dataset:    data/rafdb
            Split:      train
            Subset:     basic
    """

    METAINFO = {'classes': RAFDB_CATEGORIES}
    SUBSETS = {
        'basic': RAFDB_CATEGORIES,
        'compound': RAFDB_COMPOUND_CATEGORIES,
    }

    def __init__(
        self,
        data_root: str,
        split: str = 'train',
        subset: str = 'basic',
        aligned: bool = True,
        check_files: bool = True,
        **kwargs,
    ):
        if split not in ('train', 'test'):
            raise ValueError(
                f"RAFDB: split must be 'train' or 'test', got {split!r}"
            )
        if subset not in self.SUBSETS:
            raise ValueError(
                f'RAFDB: subset must be one of '
                f'{sorted(self.SUBSETS)}, got {subset!r}'
            )
        self.split = split
        self.subset = subset
        self.aligned = aligned
        self.check_files = check_files
        kwargs.setdefault('metainfo', {'classes': self.SUBSETS[subset]})
        image_dir = 'aligned' if aligned else 'original'
        super().__init__(
            ann_file=osp.join(subset, 'EmoLabel', 'list_patition_label.txt'),
            data_root=data_root,
            data_prefix=osp.join(subset, 'Image', image_dir),
            **kwargs,
        )

    #: Published per-class counts of the basic subset (RAF-DB order).
    OFFICIAL_COUNTS = {'train': RAFDB_TRAIN_COUNTS, 'test': RAFDB_TEST_COUNTS}
    NO_OFFICIAL = 'no per-class counts recorded for the compound subset'

    def official_spec(self):
        """RAF-DB basic: 12,271 train / 3,068 test, aligned 100x100."""
        if self.subset != 'basic' or tuple(self.metainfo['classes']) != tuple(
            RAFDB_CATEGORIES
        ):
            return None
        kind = 'aligned' if self.aligned else 'original'
        return official(
            f'RAF-DB basic {self.split} split ({kind} images)',
            RAFDB_CATEGORIES,
            self.OFFICIAL_COUNTS[self.split],
            image_size=(100, 100) if self.aligned else None,
            source='RAF-DB basic list_patition_label.txt as distributed',
        )

    def _image_name(self, name: str) -> str:
        if not self.aligned:
            return name
        stem, ext = osp.splitext(name)
        return f'{stem}_aligned{ext}'

    def load_data_list(self) -> List[dict]:
        """Parse the list file into ``dict(img_path, gt_label)`` items."""
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'RAFDB: list file not found: {self.ann_file} (expected '
                f'<data_root>/{self.subset}/EmoLabel/list_patition_label.txt)'
            )
        num_classes = len(self.SUBSETS[self.subset])
        img_dir = self.data_prefix['img_path']
        on_disk = None
        if self.check_files:
            if not osp.isdir(img_dir):
                raise FileNotFoundError(
                    f'RAFDB: image folder not found: {img_dir} (expected the '
                    f'{"aligned" if self.aligned else "original"} images of '
                    f'{self.ann_file})'
                )
            # name -> size in bytes (one stat per file: ~30 ms for RAF-DB)
            on_disk = {
                e.name: e.stat().st_size
                for e in os.scandir(img_dir)
                if e.is_file()
            }
        first_line = {}
        data_list = []
        with open(self.ann_file, encoding='utf-8') as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                parts = line.split()
                if len(parts) != 2 or not parts[1].lstrip('-').isdigit():
                    raise ValueError(
                        f'RAFDB: {self.ann_file}:{lineno}: cannot parse '
                        f'{line.rstrip()!r}; expected "<name>.jpg <label>"'
                    )
                name, label = parts[0], int(parts[1])
                if not 1 <= label <= num_classes:
                    raise ValueError(
                        f'RAFDB: {self.ann_file}:{lineno}: label {label} out '
                        f'of range; expected 1..{num_classes} for the '
                        f'{self.subset} subset'
                    )
                if name in first_line:
                    raise ValueError(
                        f'RAFDB: {self.ann_file}:{lineno}: {name!r} is listed '
                        f'again (first at line {first_line[name]}); each '
                        'image must appear once, or it is trained and '
                        'counted in the metrics twice'
                    )
                first_line[name] = lineno
                if not name.startswith(self.split):
                    continue
                img_name = self._image_name(name)
                if on_disk is not None and img_name not in on_disk:
                    raise FileNotFoundError(
                        f'RAFDB: image {osp.join(img_dir, img_name)} listed '
                        f'at {self.ann_file}:{lineno} does not exist'
                    )
                if on_disk is not None and on_disk[img_name] == 0:
                    raise ValueError(
                        f'RAFDB: image {osp.join(img_dir, img_name)} listed '
                        f'at {self.ann_file}:{lineno} is empty (0 bytes)'
                    )
                data_list.append(
                    dict(
                        img_path=osp.join(img_dir, img_name),
                        gt_label=label - 1,
                    )
                )
        if not data_list:
            raise ValueError(
                f'RAFDB: no {self.split!r} samples in {self.ann_file} '
                f'(expected lines whose name starts with {self.split!r})'
            )
        return data_list

    def extra_repr(self) -> List[str]:
        return [
            f'Root of dataset: \t{self.data_root}',
            f'Split: \t{self.split}',
            f'Subset: \t{self.subset}',
        ]
