# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import os

import pytest

from fer_mm.apis.writers import (
    StagedOutput,
    abaw_labels,
    atomic_open,
    write_abaw,
)
from fer_mm.datasets.categories import AFFWILD2_CATEGORIES, RAFDB_CATEGORIES


def test_atomic_open_leaves_nothing_on_error(tmp_path):
    path = tmp_path / 'out.json'
    with pytest.raises(RuntimeError):
        with atomic_open(str(path)) as f:
            f.write('{"half":')
            raise RuntimeError('boom')
    assert os.listdir(tmp_path) == []
    with atomic_open(str(path)) as f:
        f.write('{}')
    assert path.read_text() == '{}'


def test_staged_output_commit_and_discard(tmp_path):
    with pytest.raises(ValueError):
        with StagedOutput(str(tmp_path)) as stage:
            open(stage.path('vis/a.jpg'), 'w').close()
            raise ValueError
    assert os.listdir(tmp_path) == []
    with StagedOutput(str(tmp_path)) as stage:
        open(stage.path('vis/a.jpg'), 'w').close()
    assert sorted(os.listdir(tmp_path)) == ['vis']
    assert os.listdir(tmp_path / 'vis') == ['a.jpg']


def test_abaw_labels_fill_from_previous_prediction():
    # 0-based frames; 1 and 3 have no face, 5 was skipped by the stride.
    frames = {0: None, 1: None, 2: 4, 3: None, 4: 1}
    assert abaw_labels(frames, 6) == {1: 4, 2: 4, 3: 4, 4: 4, 5: 1, 6: 1}
    with pytest.raises(ValueError, match='no face'):
        abaw_labels({0: None}, 1)


def test_write_abaw_maps_classes_by_name(tmp_path):
    # RAF-DB order -> Aff-Wild2 order, looked up by name here.
    labels = {
        1: RAFDB_CATEGORIES.index('Happiness'),
        2: RAFDB_CATEGORIES.index('Neutral'),
    }
    path = write_abaw(str(tmp_path), 'vid', labels, RAFDB_CATEGORIES)
    lines = open(path).read().splitlines()
    assert lines[0] == 'image_location,' + ','.join(AFFWILD2_CATEGORIES)
    assert (
        lines[1] == f'vid/00001.jpg,{AFFWILD2_CATEGORIES.index("Happiness")}'
    )
    assert lines[2] == f'vid/00002.jpg,{AFFWILD2_CATEGORIES.index("Neutral")}'
    assert sorted(os.listdir(tmp_path)) == ['vid.txt']


@pytest.mark.parametrize('umask, mode', [(0o022, 0o644), (0o002, 0o664)])
def test_result_files_respect_the_umask(tmp_path, umask, mode):
    from fer_mm.apis.writers import write_csv, write_json

    old = os.umask(umask)
    try:
        write_json(str(tmp_path / 'results.json'), {'a': 1})
        write_csv(str(tmp_path / 'predictions.csv'), ['x'], [[1]])
        open(tmp_path / 'plain.txt', 'w').close()  # what every other output
    finally:
        os.umask(old)
    modes = {
        p: os.stat(tmp_path / p).st_mode & 0o777
        for p in ('results.json', 'predictions.csv', 'plain.txt')
    }
    assert modes == dict.fromkeys(modes, mode)
