# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.heads import ClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...utils.deprecation import renamed_kwarg
from ..utils import hard_label_mask

_DEFAULT_LOSS_CLS = dict(type='CrossEntropyLoss', loss_weight=1.0)
_DEFAULT_AFFINITY = dict(type='DANAffinityLoss', loss_weight=1.0)
_DEFAULT_PARTITION = dict(type='DANPartitionLoss', loss_weight=1.0)


@MODELS.register_module()
class DANHead(ClsHead):
    """Attention Fusion Network (AFN) and losses of DAN.

    `Distract Your Attention: Multi-head Cross Attention Network for Facial
    Expression Recognition <https://arxiv.org/abs/2109.07270>`_.

    Takes the ``(heads, pooled)`` tuple of
    :class:`fer_mm.models.DANAttentionNeck`. The heads ``(B, N, C)`` go
    through a log-softmax over the head dimension and are summed
    (:meth:`pre_logits`), then ``Linear(C, num_classes)`` and
    ``BatchNorm1d(num_classes)`` give the logits. With a single head the
    log-softmax is skipped (it would be identically 0), as in the reference.

    Training losses, one log key each (mmengine sums every ``loss*`` key):

    - ``loss_cls``: ``loss_cls`` (cross-entropy) on the logits. When the data
      samples carry ``gt_score`` (Mixup, CutMix, MixAugment) the target is the
      soft score, as in :class:`~mmpretrain.models.heads.ClsHead`; keyword
      arguments of :meth:`loss` (e.g. the per-sample ``weight`` of
      :class:`fer_mm.models.FERClassifier`) go to this loss only.
    - ``loss_affinity``: the ``loss_affinity`` module on ``pooled``,
      computed over the samples with a *hard* label only: the sample carries ``gt_label``, was
      not mixed by a batch augment (metainfo ``batch_mixed``, see
      :func:`fer_mm.models.hard_label_mask`) and, if it has a ``gt_score``,
      that score is one-hot at ``gt_label``. Mixed images have no single
      class centre to be pulled to. Without any hard sample it is a zero
      tensor (still connected to the centres).
    - ``loss_partition``: the ``loss_partition`` module on the
      log-softmaxed heads of all samples (it needs no labels).

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Width ``C`` of the heads and of ``pooled``.
        num_centers (int, optional): Number of affinity centres. Defaults to
            None (``num_classes``). The reference code builds 8 centres for
            RAF-DB's 7 classes by accident; the unused centre only enters the
            centres' variance. Set 8 to reproduce that exactly.
        loss_cls (dict | nn.Module): Classification loss. Defaults to
            ``dict(type='CrossEntropyLoss', loss_weight=1.0)``.
        loss_affinity (dict | nn.Module, optional): Affinity loss; a dict gets
            ``num_classes=num_centers`` and ``feat_dim=in_channels`` unless it
            sets them. None disables it. Defaults to
            ``dict(type='DANAffinityLoss', loss_weight=1.0)``.
        loss_partition (dict | nn.Module, optional): Partition loss; None
            disables it. Defaults to
            ``dict(type='DANPartitionLoss', loss_weight=1.0)``.
        init_cfg (dict, optional): Initialisation. Defaults to None (PyTorch's
            default for ``fc`` and ``bn``, as in the reference).
        **kwargs: ``topk`` and ``cal_acc`` of
            :class:`~mmpretrain.models.heads.ClsHead`. The keywords used
            before fer_mm 0.2 (``loss``, ``affinity_loss``,
            ``partition_loss``) still work for one release and warn
            (``DeprecationWarning``).
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        num_centers: Optional[int] = None,
        loss_cls: Union[dict, nn.Module] = _DEFAULT_LOSS_CLS,
        loss_affinity: Optional[Union[dict, nn.Module]] = _DEFAULT_AFFINITY,
        loss_partition: Optional[Union[dict, nn.Module]] = _DEFAULT_PARTITION,
        init_cfg: Optional[dict] = None,
        **kwargs,
    ) -> None:
        name = type(self).__name__
        loss_cls = renamed_kwarg(
            name, kwargs, 'loss', 'loss_cls', loss_cls, _DEFAULT_LOSS_CLS
        )
        loss_affinity = renamed_kwarg(
            name,
            kwargs,
            'affinity_loss',
            'loss_affinity',
            loss_affinity,
            _DEFAULT_AFFINITY,
        )
        loss_partition = renamed_kwarg(
            name,
            kwargs,
            'partition_loss',
            'loss_partition',
            loss_partition,
            _DEFAULT_PARTITION,
        )
        super().__init__(loss=loss_cls, init_cfg=init_cfg, **kwargs)
        if num_classes < 1:
            raise ValueError(
                f'DANHead: num_classes must be >= 1, got {num_classes}'
            )
        if in_channels < 1:
            raise ValueError(
                f'DANHead: in_channels must be >= 1, got {in_channels}'
            )
        num_centers = num_classes if num_centers is None else num_centers
        if num_centers < num_classes:
            raise ValueError(
                f'DANHead: num_centers ({num_centers}) must be >= '
                f'num_classes ({num_classes})'
            )
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.fc = nn.Linear(in_channels, num_classes)
        self.bn = nn.BatchNorm1d(num_classes)
        if isinstance(loss_affinity, dict):
            loss_affinity = dict(loss_affinity)
            loss_affinity.setdefault('num_classes', num_centers)
            loss_affinity.setdefault('feat_dim', in_channels)
            loss_affinity = MODELS.build(loss_affinity)
        if isinstance(loss_partition, dict):
            loss_partition = MODELS.build(loss_partition)
        # Attribute names kept: checkpoints hold ``head.affinity_loss.centers``.
        self.affinity_loss = loss_affinity
        self.partition_loss = loss_partition

    @staticmethod
    def _unpack(
        feats: Sequence[torch.Tensor],
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(feats, (tuple, list)) or len(feats) != 2:
            raise TypeError(
                'DANHead expects the (heads, pooled) tuple of '
                f'DANAttentionNeck, got {type(feats).__name__}'
            )
        heads, pooled = feats
        if heads.dim() != 3 or pooled.dim() != 2:
            raise ValueError(
                'DANHead: expected heads (B, N, C) and pooled (B, C), got '
                f'{tuple(heads.shape)} and {tuple(pooled.shape)}'
            )
        return heads, pooled

    @staticmethod
    def _normalize_heads(heads: torch.Tensor) -> torch.Tensor:
        """Log-softmax over the head dimension (skipped for one head)."""
        return F.log_softmax(heads, dim=1) if heads.size(1) > 1 else heads

    def pre_logits(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """The fused heads: log-softmax over the heads, summed. ``(B, C)``."""
        heads, _ = self._unpack(feats)
        return self._normalize_heads(heads).sum(dim=1)

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """The logits, ``(B, num_classes)``."""
        return self.bn(self.fc(self.pre_logits(feats)))

    def loss(
        self,
        feats: Sequence[torch.Tensor],
        data_samples: List[DataSample],
        **kwargs,
    ) -> dict:
        """Compute ``loss_cls``, ``loss_affinity`` and ``loss_partition``.

        Args:
            feats (tuple[Tensor, Tensor]): ``(heads, pooled)`` of the neck.
            data_samples (list[DataSample]): The annotations.
            **kwargs: Passed to the classification loss.

        Returns:
            dict[str, Tensor]: The losses (and ``accuracy_top-k`` with
            ``cal_acc=True``).
        """
        heads, pooled = self._unpack(feats)
        heads = self._normalize_heads(heads)
        cls_score = self.bn(self.fc(heads.sum(dim=1)))
        return self._get_loss(cls_score, data_samples, heads, pooled, **kwargs)

    def _get_loss(
        self,
        cls_score: torch.Tensor,
        data_samples: List[DataSample],
        heads: torch.Tensor,
        pooled: torch.Tensor,
        **kwargs,
    ) -> dict:
        """Unpack the data samples and compute the three losses."""
        cls_losses = super()._get_loss(cls_score, data_samples, **kwargs)
        losses = dict(loss_cls=cls_losses.pop('loss'))
        if self.affinity_loss is not None:
            mask = self.affinity_mask(data_samples)
            labels = [s.gt_label for s, m in zip(data_samples, mask) if m]
            labels = (
                torch.cat(labels).to(pooled.device)
                if labels
                else torch.zeros(0, dtype=torch.long, device=pooled.device)
            )
            losses['loss_affinity'] = self.affinity_loss(
                pooled[mask.to(pooled.device)], labels
            )
        if self.partition_loss is not None:
            losses['loss_partition'] = self.partition_loss(heads)
        losses.update(cls_losses)
        return losses

    @staticmethod
    def affinity_mask(data_samples: List[DataSample]) -> torch.Tensor:
        """Which samples count for the affinity loss (see the class doc).

        Args:
            data_samples (list[DataSample]): The annotations.

        Returns:
            torch.Tensor: A bool mask of shape ``(B, )``.
        """
        mask = hard_label_mask(data_samples)
        for i, sample in enumerate(data_samples):
            if mask[i] and 'gt_score' in sample:
                score = sample.gt_score.float()
                label = sample.gt_label.view(-1)
                mask[i] = bool(
                    label.numel() == 1
                    and torch.isclose(score.sum(), score.new_tensor(1.0))
                    and score[label[0]] >= 1 - 1e-6
                )
        return mask
