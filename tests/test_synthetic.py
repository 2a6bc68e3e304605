"""The synthetic backend reacts to its prompt and to what the candidate said."""

from __future__ import annotations

import random
import re
import statistics
from pathlib import Path

import pytest

from harness.backends.base import ChatMessage, ModelRequest
from harness.backends.synthetic import SyntheticBackend
from harness.backends.synthetic.interviewer import assess, respond
from harness.backends.synthetic.signals import read_prompt_rules
from harness.config.prompts import load_prompt
from harness.config.suites import load_suite
from harness.scoring.score import score_transcript
from harness.simulate.progress import QuietProgress
from harness.simulate.runner import run_suite
from harness.store.rundata import load_run
from tests.conftest import REPO, V1

PROMPT = V1.read_text()


def _without(rule_number: int) -> str:
    return re.sub(rf"^{rule_number}\. .*\n", "", PROMPT, flags=re.MULTILINE)


@pytest.mark.parametrize(
    ("rule", "flag"),
    [
        (2, "one_question"),
        (3, "pushback"),
        (4, "scale_probe"),
        (5, "drill_down"),
        (6, "no_direct_correction"),
        (7, "timed_feedback"),
        (8, "scored"),
    ],
)
def test_each_rule_is_read_from_the_prompt(rule: int, flag: str) -> None:
    assert getattr(read_prompt_rules(PROMPT), flag) is True
    assert getattr(read_prompt_rules(_without(rule)), flag) is False


CONVERSATION = [
    "I'd like to do a system design interview.",
    "Let's do the URL shortener.",
    "I'll go with Cassandra for storage, and we'd add a cache in front of it for reads.",
]


def _messages(system: str) -> list[ChatMessage]:
    opening = respond(system, [ChatMessage(role="user", content=CONVERSATION[0])], random.Random(0))
    statement = respond(
        system,
        [
            ChatMessage(role="user", content=CONVERSATION[0]),
            ChatMessage(role="assistant", content=opening),
            ChatMessage(role="user", content=CONVERSATION[1]),
        ],
        random.Random(0),
    )
    return [
        ChatMessage(role="user", content=CONVERSATION[0]),
        ChatMessage(role="assistant", content=opening),
        ChatMessage(role="user", content=CONVERSATION[1]),
        ChatMessage(role="assistant", content=statement),
        ChatMessage(role="user", content=CONVERSATION[2]),
    ]


def _multi_question_rate(system: str, n: int = 300) -> float:
    messages = _messages(system)
    replies = [respond(system, messages, random.Random(seed)) for seed in range(n)]
    return sum(r.count("?") >= 2 for r in replies) / n


def test_deleting_rule_2_raises_multi_question_turns() -> None:
    with_rule = _multi_question_rate(PROMPT)
    without_rule = _multi_question_rate(_without(2))
    assert with_rule < 0.15
    assert without_rule > with_rule + 0.25


STRONG = [
    "Let's assume 100 million DAU and 5,000 writes/s at peak; reads are 100x that.",
    "I'd use base62 codes from a counter range per server, so no collisions and no coordination, "
    "rather than hashing, because hashing needs a collision check on every write.",
    "The cache uses LRU eviction with a one-hour TTL; a 90% hit rate keeps 450,000 reads/s off "
    "the database. The trade-off is staleness after a delete, so we invalidate on write.",
    "Replication is three replicas with quorum writes; on failover a replica is promoted.",
    "Hot keys get replicated across cache nodes, and I'd alert on p99 latency and error rate.",
]
WEAK = [
    "We'd have a server and a database.",
    "Add a cache to make it fast.",
    "Shard it if it gets big.",
    "It should be fine.",
]


def test_final_score_follows_what_the_candidate_said() -> None:
    head = ["I'd like to do a system design interview.", "Let's do the URL shortener."]
    strong = [assess(head + STRONG, "url-shortener", random.Random(s)).score for s in range(40)]
    weak = [assess(head + WEAK, "url-shortener", random.Random(s)).score for s in range(40)]
    assert statistics.mean(strong) - statistics.mean(weak) > 3
    assert statistics.pstdev(strong) > 0, "repeats on one transcript must vary (grading noise)"
    assert all(1 <= s <= 10 and s * 2 == int(s * 2) for s in strong + weak)


async def test_responses_are_labelled_synthetic_and_reproducible() -> None:
    backend = SyntheticBackend()
    request = ModelRequest(
        role="interviewer",
        model="synthetic-interviewer",
        system=PROMPT,
        messages=[ChatMessage(role="user", content=CONVERSATION[0])],
    )
    first = await backend.complete(request)
    again = await backend.complete(request)
    other = await backend.complete(request.model_copy(update={"sample_index": 1}))
    assert first.synthetic and first.backend == "synthetic" and first.cost_usd == 0
    assert first.text == again.text
    assert "Which of these problems" in other.text


@pytest.mark.parametrize(("rule", "rule_id"), [(2, "one_question"), (3, "pushback")])
def test_a_deleted_rule_is_broken_more_often_in_scored_runs(
    tmp_path: Path, rule: int, rule_id: str
) -> None:
    """End to end: simulate the shipped personas with v1 and with one rule deleted, score
    both, and the deleted rule's pass rate falls."""
    edited = tmp_path / f"v1-without-{rule}.md"
    edited.write_text(_without(rule))
    loaded = load_suite(REPO / "suites" / "smoke.yaml")
    loaded.suite.repeats = 2

    def pass_rate(prompt: Path) -> float:
        loaded.prompts = [load_prompt(prompt)]
        run_dir = run_suite(loaded, tmp_path / "runs", progress=QuietProgress())
        verdicts = [
            score_transcript(t).rules[rule_id].verdict for t in load_run(run_dir).transcripts
        ]
        return verdicts.count("pass") / max(1, len([v for v in verdicts if v != "n/a"]))

    assert pass_rate(V1) > pass_rate(edited) + 0.2
