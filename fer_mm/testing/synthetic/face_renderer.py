# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Procedural face renderer behind the built-in synthetic FER set.

A face is described by an *identity* (skin, face shape, eye spacing, hair ...)
and an *expression* vector (brow height and angle, eye openness, mouth opening,
curvature and width, nose wrinkle, upper-lip raise). The renderer first places
the 68 iBUG landmarks from these parameters and then draws every facial part
through its landmarks, so the landmarks it returns are exactly where the parts
were drawn (also after the random roll / shift / scale of the head).

Everything random is drawn from one ``numpy.random.Generator`` that the caller
seeds per sample, which makes a sample a pure function of ``(seed, index)``.
"""

from typing import Dict, Optional, Tuple

import cv2
import numpy as np

from ...datasets.categories import RAFDB_CATEGORIES

#: Names of the expression parameters, in the order of :data:`PROTOTYPES` rows.
EXPRESSION_PARAMS = (
    'brow_raise',
    'brow_inner',
    'eye_open',
    'mouth_open',
    'mouth_curve',
    'mouth_width',
    'nose_wrinkle',
    'lip_raise',
)

#: Expression prototypes at full intensity, keyed by RAF-DB class name. Weak
#: expressions interpolate towards Neutral; Fear/Surprise and Disgust/Anger
#: share most of their cues, as they do in real data.
PROTOTYPES: Dict[str, Tuple[float, ...]] = {
    #            raise  inner  eye   open  curve width wrinkle lip
    'Surprise': (1.00, 0.10, 1.50, 1.00, 0.00, 0.75, 0.00, 0.00),
    'Fear': (0.70, 0.70, 1.40, 0.55, -0.30, 1.15, 0.00, 0.00),
    'Disgust': (-0.40, -0.40, 0.65, 0.20, -0.50, 0.95, 1.00, 1.00),
    'Happiness': (0.10, 0.00, 0.75, 0.35, 1.00, 1.30, 0.10, 0.00),
    'Sadness': (0.15, 0.90, 0.80, 0.00, -0.80, 0.90, 0.00, 0.00),
    'Anger': (-0.80, -1.00, 0.85, 0.10, -0.35, 0.85, 0.40, 0.30),
    'Neutral': (0.00, 0.00, 1.00, 0.00, 0.00, 1.00, 0.00, 0.00),
}
#: Per-parameter standard deviation of the sample-level jitter.
PARAM_JITTER = np.array([0.18, 0.20, 0.12, 0.10, 0.18, 0.06, 0.12, 0.12])

IMG_SIZE = 100


#: Default probability of an occluder (hand, glasses, microphone ...).
OCCLUSION_RATE = 0.12


def expression_vector(
    label: int, intensity: float, rng: np.random.Generator
) -> np.ndarray:
    """Expression parameters of one sample of RAF-DB class ``label``."""
    neutral = np.asarray(PROTOTYPES['Neutral'])
    proto = np.asarray(PROTOTYPES[RAFDB_CATEGORIES[label]])
    vec = neutral + intensity * (proto - neutral)
    return vec + rng.normal(0.0, 1.0, size=vec.shape) * PARAM_JITTER


def _identity(rng: np.random.Generator) -> Dict:
    skin_base = rng.uniform(0, 1)
    skin = np.array(
        [60 + 150 * skin_base, 90 + 130 * skin_base, 120 + 120 * skin_base]
    ) * rng.uniform(0.9, 1.05, 3)
    hair = rng.choice(
        [
            (20, 20, 25),
            (30, 45, 70),
            (40, 80, 130),
            (90, 140, 190),
            (160, 160, 170),
            (25, 35, 110),
        ]
    )
    return dict(
        skin=np.clip(skin, 0, 255),
        hair=np.array(hair, float) * rng.uniform(0.8, 1.2),
        hair_style=int(rng.integers(0, 4)),
        lip=np.clip(skin * np.array([0.55, 0.55, 0.95]), 0, 255),
        iris=np.array(
            rng.choice(
                [(30, 40, 60), (90, 60, 30), (60, 110, 60), (140, 100, 40)]
            ),
            float,
        ),
        cx=50.0,
        cy=54.0 + rng.normal(0, 1),
        face_a=rng.uniform(29, 36),
        face_b=rng.uniform(37, 44),
        eye_dx=rng.uniform(12.5, 16.5),
        eye_dy=rng.uniform(-12, -8),
        eye_w=rng.uniform(4.8, 6.6),
        eye_h=rng.uniform(2.2, 3.2),
        brow_gap=rng.uniform(4.5, 7.0),
        brow_tilt=rng.normal(0, 0.6),
        nose_len=rng.uniform(13, 17),
        mouth_dy=rng.uniform(18, 23),
        mouth_w=rng.uniform(8.5, 11.5),
        lip_t=rng.uniform(1.6, 2.6),
    )


def face_landmarks(idt: Dict, expr: np.ndarray) -> np.ndarray:
    """The 68 iBUG landmarks (x, y) of an upright face in the 100x100 frame."""
    raise_, inner, eye_open, mopen, curve, width, _, lip_raise = expr
    cx, cy, a, b = idt['cx'], idt['cy'], idt['face_a'], idt['face_b']
    pts = np.zeros((68, 2))
    # Jaw 0..16: image-left ear level, down to the chin (8), up to the right.
    t = np.linspace(-0.12, np.pi + 0.12, 17)
    pts[0:17, 0] = cx - a * np.cos(t)
    pts[0:17, 1] = cy + b * np.sin(t)
    ey = cy + idt['eye_dy']
    ew, eh = idt['eye_w'], idt['eye_h'] * max(eye_open, 0.05)
    # Eyebrows 17..21 (left, outer -> inner), 22..26 (right, inner -> outer).
    base = ey - eh - idt['brow_gap'] - 4.0 * raise_
    for side, sl in ((-1, slice(17, 22)), (1, slice(22, 27))):
        u = (
            np.linspace(1.35, 0.25, 5)
            if side < 0
            else np.linspace(0.25, 1.35, 5)
        )
        x = cx + side * (idt['eye_dx'] + ew * (u - 0.8) * 1.1)
        arch = -1.6 * np.sin(np.pi * (u - 0.25) / 1.1)
        inner_lift = -3.5 * inner * (1.35 - u) / 1.1
        y = base + arch + inner_lift + idt['brow_tilt'] * (u - 0.8)
        pts[sl, 0], pts[sl, 1] = x, y
    # Nose: bridge 27..30, base 31..35.
    pts[27:31, 0] = cx
    pts[27:31, 1] = ey + np.linspace(-1.0, idt['nose_len'] - 2.0, 4)
    nb = ey + idt['nose_len']
    pts[31:36, 0] = cx + np.linspace(-4.5, 4.5, 5)
    pts[31:36, 1] = nb + np.array([0.0, 0.8, 1.2, 0.8, 0.0])
    # Eyes 36..41 (left) and 42..47 (right): corner, 2 upper, corner, 2 lower.
    for side, s0 in ((-1, 36), (1, 42)):
        ex = cx + side * idt['eye_dx']
        outer, inner_x = ex + side * ew, ex - side * ew
        xs_up = ex + side * np.array([0.4, -0.4]) * ew
        if side < 0:
            seq = [
                (outer, ey),
                (xs_up[0], ey - eh),
                (xs_up[1], ey - eh),
                (inner_x, ey),
                (xs_up[1], ey + 0.8 * eh),
                (xs_up[0], ey + 0.8 * eh),
            ]
        else:
            seq = [
                (inner_x, ey),
                (xs_up[1], ey - eh),
                (xs_up[0], ey - eh),
                (outer, ey),
                (xs_up[0], ey + 0.8 * eh),
                (xs_up[1], ey + 0.8 * eh),
            ]
        pts[s0 : s0 + 6] = np.asarray(seq)
    # Mouth: outer 48..59, inner 60..67.
    my = cy + idt['mouth_dy']
    mw = idt['mouth_w'] * width
    corner_y = my - 5.0 * curve
    gap = 9.0 * max(mopen, 0.0)
    lt = idt['lip_t']
    top_c = my - lt - 0.5 * gap - 3.0 * lip_raise
    bot_c = my + lt + 0.5 * gap
    ux = np.array([-1.0, -0.6, -0.22, 0.0, 0.22, 0.6, 1.0])
    upper_y = (
        corner_y
        + (top_c - corner_y) * (1 - ux**4)
        - 0.8 * (np.abs(ux) < 0.4) * (0.4 - np.abs(ux))
    )
    lower_y = corner_y + (bot_c - corner_y) * (1 - ux**2)
    pts[48:55, 0] = cx + mw * ux
    pts[48:55, 1] = upper_y
    pts[55:60, 0] = cx + mw * ux[5:0:-1]
    pts[55:60, 1] = lower_y[5:0:-1]
    ix = np.array([-0.85, -0.35, 0.0, 0.35, 0.85])
    in_top = corner_y + (top_c + lt - corner_y) * (1 - ix**2)
    in_bot = corner_y + (bot_c - lt - corner_y) * (1 - ix**2)
    in_bot = np.maximum(in_bot, in_top)
    pts[60, :] = (cx - 0.85 * mw, corner_y)
    pts[61:64, 0] = cx + mw * ix[1:4]
    pts[61:64, 1] = in_top[1:4]
    pts[64, :] = (cx + 0.85 * mw, corner_y)
    pts[65:68, 0] = cx + mw * ix[3:0:-1]
    pts[65:68, 1] = in_bot[3:0:-1]
    return pts


_SHIFT = 4
_SCALE = 1 << _SHIFT


def _p(points: np.ndarray) -> np.ndarray:
    """Fixed-point int32 coordinates for cv2's sub-pixel drawing."""
    return np.round(np.asarray(points) * _SCALE).astype(np.int32)


def _background(rng: np.random.Generator) -> np.ndarray:
    c0, c1 = rng.uniform(20, 235, 3), rng.uniform(20, 235, 3)
    ramp = np.linspace(0, 1, IMG_SIZE)[:, None, None]
    if rng.random() < 0.5:
        ramp = ramp.transpose(1, 0, 2)
    img = (c0 * (1 - ramp) + c1 * ramp) * np.ones((IMG_SIZE, IMG_SIZE, 1))
    img = np.ascontiguousarray(img.astype(np.uint8))
    for _ in range(int(rng.integers(3, 9))):
        color = tuple(float(v) for v in rng.uniform(0, 255, 3))
        p = rng.uniform(-10, 110, 4)
        kind = rng.integers(0, 3)
        if kind == 0:
            cv2.rectangle(
                img, _p(p[:2]), _p(p[2:]), color, -1, cv2.LINE_AA, _SHIFT
            )
        elif kind == 1:
            cv2.circle(
                img,
                _p(p[:2]),
                int(rng.uniform(4, 25) * _SCALE),
                color,
                -1,
                cv2.LINE_AA,
                _SHIFT,
            )
        else:
            cv2.line(
                img,
                _p(p[:2]),
                _p(p[2:]),
                color,
                int(rng.integers(1, 5)),
                cv2.LINE_AA,
                _SHIFT,
            )
    return img


def _draw_face(
    img: np.ndarray,
    idt: Dict,
    expr: np.ndarray,
    pts: np.ndarray,
    rng: np.random.Generator,
) -> None:
    cx, cy, a, b = idt['cx'], idt['cy'], idt['face_a'], idt['face_b']
    skin = tuple(float(v) for v in idt['skin'])
    hair = tuple(float(v) for v in np.clip(idt['hair'], 0, 255))
    dark = tuple(float(v) for v in idt['skin'] * 0.6)
    # Hair behind the head, neck and ears.
    if idt['hair_style'] > 0:
        cv2.ellipse(
            img,
            _p((cx, cy - 8)),
            _p((a + 5, b + 4)),
            0,
            180,
            360,
            hair,
            -1,
            cv2.LINE_AA,
            _SHIFT,
        )
        if idt['hair_style'] == 3:
            cv2.rectangle(
                img,
                _p((cx - a - 5, cy - 8)),
                _p((cx + a + 5, cy + 30)),
                hair,
                -1,
                cv2.LINE_AA,
                _SHIFT,
            )
    cv2.rectangle(
        img,
        _p((cx - 0.45 * a, cy + 0.6 * b)),
        _p((cx + 0.45 * a, 110)),
        dark,
        -1,
        cv2.LINE_AA,
        _SHIFT,
    )
    for side in (-1, 1):
        cv2.ellipse(
            img,
            _p((cx + side * a, cy - 2)),
            _p((4, 7)),
            0,
            0,
            360,
            skin,
            -1,
            cv2.LINE_AA,
            _SHIFT,
        )
    cv2.ellipse(
        img, _p((cx, cy)), _p((a, b)), 0, 0, 360, skin, -1, cv2.LINE_AA, _SHIFT
    )
    if idt['hair_style'] in (1, 3):
        cv2.ellipse(
            img,
            _p((cx, cy - b + 6)),
            _p((a * 0.95, 10)),
            0,
            180,
            360,
            hair,
            -1,
            cv2.LINE_AA,
            _SHIFT,
        )
    # Eyebrows.
    brow = tuple(float(v) for v in np.clip(idt['hair'] * 0.7, 0, 255))
    for sl in (slice(17, 22), slice(22, 27)):
        cv2.polylines(img, [_p(pts[sl])], False, brow, 2, cv2.LINE_AA, _SHIFT)
    # Eyes: sclera, iris, lid line.
    for s0 in (36, 42):
        eye = pts[s0 : s0 + 6]
        cv2.fillPoly(img, [_p(eye)], (235, 240, 240), cv2.LINE_AA, _SHIFT)
        centre = eye.mean(0)
        r = min(2.6, 0.9 * (eye[4:6, 1].mean() - eye[1:3, 1].mean()) + 0.4)
        cv2.circle(
            img,
            _p(centre),
            max(int(r * _SCALE), 1),
            tuple(float(v) for v in idt['iris']),
            -1,
            cv2.LINE_AA,
            _SHIFT,
        )
        cv2.polylines(img, [_p(eye)], True, dark, 1, cv2.LINE_AA, _SHIFT)
    # Nose, with wrinkles between the eyes for Disgust / Anger.
    cv2.polylines(img, [_p(pts[27:31])], False, dark, 1, cv2.LINE_AA, _SHIFT)
    cv2.polylines(img, [_p(pts[31:36])], False, dark, 1, cv2.LINE_AA, _SHIFT)
    wrinkle = float(expr[6])
    if wrinkle > 0.25:
        n_lines = 1 + int(wrinkle > 0.6) + int(wrinkle > 0.9)
        y0 = pts[27, 1] + 2
        for k in range(n_lines):
            y = y0 + 2.2 * k
            cv2.ellipse(
                img,
                _p((cx, y + 2)),
                _p((3.5, 1.5)),
                0,
                200,
                340,
                dark,
                1,
                cv2.LINE_AA,
                _SHIFT,
            )
    # Mouth: lips, then the opening (and teeth when smiling wide).
    lip = tuple(float(v) for v in idt['lip'])
    cv2.fillPoly(img, [_p(pts[48:60])], lip, cv2.LINE_AA, _SHIFT)
    inner = pts[60:68]
    if inner[5:8, 1].mean() - inner[1:4, 1].mean() > 0.8:
        cv2.fillPoly(img, [_p(inner)], (25, 20, 40), cv2.LINE_AA, _SHIFT)
        if expr[4] > 0.4:
            teeth = inner.copy()
            teeth[5:8, 1] = np.minimum(teeth[5:8, 1], teeth[1:4, 1][::-1] + 2)
            cv2.fillPoly(
                img, [_p(teeth)], (230, 235, 235), cv2.LINE_AA, _SHIFT
            )
    else:
        cv2.polylines(img, [_p(inner)], True, dark, 1, cv2.LINE_AA, _SHIFT)


def render_face(
    label: int,
    rng: np.random.Generator,
    intensity_range: Tuple[float, float] = (0.25, 1.0),
    occlusion: float = OCCLUSION_RATE,
    occlusion_size: float = 1.0,
    pose_strength: float = 1.0,
) -> Tuple[np.ndarray, np.ndarray]:
    """Render one 100x100 BGR face of RAF-DB class ``label``.

    Args:
        label (int): Class index in RAF-DB order (0..6).
        rng (numpy.random.Generator): The sample's random generator.
        intensity_range (tuple[float, float]): Range of the uniformly drawn
            expression intensity; 0 is a neutral face. Defaults to
            (0.25, 1.0).
        occlusion (float): Probability of an occluder. Defaults to 0.12.
        occlusion_size (float): Scale of the occluder's radii (6-16 px).
            Defaults to 1.0.
        pose_strength (float): Scale of the random pose ranges (roll
            +-25 deg, scale +-15 %, shift +-6 px). Defaults to 1.0.

    The knobs scale the ranges of the same random draws, so their defaults
    give the same images as before they existed.

    Returns:
        tuple[np.ndarray, np.ndarray]: The uint8 image (100x100x3, BGR) and
        its 68 landmarks (68x2 float32, x then y, iBUG-68 order).
    """
    idt = _identity(rng)
    expr = expression_vector(label, rng.uniform(*intensity_range), rng)
    return render_frame(
        idt,
        expr,
        _background(rng),
        rng,
        occlusion=occlusion,
        occlusion_size=occlusion_size,
        pose_strength=pose_strength,
    )


def random_identity(rng: np.random.Generator) -> Dict:
    """A random identity (skin, face shape, feature placement, hair)."""
    return _identity(rng)


def random_background(rng: np.random.Generator) -> np.ndarray:
    """A random cluttered 100x100 background."""
    return _background(rng)


def _draw_occluder(
    img: np.ndarray, rng: np.random.Generator, size: float = 1.0
) -> None:
    """A solid ellipse (hand, glasses, microphone ...) of random colour,
    place and radii ``size * U(6, 16)`` px, drawn into ``img``."""
    color = tuple(float(v) for v in rng.uniform(0, 255, 3))
    c = rng.uniform(20, 80, 2)
    cv2.ellipse(
        img,
        _p(c),
        _p(rng.uniform(6 * size, 16 * size, 2)),
        float(rng.uniform(0, 180)),
        0,
        360,
        color,
        -1,
        cv2.LINE_AA,
        _SHIFT,
    )


def render_frame(
    idt: Dict,
    expr: np.ndarray,
    background: np.ndarray,
    rng: np.random.Generator,
    pose: Optional[Tuple[float, float, float, float]] = None,
    light: Optional[Tuple[float, float, float]] = None,
    occluder: bool = True,
    occlusion: float = OCCLUSION_RATE,
    occlusion_size: float = 1.0,
    pose_strength: float = 1.0,
) -> Tuple[np.ndarray, np.ndarray]:
    """Draw a face with given identity and expression on a background.

    Args:
        idt (dict): Identity from :func:`random_identity`.
        expr (np.ndarray): Expression vector (:data:`EXPRESSION_PARAMS`).
        background (np.ndarray): 100x100x3 uint8 background (not modified).
        rng (numpy.random.Generator): Draws whatever is not given.
        pose (tuple, optional): (roll degrees, scale, dx, dy). Defaults to
            a random pose.
        light (tuple, optional): (direction radians, strength, gain).
            Defaults to random lighting.
        occluder (bool): Allow a random occluder. Defaults to True.
        occlusion (float): Probability of the occluder. Defaults to 0.12.
        occlusion_size (float): Scale of its radii. Defaults to 1.0.
        pose_strength (float): Scale of the random pose's ranges (when
            ``pose`` is not given). Defaults to 1.0.

    Returns:
        tuple[np.ndarray, np.ndarray]: Image and 68 landmarks, as
        :func:`render_face`.
    """
    pts = face_landmarks(idt, expr)
    img = background.copy()
    _draw_face(img, idt, expr, pts, rng)

    # Occluder (hand, glasses, microphone ...) on some faces.
    if occluder and rng.random() < occlusion:
        _draw_occluder(img, rng, occlusion_size)

    # Head pose: roll, scale and shift about the face centre.
    if pose is None:
        k = pose_strength
        angle = rng.uniform(-25 * k, 25 * k)
        # (the literals at k = 1: 1 - 0.15 is not the float 0.85)
        lo, hi = (0.85, 1.15) if k == 1 else (1 - 0.15 * k, 1 + 0.15 * k)
        scale = rng.uniform(lo, hi)
        shift = rng.uniform(-6 * k, 6 * k, 2)
    else:
        angle, scale, shift = pose[0], pose[1], np.asarray(pose[2:4])
    mat = cv2.getRotationMatrix2D((idt['cx'], idt['cy']), angle, scale)
    mat[:, 2] += shift
    img = cv2.warpAffine(
        img,
        mat,
        (IMG_SIZE, IMG_SIZE),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT_101,
    )
    pts = pts @ mat[:, :2].T + mat[:, 2]

    # Lighting: a directional gain field and global contrast.
    gy, gx = np.mgrid[0:IMG_SIZE, 0:IMG_SIZE] / IMG_SIZE - 0.5
    if light is None:
        theta = rng.uniform(0, 2 * np.pi)
        strength = rng.uniform(0, 0.6)
        gain_factor = None
    else:
        theta, strength, gain_factor = light
    gain = 1.0 + strength * (np.cos(theta) * gx + np.sin(theta) * gy)
    gain = gain * (
        rng.uniform(0.75, 1.2) if gain_factor is None else gain_factor
    )
    out = img.astype(np.float32) * gain[..., None].astype(np.float32)
    out += rng.normal(0, rng.uniform(0, 6), out.shape).astype(np.float32)
    sigma = rng.uniform(0, 1.1)
    if sigma > 0.3:
        out = cv2.GaussianBlur(out, (0, 0), sigma)
    return np.clip(out, 0, 255).astype(np.uint8), pts.astype(np.float32)
