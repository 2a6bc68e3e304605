"""The project layer: the current folder's files over the built-in ones, by id."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.config.suites import load_suite, override
from harness.errors import InputError
from harness.project import BUILTIN_ROOT, Project, current_project


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SDI_PROJECT", raising=False)
    return tmp_path


def test_an_empty_folder_sees_the_built_in_files(project: Path) -> None:
    loaded = load_suite("suites/smoke.yaml")
    assert Path(loaded.path) == BUILTIN_ROOT / "suites" / "smoke.yaml"
    assert len(loaded.personas) == 15
    assert Path(loaded.prompts[0].path) == BUILTIN_ROOT / "prompts" / "interviewer" / "v1.md"
    assert load_suite("smoke").path == loaded.path  # a suite by id


def test_project_files_override_built_ins_by_id_and_add_to_globs(project: Path) -> None:
    persona = yaml.safe_load((BUILTIN_ROOT / "candidates" / "url-mid-solid.yaml").read_text())
    (project / "candidates").mkdir()
    edited = {**persona, "description": "mine"}
    (project / "candidates" / "url-mid-solid.yaml").write_text(yaml.safe_dump(edited))
    extra = {**persona, "id": "url-mine"}
    (project / "candidates" / "url-mine.yaml").write_text(yaml.safe_dump(extra))
    (project / "prompts" / "interviewer").mkdir(parents=True)
    (project / "prompts" / "interviewer" / "v1.md").write_text("My own v1.\n")
    loaded = load_suite("suites/smoke.yaml")
    by_id = {lp.persona.id: lp for lp in loaded.personas}
    assert len(by_id) == 16
    assert by_id["url-mid-solid"].persona.description == "mine"
    assert by_id["url-mine"].path == str(project / "candidates" / "url-mine.yaml")
    assert loaded.prompts[0].text == "My own v1.\n"


def test_sdi_project_names_another_folder(
    project: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path_factory.mktemp("other")
    monkeypatch.setenv("SDI_PROJECT", str(other))
    assert current_project() == Project(other.resolve())
    assert current_project().layers == (other.resolve(), BUILTIN_ROOT)


def test_overrides_take_prompt_files_relative_to_the_current_folder(project: Path) -> None:
    (project / "mine.md").write_text("A prompt in the current folder.\n")
    loaded = override(
        load_suite("smoke"), prompts=["v1", "mine.md"], repeats=1, personas="url-*", limit=2
    )
    assert [p.id for p in loaded.prompts] == ["v1", "mine"]
    assert loaded.suite.repeats == 1
    assert [lp.persona.id for lp in loaded.personas] == ["url-junior-vague", "url-mid-solid"]
    with pytest.raises(InputError) as err:
        override(load_suite("smoke"), personas="nobody-*")
    assert err.value.field == "--personas"


def test_a_project_problem_is_data_personas_name_it_and_the_opening_rule_knows_it(
    project: Path,
) -> None:
    from harness.config.personas import load_persona
    from harness.config.problems import load_problems
    from harness.scoring.rules.opening import problems_in_order

    (project / "problems").mkdir()
    chat = {
        "id": "chat-app",
        "order": 6,
        "label": "group chat service",
        "brief": "Design a group chat service with delivery receipts.",
        "names": ["chat app*", "group chat*", "messaging service"],
        "keywords": ["chat"],
    }
    (project / "problems" / "chat-app.yaml").write_text(yaml.safe_dump(chat))
    assert list(load_problems())[-1] == "chat-app" and len(load_problems()) == 6
    assert problems_in_order("the url shortener or a group chat service") == [
        "url-shortener",
        "chat-app",
    ]
    persona = yaml.safe_load((BUILTIN_ROOT / "candidates" / "url-mid-solid.yaml").read_text())
    (project / "url-mid-solid.yaml").write_text(yaml.safe_dump({**persona, "problem": "chat-app"}))
    assert load_persona(project / "url-mid-solid.yaml").persona.problem == "chat-app"
    (project / "url-mid-solid.yaml").write_text(yaml.safe_dump({**persona, "problem": "nope"}))
    with pytest.raises(InputError) as err:
        load_persona(project / "url-mid-solid.yaml")
    assert err.value.field == "problem" and "chat-app" in err.value.message
