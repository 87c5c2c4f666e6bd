# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Landmark-aware transforms and the two views of the LSD multi-task model.

Landmarks (``results['gt_landmarks']``, ``(68, 2)`` x, y) are in pixel-index
coordinates: the centre of the top-left pixel is ``(0, 0)``, as OpenCV draws.
A resize by ``s`` maps ``x`` to ``(x + 0.5) * s - 0.5`` and a horizontal flip
of a ``W``-wide image maps it to ``W - 1 - x``. :class:`TwoViews` hands the
model landmarks normalised to the image size, ``(x + 0.5) / W`` and
``(y + 0.5) / H`` (in ``[0, 1]``, unchanged by a resize).
"""

import copy
from typing import Iterable, List, Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
import torch
from mmcv.transforms import BaseTransform, Compose
from mmpretrain.registry import TRANSFORMS

from .landmarks import IBUG68_FLIP_INDEX, NUM_LANDMARKS

#: Transforms that change pixel values only; allowed in a landmark view.
PHOTOMETRIC_TRANSFORMS = frozenset(
    {
        'ColorJitter',
        'Lighting',
        'RandomGrayscale',
        'GaussianBlur',
        'Brightness',
        'Contrast',
        'ColorTransform',
        'Sharpness',
        'Equalize',
        'AutoContrast',
        'Posterize',
        'Solarize',
        'SolarizeAdd',
        'Invert',
    }
)


def _check_landmarks(results: dict, owner: str) -> Optional[np.ndarray]:
    pts = results.get('gt_landmarks')
    if pts is None:
        return None
    pts = np.asarray(pts, dtype=np.float32)
    if pts.shape != (NUM_LANDMARKS, 2):
        raise ValueError(
            f'{owner}: gt_landmarks must be ({NUM_LANDMARKS}, 2), got '
            f'{pts.shape} for {results.get("img_path", "an image")}'
        )
    return pts


@TRANSFORMS.register_module()
class LandmarkResize(BaseTransform):
    """Resize the image to a fixed size and move ``gt_landmarks`` with it.

    Required keys: ``img``. Optional: ``gt_landmarks``. Modified: ``img``,
    ``img_shape``, ``gt_landmarks``.

    Args:
        scale (int | tuple[int, int]): Output ``(width, height)``; an int is
            a square.
        interpolation (str): mmcv interpolation. Defaults to 'bilinear'.
    """

    moves_landmarks = True

    def __init__(
        self,
        scale: Union[int, Tuple[int, int]],
        interpolation: str = 'bilinear',
    ) -> None:
        if isinstance(scale, int):
            scale = (scale, scale)
        if len(scale) != 2 or min(scale) < 1:
            raise ValueError(
                f'LandmarkResize: scale must be positive (w, h), got {scale}'
            )
        self.scale = tuple(int(s) for s in scale)
        self.interpolation = interpolation

    def transform(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        new_w, new_h = self.scale
        results['img'] = mmcv.imresize(
            img, (new_w, new_h), interpolation=self.interpolation
        )
        results['img_shape'] = (new_h, new_w)
        pts = _check_landmarks(results, 'LandmarkResize')
        if pts is not None:
            factor = np.array([new_w / w, new_h / h], dtype=np.float32)
            results['gt_landmarks'] = (pts + 0.5) * factor - 0.5
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(scale={self.scale})'


@TRANSFORMS.register_module()
class LandmarkRandomFlip(BaseTransform):
    """Horizontal flip of the image and of its iBUG-68 landmarks.

    The points move (``x -> W - 1 - x``) and are re-indexed, because a
    mirrored left eye is a right eye: point ``i`` of the flipped face is the
    mirrored point ``IBUG68_FLIP_INDEX[i]`` of the original.

    Required keys: ``img``. Optional: ``gt_landmarks``. Modified: ``img``,
    ``gt_landmarks``; added: ``flip`` (bool).

    Args:
        prob (float): Flip probability. Defaults to 0.5.
    """

    moves_landmarks = True

    def __init__(self, prob: float = 0.5) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(
                f'LandmarkRandomFlip: prob must be in [0, 1], got {prob}'
            )
        self.prob = prob

    def transform(self, results: dict) -> dict:
        flip = bool(np.random.rand() < self.prob)
        results['flip'] = flip
        if not flip:
            return results
        img = results['img']
        results['img'] = np.ascontiguousarray(img[:, ::-1])
        pts = _check_landmarks(results, 'LandmarkRandomFlip')
        if pts is not None:
            pts = pts[IBUG68_FLIP_INDEX].copy()
            pts[:, 0] = img.shape[1] - 1 - pts[:, 0]
            results['gt_landmarks'] = pts
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(prob={self.prob})'


def _type_name(cfg) -> str:
    name = cfg['type'] if isinstance(cfg, dict) else type(cfg).__name__
    if not isinstance(name, str):
        name = name.__name__
    return name.split('.')[-1]


@TRANSFORMS.register_module()
class TwoViews(BaseTransform):
    """Two views of one image: emotion (any augmentation) and appearance.

    The LSD multi-task model augments its branches differently: the emotion
    branch with geometric + colour augmentation and random erasing, the
    appearance (landmark) branch with colour jitter only. This transform runs
    ``emotion`` and ``appearance`` on two copies of the results and stacks
    the two images along the channel axis (``H x W x 6``: emotion first),
    which :class:`fer_mm.models.TwoViewDataPreprocessor` normalises per view
    and :class:`fer_mm.models.LSDMultiTaskClassifier` splits between its
    branches.

    Landmarks follow the appearance view only; the emotion view never sees
    them, so its geometric transforms are free. Every transform of the
    appearance view must either move the landmarks (``moves_landmarks``:
    :class:`LandmarkResize`, :class:`LandmarkRandomFlip`) or be photometric
    (:data:`PHOTOMETRIC_TRANSFORMS` plus ``extra_photometric``); anything
    else is refused when the transform is built. The output
    ``gt_landmarks`` is normalised to the appearance image,
    ``((x + 0.5) / W, (y + 0.5) / H)``, as a float32 tensor.

    Args:
        emotion (list[dict]): Transforms of the emotion view.
        appearance (list[dict]): Transforms of the appearance view.
            Defaults to ``[]`` (the image as it comes).
        extra_photometric (Iterable[str]): More transform types to accept in
            the appearance view as pixel-only. Defaults to ().

    Examples:
        >>> pipeline = [
        ...     dict(type='LoadImageFromFile'),
        ...     dict(type='LandmarkResize', scale=64),
        ...     dict(type='TwoViews',
        ...          emotion=[dict(type='RandomFlip', prob=0.5),
        ...                   dict(type='RandomErasing', erase_prob=0.25)],
        ...          appearance=[dict(type='ColorJitter', brightness=0.3)]),
        ...     dict(type='PackInputs', algorithm_keys=('gt_landmarks', )),
        ... ]
    """

    def __init__(
        self,
        emotion: Sequence[dict],
        appearance: Sequence[dict] = (),
        extra_photometric: Iterable[str] = (),
    ) -> None:
        allowed = PHOTOMETRIC_TRANSFORMS | set(extra_photometric)
        built: List = []
        for cfg in appearance:
            t = TRANSFORMS.build(cfg) if isinstance(cfg, dict) else cfg
            name = _type_name(cfg)
            if not (getattr(t, 'moves_landmarks', False) or name in allowed):
                raise ValueError(
                    f'TwoViews: {name} in the appearance view would leave the '
                    'landmarks behind; use LandmarkResize / LandmarkRandomFlip'
                    ' or a photometric transform, or list it in '
                    'extra_photometric if it changes pixel values only'
                )
            built.append(t)
        self.emotion = Compose(list(emotion))
        self.appearance = Compose(built)

    def transform(self, results: dict) -> Optional[dict]:
        pts = _check_landmarks(results, 'TwoViews')
        base = {k: v for k, v in results.items() if k != 'gt_landmarks'}
        emo = self.emotion(copy.deepcopy(base))
        app_in = copy.deepcopy(base)
        if pts is not None:
            app_in['gt_landmarks'] = pts
        app = self.appearance(app_in)
        if emo is None or app is None:
            return None
        if emo['img'].shape != app['img'].shape:
            raise ValueError(
                'TwoViews: the emotion and appearance views must have the '
                f'same shape, got {emo["img"].shape} and {app["img"].shape} '
                f'for {results.get("img_path", "an image")}'
            )
        results.update({k: v for k, v in emo.items() if k != 'img'})
        results['img'] = np.concatenate([emo['img'], app['img']], axis=-1)
        results['img_shape'] = emo['img'].shape[:2]
        results.pop('gt_landmarks', None)
        if pts is not None:
            h, w = app['img'].shape[:2]
            norm = (app['gt_landmarks'] + 0.5) / np.array([w, h], np.float32)
            results['gt_landmarks'] = torch.from_numpy(norm.astype(np.float32))
        return results

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(emotion={self.emotion}, '
            f'appearance={self.appearance})'
        )


@TRANSFORMS.register_module()
class CropFaceBox(BaseTransform):
    """Crop the image to the sample's face box (AffectNet's ``face_x`` ...).

    The box ``results['face_bbox']`` (``x1, y1, x2, y2`` in pixels, as
    :class:`fer_mm.datasets.AffectNet` gives it) is widened by ``margin``
    times its width and height on every side, clipped to the image, and cut
    out; ``gt_landmarks`` move with the crop. A box that is not inside the
    image (by more than ``tolerance`` pixels) is an error naming the image
    and the annotation line (``ann_line``), unless ``out_of_image='clip'``.

    Required keys: ``img``, ``face_bbox``. Optional: ``gt_landmarks``,
    ``ann_line``. Modified: ``img``, ``img_shape``, ``gt_landmarks``; added:
    ``crop_bbox`` (the box cut out, integer pixels).

    Args:
        margin (float): Extra context on each side, as a fraction of the box
            side. Defaults to 0.
        out_of_image (str): ``'error'`` or ``'clip'``. Defaults to 'error'.
        tolerance (float): Pixels a box may stick out of the image before it
            counts as outside (rounding in annotation tools). Defaults to 1.
    """

    moves_landmarks = True

    def __init__(
        self,
        margin: float = 0.0,
        out_of_image: str = 'error',
        tolerance: float = 1.0,
    ) -> None:
        if margin < 0:
            raise ValueError(f'CropFaceBox: margin must be >= 0, got {margin}')
        if out_of_image not in ('error', 'clip'):
            raise ValueError(
                "CropFaceBox: out_of_image must be 'error' or 'clip', got "
                f'{out_of_image!r}'
            )
        self.margin = float(margin)
        self.out_of_image = out_of_image
        self.tolerance = float(tolerance)

    def transform(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        x1, y1, x2, y2 = np.asarray(results['face_bbox'], np.float64)
        tol = self.tolerance
        outside = x1 < -tol or y1 < -tol or x2 > w + tol or y2 > h + tol
        if outside and self.out_of_image == 'error':
            where = results.get('ann_line', 'its annotation')
            raise ValueError(
                f'CropFaceBox: face box x1={x1:g} y1={y1:g} x2={x2:g} '
                f'y2={y2:g} of {where} lies outside the {w}x{h} image '
                f'{results.get("img_path", "")}; expected a box inside the '
                "image (or out_of_image='clip')"
            )
        mx, my = self.margin * (x2 - x1), self.margin * (y2 - y1)
        left = int(np.clip(np.floor(x1 - mx), 0, w))
        top = int(np.clip(np.floor(y1 - my), 0, h))
        right = int(np.clip(np.ceil(x2 + mx), 0, w))
        bottom = int(np.clip(np.ceil(y2 + my), 0, h))
        if right <= left or bottom <= top:
            raise ValueError(
                f'CropFaceBox: face box of {results.get("ann_line", "")} '
                f'leaves nothing of the {w}x{h} image '
                f'{results.get("img_path", "")}'
            )
        results['img'] = img[top:bottom, left:right]
        results['img_shape'] = (bottom - top, right - left)
        results['crop_bbox'] = np.array([left, top, right, bottom], np.int64)
        pts = _check_landmarks(results, 'CropFaceBox')
        if pts is not None:
            results['gt_landmarks'] = pts - np.array([left, top], np.float32)
        return results

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(margin={self.margin}, '
            f'out_of_image={self.out_of_image!r})'
        )
