"""Responders for benchmarks that run whole suites through the loopback servers. Like a real
model, they sample: the interviewer asks the tests' questions in random order with 0-2
random lead-in sentences, the model-played candidate answers in 40-180 random words (as its
card asks), planting what the stage direction says is due. Two repeats of an interview so
diverge after the first reply, as with a real model."""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "harness" / "data"  # the built-in prompts, personas and suites
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.loopback import QUESTIONS, Reply, interviewer_reply, message  # noqa: E402

# fmt: off
WORDS = (
    "we", "shard", "the", "table", "by", "key", "hash", "and", "keep", "a", "replica", "in",
    "each", "zone", "so", "reads", "never", "wait", "on", "writes", "cache", "sits", "in",
    "front", "with", "a", "short", "ttl", "queue", "absorbs", "bursts", "while", "workers",
    "drain", "it", "at", "steady", "rate",
)
# fmt: on
_DUE = re.compile(r"Planted moves due now: ([^\]]*)\]")


def _system(body: dict[str, Any]) -> str:
    system = body.get("system")
    if isinstance(system, list):
        return "".join(str(b.get("text", "")) for b in system)
    if isinstance(system, str):
        return system
    first = (body.get("messages") or [{}])[0]
    return str(first.get("content", "")) if first.get("role") == "system" else ""


def _last_text(body: dict[str, Any]) -> str:
    content = body["messages"][-1]["content"]
    if isinstance(content, str):
        return content
    return "".join(str(b.get("text", "")) for b in content)


def _words(n: int) -> str:
    return " ".join(random.choice(WORDS) for _ in range(n))


def candidate_reply(body: dict[str, Any]) -> Reply:
    text = _words(random.randint(40, 180)) + "."
    due = _DUE.search(_last_text(body))
    if due:
        for move in due.group(1).split("; "):
            kind, _, topic = move.partition(" (topic: ")
            text += f"\n[[plant kind={kind.strip()} topic={topic.rstrip(')')}]]"
    return message(text)


def sampled_interviewer(body: dict[str, Any]) -> Reply:
    """The tests' interviewer (problem list, feedback with a score when asked), but its
    questions drawn at random behind 0-2 random lead-in sentences."""
    scripted = interviewer_reply(body)
    if scripted.text is None or scripted.text not in QUESTIONS:
        return scripted
    lead = " ".join(
        _words(random.randint(8, 20)).capitalize() + "." for _ in range(random.randint(0, 2))
    )
    return message(f"{lead} {random.choice(QUESTIONS)}".strip())


def play(body: dict[str, Any]) -> Reply:
    """Either role, told apart by the system prompt."""
    if "role-playing a job candidate" in _system(body):
        return candidate_reply(body)
    return sampled_interviewer(body)


def scripted_suite(folder: Path, name: str, repeats: int, concurrency: int) -> Path:
    """A suite file in `folder`: prompt v1 against the shipped scripted personas, the
    interviewer on the anthropic backend (Sonnet)."""
    import yaml

    scripted = [
        str(p)
        for p in sorted((DATA / "candidates").glob("*.yaml"))
        if "mode: llm" not in p.read_text()
    ]
    data = {
        "name": name,
        "prompts": ["v1"],
        "prompts_dir": str(DATA / "prompts" / "interviewer"),
        "personas": scripted,
        "interviewer": {"backend": "anthropic", "model": "claude-sonnet-4-6"},
        "repeats": repeats,
        "concurrency": concurrency,
    }
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(data))
    return path
