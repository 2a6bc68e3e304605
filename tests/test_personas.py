"""The shipped candidate personas: they load, cover the benchmark, and plant what scorers need."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pandas as pd
import pytest
import yaml

from harness.config.personas import LEVEL_RANK, REPLY_INTENTS, Persona, load_persona
from harness.config.problems import load_problems
from harness.contracts import AnnotationKind
from harness.errors import InputError
from harness.project import BUILTIN_ROOT
from harness.simulate.clock import TIME_UP_S

CANDIDATES = BUILTIN_ROOT / "candidates"
FILES = sorted(CANDIDATES.glob("*.yaml"))
# Scripted turns start about a minute in (opening, pick, problem statement).
SCRIPT_START_S = 60
# The script must carry the interview to about the 40-minute mark, and not far past it.
MIN_SCRIPT_END_S = TIME_UP_S - 100
MAX_SCRIPT_END_S = TIME_UP_S + 500
# A figure with a unit: what a turn planted as `no_scale` must not contain.
SCALE_FIGURE = re.compile(
    r"\b\d[\d,.]*\s*(k|m|million|billion|thousand|qps|rps|/s|per second|a second|gb|tb|mb|"
    r"users|dau|requests|writes|reads)\b",
    re.IGNORECASE,
)


def _personas() -> list[Persona]:
    return [load_persona(path).persona for path in FILES]


def _spoken(persona: Persona) -> list[tuple[str, set[str]]]:
    """Every text a scripted persona may say, with the annotation kinds it would carry."""
    out: list[tuple[str, set[str]]] = []
    for turn in persona.turns or []:
        out.append((turn.text, {a.kind for a in turn.annotations}))
        for reply in turn.replies:
            planted = reply.annotations if reply.annotations is not None else turn.annotations
            out.append((reply.text, {a.kind for a in planted}))
    return out


def _kinds(persona: Persona) -> set[str]:
    if persona.card is not None:
        return {p.kind for p in persona.card.plants}
    return set().union(*(kinds for _, kinds in _spoken(persona)))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_candidate_file_loads(path: Path) -> None:
    loaded = load_persona(path)
    assert loaded.persona.id == path.stem
    assert loaded.persona.strengths and loaded.persona.gaps, "feedback needs topics to name"


def test_personas_cover_every_problem_level_and_mode() -> None:
    personas = _personas()
    assert len(personas) >= 10
    assert {p.problem for p in personas} == set(load_problems())
    assert {p.level for p in personas} == set(LEVEL_RANK)
    assert sum(p.mode == "llm" for p in personas) >= 2
    assert sum("manipulation" in _kinds(p) for p in personas) >= 2


def test_expected_band_rises_with_level() -> None:
    table = pd.DataFrame({"rank": LEVEL_RANK[p.level], "mid": p.band_mid} for p in _personas())
    means = table.groupby("rank")["mid"].mean().sort_index()
    assert means.is_monotonic_increasing and means.is_unique


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scripted_personas_reach_the_40_minute_mark(path: Path) -> None:
    persona = load_persona(path).persona
    if persona.mode != "scripted":
        pytest.skip("model-played persona has no script")
    end = SCRIPT_START_S + sum(t.duration_s for t in persona.turns or [])
    assert MIN_SCRIPT_END_S <= end < MAX_SCRIPT_END_S


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_persona_plants_several_kinds_consistently(path: Path) -> None:
    persona = load_persona(path).persona
    assert len(_kinds(persona)) >= 2
    for text, kinds in _spoken(persona):
        if "no_scale" in kinds:
            assert not SCALE_FIGURE.search(text), f"no_scale turn gives figures: {text[:80]}"
    for turn in persona.turns or []:
        for reply in turn.replies:
            words = [reply.when] if isinstance(reply.when, str) else reply.when
            assert words and all(isinstance(w, str) and w.strip() for w in words)
            if isinstance(reply.when, str):
                assert reply.when in REPLY_INTENTS


def test_every_annotation_kind_is_planted_and_time_up_is_left_to_the_simulator() -> None:
    planted = set().union(*(_kinds(p) for p in _personas()))
    assert "time_up" not in planted
    assert planted == set(get_args(AnnotationKind)) - {"time_up"}


def test_unknown_field_names_file_and_field(tmp_path: Path) -> None:
    data = yaml.safe_load(FILES[0].read_text(encoding="utf-8"))
    data["id"] = "bad-persona"
    data["mood"] = "cheerful"
    path = tmp_path / "bad-persona.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_persona(path)
    assert caught.value.path == str(path)
    assert caught.value.field == "mood"
    assert "unknown field" in str(caught.value)
