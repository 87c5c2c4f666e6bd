# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""atomic_write_bytes: a process killed mid-write leaves the old file."""

import os
import signal
import subprocess
import sys

from fer_mm.utils.atomic_io import atomic_write_bytes, is_temp_path

KILL_MID_WRITE = r"""
import importlib.util, os, signal, sys
spec = importlib.util.spec_from_file_location('atomic_io', sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
real = mod.write_fully
def half_then_die(fd, data):
    real(fd, data[: len(data) // 2])
    os.kill(os.getpid(), signal.SIGKILL)
mod.write_fully = half_then_die
mod.atomic_write_bytes(sys.argv[2], b'new' * 1000)
"""


def test_sigkill_during_write_keeps_previous_content(tmp_path):
    import fer_mm.utils.atomic_io as atomic_io

    dest = tmp_path / 'epoch_1.pth'
    atomic_write_bytes(dest, b'old content')
    proc = subprocess.run(
        [sys.executable, '-c', KILL_MID_WRITE, atomic_io.__file__, str(dest)]
    )
    assert proc.returncode == -signal.SIGKILL
    assert dest.read_bytes() == b'old content'
    leftovers = [p for p in os.listdir(tmp_path) if p != 'epoch_1.pth']
    # The half-written temporary file is hidden and recognisable.
    assert len(leftovers) == 1 and is_temp_path(leftovers[0])
    assert os.path.getsize(tmp_path / leftovers[0]) == 1500


def test_replaces_and_respects_umask(tmp_path):
    dest = tmp_path / 'sub' / 'out.json'
    old = os.umask(0o022)
    try:
        atomic_write_bytes(dest, b'1')
        atomic_write_bytes(dest, b'2')
        mode_022 = os.stat(dest).st_mode & 0o777
        os.umask(0o077)
        atomic_write_bytes(tmp_path / 'private.json', b'3')
    finally:
        os.umask(old)
    assert dest.read_bytes() == b'2'
    assert mode_022 == 0o644  # 0o666 & ~0o022, as open(..., 'w') gives
    assert os.stat(tmp_path / 'private.json').st_mode & 0o777 == 0o600
    assert sorted(os.listdir(tmp_path)) == ['private.json', 'sub']
