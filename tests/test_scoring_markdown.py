"""Block structure read by markdown-it-py: tables, fenced and indented code, setext headings
and nested lists each read as a person reads them, for question counting and feedback."""

from __future__ import annotations

import pytest

from harness.scoring.feedback import parse_feedback
from harness.scoring.markdown import blocks, rewrite_tables, without_quoted_blocks
from harness.scoring.questions import count_questions

TABLE = """Which store would you pick for the timeline?

| Option | Latency? | Cost? |
|---|---|---|
| Redis | low? | high |
| Postgres | medium | low |
"""
FENCED = """Here is the query you described:

```sql
SELECT * FROM posts WHERE user_id = ?;
-- why this index? what about ties?
```

What index would you add for it?"""
INDENTED = """Take this handler:

    value = cache.get(key)   # a miss?
    if value is None:        # then what?
        value = db.read(key)

How would you keep the cache from serving stale posts?"""
SETEXT = """Next: storage?
---

What database would you use for the posts?"""
NESTED = """Which of these would you do first?

1. Add a cache
   - Redis
   - Memcached
2. Shard the database
   - by user id
   - by region"""


@pytest.mark.parametrize("text", [TABLE, FENCED, INDENTED, SETEXT, NESTED])
def test_one_question_whatever_the_block_shapes_around_it(text: str) -> None:
    assert count_questions(text) == 1


def test_two_real_questions_around_a_table_still_count_two() -> None:
    assert count_questions(TABLE + "\nAnd how would you invalidate it?") == 2


def test_setext_headings_are_headings() -> None:
    parsed = blocks("Capacity planning\n=================\n\nHow many writes per second?")
    assert [b.kind for b in parsed] == ["heading", "para"]
    assert parsed[0].text == "Capacity planning"
    assert blocks(SETEXT)[0].kind == "heading"


def test_nested_lists_belong_to_the_list_around_them() -> None:
    parsed = blocks(NESTED)
    items = [b for b in parsed if b.kind == "item"]
    assert [b.text for b in items] == [
        "Add a cache",
        "Redis",
        "Memcached",
        "Shard the database",
        "by user id",
        "by region",
    ]
    assert len({b.list_group for b in items}) == 1
    two_lists = blocks("- a\n- b\n\nSome prose.\n\n- c")
    assert len({b.list_group for b in two_lists if b.kind == "item"}) == 2


def test_code_blocks_are_masked_or_kept() -> None:
    for text in (FENCED, INDENTED):
        masked = " ".join(b.text for b in blocks(text))
        assert "(quoted)" in masked and "?;" not in masked and "a miss?" not in masked
        kept = " ".join(b.text for b in blocks(text, mask=False))
        assert "why this index?" in kept or "a miss?" in kept
        assert "why this index" not in without_quoted_blocks(text)
        assert "a miss" not in without_quoted_blocks(text)
        assert "How would you" in without_quoted_blocks(text) or "What index" in (
            without_quoted_blocks(text)
        )


def test_table_rows_are_blocks_of_their_own() -> None:
    rows = [b.text for b in blocks(TABLE) if b.kind == "row"]
    assert rows == ["Option | Latency? | Cost?", "Redis | low? | high", "Postgres | medium | low"]


def test_tables_rewritten_row_by_row() -> None:
    text = "Intro.\n\nA | B\n:-- | --:\nx | y\n\nAfter."
    assert rewrite_tables(text, lambda cells: "/".join(cells)) == "Intro.\n\nA/B\nx/y\n\nAfter."
    assert rewrite_tables("no | table here", lambda c: "!") == "no | table here"


@pytest.mark.parametrize(
    "table",
    [
        "| Area | Notes |\n|---|---|\n| Strengths | Clear API design and sharding plan |\n"
        "| Weaknesses | No caching strategy for hot keys |\n| Score | 7/10 |",
        # no outer pipes, aligned columns: still a table
        "Area | Notes\n:-- | :--\nStrengths | Clear API design and sharding plan\n"
        "Weaknesses | No caching strategy for hot keys\nScore | 7/10",
    ],
)
def test_feedback_in_a_table(table: str) -> None:
    parts = parse_feedback("Thanks, time is up. Here is my feedback.\n\n" + table)
    assert parts.score == 7
    assert {"strong", "weak"} <= parts.present()
    assert any("sharding plan" in p for p in parts.points["strong"])
