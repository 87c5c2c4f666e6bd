# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Data generation for tests, demos and benchmarks.

:mod:`fer_mm.testing.synthetic` renders the built-in synthetic expression set
(cartoon faces with known expression, landmarks and identity) in the on-disk
layouts of RAF-DB, Aff-Wild2, ABAW4-LSD and FER2013, so that every dataset
class, config and tool runs end to end without downloading anything.
"""
