# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""A classifier as one graph: raw BGR crops in, logits and scores out.

:class:`ExportableClassifier` folds the model's data preprocessor
(BGR->RGB, mean/std) in front of ``model(inputs, mode='tensor')`` and the
head's score function (softmax, or none where the head already outputs a
distribution, e.g. ARBEx) after it, so an ONNX file needs no config at run
time. :func:`export_onnx` writes it with a dynamic batch axis and the
metadata :class:`~fer_mm.apis.backends.ONNXBackend` reads back.
"""

import json
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmpretrain.models.heads import ClsHead
from torch import nn

ONNX_INPUT = 'inputs'
ONNX_OUTPUTS = ('logits', 'scores')


def head_score_mode(model: nn.Module, logits: torch.Tensor) -> str:
    """How the head turns its output into ``pred_score``.

    Compares the head's own ``_get_predictions`` with a softmax and with
    the identity on ``logits``.

    Returns:
        str: ``'softmax'`` or ``'identity'``.

    Raises:
        ValueError: The head's scores are neither.
    """
    head = getattr(model, 'head', None)
    if not isinstance(head, ClsHead):
        raise ValueError(
            f'export needs an mmpretrain ClsHead, got {type(head).__name__}'
        )
    samples = head._get_predictions(logits.detach(), None)
    ref = torch.stack([s.pred_score for s in samples]).float()
    if torch.allclose(ref, logits.float().softmax(-1), atol=1e-6):
        return 'softmax'
    if torch.allclose(ref, logits.float(), atol=1e-6):
        return 'identity'
    raise ValueError(
        f'{type(head).__name__}: its pred_score is neither the softmax of its '
        'output nor the output itself; export it with a custom wrapper'
    )


class ExportableClassifier(nn.Module):
    """Preprocessing, network and score function in one module.

    Args:
        model (nn.Module): An mmpretrain classifier in eval mode.
        score_mode (str): ``'softmax'`` or ``'identity'`` (see
            :func:`head_score_mode`).

    Inputs are ``(N, 3, H, W)`` float32 BGR pixels in ``[0, 255]`` (what
    ``PackInputs`` makes of an OpenCV image); outputs are the head's output
    (``logits``) and the class probabilities (``scores``).
    """

    def __init__(self, model: nn.Module, score_mode: str = 'softmax'):
        super().__init__()
        self.model = model
        self.score_mode = score_mode
        dp = model.data_preprocessor
        self.to_rgb = bool(getattr(dp, 'to_rgb', False))
        if getattr(dp, '_enable_normalize', False):
            self.register_buffer(
                'mean', dp.mean.detach().clone().view(1, -1, 1, 1)
            )
            self.register_buffer(
                'std', dp.std.detach().clone().view(1, -1, 1, 1)
            )
        else:
            self.mean = self.std = None

    def forward(
        self, inputs: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        x = inputs.float()
        if self.to_rgb:
            x = x.flip(1)
        if self.mean is not None:
            x = (x - self.mean) / self.std
        logits = self.model(x, mode='tensor')
        if isinstance(logits, (tuple, list)):
            logits = logits[-1]
        scores = logits.softmax(-1) if self.score_mode == 'softmax' else logits
        return logits, scores


def export_onnx(
    model: nn.Module,
    out_file: str,
    input_size: Sequence[int],
    classes: Optional[List[str]] = None,
    cfg: Optional[Config] = None,
    opset: int = 18,
    verify: bool = True,
    atol: float = 1e-4,
    dynamo: bool = False,
) -> dict:
    """Export a classifier to ONNX with a dynamic batch axis.

    The file is written next to ``out_file`` under a temporary name and
    moved into place only after onnxruntime reproduced PyTorch's outputs
    (``verify``), so a failed export leaves nothing behind.

    Args:
        model (nn.Module): The classifier, in eval mode on the CPU.
        out_file (str): The ``.onnx`` file.
        input_size (Sequence[int]): ``(height, width)`` of a crop.
        classes (list[str], optional): Class names, stored as metadata.
        cfg (Config, optional): The config; its test pipeline is stored.
        opset (int): ONNX opset. Defaults to 18.
        verify (bool): Compare onnxruntime with PyTorch on a random batch of
            3. Defaults to True.
        atol (float): Largest allowed absolute difference. Defaults to 1e-4.
        dynamo (bool): Use torch's ``torch.export``-based exporter (needs
            onnxscript) instead of the TorchScript one. Both reproduce
            ResNet-18, DAN, POSTER V2 and ARBEx within 1e-5; the TorchScript
            exporter is 5-10x faster here. Defaults to False.

    Returns:
        dict: ``max_abs_diff_logits``, ``max_abs_diff_scores`` (None
        without ``verify``) and ``score_mode``.
    """
    model = model.eval().cpu()
    h, w = int(input_size[0]), int(input_size[1])
    channels = input_channels(model)
    gen = torch.Generator().manual_seed(0)
    example = torch.randint(0, 256, (2, channels, h, w), generator=gen).float()
    with torch.no_grad():
        logits = model(
            model.data_preprocessor({'inputs': example})['inputs'],
            mode='tensor',
        )
    score_mode = head_score_mode(model, logits)
    wrapper = ExportableClassifier(model, score_mode).eval()

    out_file = osp.abspath(out_file)
    os.makedirs(osp.dirname(out_file), exist_ok=True)
    tmp = out_file + '.partial.onnx'
    try:
        with torch.no_grad():
            if dynamo:
                batch = torch.export.Dim('batch', min=1, max=4096)
                torch.onnx.export(
                    wrapper,
                    (example,),
                    tmp,
                    input_names=[ONNX_INPUT],
                    output_names=list(ONNX_OUTPUTS),
                    dynamic_shapes={'inputs': {0: batch}},
                    opset_version=opset,
                    dynamo=True,
                    external_data=False,
                    verbose=False,
                )
            else:
                torch.onnx.export(
                    wrapper,
                    (example,),
                    tmp,
                    input_names=[ONNX_INPUT],
                    output_names=list(ONNX_OUTPUTS),
                    dynamic_axes={
                        ONNX_INPUT: {0: 'batch'},
                        **{name: {0: 'batch'} for name in ONNX_OUTPUTS},
                    },
                    opset_version=opset,
                    dynamo=False,
                )
        _add_metadata(
            tmp,
            classes,
            (h, w),
            cfg,
            score_mode,
            getattr(model, 'weights_source', None),
        )
        report = dict(
            score_mode=score_mode,
            max_abs_diff_logits=None,
            max_abs_diff_scores=None,
        )
        if verify:
            report.update(
                compare_onnx(wrapper, tmp, (h, w), channels=channels)
            )
            worst = max(
                report['max_abs_diff_logits'], report['max_abs_diff_scores']
            )
            if not worst < atol:
                raise RuntimeError(
                    f'onnxruntime differs from PyTorch by {worst:.3g} '
                    f'(> {atol:g}); {out_file} not written. '
                    + _atol_hint(worst)
                )
        os.replace(tmp, out_file)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    return report


def _atol_hint(worst: float) -> str:
    """How to accept a difference of ``worst``: ``--atol`` at the power of
    ten just above it (``1.5e-4 -> 1e-3``)."""
    import math

    if not math.isfinite(worst):
        return 'The outputs are not finite: the exported graph is wrong.'
    looser = 10.0 ** math.floor(math.log10(max(worst, 1e-12)) + 1)
    return (
        'Float rounding grows with depth: if the difference is acceptable, '
        f'allow it with --atol {looser:g} (tools/deployment/pytorch2onnx.py; '
        'atol= of export_onnx).'
    )


def compare_onnx(
    wrapper: nn.Module,
    onnx_file: str,
    input_size: Sequence[int],
    batch: int = 3,
    channels: int = 3,
) -> dict:
    """Max abs difference of onnxruntime and PyTorch on a random batch."""
    import onnxruntime as ort

    gen = torch.Generator().manual_seed(1)
    x = torch.randint(
        0, 256, (batch, channels, *input_size), generator=gen
    ).float()
    with torch.no_grad():
        ref = [t.numpy() for t in wrapper(x)]
    sess = ort.InferenceSession(onnx_file, providers=['CPUExecutionProvider'])
    got = sess.run(list(ONNX_OUTPUTS), {ONNX_INPUT: x.numpy()})
    return dict(
        max_abs_diff_logits=float(np.abs(got[0] - ref[0]).max()),
        max_abs_diff_scores=float(np.abs(got[1] - ref[1]).max()),
    )


def input_channels(model: nn.Module) -> int:
    """Image channels a classifier takes: its data preprocessor's mean
    (1 for grayscale models such as mini-Xception), else 3."""
    mean = getattr(getattr(model, 'data_preprocessor', None), 'mean', None)
    return int(mean.numel()) if isinstance(mean, torch.Tensor) else 3


def _add_metadata(
    path, classes, input_size, cfg, score_mode, weights=None
) -> None:
    import onnx

    proto = onnx.load(path)
    meta = {
        'fer_mm.classes': json.dumps(list(classes) if classes else None),
        'fer_mm.input_size': json.dumps(list(input_size)),
        'fer_mm.score_mode': score_mode,
    }
    if weights:
        meta['fer_mm.weights'] = str(weights)
    if cfg is not None and 'test_dataloader' in cfg:
        pipeline = cfg.test_dataloader.dataset.get('pipeline', [])
        meta['fer_mm.test_pipeline'] = json.dumps(
            Config(dict(p=pipeline)).to_dict()['p']
        )
    del proto.metadata_props[:]
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, path)


def pipeline_input_size(pipeline: Sequence[dict]) -> Optional[Tuple[int, int]]:
    """``(height, width)`` a test pipeline ends with (last fixed-size
    ``Resize`` / ``CenterCrop`` / ``ResizeEdge``-free size), or None."""
    size = None
    for t in pipeline:
        kind = str(t.get('type', '')).split('.')[-1]
        value = None
        if kind == 'Resize' and t.get('scale') is not None:
            value = t['scale']
        elif kind == 'CenterCrop':
            value = t.get('crop_size')
        elif kind == 'RandomResizedCrop':
            value = t.get('scale')
        if value is not None:
            if isinstance(value, int):
                size = (value, value)
            else:
                size = (int(value[1]), int(value[0]))  # mmcv: (w, h)
    return size
