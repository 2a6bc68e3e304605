"""One writer per run: an exclusive `filelock` on the run folder, with who holds it beside it.

The lock is an OS lock (flock) on `run.lock`, so it dies with its process, kill -9 included:
a run whose manifest says `running` but whose lock anyone can take is `interrupted`. The
holder's pid, host and command go in `run.lock.json` (filelock truncates the lock file itself
whenever another process tries it, so it cannot carry them).
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from harness.errors import InputError

LOCK_FILE = "run.lock"
HOLDER_FILE = "run.lock.json"


def _holder(run_dir: Path) -> str:
    try:
        info = json.loads((run_dir / HOLDER_FILE).read_text(encoding="utf-8"))
        return f"pid {info['pid']} on {info['host']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


@contextmanager
def run_writer(run_dir: Path, action: str = "write to") -> Iterator[None]:
    """Hold the run's lock while writing to it; refuse at once (InputError) if it is held."""
    lock = FileLock(run_dir / LOCK_FILE, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise InputError(
            run_dir,
            None,
            f"cannot {action} this run: {_holder(run_dir)} is writing to it (one writer per run)",
        ) from None
    except OSError as err:
        raise InputError(run_dir, None, f"cannot lock the run folder ({err.strerror})") from None
    try:
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "argv": sys.argv[:4]}
        (run_dir / HOLDER_FILE).write_text(json.dumps(holder), encoding="utf-8")
        yield
    finally:
        lock.release()


def is_held(run_dir: Path) -> bool:
    """Whether a live process holds the run's lock (tried without waiting, then released)."""
    if not (run_dir / LOCK_FILE).exists():
        return False
    lock = FileLock(run_dir / LOCK_FILE, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        return True
    except OSError:
        return False
    lock.release()
    return False


def live_status(status: str, run_dir: Path) -> str:
    """The manifest's status, except that a `running` run nobody holds was interrupted."""
    if status == "running" and not is_held(run_dir):
        return "interrupted"
    return status
