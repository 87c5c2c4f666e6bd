# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""MTCNN (Zhang et al., 2016) through facenet-pytorch, fully offline."""

import os.path as osp
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from torch import nn

from .base_detector import (
    FACE_DETECTORS,
    BaseFaceDetector,
    FaceDetections,
    check_image,
)
from .image_limits import check_pixel_limit, downscale_to


def _facenet():
    try:
        import facenet_pytorch
        from facenet_pytorch.models.mtcnn import ONet, PNet, RNet
        from facenet_pytorch.models.utils.detect_face import detect_face
    except ImportError as err:
        raise ImportError(
            'MTCNNDetector needs facenet-pytorch 2.6.0, installed without its '
            'dependencies: pip install --no-deps facenet-pytorch==2.6.0 '
            f'({err})'
        ) from None
    data_dir = osp.join(osp.dirname(facenet_pytorch.__file__), 'data')
    return PNet, RNet, ONet, detect_face, data_dir


def _load_net(net_cls, path: str) -> nn.Module:
    """Build one of MTCNN's nets and load its weights weights-only."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'MTCNN weights not found: {path}')
    net = net_cls(pretrained=False)
    state = torch.load(path, map_location='cpu', weights_only=True)
    net.load_state_dict(state)
    return net.eval()


@FACE_DETECTORS.register_module()
class MTCNNDetector(BaseFaceDetector):
    """Multi-task cascaded CNN face detector with 5 landmarks.

    Paper: `Joint Face Detection and Alignment using Multi-task Cascaded
    Convolutional Networks <https://arxiv.org/abs/1604.02878>`_. The P-, R-
    and O-nets and the cascade come from facenet-pytorch; the weights shipped
    in its wheel (``facenet_pytorch/data/{p,r,o}net.pt``) are loaded with
    ``torch.load(weights_only=True)``, so nothing is downloaded.

    Args:
        min_face_size (int): Smallest face side searched, in pixels. Defaults
            to 20 (facenet-pytorch's default).
        thresholds (tuple[float, float, float]): P/R/O-net score thresholds.
            Defaults to (0.6, 0.7, 0.7).
        factor (float): Image pyramid scale step. Defaults to 0.709.
        min_score (float): Faces below this final score are dropped.
            Defaults to 0.9.
        weights_dir (str, optional): Folder with ``pnet.pt``, ``rnet.pt``,
            ``onet.pt``. Defaults to facenet-pytorch's ``data`` folder.
        device (str): Torch device. Defaults to 'cpu'.
        max_side (int): Images whose longer side exceeds this are detected
            on a copy downscaled to it (boxes and landmarks are returned in
            the original image's pixels); faces smaller than
            ``min_face_size * longer side / max_side`` pixels are then not
            found. Defaults to 1600 (a 10000x10000 photo: faces from 125
            px).
        max_pixels (int): Larger images are refused with a ``ValueError``
            naming their size. Defaults to 200_000_000.

    An image smaller than ``min_face_size`` on a side holds no face: it gives
    empty detections.
    """

    def __init__(
        self,
        min_face_size: int = 20,
        thresholds: Tuple[float, float, float] = (0.6, 0.7, 0.7),
        factor: float = 0.709,
        min_score: float = 0.9,
        weights_dir: Optional[str] = None,
        device: str = 'cpu',
        max_side: int = 1600,
        max_pixels: int = 200_000_000,
    ):
        PNet, RNet, ONet, detect_face, data_dir = _facenet()
        weights_dir = weights_dir or data_dir
        self.pnet = _load_net(PNet, osp.join(weights_dir, 'pnet.pt'))
        self.rnet = _load_net(RNet, osp.join(weights_dir, 'rnet.pt'))
        self.onet = _load_net(ONet, osp.join(weights_dir, 'onet.pt'))
        for net in (self.pnet, self.rnet, self.onet):
            net.to(device)
        self._detect_face = detect_face
        self.min_face_size = min_face_size
        self.thresholds = list(thresholds)
        self.factor = factor
        self.min_score = min_score
        self.device = torch.device(device)
        self.max_side = max_side
        self.max_pixels = max_pixels

    def detect(self, img: np.ndarray) -> FaceDetections:
        return self.detect_batch([img])[0]

    def detect_batch(self, imgs: Sequence[np.ndarray]) -> List[FaceDetections]:
        """Detect faces in images of one size in one cascade pass (images
        of different sizes go one by one)."""
        if not len(imgs):
            return []
        for img in imgs:
            check_image(img, 'MTCNNDetector')
            check_pixel_limit(img, self.max_pixels, 'MTCNNDetector')
        if any(img.shape != imgs[0].shape for img in imgs):
            return [self.detect_batch([img])[0] for img in imgs]
        scaled = [downscale_to(img, self.max_side) for img in imgs]
        imgs = [im for im, _, _ in scaled]
        _, sx, sy = scaled[0]
        if min(imgs[0].shape[:2]) < self.min_face_size:
            # no face fits (and facenet-pytorch's pyramid would be empty)
            return [FaceDetections() for _ in imgs]
        rgb = np.stack([cv2.cvtColor(img, cv2.COLOR_BGR2RGB) for img in imgs])
        with torch.no_grad():
            boxes, points = self._detect_face(
                rgb,
                self.min_face_size,
                self.pnet,
                self.rnet,
                self.onet,
                self.thresholds,
                self.factor,
                self.device,
            )
        out = []
        for box, point in zip(boxes, points):
            box = np.asarray(box, np.float32).reshape(-1, 5)
            point = np.asarray(point, np.float32).reshape(-1, 5, 2)
            box[:, [0, 2]] *= sx
            box[:, [1, 3]] *= sy
            point[..., 0] *= sx
            point[..., 1] *= sy
            keep = box[:, 4] >= self.min_score
            box, point = box[keep], point[keep]
            order = np.argsort(-box[:, 4], kind='stable')
            out.append(
                FaceDetections(box[order, :4], box[order, 4], point[order])
            )
        return out
