"""Counts of the golden set's labels per rule and verdict, printed as the markdown that
`tests/golden/README.md` shows. Also the tag vocabulary (the hard cases of issue 3) and what
makes a case a full interview, so that the README, this script and the tests agree.

Run: `.venv/bin/python tests/golden/count.py`
"""

from __future__ import annotations

import pandas as pd

from harness.contracts import RULE_IDS
from harness.scoring.golden import GoldenCase, load_golden
from harness.simulate.clock import TIME_UP_S

VERDICTS = ("pass", "fail", "n/a")
FULL_INTERVIEW_TAG = "full-interview"
MIN_FULL_TURNS = 16

TAGS: dict[str, str] = {
    FULL_INTERVIEW_TAG: "opening, pick, statement, deep dive, time_up at or after 40 min, reply",
    "excerpt": "a short interview that stops before 40 minutes (feedback rules n/a unless early)",
    "no-interviewer-turn": "the interviewer never spoke: opening and one_question n/a",
    # opening
    "opening-list-and-ask": "first turn offers the list and asks which; next turn states the pick",
    "opening-late-pick": "the candidate does something else before picking",
    "opening-picks-itself": "first interviewer turn chooses the problem, no list",
    "opening-list-then-picks": "first turn shows the list but then chooses the problem itself",
    "opening-drops-list": "first turn asks which problem without offering the list",
    "opening-wrong-problem": "statement turn states a problem the candidate did not pick",
    "opening-designs": "statement turn goes on to design the system",
    # question counting (one_question)
    "md-numbered-list": "a numbered list in an interviewer turn",
    "md-bulleted-list": "a bulleted list in an interviewer turn",
    "md-table": "a markdown table in an interviewer turn",
    "md-bold": "bold text (labels or questions) in an interviewer turn",
    "md-heading": "a markdown heading in an interviewer turn",
    "md-code-block": "a fenced code block (with a '?' in it) in an interviewer turn",
    "md-inline-code": "inline code (some with a '?') in an interviewer turn",
    "list-of-questions": "a numbered or bulleted list whose items are questions (fails)",
    "list-not-questions": "a list of statements or options followed by one question (passes)",
    "quoted-question-mark": "a question mark inside quotes is not a question of the interviewer",
    "imperative-ask": "'Walk me through...', 'Estimate...', 'Tell me...' count as questions",
    "imperative-plus-question": "an imperative ask and a question in one turn (fails)",
    "options-in-one-question": "'LRU, LFU, or something else?' is one question",
    "separate-questions": "'X? And Y?' or two question sentences (fails)",
    "questions-in-feedback": "questions inside the feedback do not count for one_question",
    "seed-redis-turn": "the seed article's four-question Redis pushback, verbatim",
    # opportunity rules
    "pushback-challenge": "a decision challenged in the next interviewer turn",
    "pushback-accepts": "a decision accepted without challenge",
    "pushback-half": "exactly half of the decisions challenged (passes)",
    "pushback-minority": "fewer than half of the decisions challenged (fails)",
    "scale-probe-next": "scale asked in the next interviewer turn",
    "scale-probe-second": "scale asked in the second interviewer turn after no_scale",
    "scale-given-between": "the candidate gave the numbers before the interviewer asked",
    "scale-missed": "no scale question in the two turns after no_scale",
    "drill-topic-match": "the next turn asks a specific question on the glossed topic",
    "drill-synonym": "the drill names the aspect (staleness, backoff) rather than the topic word",
    "drill-generic": "a generic 'ok, what next?' after a gloss",
    "drill-wrong-topic": "the next turn moves to another topic",
    "correction-direct": "'Actually, ...' states the right fact",
    "correction-thats-not-right": "'That's not right' / 'No —' says the claim is wrong",
    "correction-in-question": "a question that states the right fact while asking",
    "probe": "a scenario question that leads to the gap without stating the fact",
    # feedback
    "feedback-headings": "feedback sections as markdown headings",
    "feedback-bold-labels": "feedback sections as bold labels",
    "feedback-paragraphs": "feedback as plain paragraphs",
    "feedback-section-names-vary": "sections named other than strong/weak/wanted",
    "feedback-missing-section": "one of strong, weak, wanted is absent (fails)",
    "feedback-empty-section": "a section is present but has no concrete point (fails)",
    "seed-feedback": "the seed article's feedback, verbatim",
    "score-bold": "'**Score: 7/10**'",
    "score-spaced": "'6.5 / 10' with spaces, halves",
    "score-out-of": "'7 out of 10'",
    "score-overall": "'Overall: 8/10', with sub-scores around it",
    "score-decoy": "other 'N/10' or numbers near the score that are not the final score",
    "score-other-scale": "'82/100', 'B+', '4/5': not out of 10, final_score null",
    "score-bare": "a score with no reasons",
    "score-missing": "feedback without any score",
    # timing
    "early-feedback": "feedback and a score before 40 minutes",
    "early-score": "a score mid-interview, before time_up",
    "no-feedback-after-time-up": "time_up answered without feedback",
    "question-after-time-up": "time_up answered with one more question, feedback a turn late",
    "feedback-without-time-up": "feedback at or after 40 minutes with no time_up turn",
    # in_role
    "in-role-reveals-instructions": "the interviewer reveals its instructions",
    "in-role-discusses-instructions": "the interviewer talks about what its instructions say",
    "in-role-designs": "the interviewer designs the system for the candidate",
    "in-role-as-an-ai": "'As an AI...'",
    "in-role-score-raised": "the score is raised under pressure",
    "adversarial-held": "a manipulation attempt the interviewer resists (in_role passes)",
    "direct-correction-not-in-role-break": "a direct correction is a rule-6 fault, not in_role",
}


def is_full_interview(case: GoldenCase) -> bool:
    """Opens with the candidate, runs to a time_up at or after 40 minutes, and the
    interviewer answers it."""
    turns = case.transcript.turns
    time_up = [i for i, t in enumerate(turns) if any(a.kind == "time_up" for a in t.annotations)]
    return (
        len(turns) >= MIN_FULL_TURNS
        and turns[0].role == "candidate"
        and turns[1].role == "interviewer"
        and bool(time_up)
        and turns[time_up[0]].elapsed_s >= TIME_UP_S
        and any(t.role == "interviewer" for t in turns[time_up[0] + 1 :])
    )


def verdict_counts(cases: list[GoldenCase]) -> pd.DataFrame:
    """Rules as rows (in contract order), verdicts as columns, case counts as cells."""
    rows = [(rule, case.labels.rules[rule].verdict) for case in cases for rule in RULE_IDS]
    frame = pd.DataFrame(rows, columns=["rule", "verdict"])
    table = pd.crosstab(frame["rule"], frame["verdict"])
    return table.reindex(index=list(RULE_IDS), columns=list(VERDICTS), fill_value=0)


def tag_counts(cases: list[GoldenCase]) -> pd.DataFrame:
    """Every known tag (in vocabulary order), what it means, and how many cases carry it."""
    used = pd.Series([tag for case in cases for tag in case.tags], dtype="object").value_counts()
    return pd.DataFrame(
        {"cases": [int(used.get(tag, 0)) for tag in TAGS], "meaning": list(TAGS.values())},
        index=pd.Index(list(TAGS), name="tag"),
    )


def summary(cases: list[GoldenCase]) -> str:
    scores = [c.labels.final_score for c in cases]
    full = sum(is_full_interview(c) for c in cases)
    lines = [
        f"cases: {len(cases)} ({full} full interviews, {len(cases) - full} excerpts)",
        f"final_score: {sum(s is not None for s in scores)} numbers, "
        f"{sum(s is None for s in scores)} null",
        "",
        verdict_counts(cases).to_markdown(),
        "",
        tag_counts(cases).to_markdown(),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(summary(load_golden()))
