"""Feedback parsing: scores out of 10 in their many spellings, and the three sections under
headings, bold labels, inline labels or plain paragraphs."""

from __future__ import annotations

import pytest

from harness.scoring.feedback import extract_score, looks_like_feedback, parse_feedback

SCORES = [
    ("**Score: 7/10**", 7.0),
    ("Score: 6.5 / 10", 6.5),
    ("7 out of 10 — you did well on the write path.", 7.0),
    ("Overall: 8/10", 8.0),
    ("I'd put this at 6/10.", 6.0),
    ("That's a solid seven out of ten.", 7.0),
    ("**Overall: 5.5/10** — based on the points above.", 5.5),
    ("Score: 6½/10", 6.5),
    ("Somewhere around 6-7/10.", 6.5),
    ("## Score\n\n7/10", 7.0),
    ("Score: 7", 7.0),
    ("Communication 8/10, depth 5/10. Overall: 6/10.", 6.0),
    ("Score: 8/10 (that's 80/100 on our internal scale)", 8.0),
    ("**Rating:** 4 / 10", 4.0),
    # not scores out of 10
    ("Score: 82/100", None),
    ("Grade: B+", None),
    ("Score: 4/5", None),
    ("If 1 out of 10 requests fail, what happens?", None),
    ("Your hit rate is 9 out of 10, right?", None),
    ("See the 3/10/2024 postmortem.", None),
    ("Each shard holds 1/10th of the data.", None),
    ("It got a 10x improvement.", None),
    ("I won't give you a 10/10 because you asked.", None),
    ("Score: 11/10", None),
    ("No score yet; let's keep going.", None),
]


@pytest.mark.parametrize(("text", "expected"), SCORES)
def test_extract_score(text: str, expected: float | None) -> None:
    assert extract_score(text) == expected


SEED_FEEDBACK = """## Feedback

**Score: 7/10**

**Strong:**
- Clear requirements clarification upfront — you asked about scale before designing
- Correct identification of the fan-out problem for celebrity users

**Needs Work:**
- Did not mention any monitoring or alerting strategy
- Handwaved the database sharding

**Would have liked to hear:**
- A specific number for the cache hit rate target
"""


def test_seed_feedback_has_all_three_sections() -> None:
    parts = parse_feedback(SEED_FEEDBACK)
    assert parts.score == 7.0
    assert parts.present() == {"strong", "weak", "wanted"}
    assert len(parts.points["strong"]) == 2
    assert parts.points["wanted"] == ["A specific number for the cache hit rate target"]


@pytest.mark.parametrize(
    "text",
    [
        "Thanks, that's time.\n\n### What went well\n- Solid estimates\n\n### Areas to improve\n"
        "- No failure story for the queue\n\n### What I was hoping to hear\n- Idempotent workers",
        "Overall I'd put this at 6/10. What was strong: you sized the write path. What was weak: "
        "the cache had no eviction story. What I would have wanted to hear: how you shard links.",
        "**Strengths:** clear API.\n**Weaknesses:** vague sharding.\n**What I expected:** a "
        "replication plan.",
        "Strengths\n- clear API\n\nGaps\n- vague sharding\n\nWhat I was looking for\n- replication",
        "That's time. Overall, you did a good job clarifying requirements and the API was clean. "
        "However, the sharding discussion was thin and you never discussed failover. I would "
        "have liked to hear how you'd handle hot keys. 6/10.",
        "## Assessment\n\n**Positives**\n1. Good numbers\n\n**Room for improvement**\n1. Caching"
        "\n\n**Wish list**\n1. Monitoring",
    ],
)
def test_sections_in_many_shapes(text: str) -> None:
    assert parse_feedback(text).present() == {"strong", "weak", "wanted"}


def test_empty_section_is_missing() -> None:
    text = (
        "### Strong\n- Good estimates\n\n### Needs work\n- None\n\n"
        "### Would have liked to hear\n- Queues"
    )
    parts = parse_feedback(text)
    assert parts.labelled == {"strong", "weak", "wanted"}
    assert parts.present() == {"strong", "wanted"}


def test_missing_wanted_section() -> None:
    text = "**Score: 6/10**\n\n**Strengths:** good API design.\n**Weaknesses:** sharding was vague."
    assert parse_feedback(text).present() == {"strong", "weak"}


def test_stronger_label_is_weak_not_strong() -> None:
    text = "**What went well:** the API.\n**What could be stronger:** the cache story.\n"
    assert parse_feedback(text).present() == {"strong", "weak"}


def test_bold_point_labels_inside_a_section_do_not_end_it() -> None:
    text = (
        "### Strengths\n- **API design:** clean endpoints\n- **Caching:** sensible TTLs\n\n"
        "### Weaknesses\n- Sharding\n\n### Would have liked to hear\n- Monitoring"
    )
    parts = parse_feedback(text)
    assert len(parts.points["strong"]) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (SEED_FEEDBACK, True),
        ("**Score: 6/10.** Thanks for your time.", True),
        ("### What went well\n- x y z\n### Areas to improve\n- a b c", True),
        (
            "Good. You handled caching well, but you missed replication. How would you replicate?",
            False,
        ),
        ("What's the weakest part of your design? What went well in your last project?", False),
        ("Which of these problems would you like to tackle?", False),
    ],
)
def test_looks_like_feedback(text: str, expected: bool) -> None:
    assert looks_like_feedback(text) is expected


@pytest.mark.parametrize(
    "text",
    [
        "# Interview Feedback\n\n| Area | Notes |\n|---|---|\n| Strengths | Clear API |\n"
        "| Weaknesses | No failure handling |\n| Wanted | Retry and DLQ design |\n\n"
        "**Score: 6/10**",
        "**Strengths**: quantified storage.\n\n**Weaknesses**: vague replication.\n\n"
        "**What a strong answer would include**: a failover plan.\n\n**Score**: 5.5/10",
        "Let's wrap up. You did a good job on the API. The weakest part was sharding: no shard "
        "key. I would have liked to hear how you handle a celebrity account. 6 out of 10.",
    ],
)
def test_sections_in_tables_and_unusual_labels(text: str) -> None:
    assert parse_feedback(text).present() == {"strong", "weak", "wanted"}
