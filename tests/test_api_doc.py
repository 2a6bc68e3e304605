"""docs/api.md is executed: its python cells run in order in one namespace, from an empty
project folder, inside a running event loop (as in a Jupyter notebook)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def cells() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", DOC.read_text(), re.M | re.S)


def test_the_api_notebook_runs_inside_an_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    namespace: dict[str, Any] = {}

    async def notebook() -> None:
        asyncio.get_running_loop()  # the cells run where a loop is running, as in Jupyter
        for cell in cells():
            exec(compile(cell, str(DOC), "exec"), namespace)

    assert len(cells()) == 4
    asyncio.run(notebook())
    out = capsys.readouterr().out
    run = namespace["run"]
    assert (run / "transcripts.jsonl").is_file() and (run / "scores.jsonl").is_file()
    assert re.search(r"^18 interviews scored, one_question failed in \d+$", out, re.M)
    assert "rule:opening" in out
    # v2 drops rule 2 (one question at a time): the gate fails it.
    assert not namespace["report"].passed
    assert out.strip().splitlines()[-1].startswith("FAILED")
    assert (tmp_path / "reports" / "gate").is_dir()
