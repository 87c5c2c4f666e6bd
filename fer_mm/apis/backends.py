# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Run a classifier on packed face crops: PyTorch or onnxruntime.

Both backends take ``(N, 3, H, W)`` BGR crops in ``[0, 255]`` (uint8 or
float32, as ``PackInputs`` makes them) and return numpy ``logits`` and
``scores`` (class probabilities).
"""

import json
import os.path as osp
from typing import List, Optional, Tuple, Union

import numpy as np
import torch
from torch import nn

from ..utils.precision import fer_autocast, resolve_autocast_dtype
from .export import ONNX_INPUT, ONNX_OUTPUTS


class PyTorchBackend:
    """An mmpretrain classifier through its own preprocessor and head.

    Args:
        model (nn.Module): The classifier (eval mode).
        precision (str): Autocast precision for
            :func:`fer_mm.utils.precision.resolve_autocast_dtype`:
            ``'float32'`` (default), ``'auto'`` (bf16 only where the CPU has
            it natively) or a forced dtype.
    """

    def __init__(self, model: nn.Module, precision: str = 'float32'):
        self.model = model.eval()
        self.device = next(model.parameters()).device
        self.precision = precision
        self.dtype = resolve_autocast_dtype(self.device.type, precision)

    def __call__(
        self, inputs: Union[np.ndarray, torch.Tensor]
    ) -> Tuple[np.ndarray, np.ndarray]:
        inputs = torch.as_tensor(inputs).to(self.device)
        with torch.no_grad():
            data = self.model.data_preprocessor({'inputs': inputs}, False)
            with fer_autocast(self.device.type, self.dtype or 'float32'):
                logits = self.model(data['inputs'], mode='tensor')
            if isinstance(logits, (tuple, list)):
                logits = logits[-1]
            logits = logits.float()
            samples = self.model.head._get_predictions(logits, None)
            scores = torch.stack([s.pred_score for s in samples]).float()
        return logits.cpu().numpy(), scores.cpu().numpy()


class ONNXBackend:
    """An exported classifier (``tools/deployment/pytorch2onnx.py``).

    Args:
        onnx_file (str): The ``.onnx`` file.
        num_threads (int, optional): onnxruntime intra-op threads. Defaults
            to onnxruntime's choice.

    Attributes:
        classes (list[str] | None): Class names stored at export.
        input_size (tuple[int, int]): ``(height, width)`` of a crop.
        test_pipeline (list[dict] | None): The config's test pipeline.
        weights_source (str): The checkpoint the export was made from
            (``'random'`` for an untrained model).
    """

    def __init__(self, onnx_file: str, num_threads: Optional[int] = None):
        if not osp.isfile(onnx_file):
            raise FileNotFoundError(f'ONNX file not found: {onnx_file}')
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if num_threads:
            opts.intra_op_num_threads = num_threads
        try:
            self.session = ort.InferenceSession(
                onnx_file, opts, providers=['CPUExecutionProvider']
            )
        except Exception as err:  # noqa: BLE001 (ort raises its own types)
            raise ValueError(
                f'cannot load ONNX model {onnx_file}: {err}'
            ) from None
        names = [i.name for i in self.session.get_inputs()]
        outs = [o.name for o in self.session.get_outputs()]
        if names != [ONNX_INPUT] or list(ONNX_OUTPUTS) != outs[:2]:
            raise ValueError(
                f'{onnx_file}: expected input {ONNX_INPUT!r} and outputs '
                f'{ONNX_OUTPUTS}, got {names} -> {outs} (export it with '
                'tools/deployment/pytorch2onnx.py)'
            )
        meta = self.session.get_modelmeta().custom_metadata_map
        self.classes: Optional[List[str]] = json.loads(
            meta.get('fer_mm.classes', 'null')
        )
        size = json.loads(meta.get('fer_mm.input_size', 'null'))
        if size is None:
            shape = self.session.get_inputs()[0].shape
            size = shape[2:4]
        self.input_size = (int(size[0]), int(size[1]))
        self.test_pipeline = json.loads(
            meta.get('fer_mm.test_pipeline', 'null')
        )
        self.onnx_file = onnx_file
        # Where the exported weights came from (files exported before this
        # field existed: the ONNX file itself).
        self.weights_source = meta.get('fer_mm.weights', onnx_file)

    def __call__(
        self, inputs: Union[np.ndarray, torch.Tensor]
    ) -> Tuple[np.ndarray, np.ndarray]:
        if isinstance(inputs, torch.Tensor):
            inputs = inputs.cpu().numpy()
        x = np.ascontiguousarray(inputs, dtype=np.float32)
        logits, scores = self.session.run(list(ONNX_OUTPUTS), {ONNX_INPUT: x})
        return logits, scores
