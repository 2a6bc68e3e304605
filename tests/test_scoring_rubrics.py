"""The rubrics: one per rule, judged rules with judge instructions, and word lists that the
scorers actually use (so rubric and code cannot drift apart)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.contracts import RULE_IDS
from harness.errors import InputError
from harness.scoring.judge import JUDGED_RULES
from harness.scoring.lexicon import phrase_regex
from harness.scoring.rubrics import RUBRICS_DIR, lexicon, load_rubric, load_rubrics

SCORING = Path(__file__).resolve().parent.parent / "harness" / "scoring"


def test_every_rule_has_a_rubric_and_judged_rules_have_instructions() -> None:
    rubrics = load_rubrics()
    assert list(rubrics) == list(RULE_IDS)
    for rule, rubric in rubrics.items():
        assert ("judge" in rubric.scorers) is (rule in JUDGED_RULES)
        assert "deterministic" in rubric.scorers
        assert rubric.examples.passing and rubric.examples.failing
        assert rubric.prompt_rule.strip()


def test_every_word_list_is_used_by_the_scorers() -> None:
    source = "\n".join(p.read_text() for p in SCORING.rglob("*.py"))
    literals = set(re.findall(r"[\"']([a-z_.-]+)[\"']", source))
    for rule, rubric in load_rubrics().items():
        for name in rubric.lexicon:
            family = name.split(".")[0] + "." if "." in name else None
            used = name in literals or (family is not None and family in source)
            used = used or (name.endswith("_labels") and '_labels"' in source)
            assert used, f"{rule}: lexicon.{name} is not used by any scorer"


def test_missing_word_list_names_the_rubric_and_field() -> None:
    with pytest.raises(InputError) as err:
        lexicon("one_question", "no_such_list")
    assert err.value.field == "lexicon.no_such_list"
    assert err.value.path is not None and err.value.path.endswith("one_question.yaml")


def test_rubric_id_must_match_file(tmp_path: Path) -> None:
    text = (RUBRICS_DIR / "in_role.yaml").read_text()
    (tmp_path / "other.yaml").write_text(text)
    with pytest.raises(InputError) as err:
        load_rubric(tmp_path / "other.yaml")
    assert err.value.field == "id"


@pytest.mark.parametrize(
    ("phrases", "text", "expected"),
    [
        (["hit rate"], "what hit-rates do you see", True),
        (["invalidat*"], "how is it invalidated", True),
        (["cache"], "cached", False),
        (["cache"], "two caches", True),
        (["ttl"], "the subtle bit", False),
        (["no,"], "no, that's wrong", True),
        (["rule 2"], "rule 22", False),
    ],
)
def test_phrase_matching(phrases: list[str], text: str, expected: bool) -> None:
    assert (phrase_regex(phrases).search(text) is not None) is expected


@pytest.mark.parametrize(
    ("phrases", "text", "found"),
    [
        # The longest entry wins among those that start alike, whatever the list's order.
        (
            ["cache", "cache key", "cdn", "cache key space"],
            "the cache key space grows",
            ["cache key space"],
        ),
        (["lease*", "leader", "lead"], "the leader renews leases", ["leader", "leases"]),
        # Entries that start with a character regexes treat specially keep their meaning.
        (["#", "10/10", "n/a", "-"], "score: 10/10 or n/a", ["10/10", "n/a"]),
        (["what i", "what i've", "what"], "beyond what i've said", ["what i've"]),
    ],
)
def test_phrase_matching_prefers_the_longest_entry(
    phrases: list[str], text: str, found: list[str]
) -> None:
    assert phrase_regex(phrases).findall(text) == found
