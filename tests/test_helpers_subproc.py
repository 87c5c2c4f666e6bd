# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""tests/helpers/subproc.py: a failed child is reported with its output."""

import os
import sys

import pytest

from tests.helpers.subproc import describe_returncode, run_checked, tail

ABORT = """
import os, sys
for i in range(100):
    print(f'out line {i}', flush=True)
    print(f'err line {i}', file=sys.stderr, flush=True)
os.abort()
"""


def test_abort_is_named_with_output_and_stack():
    # without the variable (tests/conftest.py also exports it): the helper
    # sets it
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONFAULTHANDLER'}
    with pytest.raises(AssertionError) as info:
        run_checked([sys.executable, '-c', ABORT], env=env)
    msg = str(info.value)
    assert '-c' in msg and 'os.abort()' in msg  # the command
    assert 'return code: -6 (killed by SIGABRT)' in msg
    # the last lines of both streams, the early ones cut
    assert 'err line 99' in msg and 'out line 99' in msg
    assert 'err line 50' in msg and 'out line 50' in msg
    assert 'err line 10\n' not in msg and 'out line 10\n' not in msg
    assert '[... ' in msg
    # PYTHONFAULTHANDLER=1 reached the child: its stack is in stderr
    assert 'Fatal Python error: Aborted' in msg
    assert 'File "<string>", line 6 in <module>' in msg


def test_exit_code_timeout_and_success():
    with pytest.raises(AssertionError, match=r'return code: 3\n'):
        run_checked([sys.executable, '-c', 'import sys; sys.exit(3)'])
    with pytest.raises(AssertionError, match='ran past its timeout of 0.5'):
        run_checked(
            [sys.executable, '-c', 'import time; time.sleep(30)'], timeout=0.5
        )
    env = {'PYTHONFAULTHANDLER': '0', 'KEEP': 'x'}
    code = "import os; print(os.environ['PYTHONFAULTHANDLER'], os.environ['KEEP'])"
    proc = run_checked([sys.executable, '-c', code], env=env)
    assert proc.stdout.split() == ['1', 'x']
    assert env['PYTHONFAULTHANDLER'] == '0'  # the caller's dict is not changed
    with pytest.raises(TypeError, match='sets check itself'):
        run_checked(['true'], check=True)


def test_describe_returncode_and_tail():
    assert describe_returncode(-11) == '-11 (killed by SIGSEGV)'
    assert describe_returncode(134).startswith('134 (128 + SIGABRT')
    assert describe_returncode(1) == '1'
    assert tail(b'a\nb\nc', lines=2) == '[... 1 earlier lines]\nb\nc'
