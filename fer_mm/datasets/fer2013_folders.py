# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""FER2013 as most people download it: one folder per emotion name.

The Kaggle image-folder release holds ``train/`` and ``test/`` (public and
private test together), each with the folders ``angry disgust fear happy
neutral sad surprise`` of 48x48 gray images named ``Training_123.jpg``,
``PublicTest_...``, ``PrivateTest_...``. Read by
:class:`fer_mm.datasets.FER2013` with ``layout='folders'``.
"""

import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from .categories import FER2013_CATEGORIES, canonical_name
from .fer2013_csv import FER2013_SIZE

#: Image files read from the class folders (case-insensitive).
FOLDER_IMG_EXTENSIONS = ('.png', '.jpg', '.jpeg')
#: File-name prefixes of the release and the ``Usage`` each stands for.
USAGE_PREFIXES = {
    'Training': 'Training_',
    'PublicTest': 'PublicTest_',
    'PrivateTest': 'PrivateTest_',
}


def map_class_folders(root: str, owner: str = 'FER2013') -> Dict[str, int]:
    """``{folder: label}`` for the emotion-name folders under ``root``.

    Names are matched case-insensitively through the canonical vocabulary
    (``angry`` -> Anger, ``happy`` -> Happiness ...) onto
    :data:`FER2013_CATEGORIES`.

    Raises:
        ValueError: A folder that names no FER2013 class, or two folders of
            one class.
    """
    canon = [canonical_name(c) for c in FER2013_CATEGORIES]
    mapping: Dict[str, int] = {}
    seen: Dict[int, str] = {}
    for folder in sorted(os.listdir(root)):
        if not osp.isdir(osp.join(root, folder)):
            continue
        try:
            label = canon.index(canonical_name(folder))
        except (KeyError, ValueError):
            raise ValueError(
                f'{owner}: unknown class folder {osp.join(root, folder)}; '
                'expected emotion-name folders (any case): angry, disgust, '
                'fear, happy, sad, surprise, neutral'
            ) from None
        if label in seen:
            raise ValueError(
                f'{owner}: folders {seen[label]!r} and {folder!r} in {root} '
                f'are both class {FER2013_CATEGORIES[label]!r}'
            )
        seen[label] = folder
        mapping[folder] = label
    if not mapping:
        raise ValueError(
            f'{owner}: no class folders in {root} (expected angry/, '
            'disgust/, fear/, happy/, neutral/, sad/, surprise/)'
        )
    return mapping


def read_class_folders(
    root: str,
    usage: Optional[str] = None,
    owner: str = 'FER2013',
) -> Tuple[np.ndarray, List[int], List[str], Dict[str, int], List[str]]:
    """Decode every image under ``root/<emotion>/`` into one array.

    Args:
        root (str): A split folder (``train/`` or ``test/``).
        usage (str, optional): Keep only files named with this Usage prefix
            (``'PublicTest'`` -> ``PublicTest_*``). Defaults to None (all).
        owner (str): Name used in messages. Defaults to 'FER2013'.

    Returns:
        tuple: ``images`` (N, 48, 48) uint8, ``labels``, ``paths``, the
        folder mapping and the files skipped for their extension.

    Raises:
        ValueError: An image that cannot be decoded or is not 48x48, or (with
            ``usage``) a file without a Usage prefix; each names the file.
    """
    mapping = map_class_folders(root, owner)
    images, labels, paths, others = [], [], [], []
    prefix = USAGE_PREFIXES[usage] if usage else None
    for folder, label in mapping.items():
        for name in sorted(os.listdir(osp.join(root, folder))):
            path = osp.join(root, folder, name)
            if not name.lower().endswith(FOLDER_IMG_EXTENSIONS):
                others.append(path)
                continue
            if prefix is not None:
                if not name.startswith(tuple(USAGE_PREFIXES.values())):
                    raise ValueError(
                        f'{owner}: {path}: no Usage prefix in the file name; '
                        f'usage={usage!r} needs names like {prefix}123.jpg'
                    )
                if not name.startswith(prefix):
                    continue
            img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
            if img is None:
                raise ValueError(
                    f'{owner}: image {path} cannot be decoded (expected a '
                    f'{FER2013_SIZE}x{FER2013_SIZE} gray PNG or JPEG)'
                )
            if img.shape != (FER2013_SIZE, FER2013_SIZE):
                raise ValueError(
                    f'{owner}: image {path} is {img.shape[1]}x{img.shape[0]}'
                    f'; expected {FER2013_SIZE}x{FER2013_SIZE} (the FER2013 '
                    'release)'
                )
            images.append(img)
            labels.append(label)
            paths.append(path)
    shape = (len(images), FER2013_SIZE, FER2013_SIZE)
    array = np.stack(images) if images else np.zeros(shape, np.uint8)
    array.flags.writeable = False
    return array, labels, paths, mapping, others
