# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""The pretrained files fer_mm's configs expect, and where they come from.

Nothing is downloaded at run time: a config names a local file, converted
once from what the reference implementation publishes. When such a file is
missing, :func:`missing_part_message` turns "checkpoint not found" into what
the file is, where the reference publishes it and the command that makes it
(the table is documented in ``docs/en/user_guides/pretrained_parts.md``).
"""

import os.path as osp
from typing import Dict, Optional

#: File name -> what it is, where it is published, how it is made.
PRETRAINED_PARTS: Dict[str, Dict[str, str]] = {
    'resnet18_msceleb_fermm.pth': dict(
        what="DAN's ResNet-18 pretrained on MS-Celeb-1M (DAN RAF-DB / "
        'AffectNet-7 / AffectNet-8 configs, model.backbone.init_cfg)',
        source='resnet18_msceleb.pth, the "pre-trained model of MSCeleb" '
        'linked from the README of github.com/yaoing/DAN (Google Drive)',
        command='python tools/model_converters/dan_to_fermm.py '
        'resnet18_msceleb.pth checkpoints/resnet18_msceleb_fermm.pth',
    ),
    'ir50_fermm.pth': dict(
        what="POSTER V2's IR-50 image stream (PosterV2 ir50_init_cfg)",
        source='ir50.pth, the "ir50" pre-trained checkpoint of the README of '
        'github.com/Talented-Q/POSTER_V2 (models/pretrain/; Baidu disk or '
        'Google Drive)',
        command='python tools/model_converters/poster_to_fermm.py '
        'ir50.pth checkpoints/ir50_fermm.pth',
    ),
    'mobilefacenet_fermm.pth': dict(
        what="POSTER V2's frozen MobileFaceNet landmark stream (PosterV2 "
        'landmark_init_cfg)',
        source='mobilefacenet_model_best.pth.tar, the "mobilefacenet" '
        'pre-trained checkpoint of the README of '
        'github.com/Talented-Q/POSTER_V2 (models/pretrain/)',
        command='python tools/model_converters/poster_to_fermm.py '
        'mobilefacenet_model_best.pth.tar checkpoints/mobilefacenet_fermm.pth',
    ),
    'vgg19-dcbb9e9d.pth': dict(
        what="torchvision's ImageNet VGG-19 for the perceptual losses of the "
        'VAE-GAN and ECycleGAN configs (vgg_checkpoint)',
        source='https://download.pytorch.org/models/vgg19-dcbb9e9d.pth '
        '(torchvision)',
        command='mkdir -p data/pretrained && mv vgg19-dcbb9e9d.pth '
        'data/pretrained/',
    ),
}

DOC = 'docs/en/user_guides/pretrained_parts.md'


def missing_part_message(filename: str) -> Optional[str]:
    """What to do about a missing pretrained file, or None if unknown."""
    part = PRETRAINED_PARTS.get(osp.basename(str(filename)))
    if part is None:
        return None
    return (
        f'pretrained file not found: {filename}. It is {part["what"]}. Get '
        f'{part["source"]}, then run: {part["command"]} (see {DOC}; to train '
        'without it, set the init_cfg that names it to None)'
    )
