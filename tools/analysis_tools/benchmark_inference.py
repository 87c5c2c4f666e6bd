# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Inference speed: face detectors, and video_demo.py end to end.

    python tools/analysis_tools/benchmark_inference.py [--work-dir D]

1. Detector throughput (faces/s) of MTCNN and Haar on scikit-image's
   astronaut photograph (512x512, one face).
2. A 10 s 640x480 25 frames/s clip made from the astronaut moving (shift,
   roll, zoom; ground-truth landmarks known per frame), run through
   ``demo/video_demo.py`` for each model and backend: PyTorch fp32, PyTorch
   bf16 autocast (only where the CPU computes bf16 natively, else reported as
   skipped unless ``--force-bf16``) and onnxruntime. Reported: frames/s of the
   frame loop (decode, detect/track, align, classify; no drawing with
   ``--no-vis``), frames without a face, faces lost by the flow, and the
   mean error of the followed eye points against the ground truth.

The models have random weights (speed does not depend on them) unless
``--checkpoint`` is given for a config.
"""

import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

import cv2
import numpy as np
import torch

from fer_mm.apis.export import export_onnx, pipeline_input_size
from fer_mm.apis.face import HaarDetector, MTCNNDetector
from fer_mm.apis.model import build_classifier
from fer_mm.utils.precision import cpu_has_native_bf16, describe_cpu

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODELS = {
    'ResNet-18': 'configs/resnet/resnet18_1xb64-30e_synthetic-rafdb.py',
    'DAN': 'configs/dan/dan_resnet18_1xb64-8e_synthetic-rafdb.py',
}


def astronaut() -> np.ndarray:
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def clip_transform(t: float, size=(640, 480)) -> np.ndarray:
    """The (2, 3) astronaut-to-frame transform at time ``t`` (s)."""
    w, h = size
    angle = 8.0 * np.sin(2 * np.pi * t / 5.0)
    scale = 0.75 + 0.08 * np.sin(2 * np.pi * t / 3.3)
    mat = cv2.getRotationMatrix2D((256.0, 256.0), angle, scale)
    # Centre the photograph, then move it on a Lissajous path.
    mat[:, 2] += (w / 2 - 256.0, h / 2 - 256.0)
    mat[0, 2] += 70.0 * np.sin(2 * np.pi * t / 4.0)
    mat[1, 2] += 40.0 * np.sin(2 * np.pi * t / 2.7)
    return mat


def make_clip(
    path: str, seconds: float = 10.0, fps: float = 25.0, size=(640, 480)
) -> int:
    """Write the moving-astronaut clip; returns its frame count."""
    img = astronaut()
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps, size)
    if not writer.isOpened():
        raise RuntimeError(f'cannot write {path}')
    n = int(round(seconds * fps))
    for i in range(n):
        frame = cv2.warpAffine(
            img,
            clip_transform(i / fps, size),
            size,
            flags=cv2.INTER_LINEAR,
            borderValue=(90, 110, 100),
        )
        writer.write(frame)
    writer.release()
    return n


def bench_detectors(repeats: int) -> dict:
    img = astronaut()
    out = {}
    for name, det in (('MTCNN', MTCNNDetector()), ('Haar', HaarDetector())):
        faces = len(det.detect(img))  # warm-up
        start = time.perf_counter()
        found = sum(len(det.detect(img)) for _ in range(repeats))
        seconds = time.perf_counter() - start
        out[name] = dict(
            faces_per_image=faces,
            ms_per_image=1000 * seconds / repeats,
            faces_per_s=found / seconds,
        )
    return out


def eye_error(json_file: str, astro_eyes: np.ndarray, fps: float) -> float:
    """Mean distance (px) of the reported eye points to the true ones."""
    with open(json_file, encoding='utf-8') as f:
        frames = json.load(f)['frames']
    errs = []
    for fr in frames:
        if not fr['faces'] or fr['faces'][0]['landmarks'] is None:
            continue
        face = max(fr['faces'], key=lambda f: f['det_score'] or 0)
        true = astro_eyes @ clip_transform(fr['frame'] / fps)[:, :2].T
        true += clip_transform(fr['frame'] / fps)[:, 2]
        errs.append(
            np.linalg.norm(
                np.asarray(face['landmarks'])[:2] - true, axis=1
            ).mean()
        )
    return float(np.mean(errs)) if errs else float('nan')


def run_demo(clip, model, work_dir, extra, env) -> dict:
    name = osp.splitext(osp.basename(clip))[0]
    cmd = [
        sys.executable,
        osp.join(REPO, 'demo/video_demo.py'),
        clip,
        model,
        '--out-dir',
        work_dir,
        '--no-vis',
        '--threads',
        str(env['OMP_NUM_THREADS']),
        *extra,
    ]
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    with open(osp.join(work_dir, f'{name}.json'), encoding='utf-8') as f:
        return json.load(f)['summary'], osp.join(work_dir, f'{name}.json')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/benchmark_inference')
    parser.add_argument(
        '--models', nargs='+', default=list(MODELS), choices=list(MODELS)
    )
    parser.add_argument(
        '--detect-every',
        type=int,
        default=10,
        help='detector stride of the video runs (default 10)',
    )
    parser.add_argument(
        '--min-face-size',
        type=int,
        default=60,
        help='MTCNN min face size in the video runs (default 60)',
    )
    parser.add_argument(
        '--seconds', type=float, default=10.0, help='clip length (default 10)'
    )
    parser.add_argument(
        '--repeats', type=int, default=10, help='detector repeats (default 10)'
    )
    parser.add_argument(
        '--threads',
        type=int,
        default=2,
        help='torch / onnxruntime threads (default 2)',
    )
    parser.add_argument(
        '--force-bf16',
        action='store_true',
        help='run bf16 even without native bf16',
    )
    return parser.parse_args()


def main():
    args = parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    torch.set_num_threads(args.threads)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    load = ', '.join(f'{v:.1f}' for v in os.getloadavg())
    print(
        f'CPU: {describe_cpu()}; load average {load} on {os.cpu_count()} cores'
    )

    det = bench_detectors(args.repeats)
    print('\ndetector on the astronaut (512x512, 1 face):')
    for name, r in det.items():
        print(
            f'  {name:6s} {r["faces_per_image"]} face(s)  {r["ms_per_image"]:7.1f} ms/image  '
            f'{r["faces_per_s"]:6.1f} faces/s'
        )

    clip = osp.join(args.work_dir, 'astronaut_640x480.mp4')
    n = make_clip(clip, args.seconds)
    astro_eyes = (
        MTCNNDetector().detect(astronaut()).landmarks[0, :2].astype(np.float64)
    )
    print(f'\nclip: {clip} ({n} frames, 640x480, 25 frames/s)')

    native = cpu_has_native_bf16()
    # Speed only: the models keep random weights, on purpose and quietly.
    common = [
        '--allow-random',
        '--detect-every',
        str(args.detect_every),
        '--min-face-size',
        str(args.min_face_size),
    ]
    table = []
    for name in args.models:
        config = osp.join(REPO, MODELS[name])
        net, cfg, classes = build_classifier(config, allow_random=True)
        size = pipeline_input_size(cfg.test_dataloader.dataset.pipeline)
        onnx_file = osp.join(args.work_dir, f'{name}.onnx')
        export_onnx(net, onnx_file, size, classes, cfg)
        runs = [('PyTorch fp32', config, ['--precision', 'float32'])]
        if native or args.force_bf16:
            runs.append(('PyTorch bf16', config, ['--precision', 'bfloat16']))
        else:
            table.append(
                (
                    name,
                    size,
                    'PyTorch bf16',
                    None,
                    'not native on this CPU, skipped',
                )
            )
        runs.append(('onnxruntime', onnx_file, []))
        for backend, model, extra in runs:
            out = osp.join(
                args.work_dir, f'{name}_{backend.replace(" ", "_")}'
            )
            summary, json_file = run_demo(
                clip, model, out, common + extra, env
            )
            err = eye_error(json_file, astro_eyes, summary['fps'])
            table.append((name, size, backend, summary, f'{err:.2f}'))

    print(
        f'\nvideo_demo.py --no-vis --detect-every {args.detect_every} --min-face-size {args.min_face_size}, '
        f'{args.threads} threads:'
    )
    print(
        f'  {"model":10s} {"input":7s} {"backend":13s} {"frames/s":>8s} {"no face":>8s} {"lost":>5s} {"det runs":>8s}  eye err px'
    )
    for name, size, backend, s, note in table:
        if s is None:
            print(f'  {name:10s} {size[0]}x{size[1]:<4d} {backend:13s} {note}')
            continue
        print(
            f'  {name:10s} {size[0]}x{size[1]:<4d} {backend:13s} {s["frames_per_second"]:8.1f} '
            f'{s["frames_without_face"]:8d} {s["flow_lost"]:5d} {s["detector_runs"]:8d}  {note}'
        )


if __name__ == '__main__':
    main()
