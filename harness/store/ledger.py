"""`runs/<id>/spend.jsonl`: every model call, written ahead and appended as it is answered.

This is what the run was billed: each call is written `sent` (with its cost ceiling) before
the request goes out, and `answered` (usage and cost) the moment its reply is read, before the
interview it belongs to goes on, each line flushed to the OS. A kill -9 at any point therefore
leaves only `sent` lines without an answer: calls whose replies were on the wire or unread,
which the API may or may not have billed. They are counted as in doubt, with their ceiling,
never guessed into the spend. Calls served by the response cache cost nothing and are not
written. Manifests, `runs list` and reports take their spend from here.
"""

from __future__ import annotations

import secrets
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
    event: Literal["sent", "answered", "unanswered"] = "answered"
    call: str | None = None
    interview_id: str | None = None
    role: str = ""
    backend: str = ""
    model: str = ""
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float = 0.0
    ceiling_usd: float = Field(default=0.0, description="the most the call could cost (sent)")
    at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="milliseconds"))


class LedgerTotals(BaseModel):
    calls: int = Field(default=0, description="answered calls")
    usage: Usage = Field(default_factory=Usage)
    spent_usd: float = 0.0
    in_doubt_calls: int = Field(
        default=0, description="sent, never answered nor failed: cut off by a kill"
    )
    in_doubt_max_usd: float = 0.0


class SpendLedger:
    """Append-only; one line per answered call, flushed to the OS before `record` returns."""

    def __init__(self, run_dir: Path) -> None:
        path = run_dir / LEDGER
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            if text and not text.endswith("\n"):  # a torn last line from a kill
                write_json_atomic(path, text[: text.rfind("\n") + 1])
        self._fh: IO[str] = path.open("a", encoding="utf-8")

    def _write(self, entry: LedgerEntry) -> None:
        self._fh.write(entry.model_dump_json(by_alias=True, exclude_defaults=False) + "\n")
        self._fh.flush()

    def sent(self, interview_id: str | None, role: str, model: str, ceiling_usd: float) -> str:
        """Before the request goes out; returns the call's id for its answer."""
        call = secrets.token_hex(8)
        entry = LedgerEntry(
            event="sent",
            call=call,
            interview_id=interview_id,
            role=role,
            model=model,
            ceiling_usd=ceiling_usd,
        )
        self._write(entry)
        return call

    def answered(
        self, call: str | None, interview_id: str | None, role: str, response: ModelResponse
    ) -> None:
        self._write(
            LedgerEntry(
                call=call,
                interview_id=interview_id,
                role=role,
                backend=response.backend,
                model=response.model,
                usage=response.usage,
                cost_usd=response.cost_usd,
            )
        )

    def unanswered(self, call: str) -> None:
        """The call failed (retries exhausted, a 400): known not to have been answered."""
        self._write(LedgerEntry(event="unanswered", call=call))

    def close(self) -> None:
        self._fh.close()


def read_ledger(run_dir: Path) -> LedgerTotals:
    """Totals of a run's ledger; an unreadable line (a torn tail) is passed over."""
    totals = LedgerTotals()
    cost = 0.0
    open_calls: dict[str, float] = {}
    for line in read_complete_lines(run_dir / LEDGER):
        try:
            entry = LedgerEntry.model_validate_json(line)
        except ValueError:
            continue
        if entry.event == "sent" and entry.call:
            open_calls[entry.call] = entry.ceiling_usd
            continue
        open_calls.pop(entry.call or "", None)
        if entry.event == "answered":
            totals.calls += 1
            totals.usage = totals.usage + entry.usage
            cost += entry.cost_usd
    totals.spent_usd = round(cost, 6)
    totals.in_doubt_calls = len(open_calls)
    totals.in_doubt_max_usd = round(sum(open_calls.values()), 6)
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
    manifest.in_doubt_calls = totals.in_doubt_calls
    manifest.in_doubt_max_usd = totals.in_doubt_max_usd
    return manifest
