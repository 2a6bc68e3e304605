"""Rules 3 to 6, checked where the candidate opened a chance for them (its annotations):
pushback after a `decision`, a scale question after `no_scale`, a drill-down after a `gloss`,
and a probe, not a correction, after an `incorrect_claim`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from harness.contracts import RuleResult
from harness.scoring.lexicon import alternation, has, matcher, normalize, words
from harness.scoring.markdown import blocks, is_question_sentence, plain_sentences, sentences
from harness.scoring.rubrics import lexicon
from harness.scoring.rules.verdicts import Hit, flagged, judged, not_applicable
from harness.scoring.terms import content_words
from harness.scoring.topics import Topic, topic
from harness.scoring.view import TranscriptView

_CLAUSE = re.compile(r"\s+[—–-]\s+|;\s+|:\s+|,\s+(?=but\b)")
# A statement that shares this many words of the true fact (the annotation's note) that the
# claim itself did not use states the fact.
NOTE_OVERLAP = 2
# A negated statement shares this many content words with the claim: it contradicts it.
CLAIM_OVERLAP = 2
# A statement without negation that shares this many content words with a clause of the claim
# that denies something, among them what it denies, states the opposite of the claim.
CONTRADICTION_OVERLAP = 3
DENIED_SPAN = 3  # words after a negation among which is what it denies
_LEAD_SPAN = 25  # a restatement opens the statement ("So you said...")
BARE_LEAD_WORDS = 4  # "Let's test that." announces a case and says nothing more
# A stress question that shares this many words with the statement of a decision is about the
# situation the decision creates.
SITUATION_OVERLAP = 2
# A specific question that shares this many words with the sentences of a gloss is about what
# was glossed, even when it does not name the topic.
GLOSS_OVERLAP = 2
# How a follow-up was matched: by the rule's cue words or the topic (CUE), only by words shared
# with the candidate's turn (OVERLAP), or not at all but close to it (NEAR). OVERLAP and NEAR
# decisions are the ones a paraphrase could flip: their verdicts are marked `uncertain`.
CUE, OVERLAP, NEAR = "cue", "overlap", "near"


def _chances(view: TranscriptView, kind: str) -> list[tuple[int, int]]:
    """(candidate turn, next interviewer turn) for each turn annotated `kind` whose next
    interviewer turn is an interview turn (the feedback is no place to follow up)."""
    out = []
    for c in view.annotated(kind):
        i = view.next_interviewer(c)
        if i is not None and view.is_interview_turn(i):
            out.append((c, i))
    return out


def _topics(view: TranscriptView, c: int, kind: str) -> list[Topic]:
    return [topic(name, view.text(c)) for name in view.topics(c, kind)]


# --- pushback -----------------------------------------------------------------------------


def _turn_words(view: TranscriptView, i: int) -> set[str]:
    """The content words of turn i, worked out once per view."""
    return view.derived(f"content_words.{i}", lambda v: content_words(v.text(i)))


def _words_about(view: TranscriptView, c: int, topics: list[Topic]) -> set[str]:
    """Content words of the sentences of candidate turn c that speak of the annotated topics
    (the whole turn when none names them): what the candidate decided or claimed."""
    said = plain_sentences(view.text(c))
    about = [s for s in said if any(t.named_in(s) or t.aspect_in(s) for t in topics)]
    return content_words(" ".join(about or said))


def challenge_how(view: TranscriptView, c: int, i: int, decided: list[Topic]) -> str | None:
    """An ask in turn i asks why the choice of turn c or what it costs. "Why" with a named
    alternative ("Why a queue rather than direct calls?") always does. Comparison and stress
    (failure, load, cost) questions count when they name the decision's topic or point back at
    it; a stress question also counts when it is about the situation the decision creates (it
    picks up the words in which the candidate stated it: "what happens to a user whose requests
    all hit one server?" after "each server counts its own requests")."""
    situation: set[str] | None = None
    near: str | None = None
    for ask in view.asks(i):
        text = normalize(ask.text)
        if has("pushback", "challenge_cues", text) or (
            has("pushback", "reason_asks", text) and has("pushback", "alternative_markers", text)
        ):
            return CUE
        stress = has("pushback", "stress_cues", text)
        if not (stress or has("pushback", "comparison_cues", text)):
            continue
        if has("pushback", "back_references", text) or any(
            t.named_in(text) or t.aspect_in(text) for t in decided
        ):
            return CUE
        near = NEAR  # a stress or comparison question on something the word lists cannot tie
        if stress:
            situation = _words_about(view, c, decided) if situation is None else situation
            if len(content_words(ask.text) & situation) >= SITUATION_OVERLAP:
                return OVERLAP
    return near


def challenges(view: TranscriptView, c: int, i: int, decided: list[Topic]) -> bool:
    """Whether turn i challenges the decision of turn c (see `challenge_how`)."""
    return challenge_how(view, c, i, decided) in (CUE, OVERLAP)


def check_pushback(view: TranscriptView) -> RuleResult:
    chances = _chances(view, "decision")
    if not chances:
        return not_applicable()
    how = {i: challenge_how(view, c, i, _topics(view, c, "decision")) for c, i in chances}
    missed = [(i, view.text(i)) for _, i in chances if how[i] not in (CUE, OVERLAP)]
    challenged = len(chances) - len(missed)
    failed = 2 * challenged < len(chances)
    result = judged(
        missed, len(chances), f"{challenged} of {len(chances)} decisions challenged", failed=failed
    )
    # The verdict is uncertain when the chances decided at the edge could flip it.
    edge = [i for _, i in chances if how[i] == (NEAR if failed else OVERLAP)]
    flips = (
        2 * (challenged + len(edge)) >= len(chances)
        if failed
        else (2 * (challenged - len(edge)) < len(chances))
    )
    signals = [
        f"turn {i}: "
        + (
            "a stress or comparison question not tied to the decision by the word lists"
            if failed
            else "challenge found only by words shared with the decision"
        )
        for i in edge
    ]
    return flagged(result, signals if edge and flips else [])


# --- scale_probe --------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _scale_numbers() -> re.Pattern[str]:
    mag = words("scale_probe", "magnitudes")
    units = words("scale_probe", "scale_units")
    spelled = words("scale_probe", "spelled_counts")
    count = rf"(?:\d[\d,.]*\s*(?:{mag})?|(?:{spelled})\s+(?:{mag})?)"
    return re.compile(
        rf"(?<![\w.]){count}\s*(?:{units})(?!\w)|(?<!\w)(?:{mag})s?\s+of\s+(?:{units})(?!\w)"
    )


def gives_numbers(text: str) -> bool:
    """The candidate put numbers on the load: "100M users", "40 writes/s", "2 TB a year"."""
    return _scale_numbers().search(normalize(text)) is not None


@dataclass(frozen=True)
class _QuantityQuestions:
    amount: re.Pattern[str]  # "how much data per day", "how fast will storage grow"
    sized: re.Pattern[str]  # "peak traffic", "the expected scale"
    framed: re.Pattern[str]  # "what volume" (a question about sizing: see sizing_verbs)


@lru_cache(maxsize=1)
def _quantity_questions() -> _QuantityQuestions:
    rule = "scale_probe"
    amount = words(rule, "amount_questions")
    measured = alternation(lexicon(rule, "scale_units") + lexicon(rule, "growth_words"))
    nouns = words(rule, "dimension_nouns")
    return _QuantityQuestions(
        amount=re.compile(rf"(?<!\w)(?:{amount})\s+(?:[\w'-]+\s+){{0,3}}?{measured}(?!\w)"),
        sized=re.compile(
            rf"(?<!\w)(?:{words(rule, 'sizing_adjectives')})\s+(?:[\w'-]+\s+)?(?:{nouns})(?!\w)"
        ),
        framed=re.compile(
            rf"(?<!\w)(?:{words(rule, 'quantity_leads')})\s+(?:[\w'-]+\s+){{0,3}}?(?:{nouns})(?!\w)"
        ),
    )


def asks_quantity(normalized_ask: str) -> bool:
    """The ask wants numbers on the load: users, QPS, "how much data", "peak traffic", "what
    scale should we plan for"; not whether or how the design copes ("Does it scale?")."""
    if has("scale_probe", "scale_terms", normalized_ask):
        return True
    pats = _quantity_questions()
    if pats.amount.search(normalized_ask) or pats.sized.search(normalized_ask):
        return True
    return bool(pats.framed.search(normalized_ask)) and has(
        "scale_probe", "sizing_verbs", normalized_ask
    )


def asks_scale(view: TranscriptView, i: int) -> bool:
    """An ask in turn i wants scale numbers: users, traffic, QPS, storage, growth."""
    return any(asks_quantity(normalize(ask.text)) for ask in view.asks(i))


def check_scale_probe(view: TranscriptView) -> RuleResult:
    chances = 0
    hits: list[Hit] = []
    for c in view.annotated("no_scale"):
        first = view.next_interviewer(c)
        second = view.next_interviewer(first) if first is not None else None
        window = [i for i in (first, second) if i is not None and view.is_interview_turn(i)]
        if not window:
            continue
        chances += 1
        if asks_scale(view, window[0]):
            continue
        if len(window) > 1:
            between = range(window[0] + 1, window[1])
            if any(
                view.turns[j].role == "candidate" and gives_numbers(view.text(j)) for j in between
            ):
                continue
            if asks_scale(view, window[1]):
                continue
        hits.append((window[0], view.text(window[0])))
    if not chances:
        return not_applicable()
    return judged(hits, chances, "no question about scale numbers after the candidate gave none")


# --- drill_down ---------------------------------------------------------------------------


def drill_how(view: TranscriptView, c: int, i: int, glossed: list[Topic]) -> str | None:
    """An ask in turn i goes into a specific of what candidate turn c glossed: one of the
    topic's aspects, or, in a question that is not generic, the topic itself or the things the
    gloss spoke of without naming the topic ("How does a reconnecting client find the server
    that holds its thread?" after "a load balancer spreads chat traffic across the chat
    servers")."""
    whole = view.normalized(i)
    gloss: set[str] | None = None
    near: str | None = None
    for ask in view.asks(i):
        text = normalize(ask.text)
        if any(t.aspect_in(text) for t in glossed):
            return CUE
        if has("drill_down", "generic_asks", text):
            continue
        for t in glossed:
            if t.named_in(text) or (
                t.named_in(whole) and has("drill_down", "back_references", text)
            ):
                return CUE
        gloss = _words_about(view, c, glossed) if gloss is None else gloss
        shared = len(content_words(ask.text) & gloss)
        if shared >= GLOSS_OVERLAP:
            return OVERLAP
        if shared:
            near = NEAR  # a specific question that shares a word with the gloss
    return near


def drills(view: TranscriptView, c: int, i: int, glossed: list[Topic]) -> bool:
    """Whether turn i drills into what turn c glossed (see `drill_how`)."""
    return drill_how(view, c, i, glossed) in (CUE, OVERLAP)


def check_drill_down(view: TranscriptView) -> RuleResult:
    chances = _chances(view, "gloss")
    if not chances:
        return not_applicable()
    how = {i: drill_how(view, c, i, _topics(view, c, "gloss")) for c, i in chances}
    hits: list[Hit] = [(i, view.text(i)) for _, i in chances if how[i] not in (CUE, OVERLAP)]
    result = judged(hits, len(chances), "moves on without a specific question on what was glossed")
    if hits:  # uncertain when every miss is a near one: a paraphrase could have been a drill
        if all(how[i] == NEAR for i, _ in hits):
            return flagged(
                result,
                [f"turn {i}: a specific question sharing a word with the gloss" for i, _ in hits],
            )
        return result
    weak = [i for _, i in chances if how[i] == OVERLAP]
    return flagged(
        result, [f"turn {i}: drill found only by words shared with the gloss" for i in weak]
    )


# --- no_direct_correction -----------------------------------------------------------------


def _statements(text: str) -> list[str]:
    out: list[str] = []
    for block in blocks(text):
        for sentence in sentences(block.text):
            out.extend(c for c in _CLAUSE.split(sentence) if c.strip())
    return out


@lru_cache(maxsize=1)
def _hedges() -> re.Pattern[str]:
    return re.compile(rf"(?<!\w)(?:{words('no_direct_correction', 'hedges')})\s+")


def _says_wrong(text: str) -> bool:
    """The statement says the claim is wrong, softened or not ("That's not right", "I don't
    think that's entirely accurate", a bare "No.")."""
    rule = "no_direct_correction"
    if matcher(rule, "bare_verdicts").fullmatch(text.strip(" .!,*_")):
        return True
    return has(rule, "correction_phrases", text) or has(
        rule, "correction_phrases", _hedges().sub("", text)
    )


def correction(view: TranscriptView, c: int, i: int) -> str | None:
    """The statement of turn i that corrects the claim of turn c (see `correction_how`)."""
    found = correction_how(view, c, i)
    return found[0] if found else None


def correction_how(view: TranscriptView, c: int, i: int) -> tuple[str, str] | None:
    """The statement of turn i that says the claim of turn c is wrong or states the fact: a
    verdict on it, the fact of the annotation's note, a denial of or a conclusion about what
    the claim speaks of ("the leader acks once its own log has it, so a follower can lag"), or the
    opposite of what a claim denies ("X can't push" answered by "X can push at any time").
    A case told for the candidate to work through, before a question, states nothing."""
    rule = "no_direct_correction"
    claim = _turn_words(view, c)
    denials: list[tuple[set[str], set[str]]] | None = None
    facts = [content_words(n) - claim for n in view.notes(c, "incorrect_claim")]
    after_lead = False
    for statement in _statements(view.text(i)):
        text = normalize(statement)
        if is_question_sentence(statement) or has(rule, "probe_leads", text[:_LEAD_SPAN]):
            after_lead = len(text.split()) <= BARE_LEAD_WORDS
            continue
        if view.asks(i) and _sets_up_a_case(text, after_lead):
            continue
        after_lead = False
        if _says_wrong(text):
            return statement, CUE
        said = content_words(statement)
        if any(len(said & fact) >= NOTE_OVERLAP for fact in facts):
            return statement, CUE
        if has(rule, "negation_markers", text) or _concludes().search(text):
            if len(said & claim) >= CLAIM_OVERLAP:
                return statement, OVERLAP
        elif len(said & claim) >= CONTRADICTION_OVERLAP:
            denials = _denials(view.text(c)) if denials is None else denials
            if any(
                len(said & clause) >= CONTRADICTION_OVERLAP and said & denied
                for clause, denied in denials
            ):
                return statement, OVERLAP
    return None


@lru_cache(maxsize=1)
def _concludes() -> re.Pattern[str]:
    """A conclusion drawn inside a statement ("..., so a follower can serve a stale read"), not
    a "So" that opens it."""
    return re.compile(
        rf"(?<=[\w)%])[,;]?\s+(?:{words('no_direct_correction', 'conclusion_markers')})(?!\w)"
    )


@lru_cache(maxsize=1)
def _case_opener() -> re.Pattern[str]:
    return re.compile(rf"^(?:{words('no_direct_correction', 'case_openers')})\s")


def _sets_up_a_case(text: str, after_lead: bool) -> bool:
    """The statement tells a case for the candidate to work through ("A worker takes a job,
    charges the card, then the process is killed"), asserting nothing about the claim: it
    opens like a story (or follows a bare "Let's test that."), sequences events, and neither
    negates nor concludes anything."""
    rule = "no_direct_correction"
    return (
        (after_lead or _case_opener().match(text) is not None)
        and has(rule, "sequence_words", text)
        and not has(rule, "negation_markers", text)
        and _concludes().search(text) is None
    )


@lru_cache(maxsize=1)
def _negation() -> re.Pattern[str]:
    """A negation and the few words it denies ("can't push from the")."""
    markers = words("no_direct_correction", "negation_markers")
    return re.compile(rf"(?<!\w)(?:{markers})(?!\w)((?:\s+[\w'/-]+){{1,{DENIED_SPAN}}})")


def _denials(text: str) -> list[tuple[set[str], set[str]]]:
    """The clauses of a turn that deny something: each one's content words, and what each
    negation denies, its first content word ("push" in "WebSockets can't push to clients")."""
    out = []
    for clause in _statements(text):
        denied: set[str] = set()
        for m in _negation().finditer(normalize(clause)):
            first = next((w for w in map(content_words, m[1].split()) if w), set())
            denied |= first
        if denied:
            out.append((content_words(clause), denied))
    return out


def probes(view: TranscriptView, c: int, i: int, claimed: list[Topic]) -> bool:
    """Turn i asks something that stays on the claim of turn c: an ask names its topic or one
    of its aspects, or the turn picks up a word of the sentences that make the claim (or of the
    annotation's note), or several words of the claim turn. Moving on to something else ("Fine.
    How do users log in?") is no probe, however polite."""
    asks = view.asks(i)
    if not asks:
        return False
    for ask in asks:
        text = normalize(ask.text)
        if any(t.named_in(text) or t.aspect_in(text) for t in claimed):
            return True
    said = _turn_words(view, i)
    about = _words_about(view, c, claimed)
    about |= {w for n in view.notes(c, "incorrect_claim") for w in content_words(n)}
    return bool(said & about) or len(said & _turn_words(view, c)) >= CLAIM_OVERLAP


def check_no_direct_correction(view: TranscriptView) -> RuleResult:
    chances = _chances(view, "incorrect_claim")
    if not chances:
        return not_applicable()
    hits: list[Hit] = []
    notes: list[str] = []
    edge: list[str] = []  # each miss decided at the edge of the word lists
    for c, i in chances:
        found = correction_how(view, c, i)
        if found is not None:
            hits.append((i, found[0]))
            notes.append("corrects the claim instead of probing")
            if found[1] == OVERLAP:
                edge.append(f"turn {i}: a correction inferred from words shared with the claim")
        elif not probes(view, c, i, _topics(view, c, "incorrect_claim")):
            hits.append((i, view.text(i)))
            notes.append("moves on without probing the claim")
            if view.asks(i):
                edge.append(f"turn {i}: asks something the word lists do not tie to the claim")
    result = judged(hits, len(chances), "; ".join(dict.fromkeys(notes)))
    return flagged(result, edge if hits and len(edge) == len(hits) else [])
