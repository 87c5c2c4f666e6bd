# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""tools/analysis_tools/last_epoch_losses.py: the regime checks of the method
studies read the last epoch's logged losses of a run; expected means are
computed by hand from the records written here."""

import importlib.util
import json
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'last_epoch_losses.py')


def _tool():
    spec = importlib.util.spec_from_file_location('last_epoch_losses', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(run, stamp, records):
    path = run / stamp / 'vis_data' / 'scalars.json'
    path.parent.mkdir(parents=True)
    path.write_text(''.join(json.dumps(r) + '\n' for r in records))
    return path


def _run(tmp_path):
    run = tmp_path / 'seed0'
    # a run killed in epoch 2 and resumed: two timestamp folders
    _write(
        run,
        '20261204_100000',
        [
            {'epoch': 1, 'iter': 20, 'lr': 1e-3, 'loss': 2.0, 'loss_cls': 1.5},
            {'epoch': 2, 'iter': 40, 'lr': 1e-3, 'loss': 1.2, 'loss_cls': 0.9},
        ],
    )
    _write(
        run,
        '20261204_110000',
        [
            {'epoch': 2, 'iter': 60, 'lr': 1e-3, 'loss': 0.9, 'loss_cls': 0.7},
            {'epoch': 3, 'iter': 80, 'lr': 1e-4, 'loss': 1.0, 'loss_cls': 0.8},
            {'epoch': 3, 'iter': 100, 'lr': 1e-4, 'loss': 0.5},
            # a validation record: no epoch, no loss
            {'accuracy/top1': 50.0, 'step': 3},
        ],
    )
    return run


def test_means_of_the_last_epoch_over_resumed_logs(tmp_path):
    epoch, n, means = _tool().last_epoch_losses(str(_run(tmp_path)))
    assert (epoch, n) == (3, 2)
    assert means['loss'] == pytest.approx((1.0 + 0.5) / 2)
    # only the records that logged it
    assert means['loss_cls'] == pytest.approx(0.8)
    assert set(means) == {'loss', 'loss_cls'}


def test_check_marks_and_exit_status(tmp_path, capsys):
    tool = _tool()
    run = str(_run(tmp_path))
    assert tool.main([run, '--check', 'loss', '--below', '0.8']) == 0
    assert 'loss 0.750' in capsys.readouterr().out
    assert tool.main([run, '--check', 'loss', '--below', '0.75']) == 1
    assert 'FAILED' in capsys.readouterr().out
    with pytest.raises(SystemExit):
        tool.main([run, '--check', 'loss_affinity', '--below', '1'])
    assert "no 'loss_affinity' logged" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tool.main([run, '--check', 'loss'])


def test_bad_logs_name_the_file_and_line(tmp_path):
    tool = _tool()
    with pytest.raises(FileNotFoundError, match='scalars.json'):
        tool.last_epoch_losses(str(tmp_path / 'missing'))
    run = tmp_path / 'bad'
    path = _write(run, 't', [{'epoch': 1, 'loss': 1.0}])
    with open(path, 'a') as f:
        f.write('{"epoch": 1, "loss": \n')  # a line cut short
    with pytest.raises(ValueError, match=r'scalars.json, line 2: not JSON'):
        tool.last_epoch_losses(str(run))
    empty = tmp_path / 'empty'
    _write(empty, 't', [{'accuracy/top1': 1.0, 'step': 1}])
    with pytest.raises(ValueError, match='no training record with a loss'):
        tool.last_epoch_losses(str(empty))
