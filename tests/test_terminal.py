"""The terminal side of the CLI: tables that fit the width with the verdict always shown,
coloured verdicts, plain help without type metavars for flags, `--version`, messages for
YAML typos and YAML 1.1 booleans, and validate-scorers' listing of every golden set."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness import __version__
from harness.cli.main import app
from harness.config.suites import load_suite
from harness.errors import InputError
from harness.project import BUILTIN_ROOT
from harness.scoring.golden import GOLDEN_SETS, load_golden_sets
from harness.stats.render import Section, to_text

runner = CliRunner()

WIDE = Section(
    "v2 vs v1",
    lines=["a line of prose that is long enough to need wrapping at forty columns wide"],
    headers=["metric", "baseline", "candidate", "difference [95%]", "test", "verdict"],
    rows=[
        [
            "rule:one_question",
            "70% [52%, 83%]",
            "3% [1%, 17%]",
            "-66.7 pts",
            "permutation",
            "regressed",
        ],
        ["score:mean", "6.10", "6.12", "+0.02 [-0.4, +0.4]", "bootstrap", "no change"],
    ],
    drop_order=["test", "baseline", "candidate"],
)


@pytest.mark.parametrize("width", [40, 60, 80, 200])
def test_tables_fit_the_width_and_keep_the_verdict(width: int) -> None:
    text = to_text([WIDE], width=width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "regressed" in text and "no change" in text  # never wrapped, never dropped
    assert ("left out to" in text) == (width < 93)  # 93: the widest row unwrapped
    if width == 200:
        assert "permutation" in text and "70% [52%, 83%]" in text


def test_columns_are_dropped_in_priority_order() -> None:
    text = to_text([WIDE], width=70)
    header = next(line for line in text.splitlines() if line.startswith("metric"))
    assert "test" not in header and "baseline" not in header and "candidate" in header
    assert "(test, baseline left out to fit 70 columns" in " ".join(text.split())


def test_verdicts_are_coloured_only_when_asked() -> None:
    plain = to_text([WIDE], width=120)
    coloured = to_text([WIDE], width=120, colour=True)
    assert "\x1b[" not in plain
    red = re.search(r"\x1b\[[0-9;]*31m(regressed)", coloured)
    assert red is not None, coloured
    assert re.search(r"\x1b\[[0-9;]*36mno change", coloured)


def test_text_from_runs_is_not_rich_markup() -> None:
    text = to_text([Section("[bold]x[/bold]", headers=["a"], rows=[["[red]v2[/red]"]])], 80)
    assert "[bold]x[/bold]" in text and "[red]v2[/red]" in text


def test_version_and_help() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"sdi {__version__}"
    for command in (["--help"], ["report", "--help"], ["validate-scorers", "--help"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 0
        assert "<bool>" not in result.stdout
    assert "--no-gates " in runner.invoke(app, ["report", "--help"]).stdout


def _suite(tmp_path: Path, replace: tuple[str, str]) -> Path:
    text = (BUILTIN_ROOT / "suites" / "smoke.yaml").read_text()
    assert replace[0] in text
    path = tmp_path / "smoke.yaml"
    path.write_text(
        text.replace(replace[0], replace[1]).replace("../", f"{BUILTIN_ROOT}/"), encoding="utf-8"
    )
    return path


@pytest.mark.parametrize(
    ("replace", "field", "hint"),
    [
        (("repeats: 2", "repets: 2"), "repets", "did you mean 'repeats'?"),
        (("max_tokens: 1024", "max_tokns: 1024"), "interviewer.max_tokns", "'max_tokens'"),
        (("repeats: 2", "zzzz: 2"), "zzzz", "known: name,"),
    ],
)
def test_unknown_fields_suggest_the_field_meant(
    tmp_path: Path, replace: tuple[str, str], field: str, hint: str
) -> None:
    with pytest.raises(InputError) as err:
        load_suite(_suite(tmp_path, replace), require_key=False)
    assert err.value.field == field and hint in err.value.message


def test_a_yaml_boolean_where_a_word_is_expected_names_the_fix(tmp_path: Path) -> None:
    path = _suite(tmp_path, ('clock: "off"', "clock: off"))
    result = runner.invoke(app, ["run", str(path), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 2
    assert 'quote it: clock: "off"' in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").glob("2*"))


def test_validate_scorers_lists_every_set_held_out_first() -> None:
    sets = load_golden_sets()
    folders = {p.name for p in GOLDEN_SETS.parent.iterdir() if p.is_dir() and any(p.glob("*.yaml"))}
    assert {s.folder for s in sets.sets} == folders  # every set on disk is listed
    result = runner.invoke(app, ["validate-scorers", "--no-misses"])
    assert result.exit_code == 0, result.output
    headers = [line for line in result.stdout.splitlines() if line.startswith("=== ")]
    assert len(headers) == len(sets.sets)
    held = [h.startswith("=== HELD-OUT") for h in headers]
    assert held == sorted(held, reverse=True) and any(held) and not all(held)
    for s in sets.sets:
        if s.first_run is not None:
            assert s.first_run.verdicts in result.stdout
