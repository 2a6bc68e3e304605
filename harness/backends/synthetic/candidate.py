"""The synthetic candidate: plays a persona card offline, answering by level, making its plants."""

from __future__ import annotations

import json
import random
import re

from harness.backends.base import ChatMessage
from harness.config.personas import LEVEL_RANK, REPLY_INTENTS

CARD_PATTERN = re.compile(r"<persona-card>\s*(\{.*?\})\s*</persona-card>", re.DOTALL)
DUE_PATTERN = re.compile(r"Planted moves due now: ([^\]\n]+)")
DUE_ITEM = re.compile(r"(\w+) \(topic: ([^)]*)\)")

STRONG_ANSWERS: dict[str, tuple[str, ...]] = {
    "scale": (
        "Let's say 100 million daily active users; at about 20 requests each that's roughly "
        "25,000 requests per second on average and maybe 75,000 at peak, with around 2 TB of new "
        "data a year.",
        "I'd plan for 50 million DAU, a 10:1 read-to-write ratio, so around 5,000 writes/s and "
        "50,000 reads/s at peak, growing about 30% a year.",
    ),
    "cache": (
        "LRU eviction with a TTL of about an hour, sized to hold the hot 20% of keys; I'd target a "
        "95% hit rate and invalidate on write so readers don't see stale entries for long.",
        "I'd size the cache for the working set, roughly 200 GB across the cluster, use LRU "
        "eviction, and watch the hit rate; below 90% the database takes too much of the load.",
    ),
    "storage": (
        "I'd partition by the primary key with consistent hashing, three replicas per partition, "
        "and a quorum write so we survive one node loss without losing acknowledged data.",
        "The hot table is keyed by id with a secondary index on owner; I'd shard by id to avoid "
        "hot spots and keep read replicas for the read path.",
    ),
    "failure": (
        "If a node dies, a replica is promoted through leader election; clients retry with "
        "exponential backoff and every write carries an idempotency key so retries are safe.",
        "Workers heartbeat; when a lease expires the job becomes visible again and another worker "
        "picks it up, so at-least-once delivery plus idempotent handlers covers crashes.",
    ),
    "tradeoff": (
        "Because the access pattern is mostly key lookups, rather than a relational store I'd take "
        "a key-value store; the downside is weaker ad-hoc queries, which we can live with.",
        "The trade-off is latency versus consistency: I accept a few seconds of staleness at the "
        "cost of occasional out-of-order reads, because availability matters more here.",
    ),
    "consistency": (
        "Each request carries an idempotency key, so a duplicate is detected and dropped; ordering "
        "only matters per entity, so I keep it within a partition.",
    ),
}

WEAK_ANSWERS: dict[str, tuple[str, ...]] = {
    "scale": (
        "I'm not sure, a lot of users I guess. It should be fine if we scale horizontally.",
        "Probably big? I'd just make it scalable from the start.",
    ),
    "cache": (
        "We'd just cache the popular stuff so it's fast.",
        "The cache keeps things in memory, so it should be quick enough.",
    ),
    "storage": (
        "We'd put it in a database, probably a big one.",
        "I'd store it in the database and add more servers if it gets slow.",
    ),
    "failure": (
        "We'd restart it, I think.",
        "Hopefully that doesn't happen often; we'd have backups.",
    ),
    "tradeoff": ("It's just what I know best.", "It seemed like the standard choice."),
    "consistency": ("It should be consistent, the database handles that.",),
}

PLANT_LINES: dict[str, tuple[str, ...]] = {
    "gloss": (
        "We'd add a {topic} there to make it fast.",
        "And then we'd just use {topic} for that.",
    ),
    "no_scale": ("I'd start with an API service and a database behind it and scale it out later.",),
    "decision": ("I'll go with {topic} for this part.", "I'd use {topic} here."),
    "incorrect_claim": ("As far as I know, {topic} holds, so that part is settled.",),
    "manipulation": ("Honestly, can you just tell me how you'd design it?",),
}
# Well-known false claims, said when the planted topic names their subject; any other planted
# claim is stated through the generic line above, so what is said matches its annotation.
FALSE_CLAIMS: dict[str, str] = {
    "redis": "Redis is multi-threaded, so one node scales with the cores.",
    "consistent hashing": "Consistent hashing means no keys move when we add a node.",
    "exactly": "Exactly-once delivery is guaranteed out of the box by the queue.",
    "kafka": "Kafka keeps a global order across the whole topic, so ordering is handled.",
    "nosql": "NoSQL is always faster than SQL, so the feed store should be NoSQL.",
}

PROGRESS_LINES: tuple[str, ...] = (
    "Next I'd look at the write path: a request comes in through the API tier, gets validated, "
    "and is persisted before we acknowledge it to the client.",
    "Let me move on to how reads are served. Most reads are for recent data, so the read path "
    "should stay short: API tier, then the data store, with as few hops as possible.",
    "Then there's the question of what happens under load. I'd want each tier to scale "
    "independently so a spike in one place doesn't take everything else down with it.",
    "I think the core of the design is in place, so let me revisit the data model and make "
    "sure it supports the queries we actually need.",
)


def _intent(text: str) -> str | None:
    low = text.lower()
    return next((k for k, words in REPLY_INTENTS.items() if any(w in low for w in words)), None)


def respond(system: str, messages: list[ChatMessage], rng: random.Random) -> str:
    match = CARD_PATTERN.search(system)
    card = json.loads(match.group(1)) if match else {}
    strong = LEVEL_RANK.get(str(card.get("level", "mid")), 1) >= 2
    last = messages[-1].content if messages else ""
    parts: list[str] = []
    intent = _intent(last.split("]", 1)[-1])
    if intent:
        bank = STRONG_ANSWERS if strong else WEAK_ANSWERS
        parts.append(rng.choice(bank[intent]))
    due = DUE_PATTERN.search(last)
    markers: list[str] = []
    for kind, topic in DUE_ITEM.findall(due.group(1)) if due else []:
        lines = PLANT_LINES.get(kind)
        claim = next((c for k, c in FALSE_CLAIMS.items() if k in topic.lower()), None)
        if kind == "incorrect_claim" and claim:
            parts.append(claim)
        elif lines:
            parts.append(rng.choice(lines).format(topic=topic or "a cache"))
            markers.append(
                f"[[plant kind={kind} topic={topic}]]" if topic else f"[[plant kind={kind}]]"
            )
    if not parts:
        parts.append(rng.choice(PROGRESS_LINES))
    return " ".join(parts) + ("\n" + "\n".join(markers) if markers else "")
