# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .categories import (
    CANONICAL_EXPRESSIONS,
    RAFDB_CATEGORIES,
    RAFDB_COMPOUND_CATEGORIES,
)
from .rafdb import RAFDB

__all__ = [
    'CANONICAL_EXPRESSIONS',
    'RAFDB_CATEGORIES',
    'RAFDB_COMPOUND_CATEGORIES',
    'RAFDB',
]
