"""`runs/<id>/failures.jsonl`: interviews that failed, each with its reason, outside transcripts.

A failed interview is not a transcript (nothing to score), so it never enters
`transcripts.jsonl`; it is kept here so `runs show` can say what failed and why, and
`--resume` reruns it. An interview that later finishes stays listed here as history: the
failed ones are those listed here and absent from the transcripts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from harness.store.runs import append_jsonl, read_complete_lines

FAILURES = "failures.jsonl"


class FailedInterview(BaseModel):
    schema_: Literal["sdi.failure/1"] = Field(default="sdi.failure/1", alias="schema")
    interview_id: str
    reason: str
    at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


def record_failure(run_dir: Path, interview_id: str, reason: str) -> None:
    record = FailedInterview(interview_id=interview_id, reason=reason)
    append_jsonl(run_dir / FAILURES, record.model_dump_json(by_alias=True))


def read_failures(run_dir: Path) -> dict[str, FailedInterview]:
    """The last failure of each interview; unreadable lines (a torn tail) are passed over."""
    out: dict[str, FailedInterview] = {}
    for line in read_complete_lines(run_dir / FAILURES):
        try:
            record = FailedInterview.model_validate_json(line)
        except ValueError:
            continue
        out[record.interview_id] = record
    return out
