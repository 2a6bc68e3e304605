"""Content words of a text, for telling whether two texts talk about the same things."""

from __future__ import annotations

import re
from functools import lru_cache

from harness.scoring.lexicon import normalize
from harness.scoring.rubrics import lexicon

# Words of four letters or more, and numbers of two digits or more ("128-bit", "40 writes/s").
_TOKEN = re.compile(r"[a-z][a-z0-9'-]{3,}|(?<![\w.])\d[\d.,]*\d")
# Longest first: "caches" loses "es", not just "s".
_SUFFIXES = ("ies", "ing", "'s", "es", "ed", "s")


@lru_cache(maxsize=1)
def _generic() -> frozenset[str]:
    return frozenset(stem(w) for w in lexicon("score_justified", "generic_words"))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A crude stem, enough to match "shards" with "sharding" and "caches" with "cache" (words
    repeat across turns and transcripts: worth remembering)."""
    base = word.strip("'-")
    for suffix in _SUFFIXES:
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    if len(base) >= 4 and base.endswith("e"):
        base = base[:-1]
    return base if len(base) >= 3 else word


def content_words(text: str) -> set[str]:
    """Stems of the words of four letters or more that are not generic, and numbers."""
    generic = _generic()
    return {s for s in (stem(w) for w in _TOKEN.findall(normalize(text))) if s not in generic}
