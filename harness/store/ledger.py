"""`runs/<id>/spend.jsonl`: every answered model call, appended and flushed as it arrives.

This is what the run was billed: a call answered by the API is written here the moment its
reply is read, before the interview it belongs to goes on, so a kill -9 at any point loses at
most the calls whose replies were still on the wire. Calls served by the response cache cost
nothing and are not written. Manifests, `runs list` and reports take their spend from here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal

from pydantic import BaseModel, Field

from harness.backends.base import ModelResponse, Usage
from harness.store.manifest import Manifest
from harness.store.runs import read_complete_lines, write_json_atomic

LEDGER = "spend.jsonl"


class LedgerEntry(BaseModel):
    schema_: Literal["sdi.spend/1"] = Field(default="sdi.spend/1", alias="schema")
    interview_id: str | None
    role: str
    backend: str
    model: str
    usage: Usage
    cost_usd: float
    at: str


class LedgerTotals(BaseModel):
    calls: int = 0
    usage: Usage = Field(default_factory=Usage)
    spent_usd: float = 0.0


class SpendLedger:
    """Append-only; one line per answered call, flushed to the OS before `record` returns."""

    def __init__(self, run_dir: Path) -> None:
        path = run_dir / LEDGER
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            if text and not text.endswith("\n"):  # a torn last line from a kill
                write_json_atomic(path, text[: text.rfind("\n") + 1])
        self._fh: IO[str] = path.open("a", encoding="utf-8")

    def record(self, interview_id: str | None, role: str, response: ModelResponse) -> None:
        entry = LedgerEntry(
            interview_id=interview_id,
            role=role,
            backend=response.backend,
            model=response.model,
            usage=response.usage,
            cost_usd=response.cost_usd,
            at=datetime.now(UTC).isoformat(timespec="milliseconds"),
        )
        self._fh.write(entry.model_dump_json(by_alias=True) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


def read_ledger(run_dir: Path) -> LedgerTotals:
    """Totals of a run's ledger; an unreadable line (a torn tail) is passed over."""
    totals = LedgerTotals()
    cost = 0.0
    for line in read_complete_lines(run_dir / LEDGER):
        try:
            entry = LedgerEntry.model_validate_json(line)
        except ValueError:
            continue
        totals.calls += 1
        totals.usage = totals.usage + entry.usage
        cost += entry.cost_usd
    totals.spent_usd = round(cost, 6)
    return totals


def apply_ledger(manifest: Manifest, run_dir: Path) -> Manifest:
    """The manifest with its billed totals taken from the ledger (runs from before the ledger
    keep what their manifest says)."""
    if not (run_dir / LEDGER).is_file():
        return manifest
    totals = read_ledger(run_dir)
    manifest.model_calls = totals.calls
    manifest.billed_usage = totals.usage
    manifest.spent_usd = totals.spent_usd
    return manifest
