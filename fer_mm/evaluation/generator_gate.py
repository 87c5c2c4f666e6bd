# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Does a generator keep the class it was asked for? An oracle's verdict.

A generative augmentation (VAE-GAN latents of class c decoded to images,
ECycleGAN's Neutral -> Disgust translation) only helps a classifier when the
images it writes still show their target class. The quality gate measures
that with an *oracle*: a classifier trained on real images (for the built-in
testbed, the synthetic set's own images) reads every generated image, and
the share of images of target class c that it reads as c is the generator's
*keep share* for c. The gate passes for c when that share reaches a stated
threshold; a 95 % Wilson interval says how sure the share is.
"""

import math
from typing import Dict, List, Optional, Sequence


def wilson_interval(kept: int, total: int, z: float = 1.96) -> tuple:
    """Wilson score interval of a binomial proportion ``kept / total``.

    Args:
        kept (int): Successes.
        total (int): Trials (> 0).
        z (float): Normal quantile; 1.96 for 95 %. Defaults to 1.96.

    Returns:
        tuple: ``(low, high)``, both in [0, 1].
    """
    if total <= 0:
        raise ValueError(f'total must be positive, got {total}')
    if not 0 <= kept <= total:
        raise ValueError(f'kept must be in [0, {total}], got {kept}')
    p = kept / total
    z2 = z * z
    denom = 1 + z2 / total
    centre = (p + z2 / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total))
    half /= denom
    return max(0.0, centre - half), min(1.0, centre + half)


def class_keep_shares(
    targets: Sequence[int], preds: Sequence[int], classes: Sequence[str]
) -> Dict[str, dict]:
    """Per target class: how many generated images the oracle reads as it.

    Args:
        targets (Sequence[int]): Target class index of every image.
        preds (Sequence[int]): The oracle's predicted index of every image.
        classes (Sequence[str]): Class names, by index.

    Returns:
        dict: For every target class present, ``{'total', 'kept', 'share',
        'ci95': [low, high], 'read_as': {class name: count}}`` (``read_as``
        lists every class the oracle gave, most frequent first).
    """
    if len(targets) != len(preds):
        raise ValueError(
            f'{len(targets)} targets but {len(preds)} predictions'
        )
    num = len(classes)
    for name, values in (('target', targets), ('prediction', preds)):
        bad = [int(v) for v in values if not 0 <= int(v) < num]
        if bad:
            raise ValueError(
                f'{name} index {bad[0]} outside the {num} classes {list(classes)}'
            )
    out = {}
    for c in sorted({int(t) for t in targets}):
        read = [int(p) for t, p in zip(targets, preds) if int(t) == c]
        kept = sum(p == c for p in read)
        counts = {}
        for p in read:
            counts[classes[p]] = counts.get(classes[p], 0) + 1
        low, high = wilson_interval(kept, len(read))
        out[classes[c]] = dict(
            total=len(read),
            kept=kept,
            share=kept / len(read),
            ci95=[low, high],
            read_as=dict(
                sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            ),
        )
    return out


def gate_verdict(
    shares: Dict[str, dict],
    threshold: float,
    classes: Optional[List[str]] = None,
    reference: Optional[Dict[str, float]] = None,
) -> dict:
    """Pass / fail of the gate: every checked class keeps at least its
    required share (the point estimate; the interval is reported beside it).

    The required share is ``threshold`` (an absolute gate) or, with a
    ``reference``, ``threshold * reference[c]`` (a relative gate): the
    reference is the oracle's keep share on *real* images of class c (its
    recall on a held-out real split), so a relative gate asks that generated
    images of c are recognised at least ``threshold`` times as often as real
    ones, which an oracle that is weak on a rare class can still judge.

    Args:
        shares (dict): The output of :func:`class_keep_shares`.
        threshold (float): Minimum keep share (absolute) or minimum ratio to
            the reference share (relative), in (0, 1].
        classes (list[str], optional): The classes to check; every class
            present when not given. A checked class with no generated image
            fails.
        reference (dict[str, float], optional): Keep share of real images per
            class name; must hold every checked class.

    Returns:
        dict: ``{'threshold', 'checked_classes', 'passed', 'failed_classes',
        'required': {class: share}, 'relative': bool}``.
    """
    if not 0 < threshold <= 1:
        raise ValueError(f'threshold must be in (0, 1], got {threshold}')
    checked = list(classes) if classes else list(shares)
    if reference is not None:
        missing = [c for c in checked if c not in reference]
        if missing:
            raise ValueError(
                f'the reference has no share for {missing} '
                f'(it holds {sorted(reference)})'
            )
        required = {c: threshold * float(reference[c]) for c in checked}
    else:
        required = {c: threshold for c in checked}
    failed = [
        c
        for c in checked
        if c not in shares or shares[c]['share'] < required[c]
    ]
    return dict(
        threshold=threshold,
        checked_classes=checked,
        passed=not failed,
        failed_classes=failed,
        required=required,
        relative=reference is not None,
    )
