# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Argument checks shared by fer_mm's losses."""

REDUCTIONS = ('none', 'mean', 'sum')


def check_reduction(name: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"{name}: reduction must be 'none', 'mean' or "
            f"'sum', got {reduction!r}"
        )
