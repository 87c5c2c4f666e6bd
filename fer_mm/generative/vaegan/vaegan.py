# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""VAE-GAN: ResNet encoder, BigGAN generator and discriminator."""

from typing import Dict, Optional, Tuple, Union

import torch
from mmagic.models.base_models import BaseGAN
from mmagic.models.utils import set_requires_grad
from mmagic.registry import MODELS
from mmengine import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import Tensor

ModelType = Union[dict, torch.nn.Module]


@MODELS.register_module()
class VAEGAN(BaseGAN):
    """VAE-GAN for semantic latent augmentation.

    Paper: `Semantic Data Augmentation for Long-tailed Facial Expression
    Recognition <https://arxiv.org/abs/2411.17254>`_ (after Larsen et al.,
    `Autoencoding beyond pixels using a learned similarity metric
    <https://arxiv.org/abs/1512.09300>`_).

    An encoder :math:`E` (:class:`VAEEncoder`) maps an image to
    :math:`N(\\mu, \\sigma^2)`; the code
    :math:`z = \\sigma \\circ r + \\mu`, :math:`r \\sim N(0, I)`, is decoded
    by the generator :math:`G` (mmagic's ``BigGANGenerator`` with
    ``num_classes=0``, ``split_noise=False``; ``z`` is its noise); the
    discriminator :math:`D` (``BigGANDiscriminator``) judges real images
    against reconstructions :math:`\\hat x = G(z)`. One training iteration:

    - D step (``loss_disc_real``, ``loss_disc_fake``; hinge by default):
      :math:`E[\\mathrm{relu}(1 - D(x))] + E[\\mathrm{relu}(1 + D(\\hat x))]`.
    - E + G step, D frozen, every ``discriminator_steps`` iterations
      (``generator_steps`` times): ``loss_gen`` (:math:`-E[D(\\hat x)]`),
      ``loss_kl`` (KL to :math:`N(0, I)` with the linearly warmed-up weight
      of :class:`~fer_mm.generative.losses.GaussianKLLoss`, logged as
      ``kl_weight``), ``loss_pix`` (L1) and, if configured,
      ``loss_perceptual``. One backward pass; the encoder and generator
      optimizers both step.

    ``optim_wrapper`` is an :class:`~mmengine.optim.OptimWrapperDict` with
    ``encoder``, ``generator`` and ``discriminator`` (mmagic's
    ``MultiOptimWrapperConstructor`` builds it from a config with those
    keys). The encoder steps when the generator wrapper's accumulation says
    so; give both the same ``accumulative_counts`` and no loss scaler.

    Args:
        encoder (dict | nn.Module): The encoder; ``latent_dim`` defaults to
            the generator's ``noise_size``.
        generator (dict | nn.Module): The generator (decoder).
        discriminator (dict | nn.Module): The discriminator.
        data_preprocessor (dict, optional): mmagic ``DataPreprocessor``
            config (images to ``[-1, 1]``). Defaults to None.
        generator_steps (int): E + G updates per D update. Defaults to 1.
        discriminator_steps (int): D updates per E + G update. Defaults to 1.
        gan_loss (dict): Adversarial loss (mmagic ``GANLoss``). Defaults to
            ``dict(type='GANLoss', gan_type='hinge')``.
        kl_loss (dict): KL loss with warm-up. Defaults to
            ``dict(type='GaussianKLLoss')``.
        pixel_loss (dict): Reconstruction loss. Defaults to
            ``dict(type='L1Loss', loss_weight=1.0)``.
        perceptual_loss (dict, optional): Perceptual reconstruction loss
            (:math:`\\lambda_p`: its ``loss_weight``), e.g.
            ``LocalVGGPerceptualLoss``. Defaults to None.
    """

    def __init__(
        self,
        encoder: ModelType,
        generator: ModelType,
        discriminator: ModelType,
        data_preprocessor: Optional[dict] = None,
        generator_steps: int = 1,
        discriminator_steps: int = 1,
        gan_loss: Optional[dict] = None,
        kl_loss: Optional[dict] = None,
        pixel_loss: Optional[dict] = None,
        perceptual_loss: Optional[dict] = None,
    ) -> None:
        if discriminator is None:
            raise ValueError('VAEGAN needs a discriminator')
        super().__init__(
            generator,
            discriminator,
            data_preprocessor,
            generator_steps=generator_steps,
            discriminator_steps=discriminator_steps,
        )
        if self.noise_size is None:
            raise ValueError(
                'generator: cannot read its noise_size (the latent size)'
            )
        if isinstance(encoder, dict):
            encoder = MODELS.build(
                encoder, default_args=dict(latent_dim=self.noise_size)
            )
        latent_dim = getattr(encoder, 'latent_dim', None)
        if latent_dim != self.noise_size:
            raise ValueError(
                f'encoder.latent_dim ({latent_dim}) must equal '
                f'generator.noise_size ({self.noise_size})'
            )
        self.encoder = encoder
        self.gan_loss = MODELS.build(
            gan_loss or dict(type='GANLoss', gan_type='hinge')
        )
        self.kl_loss = MODELS.build(kl_loss or dict(type='GaussianKLLoss'))
        self.pixel_loss = MODELS.build(
            pixel_loss or dict(type='L1Loss', loss_weight=1.0)
        )
        self.perceptual_loss = (
            MODELS.build(perceptual_loss) if perceptual_loss else None
        )

    # ----------------------------------------------------------- inference
    @property
    def latent_dim(self) -> int:
        """Size of the latent code."""
        return self.noise_size

    def encode(self, img: Tensor) -> Tuple[Tensor, Tensor]:
        """``(mu, logvar)`` of preprocessed images (in ``[-1, 1]``)."""
        return self.encoder(img)

    @staticmethod
    def reparameterize(mu: Tensor, logvar: Tensor) -> Tensor:
        """:math:`z = \\sigma \\circ r + \\mu`, :math:`r \\sim N(0, I)`."""
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)

    def decode(self, z: Tensor) -> Tensor:
        """Images in ``[-1, 1]`` decoded from codes ``z`` of shape (N, D)."""
        return self.generator(z, return_noise=False)

    # ------------------------------------------------------------ training
    @staticmethod
    def _real_images(inputs) -> Tensor:
        if isinstance(inputs, dict):
            inputs = inputs.get('img')
        if not isinstance(inputs, Tensor) or inputs.ndim != 4:
            raise ValueError(
                'VAEGAN: expected the batch inputs to be an image tensor '
                "(N, C, H, W) or a dict with an 'img' tensor; pack images "
                "with dict(type='PackInputs', keys='img')"
            )
        return inputs

    def train_step(
        self, data: dict, optim_wrapper: OptimWrapperDict
    ) -> Dict[str, Tensor]:
        """One D update and (every ``discriminator_steps``) E + G updates.

        Args:
            data (dict): A batch from the dataloader.
            optim_wrapper (OptimWrapperDict): Wrappers ``encoder``,
                ``generator`` and ``discriminator``.

        Returns:
            dict[str, Tensor]: ``loss`` (D total), ``loss_disc_real``,
            ``loss_disc_fake`` and, on E + G iterations, ``loss_gen``,
            ``loss_kl``, ``loss_pix``, ``loss_perceptual`` (if configured)
            and ``kl_weight``.
        """
        missing = {'encoder', 'generator', 'discriminator'} - set(
            optim_wrapper.keys()
        )
        if missing:
            raise KeyError(
                f'VAEGAN: optim_wrapper lacks {sorted(missing)}; expected '
                'the keys encoder, generator and discriminator'
            )
        curr_iter = MessageHub.get_current_instance().get_info('iter') or 0
        data = self.data_preprocessor(data, True)
        real = self._real_images(data['inputs'])

        disc_wrapper = optim_wrapper['discriminator']
        with disc_wrapper.optim_context(self.discriminator):
            log_vars = self.train_discriminator(real, disc_wrapper)

        disc_accu = disc_wrapper._accumulative_counts
        if (curr_iter + 1) % (self.discriminator_steps * disc_accu) == 0:
            set_requires_grad(self.discriminator, False)
            enc_wrapper = optim_wrapper['encoder']
            gen_wrapper = optim_wrapper['generator']
            logs = []
            for _ in range(self.generator_steps):
                with enc_wrapper.optim_context(self.encoder):
                    with gen_wrapper.optim_context(self.generator):
                        logs.append(
                            self.train_generator(
                                real, curr_iter, enc_wrapper, gen_wrapper
                            )
                        )
            log_gen = self.gather_log_vars(logs)
            log_gen.pop('loss', None)
            set_requires_grad(self.discriminator, True)
            log_vars.update(log_gen)
        return log_vars

    def train_discriminator(
        self, real: Tensor, optimizer_wrapper: OptimWrapper
    ) -> Dict[str, Tensor]:
        """Update D on real images and their (detached) reconstructions."""
        with torch.no_grad():
            fake = self.decode(self.reparameterize(*self.encode(real)))
        losses = dict(
            loss_disc_fake=self.gan_loss(
                self.discriminator(fake), target_is_real=False, is_disc=True
            ),
            loss_disc_real=self.gan_loss(
                self.discriminator(real), target_is_real=True, is_disc=True
            ),
        )
        loss, log_vars = self.parse_losses(losses)
        optimizer_wrapper.update_params(loss)
        return log_vars

    def train_generator(
        self,
        real: Tensor,
        curr_iter: int,
        enc_wrapper: OptimWrapper,
        gen_wrapper: OptimWrapper,
    ) -> Dict[str, Tensor]:
        """Update E and G on the adversarial, KL and reconstruction losses."""
        mu, logvar = self.encode(real)
        recon = self.decode(self.reparameterize(mu, logvar))
        losses = dict(
            loss_gen=self.gan_loss(
                self.discriminator(recon), target_is_real=True, is_disc=False
            ),
            loss_kl=self.kl_loss(mu, logvar, curr_iter),
            loss_pix=self.pixel_loss(recon, real),
        )
        if self.perceptual_loss is not None:
            losses['loss_perceptual'] = self.perceptual_loss(recon, real)
        losses['kl_weight'] = real.new_tensor(
            self.kl_loss.weight_at(curr_iter)
        )
        loss, log_vars = self.parse_losses(losses)
        gen_wrapper.backward(gen_wrapper.scale_loss(loss))
        if gen_wrapper.should_update():
            for wrapper in (gen_wrapper, enc_wrapper):
                wrapper.step()
                wrapper.zero_grad()
        return log_vars
