"""One labeller's session on one label set: what to show next, and each label written the
moment it is given (one appended, fsynced line), under a file lock so that only one session
writes a set at a time."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.contracts import RULE_IDS, RuleResult, Verdict
from harness.errors import InputError
from harness.label.select import QueueItem
from harness.scoring.labels import (
    FINAL_SCORE,
    ITEMS,
    LabelLine,
    PartialLabels,
    Selection,
    latest,
    read_label_lines,
)
from harness.store.runs import append_jsonl

QUOTE_CHARS = 120


class LabelGiven(BaseModel):
    """What the page sends for one label: a rule's verdict (and turns, for a fail), or the
    final score (a number out of 10, or null for none)."""

    model_config = ConfigDict(extra="forbid")

    interview_id: str
    item: str
    verdict: Verdict | None = None
    turns: list[int] = Field(default_factory=list)
    score: float | None = Field(default=None, ge=0, le=10)


class LabelRefused(Exception):
    """A label that does not fit the transcript (the page shows the message)."""


def quote(text: str) -> str:
    """A short verbatim quote of a turn: its first non-empty line, cut at QUOTE_CHARS."""
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), text.strip())
    return first[:QUOTE_CHARS].strip()


@dataclass
class LabelSession:
    path: Path
    labeller: str
    order: str
    queue: list[QueueItem]

    def __post_init__(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._filelock = FileLock(str(self.path) + ".lock")
        try:
            self._filelock.acquire(timeout=0)
        except Timeout:
            raise InputError(
                self.path, None, "another labelling session is writing this set (its .lock)"
            ) from None
        self._mutex = threading.Lock()
        self.state: dict[str, LabelLine] = {
            iid: line
            for (who, iid), line in latest(read_label_lines(self.path)).items()
            if who == self.labeller
        }
        self._index = {item.transcript.interview_id: i for i, item in enumerate(self.queue)}

    def close(self) -> None:
        self._filelock.release()

    @property
    def done(self) -> int:
        return sum(1 for iid in self._index if iid in self.state and self.state[iid].complete)

    def next_position(self) -> int:
        """The first transcript in the queue not yet fully labelled (len(queue) when none)."""
        for i, item in enumerate(self.queue):
            line = self.state.get(item.transcript.interview_id)
            if line is None or not line.complete:
                return i
        return len(self.queue)

    def view(self, position: int) -> dict[str, Any]:
        """What the page shows for one queue position: the transcript and this labeller's own
        labels so far, never a scorer's verdict (nor the stratum, which would hint at one)."""
        item = self.queue[position]
        t = item.transcript
        line = self.state.get(t.interview_id)
        return {
            "position": position,
            "total": len(self.queue),
            "done": self.done,
            "interview_id": t.interview_id,
            "problem": t.problem,
            "turns": [
                {
                    "index": i,
                    "role": turn.role,
                    "elapsed_s": turn.elapsed_s,
                    "text": turn.text,
                    "annotations": [a.kind for a in turn.annotations],
                }
                for i, turn in enumerate(t.turns)
            ],
            "given": line.given if line else [],
            "labels": line.labels.model_dump(mode="json") if line else {"rules": {}},
            "complete": bool(line and line.complete),
        }

    def give(self, label: LabelGiven) -> LabelLine:
        """Record one label: a new line with the case as it now stands, appended and flushed."""
        position = self._index.get(label.interview_id)
        if position is None:
            raise LabelRefused(f"no transcript '{label.interview_id}' in this session")
        item = self.queue[position]
        with self._mutex:
            before = self.state.get(label.interview_id)
            labels = before.labels.model_copy(deep=True) if before else PartialLabels()
            if label.item == FINAL_SCORE:
                labels.final_score = label.score
            elif label.item in RULE_IDS:
                labels.rules[label.item] = self._rule_result(item, label)
            else:
                raise LabelRefused(f"unknown item '{label.item}' (known: {', '.join(ITEMS)})")
            given = list(dict.fromkeys([*(before.given if before else []), label.item]))
            try:
                line = LabelLine(
                    labeller=self.labeller,
                    selection=before.selection
                    if before
                    else Selection(
                        order=self.order,
                        stratum=item.stratum,
                        stratum_size=item.stratum_size,
                        run=item.run,
                    ),
                    given=[i for i in ITEMS if i in given],
                    complete=all(i in given for i in ITEMS),
                    transcript=item.transcript,
                    labels=labels,
                    at=datetime.now(UTC).isoformat(timespec="seconds"),
                )
                if line.complete:
                    line.golden()  # a complete line must be a valid golden case
            except ValidationError as err:
                raise LabelRefused(str(err.errors()[0]["msg"])) from None
            append_jsonl(self.path, line.model_dump_json(by_alias=True))
            self.state[label.interview_id] = line
            return line

    @staticmethod
    def _rule_result(item: QueueItem, label: LabelGiven) -> RuleResult:
        if label.verdict is None:
            raise LabelRefused(f"{label.item}: a verdict (pass, fail or n/a) is needed")
        turns = sorted(set(label.turns)) if label.verdict == "fail" else []
        if label.verdict == "fail" and not turns:
            raise LabelRefused(f"{label.item}: a fail names the interviewer turns at fault")
        t = item.transcript
        for index in turns:
            if not 0 <= index < len(t.turns) or t.turns[index].role != "interviewer":
                raise LabelRefused(f"{label.item}: turn {index} is not an interviewer turn")
        return RuleResult(
            verdict=label.verdict, turns=turns, evidence=[quote(t.turns[i].text) for i in turns]
        )
