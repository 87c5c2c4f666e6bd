# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""ECycleGAN: CycleGAN with an RRDB generator and anti-overfitting tricks."""

from typing import Dict, Optional, Tuple

import torch
from mmagic.models.editors.cyclegan import CycleGAN
from mmagic.models.utils import set_requires_grad
from mmagic.registry import MODELS
from mmengine import MessageHub
from mmengine.optim import OptimWrapperDict
from torch import Tensor

_DEFAULT_GAN_LOSS = dict(
    type='GANLoss',
    gan_type='lsgan',
    real_label_val=1.0,
    fake_label_val=0.0,
    loss_weight=1.0,
)


@MODELS.register_module()
class ECycleGAN(CycleGAN):
    """ECycleGAN for unpaired expression-to-expression translation.

    The model of "A generative approach for Facial Expression Data
    Augmentation" (a FER2013 project; no public code): CycleGAN
    (`Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
    Networks <https://arxiv.org/abs/1703.10593>`_) with an RRDB generator
    (:class:`RRDBGenerator`), LSGAN, cycle, identity and perceptual
    consistency losses, and three remedies against the discriminator of the
    rare class overfitting: label flipping, decaying instance noise and a
    generator:discriminator update ratio.

    Losses (one log key each; all built from config, as in SRGAN):

    - ``loss_gan_g_{domain}``: ``gan_loss(D_domain(G_domain(x)), real)``.
    - ``loss_cycle``: ``cycle_loss(G_src(G_tgt(x)), x)`` summed over domains.
    - ``loss_id``: ``id_loss(G_domain(x_domain), x_domain)`` summed over
      domains (skipped when ``id_loss`` is None).
    - ``loss_perceptual``: ``perceptual_loss(G_src(G_tgt(x)), x)``, the cycle
      reconstruction compared in VGG feature space (skipped when None).
    - ``loss_gan_d_{domain}``: ``0.5 * (gan_loss(D(x), real) +
      gan_loss(D(buffer(fake)), fake))``.

    Loss weights are **absolute**: each loss module's ``loss_weight`` is the
    factor applied to it. The CycleGAN paper's identity weight is *relative*
    to the cycle weight (``lambda_idt * lambda_cyc``), so the paper's
    ``lambda_cyc = 10, lambda_idt = 0.5`` is ``cycle_loss.loss_weight=10``,
    ``id_loss.loss_weight=5``. (mmagic's ``CycleGAN`` ``id_loss_weight`` is
    absolute too: its default 0.5 is a relative 0.05.)

    Update schedule at iteration ``t`` (0-based), with ``g =
    generator_steps`` and ``d = discriminator_steps``:

    - D is updated when ``t < disc_init_steps`` or
      ``(t - disc_init_steps) % g == 0``;
    - G is updated when ``(t + 1) % d == 0`` and ``t >= disc_init_steps``
      (mmagic's rule).

    So ``g = 10`` gives G:D = 10:1 and ``d = 5`` gives 1:5; one of them must
    be 1.

    Label flipping: in each discriminator loss every sample's target is
    swapped (real <-> fake) with probability ``label_flip_prob``.

    Instance noise: Gaussian noise of standard deviation
    ``sigma_t = instance_noise_std * max(0, 1 - t / instance_noise_decay_iters)``
    is added to every image the discriminators see during training (real,
    fake, in the D and the G step); logged as ``instance_noise_std``.

    Args:
        *args: Arguments of :class:`mmagic.models.CycleGAN`
            (``generator``, ``discriminator``, ``default_domain``,
            ``reachable_domains``, ``related_domains``,
            ``data_preprocessor``).
        gan_loss (dict): Adversarial loss (mmagic ``GANLoss``). Defaults to
            LSGAN with labels 1 / 0.
        cycle_loss (dict): Cycle-consistency loss. Defaults to
            ``dict(type='L1Loss', loss_weight=10.0)``.
        id_loss (dict, optional): Identity loss, absolute weight. Defaults to
            ``dict(type='L1Loss', loss_weight=5.0)`` (relative 0.5).
        perceptual_loss (dict, optional): Perceptual consistency loss on the
            cycle reconstruction, e.g. ``LocalVGGPerceptualLoss``. Defaults to
            None.
        generator_steps (int): Generator updates per discriminator update.
            Defaults to 1.
        label_flip_prob (float): Per-sample probability of swapping the
            discriminator's target. Defaults to 0.
        instance_noise_std (float): Initial standard deviation of the
            instance noise (in the normalised [-1, 1] image range). Defaults
            to 0 (off).
        instance_noise_decay_iters (int, optional): Iterations over which the
            noise decays linearly to 0; required when ``instance_noise_std >
            0``. Defaults to None.
        **kwargs: Other arguments of :class:`mmagic.models.CycleGAN`
            (``buffer_size``, ``discriminator_steps``, ``disc_init_steps``).
    """

    def __init__(
        self,
        *args,
        gan_loss: dict = _DEFAULT_GAN_LOSS,
        cycle_loss: dict = dict(type='L1Loss', loss_weight=10.0),
        id_loss: Optional[dict] = dict(type='L1Loss', loss_weight=5.0),
        perceptual_loss: Optional[dict] = None,
        generator_steps: int = 1,
        label_flip_prob: float = 0.0,
        instance_noise_std: float = 0.0,
        instance_noise_decay_iters: Optional[int] = None,
        **kwargs,
    ):
        if kwargs.get('loss_config'):
            raise ValueError(
                'ECycleGAN: loss_config is not used; set gan_loss, '
                'cycle_loss, id_loss and perceptual_loss (absolute weights) '
                'instead'
            )
        kwargs['loss_config'] = dict()
        super().__init__(*args, **kwargs)
        if int(generator_steps) != generator_steps or generator_steps < 1:
            raise ValueError(
                f'ECycleGAN: generator_steps must be an int >= 1, got '
                f'{generator_steps!r}'
            )
        if generator_steps > 1 and self.discriminator_steps > 1:
            raise ValueError(
                f'ECycleGAN: generator_steps ({generator_steps}) and '
                f'discriminator_steps ({self.discriminator_steps}) are both '
                '> 1; the G:D ratio is generator_steps:1 or '
                '1:discriminator_steps'
            )
        self.generator_steps = int(generator_steps)
        if not 0 <= label_flip_prob < 0.5:
            raise ValueError(
                f'ECycleGAN: label_flip_prob must be in [0, 0.5), got '
                f'{label_flip_prob!r}'
            )
        self.label_flip_prob = float(label_flip_prob)
        if instance_noise_std < 0:
            raise ValueError(
                f'ECycleGAN: instance_noise_std must be >= 0, got '
                f'{instance_noise_std!r}'
            )
        if instance_noise_std > 0 and (
            instance_noise_decay_iters is None
            or instance_noise_decay_iters < 1
        ):
            raise ValueError(
                'ECycleGAN: instance_noise_decay_iters must be an int >= 1 '
                'when instance_noise_std > 0 (the noise decays linearly to 0 '
                f'over that many iterations), got '
                f'{instance_noise_decay_iters!r}'
            )
        self.instance_noise_std = float(instance_noise_std)
        self.instance_noise_decay_iters = instance_noise_decay_iters
        self._noise_std = 0.0

        self.gan_loss = MODELS.build(gan_loss)
        self.cycle_loss = MODELS.build(cycle_loss)
        self.id_loss = MODELS.build(id_loss) if id_loss else None
        self.perceptual_loss = (
            MODELS.build(perceptual_loss) if perceptual_loss else None
        )

    def init_weights(self) -> None:
        """Initialise every generator and discriminator on its own.

        mmagic 1.2.0's ``BaseTranslationModel.init_weights`` hands its
        init-info dict to the networks, after which ``PatchDiscriminator``'s
        ``generation_init_weights`` raises ``UnboundLocalError`` on every
        module that is neither a conv nor a norm layer (open-mmlab/mmagic
        issue #2109). Without the shared dict each network initialises as
        configured.
        """
        for domain in self._reachable_domains:
            self.get_module(self.generators)[domain].init_weights()
            if self.discriminators is not None:
                self.get_module(self.discriminators)[domain].init_weights()

    # ------------------------------------------------------------------
    # Schedules
    # ------------------------------------------------------------------
    def instance_noise_std_at(self, curr_iter: int) -> float:
        """Standard deviation of the instance noise at iteration ``t``."""
        if self.instance_noise_std == 0:
            return 0.0
        remain = 1.0 - curr_iter / self.instance_noise_decay_iters
        return self.instance_noise_std * max(0.0, remain)

    def is_disc_update(self, curr_iter: int) -> bool:
        """Whether the discriminators are updated at ``curr_iter``."""
        if curr_iter < self.disc_init_steps:
            return True
        return (curr_iter - self.disc_init_steps) % self.generator_steps == 0

    def is_gen_update(self, curr_iter: int, disc_accu_iters: int = 1) -> bool:
        """Whether the generators are updated at ``curr_iter``."""
        period = self.discriminator_steps * disc_accu_iters
        return (
            curr_iter + 1
        ) % period == 0 and curr_iter >= self.disc_init_steps

    # ------------------------------------------------------------------
    # Discriminator helpers
    # ------------------------------------------------------------------
    def discriminate(self, domain: str, img: Tensor) -> Tensor:
        """``D_domain(img)``, with instance noise while training."""
        if self.training and self._noise_std > 0:
            img = img + torch.randn_like(img) * self._noise_std
        return self.get_module(self.discriminators)[domain](img)

    def disc_gan_loss(self, pred: Tensor, target_is_real: bool) -> Tensor:
        """Discriminator GAN loss with per-sample label flipping.

        Each sample's target is swapped with probability
        ``label_flip_prob``; the loss is the sample-weighted mean of the
        GAN loss over the kept and the flipped samples, which equals the
        element-wise mean for LSGAN / vanilla losses.
        """
        num = pred.size(0)
        if not self.training or self.label_flip_prob == 0:
            return self.gan_loss(pred, target_is_real, is_disc=True)
        flip = torch.rand(num, device=pred.device) < self.label_flip_prob
        num_flip = int(flip.sum())
        if num_flip == 0:
            return self.gan_loss(pred, target_is_real, is_disc=True)
        loss = num_flip * self.gan_loss(
            pred[flip], not target_is_real, is_disc=True
        )
        if num_flip < num:
            loss = loss + (num - num_flip) * self.gan_loss(
                pred[~flip], target_is_real, is_disc=True
            )
        return loss / num

    # ------------------------------------------------------------------
    # Losses
    # ------------------------------------------------------------------
    def _get_disc_loss(self, outputs: dict) -> Tuple[Tensor, Dict]:
        """Discriminator losses (LSGAN by default, with flips and noise)."""
        log_vars_d = dict()
        loss_d = 0
        for domain in self._reachable_domains:
            fake_img = self.image_buffers[domain].query(
                outputs[f'fake_{domain}']
            )
            fake_pred = self.discriminate(domain, fake_img.detach())
            real_pred = self.discriminate(domain, outputs[f'real_{domain}'])
            loss = 0.5 * (
                self.disc_gan_loss(fake_pred, False)
                + self.disc_gan_loss(real_pred, True)
            )
            loss_d = loss_d + loss
            log_vars_d[f'loss_gan_d_{domain}'] = loss.detach()
        return loss_d, log_vars_d

    def _perceptual(self, pred: Tensor, target: Tensor) -> Tensor:
        out = self.perceptual_loss(pred, target)
        if isinstance(out, (tuple, list)):
            # mmagic's PerceptualLoss returns (perceptual, style).
            out = sum(o for o in out if o is not None)
        return out

    def _get_gen_loss(self, outputs: dict) -> Tuple[Tensor, Dict]:
        """Generator losses: GAN, cycle, identity and perceptual."""
        generators = self.get_module(self.generators)
        domains = self._reachable_domains
        losses = dict()
        for domain in domains:
            fake_pred = self.discriminate(domain, outputs[f'fake_{domain}'])
            losses[f'loss_gan_g_{domain}'] = self.gan_loss(
                fake_pred, True, is_disc=False
            )
        losses['loss_cycle'] = sum(
            self.cycle_loss(outputs[f'cycle_{d}'], outputs[f'real_{d}'])
            for d in domains
        )
        if self.id_loss is not None:
            for domain in domains:
                outputs[f'identity_{domain}'] = generators[domain](
                    outputs[f'real_{domain}']
                )
            losses['loss_id'] = sum(
                self.id_loss(outputs[f'identity_{d}'], outputs[f'real_{d}'])
                for d in domains
            )
        if self.perceptual_loss is not None:
            losses['loss_perceptual'] = sum(
                self._perceptual(outputs[f'cycle_{d}'], outputs[f'real_{d}'])
                for d in domains
            )
        return self.parse_losses(losses)

    # ------------------------------------------------------------------
    # Training
    # ------------------------------------------------------------------
    def train_step(
        self, data: dict, optim_wrapper: OptimWrapperDict
    ) -> Dict[str, Tensor]:
        """One iteration: translate, update D and / or G per the schedule.

        Returns:
            dict: ``loss_gan_d_{domain}`` on D iterations; ``loss_gan_g_*``,
            ``loss_cycle``, ``loss_id``, ``loss_perceptual`` and ``loss``
            (the generator total) on G iterations; ``instance_noise_std``
            when instance noise is on.
        """
        curr_iter = MessageHub.get_current_instance().get_info('iter')
        data = self.data_preprocessor(data, True)
        disc_wrapper = optim_wrapper['discriminators']
        gen_wrapper = optim_wrapper['generators']
        disc_accu_iters = disc_wrapper._accumulative_counts
        self._noise_std = self.instance_noise_std_at(curr_iter)
        inputs_dict = data['inputs']
        outputs, log_vars = dict(), dict()

        with disc_wrapper.optim_context(self.discriminators):
            for target_domain in self._reachable_domains:
                source_domain = self.get_other_domains(target_domain)[0]
                img = inputs_dict[f'img_{source_domain}']
                fake = self(img, test_mode=False, target_domain=target_domain)
                outputs[f'real_{source_domain}'] = fake['source']
                outputs[f'fake_{target_domain}'] = fake['target']
                cycle = self(
                    fake['target'],
                    test_mode=False,
                    target_domain=source_domain,
                )
                outputs[f'cycle_{source_domain}'] = cycle['target']
            if self.is_disc_update(curr_iter):
                loss_d, log_vars_d = self._get_disc_loss(outputs)
                disc_wrapper.update_params(loss_d)
                log_vars.update(log_vars_d)

        if self.is_gen_update(curr_iter, disc_accu_iters):
            set_requires_grad(self.discriminators, False)
            with gen_wrapper.optim_context(self.generators):
                loss_g, log_vars_g = self._get_gen_loss(outputs)
                gen_wrapper.update_params(loss_g)
                log_vars.update(log_vars_g)
            set_requires_grad(self.discriminators, True)

        if self.instance_noise_std > 0:
            log_vars['instance_noise_std'] = torch.tensor(self._noise_std)
        return log_vars
