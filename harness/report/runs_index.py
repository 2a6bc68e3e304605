"""One page that lists every run in a runs folder (`sdi report --index`): when, which suite and
versions, how many interviews, status, cost, whether it is scored, and a link to its report.

Read from each run's manifest (the source of truth), not from the SQLite index, so a run
copied in from elsewhere is listed too. Self-contained like the report: inline styles, no
script at all, every value escaped by jinja2.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from harness.errors import InputError
from harness.report.html import environment, style
from harness.store.runs import MANIFEST, SCORES, read_manifest


class RunEntry(BaseModel):
    run_id: str
    started_at: str
    suite: str
    versions: list[str]
    interviews_done: int
    interviews_planned: int
    status: str
    cost_usd: float
    synthetic: bool
    scored: bool
    report: str | None = Field(description="link to its report, relative to the index page")


class RunsIndex(BaseModel):
    runs_dir: str
    generated_at: str
    runs: list[RunEntry]
    unreadable: list[str] = Field(description="folders with a manifest that could not be read")


def runs_index(runs_dir: Path, out: Path) -> RunsIndex:
    """Every run under `runs_dir`, newest first; a run's report is the file `<run id>.html`
    next to `out` (where `sdi report RUN` writes it by default)."""
    if not runs_dir.is_dir():
        raise InputError(runs_dir, None, "no such runs folder")
    entries: list[RunEntry] = []
    unreadable: list[str] = []
    for manifest_path in sorted(runs_dir.glob(f"*/{MANIFEST}")):
        run_dir = manifest_path.parent
        try:
            m = read_manifest(run_dir)
        except InputError:
            unreadable.append(run_dir.name)
            continue
        report = out.parent / f"{m.run_id}.html"
        entries.append(
            RunEntry(
                run_id=m.run_id,
                started_at=m.started_at,
                suite=m.suite_name,
                versions=[p.id for p in m.prompts],
                interviews_done=m.interviews_done,
                interviews_planned=m.interviews_planned,
                status=m.status,
                cost_usd=m.cost_usd,
                synthetic=m.synthetic,
                scored=(run_dir / SCORES).is_file(),
                report=os.path.relpath(report, out.parent) if report.is_file() else None,
            )
        )
    entries.sort(key=lambda e: e.started_at, reverse=True)
    return RunsIndex(
        runs_dir=str(runs_dir),
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        runs=entries,
        unreadable=unreadable,
    )


def render_index(index: RunsIndex) -> str:
    return environment().get_template("runs_index.html.j2").render(index=index, style=style())
