"""Sequential repeats: alpha spending across looks, stopping, and reuse of the response cache."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.stats.gate import GateConfig
from harness.stats.gate_inputs import run_prompt
from harness.stats.sequential import Sides, look_tails, run_sequential, spent
from harness.store.runs import read_manifest
from tests.conftest import V1, write_project


@pytest.mark.parametrize("kind", ["pocock", "obrien-fleming"])
def test_looks_spend_exactly_the_level(kind: str) -> None:
    tails = look_tails([3, 6, 12], kind, 0.003)
    assert all(t > 0 for t in tails)
    assert sum(tails) == pytest.approx(0.003)  # the union bound over looks is the level
    assert spent(kind, 1.0, 0.003) == pytest.approx(0.003)
    if kind == "obrien-fleming":
        assert tails[0] < tails[1] < tails[2]  # little at the early looks


def test_one_stage_is_the_fixed_design() -> None:
    assert look_tails([5], "pocock", 0.01) == [pytest.approx(0.01)]


def _project(tmp_path: Path) -> tuple[Path, Path]:
    suite = write_project(tmp_path / "p", repeats=2)
    no_rule_2 = tmp_path / "no-rule-2.md"
    text = V1.read_text(encoding="utf-8")
    no_rule_2.write_text(
        "\n".join(ln for ln in text.splitlines() if not ln.startswith("2. ")) + "\n"
    )
    return suite, no_rule_2


def test_a_later_stage_pays_only_for_new_samples(tmp_path: Path) -> None:
    suite, _ = _project(tmp_path)
    runs = tmp_path / "runs"
    first = run_prompt(V1, suite_path=suite, runs_dir=runs, repeats=2)
    second = run_prompt(V1, suite_path=suite, runs_dir=runs, repeats=4)
    m1, m2 = read_manifest(first.run_dir), read_manifest(second.run_dir)
    assert m1.cache_hits == 0 and m1.model_calls > 0
    assert m2.cache_hits == m1.model_calls  # samples 0..1 replayed from the cache
    assert len(second.transcripts) == 2 * len(first.transcripts)


def test_stages_run_until_decided_or_the_cap(tmp_path: Path) -> None:
    suite, no_rule_2 = _project(tmp_path)
    runs = tmp_path / "runs"
    config = GateConfig(
        regression={"rule:*": 0.1, "turns:one_question": 0.05},
        repeats={"stages": [2, 4, 8]},
    )
    asked: list[int] = []

    def sides_at(repeats: int) -> Sides:
        asked.append(repeats)
        return Sides(
            run_prompt(V1, suite_path=suite, runs_dir=runs, repeats=repeats),
            run_prompt(no_rule_2, suite_path=suite, runs_dir=runs, repeats=repeats),
        )

    report = run_sequential(config, sides_at)
    stop = report.stopping
    assert stop is not None and stop.looks == asked == [2, 4, 8][: len(asked)]
    assert stop.interviews == {"baseline": 2 * asked[-1], "candidate": 2 * asked[-1]}
    if stop.reason == "cap":
        assert asked == [2, 4, 8] and not report.decided
    else:
        assert stop.reason == "decided" and report.decided
    assert "Lan-DeMets" in stop.method and "look" in report.decided_by


def test_identical_prompts_are_decided_at_the_first_look(tmp_path: Path) -> None:
    suite, _ = _project(tmp_path)
    runs = tmp_path / "runs"
    copy = tmp_path / "copy.md"
    copy.write_text(V1.read_text(encoding="utf-8") + "\n")
    config = GateConfig(regression={"rule:*": 0.1}, repeats={"stages": [2, 4]})

    def sides_at(repeats: int) -> Sides:
        return Sides(
            run_prompt(V1, suite_path=suite, runs_dir=runs, repeats=repeats),
            run_prompt(copy, suite_path=suite, runs_dir=runs, repeats=repeats),
        )

    report = run_sequential(config, sides_at)
    assert report.passed and report.stopping is not None
    assert report.stopping.reason == "decided" and report.stopping.looks == [2]


def test_stages_must_increase(tmp_path: Path) -> None:
    bad = tmp_path / "g.yaml"
    bad.write_text(yaml.safe_dump({"repeats": {"stages": [6, 3]}}))
    from harness.errors import InputError
    from harness.stats.gate import load_gate_config

    with pytest.raises(InputError, match="stages"):
        load_gate_config(bad)
