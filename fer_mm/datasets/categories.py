# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Expression vocabularies.

Every FER dataset orders its classes differently. fer_mm names one canonical
vocabulary (:data:`CANONICAL_EXPRESSIONS`) and gives each dataset its own
class tuple in the dataset's native order; cross-dataset mappings are built
from the names, never from indices.
"""

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

#: Training-split class counts of the real RAF-DB basic set (RAF-DB order).
RAFDB_TRAIN_COUNTS = (1290, 281, 717, 4772, 1982, 705, 2524)
#: Test-split class counts of the real RAF-DB basic set (RAF-DB order).
RAFDB_TEST_COUNTS = (329, 74, 160, 1185, 478, 162, 680)
