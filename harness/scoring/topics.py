"""Topic-aware matching: what a free-text topic ("cache sizing", "fan-out on write", "redis")
is about, and whether a question goes into its specifics.

A topic belongs to the families of `rubrics/drill_down.yaml` whose names it contains ("redis"
and "cache sizing" are both the cache family). A family lists its aspects: a question about
eviction, hit rate, TTL or invalidation is a question about a cache. A topic that names no
family ("retries" did, "permissions service" does not) is matched by its own words, and by the
families named in the sentences of the candidate's turn that mention it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from harness.scoring.lexicon import matcher, normalize, phrase_regex
from harness.scoring.markdown import plain_sentences
from harness.scoring.rubrics import lexicon, lexicon_names
from harness.scoring.terms import stem

RULE = "drill_down"
_WORD = re.compile(r"[a-z0-9][a-z0-9'/-]*")
# A topic's own word matches by its first letters: "persistence", "persisted", "persist".
PREFIX_LETTERS = 6


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


@lru_cache(maxsize=4096)
def _families_named(topic_name: str) -> tuple[str, ...]:
    """The families a topic string names (topic strings repeat: worth remembering)."""
    return families_in(normalize(topic_name))


def _own_words(topic: str) -> list[str]:
    """The topic's own words as prefixes ("persistence" -> "persis*" matches "persisted")."""
    filler = set(lexicon(RULE, "topic_filler"))
    out = []
    for word in _WORD.findall(normalize(topic)):
        if word in filler or len(word) < 3:
            continue
        out.append(stem(word)[:PREFIX_LETTERS] + "*")
    return out


@lru_cache(maxsize=8192)
def _build(topic: str, context_families: tuple[str, ...]) -> Topic:
    found = _families_named(topic) or context_families
    names = _own_words(topic)
    aspects: list[str] = []
    for family in found:
        names.extend(lexicon(RULE, f"topic.{family}"))
        aspects.extend(lexicon(RULE, f"aspects.{family}"))
    return Topic(found, phrase_regex(names), phrase_regex(aspects))


def topic(name: str | None, context: str = "") -> Topic:
    """The topic of an annotation. A topic that names no family takes the families of the
    sentences of `context` (the candidate's turn) that mention it; a missing topic takes those
    of the whole turn."""
    name = name or ""
    if _families_named(name):
        return _build(name, ())
    own = phrase_regex(_own_words(name)) if name.strip() else None
    around = [s for s in plain_sentences(context) if own is None or own.search(s)]
    return _build(name, tuple(dict.fromkeys(f for s in around for f in families_in(s))))
