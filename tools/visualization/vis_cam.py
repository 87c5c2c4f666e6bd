# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Which facial regions a model looks at: CAMs on the aligned face crops.

    python tools/visualization/vis_cam.py photo.jpg [more.jpg ...] MODEL \
        [--checkpoint CKPT] [--method gradcam] [--target-layers NAME ...] \
        [--target-class Happiness] [--out-dir DIR]

For each face: the faces are detected and aligned as by
``demo/image_demo.py``, and ``DIR/<image>_face<i>.png`` shows the aligned
crop, its class activation map for the predicted (or ``--target-class``)
class, for a DAN model the spatial map of each attention head, and for
POSTER V2 where its landmark queries attend in each window cross-attention. Unlike
mmpretrain's ``tools/visualization/vis_cam.py`` (whose methods and default
target layer this uses), the map is of the face the classifier scored, not
of the whole photo. Needs ``pip install "fer_mm[cam]"`` (grad-cam).
"""

import argparse
import os
import os.path as osp

import cv2
import numpy as np

from fer_mm.apis.cli import add_model_args, build_inferencer, split_model_arg

PANEL = 224


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='CAMs of facial expression models on the aligned faces'
    )
    parser.add_argument(
        'images', nargs='+', help='photos, then the model (as image_demo.py)'
    )
    add_model_args(parser, positional=False)
    parser.add_argument(
        '--method',
        default='gradcam',
        help='pytorch-grad-cam method: gradcam (default), gradcam++, '
        'xgradcam, eigencam, layercam, ...',
    )
    parser.add_argument(
        '--target-layers',
        nargs='+',
        help="module names (default: the backbone's last norm layer)",
    )
    parser.add_argument(
        '--target-class',
        help="explain this class instead of each face's prediction",
    )
    parser.add_argument(
        '--vit-like',
        action='store_true',
        help='the target layer outputs (B, L, C) tokens',
    )
    parser.add_argument('--num-extra-tokens', type=int)
    args = parser.parse_args(argv)
    args.images, args.model = split_model_arg(args.images)
    return args


def panel(img: np.ndarray, title: str) -> np.ndarray:
    """``img`` scaled to PANEL x PANEL under a title bar."""
    img = cv2.resize(img, (PANEL, PANEL), interpolation=cv2.INTER_CUBIC)
    bar = np.full((28, PANEL, 3), 255, np.uint8)
    cv2.putText(
        bar, title[:26], (4, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1
    )
    return np.vstack([bar, img])


def face_strip(res: dict, method: str) -> np.ndarray:
    """Crop, CAM, DAN heads' and POSTER V2 windows' maps side by side."""
    panels = [
        panel(res['crop'], f'{res["pred_class"]} {res["pred_score"]:.2f}'),
        panel(res['overlay'], f'{method}: {res["target_class"]}'),
    ]
    for i, over in enumerate(res.get('head_overlays', [])):
        panels.append(panel(over, f'DAN head {i + 1}'))
    for i, over in enumerate(res.get('window_overlays', [])):
        panels.append(panel(over, f'window attn {i + 1}'))
    return np.hstack(panels)


def main(argv=None):
    args = parse_args(argv)
    inferencer = build_inferencer(args)
    from fer_mm.visualization import FaceCAM

    cams = FaceCAM(
        inferencer,
        args.method,
        args.target_layers,
        vit_like=args.vit_like,
        num_extra_tokens=args.num_extra_tokens,
    )
    os.makedirs(args.out_dir, exist_ok=True)
    written = []
    for image in args.images:
        stem = osp.splitext(osp.basename(image))[0]
        faces = cams(image, args.target_class)
        if not faces:
            print(f'{image}: no face found')
        for i, res in enumerate(faces):
            path = osp.join(args.out_dir, f'{stem}_face{i}.png')
            cv2.imwrite(path, face_strip(res, args.method))
            written.append(path)
    layers = ', '.join(cams.target_layer_names)
    print(
        f'{len(written)} CAM image(s) ({args.method} on {layers}) -> {args.out_dir}'
    )
    return written


if __name__ == '__main__':
    main()
