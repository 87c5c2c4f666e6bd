# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import copy
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmpretrain.registry import MODELS

from .fer_classifier import FERClassifier


def _last(x):
    return x[-1] if isinstance(x, (tuple, list)) else x


def probe_channels(backbone: nn.Module, size: int = 224) -> int:
    """Channels of the last output of ``backbone`` on a ``size`` image."""
    was_training = backbone.training
    backbone.eval()
    try:
        with torch.no_grad():
            out = _last(backbone(torch.zeros(1, 3, size, size)))
    finally:
        backbone.train(was_training)
    if out.dim() not in (2, 4):
        raise ValueError(
            f'cannot size a branch from a backbone output of shape '
            f'{tuple(out.shape)}; set in_channels explicitly'
        )
    return int(out.size(1))


@MODELS.register_module()
class LSDMultiTaskClassifier(FERClassifier):
    """The LSD multi-task classifier: emotion branch + appearance branch.

    Jeong et al., "Learning from Synthetic Data: Facial Expression
    Classification based on Ensemble of Multi-task Networks" (ECCV 2022
    Workshops, ABAW4).

    - Emotion branch: ``backbone`` (any mmpretrain backbone; ResNet-50 in the
      paper) + ``neck`` (:class:`DANAttentionNeck`).
    - Appearance branch: ``appearance_backbone`` (any backbone; ResNet-50,
      DINO ResNet-50 or MobileViT-v2 in the paper) + ``appearance_neck``
      (global average pooling), trained to regress 68 landmarks.
    - ``head`` (:class:`LSDMultiTaskHead`): shared fully connected layers on
      both features, expression logits and landmarks.

    Widths left out of the configs are measured from the built backbones
    (one forward pass of a ``probe_size`` image at build time):
    ``neck.in_channels``, ``head.in_channels`` (2048 for ResNet-50) and
    ``head.appearance_channels``. With ``appearance_backbone=None`` the model
    is the emotion branch alone with the same shared layers.

    Inputs: a 6-channel batch (emotion view, appearance view; see
    :class:`fer_mm.datasets.TwoViews`) in training, or a plain 3-channel
    batch, which both branches see (inference: the paper uses the expression
    output only). ``predict`` returns ``pred_score`` / ``pred_label`` like
    any mmpretrain classifier, so ``tools/test.py``, ``FERMetric`` and the
    ABAW writer work unchanged, plus ``pred_landmarks``.

    Args:
        backbone (dict): Emotion backbone.
        neck (dict): Emotion neck. Defaults to a 4-head
            ``DANAttentionNeck``.
        head (dict): The :class:`LSDMultiTaskHead`.
        appearance_backbone (dict, optional): Appearance backbone; None for
            the emotion branch alone. Defaults to None.
        appearance_neck (dict): Pools the appearance feature to ``(B, C)``.
            Defaults to ``dict(type='GlobalAveragePooling')``.
        probe_size (int): Image side used to measure widths. Defaults to 224.
        data_preprocessor (dict, optional): Defaults to
            ``dict(type='TwoViewDataPreprocessor')``.
        **kwargs: ``train_cfg``, ``init_cfg``, ``pretrained`` of
            ``ImageClassifier``.
    """

    def __init__(
        self,
        backbone: dict,
        head: dict,
        neck: dict = dict(type='DANAttentionNeck', num_heads=4),
        appearance_backbone: Optional[dict] = None,
        appearance_neck: dict = dict(type='GlobalAveragePooling'),
        probe_size: int = 224,
        data_preprocessor: Optional[dict] = None,
        **kwargs,
    ) -> None:
        if data_preprocessor is None or isinstance(data_preprocessor, dict):
            data_preprocessor = dict(data_preprocessor or {})
            data_preprocessor.setdefault('type', 'TwoViewDataPreprocessor')
        backbone = MODELS.build(backbone)
        neck, head = copy.deepcopy(dict(neck)), copy.deepcopy(dict(head))
        if neck.get('in_channels') is None or head.get('in_channels') is None:
            width = probe_channels(backbone, probe_size)
            for part in (neck, head):
                if part.get('in_channels') is None:
                    part['in_channels'] = width
        app_backbone = app_neck = None
        if appearance_backbone is not None:
            app_backbone = MODELS.build(appearance_backbone)
            app_neck = MODELS.build(appearance_neck)
            if head.get('appearance_channels') is None:
                head['appearance_channels'] = probe_channels(
                    app_backbone, probe_size
                )
        elif head.get('appearance_channels') is not None:
            raise ValueError(
                'LSDMultiTaskClassifier: head.appearance_channels is set but '
                'there is no appearance_backbone'
            )
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            data_preprocessor=data_preprocessor,
            **kwargs,
        )
        self.appearance_backbone = app_backbone
        self.appearance_neck = app_neck

    @property
    def with_appearance(self) -> bool:
        """Whether the model has its appearance (landmark) branch."""
        return self.appearance_backbone is not None

    @staticmethod
    def split_views(
        inputs: torch.Tensor,
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """The (emotion, appearance) images of a 3- or 6-channel batch."""
        if inputs.dim() != 4 or inputs.size(1) not in (3, 6):
            raise ValueError(
                'LSDMultiTaskClassifier: expected a (B, 3, H, W) image batch '
                'or a (B, 6, H, W) batch of two views, got '
                f'{tuple(inputs.shape)}'
            )
        if inputs.size(1) == 3:
            return inputs, inputs
        return inputs[:, :3], inputs[:, 3:]

    def extract_feat(self, inputs: torch.Tensor, stage: str = 'neck'):
        """``(heads, pooled[, appearance])`` for the head.

        Args:
            inputs (torch.Tensor): ``(B, 3 or 6, H, W)``.
            stage (str): ``'backbone'`` (the emotion backbone's outputs),
                ``'neck'`` or ``'pre_logits'`` (the shared layers' output).
                Defaults to ``'neck'``.
        """
        if stage not in ('backbone', 'neck', 'pre_logits'):
            raise ValueError(
                f'LSDMultiTaskClassifier: unknown stage {stage!r}; expected '
                "'backbone', 'neck' or 'pre_logits'"
            )
        emotion, appearance = self.split_views(inputs)
        x = self.backbone(emotion)
        if stage == 'backbone':
            return x
        feats = tuple(self.neck(x))
        if self.with_appearance:
            a = self.appearance_neck(self.appearance_backbone(appearance))
            feats = feats + (_last(a),)
        if stage == 'pre_logits':
            return self.head.pre_logits(feats)
        return feats
