# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""End a distributed worker when the process that launched it dies.

torchrun's agent starts one process per rank and, when a rank fails, stops
the others. If the agent itself is killed (``kill -9``, an out-of-memory
kill, a closed terminal), nothing stops the ranks: they go on training as
orphans, or wait forever in a collective. :func:`exit_with_parent` starts a
daemon thread that checks once a second whether the process's parent is
still the one that started it (an orphan is re-parented to init or a
sub-reaper) and, if not, sends the process ``SIGTERM`` (then ``SIGKILL`` if
it is still alive a few seconds later).

A polling thread rather than Linux's ``PR_SET_PDEATHSIG``: that signal
follows the death of the parent *thread* that forked the process, which is
not the same as the agent's death, and it does not exist on macOS.
"""

import os
import signal
import threading
import time
from typing import Optional

_started: Optional[threading.Thread] = None


def _watch(parent: int, interval: float, grace: float) -> None:
    while os.getppid() == parent:
        time.sleep(interval)
    me = os.getpid()
    try:
        import sys

        sys.stderr.write(
            f'fer_mm: the launcher (pid {parent}) is gone; rank process '
            f'{me} exits\n'
        )
        sys.stderr.flush()
    finally:
        os.kill(me, signal.SIGTERM)
        time.sleep(grace)
        os.kill(me, signal.SIGKILL)


def exit_with_parent(interval: float = 1.0, grace: float = 5.0) -> bool:
    """Exit this process when its current parent process dies.

    Idempotent: one watchdog thread per process.

    Args:
        interval (float): Seconds between checks. Defaults to 1.
        grace (float): Seconds between ``SIGTERM`` and ``SIGKILL``.
            Defaults to 5.

    Returns:
        bool: True if the watchdog was started by this call.
    """
    global _started
    if _started is not None and _started.is_alive():
        return False
    parent = os.getppid()
    if parent == 1:  # already an orphan (or started by init): nothing to watch
        return False
    _started = threading.Thread(
        target=_watch,
        args=(parent, interval, grace),
        name='fer_mm-parent-watchdog',
        daemon=True,
    )
    _started.start()
    return True
