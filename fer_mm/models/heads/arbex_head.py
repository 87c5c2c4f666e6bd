# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmpretrain.models.heads import ClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..utils import hard_label_mask
from ..utils.reliability_balancing import (
    anchor_distances,
    anchor_similarity,
    confidence_weighted_correction,
    entropy_confidence,
    reliability_balance,
)


@MODELS.register_module()
class ARBExHead(ClsHead):
    r"""ARBEx reliability-balancing head.

    Paper: `ARBEx: Attentive Feature Extraction with Reliability Balancing
    for Robust Facial Expression Learning
    <https://arxiv.org/abs/2305.01486>`_. The equations follow the public
    reference implementation (GitHub ``takihasan/ARBEx``). The head works on
    any embedding ``e`` of size ``D = in_channels`` (the last item of
    ``feats``), e.g. POSTER V2's 768-d output or a pooled ResNet feature.

    * Primary distribution :math:`p = softmax(MLP(e) / T)`; the MLP is
      ``Linear -> ReLU -> BatchNorm1d -> Dropout`` per hidden size, then
      ``Linear -> C``.
    * Confidence :math:`c(q) = 1 - H(q) / \ln C` (safe at :math:`q = 0`).
      This maths is in :mod:`fer_mm.models.utils.reliability_balancing`.
    * Anchors ``A`` (``nn.Parameter`` ``(C, K, D)``), distances
      :math:`d_{b,i,k} = \lVert e_b - A_{i,k}\rVert_2`, similarity
      :math:`s_{b,i} = \sum_k softmax_{(i,k)}(-d_b / \delta)` (softmax over
      all :math:`C K` anchors).
    * Attention :math:`a`: ``q, k, v`` are three ``Linear(D, C K')`` of
      ``e`` (:math:`K'` = ``num_attn_anchors``); their output ``o`` goes
      through ``softmax`` over its :math:`C K'` values, is reshaped to
      ``(C, K')`` and summed over :math:`K'`. Token sequence:

      - ``batch_attention=False`` (default, per-sample): the :math:`C K'`
        values of *one* sample are the tokens, each of dimension 1
        (``nn.MultiheadAttention(1, 1)`` on ``(B, C K', 1)``), so a
        prediction never depends on its batch-mates. Tokens of dimension 1
        allow a single head only.
      - ``batch_attention=True`` (reference): ``nn.MultiheadAttention(C K',
        num_attn_heads)`` is given the 2-D ``(B, C K')`` tensors, which
        PyTorch reads as one unbatched sequence whose tokens are the *samples
        of the batch*: a prediction then depends on the other images in its
        batch.
    * Correction :math:`corr = (c(s) s + c(a) a) / (c(s) + c(a))` (when both
      confidences vanish, e.g. both uniform, :math:`corr = (s + a) / 2`).
    * Final :math:`\hat p = (1 - t) p + t (c(p) p + (1 - c(p)) corr)`.

    **Progress t.** During training :math:`t` = ``iter / max_iters`` from
    mmengine's current ``MessageHub`` runtime info (written by the runner's
    ``RuntimeInfoHook``, so :math:`t` ramps from 0 to 1). An explicit
    ``head.progress`` (a float in ``[0, 1]``, e.g. set by a hook or a test)
    takes precedence when it is not None, so a stale message hub cannot
    leak in; with neither, :math:`t = 0`. ``forward`` / ``predict`` use
    :math:`t = 1`.

    **Losses** (:meth:`loss` returns exactly these keys):

    * ``loss_cls``: :class:`ARBExClassLoss` on :math:`\hat p`. Real samples
      (:func:`fer_mm.models.hard_label_mask`) use their hard label,
      batch-mixed ones (MixAugment, Mixup) the soft NLL
      :math:`-\sum_c y_c w_c \log \hat p_c` on ``gt_score``; per-sample
      weights (``weight``, from MixAugment) multiply each sample's term and
      the mean divides by the class-weight mass only, so with uniform class
      weights it is MixAugment's ``mean(weight * loss)``.
    * ``loss_anchor``: :math:`t \cdot` :class:`ARBExAnchorLoss` of the anchors.
    * ``loss_center``: :math:`t \cdot` :class:`ARBExCenterLoss` over the
      real samples only (unweighted mean; zero when there is none), with
      :math:`c(p)` not detached, as in the reference.

    Args:
        num_classes (int): Number of classes :math:`C` (at least 2).
        in_channels (int): Embedding size :math:`D`.
        hidden_channels (Sequence[int]): MLP hidden sizes. Defaults to
            ``(384, 192, 96)`` (reference; the paper uses ``(64, 64)``).
        dropout (float): MLP dropout. Defaults to 0.5.
        temperature (float): Softmax temperature :math:`T`. Defaults to 1.0.
        num_anchors (int): Anchors per class :math:`K`. Defaults to 10.
        delta (float): Similarity scale :math:`\delta`. Defaults to 1.0.
        num_attn_heads (int): Attention heads. Defaults to 1 (the
            reference's ``nhead``); must be 1 unless ``batch_attention``.
        num_attn_anchors (int, optional): :math:`K'`, attention values per
            class. Defaults to None (= ``num_anchors``, as in the spec; the
            reference's ``train.py`` builds its attention with 1).
        batch_attention (bool): Attend across the batch like the reference.
            Defaults to False (per-sample).
        test_mode (str): ``'corrected'`` (predict :math:`\hat p` at
            :math:`t = 1`) or ``'primary'`` (predict :math:`p`, the
            reference's default evaluation). Defaults to ``'corrected'``.
        loss_cls (dict): Class loss. Defaults to
            ``dict(type='ARBExClassLoss', loss_weight=1.0)``.
        loss_anchor (dict): Anchor loss. Defaults to
            ``dict(type='ARBExAnchorLoss', loss_weight=1.0)``.
        loss_center (dict): Center loss. Defaults to
            ``dict(type='ARBExCenterLoss', loss_weight=1.0)``.
        class_weights (Sequence[float], optional): :math:`w_c = (N / C) /
            n_c`, passed to ``loss_cls`` as ``class_weight``. Defaults to
            None (uniform).
        anchor_init_std (float): Std of the normal anchor initialisation;
            0 gives the reference's all-zero anchors, at which no anchor
            loss has a gradient. Defaults to 0.1.
        detach_confidence (bool): Stop the gradient through :math:`c(p)` in
            the final mix and the center loss. The reference does not: the
            class loss can then lower itself by making :math:`p` *less*
            confident whenever the correction beats it, which keeps a
            from-scratch primary MLP near uniform (see the ARBEx README).
            Defaults to False (reference).
        clamp_confidence (bool): Clamp :math:`c(p)` to ``[0, 1]``; no
            gradient then flows through a saturated sample's :math:`c = 1`
            (see :func:`~fer_mm.models.utils.reliability_balancing.
            entropy_confidence`). Defaults to False (reference).
        progress_warmup (float): Fraction of training during which
            :math:`t = 0` (plain training of :math:`p`); afterwards
            :math:`t` ramps linearly from 0 to 1 at the end. Defaults to 0
            (reference: :math:`t` = iter / max_iters).
        train_progress (float, optional): A fixed :math:`t` for the whole
            training run instead of the ramp (sets ``head.progress``). 0 is
            the ablation without reliability balancing: the class loss is
            on :math:`p`, the anchor and centre losses vanish (use it with
            ``test_mode='primary'``: the anchors are not trained). Defaults
            to None (reference: the ramp).
        log_diagnostics (bool): Add log-only values to the loss dict
            (``conf_primary``: mean :math:`c(p)`; ``acc_primary`` /
            ``acc_corrected``: batch accuracy of :math:`p` and
            :math:`\hat p` on hard labels; ``progress``: :math:`t`).
            Defaults to False.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    TEST_MODES = ('corrected', 'primary')

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        hidden_channels: Sequence[int] = (384, 192, 96),
        dropout: float = 0.5,
        temperature: float = 1.0,
        num_anchors: int = 10,
        delta: float = 1.0,
        num_attn_heads: int = 1,
        num_attn_anchors: Optional[int] = None,
        batch_attention: bool = False,
        test_mode: str = 'corrected',
        loss_cls: Union[dict, nn.Module] = dict(
            type='ARBExClassLoss', loss_weight=1.0
        ),
        loss_anchor: Union[dict, nn.Module] = dict(
            type='ARBExAnchorLoss', loss_weight=1.0
        ),
        loss_center: Union[dict, nn.Module] = dict(
            type='ARBExCenterLoss', loss_weight=1.0
        ),
        class_weights: Optional[Sequence[float]] = None,
        anchor_init_std: float = 0.1,
        detach_confidence: bool = False,
        clamp_confidence: bool = False,
        progress_warmup: float = 0.0,
        train_progress: Optional[float] = None,
        log_diagnostics: bool = False,
        init_cfg: Optional[dict] = None,
    ):
        if num_attn_anchors is None:
            num_attn_anchors = num_anchors
        self._check_args(
            num_classes,
            in_channels,
            hidden_channels,
            dropout,
            temperature,
            num_anchors,
            delta,
            num_attn_heads,
            num_attn_anchors,
            batch_attention,
            test_mode,
            anchor_init_std,
        )
        if class_weights is not None:
            if len(class_weights) != num_classes or min(class_weights) <= 0:
                raise ValueError(
                    'ARBExHead: class_weights must hold '
                    f'{num_classes} positive numbers'
                )
            if not isinstance(loss_cls, dict) or loss_cls.get('class_weight'):
                raise ValueError(
                    'ARBExHead: give class weights once, either '
                    'as class_weights or in the loss_cls config'
                )
            loss_cls = dict(loss_cls, class_weight=list(class_weights))
        super().__init__(loss=loss_cls, init_cfg=init_cfg)
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.num_anchors = num_anchors
        self.num_attn_anchors = num_attn_anchors
        self.temperature = temperature
        self.delta = delta
        self.batch_attention = batch_attention
        self.test_mode = test_mode
        if train_progress is not None and not 0 <= train_progress <= 1:
            raise ValueError(
                'ARBExHead: train_progress must be in [0, 1] or None, got '
                f'{train_progress!r}'
            )
        self.progress: Optional[float] = (
            None if train_progress is None else float(train_progress)
        )
        if not 0 <= progress_warmup < 1:
            raise ValueError(
                'ARBExHead: progress_warmup must be in [0, 1), got '
                f'{progress_warmup!r}'
            )
        self.detach_confidence = bool(detach_confidence)
        self.clamp_confidence = bool(clamp_confidence)
        self.progress_warmup = float(progress_warmup)
        self.log_diagnostics = bool(log_diagnostics)
        self.loss_anchor = self._build_loss(loss_anchor)
        self.loss_center = self._build_loss(loss_center)

        layers: List[nn.Module] = []
        channels = in_channels
        for hidden in hidden_channels:
            layers += [
                nn.Linear(channels, hidden),
                nn.ReLU(inplace=True),
                nn.BatchNorm1d(hidden),
                nn.Dropout(dropout),
            ]
            channels = hidden
        layers.append(nn.Linear(channels, num_classes))
        self.mlp = nn.Sequential(*layers)

        self.anchors = nn.Parameter(
            torch.randn(num_classes, num_anchors, in_channels)
            * anchor_init_std
        )

        tokens = num_classes * num_attn_anchors
        self.attn_q = nn.Linear(in_channels, tokens)
        self.attn_k = nn.Linear(in_channels, tokens)
        self.attn_v = nn.Linear(in_channels, tokens)
        self.attn = nn.MultiheadAttention(
            tokens if batch_attention else 1, num_attn_heads, batch_first=True
        )

    @staticmethod
    def _build_loss(loss: Union[dict, nn.Module]) -> nn.Module:
        return loss if isinstance(loss, nn.Module) else MODELS.build(loss)

    @staticmethod
    def _check_args(
        num_classes,
        in_channels,
        hidden_channels,
        dropout,
        temperature,
        num_anchors,
        delta,
        num_attn_heads,
        num_attn_anchors,
        batch_attention,
        test_mode,
        anchor_init_std,
    ) -> None:
        positive = dict(
            in_channels=in_channels,
            num_anchors=num_anchors,
            num_attn_heads=num_attn_heads,
            num_attn_anchors=num_attn_anchors,
        )
        for name, value in positive.items():
            if not (isinstance(value, int) and value > 0):
                raise ValueError(
                    f'ARBExHead: {name} must be a positive integer, got '
                    f'{value!r}'
                )
        if not (isinstance(num_classes, int) and num_classes >= 2):
            raise ValueError(
                'ARBExHead: num_classes must be an integer >= 2 '
                f'(the confidence divides by ln C), got '
                f'{num_classes!r}'
            )
        if any(not (isinstance(h, int) and h > 0) for h in hidden_channels):
            raise ValueError(
                'ARBExHead: hidden_channels must be positive '
                f'integers, got {hidden_channels!r}'
            )
        if not 0 <= dropout < 1:
            raise ValueError(
                f'ARBExHead: dropout must be in [0, 1), got ' f'{dropout!r}'
            )
        if not (temperature > 0 and delta > 0):
            raise ValueError('ARBExHead: temperature and delta must be > 0')
        if not anchor_init_std >= 0:
            raise ValueError('ARBExHead: anchor_init_std must be >= 0')
        if test_mode not in ARBExHead.TEST_MODES:
            raise ValueError(
                f'ARBExHead: test_mode must be one of '
                f'{ARBExHead.TEST_MODES}, got {test_mode!r}'
            )
        if batch_attention and (
            num_classes * num_attn_anchors % num_attn_heads
        ):
            raise ValueError(
                'ARBExHead: num_attn_heads must divide num_classes * '
                f'num_attn_anchors = {num_classes * num_attn_anchors}'
            )
        if not batch_attention and num_attn_heads != 1:
            raise ValueError(
                'ARBExHead: per-sample attention (batch_attention=False) has '
                'tokens of dimension 1, so num_attn_heads must be 1'
            )

    def current_progress(self) -> float:
        """Training progress :math:`t` in ``[0, 1]`` (see the class doc)."""
        if self.progress is not None:
            progress = float(self.progress)
            if not 0 <= progress <= 1:
                raise ValueError(
                    f'ARBExHead: progress must be in [0, 1], got {progress}'
                )
            return progress
        hub = MessageHub.get_current_instance()
        cur_iter, max_iters = hub.get_info('iter'), hub.get_info('max_iters')
        if cur_iter is None or not max_iters:
            return 0.0
        ratio = min(max(cur_iter / max_iters, 0.0), 1.0)
        warm = self.progress_warmup
        return max(ratio - warm, 0.0) / (1.0 - warm)

    def primary(self, emb: torch.Tensor) -> torch.Tensor:
        """Primary distribution :math:`p` ``(B, C)``."""
        return F.softmax(self.mlp(emb) / self.temperature, dim=-1)

    def anchor_distances(self, emb: torch.Tensor) -> torch.Tensor:
        """Distances to the anchors ``(B, C, K)``."""
        return anchor_distances(emb, self.anchors)

    def similarity(self, distances: torch.Tensor) -> torch.Tensor:
        """Anchor similarity :math:`s` ``(B, C)`` from distances."""
        return anchor_similarity(distances, self.delta)

    def attention(self, emb: torch.Tensor) -> torch.Tensor:
        """Attention distribution :math:`a` ``(B, C)``."""
        query, key, value = (
            self.attn_q(emb),
            self.attn_k(emb),
            self.attn_v(emb),
        )
        if self.batch_attention:
            # 2-D input: one unbatched sequence whose tokens are the samples.
            out = self.attn(query, key, value, need_weights=False)[0]
        else:
            out = self.attn(
                query[..., None],
                key[..., None],
                value[..., None],
                need_weights=False,
            )[0].squeeze(-1)
        out = F.softmax(out, dim=-1)
        return out.view(-1, self.num_classes, self.num_attn_anchors).sum(-1)

    @staticmethod
    def correction(sim: torch.Tensor, attn: torch.Tensor) -> torch.Tensor:
        """Confidence-weighted mix of :math:`s` and :math:`a` ``(B, C)``."""
        return confidence_weighted_correction(sim, attn)

    def distributions(
        self, emb: torch.Tensor, progress: float
    ) -> Dict[str, torch.Tensor]:
        """Every intermediate of the head for embeddings ``(B, D)``.

        Returns:
            dict: ``probs`` (:math:`p`), ``confidence`` (:math:`c(p)`),
            ``distances``, ``similarity`` (:math:`s`), ``attention``
            (:math:`a`), ``correction`` and ``corrected`` (:math:`\\hat p` at
            ``progress``).
        """
        probs = self.primary(emb)
        conf = entropy_confidence(probs, clamp=self.clamp_confidence)
        if self.detach_confidence:
            conf = conf.detach()
        distances = self.anchor_distances(emb)
        sim = self.similarity(distances)
        attn = self.attention(emb)
        corr = self.correction(sim, attn)
        corrected = reliability_balance(probs, conf, corr, progress)
        return dict(
            probs=probs,
            confidence=conf,
            distances=distances,
            similarity=sim,
            attention=attn,
            correction=corr,
            corrected=corrected,
        )

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Predicted distribution: :math:`\\hat p` at :math:`t = 1`
        (``'corrected'``) or :math:`p` (``'primary'``)."""
        emb = self.pre_logits(feats)
        if self.test_mode == 'primary':
            return self.primary(emb)
        return self.distributions(emb, 1.0)['corrected']

    def loss(
        self,
        feats: Tuple[torch.Tensor],
        data_samples: List[DataSample],
        weight: Optional[torch.Tensor] = None,
    ) -> dict:
        """Losses ``loss_cls``, ``loss_anchor`` and ``loss_center``.

        Args:
            feats (tuple[torch.Tensor]): Features; the last one ``(B, D)``
                is the embedding.
            data_samples (List[DataSample]): Samples with ``gt_label``
                and/or ``gt_score``.
            weight (torch.Tensor, optional): Per-sample weights ``(B, )`` of
                the class loss. Defaults to None.

        Returns:
            dict[str, torch.Tensor]: The three losses.
        """
        progress = self.current_progress()
        outs = self.distributions(self.pre_logits(feats), progress)
        return self._get_loss(outs, data_samples, weight, progress)

    def _get_loss(
        self,
        outs: Dict[str, torch.Tensor],
        data_samples: List[DataSample],
        weight: Optional[torch.Tensor],
        progress: float,
    ) -> dict:
        corrected = outs['corrected']
        device = corrected.device
        hard = hard_label_mask(data_samples)
        if hard.all():
            target = torch.cat([s.gt_label for s in data_samples])
        else:
            rows = []
            for i, (sample, is_hard) in enumerate(
                zip(data_samples, hard.tolist())
            ):
                if is_hard:
                    rows.append(
                        F.one_hot(
                            sample.gt_label.long().view(-1), self.num_classes
                        )
                        .view(-1)
                        .float()
                    )
                elif 'gt_score' in sample:
                    rows.append(sample.gt_score.float())
                else:
                    raise ValueError(
                        f'ARBExHead: sample {i} has neither a '
                        'hard gt_label nor a gt_score'
                    )
            target = torch.stack(rows)
        if weight is not None:
            weight = weight.to(device)
        losses = dict(
            loss_cls=self.loss_module(
                corrected, target.to(device), weight=weight
            )
        )
        losses['loss_anchor'] = progress * self.loss_anchor(self.anchors)
        if hard.any():
            labels = torch.cat(
                [s.gt_label for s, h in zip(data_samples, hard.tolist()) if h]
            )
            hard = hard.to(device)
            loss_center = self.loss_center(
                outs['distances'][hard],
                labels.to(device),
                self.in_channels,
                confidence=outs['confidence'][hard],
            )
        else:
            # Zero, still connected to the anchors (DDP unused parameters).
            loss_center = outs['distances'].sum() * 0
        losses['loss_center'] = progress * loss_center
        if self.log_diagnostics:
            losses.update(self._diagnostics(outs, data_samples, hard))
            losses['progress'] = corrected.new_tensor(progress)
        return losses

    @torch.no_grad()
    def _diagnostics(self, outs, data_samples, hard) -> dict:
        """Log-only values (no 'loss' in their names)."""
        hard = hard.to(outs['probs'].device)
        logs = dict(conf_primary=outs['confidence'].detach().mean())
        if hard.any():
            labels = torch.cat(
                [s.gt_label for s, h in zip(data_samples, hard.tolist()) if h]
            ).to(hard.device)
            for name, key in (
                ('primary', 'probs'),
                ('corrected', 'corrected'),
            ):
                pred = outs[key][hard].argmax(1)
                logs[f'acc_{name}'] = (pred == labels).float().mean() * 100
        return logs

    def _get_predictions(
        self,
        cls_score: torch.Tensor,
        data_samples: Optional[List[Optional[DataSample]]],
    ) -> List[DataSample]:
        """Set ``pred_score`` (already a distribution) and ``pred_label``."""
        pred_labels = cls_score.argmax(dim=1, keepdim=True).detach()
        if data_samples is None:
            data_samples = [None] * cls_score.size(0)
        out = []
        for sample, score, label in zip(data_samples, cls_score, pred_labels):
            sample = DataSample() if sample is None else sample
            out.append(sample.set_pred_score(score).set_pred_label(label))
        return out
