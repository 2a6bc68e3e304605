"""Finding the interviewer's final feedback and the score out of 10 it gives."""

from __future__ import annotations

import re

# "7/10", "6.5 / 10", "7 out of 10"; not "82/100" (the lookahead refuses a longer scale).
_OUT_OF_TEN = re.compile(
    r"(?<![\d.])(\d{1,2}(?:\.\d+)?)\s*(?:/|out of)\s*10(?![\d.]*\d)", re.IGNORECASE
)
_SECTION_WORDS = re.compile(
    r"\b(strong|strength|went well|weak|weakness|needs work|improve|would have (liked|wanted)|"
    r"hoping to hear|missing|missed)\b",
    re.IGNORECASE,
)


def extract_score(text: str) -> float | None:
    """The score out of 10 in a feedback text, or None when there is none or it is out of range."""
    for match in _OUT_OF_TEN.finditer(text):
        value = float(match.group(1))
        if 0 <= value <= 10:
            return value
    return None


def looks_like_feedback(text: str) -> bool:
    """A final assessment: a score out of 10, or at least two feedback section cues."""
    if extract_score(text) is not None:
        return True
    return len({m.group(1).lower() for m in _SECTION_WORDS.finditer(text)}) >= 2
