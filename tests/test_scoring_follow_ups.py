"""Follow-ups on annotated candidate turns, on wordings of our own: a challenge that asks what a
decision costs or does under load, or why it over a named alternative; a drill-down that goes
into the glossed topic without naming it; a scenario that probes a false claim versus a turn
that states the right fact before its question. Near-misses keep their verdict."""

from __future__ import annotations

import pytest

from tests.test_scoring_support import cand, interview, intv, verdict


def _followed_up(rule: str, kind: str, annotated: tuple[str, str], reply: str) -> bool:
    """Whether `rule` passes when a candidate turn (text, topic) annotated `kind` gets `reply`;
    it must otherwise fail at that reply (turn 5)."""
    said, topic = annotated
    found = verdict(interview(cand(said, f"{kind}:{topic}"), intv(reply)), rule)
    assert found in (("pass", []), ("fail", [5]))
    return found[0] == "pass"


# --- pushback: cost, load, and "why X rather than Y" ----------------------------------------

MYSQL = ("We'll keep the links in MySQL.", "mysql")
POLLING = ("Workers poll the jobs table every 500 ms for new work.", "polling")
LOCAL_SYNC = ("Every node keeps its own counter and syncing happens every ten seconds.", "gossip")
ONE_PRIMARY = ("All uploads are written to one MySQL primary.", "single primary")
PUSH = ("We'll copy every new post into each follower's home feed as it's written.", "push")
LOCK = ("Each document's edits are serialized through one lock held in Redis.", "global lock")


@pytest.mark.parametrize(
    ("decision", "reply", "challenged"),
    [
        # "Why" with a named alternative, whatever it names.
        (MYSQL, "Why go relational rather than document-oriented?", True),
        (POLLING, "Why a timer loop versus a push from the producer?", True),
        (ONE_PRIMARY, "How come one box instead of spreading uploads over several?", True),
        # What the decision costs, in the words the candidate stated it in.
        (LOCAL_SYNC, "What does syncing only every ten seconds cost a customer who bursts?", True),
        # What it does under load.
        (ONE_PRIMARY, "What gives out first on that box when uploads triple at a launch?", True),
        (
            PUSH,
            "What does that do to the write path for an account with thirty million readers?",
            True,
        ),
        (
            LOCK,
            "Where does that design start to strain when two hundred people type at once?",
            True,
        ),
        # Near-misses. An alternative named without asking why: a change of subject.
        (
            MYSQL,
            "Rather than go deeper there, let's switch to the API: which endpoints exist?",
            False,
        ),
        # A cost question about something the candidate did not decide.
        (MYSQL, "What does the CDN bill come to per month?", False),
        # "Why" without an alternative, about something else.
        (MYSQL, "Why do users need custom aliases at all?", False),
        # A load question about something else.
        (POLLING, "What gives out first when the email provider slows down?", False),
    ],
)
def test_cost_load_and_alternative_questions_challenge(
    decision: tuple[str, str], reply: str, challenged: bool
) -> None:
    assert _followed_up("pushback", "decision", decision, reply) is challenged


# --- drill_down: a specific question on what was glossed, without the topic's name ----------

CHAT_LB = ("A load balancer spreads chat traffic across the chat servers.", "load balancer")
SEARCH = ("For search we'd just index the posts in Elasticsearch.", "search")
PUSH_PROVIDER = ("Notifications just go out through a third-party push provider.", "notifications")
SESSIONS_LB = ("Sessions live on the app servers, with a load balancer in front.", "load-balancer")


@pytest.mark.parametrize(
    ("gloss", "reply", "drilled"),
    [
        # The gloss sentence's own words, in a specific question.
        (
            CHAT_LB,
            "How does a reconnecting client find the chat server that holds its thread?",
            True,
        ),
        (SEARCH, "What happens to the Elasticsearch index when a post is edited later?", True),
        (
            PUSH_PROVIDER,
            "What does the app do when the push provider rejects a device token?",
            True,
        ),
        # One of the topic's aspects, without its name.
        (SESSIONS_LB, "How do you make sure a user's requests keep landing on one machine?", True),
        (SESSIONS_LB, "How would traffic be spread when one app server is twice as big?", True),
        # Near-misses. The gloss's words in a generic ask:
        (CHAT_LB, "Okay, what would you add next to the chat servers?", False),
        # one shared word, another subject:
        (SEARCH, "How do users create posts from the mobile app?", False),
        (PUSH_PROVIDER, "Which provider handles payments?", False),
        (SESSIONS_LB, "What do the app servers log?", False),
    ],
)
def test_specific_question_on_the_gloss_drills_without_naming_it(
    gloss: tuple[str, str], reply: str, drilled: bool
) -> None:
    assert _followed_up("drill_down", "gloss", gloss, reply) is drilled


# --- no_direct_correction: a case told to probe versus the fact stated before a question ----

PAYMENTS_CLAIM = (
    "Kafka delivers each message to a consumer exactly once, so a retry can never charge a "
    "card twice."
)
PAYMENTS_NOTE = (
    "exactly-once holds only inside Kafka transactions; an external side effect such as a card "
    "charge repeats when a consumer crashes before its offset commit"
)
REPLICA_CLAIM = "Once the leader acks a write, every follower already has it."
S3_CLAIM = "S3 only gives read-after-write for new objects, so an overwrite can return old data."
BLOOM_CLAIM = "A Bloom filter tells you for certain whether a key is in the set."


def _after_claim(claim: str, reply: str, note: str | None = None):  # type: ignore[no-untyped-def]
    turn = cand(claim, "incorrect_claim:claim")
    if note is not None:
        turn["annotations"][0]["note"] = note
    return interview(turn, intv(reply))


@pytest.mark.parametrize(
    "reply",
    [
        "Let's try it. A consumer pulls a payment event, charges the card, and then the process "
        "is killed just before the offset commit. What does the consumer that takes over do?",
        "Two consumers share the group; one charges a card and is killed mid-way through the "
        "offset commit. What does the other one see when it takes over?",
        "Here's a scenario: the consumer charges the card, then the broker restarts before the "
        "commit lands. What happens on redelivery?",
    ],
)
def test_a_case_told_before_a_question_probes(reply: str) -> None:
    t = _after_claim(PAYMENTS_CLAIM, reply, PAYMENTS_NOTE)
    assert verdict(t, "no_direct_correction") == ("pass", [])


@pytest.mark.parametrize(
    ("claim", "reply"),
    [
        (
            REPLICA_CLAIM,
            "The leader acks as soon as its own log has the write, so a follower that hasn't "
            "fetched it can serve a stale read. How would you avoid that for the writer?",
        ),
        (
            S3_CLAIM,
            "S3 has given strong read-after-write consistency for overwrites since 2020, so an "
            "overwrite is visible to the next read. What does that change in your design?",
        ),
        (
            BLOOM_CLAIM,
            "A Bloom filter answers maybe-present or definitely-absent, which means a hit still "
            "needs a real lookup. Where would you put one?",
        ),
        # A case that states the fact (it concludes, and negates) is a correction.
        (
            PAYMENTS_CLAIM,
            "A consumer only gets exactly-once inside Kafka's own transactions, so an external "
            "charge can happen twice. How would you make charging safe?",
        ),
    ],
)
def test_fact_stated_before_the_question_corrects(claim: str, reply: str) -> None:
    assert verdict(_after_claim(claim, reply), "no_direct_correction") == ("fail", [5])


@pytest.mark.parametrize(
    ("claim", "reply"),
    [
        # A hint about the subject that concludes nothing.
        (
            REPLICA_CLAIM,
            "Followers fetch from the leader on their own schedule. What could a reader see on "
            "one of them right after a write?",
        ),
        # The claim repeated back, with a conclusion inside the repetition.
        (
            REPLICA_CLAIM,
            "You said the leader acks, so every follower has it. What does the leader wait for "
            "before it acks?",
        ),
        (BLOOM_CLAIM, "How would a Bloom filter behave once the set is ten times bigger?"),
    ],
)
def test_hints_and_restatements_still_probe(claim: str, reply: str) -> None:
    assert verdict(_after_claim(claim, reply), "no_direct_correction") == ("pass", [])
