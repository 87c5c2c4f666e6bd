# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""68-point landmark files for the LSD multi-task model, offline (dlib).

    python tools/dataset_converters/make_landmarks.py IMG_ROOT OUT_FILE

Every image under ``IMG_ROOT`` (recursively) gets one line
``<path under IMG_ROOT> x1 y1 ... x68 y68`` (iBUG-68 order, pixels), the
format :class:`fer_mm.datasets.ABAW4LSD` and
:class:`fer_mm.datasets.RAFDBLandmarks` read::

    # RAF-DB aligned crops
    python tools/dataset_converters/make_landmarks.py \\
        data/rafdb/basic/Image/aligned data/rafdb/basic/Annotation/landmarks_68.txt
    # ABAW4-LSD synthetic training images
    python tools/dataset_converters/make_landmarks.py \\
        data/abaw4_lsd/training_set_synthetic_images \\
        data/abaw4_lsd/landmarks_68/training_set_synthetic_images.txt

Points come from dlib's shape predictor
(:class:`fer_mm.apis.face.DlibLandmarks68`). An image where no face is found
gets no line (the datasets train it on the expression loss only, and count
it); the report ``OUT_FILE.report.json`` lists them. ``OUT_FILE`` is written
whole at the end; a killed run keeps its finished lines in
``OUT_FILE.partial`` and the same command continues from there.
"""

import argparse
import glob
import json
import os
import os.path as osp
import sys

import numpy as np
from tqdm import tqdm

from fer_mm.apis.face import DlibLandmarks68
from fer_mm.apis.inputs import IMAGE_EXTENSIONS, read_image


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Write 68-point landmark files with dlib.'
    )
    parser.add_argument('img_root', help='folder of images (recursive)')
    parser.add_argument('out_file', help='landmark file to write')
    parser.add_argument(
        '--model',
        help='shape_predictor_68_face_landmarks.dat (found if unset)',
    )
    parser.add_argument(
        '--no-fallback',
        action='store_true',
        help='only dlib HOG boxes (no MTCNN box where HOG finds no face)',
    )
    return parser.parse_args(argv)


def list_images(root: str):
    if not osp.isdir(root):
        raise FileNotFoundError(f'image folder not found: {root}')
    names = []
    for path in sorted(glob.glob(osp.join(root, '**', '*'), recursive=True)):
        if osp.isfile(path) and path.lower().endswith(IMAGE_EXTENSIONS):
            names.append(osp.relpath(path, root).replace(os.sep, '/'))
    if not names:
        raise ValueError(
            f'no images ({", ".join(IMAGE_EXTENSIONS)}) in {root}'
        )
    return names


def read_partial(path: str) -> dict:
    """Finished lines of a killed run: ``{name: line}`` (``name -`` = no
    face); a last line cut short is dropped."""
    done = {}
    if osp.isfile(path):
        with open(path, 'rb+') as f:  # cut an unfinished last line
            data = f.read()
            if data and not data.endswith(b'\n'):
                f.truncate(data.rfind(b'\n') + 1)
        with open(path, encoding='utf-8') as f:
            for line in f:
                if line.endswith('\n') and line.strip():
                    done[line.split(' ', 1)[0]] = line
    return done


def main(argv=None) -> dict:
    args = parse_args(argv)
    names = list_images(args.img_root)
    os.makedirs(osp.dirname(osp.abspath(args.out_file)), exist_ok=True)
    partial = args.out_file + '.partial'
    done = read_partial(partial)
    model = DlibLandmarks68(
        args.model, fallback=None if args.no_fallback else 'mtcnn'
    )
    sources = dict(hog=0, fallback=0, none=0, resumed=0)
    with open(partial, 'a', encoding='utf-8') as out:
        for name in tqdm(names, unit='img', desc='landmarks', file=sys.stderr):
            if name in done:
                sources['resumed'] += 1
                continue
            pts, how = model(read_image(osp.join(args.img_root, name)))
            sources[how] += 1
            if pts is None:
                line = f'{name} -\n'
            else:
                values = ' '.join(f'{v:.2f}' for v in np.asarray(pts).ravel())
                line = f'{name} {values}\n'
            out.write(line)
            out.flush()
            done[name] = line
    no_face = sorted(n for n, line in done.items() if line.endswith(' -\n'))
    with open(args.out_file + '.tmp', 'w', encoding='utf-8') as f:
        for name in names:
            if not done[name].endswith(' -\n'):
                f.write(done[name])
    os.replace(args.out_file + '.tmp', args.out_file)
    report = dict(
        images=len(names),
        with_landmarks=len(names) - len(no_face),
        box_sources=sources,
        no_face=no_face,
        model=model.model_path,
    )
    with open(args.out_file + '.report.json.tmp', 'w', encoding='utf-8') as f:
        json.dump(report, f, indent=1)
    os.replace(
        args.out_file + '.report.json.tmp', args.out_file + '.report.json'
    )
    os.remove(partial)
    print(
        f'{report["with_landmarks"]} of {len(names)} images with landmarks '
        f'-> {args.out_file}; no face in {len(no_face)}'
    )
    return report


if __name__ == '__main__':
    main()
