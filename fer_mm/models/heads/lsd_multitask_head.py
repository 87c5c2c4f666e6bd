# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...utils.deprecation import renamed_kwarg
from .dan_head import DANHead

_DEFAULT_LANDMARK = dict(type='LSDLandmarkMSELoss', loss_weight=1.0)


@MODELS.register_module()
class LSDMultiTaskHead(DANHead):
    """Shared layers and the two outputs of the LSD multi-task model.

    Jeong et al., "Learning from Synthetic Data: Facial Expression
    Classification based on Ensemble of Multi-task Networks" (ECCV 2022
    Workshops, ABAW4): an emotion branch (DAN) and an appearance branch (a
    landmark regressor) feed shared fully connected layers with two outputs,
    expression logits and 68 landmarks.

    Input: ``(heads, pooled, appearance)``, the :class:`DANAttentionNeck`
    output of the emotion branch plus the pooled ``(B, appearance_channels)``
    feature of the appearance branch (or ``(heads, pooled)`` when
    ``appearance_channels`` is None: the emotion branch alone). The DAN
    heads are fused as in :class:`DANHead` (log-softmax over the heads,
    summed) to ``(B, in_channels)``, concatenated with the appearance
    feature and passed through ``shared_channels`` (Linear + ReLU each).
    Then ``fc`` + ``bn`` (DAN's AFN output layer) give the logits and
    ``landmark_fc`` the ``(B, num_landmarks, 2)`` landmarks, normalised to
    the image size (initialised to predict about the image centre: weights
    ``N(0, 0.001^2)``, bias 0.5).

    Losses, one log key each:

    - ``loss_cls``, ``loss_affinity``, ``loss_partition``: as in
      :class:`DANHead` (put ``class_weight`` in ``loss_cls`` for the paper's
      weighted cross-entropy; see
      :func:`fer_mm.models.class_weights_from_counts`);
    - ``loss_landmark``: the ``loss_landmark`` module over the samples that
      carry ``gt_landmarks`` (see :class:`fer_mm.datasets.TwoViews`) and were
      not mixed by a batch augment. A sample without landmarks, and a virtual
      (mixed) sample of Mixup / MixAugment, trains the expression losses
      only; it is masked out, not compared with zeros.

    :meth:`predict` returns mmpretrain ``DataSample`` s with ``pred_score``
    and ``pred_label`` as any classifier head, plus ``pred_landmarks``
    (``(num_landmarks, 2)``, normalised to the input image) when the
    appearance branch exists.

    Args:
        num_classes (int): Number of expression classes.
        in_channels (int): Width of the emotion branch (DAN heads, pooled).
        appearance_channels (int, optional): Width of the appearance
            feature; None builds the emotion branch alone (no landmark
            output or loss). Defaults to None.
        shared_channels (Sequence[int]): Widths of the shared layers.
            Defaults to ``(512, )``.
        num_landmarks (int): Landmarks regressed. Defaults to 68.
        loss_landmark (dict | nn.Module, optional): Defaults to
            ``dict(type='LSDLandmarkMSELoss', loss_weight=1.0)``. The old
            keyword ``landmark_loss`` still works for one release and warns.
        dropout (float): Dropout before the output layers. Defaults to 0.
        **kwargs: Arguments of :class:`DANHead` (``loss_cls``,
            ``loss_affinity``, ``loss_partition``, ``num_centers`` ...).
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        appearance_channels: Optional[int] = None,
        shared_channels: Sequence[int] = (512,),
        num_landmarks: int = 68,
        loss_landmark: Optional[Union[dict, nn.Module]] = _DEFAULT_LANDMARK,
        dropout: float = 0.0,
        **kwargs,
    ) -> None:
        loss_landmark = renamed_kwarg(
            type(self).__name__,
            kwargs,
            'landmark_loss',
            'loss_landmark',
            loss_landmark,
            _DEFAULT_LANDMARK,
        )
        super().__init__(num_classes, in_channels, **kwargs)
        if appearance_channels is not None and appearance_channels < 1:
            raise ValueError(
                'LSDMultiTaskHead: appearance_channels must be >= 1 or None, '
                f'got {appearance_channels}'
            )
        self.appearance_channels = appearance_channels
        self.num_landmarks = num_landmarks
        width = in_channels + (appearance_channels or 0)
        layers: List[nn.Module] = []
        for out in shared_channels:
            layers += [nn.Linear(width, out), nn.ReLU(inplace=True)]
            width = out
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        self.shared = nn.Sequential(*layers)
        self.fc = nn.Linear(width, num_classes)
        if appearance_channels is None:
            self.landmark_fc = None
            self.landmark_loss = None
        else:
            self.landmark_fc = nn.Linear(width, 2 * num_landmarks)
            # Start near the image centre with small weights, so the first
            # steps' landmark loss is about 0.1, not the hundreds a default
            # init gives on unnormalised features.
            nn.init.normal_(self.landmark_fc.weight, std=1e-3)
            nn.init.constant_(self.landmark_fc.bias, 0.5)
            if isinstance(loss_landmark, dict):
                loss_landmark = MODELS.build(loss_landmark)
            self.landmark_loss = loss_landmark

    def _split(
        self, feats: Sequence[torch.Tensor]
    ) -> Tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor]]:
        expected = 2 if self.appearance_channels is None else 3
        if not isinstance(feats, (tuple, list)) or len(feats) != expected:
            raise TypeError(
                f'LSDMultiTaskHead expects {expected} features (heads, pooled'
                + (', appearance)' if expected == 3 else ')')
                + f', got {type(feats).__name__} of length '
                f'{len(feats) if isinstance(feats, (tuple, list)) else "-"}'
            )
        heads, pooled = self._unpack(feats[:2])
        appearance = feats[2] if expected == 3 else None
        if appearance is not None and (
            appearance.dim() != 2
            or appearance.size(1) != self.appearance_channels
        ):
            raise ValueError(
                'LSDMultiTaskHead: expected an appearance feature (B, '
                f'{self.appearance_channels}), got {tuple(appearance.shape)}'
            )
        return heads, pooled, appearance

    def _shared(
        self, heads: torch.Tensor, appearance: Optional[torch.Tensor]
    ) -> torch.Tensor:
        x = heads.sum(dim=1)
        if appearance is not None:
            x = torch.cat([x, appearance], dim=1)
        return self.shared(x)

    def pre_logits(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """The output of the shared layers ``(B, width)``."""
        heads, _, appearance = self._split(feats)
        return self._shared(self._normalize_heads(heads), appearance)

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """The expression logits ``(B, num_classes)``."""
        return self.bn(self.fc(self.pre_logits(feats)))

    def _landmarks(self, shared: torch.Tensor) -> torch.Tensor:
        return self.landmark_fc(shared).view(-1, self.num_landmarks, 2)

    def forward_landmarks(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """The landmarks ``(B, num_landmarks, 2)``, normalised."""
        if self.landmark_fc is None:
            raise RuntimeError(
                'LSDMultiTaskHead: no appearance branch, no landmark output'
            )
        return self._landmarks(self.pre_logits(feats))

    def landmark_targets(
        self, data_samples: List[DataSample], like: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Stack ``gt_landmarks`` and the mask of samples that count.

        Args:
            data_samples (list[DataSample]): The annotations.
            like (torch.Tensor): Predictions ``(B, K, 2)`` (dtype, device).

        Returns:
            tuple[Tensor, Tensor]: Targets ``(B, K, 2)`` (zeros where
            masked; never used) and the ``(B, )`` bool mask.
        """
        targets = torch.zeros_like(like)
        valid = torch.zeros(len(data_samples), dtype=torch.bool)
        for i, sample in enumerate(data_samples):
            if 'gt_landmarks' not in sample or sample.metainfo.get(
                'batch_mixed', False
            ):
                continue
            pts = torch.as_tensor(sample.gt_landmarks).to(like)
            if pts.shape != like.shape[1:]:
                raise ValueError(
                    f'LSDMultiTaskHead: gt_landmarks of '
                    f'{sample.metainfo.get("img_path", f"sample {i}")} has '
                    f'shape {tuple(pts.shape)}, expected '
                    f'{tuple(like.shape[1:])}'
                )
            targets[i] = pts
            valid[i] = True
        return targets, valid.to(like.device)

    def loss(
        self,
        feats: Sequence[torch.Tensor],
        data_samples: List[DataSample],
        **kwargs,
    ) -> dict:
        """Compute the DAN losses and ``loss_landmark``.

        Args:
            feats (tuple[Tensor, ...]): ``(heads, pooled[, appearance])``.
            data_samples (list[DataSample]): The annotations.
            **kwargs: Passed to the classification loss (e.g. the
                per-sample ``weight`` of MixAugment).

        Returns:
            dict[str, Tensor]: The losses.
        """
        heads, pooled, appearance = self._split(feats)
        heads = self._normalize_heads(heads)
        shared = self._shared(heads, appearance)
        cls_score = self.bn(self.fc(shared))
        losses = self._get_loss(
            cls_score, data_samples, heads, pooled, **kwargs
        )
        if self.landmark_loss is not None:
            pred = self._landmarks(shared)
            target, valid = self.landmark_targets(data_samples, pred)
            losses['loss_landmark'] = self.landmark_loss(pred, target, valid)
        return losses

    def predict(
        self,
        feats: Sequence[torch.Tensor],
        data_samples: Optional[List[Optional[DataSample]]] = None,
    ) -> List[DataSample]:
        """Expression scores (and ``pred_landmarks``) per sample."""
        shared = self.pre_logits(feats)
        samples = self._get_predictions(self.bn(self.fc(shared)), data_samples)
        if self.landmark_fc is not None:
            for sample, pts in zip(samples, self._landmarks(shared)):
                sample.set_field(pts.detach(), 'pred_landmarks')
        return samples
