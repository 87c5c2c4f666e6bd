# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Export a trained fer_mm classifier to ONNX and check it with onnxruntime.

    python tools/deployment/pytorch2onnx.py CONFIG CKPT OUT.onnx
    python tools/deployment/pytorch2onnx.py MODEL-INDEX-NAME OUT.onnx

The graph takes ``(N, C, H, W)`` float32 crops in [0, 255] (BGR, or gray
for a 1-channel model such as mini-Xception; batch axis dynamic), folds in the model's normalisation, and outputs ``logits`` and
``scores`` (class probabilities). Class names, crop size and the test
pipeline are stored as metadata, so ``FERInferencer('OUT.onnx')`` needs no
config. The file is only written once onnxruntime matched PyTorch.
"""

import argparse
import sys

from fer_mm.apis.export import (
    export_onnx,
    input_channels,
    pipeline_input_size,
)
from fer_mm.apis.model import build_classifier


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file or model-index name')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help="checkpoint (.pth), loaded weights-only (default: a model-index name's weights)",
    )
    parser.add_argument('out', help='output .onnx file')
    parser.add_argument(
        '--input-size',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help="crop size (default: the size the config's test pipeline resizes to)",
    )
    parser.add_argument(
        '--opset', type=int, default=18, help='ONNX opset (default 18)'
    )
    parser.add_argument(
        '--atol',
        type=float,
        default=1e-4,
        help='largest allowed onnxruntime vs PyTorch difference',
    )
    parser.add_argument(
        '--dynamo',
        action='store_true',
        help="use torch's torch.export-based exporter (default: TorchScript)",
    )
    parser.add_argument(
        '--no-verify', action='store_true', help='skip the onnxruntime check'
    )
    parser.add_argument(
        '--allow-random',
        action='store_true',
        help='export a model without weights without the warning (tests)',
    )
    return parser.parse_args()


def main():
    args = parse_args()
    model, cfg, classes = build_classifier(
        args.config, args.checkpoint, allow_random=args.allow_random
    )
    size = args.input_size or pipeline_input_size(
        cfg.test_dataloader.dataset.pipeline
    )
    if size is None:
        sys.exit(
            "cannot tell the crop size from the config's test pipeline: give --input-size H W"
        )
    report = export_onnx(
        model,
        args.out,
        size,
        classes=classes,
        cfg=cfg,
        opset=args.opset,
        verify=not args.no_verify,
        atol=args.atol,
        dynamo=args.dynamo,
    )
    print(
        f'wrote {args.out} (input N x {input_channels(model)} x {size[0]} x {size[1]}, '
        f'dynamic N; scores by {report["score_mode"]}; weights: {model.weights_source})'
    )
    if report['max_abs_diff_logits'] is not None:
        print(
            'onnxruntime vs PyTorch, max abs difference: '
            f'logits {report["max_abs_diff_logits"]:.3g}, scores {report["max_abs_diff_scores"]:.3g}'
        )


if __name__ == '__main__':
    main()
