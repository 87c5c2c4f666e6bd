# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Run a child process in a test and, when it fails, say why.

``subprocess.run(..., check=True, capture_output=True)`` raises
``CalledProcessError``, whose message holds the command and the return code
but none of the captured output: a child that died in native code (a signal)
leaves nothing to read in the test report. :func:`run_checked` raises an
``AssertionError`` with the command, the return code or the signal's name,
and the last lines of the child's stderr and stdout; it also sets
``PYTHONFAULTHANDLER=1`` in the child, so that a Python child killed by
SIGSEGV, SIGABRT, SIGBUS, SIGFPE or SIGILL prints every thread's Python
stack to its stderr first.
"""

import os
import shlex
import signal
import subprocess
from typing import Optional

TAIL_LINES = 60


def describe_returncode(returncode: Optional[int]) -> str:
    """``'-6 (SIGABRT)'``, ``'134 (128 + SIGABRT: a shell ...)'``, ``'1'``."""
    if returncode is None:
        return 'none (the child did not finish)'
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f'signal {-returncode}'
        return f'{returncode} (killed by {name})'
    if returncode > 128:
        try:
            name = signal.Signals(returncode - 128).name
        except ValueError:
            return str(returncode)
        return f'{returncode} (128 + {name}: a shell reporting a signal?)'
    return str(returncode)


def _text(data) -> str:
    if data is None:
        return ''
    if isinstance(data, bytes):
        return data.decode('utf-8', errors='replace')
    return data


def tail(data, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` lines of ``data`` (str or bytes)."""
    kept = _text(data).splitlines()
    cut = len(kept) - lines
    head = [f'[... {cut} earlier lines]'] if cut > 0 else []
    return '\n'.join(head + kept[-lines:])


def failure_message(cmd, returncode, stdout, stderr, what='exited') -> str:
    """The report of a failed child: command, code or signal, output tails."""
    if not isinstance(cmd, str):
        cmd = shlex.join(str(c) for c in cmd)
    return (
        f'child {what}: {cmd}\n'
        f'return code: {describe_returncode(returncode)}\n'
        f'----- last {TAIL_LINES} lines of stderr -----\n{tail(stderr)}\n'
        f'----- last {TAIL_LINES} lines of stdout -----\n{tail(stdout)}'
    )


def child_env(env: Optional[dict] = None) -> dict:
    """A copy of ``env`` (default ``os.environ``) with
    ``PYTHONFAULTHANDLER=1``."""
    env = dict(os.environ if env is None else env)
    env['PYTHONFAULTHANDLER'] = '1'
    return env


def run_checked(cmd, *, env: Optional[dict] = None, **kwargs):
    """``subprocess.run(cmd, capture_output=True, **kwargs)`` that raises
    ``AssertionError`` (command, code / signal, output tails) when the child
    exits non-zero or runs past ``timeout``.

    Returns the ``CompletedProcess`` of a successful run. ``text`` defaults
    to True; ``check`` and ``capture_output`` are this function's business.
    """
    for key in ('check', 'capture_output', 'stdout', 'stderr'):
        if key in kwargs:
            raise TypeError(f'run_checked sets {key} itself')
    kwargs.setdefault('text', True)
    try:
        proc = subprocess.run(
            cmd, env=child_env(env), capture_output=True, **kwargs
        )
    except subprocess.TimeoutExpired as err:
        raise AssertionError(
            failure_message(
                cmd,
                None,
                err.stdout,
                err.stderr,
                what=f'ran past its timeout of {err.timeout} s',
            )
        ) from None
    if proc.returncode != 0:
        raise AssertionError(
            failure_message(cmd, proc.returncode, proc.stdout, proc.stderr)
        )
    return proc
