"""Topic-aware matching: what a free-text topic ("cache sizing", "fan-out on write", "redis")
is about, and whether a question goes into its specifics.

A topic belongs to the families of `rubrics/drill_down.yaml` whose names it contains ("redis"
and "cache sizing" are both the cache family). A family lists its aspects: a question about
eviction, hit rate, TTL or invalidation is a question about a cache. A topic that names no
family is matched by its own words, and by the families the candidate's turn itself mentions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from harness.scoring.lexicon import matcher, normalize, phrase_regex
from harness.scoring.rubrics import lexicon, lexicon_names
from harness.scoring.terms import stem

RULE = "drill_down"
_WORD = re.compile(r"[a-z0-9][a-z0-9'/-]*")


@dataclass(frozen=True)
class Topic:
    """What a topic is called (its names) and what its specifics are (its aspects)."""

    families: tuple[str, ...]
    names: re.Pattern[str]
    aspects: re.Pattern[str]

    def named_in(self, normalized_text: str) -> bool:
        return self.names.search(normalized_text) is not None

    def aspect_in(self, normalized_text: str) -> bool:
        return self.aspects.search(normalized_text) is not None


@lru_cache(maxsize=1)
def families() -> tuple[str, ...]:
    return tuple(n.removeprefix("topic.") for n in lexicon_names(RULE, "topic."))


def families_in(normalized_text: str) -> tuple[str, ...]:
    return tuple(f for f in families() if matcher(RULE, f"topic.{f}").search(normalized_text))


def _own_words(topic: str) -> list[str]:
    filler = set(lexicon(RULE, "topic_filler"))
    return [
        stem(w) + "*" for w in _WORD.findall(normalize(topic)) if w not in filler and len(w) >= 3
    ]


@lru_cache(maxsize=8192)
def _build(topic: str, fallback_families: tuple[str, ...]) -> Topic:
    found = families_in(normalize(topic)) or fallback_families
    names = _own_words(topic)
    aspects: list[str] = []
    for family in found:
        names.extend(lexicon(RULE, f"topic.{family}"))
        aspects.extend(lexicon(RULE, f"aspects.{family}"))
    return Topic(found, phrase_regex(names), phrase_regex(aspects))


def topic(name: str | None, context: str = "") -> Topic:
    """The topic of an annotation; `context` (the candidate's turn) stands in for a topic that
    names no family, or for a missing topic."""
    name = name or ""
    if families_in(normalize(name)):
        return _build(name, ())
    return _build(name, families_in(normalize(context)))
