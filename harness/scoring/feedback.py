"""Finding the interviewer's final feedback, its score out of 10, and its three sections.

Feedback comes as markdown headings, bold labels, "Label:" openings or plain paragraphs, with
section names that differ but mean the same ("Needs work", "Areas to improve"); the names are
the lists of `rubrics/feedback_format.yaml`. A score counts only when it is out of 10 ("7/10",
"6.5 / 10", "7 out of 10", "seven out of ten"); "82/100" and "B+" are not, and a count like
"1 out of 10 requests" is not a score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from harness.scoring.lexicon import has, normalize, straighten, words
from harness.scoring.markdown import (
    blocks,
    rewrite_tables,
    sentences,
    strip_emphasis,
    without_quoted_blocks,
)
from harness.scoring.questions import asks
from harness.scoring.rubrics import lexicon

FORMAT = "feedback_format"
SCORE = "score_justified"
SectionKind = Literal["strong", "weak", "wanted"]
SECTION_KINDS: tuple[SectionKind, ...] = ("strong", "weak", "wanted")
# A label is tried against the most specific list first: "what could be stronger" is weak.
_LABEL_ORDER: tuple[SectionKind, ...] = ("wanted", "weak", "strong")
_CUE_WINDOW = 48
_NEGATION_WINDOW = 28
_MAX_LABEL_WORDS = 8
_WORD = re.compile(r"[a-z]{3,}")


@dataclass(frozen=True, slots=True)
class ScoreMention:
    value: float
    start: int
    end: int
    rank: int  # 2: after a headline cue ("Score:", "Overall"), 1: after another cue, 0: none


@dataclass
class FeedbackParts:
    """What a feedback turn contains: its score and the concrete points of each section."""

    score: float | None
    points: dict[SectionKind, list[str]] = field(default_factory=dict)
    labelled: set[SectionKind] = field(default_factory=set)

    def present(self) -> set[SectionKind]:
        return {k for k in SECTION_KINDS if self.points.get(k)}


@dataclass(frozen=True)
class _ScorePatterns:
    may_score: re.Pattern[str]  # every score out of 10 says "10" or "ten": a cheap first look
    out_of_ten: re.Pattern[str]
    labelled_bare: re.Pattern[str]
    other_scale: re.Pattern[str]
    other_grade: re.Pattern[str]
    follower: re.Pattern[str]
    number_words: dict[str, int]


@lru_cache(maxsize=1)
def _score_patterns() -> _ScorePatterns:
    number_words = words(SCORE, "number_words")
    ten = lexicon(SCORE, "number_words")[10]
    num = r"\d{1,2}(?:\.\d+)?(?:\s*½)?|½"
    return _ScorePatterns(
        out_of_ten=re.compile(
            rf"(?<![\w./])(?:(?P<low>\d{{1,2}}(?:\.\d+)?)\s*(?:-|–|to)\s*)?"
            rf"(?P<num>{num}|{number_words})\s*(?P<sep>/|out\s+of|of)\s*(?:10|{ten})"
            r"(?![\w.,]*\d)(?!\w)(?!\s*%)(?!/\d)",
            re.IGNORECASE,
        ),
        may_score=re.compile(rf"(?<![\d.])10(?!\d)|\b{ten}\b"),
        labelled_bare=re.compile(
            rf"(?<!\w){words(SCORE, 'bare_score_labels')}\s*(?:\*\*|__)?\s*[:=]\s*(?:\*\*|__)?\s*"
            r"(?P<num>\d{1,2}(?:\.\d+)?)(?![\w.]*\d)(?!\s*(?:/|out\s+of|of\b|%))",
            re.IGNORECASE,
        ),
        other_scale=re.compile(r"(?<![\w.])\d+(?:\.\d+)?\s*(?:/|out\s+of)\s*(?!10(?!\d))\d+"),
        other_grade=re.compile(
            rf"(?<!\w){words(SCORE, 'grade_labels')}\s*(?:\*\*|__)?\s*[:=-]?\s*(?:\*\*|__)?\s*"
            rf"(?:\d+(?:\.\d+)?\s*(?:/|out\s+of)\s*\d+|[a-f][+-]?(?![\w+-])"
            rf"|{words(SCORE, 'verdict_grades')}(?!\w))"
        ),
        follower=re.compile(r"\s*[*_)\]]*\s*([a-z']+)"),
        number_words={w: i for i, w in enumerate(lexicon(SCORE, "number_words"))},
    )


def _number(raw: str, words_to_int: dict[str, int]) -> float:
    raw = raw.strip().lower()
    if raw in words_to_int:
        return float(words_to_int[raw])
    if raw.endswith("½"):
        whole = raw[:-1].strip()
        return (float(whole) if whole else 0.0) + 0.5
    return float(raw)


def _cue_rank(before: str) -> int:
    if has(SCORE, "headline_cues", before):
        return 2
    return 1 if has(SCORE, "score_cues", before) else 0


def _opens_line(text: str, start: int) -> bool:
    """Nothing but markup or a label between the line start (or sentence start) and `start`."""
    line_start = max(text.rfind("\n", 0, start), max(text.rfind(". ", 0, start), -1)) + 1
    return not re.search(r"[a-z0-9]", text[line_start:start].replace("**", "").lower())


def score_mentions(lowered: str) -> list[ScoreMention]:
    """Every number in the (normalized) text that reads as a score out of 10, in order."""
    out: list[ScoreMention] = []
    pats = _score_patterns()
    if not pats.may_score.search(lowered):
        return out
    for m in pats.out_of_ten.finditer(lowered):
        value = _number(m.group("num"), pats.number_words)
        if m.group("low") is not None:
            value = (float(m.group("low")) + value) / 2
        if not 0 <= value <= 10:
            continue
        before = lowered[max(0, m.start() - _CUE_WINDOW) : m.start()]
        if has(SCORE, "score_negations", before[-_NEGATION_WINDOW:]):
            continue
        rank = _cue_rank(before)
        follower = pats.follower.match(lowered, m.end())
        counted_thing = follower is not None and not has(SCORE, "score_followers", follower[1])
        if rank == 0 and (
            counted_thing or (m.group("sep") != "/" and not _opens_line(lowered, m.start()))
        ):
            continue
        out.append(ScoreMention(value, m.start(), m.end(), rank))
    return out


def extract_score(text: str) -> float | None:
    """The score out of 10 in a feedback text, or None when there is none or it is on another
    scale. Where several appear, the one after "Score"/"Overall" wins, then the first."""
    return _score_in(normalize(text))


def _score_in(lowered: str) -> float | None:
    mentions = score_mentions(lowered)
    if mentions:
        return min(mentions, key=lambda s: (-s.rank, s.start)).value
    pats = _score_patterns()
    bare = pats.labelled_bare.search(lowered)
    if bare and not pats.other_scale.search(lowered):
        value = float(bare.group("num"))
        return value if 0 <= value <= 10 else None
    return None


# --- sections -----------------------------------------------------------------------------

_HEADING_LABEL = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(?P<label>[^\n]+?)[ \t]*#*[ \t]*$", re.M)
_BOLD_LABEL = re.compile(
    r"^[ \t]*(?P<item>(?:[-*+\u2022]|\d{1,2}[.)])[ \t]+)?(?P<mark>\*\*|__)(?P<label>[^\n*_]{2,80}?)"
    r"(?P=mark)[ \t]*:?",
    re.M,
)
_PLAIN_LABEL = re.compile(
    r"(?:^|(?<=[.!?])[ \t]+)[ \t]*(?P<item>(?:[-*+\u2022]|\d{1,2}[.)])[ \t]+)?"
    r"(?P<label>[A-Z][^\n:.!?*]{1,60}?):(?=\s|$)",
    re.M,
)


@dataclass(frozen=True, slots=True)
class _Label:
    start: int
    end: int
    kind: SectionKind | Literal["other"]


def _label_kind(label: str, *, alone: bool = False) -> SectionKind | Literal["other"] | None:
    """The section a label names. A strong label negated ("Less good") names the weak one.
    A short label of unknown name that stands alone on its line (`alone`: "**Where it
    slipped**") still starts a part of its own ("other"), read for what its sentences say."""
    text = normalize(strip_emphasis(label)).strip(" :")
    if not text or len(text.split()) > _MAX_LABEL_WORDS:
        return None
    for kind in _LABEL_ORDER:
        if has(FORMAT, f"{kind}_labels", text):
            if kind == "strong" and has(FORMAT, "label_negations", text):
                return "weak"
            return kind
    if has(FORMAT, "other_labels", text) or (alone and not text.endswith((".", "!", "?"))):
        return "other"
    return None


def _labels(text: str) -> list[_Label]:
    found: list[_Label] = []
    if ":" not in text and "#" not in text and "**" not in text and "__" not in text:
        return found
    for m in _HEADING_LABEL.finditer(text):
        found.append(_Label(m.start(), m.end(), _label_kind(m["label"]) or "other"))
    for pattern in (_BOLD_LABEL, _PLAIN_LABEL):
        for m in pattern.finditer(text):
            alone = pattern is _BOLD_LABEL and not m["item"] and _ends_line(text, m.end())
            kind = _label_kind(m["label"], alone=alone)
            if kind is not None and not (kind == "other" and m["item"]):
                found.append(_Label(m.start(), m.end(), kind))
    found.sort(key=lambda lab: (lab.start, -lab.end))
    kept: list[_Label] = []
    for lab in found:
        if not kept or lab.start >= kept[-1].end:
            kept.append(lab)
    return kept


def _ends_line(text: str, end: int) -> bool:
    newline = text.find("\n", end)
    return not text[end : len(text) if newline < 0 else newline].strip()


@lru_cache(maxsize=1)
def _empty_point() -> re.Pattern[str]:
    """A point that says there is nothing ("None", "Honestly, not much stood out this time",
    "Nothing big; nice work!"), or only cheers ("Great job!")."""
    filler = words(FORMAT, "empty_fillers")
    gap = r"[\s,;:.!\u2013\u2014-]+"
    empty = words(FORMAT, "empty_points")
    return re.compile(
        rf"(?:(?:{filler}{gap})*{empty}(?:{gap}{filler})*|{filler}(?:{gap}{filler})*)[\s.!]*"
    )


def _concrete(point: str) -> bool:
    """A point with substance: a real word in it, and not a way of saying "nothing"."""
    text = normalize(strip_emphasis(point)).strip(" .:;!-—–")
    return bool(_WORD.search(text)) and not _empty_point().fullmatch(text)


def _points(section: str) -> list[str]:
    out: list[str] = []
    for block in blocks(section, mask=False):
        out.extend([block.text] if block.kind == "item" else sentences(block.text))
    return [p for p in out if _concrete(p)]


def _prose_kinds(sentence: str) -> set[SectionKind]:
    text = normalize(sentence)
    if has(FORMAT, "wanted_cues", text):
        return {"wanted"}
    kinds: set[SectionKind] = set()
    if has(FORMAT, "weak_cues", text):
        kinds.add("weak")
    if has(FORMAT, "strong_cues", text) and (not kinds or has(FORMAT, "contrast_words", text)):
        kinds.add("strong")
    return kinds


def parse_feedback(text: str) -> FeedbackParts:
    """The score and each section's concrete points; sections come from labels where the
    feedback has them and from what its other sentences say where it does not."""
    text = _table_rows_as_labels(straighten(text))
    labels = _labels(text)
    parts = FeedbackParts(score=extract_score(text))
    unlabelled: list[str] = [text[: labels[0].start] if labels else text]
    for i, lab in enumerate(labels):
        end = labels[i + 1].start if i + 1 < len(labels) else len(text)
        body = text[lab.end : end]
        if lab.kind == "other":
            unlabelled.append(body)
            continue
        parts.labelled.add(lab.kind)
        parts.points.setdefault(lab.kind, []).extend(_points(body))
    for chunk in unlabelled:
        _add_prose(parts, chunk, SECTION_KINDS)
    if "wanted" not in parts.labelled:  # "I would have liked to hear..." inside another section
        for i, lab in enumerate(labels):
            if lab.kind not in ("other", "wanted"):
                end = labels[i + 1].start if i + 1 < len(labels) else len(text)
                _add_prose(parts, text[lab.end : end], ("wanted",))
    return parts


@lru_cache(maxsize=1)
def _instruction() -> re.Pattern[str]:
    return re.compile(rf"^(?:{words(FORMAT, 'instruction_openers')})(?!\w)")


def _is_instruction(sentence: str) -> bool:
    """A rule for the interviewer ("Ask one question at a time", "Never correct the candidate
    directly"), or a sentence about its instructions: what a leaked prompt says, not an
    assessment of the candidate."""
    text = normalize(sentence)
    return bool(_instruction().match(text)) or has("in_role", "instruction_reveals", text)


def _add_prose(parts: FeedbackParts, chunk: str, kinds: tuple[SectionKind, ...]) -> None:
    """Points for the unlabelled kinds among `kinds` from what the chunk's sentences say."""
    for block in blocks(chunk, mask=False):
        for sentence in [block.text] if block.kind == "item" else sentences(block.text):
            if _is_instruction(sentence):
                continue
            for kind in _prose_kinds(sentence):
                if kind in kinds and kind not in parts.labelled and _concrete(sentence):
                    parts.points.setdefault(kind, []).append(sentence)


def _table_rows_as_labels(text: str) -> str:
    """Markdown table rows ("| Strengths | Clear API |") read as "Strengths: Clear API"."""
    return rewrite_tables(text, lambda cells: f"{cells[0]}: {' '.join(cells[1:])}")


def looks_like_feedback(text: str) -> bool:
    """A final assessment: a score or grade, labels for two of the three sections, or an
    announced assessment whose sentences say what was strong, weak or wanted."""
    return assessment(text)[1]


def assessment(text: str) -> tuple[float | None, bool]:
    """The score out of 10 in the text, and whether the text reads as feedback (one pass).
    A grade on another scale ("Score: 82/100", "Grade: B+") makes feedback, but no score.
    Sections count only in the interviewer's own words: a quoted prompt that lists them is
    not an assessment."""
    lowered = normalize(text)
    score = _score_in(lowered)
    if score is not None:
        return score, True
    if _score_patterns().other_grade.search(lowered):
        return None, True
    return None, announces_sections(text)


def announces_sections(text: str) -> bool:
    """Labels for two of the three sections, or an announced assessment whose sentences say
    two of what was strong, weak and wanted, outside quoted blocks."""
    own = without_quoted_blocks(straighten(text))
    return _announces_sections(own, own.lower())


def _announces_sections(text: str, lowered: str) -> bool:
    if len({lab.kind for lab in _labels(text)} - {"other"}) >= 2:
        return True
    if not has(FORMAT, "assessment_cues", lowered):
        return False
    return len(parse_feedback(text).present()) >= 2


def answers_feedback_request(text: str) -> bool:
    """Looser, for the turn right after the candidate asked for feedback: any assessment that
    asks nothing more ("Thanks! Overall you did well.") is the feedback, however thin."""
    if looks_like_feedback(text):
        return True
    lowered = normalize(without_quoted_blocks(text))
    return has(FORMAT, "assessment_cues", lowered) and all(a.check_in for a in asks(text))
