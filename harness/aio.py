"""Running a coroutine to completion from synchronous code, also where an event loop is
already running (a Jupyter cell, an async test): there it runs on a fresh loop in a worker
thread, since `asyncio.run` refuses to nest."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    context = contextvars.copy_context()  # the caller's context vars hold in the thread too
    with ThreadPoolExecutor(1, thread_name_prefix="sdi-run-sync") as pool:
        return pool.submit(context.run, asyncio.run, coro).result()
