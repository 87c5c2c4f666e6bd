# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Expression vocabularies and explicit cross-dataset label mappings.

Every FER dataset orders its classes differently (the tuples below give
each dataset's native order). fer_mm names one canonical vocabulary
(:data:`CANONICAL_EXPRESSIONS`); each dataset keeps its native order in its
``METAINFO['classes']`` and its names are canonical names, so mappings are
built from names, never from indices (:func:`label_mapping`).
"""

from typing import Dict, Optional, Sequence

import numpy as np

#: The canonical expression vocabulary (names used across fer_mm).
CANONICAL_EXPRESSIONS = (
    'Neutral',
    'Happiness',
    'Sadness',
    'Surprise',
    'Fear',
    'Disgust',
    'Anger',
    'Contempt',
    'Other',
)

#: Names used by the datasets' own files, mapped to canonical names.
SYNONYMS: Dict[str, str] = {
    'neutral': 'Neutral',
    'happy': 'Happiness',
    'happiness': 'Happiness',
    'sad': 'Sadness',
    'sadness': 'Sadness',
    'surprise': 'Surprise',
    'surprised': 'Surprise',
    'fear': 'Fear',
    'fearful': 'Fear',
    'disgust': 'Disgust',
    'disgusted': 'Disgust',
    'anger': 'Anger',
    'angry': 'Anger',
    'contempt': 'Contempt',
    'other': 'Other',
}

#: RAF-DB basic, labels 1..7 in the list file (fer_mm uses 0..6).
RAFDB_CATEGORIES = (
    'Surprise',
    'Fear',
    'Disgust',
    'Happiness',
    'Sadness',
    'Anger',
    'Neutral',
)

#: RAF-DB compound, labels 1..11 in the list file (fer_mm uses 0..10).
RAFDB_COMPOUND_CATEGORIES = (
    'Happily Surprised',
    'Happily Disgusted',
    'Sadly Fearful',
    'Sadly Angry',
    'Sadly Surprised',
    'Sadly Disgusted',
    'Fearfully Angry',
    'Fearfully Surprised',
    'Angrily Surprised',
    'Angrily Disgusted',
    'Disgustedly Surprised',
)

#: Aff-Wild2 (ABAW expression track), the order of the annotation header.
AFFWILD2_CATEGORIES = (
    'Neutral',
    'Anger',
    'Disgust',
    'Fear',
    'Happiness',
    'Sadness',
    'Surprise',
    'Other',
)

#: ABAW4 Learning-from-Synthetic-Data, alphabetical folder order.
LSD_CATEGORIES = (
    'Anger',
    'Disgust',
    'Fear',
    'Happiness',
    'Sadness',
    'Surprise',
)

#: FER2013 ``emotion`` column 0..6 (Angry, Disgust, Fear, Happy, Sad,
#: Surprise, Neutral), in canonical names.
FER2013_CATEGORIES = (
    'Anger',
    'Disgust',
    'Fear',
    'Happiness',
    'Sadness',
    'Surprise',
    'Neutral',
)

#: FERPlus vote columns (the first 8; 'unknown' and 'NF' are not classes).
FERPLUS_CATEGORIES = (
    'Neutral',
    'Happiness',
    'Surprise',
    'Sadness',
    'Anger',
    'Disgust',
    'Fear',
    'Contempt',
)

#: AffectNet expression 0..7 (8 = None, 9 = Uncertain, 10 = Non-Face).
AFFECTNET_CATEGORIES = (
    'Neutral',
    'Happiness',
    'Sadness',
    'Surprise',
    'Fear',
    'Disgust',
    'Anger',
    'Contempt',
)

#: Training-split class counts of the real RAF-DB basic set (RAF-DB order).
RAFDB_TRAIN_COUNTS = (1290, 281, 717, 4772, 1982, 705, 2524)
#: Test-split class counts of the real RAF-DB basic set (RAF-DB order).
RAFDB_TEST_COUNTS = (329, 74, 160, 1185, 478, 162, 680)


def canonical_name(name: str) -> str:
    """The canonical expression name of a dataset's class name.

    Raises:
        KeyError: ``name`` is no known expression name.
    """
    if name in CANONICAL_EXPRESSIONS:
        return name
    key = name.strip().lower()
    if key not in SYNONYMS:
        raise KeyError(
            f'unknown expression name {name!r}; known: '
            f'{sorted(set(SYNONYMS.values()))}'
        )
    return SYNONYMS[key]


def label_mapping(
    src_classes: Sequence[str],
    dst_classes: Sequence[str],
    strict: bool = False,
) -> np.ndarray:
    """Index map from one class order to another, by canonical name.

    Args:
        src_classes (Sequence[str]): Class names in the source order.
        dst_classes (Sequence[str]): Class names in the target order.
        strict (bool): Raise if a source class has no target class.
            Defaults to False (such classes map to -1).

    Returns:
        np.ndarray: ``mapping[src_index] = dst_index`` or -1.

    Examples:
        >>> label_mapping(LSD_CATEGORIES, AFFWILD2_CATEGORIES).tolist()
        [1, 2, 3, 4, 5, 6]
        >>> label_mapping(AFFWILD2_CATEGORIES, LSD_CATEGORIES).tolist()
        [-1, 0, 1, 2, 3, 4, 5, -1]
    """
    dst = {canonical_name(c): i for i, c in enumerate(dst_classes)}
    mapping = np.full(len(src_classes), -1, dtype=np.int64)
    for i, c in enumerate(src_classes):
        mapping[i] = dst.get(canonical_name(c), -1)
    if strict and (mapping < 0).any():
        missing = [c for c, m in zip(src_classes, mapping) if m < 0]
        raise ValueError(
            f'classes {missing} have no counterpart in ' f'{list(dst_classes)}'
        )
    return mapping


def remap_labels(
    labels: np.ndarray,
    src_classes: Sequence[str],
    dst_classes: Optional[Sequence[str]],
) -> np.ndarray:
    """Map label indices to ``dst_classes`` (-1 where there is none)."""
    labels = np.asarray(labels)
    if dst_classes is None or tuple(dst_classes) == tuple(src_classes):
        return labels
    mapping = label_mapping(src_classes, dst_classes)
    out = np.full(labels.shape, -1, dtype=np.int64)
    valid = labels >= 0
    out[valid] = mapping[labels[valid]]
    return out
