"""Children of `sentd serve --workers N` die with their parent.

uvicorn's supervisor (the parent) starts N server processes that share its listening socket. If
the parent is killed with SIGKILL it cannot stop them, and they would go on serving the port, so
the next `sentd serve` on that port fails with "address already in use". Each child therefore

* asks Linux to send it SIGTERM when its parent dies (`prctl(PR_SET_PDEATHSIG)`), and
* watches its parent's pid from a daemon thread (every `WATCH_INTERVAL_S`) — the fallback on
  other systems, and for a parent that died before the `prctl` call.

SIGTERM starts uvicorn's graceful shutdown (the worker loops release their unstarted claims). If
the process is still alive `HARD_EXIT_AFTER_S` later, it exits without further ado.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import threading
import time

log = logging.getLogger("sentd.lifeline")
PR_SET_PDEATHSIG = 1
WATCH_INTERVAL_S = 1.0
HARD_EXIT_AFTER_S = 30.0
PARENT_PID_ENV = "SENTD_PARENT_PID"


def die_with_parent(parent_pid: int) -> None:
    """Make this process stop when `parent_pid` (its parent) is gone."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    threading.Thread(target=_watch, args=(parent_pid,), name="sentd-lifeline", daemon=True).start()


def die_with_parent_from_env() -> None:
    """`die_with_parent` for the pid the parent left in `SENTD_PARENT_PID` (if any)."""
    value = os.environ.get(PARENT_PID_ENV)
    if value and value.isdigit():
        die_with_parent(int(value))


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(WATCH_INTERVAL_S)
    log.warning("the parent process %d is gone: stopping", parent_pid)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(HARD_EXIT_AFTER_S)
    os._exit(1)
