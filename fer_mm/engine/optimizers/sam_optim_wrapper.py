# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Sharpness-aware minimisation as an mmengine optimizer wrapper."""

from contextlib import contextmanager
from typing import Callable, Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper
from mmengine.runner.amp import autocast
from mmpretrain.registry import OPTIM_WRAPPERS

from fer_mm.utils.precision import resolve_autocast_dtype


@OPTIM_WRAPPERS.register_module()
class SAMOptimWrapper(OptimWrapper):
    """Sharpness-aware minimisation (SAM) over any base optimizer.

    `Sharpness-Aware Minimization for Efficiently Improving Generalization
    <https://arxiv.org/abs/2010.01412>`_, as POSTER V2 trains with it
    (``rho=0.05``, ``adaptive=False``, base optimizer Adam). One parameter
    update is two forward/backward passes on the same batch:

    .. math::

        g = \\nabla L(w), \\qquad
        e = \\rho \\, \\frac{s \\odot g}{\\lVert s \\odot g \\rVert_2
            + 10^{-12}}, \\quad s = |w| \\text{ if adaptive else } 1

        w \\leftarrow \\mathrm{base\\_step}\\big(w,\\;
            \\nabla L(w + e)\\big)

    where ``e`` is applied as ``w + s * g * rho / (||s * g|| + 1e-12)``
    (the reference multiplies by ``w**2`` in the adaptive case, kept
    here), the norm runs over every parameter with a gradient, and the
    gradients of the second pass (taken at ``w + e``) are the ones the base
    optimizer steps with, from ``w``.

    **How the second pass works with stock ``train_step``.** mmengine's
    ``BaseModel.train_step`` (which mmpretrain's ``ImageClassifier`` uses)
    and ``MMDistributedDataParallel.train_step`` run the forward pass inside
    :meth:`optim_context` and then call :meth:`update_params` once. While the
    context is open, this wrapper records the arguments of the model's call
    (a forward pre-hook on the module given to the context, i.e. the DDP
    wrapper under DDP): the already pre-processed batch. ``update_params``
    then re-runs that call at ``w + e`` (inside the same context: autocast,
    DDP gradient all-reduce), parses the losses with the model's own
    ``parse_losses`` and back-propagates them. So no model change is needed,
    and any model whose ``train_step`` follows mmengine's pattern works. A
    custom training step can instead pass ``closure=`` (a callable that runs
    the forward pass and returns the loss) to :meth:`update_params`.

    Notes:
        * Both passes run in train mode, so BatchNorm running statistics are
          updated twice per step, as in the reference training script.
        * The logged loss is the first pass's (at ``w``), as the reference
          prints; the second pass's is kept in :attr:`sharp_loss`.
        * Under DDP the first-pass gradients are all-reduced before ``e`` is
          computed, so every rank perturbs identically (SAM on the global
          batch, like the reference's single-process batch of 144).
        * Gradient accumulation is not supported (``accumulative_counts``
          must be 1): SAM's perturbation needs the full-batch gradient.

    Args:
        optimizer (torch.optim.Optimizer): The base optimizer (built from
            the config's ``optimizer=dict(type='Adam', ...)``).
        rho (float): Radius of the perturbation. Defaults to 0.05.
        adaptive (bool): Adaptive SAM (scale by the weights). Defaults to
            False, as POSTER V2.
        dtype (str | torch.dtype, optional): Autocast both passes in this
            dtype (``'bfloat16'``, ``'auto'`` ...; see
            :func:`fer_mm.utils.precision.resolve_autocast_dtype`); no loss
            scaling is done, so use bfloat16, not float16. None: float32.
            ``tools/train.py --amp`` keeps this wrapper as it is; set
            ``optim_wrapper.dtype`` instead. Defaults to None.
        **kwargs: Other arguments of :class:`mmengine.optim.OptimWrapper`
            (``clip_grad`` applies to the second-pass gradients).

    Example:
        >>> optim_wrapper = dict(
        ...     type='SAMOptimWrapper',
        ...     rho=0.05,
        ...     optimizer=dict(type='Adam', lr=3.5e-5))
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        rho: float = 0.05,
        adaptive: bool = False,
        dtype: Union[str, torch.dtype, None] = None,
        **kwargs,
    ) -> None:
        super().__init__(optimizer=optimizer, **kwargs)
        if rho < 0:
            raise ValueError(f'SAMOptimWrapper: rho must be >= 0, got {rho}')
        if self._accumulative_counts != 1:
            raise ValueError(
                'SAMOptimWrapper: accumulative_counts must be 1 (SAM needs '
                'the full-batch gradient to perturb the weights), got '
                f'{self._accumulative_counts}'
            )
        self.rho = float(rho)
        self.adaptive = bool(adaptive)
        if dtype is None:
            self.cast_dtype = None
        else:
            device = 'cuda' if torch.cuda.is_available() else 'cpu'
            self.cast_dtype = resolve_autocast_dtype(device, dtype)
        self.sharp_loss: Optional[torch.Tensor] = None
        self._model: Optional[nn.Module] = None
        self._call: Optional[tuple] = None

    # ------------------------------------------------------------------
    @contextmanager
    def _cast(self):
        if self.cast_dtype is None:
            yield
        else:
            with autocast(dtype=self.cast_dtype):
                yield

    def _record_call(self, module, args, kwargs):
        if self._call is None:
            self._call = (args, kwargs)

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Autocast (if asked) and record the model's call for pass two."""
        self._model = model
        self._call = None
        handle = model.register_forward_pre_hook(
            self._record_call, with_kwargs=True
        )
        try:
            with super().optim_context(model), self._cast():
                yield
        finally:
            handle.remove()

    # ------------------------------------------------------------------
    def _params_with_grad(self) -> List[torch.Tensor]:
        return [
            p
            for group in self.optimizer.param_groups
            for p in group['params']
            if p.grad is not None
        ]

    @torch.no_grad()
    def _perturb(self) -> Dict[torch.Tensor, torch.Tensor]:
        """``w <- w + e(w)``; returns the original weights."""
        params = self._params_with_grad()
        if not params:
            return {}
        device = params[0].device
        scaled = [
            (torch.abs(p) * p.grad if self.adaptive else p.grad)
            for p in params
        ]
        grad_norm = torch.norm(
            torch.stack([g.norm(p=2).to(device) for g in scaled]), p=2
        )
        scale = self.rho / (grad_norm + 1e-12)
        old = {}
        for p in params:
            old[p] = p.detach().clone()
            weight = torch.pow(p, 2) if self.adaptive else 1.0
            p.add_(weight * p.grad * scale.to(p))
        return old

    def _second_pass(self) -> torch.Tensor:
        if self._model is None or self._call is None:
            raise RuntimeError(
                'SAMOptimWrapper needs a second forward pass on the same '
                'batch: run the forward pass inside optim_wrapper.'
                'optim_context(model) (as mmengine train_step does) or pass '
                'closure= to update_params'
            )
        model = self._model
        args, kwargs = self._call
        with super().optim_context(model), self._cast():
            losses = model(*args, **kwargs)
        owner = model.module if is_model_wrapper(model) else model
        loss, _ = owner.parse_losses(losses)
        return loss

    def update_params(  # type: ignore[override]
        self,
        loss: torch.Tensor,
        step_kwargs: Optional[Dict] = None,
        zero_kwargs: Optional[Dict] = None,
        closure: Optional[Callable[[], torch.Tensor]] = None,
    ) -> None:
        """Two-pass SAM update.

        Args:
            loss (torch.Tensor): Loss of the first pass (at ``w``).
            step_kwargs (dict, optional): Arguments of the base step.
            zero_kwargs (dict, optional): Arguments of ``zero_grad``.
            closure (callable, optional): Re-runs the forward pass on the
                same batch and returns the loss; by default the call
                recorded in :meth:`optim_context` is replayed.
        """
        step_kwargs = step_kwargs or {}
        zero_kwargs = zero_kwargs or {}
        self.backward(self.scale_loss(loss))
        old = self._perturb()
        self.optimizer.zero_grad(set_to_none=True)
        try:
            with torch.enable_grad():
                sharp = (
                    closure() if closure is not None else self._second_pass()
                )
                # backward without counting: one update = one inner count
                sharp.backward()
        finally:
            with torch.no_grad():
                for p, w in old.items():
                    p.copy_(w)
            self._call = None
        self.sharp_loss = sharp.detach()
        self.step(**step_kwargs)
        self.zero_grad(**zero_kwargs)
