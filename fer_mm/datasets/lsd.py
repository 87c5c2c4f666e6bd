# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import difflib
import os
import os.path as osp
from typing import Dict, List, Optional

from mmengine.logging import MMLogger
from mmpretrain.registry import DATASETS

from .base_fer import FERDataset
from .categories import LSD_CATEGORIES
from .landmarks import attach_landmarks

_SPLITS = {
    'train': 'training_set_synthetic_images',
    'val': 'validation_set_real_images',
}
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp')


def match_class_folder(
    folder: str, classes=LSD_CATEGORIES, cutoff: float = 0.75
) -> str:
    """The class a (possibly misspelled) folder name stands for.

    The released ABAW4-LSD ANGER folder is misspelled (``ANGERE``,
    ``ANGRER``); names are matched case-insensitively by similarity.

    Raises:
        ValueError: No class is similar enough (``cutoff``), or two are.
    """
    name = folder.strip().lower()
    scores = {
        c: difflib.SequenceMatcher(None, name, c.lower()).ratio()
        for c in classes
    }
    best = sorted(scores, key=scores.get, reverse=True)
    if scores[best[0]] < cutoff or (
        len(best) > 1 and scores[best[1]] == scores[best[0]]
    ):
        raise ValueError(
            f'unknown class folder {folder!r}; expected one of '
            f'{[c.upper() for c in classes]} (tolerating small '
            'misspellings)'
        )
    return best[0]


@DATASETS.register_module()
class ABAW4LSD(FERDataset):
    """ABAW4 Learning from Synthetic Data (6 expression classes).

    Paper: `ABAW: Learning from Synthetic Data & Multi-Task Learning
    Challenges <https://arxiv.org/abs/2207.01138>`_.

    The expected directory tree (no annotation files; the folder is the
    label)::

        data_root/
        ├── training_set_synthetic_images/
        │   ├── ANGER/ (released as ANGERE or ANGRER)  DISGUST/  FEAR/
        │   └── HAPPINESS/  SADNESS/  SURPRISE/   -> *.jpg
        ├── validation_set_real_images/<CLASS>/*.jpg
        └── landmarks_68/training_set_synthetic_images.txt   (optional)

    Folder names are matched to the classes tolerantly (case, small
    misspellings), and the mapping used is logged. A folder that matches no
    class, a class without a folder, a class folder without images and a
    folder inside a class folder are errors naming the path; hidden entries
    (``.ipynb_checkpoints``) and files that are not images are skipped and
    counted in the log.

    Args:
        data_root (str): Root of the tree.
        split (str): ``'train'`` (synthetic) or ``'val'`` (real), or a
            folder name under ``data_root``. Defaults to ``'train'``.
        landmark_file (str, optional): 68-point landmarks for the multi-task
            model (:func:`fer_mm.datasets.load_landmarks` format), one line
            per image named by its path under the split folder
            (``ANGRER/00001.jpg``); relative paths are under ``data_root``.
            Each item gets ``gt_landmarks`` (68x2 pixels). Defaults to None.
        missing_landmarks (str): ``'mask'`` (an image without a line keeps no
            ``gt_landmarks`` and is trained on the expression loss only; the
            count is logged) or ``'error'``. Defaults to ``'mask'``.
        allow_missing_classes (bool): A class without a folder is an error;
            True accepts it with a warning. Defaults to False.
        **kwargs: Arguments of :class:`FERDataset` and mmpretrain's
            ``BaseDataset``.

    Examples:
        >>> from fer_mm.datasets import ABAW4LSD
        >>> ds = ABAW4LSD('data/abaw4_lsd', split='train')
        >>> ds.folder_map
        {'ANGRER': 'Anger', 'DISGUST': 'Disgust', ...}
    """

    METAINFO = {'classes': LSD_CATEGORIES}
    NO_OFFICIAL = (
        'no reference counts: the per-class counts that circulate for '
        "ABAW4-LSD are AffectNet's training counts of these six classes; "
        'compare two runs by the digest'
    )

    def __init__(
        self,
        data_root: str,
        split: str = 'train',
        landmark_file: Optional[str] = None,
        missing_landmarks: str = 'mask',
        allow_missing_classes: bool = False,
        **kwargs,
    ):
        self.split = split
        self.allow_missing_classes = allow_missing_classes
        self.folder_map: Dict[str, str] = {}
        if landmark_file is not None and not osp.isabs(landmark_file):
            landmark_file = osp.join(data_root, landmark_file)
        self.landmark_file = landmark_file
        self.missing_landmarks = missing_landmarks
        super().__init__(
            ann_file='',
            data_root=data_root,
            data_prefix=_SPLITS.get(split, split),
            **kwargs,
        )

    def load_data_list(self) -> List[dict]:
        root = self.data_prefix['img_path']
        if not osp.isdir(root):
            raise FileNotFoundError(
                f'ABAW4LSD: folder not found: {root} (expected '
                f'<data_root>/{_SPLITS.get(self.split, self.split)}/<CLASS>/)'
            )
        logger = MMLogger.get_current_instance()
        entries = sorted(os.listdir(root))
        hidden = [
            d
            for d in entries
            if d.startswith('.') and osp.isdir(osp.join(root, d))
        ]
        if hidden:
            logger.info(
                f'ABAW4LSD: {root}: skipped {len(hidden)} hidden folder'
                f'{"s" if len(hidden) > 1 else ""} ({", ".join(hidden)})'
            )
        folders = [
            d
            for d in entries
            if not d.startswith('.') and osp.isdir(osp.join(root, d))
        ]
        mapping = {}
        for folder in folders:
            try:
                mapping[folder] = match_class_folder(folder)
            except ValueError as err:
                raise ValueError(
                    f'ABAW4LSD: {osp.join(root, folder)}: ' f'{err}'
                ) from None
        seen: Dict[str, str] = {}
        for folder, cls in mapping.items():
            if cls in seen:
                raise ValueError(
                    f'ABAW4LSD: folders {seen[cls]!r} and {folder!r} in {root}'
                    f' both map to class {cls!r}'
                )
            seen[cls] = folder
        self.folder_map = mapping
        logger.info(
            'ABAW4LSD: class folders '
            + ', '.join(
                f'{f} -> {c}' + ('' if f == c.upper() else ' (renamed)')
                for f, c in mapping.items()
            )
        )
        classes = list(self.native_classes)
        data_list = []
        num_other = 0
        for folder, cls in mapping.items():
            label = classes.index(cls)
            images = []
            for name in sorted(os.listdir(osp.join(root, folder))):
                path = osp.join(root, folder, name)
                if name.startswith('.'):
                    num_other += 1
                elif osp.isdir(path):
                    raise ValueError(
                        f'ABAW4LSD: {path}: a folder inside a class folder; '
                        f'expected the images of class {cls!r} directly in '
                        f'{osp.join(root, folder)}'
                    )
                elif name.lower().endswith(IMG_EXTENSIONS):
                    images.append(dict(img_path=path, gt_label=label))
                else:
                    num_other += 1
            if not images:
                raise ValueError(
                    f'ABAW4LSD: class folder {osp.join(root, folder)} holds '
                    f'no images ({IMG_EXTENSIONS})'
                )
            data_list += images
        if num_other:
            logger.info(
                f'ABAW4LSD: {root}: skipped {num_other} files that are not '
                f'images ({IMG_EXTENSIONS}) or are hidden'
            )
        absent = [c for c in self.native_classes if c not in seen]
        if absent:
            msg = (
                f'ABAW4LSD: {root}: no folder for class '
                + ', '.join(repr(c) for c in absent)
                + f' (expected one folder per class: '
                f'{[c.upper() for c in self.native_classes]})'
            )
            if not self.allow_missing_classes:
                raise ValueError(
                    msg + '; pass allow_missing_classes=True to train '
                    'without them'
                )
            logger.warning(msg + f'; {len(absent)} classes have no samples')
        if not data_list:
            raise ValueError(
                f'ABAW4LSD: no images ({IMG_EXTENSIONS}) under '
                f'{root}/<CLASS>/'
            )
        if self.landmark_file is not None:
            num_missing = attach_landmarks(
                data_list,
                self.landmark_file,
                root,
                missing=self.missing_landmarks,
                owner='ABAW4LSD',
            )
            MMLogger.get_current_instance().info(
                f'ABAW4LSD: landmarks from {self.landmark_file} for '
                f'{len(data_list) - num_missing} of {len(data_list)} images'
            )
        return data_list

    def extra_repr(self) -> List[str]:
        return [
            f'Root of dataset: \t{self.data_root}',
            f'Split: \t{self.split}',
            f'Class folders: \t{self.folder_map}',
            f'Landmark file: \t{self.landmark_file}',
        ]
