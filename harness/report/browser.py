"""Open a report in Debian's headless Chromium through Playwright (a dev dependency): shared by
the browser test and the report benchmark, so both start the browser the same way."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

CHROMIUM = Path("/usr/bin/chromium")
# No background traffic: this machine's network is closed, and a report must need none.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# The page script marks <body data-ready> when it has rendered. A selector, not a JS predicate:
# the report's Content-Security-Policy forbids the eval that polling a predicate needs.
READY = "body[data-ready]"


def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium, never a downloaded browser."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))


def report_url(path: Path, fragment: str = "") -> str:
    return path.resolve().as_uri() + (f"#{fragment}" if fragment else "")
