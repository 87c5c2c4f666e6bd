# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Class activation maps on the aligned face crop, not the whole photo.

mmpretrain's ``tools/visualization/vis_cam.py`` explains the whole input
image. A FER model only ever sees the aligned face crop that
:class:`~fer_mm.apis.FERInferencer` cuts out, so the maps are computed and
drawn on that crop: the same pixels the classifier scored. The CAM methods
are pytorch-grad-cam's (``pip install "fer_mm[cam]"``), the target-layer
choice and ViT token reshaping are mmpretrain's ``vis_cam.py``.

DAN's four attention heads carry their own spatial maps
(:func:`dan_head_maps`): the ``(H, W)`` weights each head puts on the
feature map, no gradient needed. POSTER V2's landmark-to-image window
cross-attention gives one map per scale (:func:`window_attention_maps`): how
much attention the landmark queries pay to each image position.
"""

import contextlib
import io
import types
import warnings
from functools import partial
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
import torch
from torch import nn


def _vis_cam_script():
    """mmpretrain's vis_cam.py as a module (it imports pytorch_grad_cam and
    pkg_resources at its top; the latter's deprecation warning is ignored
    for that import only)."""
    import importlib.util
    import os.path as osp

    import mmpretrain

    path = osp.join(
        osp.dirname(mmpretrain.__file__),
        '.mim',
        'tools',
        'visualization',
        'vis_cam.py',
    )
    spec = importlib.util.spec_from_file_location('mmpretrain_vis_cam', path)
    module = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():
        warnings.filterwarnings(
            'ignore',
            message='pkg_resources is deprecated as an API',
            category=UserWarning,
        )
        spec.loader.exec_module(module)
    return module


class _Logits(nn.Module):
    """The classifier as ``inputs -> logits``, what pytorch-grad-cam calls."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x, mode='tensor')
        return out[-1] if isinstance(out, (tuple, list)) else out


def overlay_map(crop: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """``heat`` (``(H, W)`` in [0, 1], crop-sized) drawn over the BGR
    ``crop`` with the JET colour map (pytorch-grad-cam's
    ``show_cam_on_image``)."""
    from pytorch_grad_cam.utils.image import show_cam_on_image

    return show_cam_on_image(
        np.float32(crop) / 255, np.float32(heat), use_rgb=False
    )


def _normalise(m: np.ndarray) -> np.ndarray:
    m = m - m.min()
    return m / (m.max() + 1e-7)


def dan_head_maps(model: nn.Module, inputs: torch.Tensor) -> List[np.ndarray]:
    """The spatial attention map of each head of a DAN neck.

    Each :class:`~fer_mm.models.necks.dan_attention.DANSpatialAttention`
    reweights the feature map by ``sum_c(y)``; that ``(h, w)`` map per head
    is returned, scaled to [0, 1] per head, at the feature resolution.

    Args:
        model (nn.Module): A classifier whose neck is a
            :class:`~fer_mm.models.DANAttentionNeck`.
        inputs (Tensor): One preprocessed input ``(1, 3, H, W)``.

    Returns:
        list[np.ndarray]: One map per head (empty for another neck).
    """
    from ..models import DANAttentionNeck

    neck = getattr(model, 'neck', None)
    if not isinstance(neck, DANAttentionNeck):
        return []
    maps, hooks = [], []
    for head in neck.heads:
        hooks.append(
            head.spatial.relu.register_forward_hook(
                lambda mod, args, out: maps.append(
                    out.sum(dim=1)[0].float().cpu().numpy()
                )
            )
        )
    try:
        with torch.no_grad():
            model(inputs, mode='tensor')
    finally:
        for hook in hooks:
            hook.remove()
    return [_normalise(m) for m in maps]


def window_attention(module, x: torch.Tensor, query: torch.Tensor):
    """The attention weights ``(B, heads, N, N)`` (queries x keys) of a
    :class:`~fer_mm.models.utils.WindowCrossAttention` on ``x`` / ``query``:
    ``softmax(q k^T / sqrt(d) + relative position bias)``, what its
    ``scaled_dot_product_attention`` call applies."""
    B, N, C = x.shape
    heads = module.num_heads
    head_dims = C // heads
    k = module.kv(x).reshape(B, N, 2, heads, head_dims)[:, :, 0]
    k = k.transpose(1, 2)
    q = query.reshape(B, N, heads, head_dims).transpose(1, 2)
    index = module.relative_position_index.view(-1)
    bias = module.relative_position_bias_table[index].view(N, N, heads)
    logits = q @ k.transpose(-2, -1) * head_dims**-0.5
    return (logits + bias.permute(2, 0, 1)[None]).softmax(dim=-1)


def window_attention_maps(
    model: nn.Module, inputs: torch.Tensor
) -> List[np.ndarray]:
    """POSTER V2's window cross-attention, one ``(h, w)`` map per scale:
    the attention each image position receives from the landmark queries
    (mean over heads and queries), scaled to [0, 1].

    Args:
        model (nn.Module): A classifier whose backbone has
            :class:`~fer_mm.models.utils.WindowCrossAttention` modules.
        inputs (Tensor): One preprocessed input ``(1, 3, H, W)``.

    Returns:
        list[np.ndarray]: One map per attention module (empty without).
    """
    from ..models.utils import WindowCrossAttention

    mods = [m for m in model.modules() if isinstance(m, WindowCrossAttention)]
    maps, hooks = [], []

    def keep(mod, args, out):
        attn = window_attention(mod, *args)
        received = attn.mean(dim=(1, 2))[0].float().cpu().numpy()
        maps.append(received.reshape(mod.window_size))

    hooks = [m.register_forward_hook(keep) for m in mods]
    try:
        with torch.no_grad():
            model(inputs, mode='tensor')
    finally:
        for hook in hooks:
            hook.remove()
    return [_normalise(m) for m in maps]


def _last_feature_map(model: nn.Module, inputs: torch.Tensor):
    """Name and module of the backbone's last ``(B, C, H, W)`` output with
    ``H, W > 1``, found by one forward pass."""
    seen, hooks = [], []
    for name, mod in model.backbone.named_modules(prefix='backbone'):
        hooks.append(
            mod.register_forward_hook(
                lambda m, a, out, n=name: seen.append((n, m))
                if torch.is_tensor(out)
                and out.dim() == 4
                and min(out.shape[2:]) > 1
                else None
            )
        )
    try:
        with torch.no_grad():
            model.backbone(inputs)
    finally:
        for hook in hooks:
            hook.remove()
    if not seen:
        raise ValueError(
            'the backbone has no (B, C, H, W) output to explain: pass '
            'target_layers (and vit_like=True for a token layer)'
        )
    return seen[-1]


class FaceCAM:
    """Class activation maps of the faces an inferencer finds.

    Args:
        inferencer (FERInferencer): A PyTorch inferencer (not ONNX).
        method (str): A pytorch-grad-cam method, by mmpretrain's names:
            ``'gradcam'``, ``'gradcam++'``, ``'xgradcam'``, ``'eigencam'``,
            ``'layercam'``... Defaults to 'gradcam'.
        target_layers (Sequence[str], optional): Module names (as in
            ``model.named_modules()``). Defaults to None: mmpretrain's choice,
            the backbone's last norm layer (the one before the last attention
            block for a ViT-like backbone), or, when that layer outputs
            pooled vectors (POSTER V2), the backbone's last feature map.
        vit_like (bool): The target layer outputs ``(B, L, C)`` tokens.
            Defaults to False.
        num_extra_tokens (int, optional): Class / distillation tokens to drop
            for a ViT-like layer. Defaults to the backbone's.

    Example:
        >>> cams = FaceCAM(FERInferencer(config, checkpoint))
        >>> for face in cams('photo.jpg'):
        ...     cv2.imwrite('cam.png', face['overlay'])
    """

    def __init__(
        self,
        inferencer,
        method: str = 'gradcam',
        target_layers: Optional[Sequence[str]] = None,
        vit_like: bool = False,
        num_extra_tokens: Optional[int] = None,
    ):
        model = getattr(inferencer.backend, 'model', None)
        if model is None:
            raise TypeError(
                'FaceCAM needs a PyTorch model (CAMs need gradients): build '
                'the inferencer from a config and checkpoint, not an .onnx '
                'file'
            )
        script = _vis_cam_script()
        if method.lower() not in script.METHOD_MAP:
            raise ValueError(
                f'unknown CAM method {method!r}; choose from '
                f'{", ".join(sorted(script.METHOD_MAP))}'
            )
        self.inferencer = inferencer
        self.model = model
        self.method = method.lower()
        args = types.SimpleNamespace(
            vit_like=vit_like, num_extra_tokens=num_extra_tokens
        )
        if target_layers:
            layers = [script.get_layer(name, model) for name in target_layers]
            self.target_layer_names = list(target_layers)
        else:
            with contextlib.redirect_stdout(io.StringIO()):
                layers = script.get_default_target_layers(model, args)
            names = {id(m): n for n, m in model.named_modules()}
            self.target_layer_names = [names[id(m)] for m in layers]
            if not vit_like and not self._is_map(layers[0]):
                # a pooled norm (POSTER V2's final_norm): the last map
                name, layer = _last_feature_map(model, self._probe())
                layers, self.target_layer_names = [layer], [name]
        self.cam = script.METHOD_MAP[self.method](
            model=_Logits(model),
            target_layers=layers,
            reshape_transform=partial(
                script.reshape_transform, model=model, args=args
            ),
        )

    def _probe(self) -> torch.Tensor:
        w, h = self.inferencer.aligner.out_size
        return self.preprocess(np.zeros((h, w, 3), np.uint8))

    def _is_map(self, layer: nn.Module) -> bool:
        """Whether ``layer`` outputs a ``(B, C, H, W)`` map."""
        out = []
        hook = layer.register_forward_hook(lambda m, a, o: out.append(o))
        try:
            with torch.no_grad():
                self.model(self._probe(), mode='tensor')
        finally:
            hook.remove()
        return bool(out) and torch.is_tensor(out[0]) and out[0].dim() == 4

    def preprocess(self, crop: np.ndarray) -> torch.Tensor:
        """The model input ``(1, 3, H, W)`` of one aligned BGR crop: the
        inferencer's test pipeline, then the model's data preprocessor."""
        h, w = crop.shape[:2]
        data = self.inferencer.pipeline(
            dict(img=crop, img_shape=(h, w), ori_shape=(h, w))
        )
        inputs = torch.as_tensor(np.asarray(data['inputs']))[None]
        device = next(self.model.parameters()).device
        batch = self.model.data_preprocessor({'inputs': inputs.to(device)})
        return batch['inputs']

    def explain_crop(
        self, crop: np.ndarray, target: Optional[int] = None
    ) -> Dict:
        """The CAM of one aligned crop for class ``target`` (default: the
        predicted class).

        Returns:
            dict: ``cam`` (``(H, W)`` float32 in [0, 1], the crop's size),
            ``overlay`` (uint8 BGR), ``target`` (class index),
            ``head_maps`` / ``head_overlays`` for a DAN neck and
            ``window_maps`` / ``window_overlays`` for POSTER V2's window
            cross-attention.
        """
        from pytorch_grad_cam.utils.model_targets import (
            ClassifierOutputTarget,
        )

        x = self.preprocess(crop)
        if target is None:
            with torch.no_grad():
                target = int(_Logits(self.model)(x).argmax(-1)[0])
        gray = self.cam(
            input_tensor=x, targets=[ClassifierOutputTarget(target)]
        )[0]
        h, w = crop.shape[:2]
        cam = np.clip(cv2.resize(gray, (w, h)), 0, 1).astype(np.float32)
        out = dict(cam=cam, overlay=overlay_map(crop, cam), target=target)
        windows = window_attention_maps(self.model, x)
        if windows:
            out['window_maps'] = [
                np.clip(cv2.resize(m, (w, h)), 0, 1) for m in windows
            ]
            out['window_overlays'] = [
                overlay_map(crop, m) for m in out['window_maps']
            ]
        heads = dan_head_maps(self.model, x)
        if heads:
            out['head_maps'] = [
                np.clip(cv2.resize(m, (w, h)), 0, 1) for m in heads
            ]
            out['head_overlays'] = [
                overlay_map(crop, m) for m in out['head_maps']
            ]
        return out

    def __call__(
        self, image, target_class: Optional[str] = None
    ) -> List[Dict]:
        """CAMs of every face of one image (path or BGR array).

        Args:
            image (str | np.ndarray): The photo.
            target_class (str, optional): Explain this class (a name of
                ``inferencer.classes``) instead of each face's prediction.

        Returns:
            list[dict]: Per face, the inferencer's face dict plus ``crop``
            (the aligned BGR crop) and :meth:`explain_crop`'s keys.
        """
        target = None
        if target_class is not None:
            if target_class not in self.inferencer.classes:
                raise ValueError(
                    f'unknown class {target_class!r}; the model has '
                    f'{self.inferencer.classes}'
                )
            target = self.inferencer.classes.index(target_class)
        results = []
        for face, crop in self.inferencer.aligned_faces(image):
            res = dict(face, crop=crop)
            res.update(self.explain_crop(crop, target))
            res['target_class'] = self.inferencer.classes[res['target']]
            results.append(res)
        return results
