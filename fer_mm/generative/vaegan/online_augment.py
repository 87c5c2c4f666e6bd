# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Online VAE-GAN latent augmentation of classifier batches."""

from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine import MessageHub
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.registry import BATCH_AUGMENTS
from torch import Tensor, nn

from fer_mm.utils.checkpoint import load_checkpoint_file

from .latent_augment import ClassCovarianceAugmenter


def load_vaegan(config: Union[str, dict], checkpoint: str) -> nn.Module:
    """Build the VAE-GAN of a config and load its weights (weights-only)."""
    from mmagic.registry import MODELS

    cfg = Config.fromfile(config) if isinstance(config, str) else config
    model_cfg = cfg['model'] if 'model' in cfg else cfg
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(model_cfg)
    ckpt = load_checkpoint_file(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ValueError(
            f'VAEGANLatentAugment: checkpoint {checkpoint} holds no state dict'
        )
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise KeyError(
            f'VAEGANLatentAugment: checkpoint {checkpoint} does not fit the '
            f'VAE-GAN of {config!r}: missing {missing[:5]}, unexpected '
            f'{unexpected[:5]}'
        )
    return model.eval()


@BATCH_AUGMENTS.register_module()
class VAEGANLatentAugment:
    """Augment half of every class in a batch with fresh VAE-GAN latents.

    The classifier recipe of `Semantic Data Augmentation for Long-tailed
    Facial Expression Recognition <https://arxiv.org/abs/2411.17254>`_
    ("we set the augmentation ratio to 0.5, meaning half of the sampled
    training data will be augmented"), done online: in every training batch,
    a fraction ``ratio`` of the samples *of each class* (``floor(n_c *
    ratio)`` plus one with probability of the remainder, so the expectation
    is exactly ``ratio * n_c``) is replaced by the VAE-GAN decoding of

    .. math:: z' = E_\\mu(x) + k(s) A_c r, \\qquad r \\sim N(0, I)

    (eq. 4, see :class:`ClassCovarianceAugmenter`; ``r`` is drawn afresh at
    every use), where ``x`` is that very sample. Labels stay as they are.
    The batch keeps its size and its samples keep their hard labels (this
    augment has an ``expand`` method, so
    :class:`fer_mm.models.FERDataPreprocessor` does not mark them as mixed).

    Images are converted between the two models: the classifier's
    normalised input is un-normalised with ``mean`` / ``std``, resized
    (bilinear, antialiased) to the VAE-GAN's size, normalised by the
    VAE-GAN's own data preprocessor statistics, encoded and decoded, then
    brought back the same way. The VAE-GAN is not a sub-module of the
    classifier (it is neither trained nor saved with it); it runs in eval
    mode without gradients, moved to the batch's device on first use.

    The last ``last_epochs`` training epochs use original data only (the
    paper's trick), read from mmengine's message hub (``epoch`` and
    ``max_epochs``), so no hook is needed and resuming is exact.

    Args:
        vaegan (str | dict | nn.Module): The VAE-GAN config file (or config
            dict), or a built model.
        statistics (str | dict): The per-class code statistics (``cov`` and
            ``count``) written by ``tools/generative/vaegan_generate.py
            --stats-out``, or the dict itself.
        checkpoint (str, optional): VAE-GAN weights, required with a config.
            Defaults to None.
        ratio (float): Fraction of each class's samples augmented. Defaults
            to 0.5 (the paper's).
        strength (float): :math:`s` of eq. 4. Defaults to 0.5.
        form (str): ``'diag'``, ``'full'`` or ``'diag_var'``. Defaults to
            ``'diag'``.
        scale (str): ``'covariance'`` (paper: :math:`N(\\mu, s\\Sigma_c)`)
            or ``'std'``. Defaults to ``'covariance'``.
        mean (Sequence[float]): The classifier preprocessor's mean (0-255).
            Defaults to ImageNet's.
        std (Sequence[float]): The classifier preprocessor's std. Defaults
            to ImageNet's.
        rgb (bool): The classifier's inputs are RGB (``to_rgb=True``).
            Defaults to True.
        last_epochs (int): Final epochs without augmentation. Defaults to 0.

    Examples:
        >>> data_preprocessor = dict(
        ...     type='FERDataPreprocessor',
        ...     batch_augments=dict(augments=dict(
        ...         type='VAEGANLatentAugment',
        ...         vaegan='configs/vaegan/vaegan_resnet18-biggan_1xb32-100kiters_rafdb-64x64.py',
        ...         checkpoint='work_dirs/vaegan_resnet18-biggan_1xb32-100kiters_rafdb-64x64/iter_100000.pth',
        ...         statistics='work_dirs/vaegan_generated/rafdb/stats.pth',
        ...         ratio=0.5, last_epochs=5)))
    """

    def __init__(
        self,
        vaegan: Union[str, dict, nn.Module],
        statistics: Union[str, dict],
        checkpoint: Optional[str] = None,
        ratio: float = 0.5,
        strength: float = 0.5,
        form: str = 'diag',
        scale: str = 'covariance',
        mean: Sequence[float] = (123.675, 116.28, 103.53),
        std: Sequence[float] = (58.395, 57.12, 57.375),
        rgb: bool = True,
        last_epochs: int = 0,
    ) -> None:
        if not 0.0 <= float(ratio) <= 1.0:
            raise ValueError(
                f'VAEGANLatentAugment: ratio must be in [0, 1], got {ratio}'
            )
        if int(last_epochs) < 0:
            raise ValueError('VAEGANLatentAugment: last_epochs must be >= 0')
        if not isinstance(vaegan, nn.Module) and checkpoint is None:
            raise ValueError(
                'VAEGANLatentAugment: a VAE-GAN config needs its '
                'checkpoint= (the trained weights)'
            )
        if isinstance(statistics, dict):
            self._check_statistics(statistics)
        # Files are read at the first training batch, so a config builds
        # (e.g. for tests or tools/test.py) before the VAE-GAN is trained.
        self._vaegan = vaegan
        self._checkpoint = checkpoint
        self._statistics = statistics
        self._model: Optional[list] = None
        self._augmenter: Optional[ClassCovarianceAugmenter] = None
        self._augment_args = dict(strength=strength, form=form, scale=scale)
        if form not in ClassCovarianceAugmenter.FORMS:
            raise ValueError(
                f'VAEGANLatentAugment: form must be one of '
                f'{ClassCovarianceAugmenter.FORMS}, got {form!r}'
            )
        if scale not in ClassCovarianceAugmenter.SCALES:
            raise ValueError(
                f'VAEGANLatentAugment: scale must be one of '
                f'{ClassCovarianceAugmenter.SCALES}, got {scale!r}'
            )
        self.ratio = float(ratio)
        self.rgb = bool(rgb)
        self.last_epochs = int(last_epochs)
        self.mean = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
        #: per class: samples seen / augmented since construction
        self.seen = np.zeros(0, dtype=np.int64)
        self.augmented = np.zeros(0, dtype=np.int64)
        self.last_mask: Optional[Tensor] = None

    @staticmethod
    def _check_statistics(statistics: dict) -> None:
        missing = {'cov', 'count'} - set(statistics)
        if missing:
            raise KeyError(
                f'VAEGANLatentAugment: statistics lack {sorted(missing)}; '
                'write them with tools/generative/vaegan_generate.py '
                '--stats-out'
            )

    def _setup(self) -> None:
        if self._model is not None:
            return
        if isinstance(self._vaegan, nn.Module):
            model = self._vaegan.eval()
        else:
            model = load_vaegan(self._vaegan, self._checkpoint)
        for p in model.parameters():
            p.requires_grad_(False)
        stats = self._statistics
        if isinstance(stats, str):
            stats = torch.load(stats, map_location='cpu', weights_only=True)
            self._check_statistics(stats)
        self._augmenter = ClassCovarianceAugmenter(
            stats['cov'], stats['count'], **self._augment_args
        )
        num_classes = int(stats['cov'].shape[0])
        self.seen = np.zeros(num_classes, dtype=np.int64)
        self.augmented = np.zeros(num_classes, dtype=np.int64)
        self._model = [model]  # a list: never a sub-module of the classifier

    @property
    def model(self) -> nn.Module:
        """The VAE-GAN (loaded on first use)."""
        self._setup()
        return self._model[0]

    @property
    def augmenter(self) -> ClassCovarianceAugmenter:
        """The eq. 4 sampler of the class statistics (loaded on first use)."""
        self._setup()
        return self._augmenter

    @property
    def num_classes(self) -> int:
        """Number of classes of the statistics."""
        self._setup()
        return len(self.seen)

    def active(self) -> bool:
        """False during the last ``last_epochs`` epochs."""
        if not self.last_epochs:
            return True
        hub = MessageHub.get_current_instance()
        epoch, max_epochs = hub.get_info('epoch'), hub.get_info('max_epochs')
        if epoch is None or max_epochs is None:
            return True
        return epoch < max_epochs - self.last_epochs

    def select(self, labels: np.ndarray) -> np.ndarray:
        """Boolean mask: ``ratio`` of each class's samples (in expectation
        exactly, within one sample per class and batch)."""
        mask = np.zeros(len(labels), dtype=bool)
        for c in np.unique(labels):
            idx = np.flatnonzero(labels == c)
            exact = self.ratio * len(idx)
            k = int(np.floor(exact)) + int(np.random.rand() < exact % 1)
            if k:
                mask[np.random.choice(idx, k, replace=False)] = True
        return mask

    def _vaegan_norm(self) -> Tuple[Tensor, Tensor, bool]:
        pre = self.model.data_preprocessor
        mean = torch.as_tensor(getattr(pre, 'mean', 127.5)).float()
        std = torch.as_tensor(getattr(pre, 'std', 127.5)).float()
        order = str(getattr(pre, 'output_channel_order', 'RGB') or 'RGB')
        return mean.view(1, -1, 1, 1), std.view(1, -1, 1, 1), order == 'RGB'

    @torch.no_grad()
    def augment(self, inputs: Tensor, labels: Tensor) -> Tensor:
        """VAE-GAN augmentations of normalised classifier images."""
        model = self.model
        device = inputs.device
        if next(model.parameters()).device != device:
            model.to(device)
        size = int(model.generator.output_scale)
        g_mean, g_std, g_rgb = (t for t in self._vaegan_norm())
        pix = inputs.float() * self.std.to(device) + self.mean.to(device)
        if self.rgb != g_rgb:
            pix = pix.flip(1)
        small = F.interpolate(
            pix, size=(size, size), mode='bilinear', antialias=True
        )
        small = (small - g_mean.to(device)) / g_std.to(device)
        mu, _ = model.encode(small)
        z = self.augmenter.sample(mu, labels)
        out = model.decode(z).float() * g_std.to(device) + g_mean.to(device)
        out = F.interpolate(
            out.clamp(0, 255),
            size=inputs.shape[-2:],
            mode='bilinear',
            antialias=True,
        )
        if self.rgb != g_rgb:
            out = out.flip(1)
        out = (out - self.mean.to(device)) / self.std.to(device)
        return out.to(inputs.dtype)

    def expand(
        self, inputs: Tensor, scores: Tensor
    ) -> Tuple[Tensor, Tensor, Dict[str, Tensor]]:
        """Same batch, ``ratio`` of each class replaced (FERDataPreprocessor
        interface: every output sample is its own source, weight 1)."""
        self._setup()
        n = inputs.size(0)
        info = dict(
            source=torch.arange(n),
            weight=torch.ones(n, device=inputs.device),
        )
        labels = scores.argmax(1).cpu().numpy()
        mask = np.zeros(n, dtype=bool)
        if self.active():
            mask = self.select(labels)
        self.seen += np.bincount(labels, minlength=self.num_classes)
        self.augmented += np.bincount(labels[mask], minlength=self.num_classes)
        self.last_mask = torch.from_numpy(mask)
        if mask.any():
            inputs = inputs.clone()
            idx = torch.from_numpy(np.flatnonzero(mask)).to(inputs.device)
            inputs[idx] = self.augment(
                inputs[idx], torch.from_numpy(labels[mask])
            )
        return inputs, scores, info

    def __call__(self, inputs: Tensor, scores: Tensor):
        """Run through :class:`fer_mm.models.FERDataPreprocessor`."""
        raise RuntimeError(
            'VAEGANLatentAugment runs in FERDataPreprocessor (with '
            'FERClassifier), which calls its expand()'
        )
