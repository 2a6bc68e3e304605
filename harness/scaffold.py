"""`sdi init`: lay out a prompt project (prompts, suites, gates, example personas, the
pull-request workflow, a README section) from the files that ship in `harness/data`.

Nothing is overwritten: when any file to write exists, nothing is written and the error names
it. An existing README.md gets the section appended once (its text is kept)."""

from __future__ import annotations

import re
from pathlib import Path

from harness import __version__
from harness.errors import InputError
from harness.project import BUILTIN_ROOT

INIT = BUILTIN_ROOT / "init"
EXAMPLE_PERSONAS = ("url-junior-vague", "feed-mid-fanout", "adv-score-pressure")
README_HEADING = "## Interviewer prompt tests (sdi-harness)"
WORKFLOW = ".github/workflows/prompt-gate.yml"


def _example_persona(persona_id: str) -> tuple[str, str]:
    text = (BUILTIN_ROOT / "candidates" / f"{persona_id}.yaml").read_text(encoding="utf-8")
    new_id = f"example-{persona_id}"
    text = re.sub(rf"^id: {re.escape(persona_id)}$", f"id: {new_id}", text, count=1, flags=re.M)
    return f"candidates/{new_id}.yaml", text


def project_files() -> dict[str, str]:
    """What `sdi init` writes, by path relative to the project folder."""
    files = {
        "prompts/interviewer/v1.md": (BUILTIN_ROOT / "prompts/interviewer/v1.md").read_text(),
        "gates.yaml": (BUILTIN_ROOT / "gates.yaml").read_text(),
        WORKFLOW: (INIT / "workflows/prompt-gate.yml")
        .read_text()
        .replace("SDI_VERSION", __version__),
    }
    for suite in sorted((INIT / "suites").glob("*.yaml")):
        files[f"suites/{suite.name}"] = suite.read_text()
    files.update(_example_persona(p) for p in EXAMPLE_PERSONAS)
    return files


def scaffold(folder: Path) -> list[Path]:
    """Write the project files into `folder` (created if missing); the paths written."""
    files = project_files()
    existing = [rel for rel in files if (folder / rel).exists()]
    if existing:
        raise InputError(
            folder / existing[0],
            None,
            f"already exists; sdi init overwrites nothing ({len(existing)} file(s) in the way)",
        )
    written = []
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    readme = folder / "README.md"
    section = (INIT / "README-section.md").read_text()
    old = readme.read_text(encoding="utf-8") if readme.exists() else ""
    if README_HEADING not in old:
        readme.write_text(old + section, encoding="utf-8")
        written.append(readme)
    return written
