# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""The FER2013 CSV format: ``pixels`` strings decoded into 48x48 faces.

Read by :class:`fer_mm.datasets.FER2013` and :class:`fer_mm.datasets.FERPlus`;
every error names the file, the line and what was expected.
"""

import csv
import re
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np

#: Side of the square FER2013 faces.
FER2013_SIZE = 48
#: Pixel values per row of the ``pixels`` column.
FER2013_NUM_PIXELS = FER2013_SIZE * FER2013_SIZE

_INT_RE = re.compile(r'[+-]?[0-9]+')
_ORD_0 = ord('0')
_ORD_SPACE = ord(' ')


def _iter_csv(
    path: str, name: str, columns: Sequence[str]
) -> Iterator[Tuple[int, List[str]]]:
    """Yield ``(line number, [values of columns])`` for each data row.

    Columns are found by name in the header on line 1 (case-insensitive,
    surrounding spaces ignored); blank lines are skipped. Lines are split on
    commas, with the csv module parsing the rare line that has quotes (the
    released files have none; plain splitting is ~4x faster).

    Raises:
        ValueError: The header lacks a column, or a row has a different number
            of fields than the header (naming the file and line).
    """
    with open(path, 'rb') as f:
        header_line = _decode_line(f.readline(), path, 1, name).lstrip(
            '\ufeff'
        )
        header = [h.strip() for h in next(csv.reader([header_line]), [])]
        lower = [h.lower() for h in header]
        missing = [c for c in columns if c.lower() not in lower]
        if missing:
            raise ValueError(
                f'{name}: {path}:1: header {header_line!r} lacks column(s) '
                f'{missing}; expected a header with the columns '
                f'{",".join(columns)}'
            )
        index = [lower.index(c.lower()) for c in columns]
        num_fields = len(header)
        for lineno, raw in enumerate(f, 2):
            line = _decode_line(raw, path, lineno, name)
            if not line.strip():
                continue
            if '"' in line:
                fields = next(csv.reader([line]))
            else:
                fields = line.split(',')
            if len(fields) != num_fields:
                raise ValueError(
                    f'{name}: {path}:{lineno}: {len(fields)} comma-separated '
                    f'fields; expected {num_fields} '
                    f'({",".join(header)})'
                )
            yield lineno, [fields[i] for i in index]


def _decode_line(raw: bytes, path: str, lineno: int, name: str) -> str:
    """One line of a CSV as text, without its line break."""
    try:
        return raw.decode('utf-8').rstrip('\r\n')
    except UnicodeDecodeError as err:
        raise ValueError(
            f'{name}: {path}:{lineno}: not UTF-8 text ({err.reason} at byte '
            f'{err.start}); expected a CSV text file'
        ) from None


def _decode_fast(rows: Sequence[str]) -> Optional[np.ndarray]:
    """Decode pixel strings in one vectorised pass over their bytes.

    Accepts exactly: ASCII digits and spaces, tokens of 1..3 digits with
    values 0..255, and :data:`FER2013_NUM_PIXELS` tokens per row.

    Returns:
        np.ndarray | None: ``(len(rows), 48, 48)`` uint8, or None when any row
        is unusual (the caller then decodes row by row, with exact errors).
    """
    try:
        # Three leading spaces: every token end has three bytes before it.
        buf = ('   ' + ' '.join(rows) + ' ').encode('ascii')
    except UnicodeEncodeError:
        return None
    chars = np.frombuffer(buf, np.uint8)
    digits = chars - np.uint8(_ORD_0)  # wraps: only '0'..'9' are <= 9
    is_digit = digits <= 9
    num_digits = np.count_nonzero(is_digit)
    if num_digits + np.count_nonzero(chars == _ORD_SPACE) != len(chars):
        return None
    # Token ends: a digit followed by a space (the buffer ends with one).
    ends = np.flatnonzero(is_digit[:-1] > is_digit[1:]) + 1
    if len(ends) != len(rows) * FER2013_NUM_PIXELS:
        return None
    row_starts = np.cumsum([3] + [len(r) + 1 for r in rows[:-1]])
    first_token = np.searchsorted(ends, row_starts)
    if not np.array_equal(
        first_token, np.arange(len(rows)) * FER2013_NUM_PIXELS
    ):
        return None
    # Right-aligned digits of each token; tens and hundreds count only where
    # the token has them (the byte before may be a space or another token).
    has_tens = is_digit[ends - 2]
    has_hundreds = is_digit[ends - 3] & has_tens
    if (is_digit[ends - 4] & has_hundreds).any():
        return None  # 4+ digits: leave it to the exact decoder
    values = digits[ends - 1].astype(np.int16)
    values += 10 * (digits[ends - 2] * has_tens).astype(np.int16)
    values += 100 * (digits[ends - 3] * has_hundreds).astype(np.int16)
    if values.max() > 255:
        return None
    return values.astype(np.uint8).reshape(
        len(rows), FER2013_SIZE, FER2013_SIZE
    )


def _decode_row(text: str, path: str, lineno: int, name: str) -> np.ndarray:
    """Decode one pixel string, raising an exact error for a bad one."""
    tokens = text.split()
    if len(tokens) != FER2013_NUM_PIXELS:
        raise ValueError(
            f'{name}: {path}:{lineno}: {len(tokens)} pixel values in column '
            f'"pixels"; expected {FER2013_NUM_PIXELS} ({FER2013_SIZE}x'
            f'{FER2013_SIZE}) space-separated integers 0..255'
        )
    values = np.empty(FER2013_NUM_PIXELS, np.int64)
    for j, token in enumerate(tokens):
        if not _INT_RE.fullmatch(token):
            raise ValueError(
                f'{name}: {path}:{lineno}: pixel {j + 1} {token!r} is not an '
                'integer; expected integers 0..255'
            )
        values[j] = int(token)
    bad = np.flatnonzero((values < 0) | (values > 255))
    if len(bad):
        raise ValueError(
            f'{name}: {path}:{lineno}: pixel {bad[0] + 1} value '
            f'{values[bad[0]]} is out of range; expected integers 0..255'
        )
    return values.astype(np.uint8).reshape(FER2013_SIZE, FER2013_SIZE)


class _PixelDecoder:
    """Collects pixel strings and decodes them in chunks of ``chunk`` rows.

    Each chunk is decoded by :func:`_decode_fast`; a chunk it rejects is
    decoded row by row by :func:`_decode_row`, which accepts a little more
    (any whitespace, leading zeros) and raises on a bad row.
    """

    def __init__(self, path: str, name: str, chunk: int = 1024):
        self.path, self.name, self.chunk = path, name, chunk
        self._rows: List[str] = []
        self._linenos: List[int] = []
        self._done: List[np.ndarray] = []

    def add(self, lineno: int, text: str) -> None:
        self._rows.append(text)
        self._linenos.append(lineno)
        if len(self._rows) >= self.chunk:
            self._flush()

    def _flush(self) -> None:
        if not self._rows:
            return
        images = _decode_fast(self._rows)
        if images is None:
            images = np.stack(
                [
                    _decode_row(text, self.path, lineno, self.name)
                    for text, lineno in zip(self._rows, self._linenos)
                ]
            )
        self._done.append(images)
        self._rows, self._linenos = [], []

    def result(self) -> np.ndarray:
        """All decoded rows, ``(N, 48, 48)`` uint8, read-only."""
        self._flush()
        shape = (0, FER2013_SIZE, FER2013_SIZE)
        images = (
            np.concatenate(self._done)
            if self._done
            else np.zeros(shape, np.uint8)
        )
        self._done = []
        images.flags.writeable = False
        return images
