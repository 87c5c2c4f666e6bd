# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Output file names that never collide, one per input."""

import os.path as osp
from typing import Set


class UniqueStems:
    """Give every input image its own output stem, in input order.

    The first input keeps its stem (``coffee.jpg`` -> ``coffee``); a later
    input whose stem is taken gets its extension added (``coffee.png`` ->
    ``coffee_png``), and then a counter (``a/x.jpg``, ``b/x.jpg`` -> ``x``,
    ``x_jpg``, then ``x_jpg_2``...), so no output overwrites another.

    Examples:
        >>> stems = UniqueStems()
        >>> [stems(n) for n in ['a/coffee.jpg', 'a/coffee.png', 'b/coffee.jpg']]
        ['coffee', 'coffee_png', 'coffee_jpg']
    """

    def __init__(self):
        self.taken: Set[str] = set()

    def __call__(self, name: str) -> str:
        stem, ext = osp.splitext(osp.basename(str(name)))
        candidates = [stem, f'{stem}_{ext.lstrip(".")}' if ext else stem]
        for candidate in candidates:
            if candidate not in self.taken:
                break
        else:
            n = 2
            while f'{candidates[-1]}_{n}' in self.taken:
                n += 1
            candidate = f'{candidates[-1]}_{n}'
        self.taken.add(candidate)
        return candidate
