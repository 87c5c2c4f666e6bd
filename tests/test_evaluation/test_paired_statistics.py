# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import math

import pytest

from fer_mm.evaluation.paired_statistics import (
    paired_difference,
    t_quantile_975,
)


def test_worked_example():
    # d = [1, 0, 2]: mean 1, s_d = 1, half width t(2) / sqrt(3)
    r = paired_difference([2, 2, 5], [1, 2, 3])
    assert r['n'] == 3 and r['mean'] == 1.0 and r['std'] == 1.0
    half = 4.3027 / math.sqrt(3)
    assert r['ci_low'] == pytest.approx(1 - half)
    assert r['ci_high'] == pytest.approx(1 + half)


def test_t_table_against_scipy():
    stats = pytest.importorskip('scipy.stats')
    for df in (1, 2, 4, 9, 30):
        assert t_quantile_975(df) == pytest.approx(
            stats.t.ppf(0.975, df), abs=1e-4
        )
    assert t_quantile_975(200) == pytest.approx(1.96, abs=0.01)


def test_bad_input():
    with pytest.raises(ValueError, match='same seeds'):
        paired_difference([1, 2], [1])
    with pytest.raises(ValueError, match='at least 2 seeds'):
        paired_difference([1], [1])
