"""Rules 7 and 8: feedback on time, in three sections, with a justified score out of 10."""

from __future__ import annotations

import re

from harness.contracts import RuleResult
from harness.scoring.feedback import SECTION_KINDS
from harness.scoring.markdown import blocks, sentences
from harness.scoring.rules.verdicts import Hit, flagged, judged, not_applicable
from harness.scoring.terms import content_words
from harness.scoring.view import TranscriptView

SECTION_NAMES = {
    "strong": "what was strong",
    "weak": "what was weak",
    "wanted": "what the interviewer would have wanted to hear",
}
# Reasons refer to what the candidate did when they share this many words with what it said.
GROUNDED_TERMS = 2
MIN_STEM = 4  # shorter stems ("bas") would be found inside unrelated words


def check_feedback_timing(view: TranscriptView) -> RuleResult:
    early = [i for i in view.assessments if view.due is None or i < view.due]
    hits: list[Hit] = [(i, view.text(i)) for i in early]
    note = "feedback or a score before time is up" if early else None
    if view.due is None:
        return judged(hits, 1, note) if early else not_applicable()
    after = [i for i in view.interviewer if i >= view.due]
    if view.time_up is not None:
        on_time = bool(after) and view.feedback == after[0]
        late = "the first interviewer turn after time_up is not the feedback"
    else:
        on_time = view.feedback is not None and view.feedback >= view.due
        late = "no feedback after 40 minutes"
    if not on_time:
        hits.extend((i, view.text(i)) for i in after[:1])
        note = note or late
    return judged(hits, 1, note, failed=bool(hits) or not on_time)


def check_feedback_format(view: TranscriptView) -> RuleResult:
    if view.feedback is None:
        return not_applicable()
    parts = view.parts(view.feedback)
    present = parts.present()
    missing = [SECTION_NAMES[k] for k in SECTION_KINDS if k not in present]
    hits: list[Hit] = [(view.feedback, view.text(view.feedback))] if missing else []
    result = judged(hits, 1, "missing or empty: " + ", ".join(missing))
    # Uncertain: a section found in unlabelled prose (pass), or labelled but judged empty (fail).
    edge = (
        [k for k in SECTION_KINDS if k in parts.labelled and k not in present]
        if missing
        else [k for k in SECTION_KINDS if k not in parts.labelled]
    )
    why = "labelled but judged empty" if missing else "found in unlabelled prose"
    return flagged(result, [f"{SECTION_NAMES[k]}: {why}" for k in edge])


def grounded_terms(view: TranscriptView, text: str) -> set[str]:
    """Words of the feedback's reasons that the candidate itself used (stems are prefixes, so
    "shard" is found in "sharded")."""
    said = "\n".join(view.normalized(i) for i, t in enumerate(view.turns) if t.role == "candidate")
    reasons = " ".join(s for b in blocks(text, mask=False) for s in sentences(b.text))
    stems = sorted((w for w in content_words(reasons) if len(w) >= MIN_STEM), key=len, reverse=True)
    if not stems:
        return set()
    starts = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in stems) + ")")
    return set(starts.findall(said))


def check_score_justified(view: TranscriptView) -> RuleResult:
    if view.feedback is None:
        return not_applicable()
    text = view.text(view.feedback)
    hit: list[Hit] = [(view.feedback, text)]
    if view.scores.get(view.feedback) is None:
        return judged(hit, 1, "no score out of 10")
    grounded = len(grounded_terms(view, text))
    if grounded < GROUNDED_TERMS:
        result = judged(hit, 1, "a bare score: no reasons that refer to what the candidate did")
    else:
        result = judged([], 1)
    edge = grounded in (GROUNDED_TERMS - 1, GROUNDED_TERMS)  # one word from the other verdict
    return flagged(
        result, [f"{grounded} word(s) of the reasons echo the candidate"] if edge else []
    )
