"""Question counting: markdown structure, literals, imperative asks, options vs separate asks."""

from __future__ import annotations

import pytest

from harness.scoring.questions import asks, count_questions

CASES = [
    # lists
    ("1. How big is it?\n2. How fast must redirects be?\n3. Who uses it?", 3),
    ("- How big is it?\n- How fast must redirects be?", 2),
    ("* How big is it?\n* Walk me through the write path.", 2),
    (
        "Which of these would you like to tackle?\n\n1. Design URL shortener\n2. Design Twitter",
        1,
    ),
    ("Which eviction policy would you pick?\n- LRU\n- LFU\n- FIFO", 1),
    ("A few follow-ups:\n\n1. Walk me through the memory math.\n2. Estimate the peak QPS.", 2),
    ("1. You have 50M users.\n   How much memory do you need? Walk me through it.", 2),
    # options inside one question, separate questions
    ("LRU, LFU, or something else?", 1),
    ("Would you use SQL, or would you go with a key-value store?", 1),
    ("How would you shard it? And what about replication?", 2),
    ("X? And Y?", 2),
    ("How would you shard it, and how would you replicate it?", 2),
    ("What delivery guarantee does the queue give, and how do consumers handle duplicates?", 2),
    ("What's the QPS, and what's the storage?", 2),
    ("Is it read-heavy, and is there a hot spot?", 2),
    ("What would you try first, and why?", 1),
    ("What eviction policy would that cache use, and why that one?", 1),
    ("Walk me through the components and how a request flows through them.", 1),
    ("Tell me where the data lives and where it is stored.", 1),
    ("What happens when a node dies and can't be reached?", 1),
    # imperative asks
    ("Walk me through the math.", 1),
    ("Tell me how the redirect finds the long URL.", 1),
    ("Estimate the storage for five years.", 1),
    ("Okay, so walk me through the write path.", 1),
    ("Let's estimate the storage. What's the write rate?", 2),
    ("I'd like you to estimate peak QPS.", 1),
    ("Let's talk about caching. What's your eviction policy?", 1),
    ("Walk me through the write path. How many writes per second at peak?", 2),
    ("Design a URL shortener like bit.ly. Where would you like to begin?", 1),
    ("Good point. Take your time.", 0),
    # literals: code, quotes, blockquotes
    ("You said 'use a cache' — what eviction policy?", 1),
    ('The candidate said "why not Redis?" earlier. How would you shard?', 1),
    ("You wrote `GET /r/{code}?ref=x`. How does that endpoint find the URL?", 1),
    ("```\nSELECT * FROM links WHERE code = ?;\n```\nWhat index serves this?", 1),
    ("> Why not just use Postgres?\n\nFair question from you. How would you partition it?", 1),
    ("It’s “eventually consistent?” as you put it. What does a reader see after a write?", 1),
    # emphasis, headings, check-ins
    ("**How would you handle a hot key?**", 1),
    ("Good. **How would you handle a hot key?** Make sense?", 1),
    ("### Why Redis?\n\nWalk me through the memory math.", 1),
    ("## Follow-up: failure?\n\nWhat happens when the primary dies?", 1),
    ("### What about failures?\n\nGood, let's keep going.", 1),
    ("Make sense?", 1),
    # abbreviations and decimals do not split sentences
    ("What does the schema look like, e.g. for the links table?", 1),
    ("With a 3.5 KB payload and 1.2M writes a day, how much storage per year?", 1),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_counts_distinct_asks(text: str, expected: int) -> None:
    assert count_questions(text) == expected, [a.text for a in asks(text)]


def test_seed_article_redis_pushback_asks_many() -> None:
    seed = (
        "You chose Redis for session caching. A few follow-ups:\n\n"
        "1. You have 50M daily active users with an average session length of 20 minutes.\n"
        "   How much memory does your Redis cluster need? Walk me through the calculation.\n\n"
        "2. Redis is single-threaded for command processing. How many requests per second\n"
        "   can a single Redis node handle? Is that enough for your throughput requirements?\n\n"
        "3. What happens when your Redis node goes down? How does your application handle\n"
        "   a cache miss during failover?\n\n"
        "4. You mentioned Redis — did you consider Redis Cluster vs Sentinel vs a managed\n"
        "   service like ElastiCache? What drove your choice?"
    )
    assert count_questions(seed) == 8


def test_asks_keep_their_text_for_evidence() -> None:
    found = asks("Okay. How would you shard it? And what about replication?")
    assert [a.text for a in found] == ["How would you shard it?", "And what about replication?"]
    assert [a.kind for a in found] == ["question", "question"]


@pytest.mark.parametrize(
    "text",
    [
        "Pick one of these:\n\n1. URL shortener\n2. Twitter feed\n\nWhich one would you like?",
        "Choose one:\n- LRU\n- LFU\n\nWhich would you pick, and why?",
    ],
)
def test_ask_around_an_option_list_is_one(text: str) -> None:
    assert count_questions(text) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Is that a problem at 100k QPS? Why or why not?", 1),
        ("Why?", 1),
        ("Which store would you use? Why?", 1),
        ("Which store would you use? Why not Postgres?", 2),
    ],
)
def test_asking_for_the_reason_is_the_same_question(text: str, expected: int) -> None:
    assert count_questions(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # One question whose object is two wh-clauses joined by "and" (a transition first).
        (
            "On to moderation: how would you decide which posts get hidden and which users "
            "are repeat offenders?",
            1,
        ),
        ("How would you show which tickets are open and which agents are idle?", 1),
        ("How do you decide what each tenant pays and how many credits are left?", 1),
        ("What would the editor show about who is typing and where their selections are?", 1),
        ("Now the dashboard: how would you show how many jobs wait and which workers are idle?", 1),
        ("Can you tell me which replicas are behind and how far behind they are?", 1),
        # Near-misses: the clause after "and" is inverted, asks about something new, or the
        # question before it has no wh-clause as its object.
        ("How would you track who is online, and how would you show their cursors?", 2),
        ("How would you track who is online and what's the heartbeat interval?", 2),
        ("How would you work out which keys are hot and what about cold ones?", 2),
        ("Okay, so what does the client send and what happens next?", 2),
        ("Which shards are hot; what do you do about them?", 2),
    ],
)
def test_coordinated_wh_clauses_are_one_question(text: str, expected: int) -> None:
    assert count_questions(text) == expected, [a.text for a in asks(text)]
