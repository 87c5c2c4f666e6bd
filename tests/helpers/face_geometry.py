# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""The synthetic generator's average face geometry: its 5 points are the
RAF-DB template's (tests/test_apis/test_alignment.py checks that)."""

MEAN_GEOMETRY = dict(
    cx=50.0,
    cy=54.0,
    face_a=32.5,
    face_b=40.5,
    eye_dx=14.5,
    eye_dy=-10.0,
    eye_w=5.7,
    eye_h=2.7,
    brow_gap=5.75,
    brow_tilt=0.0,
    nose_len=15.0,
    mouth_dy=20.5,
    mouth_w=10.0,
    lip_t=2.1,
)
