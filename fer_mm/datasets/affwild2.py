# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import os
import os.path as osp
import re
from typing import List, Optional, Sequence, Union

import numpy as np
from mmengine.logging import MMLogger
from mmpretrain.registry import DATASETS

from .base_fer import FERDataset
from .categories import AFFWILD2_CATEGORIES

_ONE_INT = re.compile(r'\s*-?\d+\s*')
_SPLITS = {
    'train': 'Train_Set',
    'val': 'Validation_Set',
    'Train_Set': 'Train_Set',
    'Validation_Set': 'Validation_Set',
}


@DATASETS.register_module()
class AffWild2(FERDataset):
    """Aff-Wild2, expression track of the ABAW challenges (8 classes).

    Paper: `Analysing Affective Behavior in the First ABAW 2020 Competition
    <https://arxiv.org/abs/2001.11409>`_.

    The expected directory tree::

        data_root/
        ├── annotations/EXPR_Classification_Challenge/   # ``challenge``
        │   ├── Train_Set/<video>.txt
        │   └── Validation_Set/<video>.txt
        ├── cropped_aligned/<video>/00001.jpg             # ``frame_roots``
        └── cropped_aligned_new_50_vids/<video>/00001.jpg

    An annotation file starts with the header
    ``Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other``; line
    ``i`` after it (one integer per line, read line by line; an empty or
    two-value line is an error naming the file and line) is the label of
    frame ``i`` (``%05d.jpg``, 1-based), ``-1``
    = not annotated. Frames where no face was found are missing on disk. The
    loader joins annotation and frames on the index and drops ``-1`` and
    missing frames (counts logged). Two-person videos are separate
    ``<video>_left`` / ``<video>_right`` entries. Every sample keeps its
    video (``video_id``, an index into :attr:`video_names`) and frame number.

    The index is held in three numpy arrays (video, frame, label: 9 bytes a
    frame, about 23 MB for 2.6 M frames) rather than a list of dicts, so it
    builds in seconds and is shared copy-on-write by dataloader workers.

    Args:
        data_root (str): Root of the tree.
        split (str): ``'train'`` / ``'val'`` (or ``'Train_Set'`` /
            ``'Validation_Set'``). Defaults to ``'train'``.
        ann_dir (str): Annotation folder under ``data_root``.
            Defaults to ``'annotations'``.
        challenge (str): Challenge folder name; later ABAW editions use
            ``'EXPR_Recognition_Challenge'``. Defaults to
            ``'EXPR_Classification_Challenge'``.
        frame_roots (Sequence[str]): Frame folders under ``data_root``,
            searched in order for each video. Defaults to
            ``('cropped_aligned', 'cropped_aligned_new_50_vids')``; roots
            that do not exist are skipped.
        frame_ext (str): Frame file extension. Defaults to ``'.jpg'``.
        check_frames (bool): List the frame folders and drop frames missing
            on disk. With False every annotated frame is trusted (faster, no
            disk listing). Defaults to True.
        videos (Sequence[str], optional): Only these videos. Defaults to all.
        allow_length_mismatch (bool): With ``check_frames``, a video with
            frames on disk after its last annotation line (the annotation is
            shorter than the video) is an error naming the file; True uses
            the annotated frames and logs the counts. Annotation lines past
            the last frame on disk are always counted in a warning (they are
            dropped as missing frames). Defaults to False.
        **kwargs: Arguments of :class:`FERDataset` (``target_classes``,
            ``drop_unmapped``) and of mmpretrain's ``BaseDataset``.

    Examples:
        >>> from fer_mm.datasets import AffWild2
        >>> ds = AffWild2('data/affwild2', split='val')
        >>> ds.get_data_info(0)
        {'img_path': 'data/affwild2/cropped_aligned/1-30-1280x720/00001.jpg',
         'gt_label': 0, 'video_id': 0, 'video': '1-30-1280x720', 'frame': 1,
         'sample_idx': 0}
    """

    METAINFO = {'classes': AFFWILD2_CATEGORIES}
    HEADER = ','.join(AFFWILD2_CATEGORIES)

    def __init__(
        self,
        data_root: str,
        split: str = 'train',
        ann_dir: str = 'annotations',
        challenge: str = 'EXPR_Classification_Challenge',
        frame_roots: Sequence[str] = (
            'cropped_aligned',
            'cropped_aligned_new_50_vids',
        ),
        frame_ext: str = '.jpg',
        check_frames: bool = True,
        videos: Optional[Sequence[str]] = None,
        allow_length_mismatch: bool = False,
        **kwargs,
    ):
        if split not in _SPLITS:
            raise ValueError(
                f'AffWild2: split must be one of {list(_SPLITS)}'
                f', got {split!r}'
            )
        if isinstance(frame_roots, str):
            frame_roots = [frame_roots]
        self.split = _SPLITS[split]
        self.ann_dir = ann_dir
        self.challenge = challenge
        self.frame_roots = list(frame_roots)
        self.frame_ext = frame_ext
        self.check_frames = check_frames
        self.only_videos = list(videos) if videos is not None else None
        self.allow_length_mismatch = allow_length_mismatch
        kwargs.setdefault('serialize_data', False)
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    # ------------------------------------------------------------ loading
    def _read_labels(self, path: str) -> np.ndarray:
        with open(path, encoding='utf-8') as f:
            header = f.readline().strip()
            lines = f.read().split('\n')
        if header.replace(' ', '') != self.HEADER:
            raise ValueError(
                f'AffWild2: {path}:1: expected the header '
                f'{self.HEADER!r}, got {header!r}'
            )
        while lines and not lines[-1].strip():  # trailing newlines
            lines.pop()
        try:
            # one integer per line: '3 4' or '' cannot convert
            labels = np.array(lines, dtype=np.int64)
        except ValueError:
            for lineno, line in enumerate(lines, 2):
                if not _ONE_INT.fullmatch(line):
                    raise ValueError(
                        f'AffWild2: {path}:{lineno}: expected one integer '
                        f'label in -1..7 per line, got {line.strip()!r}'
                    ) from None
            raise
        bad = np.flatnonzero((labels < -1) | (labels >= 8))
        if bad.size:
            raise ValueError(
                f'AffWild2: {path}:{bad[0] + 2}: label {labels[bad[0]]} out '
                'of range; expected -1 (not annotated) or 0..7'
            )
        return labels

    def _check_length(self, ann_path, folder, lab, on_disk, mismatch):
        """Count frames without a label and labels past the last frame."""
        unlabelled = int((on_disk > len(lab)).sum())
        last = int(on_disk.max()) if on_disk.size else 0
        past_end = max(len(lab) - last, 0)
        video = osp.basename(folder)
        if unlabelled:
            if not self.allow_length_mismatch:
                first = int(on_disk[on_disk > len(lab)].min())
                raise ValueError(
                    f'AffWild2: {ann_path}: {len(lab)} labels, but '
                    f'{unlabelled} frames on disk after the last annotated '
                    f'frame (from {osp.join(folder, f"{first:05d}")}'
                    f'{self.frame_ext}): the annotation file and the frame '
                    'folder do not match. Pass allow_length_mismatch=True to '
                    'use the annotated frames and count the others.'
                )
            mismatch['unlabelled'][video] = unlabelled
        if past_end:
            mismatch['past_end'][video] = past_end

    def _log_mismatch(self, logger, mismatch, num_videos) -> None:
        def part(counts, what):
            names = sorted(counts)
            shown = ', '.join(names[:5]) + (', ...' if len(names) > 5 else '')
            return (
                f'{sum(counts.values())} {what} ({len(names)} videos: '
                f'{shown})'
            )

        videos = set(mismatch['unlabelled']) | set(mismatch['past_end'])
        if not videos:
            return
        logger.warning(
            f'AffWild2 {self.split}: length mismatches in {len(videos)} of '
            f'{num_videos} videos: '
            + part(mismatch['unlabelled'], 'frames on disk without a label')
            + ', '
            + part(mismatch['past_end'], 'labels past the last frame on disk')
            + ' (frames without a label are not used; labels past the end '
            'are counted as missing frames)'
        )

    def _frames_on_disk(self, folder: str) -> np.ndarray:
        ext = self.frame_ext
        names = [n[: -len(ext)] for n in os.listdir(folder) if n.endswith(ext)]
        try:
            return np.array(names, dtype=np.int64)
        except ValueError:
            bad = next(n for n in names if not n.isdigit())
            raise ValueError(
                f'AffWild2: unexpected frame file {osp.join(folder, bad + ext)}'
                f'; expected names like 00001{ext}'
            ) from None

    def full_init(self) -> None:
        """Build the index (arrays of video, frame, label)."""
        if self._fully_initialized:
            return
        logger = MMLogger.get_current_instance()
        ann_root = osp.join(
            self.data_root, self.ann_dir, self.challenge, self.split
        )
        if not osp.isdir(ann_root):
            raise FileNotFoundError(
                f'AffWild2: annotation folder not found: {ann_root} '
                f'(expected <data_root>/{self.ann_dir}/{self.challenge}/'
                f'{self.split}/<video>.txt; set `challenge` for other ABAW '
                'editions)'
            )
        files = sorted(f for f in os.listdir(ann_root) if f.endswith('.txt'))
        if self.only_videos is not None:
            wanted = set(self.only_videos)
            files = [f for f in files if f[:-4] in wanted]
            absent = wanted - {f[:-4] for f in files}
            if absent:
                raise FileNotFoundError(
                    f'AffWild2: no annotation file in {ann_root} for videos '
                    f'{sorted(absent)}'
                )
        roots = [osp.join(self.data_root, r) for r in self.frame_roots]
        roots = [r for r in roots if osp.isdir(r)]
        if self.check_frames and not roots:
            raise FileNotFoundError(
                f'AffWild2: none of the frame roots {self.frame_roots} exists '
                f'under {self.data_root}'
            )

        names: List[str] = []
        root_of: List[int] = []
        vids, frames, labels = [], [], []
        n_invalid = n_missing = 0
        mismatch = dict(unlabelled={}, past_end={})
        for fname in files:
            video = fname[:-4]
            lab = self._read_labels(osp.join(ann_root, fname))
            index = np.arange(1, len(lab) + 1)
            keep = lab >= 0
            n_invalid += int((~keep).sum())
            root_idx = 0
            if self.check_frames:
                root_idx = next(
                    (
                        i
                        for i, r in enumerate(roots)
                        if osp.isdir(osp.join(r, video))
                    ),
                    -1,
                )
                if root_idx < 0:
                    raise FileNotFoundError(
                        f'AffWild2: no frame folder for video {video!r} '
                        f'(annotated in {osp.join(ann_root, fname)}); looked '
                        f'in {roots}'
                    )
                on_disk = self._frames_on_disk(
                    osp.join(roots[root_idx], video)
                )
                self._check_length(
                    osp.join(ann_root, fname),
                    osp.join(roots[root_idx], video),
                    lab,
                    on_disk,
                    mismatch,
                )
                present = np.isin(index, on_disk, assume_unique=True)
                n_missing += int((keep & ~present).sum())
                keep &= present
            names.append(video)
            root_of.append(root_idx)
            vids.append(np.full(int(keep.sum()), len(names) - 1, np.int32))
            frames.append(index[keep].astype(np.int32))
            labels.append(lab[keep].astype(np.int8))
        if not files:
            raise ValueError(
                f'AffWild2: no annotation files (*.txt) in ' f'{ann_root}'
            )
        self.video_names = names
        self._roots = (
            roots
            if self.check_frames
            else [osp.join(self.data_root, self.frame_roots[0])]
        )
        self._root_of = np.array(root_of, np.int32)
        self._video = np.concatenate(vids)
        self._frame = np.concatenate(frames)
        self._label = np.concatenate(labels).astype(np.int8)
        logger.info(
            f'AffWild2 {self.split}: {len(names)} videos, '
            f'{len(self._label)} frames kept; dropped {n_invalid} frames '
            f'annotated -1 and {n_missing} annotated frames missing on disk'
        )
        self._log_mismatch(logger, mismatch, len(names))
        self._apply_label_map(logger)
        self._apply_indices()
        if len(self._label) == 0:
            raise ValueError(
                f'AffWild2: the {self.split} split of '
                f'{ann_root} has no usable frame'
            )
        self._fully_initialized = True
        self.report_fingerprint()

    #: Why Aff-Wild2 has no reference counts (logged with the fingerprint).
    NO_OFFICIAL = (
        'no reference counts: the EXPR split differs between ABAW editions; '
        'compare two runs by the digest'
    )

    def fingerprint_items(self) -> List[str]:
        """One line per video (name, frames, labels) for the digest."""
        import hashlib

        order = np.lexsort((self._frame, self._video))
        video, frame = self._video[order], self._frame[order]
        label = self._label[order]
        starts = np.flatnonzero(np.diff(video, prepend=-1))
        ends = np.append(starts[1:], len(video))
        lines = []
        for s, e in zip(starts, ends):
            sha = hashlib.sha1(frame[s:e].astype('<i4').tobytes())
            sha.update(label[s:e].astype('<i1').tobytes())
            lines.append(
                f'{self.video_names[int(video[s])]}\t{sha.hexdigest()}'
            )
        return sorted(lines)

    def _apply_label_map(self, logger) -> None:
        if self.label_map is None:
            return
        new = self.label_map[self._label.astype(np.int64)]
        unmapped = new < 0
        if unmapped.any():
            if not self.drop_unmapped:
                self._unmapped(int(self._label[unmapped][0]), 'AffWild2')
            counts = np.bincount(self._label[unmapped], minlength=8)
            logger.info(
                'AffWild2: dropped frames without a class in '
                'target_classes: '
                + str(
                    {
                        self.native_classes[i]: int(c)
                        for i, c in enumerate(counts)
                        if c
                    }
                )
            )
        keep = ~unmapped
        self._video, self._frame = self._video[keep], self._frame[keep]
        self._label = new[keep].astype(np.int8)

    def _apply_indices(self) -> None:
        if self._indices is None:
            return
        idx = (
            np.arange(min(self._indices, len(self._label)))
            if isinstance(self._indices, int)
            else np.asarray(self._indices, dtype=np.int64)
        )
        self._video, self._frame = self._video[idx], self._frame[idx]
        self._label = self._label[idx]

    # ------------------------------------------------------------- access
    def load_data_list(self) -> List[dict]:
        """The index as a list of dicts (slow for the full set)."""
        self.full_init()
        return [self.get_data_info(i) for i in range(len(self))]

    def __len__(self) -> int:
        if not self._fully_initialized:
            self.full_init()
        return len(self._label)

    def get_data_info(self, idx: int) -> dict:
        if not self._fully_initialized:
            self.full_init()
        v = int(self._video[idx])
        video = self.video_names[v]
        frame = int(self._frame[idx])
        root = self._roots[self._root_of[v]]
        return dict(
            img_path=osp.join(root, video, f'{frame:05d}{self.frame_ext}'),
            gt_label=int(self._label[idx]),
            video_id=v,
            video=video,
            frame=frame,
            sample_idx=int(idx),
        )

    def get_gt_labels(self) -> np.ndarray:
        if not self._fully_initialized:
            self.full_init()
        return self._label.astype(np.int64)

    def get_cat_ids(self, idx: int) -> List[int]:
        return [int(self._label[idx])]

    def get_video_ids(self) -> np.ndarray:
        """Video index (into :attr:`video_names`) of every sample."""
        if not self._fully_initialized:
            self.full_init()
        return self._video.astype(np.int64)

    def get_subset(self, indices: Union[int, Sequence[int]]) -> 'AffWild2':
        sub = self.__class__.__new__(self.__class__)
        sub.__dict__.update(self.__dict__)
        idx = (
            np.arange(indices)
            if isinstance(indices, int)
            else np.asarray(indices, dtype=np.int64)
        )
        sub._video, sub._frame = self._video[idx], self._frame[idx]
        sub._label = self._label[idx]
        sub.fingerprint = None  # the parent's does not describe the subset
        return sub

    def extra_repr(self) -> List[str]:
        return [
            f'Root of dataset: \t{self.data_root}',
            f'Split: \t{self.split}',
            f'Videos: \t{len(self.video_names)}',
        ]
