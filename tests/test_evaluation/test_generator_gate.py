# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import importlib.util
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from fer_mm.evaluation.generator_gate import (
    class_keep_shares,
    gate_verdict,
    wilson_interval,
)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLASSES = ['A', 'B', 'C']


def test_wilson_interval_by_hand():
    # 8 of 10, z = 1.96: centre (0.8 + 0.19208) / 1.38416 = 0.71676,
    # half 1.96 * sqrt(0.016 + 0.009604) / 1.38416 = 0.22657
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.49019, abs=1e-4)
    assert high == pytest.approx(0.94333, abs=1e-4)
    # 0 of 5: [0, (z^2 / n) / (1 + z^2 / n)] = [0, 0.76832 / 1.76832]
    assert wilson_interval(0, 5) == pytest.approx((0.0, 0.43449), abs=1e-4)
    assert wilson_interval(5, 5) == pytest.approx((0.56551, 1.0), abs=1e-4)
    with pytest.raises(ValueError, match='total must be positive'):
        wilson_interval(0, 0)
    with pytest.raises(ValueError, match=r'kept must be in \[0, 3\]'):
        wilson_interval(4, 3)


def test_keep_shares_and_verdict_by_hand():
    targets = [0, 0, 0, 0, 1, 1, 2]
    preds = [0, 0, 2, 1, 1, 0, 0]
    shares = class_keep_shares(targets, preds, CLASSES)
    assert list(shares) == ['A', 'B', 'C']
    assert shares['A']['total'] == 4 and shares['A']['kept'] == 2
    assert shares['A']['share'] == 0.5
    # ties in the counts are listed by name
    assert shares['A']['read_as'] == {'A': 2, 'B': 1, 'C': 1}
    assert shares['B']['share'] == 0.5 and shares['B']['read_as'] == {
        'A': 1,
        'B': 1,
    }
    assert shares['C'] == dict(
        total=1,
        kept=0,
        share=0.0,
        ci95=list(wilson_interval(0, 1)),
        read_as={'A': 1},
    )
    assert gate_verdict(shares, 0.5, ['A', 'B'])['passed'] is True
    verdict = gate_verdict(shares, 0.6)
    assert verdict['passed'] is False
    assert verdict['failed_classes'] == ['A', 'B', 'C']
    # a checked class the generator wrote nothing of fails
    only_a = class_keep_shares([0], [0], CLASSES)
    assert gate_verdict(only_a, 0.9, ['A', 'C'])['failed_classes'] == ['C']
    with pytest.raises(ValueError, match='prediction index 3 outside'):
        class_keep_shares([0], [3], CLASSES)
    with pytest.raises(ValueError, match='2 targets but 1 predictions'):
        class_keep_shares([0, 1], [0], CLASSES)
    with pytest.raises(ValueError, match='threshold must be in'):
        gate_verdict(shares, 0.0)


def _tool():
    path = osp.join(REPO, 'tools/analysis_tools/generator_gate.py')
    spec = importlib.util.spec_from_file_location('generator_gate', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _generated_tree(root, labels):
    """A RAF-DB tree as the generators write it (1-based RAF-DB labels)."""
    os.makedirs(osp.join(root, 'basic', 'EmoLabel'))
    os.makedirs(osp.join(root, 'basic', 'Image', 'aligned'))
    rng = np.random.default_rng(0)
    lines = []
    for i, label in enumerate(labels):
        name = f'train_gen_{i + 1:06d}.jpg'
        img = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
        cv2.imwrite(
            osp.join(
                root, 'basic', 'Image', 'aligned', name[:-4] + '_aligned.jpg'
            ),
            img,
        )
        lines.append(f'{name} {label}\n')
    with open(
        osp.join(root, 'basic', 'EmoLabel', 'list_patition_label.txt'), 'w'
    ) as f:
        f.writelines(lines)


def _happiness_oracle(tmp_path):
    """A ResNet-18 config and a checkpoint whose linear layer is zero but
    for a bias on Happiness: it reads every image as Happiness."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    import fer_mm  # noqa: F401

    config = osp.join(
        REPO, 'configs/mixaugment/vanilla_resnet18_1xb64-8e_synthetic-rafdb.py'
    )
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(config)
    cfg.model.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(cfg.model)
    state = model.state_dict()
    state['head.fc.weight'].zero_()
    state['head.fc.bias'].zero_()
    state['head.fc.bias'][3] = 5.0  # index 3: Happiness (RAF-DB label 4)
    ckpt = str(tmp_path / 'oracle.pth')
    torch.save(dict(state_dict=state, meta={}), ckpt)
    return config, ckpt


def test_tool_on_an_oracle_that_always_says_happiness(tmp_path):
    """A ResNet-18 oracle whose linear layer is zero but for a bias on
    Happiness reads every image as Happiness, whatever it shows: the keep
    share is 100 % for Happiness and 0 % for every other target class."""
    config, ckpt = _happiness_oracle(tmp_path)
    root = str(tmp_path / 'generated')
    # RAF-DB labels: 2 Fear x3, 4 Happiness x2, 3 Disgust x1
    _generated_tree(root, [2, 2, 2, 4, 4, 3])
    report = _tool().main(
        [config, ckpt, root, '--threshold', '0.5', '--classes', 'Fear']
    )
    shares = report['shares']
    assert list(shares) == ['Fear', 'Disgust', 'Happiness']
    assert shares['Fear']['total'] == 3 and shares['Fear']['kept'] == 0
    assert shares['Fear']['read_as'] == {'Happiness': 3}
    assert shares['Happiness']['share'] == 1.0
    assert shares['Disgust']['read_as'] == {'Happiness': 1}
    assert report['passed'] is False and report['failed_classes'] == ['Fear']
    saved = json.load(open(osp.join(root, 'generator_gate.json')))
    assert saved['shares'] == shares and saved['passed'] is False
    report = _tool().main(
        [
            config,
            ckpt,
            root,
            '--classes',
            'Happiness',
            '--out',
            str(tmp_path / 'g.json'),
        ]
    )
    assert report['passed'] is True
    assert json.load(open(tmp_path / 'g.json'))['passed'] is True
    with pytest.raises(SystemExit, match=r"\['Joy'\] are not classes"):
        _tool().main([config, ckpt, root, '--classes', 'Joy'])


def test_relative_gate_by_hand():
    """With a reference (the oracle's keep shares on real images), class c
    needs ``threshold * reference[c]``: 0.8 x 0.5 = 0.4 for A, 0.8 x 1.0 =
    0.8 for B."""
    # A: 2 of 4 kept (0.5 >= 0.4), B: 1 of 2 (0.5 < 0.8)
    shares = class_keep_shares([0, 0, 0, 0, 1, 1], [0, 0, 2, 1, 1, 0], CLASSES)
    reference = {'A': 0.5, 'B': 1.0, 'C': 0.25}
    verdict = gate_verdict(shares, 0.8, ['A', 'B'], reference=reference)
    assert verdict['passed'] is False
    assert verdict['failed_classes'] == ['B']
    assert verdict['required'] == pytest.approx({'A': 0.4, 'B': 0.8})
    assert verdict['relative'] is True
    # without the reference the same threshold fails both
    absolute = gate_verdict(shares, 0.8, ['A', 'B'])
    assert absolute['failed_classes'] == ['A', 'B']
    assert absolute['required'] == {'A': 0.8, 'B': 0.8}
    assert absolute['relative'] is False
    # a checked class the reference does not hold cannot be judged
    with pytest.raises(
        ValueError, match=r"reference has no share for \['B'\]"
    ):
        gate_verdict(shares, 0.8, ['A', 'B'], reference={'A': 0.5})


def test_tool_relative_to_a_reference_report(tmp_path):
    """--reference reads another report of the tool (the oracle on real
    images) and scales the threshold by its shares; a report that is not
    one names the file and the missing key."""
    config, ckpt = _happiness_oracle(tmp_path)  # always Happiness
    root = str(tmp_path / 'generated')
    _generated_tree(root, [2, 4, 4])  # Fear x1, Happiness x2
    ref = tmp_path / 'real.json'
    # real images: Happiness kept 50 %, Fear 0 %
    ref.write_text(
        json.dumps(
            dict(shares=dict(Happiness=dict(share=0.5), Fear=dict(share=0.0)))
        )
    )
    report = _tool().main(
        [config, ckpt, root, '--threshold', '0.9', '--reference', str(ref)]
    )
    # Happiness needs 0.45 (has 1.0); Fear needs 0.0 (has 0.0): passed
    assert report['passed'] is True
    assert report['required'] == pytest.approx(
        {'Fear': 0.0, 'Happiness': 0.45}
    )
    assert report['reference'] == str(ref)
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps(dict(passed=True)))
    with pytest.raises(SystemExit, match=r"bad\.json.*no 'shares'"):
        _tool().main([config, ckpt, root, '--reference', str(bad)])
