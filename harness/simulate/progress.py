"""Progress on long runs: a bar on a terminal, plain lines otherwise (CI logs, pipes)."""

from __future__ import annotations

import sys
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class ProgressSink(Protocol):
    def start(self, total: int, already_done: int, label: str) -> None: ...
    def advance(self, interview_id: str, note: str) -> None: ...
    def stop(self) -> None: ...


class QuietProgress:
    def start(self, total: int, already_done: int, label: str) -> None:
        pass

    def advance(self, interview_id: str, note: str) -> None:
        pass

    def status(self, text: str) -> None:
        pass

    def stop(self) -> None:
        pass


class LineProgress:
    """One line per finished interview on stderr."""

    def __init__(self, unit: str = "interviews") -> None:
        self.unit = unit
        self.total = 0
        self.done = 0

    def start(self, total: int, already_done: int, label: str) -> None:
        self.total, self.done = total, already_done
        print(f"{label}: {total} {self.unit}, {already_done} already done", file=sys.stderr)

    def advance(self, interview_id: str, note: str) -> None:
        self.done += 1
        print(f"[{self.done}/{self.total}] {interview_id} ({note})", file=sys.stderr, flush=True)

    def status(self, text: str) -> None:
        """A line of status beside the count (batches submitted, done and waiting)."""
        print(text, file=sys.stderr, flush=True)

    def stop(self) -> None:
        pass


class BarProgress:
    def __init__(self, unit: str = "interviews") -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._task = self._progress.add_task(unit, total=0)
        self._label = unit

    def start(self, total: int, already_done: int, label: str) -> None:
        self._label = label
        self._progress.update(self._task, total=total, completed=already_done, description=label)
        self._progress.start()

    def advance(self, interview_id: str, note: str) -> None:
        self._progress.advance(self._task)

    def status(self, text: str) -> None:
        self._progress.update(self._task, description=f"{self._label} [{text}]")

    def stop(self) -> None:
        self._progress.stop()


def default_progress(enabled: bool = True, unit: str = "interviews") -> ProgressSink:
    """A bar on a terminal, plain lines in logs and pipes, nothing when disabled."""
    if not enabled:
        return QuietProgress()
    return BarProgress(unit) if sys.stderr.isatty() else LineProgress(unit)
