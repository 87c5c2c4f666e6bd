# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Perceptual loss on VGG features read from a local weights file."""

import os.path as osp
from typing import Dict, List, Optional

import torch
import torch.nn as nn
import torchvision.models.vgg as tv_vgg
from mmagic.models.losses.perceptual_loss import PerceptualLoss, PerceptualVGG
from mmagic.registry import MODELS
from mmengine.logging import MMLogger
from torch import Tensor

from fer_mm.utils.checkpoint import load_checkpoint_file

# The last convolution before the last ReLU (mmagic's SRGAN / ESRGAN choice
# for VGG19: ``conv5_4``), used when ``layer_weights`` is not given.
_DEFAULT_LAYER = {'vgg16': '28', 'vgg19': '34'}


def _vgg_features_state(state: dict, filename: str) -> Dict[str, Tensor]:
    """The ``features.*`` tensors of a torchvision VGG state dict."""
    if isinstance(state, dict) and isinstance(state.get('state_dict'), dict):
        state = state['state_dict']
    if not isinstance(state, dict):
        raise ValueError(
            f'vgg_checkpoint {filename}: expected a torchvision VGG state '
            f'dict (keys "features.N.weight"), got {type(state).__name__}'
        )
    features = {}
    for key, value in state.items():
        key = key[len('module.') :] if key.startswith('module.') else key
        if key.startswith('features.'):
            features[key[len('features.') :]] = value
    return features


class LocalPerceptualVGG(PerceptualVGG):
    """:class:`~mmagic.models.losses.PerceptualVGG` without any download.

    mmagic's ``PerceptualVGG.__init__`` builds torchvision's VGG with
    ``pretrained=True``, i.e. it downloads ImageNet weights; this subclass
    builds the layers itself (``weights=None``) and fills them from a local
    torchvision VGG state dict, loaded weights-only. ``forward`` is mmagic's.

    Args:
        layer_name_list (list[str]): Indices (as strings) of the
            ``vgg.features`` layers whose outputs are returned.
        vgg_type (str): ``'vgg16'`` or ``'vgg19'``. Defaults to ``'vgg19'``.
        use_input_norm (bool): Normalise ``[0, 1]`` inputs with the ImageNet
            mean and std. Defaults to True.
        vgg_checkpoint (str, optional): Local torchvision VGG weights
            (``features.N.weight`` keys, e.g. ``vgg19-dcbb9e9d.pth``). None
            keeps random weights (for tests) and logs a warning. Defaults to
            None.
    """

    def __init__(
        self,
        layer_name_list: List[str],
        vgg_type: str = 'vgg19',
        use_input_norm: bool = True,
        vgg_checkpoint: Optional[str] = None,
    ) -> None:
        # Not PerceptualVGG.__init__: it downloads torchvision weights.
        nn.Module.__init__(self)
        if vgg_type not in _DEFAULT_LAYER:
            raise ValueError(
                f"vgg_type must be 'vgg16' or 'vgg19', got {vgg_type!r}"
            )
        self.layer_name_list = list(layer_name_list)
        self.use_input_norm = use_input_norm
        features = getattr(tv_vgg, vgg_type)(weights=None).features
        for name in self.layer_name_list:
            if not (str(name).isdigit() and int(name) < len(features)):
                raise ValueError(
                    f'layer_weights: layer {name!r} is not a layer index of '
                    f'{vgg_type}.features (expected "0".."'
                    f'{len(features) - 1}")'
                )
        num_layers = max(map(int, self.layer_name_list)) + 1
        self.vgg_layers = features[:num_layers]
        if vgg_checkpoint is None:
            MMLogger.get_current_instance().warning(
                f'{type(self).__name__}: vgg_checkpoint is None, the '
                f'perceptual loss uses RANDOM {vgg_type} weights (fine for '
                'tests, meaningless for training; set vgg_checkpoint to a '
                'local torchvision VGG file)'
            )
        else:
            self._load(vgg_checkpoint, vgg_type)
        if self.use_input_norm:
            self.register_buffer(
                'mean', torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
            )
            self.register_buffer(
                'std', torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
            )
        for param in self.vgg_layers.parameters():
            param.requires_grad = False

    def _load(self, filename: str, vgg_type: str) -> None:
        if not osp.isfile(osp.expanduser(filename)):
            raise FileNotFoundError(
                f'vgg_checkpoint: VGG weights file not found: {filename} '
                f'(expected a local torchvision {vgg_type} state dict; '
                'nothing is downloaded)'
            )
        state = _vgg_features_state(load_checkpoint_file(filename), filename)
        wanted = self.vgg_layers.state_dict()
        missing = sorted(
            set(wanted) - set(state), key=lambda k: int(k.split('.')[0])
        )
        if missing:
            raise KeyError(
                f'vgg_checkpoint {filename}: missing '
                f'{["features." + k for k in missing]}; expected a '
                f'torchvision {vgg_type} state dict'
            )
        for key, value in wanted.items():
            if state[key].shape != value.shape:
                raise ValueError(
                    f'vgg_checkpoint {filename}: features.{key} has shape '
                    f'{tuple(state[key].shape)}, {vgg_type} expects '
                    f'{tuple(value.shape)} (is it a {vgg_type} file?)'
                )
        self.vgg_layers.load_state_dict({k: state[k] for k in wanted})


@MODELS.register_module()
class LocalVGGPerceptualLoss(PerceptualLoss):
    """Perceptual (and optional style) loss on local VGG weights.

    The loss of :class:`~mmagic.models.losses.PerceptualLoss` (from
    `Perceptual Losses for Real-Time Style Transfer and Super-Resolution
    <https://arxiv.org/abs/1603.08155>`_): a weighted distance between VGG
    features of prediction and target, with the VGG weights read from a
    local file (``vgg_checkpoint``), never downloaded. ``forward`` returns
    one scalar: ``loss_weight * (perceptual + style)``.

    Args:
        layer_weights (dict, optional): Weight of each ``vgg.features``
            layer, e.g. ``{'4': 1., '9': 1., '18': 1.}``. Defaults to None
            (``{'34': 1.}`` for VGG19, ``{'28': 1.}`` for VGG16: the last
            convolution).
        layer_weights_style (dict, optional): Layer weights of the style
            (Gram matrix) loss; None uses ``layer_weights``. Defaults to None.
        vgg_type (str): ``'vgg16'`` or ``'vgg19'``. Defaults to ``'vgg19'``.
        use_input_norm (bool): Normalise inputs with the ImageNet statistics
            inside the VGG. Defaults to True.
        perceptual_weight (float): Weight of the perceptual term (0 turns it
            off). Defaults to 1.0.
        style_weight (float): Weight of the style term (0 turns it off).
            Defaults to 0.0.
        norm_img (bool): Map ``[-1, 1]`` inputs to ``[0, 1]`` first.
            Defaults to True.
        criterion (str): ``'l1'`` or ``'mse'``. Defaults to ``'l1'``.
        vgg_checkpoint (str, optional): Local torchvision VGG state dict
            (``features.N.weight`` keys), loaded weights-only. None means
            random weights with a logged warning (tests only). Defaults to
            None.
        loss_weight (float): Factor of the returned loss. Defaults to 1.0.
        input_channel_order (str): Channel order of ``pred`` / ``target``:
            ``'RGB'`` or ``'BGR'``. The VGG was trained on RGB images and
            ``use_input_norm`` applies the RGB ImageNet mean / std, so BGR
            inputs (mmagic's ``DataPreprocessor`` keeps the BGR order of
            ``LoadImageFromFile`` unless ``output_channel_order='RGB'``) are
            flipped to RGB first. Defaults to ``'RGB'``.

    Examples:
        >>> loss = LocalVGGPerceptualLoss(
        ...     layer_weights={'8': 1.0}, vgg_checkpoint=None)
        >>> loss(torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)).shape
        torch.Size([])
    """

    def __init__(
        self,
        layer_weights: Optional[Dict[str, float]] = None,
        layer_weights_style: Optional[Dict[str, float]] = None,
        vgg_type: str = 'vgg19',
        use_input_norm: bool = True,
        perceptual_weight: float = 1.0,
        style_weight: float = 0.0,
        norm_img: bool = True,
        criterion: str = 'l1',
        vgg_checkpoint: Optional[str] = None,
        loss_weight: float = 1.0,
        input_channel_order: str = 'RGB',
    ) -> None:
        # Not PerceptualLoss.__init__: its PerceptualVGG downloads weights.
        nn.Module.__init__(self)
        if str(input_channel_order).upper() not in ('RGB', 'BGR'):
            raise ValueError(
                "input_channel_order must be 'RGB' or 'BGR', got "
                f'{input_channel_order!r}'
            )
        self.input_channel_order = str(input_channel_order).upper()
        if layer_weights is None:
            if vgg_type not in _DEFAULT_LAYER:
                raise ValueError(
                    f"vgg_type must be 'vgg16' or 'vgg19', got {vgg_type!r}"
                )
            layer_weights = {_DEFAULT_LAYER[vgg_type]: 1.0}
        if not layer_weights:
            raise ValueError('layer_weights must name at least one layer')
        self.layer_weights = {str(k): v for k, v in layer_weights.items()}
        self.norm_img = norm_img
        self.perceptual_weight = perceptual_weight
        self.style_weight = style_weight
        self.loss_weight = loss_weight
        self.vgg_checkpoint = vgg_checkpoint
        vgg_args = dict(
            vgg_type=vgg_type,
            use_input_norm=use_input_norm,
            vgg_checkpoint=vgg_checkpoint,
        )
        self.vgg = LocalPerceptualVGG(list(self.layer_weights), **vgg_args)
        style = (
            {str(k): v for k, v in layer_weights_style.items()}
            if layer_weights_style is not None
            else None
        )
        if style is not None and style != self.layer_weights:
            self.layer_weights_style = style
            self.vgg_style = LocalPerceptualVGG(list(style), **vgg_args)
        else:
            self.layer_weights_style = self.layer_weights
            self.vgg_style = None
        criteria = {'l1': nn.L1Loss, 'mse': nn.MSELoss}
        if criterion.lower() not in criteria:
            raise ValueError(
                f"criterion must be 'l1' or 'mse', got {criterion!r}"
            )
        self.criterion = criteria[criterion.lower()]()

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            pred (Tensor): Predicted images, shape (N, 3, H, W), in
                ``[-1, 1]`` if ``norm_img`` else ``[0, 1]``, channels in
                ``input_channel_order``.
            target (Tensor): Target images, same shape (no gradient flows
                into it).

        Returns:
            Tensor: The scalar loss.
        """
        if self.input_channel_order == 'BGR':
            # the VGG and its input normalisation are RGB
            pred, target = pred.flip(1), target.flip(1)
        percep, style = super().forward(pred, target)
        terms = [t for t in (percep, style) if t is not None]
        if not terms:
            return pred.new_zeros(())
        return self.loss_weight * sum(terms)
