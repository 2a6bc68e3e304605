"""Word banks the synthetic stand-ins read and write with: topics and misconceptions (the
problems come from harness/config/problems.py).

These are the synthetic backend's "knowledge". They describe system-design vocabulary in
general, not the wording of any persona or test.
"""

from __future__ import annotations

import re

# Components a candidate may wave at, with the specifics a good interviewer drills into.
TOPIC_WORDS: dict[str, tuple[str, ...]] = {
    "cache": ("cache", "redis", "memcached", "caching"),
    "sharding": ("shard", "sharding", "partition"),
    "queue": ("queue", "kafka", "sqs", "rabbitmq", "message bus"),
    "database": ("database", "postgres", "mysql", "cassandra", "dynamo", "sql", "nosql"),
    "load balancer": ("load balancer", "load-balancer", "round robin", "nginx"),
    "replication": ("replica", "replication", "replicate", "leader-follower"),
    "cdn": ("cdn", "edge"),
    "websocket": ("websocket", "long poll", "push connection"),
}

DRILL_QUESTIONS: dict[str, tuple[str, ...]] = {
    "cache": (
        "What eviction policy would that cache use?",
        "What hit rate do you expect from the cache, given your access pattern?",
        "How do entries in that cache get invalidated when the underlying data changes?",
        "How big does the cache need to be to hold the hot set?",
    ),
    "sharding": (
        "What happens to your sharding when one key gets far more traffic than the rest?",
        "How do you rebalance when you add a shard?",
    ),
    "queue": (
        "What happens when consumers fall behind and that queue backs up?",
        "How do consumers of that queue handle a message delivered twice?",
    ),
    "database": (
        "What does the schema look like for the hottest table?",
        "Which index serves your most frequent query?",
    ),
    "load balancer": (
        "How does the load balancer decide a backend is unhealthy?",
        "Which balancing algorithm would you pick for long-lived connections?",
    ),
    "replication": ("What do readers see while that replication lags behind?",),
    "cdn": ("How would you purge a bad object from the CDN?",),
    "websocket": ("How many open connections can one server hold?",),
}

# What the interviewer tells a candidate who asks a clarifying question in the first minutes.
CLARIFY_ANSWERS: tuple[str, ...] = (
    "Good questions. It's a large consumer product; the exact numbers are yours to choose.",
    "It's global and read-heavy; the numbers you design for are up to you.",
    "Reasonable scope. Availability matters more than strict consistency here; you set the scale.",
)

# Drill-downs into a glossed sentence the interviewer has no canned question for.
QUOTE_DRILLS: tuple[str, ...] = (
    'You said "{quote}". How exactly would that work?',
    'Let\'s dig into "{quote}". What does that look like concretely?',
    'Go deeper on "{quote}": what would it take to make that work at scale?',
)

PUSHBACK_QUESTIONS: tuple[str, ...] = (
    "Why {topic} rather than the obvious alternative, given what it costs you?",
    "What do you give up by choosing {topic} over the alternatives?",
    "Why not go the other way here — what would you lose without {topic}?",
)

SCALE_QUESTIONS: tuple[str, ...] = (
    "Before we go further, what scale are we designing for, in requests per second at peak?",
    "How many daily active users do you expect?",
    "What numbers are you designing for: reads per second, writes per second, and storage growth?",
)

GENERIC_QUESTIONS: dict[str, tuple[str, ...]] = {
    "clarify": (
        "What requirements would you pin down first?",
        "Which matters more for this system, availability or consistency?",
        "Who are the clients of this system?",
    ),
    "high_level": (
        "Walk me through the high-level components and how a request flows through them.",
        "What does the API look like?",
        "Where does the data live?",
    ),
    "deep_dive": (
        "Which part of this design is the hardest, in your view?",
        "How does the data model look for the core entities?",
        "Walk me through the write path in detail.",
        "Walk me through the read path in detail.",
        "Where would you expect contention in this design?",
        "What consistency does a user see right after a write?",
        "How would you partition the data as it grows?",
    ),
    "bottlenecks": (
        "What's the first thing to break at 100x the load?",
        "Which failure mode worries you most here?",
        "How would you monitor this in production?",
        "How would you roll out a schema change without downtime?",
        "What happens during a full region outage?",
        "What would you cut if you had half the budget?",
    ),
}

# Well-known misconceptions, each with the fact an interviewer would correct it with and a
# question that leads toward the gap without stating it.
MISCONCEPTIONS: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), fact, probe)
    for p, fact, probe in (
        (
            r"redis\b[^.]*\b(multi-?threaded|uses all (the )?cores|scales? with (the )?cores)",
            "Actually, Redis executes commands on a single thread.",
            "How many threads does Redis use to execute commands?",
        ),
        (
            r"consistent hashing[^.]*\b(no|zero|never)\b[^.]*(move|movement|rebalanc|remap)",
            "That's not right: consistent hashing still moves about 1/n of the keys.",
            "When you add a node to the ring, which keys change owner?",
        ),
        (
            r"\budp\b[^.]*\b(guarantee|reliable|in order)",
            "Actually, UDP guarantees neither delivery nor ordering.",
            "What does UDP promise you about delivery and ordering?",
        ),
        (
            r"\b(sql|relational)\b[^.]*\b(can'?t|cannot|doesn'?t|don'?t)\b[^.]*\bscale",
            "That's not correct: relational databases scale with sharding and read replicas.",
            "What have large companies done to scale relational databases horizontally?",
        ),
        (
            r"exactly[- ]once[^.]*\b(guarantee|free|out of the box|automatic)",
            "Actually, exactly-once delivery isn't something a queue gives you for free.",
            "What happens if a worker finishes a job and crashes before it acknowledges it?",
        ),
        (
            r"\bkafka\b[^.]*\b(global|total)\b[^.]*\border",
            "Actually, Kafka only orders messages within a partition.",
            "What ordering does Kafka give you across partitions?",
        ),
        (
            r"\b(md5|sha-?\d*|hash(es|ing)?)\b[^.]*\b(never|no|can'?t)\b[^.]*collid",
            "That's wrong: hashes can collide, and truncated ones collide often.",
            "With a 7-character code, how likely is a collision after a billion URLs?",
        ),
        (
            r"\bcap\b[^.]*\ball three\b",
            "Actually, under a partition you have to give up consistency or availability.",
            "What does your system do during a network partition?",
        ),
        (
            r"\b(websockets?)\b[^.]*\b(udp|stateless|no (server )?state)",
            "Actually, WebSockets run over TCP and are stateful connections.",
            "What does a server have to keep for each open WebSocket?",
        ),
        (
            r"\b(last[- ]write[- ]wins|lww)\b[^.]*\b(never|no)\b[^.]*\b(lose|lost|loss)",
            "Actually, last-write-wins silently drops concurrent edits.",
            "Two people type in the same paragraph at once: what does each see afterwards?",
        ),
        (
            r"\b(clocks?|timestamps?)\b[^.]*\b(perfectly |always )?(synchroni[sz]ed|in sync)\b",
            "Actually, clocks across machines drift; you can't rely on them being in sync.",
            "How far apart can two servers' clocks be, and what breaks if they are?",
        ),
        (
            r"\bnosql\b[^.]*\balways\b[^.]*\bfaster",
            "That's not right: neither is always faster; it depends on the access pattern.",
            "For the timeline's main query, what would make one store faster than the other?",
        ),
        (
            r"\b(fixed window)\b[^.]*\b(exact|precise|no burst)",
            "That's not right: a fixed window allows double the rate at window edges.",
            "What happens to a client that sends its whole quota at the end of one window and the "
            "start of the next?",
        ),
    )
)

DEPTH_TERMS: tuple[str, ...] = (
    "eviction",
    "lru",
    "ttl",
    "hit rate",
    "invalidat",
    "replica",
    "replication",
    "quorum",
    "partition",
    "shard key",
    "consistent hashing",
    "idempot",
    "backpressure",
    "dead letter",
    "retry",
    "exponential backoff",
    "leader",
    "failover",
    "heartbeat",
    "lease",
    "crdt",
    "operational transform",
    "vector clock",
    "token bucket",
    "sliding window",
    "fan-out",
    "fanout",
    "write amplification",
    "hot key",
    "hot spot",
    "cdn",
    "base62",
    "monitoring",
    "alerting",
    "p99",
    "latency budget",
    "bloom filter",
    "write-ahead",
    "snapshot",
    "compaction",
    "rate of",
    "read path",
    "write path",
    "at-least-once",
    "visibility timeout",
    "tombstone",
)

TRADEOFF_TERMS: tuple[str, ...] = (
    "trade-off",
    "tradeoff",
    "because",
    "instead of",
    "rather than",
    "at the cost",
    "downside",
    "the catch",
    "on the other hand",
    "versus",
    " vs ",
)

NUMBER_PATTERN = re.compile(
    r"\b\d[\d,.]*\s*(k|m|b|million|billion|thousand|qps|rps|tps|/s|per second|gb|tb|pb|mb|"
    r"users|dau|mau|requests|writes|reads|ms|%|bytes)\b",
    re.IGNORECASE,
)
