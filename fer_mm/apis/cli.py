# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Command-line options shared by ``demo/image_demo.py`` and
``demo/video_demo.py``."""

import argparse

import torch

from .fer_inferencer import FERInferencer


def add_model_args(parser: argparse.ArgumentParser) -> None:
    """Options shared by the image and video demos."""
    parser.add_argument(
        'model', help='config file, model-index name or .onnx file'
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
        '--no-detect',
        action='store_true',
        help='inputs are already cropped and aligned faces (no detection, no alignment)',
    )
    parser.add_argument(
        '--template',
        default='rafdb',
        help='alignment template: rafdb (default) or arcface',
    )
    parser.add_argument(
        '--align-size',
        type=int,
        help='aligned crop side (default: the template size)',
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


def build_inferencer(args) -> FERInferencer:
    if args.threads:
        torch.set_num_threads(args.threads)
    detector = None
    if not args.no_detect:
        detector = dict(type=args.detector)
        if args.min_face_size:
            key = (
                'min_face_size'
                if args.detector.lower() == 'mtcnn'
                else 'min_size'
            )
            size = args.min_face_size
            detector[key] = size if key == 'min_face_size' else (size, size)
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
