"""Running a coroutine to completion from synchronous code, also where an event loop is
already running (a Jupyter cell, an async test): there it runs on a fresh loop in a worker
thread, since `asyncio.run` refuses to nest."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(1, thread_name_prefix="sdi-run-sync") as pool:
        return pool.submit(asyncio.run, coro).result()
