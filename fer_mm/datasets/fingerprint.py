# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
""" "Is this the official copy?": a dataset's fingerprint and the published one.

Results on RAF-DB, AffectNet or FER2013 are only comparable on the same
copy: aligned or original images, the official split or a re-split, the same
face crop. Each fer_mm dataset knows the published split sizes and per-class
counts (``official_spec()``); on build it measures its own tree
(:func:`dataset_fingerprint`: sample and class counts, image size of a few
images, a digest of the sorted ``(file, label)`` list) and logs one line
saying whether the two agree and, if not, how (:func:`describe`). The
fingerprint is kept as ``dataset.fingerprint``; the
:class:`~fer_mm.engine.hooks.DatasetFingerprintHook` writes those of a run's
datasets into its work directory, next to the dumped config.
"""

import hashlib
import os.path as osp
from collections import Counter
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np

#: Images whose size is read (header only) to tell the image size.
NUM_SIZE_PROBES = 16


def official(
    name: str,
    classes: Sequence[str],
    counts: Optional[Sequence[int]] = None,
    num_samples: Optional[int] = None,
    image_size: Optional[Tuple[int, int]] = None,
    source: str = '',
) -> dict:
    """A published reference: per-class counts in ``classes`` order.

    Args:
        name (str): What it is, e.g. ``'RAF-DB basic train (aligned)'``.
        classes (Sequence[str]): Class names of ``counts``.
        counts (Sequence[int], optional): Published per-class counts.
        num_samples (int, optional): Published size; defaults to the sum of
            ``counts``.
        image_size (tuple[int, int], optional): ``(width, height)`` of every
            image, where the release has one size.
        source (str): Where the numbers come from.
    """
    if counts is not None:
        assert len(counts) == len(classes), (name, counts, classes)
        num_samples = int(sum(counts)) if num_samples is None else num_samples
    return dict(
        name=name,
        num_samples=num_samples,
        class_counts=None
        if counts is None
        else {c: int(n) for c, n in zip(classes, counts)},
        image_size=list(image_size) if image_size else None,
        source=source,
    )


def _image_size(dataset, indices: Iterable[int]) -> Optional[str]:
    """``'WxH'`` of the probed images, or their mix, or None if unknown."""
    images = getattr(dataset, 'images', None)
    if isinstance(images, np.ndarray) and images.ndim == 3:
        return f'{images.shape[2]}x{images.shape[1]}' if len(images) else None
    from PIL import Image

    sizes = Counter()
    for idx in indices:
        path = dataset.get_data_info(int(idx)).get('img_path')
        try:
            with Image.open(path) as img:
                sizes[f'{img.width}x{img.height}'] += 1
        except (OSError, TypeError, ValueError):
            sizes['unreadable'] += 1
    if not sizes:
        return None
    if len(sizes) == 1:
        return next(iter(sizes))
    mix = ', '.join(f'{s}: {n}' for s, n in sizes.most_common())
    return f'mixed ({mix})'


def _digest(dataset, labels: np.ndarray) -> str:
    """SHA-1 (12 hex digits) of the sorted ``(path, label)`` list.

    Paths are taken relative to ``data_root``, so the same copy in another
    folder has the same digest.
    """
    items = getattr(dataset, 'fingerprint_items', None)
    if items is not None:
        lines = items()
    else:
        root = getattr(dataset, 'data_root', '') or ''
        # In-memory datasets: the annotation without building the image.
        info_of = getattr(dataset, '_get_ann_info', dataset.get_data_info)
        lines = []
        for i in range(len(labels)):
            path = str(info_of(i).get('img_path', i))
            if root and path.startswith(root):
                path = osp.relpath(path, root)
            lines.append(f'{path}\t{int(labels[i])}')
        lines.sort()
    sha = hashlib.sha1()
    for line in lines:
        sha.update(line.encode('utf-8') + b'\n')
    return sha.hexdigest()[:12]


def dataset_fingerprint(dataset, spec: Optional[dict] = None) -> dict:
    """Measure a built dataset and compare it with ``spec``.

    Args:
        dataset: A fully initialised dataset with ``get_gt_labels()`` and
            ``metainfo['classes']``.
        spec (dict, optional): The published reference (:func:`official`).

    Returns:
        dict: ``dataset``, ``num_samples``, ``classes``, ``class_counts``,
        ``image_size``, ``digest``, ``official`` (``spec`` or None),
        ``matches`` (bool, or None without a reference) and ``differences``
        (list of str).
    """
    labels = np.asarray(dataset.get_gt_labels(), dtype=np.int64)
    classes = list(dataset.metainfo.get('classes') or [])
    counts = np.bincount(labels[labels >= 0], minlength=len(classes))
    n = len(labels)
    probes = np.unique(
        np.linspace(0, n - 1, min(NUM_SIZE_PROBES, n)).astype(np.int64)
    )
    fp = dict(
        dataset=type(dataset).__name__,
        num_samples=int(n),
        classes=classes,
        class_counts={c: int(k) for c, k in zip(classes, counts)},
        image_size=_image_size(dataset, probes) if n else None,
        digest=_digest(dataset, labels),
        official=spec,
    )
    fp['differences'] = compare(fp, spec) if spec else []
    fp['matches'] = None if spec is None else not fp['differences']
    return fp


def compare(fp: dict, spec: dict) -> List[str]:
    """How a fingerprint differs from a published reference (empty: same)."""
    out = []
    if spec.get('num_samples') is not None:
        if fp['num_samples'] != spec['num_samples']:
            out.append(
                f'{fp["num_samples"]} samples (official {spec["num_samples"]})'
            )
    ref = spec.get('class_counts')
    if ref is not None:
        if list(ref) != fp['classes']:
            out.append(f'classes {fp["classes"]} (official {list(ref)})')
        else:
            bad = [
                f'{c} {fp["class_counts"][c]}/{k}'
                for c, k in ref.items()
                if fp['class_counts'][c] != k
            ]
            if bad:
                out.append(
                    'class counts (here/official) '
                    + ', '.join(bad[:8])
                    + (f' and {len(bad) - 8} more' if len(bad) > 8 else '')
                )
    size = spec.get('image_size')
    if size is not None and fp['image_size'] is not None:
        want = f'{size[0]}x{size[1]}'
        if fp['image_size'] != want:
            out.append(f'image size {fp["image_size"]} (official {want})')
    return out


def describe(fp: dict, what: str) -> Tuple[str, bool]:
    """The one log line of a fingerprint, and whether it is a warning."""
    summary = (
        f'{fp["num_samples"]} samples, {len(fp["classes"])} classes'
        + (f', {fp["image_size"]}' if fp['image_size'] else '')
        + f', digest {fp["digest"]}'
    )
    spec = fp['official']
    if spec is None:
        reason = fp.get('no_official') or 'no published counts to compare'
        return f'{what}: {summary}; {reason}', False
    if fp['matches']:
        return (
            f'{what}: matches the official {spec["name"]} ({summary})',
            False,
        )
    return (
        f'{what}: does NOT match the official {spec["name"]}: '
        + '; '.join(fp['differences'])
        + f' ({summary}). Results are not comparable with those reported '
        'on the official copy.',
        True,
    )
