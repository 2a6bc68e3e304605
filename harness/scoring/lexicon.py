"""The rubrics' word lists compiled into matchers, once each, so scorers match only what the
rubrics say.

A list entry is a phrase matched as whole words, case-insensitively, with spaces and hyphens
interchangeable and an optional plural ("hit rate" matches "hit-rates"); an entry ending in `*` is
a prefix ("invalidat*" matches "invalidation", "invalidated").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from harness.scoring.rubrics import lexicon

_CURLY = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def straighten(text: str) -> str:
    """Curly quotes and apostrophes made straight."""
    return text if text.isascii() else text.translate(_CURLY)


def normalize(text: str) -> str:
    """Lower case with straight quotes: the form every matcher expects."""
    return straighten(text).lower()


def _entry_pattern(phrase: str) -> str:
    phrase = normalize(phrase.strip())
    prefix = phrase.endswith("*")
    words = re.split(r"[\s-]+", phrase.rstrip("*"))
    # A phrase of separators only ("-") is itself: no empty pattern that matches anywhere.
    body = r"[\s-]+".join(re.escape(w) for w in words if w) or re.escape(phrase.rstrip("*"))
    if prefix:
        return body + r"\w*"
    return body + (r"(?:s|es)?" if body[-1:].isalnum() else "")


def alternation(phrases: Iterable[str]) -> str:
    """A non-capturing group matching any of the phrases (longest first), without boundaries.
    Entries are grouped by their first character: at a given position only one group can
    match, and the regex engine then tries a handful of entries instead of the whole list
    (about three times faster on the long lists)."""
    entries = sorted({_entry_pattern(p) for p in phrases if p.strip()}, key=len, reverse=True)
    if not entries:
        return "(?!x)x"
    groups: dict[str, list[str]] = {}
    for entry in entries:  # longest first within each group, as in the list
        groups.setdefault(entry[:2] if entry.startswith("\\") else entry[:1], []).append(entry)
    parts = ("(?:" + "|".join(g) + ")" if len(g) > 1 else g[0] for g in groups.values())
    return "(?:" + "|".join(parts) + ")"


def phrase_regex(phrases: Iterable[str]) -> re.Pattern[str]:
    """Any of the phrases, bounded by non-word characters."""
    return re.compile(r"(?<!\w)" + alternation(phrases) + r"(?!\w)")


@cache
def matcher(rule_id: str, name: str) -> re.Pattern[str]:
    """The compiled matcher for the rubric list `rule_id`/`name`; apply it to `normalize`d text."""
    return phrase_regex(lexicon(rule_id, name))


@cache
def words(rule_id: str, name: str) -> str:
    """The rubric list as a regex alternation, for building larger patterns."""
    return alternation(lexicon(rule_id, name))


@cache
def any_of(rule_id: str, names: tuple[str, ...]) -> re.Pattern[str]:
    """One matcher for several lists of a rubric: a single pass tells whether any can match."""
    return phrase_regex(p for name in names for p in lexicon(rule_id, name))


def has(rule_id: str, name: str, normalized_text: str) -> bool:
    return matcher(rule_id, name).search(normalized_text) is not None


def find(rule_id: str, name: str, normalized_text: str) -> list[str]:
    return matcher(rule_id, name).findall(normalized_text)
