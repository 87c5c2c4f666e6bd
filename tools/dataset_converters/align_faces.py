# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Aligned face crops of photos, folders and videos, in a dataset's layout.

    python tools/dataset_converters/align_faces.py INPUT [INPUT ...] \\
        --out-dir DIR [--style auto|rafdb|affwild2] [--detector mtcnn] \\
        [--min-face-size N] [--template rafdb] [--align-size N]

Faces are found and aligned exactly as ``FERInferencer`` does before it
classifies (the same detector, 5-point template and crop size options), and
written in the layout the configs read:

- ``rafdb`` (photos, and the default for them): ``DIR/<stem>_aligned.jpg``,
  as RAF-DB's ``basic/Image/aligned/`` (``train_00001.jpg`` ->
  ``train_00001_aligned.jpg``); with ``--faces all`` the k-th further face
  is ``<stem>_<k>_aligned.jpg``. Video frames become
  ``<video>_<frame>_aligned.jpg``.
- ``affwild2`` (videos, and the default for them): ``DIR/<video>/00001.jpg``
  (frame number, 5 digits, 1-based), as Aff-Wild2's ``cropped_aligned/``;
  frames without a face are missing, as there.

Each crop is written whole or not at all (temporary file, then rename), so a
run that is killed leaves only finished crops; run the same command again and
it skips the crops that exist and the inputs already found to have no face
(``DIR/align_faces.jsonl`` journals every finished image or frame: crop,
face box, 5 points and the image-to-crop matrix). At the end
``DIR/align_faces_report.json`` lists the images and frames without a face.
"""

import argparse
import glob
import json
import os
import os.path as osp
import sys
import tempfile
from typing import Dict, Iterator, List, Optional, Tuple

import cv2
import numpy as np
from tqdm import tqdm

from fer_mm.apis.cli import add_face_args, detector_config
from fer_mm.apis.face import FaceAligner, FaceDetections
from fer_mm.apis.fer_inferencer import build_detector
from fer_mm.apis.inputs import (
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    VideoSource,
    read_image,
)

JOURNAL = 'align_faces.jsonl'
REPORT = 'align_faces_report.json'
TMP_PREFIX = '.align_faces-'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Write aligned face crops of photos, folders and videos.'
    )
    parser.add_argument(
        'inputs', nargs='+', help='images, videos and/or folders of them'
    )
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '--style',
        default='auto',
        choices=['auto', 'rafdb', 'affwild2'],
        help='output layout: auto (default: photos rafdb, videos affwild2), '
        'rafdb (flat <stem>_aligned.jpg) or affwild2 (<video>/00001.jpg)',
    )
    parser.add_argument(
        '--faces',
        default='largest',
        choices=['largest', 'all'],
        help='faces per photo: the largest (default) or all; video frames '
        'always keep the largest',
    )
    add_face_args(parser)
    parser.add_argument(
        '--every', type=int, default=1, help='video frame stride (default 1)'
    )
    parser.add_argument(
        '--jpeg-quality', type=int, default=95, help='JPEG quality (95)'
    )
    parser.add_argument('--device', default='cpu')
    return parser.parse_args(argv)


def build_face_detector(args):
    """The detector the demos build from the same options."""
    detector = detector_config(args)
    if args.detector.lower() == 'mtcnn':
        detector['device'] = args.device
    return build_detector(detector)


# ------------------------------------------------------------------ inputs
def collect_inputs(
    paths: List[str], out_dir: Optional[str] = None
) -> Tuple[List[str], List[str], List]:
    """Images, videos and skipped files (not an image or video) of the
    inputs; folders are searched recursively, leaving out ``out_dir`` (the
    crops of an earlier run are no inputs)."""
    images, videos, skipped = [], [], []
    out = osp.abspath(out_dir) + os.sep if out_dir else None

    def add(path: str, explicit: bool) -> None:
        lower = path.lower()
        if lower.endswith(VIDEO_EXTENSIONS):
            videos.append(path)
        elif lower.endswith(IMAGE_EXTENSIONS):
            images.append(path)
        elif explicit:
            raise ValueError(
                f'{path}: not an image ({", ".join(IMAGE_EXTENSIONS)}) or a '
                f'video ({", ".join(VIDEO_EXTENSIONS)})'
            )
        else:
            skipped.append(path)

    for path in paths:
        if osp.isdir(path):
            for found in sorted(
                glob.glob(osp.join(path, '**', '*'), recursive=True)
            ):
                if out and osp.abspath(found).startswith(out):
                    continue
                if osp.isfile(found):
                    add(found, explicit=False)
        elif osp.isfile(path):
            add(path, explicit=True)
        else:
            raise FileNotFoundError(f'input not found: {path}')
    return images, videos, skipped


def _stem(path: str) -> str:
    return osp.splitext(osp.basename(path))[0]


def output_name(
    video_style: str, path: str, frame: Optional[int], k: int = 0
) -> str:
    """The crop's path under the output folder (photos: RAF-DB style;
    video frames: ``video_style``)."""
    if frame is None:
        suffix = '_aligned.jpg' if k == 0 else f'_{k}_aligned.jpg'
        return _stem(path) + suffix
    if video_style == 'rafdb':
        return f'{_stem(path)}_{frame:05d}_aligned.jpg'
    return f'{_stem(path)}/{frame:05d}.jpg'


def check_unique_names(images: List[str], videos: List[str]) -> None:
    """Two inputs that would write the same crops are an error."""
    seen: Dict[str, str] = {}
    for path in images + videos:
        key = _stem(path) + ('#video' if path in videos else '')
        if key in seen:
            raise ValueError(
                f'{seen[key]} and {path} have the same name stem '
                f'{_stem(path)!r}: their crops would overwrite each other; '
                'align them into different --out-dir folders'
            )
        seen[key] = path


# ------------------------------------------------------------------ output
class Journal:
    """The lines of finished images / frames (survives a killed run)."""

    def __init__(self, out_dir: str):
        self.path = osp.join(out_dir, JOURNAL)
        self.done: Dict[str, dict] = {}
        drop_unfinished_line(self.path)
        if osp.isfile(self.path):
            with open(self.path, encoding='utf-8') as f:
                for line in f:
                    if not line.endswith('\n'):
                        break  # the run was killed while writing this line
                    entry = json.loads(line)
                    self.done[entry['key']] = entry
        self._file = open(self.path, 'a', encoding='utf-8')

    def add(self, entry: dict) -> None:
        self._file.write(json.dumps(entry) + '\n')
        self._file.flush()
        self.done[entry['key']] = entry

    def close(self) -> None:
        self._file.close()


def drop_unfinished_line(path: str) -> None:
    """Cut a journal back to its last complete line (a run killed while
    writing a line leaves it unfinished; appending to it would merge it with
    the next one)."""
    if not osp.isfile(path):
        return
    with open(path, 'rb+') as f:
        data = f.read()
        if data and not data.endswith(b'\n'):
            f.truncate(data.rfind(b'\n') + 1)


def write_whole(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    folder = osp.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=TMP_PREFIX, suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def remove_stale_temporaries(out_dir: str) -> int:
    """Delete temporary files a killed run left behind."""
    stale = glob.glob(
        osp.join(out_dir, '**', TMP_PREFIX + '*.tmp'), recursive=True
    )
    for path in stale:
        os.remove(path)
    return len(stale)


# ------------------------------------------------------------------ faces
def pick_faces(dets: FaceDetections, mode: str) -> List[int]:
    """Indices of the faces to keep, the largest first."""
    if not len(dets):
        return []
    boxes = dets.bboxes
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    order = list(np.argsort(-area, kind='stable'))
    return order if mode == 'all' else order[:1]


class Aligner:
    """Detect, align and write the crops of one image or frame."""

    def __init__(self, args, journal: Journal):
        self.detector = build_face_detector(args)
        self.aligner = FaceAligner(args.template, out_size=args.align_size)
        self.out_dir = args.out_dir
        self.video_style = 'rafdb' if args.style == 'rafdb' else 'affwild2'
        self.faces = args.faces
        self.quality = args.jpeg_quality
        self.journal = journal
        self.stats = dict(written=0, skipped_done=0, no_face=[])

    def skip_if_done(self, path: str, frame: Optional[int]) -> bool:
        """True (and counted) when an earlier run finished this unit: it is
        in the journal, or its first crop exists."""
        key = _key(path, frame)
        entry = self.journal.done.get(key)
        first = osp.join(
            self.out_dir, output_name(self.video_style, path, frame)
        )
        if entry is None and not osp.isfile(first):
            return False
        self.stats['skipped_done'] += 1
        if entry is not None and not entry['outputs']:
            self.stats['no_face'].append(_where(path, frame))
        return True

    def process(self, img: np.ndarray, path: str, frame: Optional[int]):
        dets = self.detector.detect(img)
        mode = 'largest' if frame is not None else self.faces
        picked = pick_faces(dets, mode)
        key = _key(path, frame)
        if not picked:
            self.stats['no_face'].append(_where(path, frame))
            self.journal.add(dict(key=key, outputs=[]))
            return
        outputs, faces = [], []
        for k, i in enumerate(picked):
            crop, mat = self.aligner.align(img, dets.landmarks[i])
            ok, buf = cv2.imencode(
                '.jpg', crop, [cv2.IMWRITE_JPEG_QUALITY, self.quality]
            )
            if not ok:
                raise RuntimeError(f'cannot encode the crop of {key}')
            name = output_name(self.video_style, path, frame, k)
            write_whole(osp.join(self.out_dir, name), buf.tobytes())
            self.stats['written'] += 1
            outputs.append(name)
            faces.append(
                dict(
                    bbox=dets.bboxes[i].round(2).tolist(),
                    score=float(dets.scores[i]),
                    points=dets.landmarks[i].round(2).tolist(),
                    matrix=mat.round(6).tolist(),
                )
            )
        self.journal.add(dict(key=key, outputs=outputs, faces=faces))


def _key(path: str, frame: Optional[int]) -> str:
    return path if frame is None else f'{path}#{frame}'


def _where(path: str, frame: Optional[int]) -> dict:
    return dict(input=path) if frame is None else dict(input=path, frame=frame)


def iter_work(
    images, videos, args
) -> Iterator[Tuple[str, Optional[int], object]]:
    """``(path, frame or None, image or None)`` for every unit of work; the
    image is read lazily (None for a photo: read when it is processed)."""
    for path in images:
        yield path, None, None
    for path in videos:
        for index, frame in VideoSource(path, every=args.every):
            yield path, index + 1, frame


def count_units(images: List[str], videos: List[str], every: int) -> int:
    total = len(images)
    for path in videos:
        n = VideoSource(path, every=every).expected_frames() or 0
        total += (n + every - 1) // every
    return total


def main(argv=None) -> dict:
    args = parse_args(argv)
    images, videos, skipped = collect_inputs(args.inputs, args.out_dir)
    if not images and not videos:
        raise ValueError(f'no images or videos in {args.inputs}')
    style = args.style
    if style == 'affwild2' and images:
        raise ValueError(
            f'{images[0]}: the affwild2 style is for videos; photos are '
            'written in the rafdb style (--style auto or rafdb)'
        )
    check_unique_names(images, videos)
    os.makedirs(args.out_dir, exist_ok=True)
    stale = remove_stale_temporaries(args.out_dir)
    journal = Journal(args.out_dir)
    worker = Aligner(args, journal)
    bar = tqdm(
        total=count_units(images, videos, args.every),
        unit='img',
        desc='align_faces',
        file=sys.stderr,
    )
    try:
        for path, frame, img in iter_work(images, videos, args):
            if not worker.skip_if_done(path, frame):
                worker.process(
                    read_image(path) if img is None else img, path, frame
                )
            bar.update()
    finally:
        bar.close()
        journal.close()
    report = dict(
        inputs=dict(images=len(images), videos=len(videos)),
        crops_written=worker.stats['written'],
        skipped_done=worker.stats['skipped_done'],
        stale_temporaries_removed=stale,
        skipped_files=skipped,
        no_face=worker.stats['no_face'],
        options=dict(
            style=style,
            detector=args.detector,
            template=args.template,
            align_size=worker.aligner.out_size[0],
            faces=args.faces,
            every=args.every,
        ),
    )
    data = (json.dumps(report, indent=1) + '\n').encode('utf-8')
    write_whole(osp.join(args.out_dir, REPORT), data)
    print(
        f'{report["crops_written"]} crops written, {report["skipped_done"]} '
        f'images/frames already done, {len(report["no_face"])} without a '
        f'face -> {args.out_dir}'
    )
    if report['no_face']:
        print(
            'no face found in: '
            + ', '.join(
                f['input'] + (f' frame {f["frame"]}' if 'frame' in f else '')
                for f in report['no_face'][:20]
            )
            + (' ...' if len(report['no_face']) > 20 else '')
        )
    if skipped:
        print(f'skipped {len(skipped)} files that are neither image nor video')
    return report


if __name__ == '__main__':
    main()
