# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Every pretrained file a config names is documented, and a missing one
stops training with what it is and the command that makes it."""

import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from fer_mm.utils.pretrained_parts import DOC, PRETRAINED_PARTS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def named_files():
    """Pretrained file names the configs point at (not work_dirs outputs)."""
    names = set()
    for path in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True
    ):
        with open(path) as f:
            text = f.read()
        names |= set(
            re.findall(
                r"'(?:checkpoints|data/pretrained)/([^'/]+\.pth)'", text
            )
        )
    return names


def test_every_named_file_is_in_the_table_and_the_doc():
    names = named_files()
    assert {'resnet18_msceleb_fermm.pth', 'ir50_fermm.pth'} <= names
    assert names <= set(PRETRAINED_PARTS)
    with open(osp.join(REPO, DOC)) as f:
        doc = f.read()
    for name, part in PRETRAINED_PARTS.items():
        assert name in doc, name
        script = re.search(r'tools/\S+\.py', part['command'])
        if script:
            assert osp.isfile(osp.join(REPO, script.group(0))), part['command']
            assert part['command'] in doc, part['command']


@pytest.mark.parametrize(
    'config, missing, command',
    [
        (
            'configs/dan/dan_resnet18_8xb32-40e_rafdb.py',
            'checkpoints/resnet18_msceleb_fermm.pth',
            'dan_to_fermm.py resnet18_msceleb.pth',
        ),
        (
            'configs/poster_v2/posterv2_8xb18-200e_affectnet7.py',
            'checkpoints/ir50_fermm.pth',
            'poster_to_fermm.py ir50.pth checkpoints/ir50_fermm.pth',
        ),
    ],
)
def test_missing_pretrained_file_names_the_command(
    config, missing, command, tmp_path, monkeypatch
):
    from mmpretrain.registry import MODELS

    cfg = Config.fromfile(osp.join(REPO, config))
    monkeypatch.chdir(tmp_path)  # no checkpoints/ here
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    with pytest.raises(FileNotFoundError) as info:
        model.init_weights()
    message = str(info.value)
    assert f'pretrained file not found: {missing}' in message
    assert command in message and DOC in message


def test_unknown_missing_checkpoint_keeps_the_plain_message(tmp_path):
    from fer_mm.utils import load_checkpoint_file

    with pytest.raises(FileNotFoundError, match=r'^checkpoint not found: '):
        load_checkpoint_file(str(tmp_path / 'mine.pth'))
