"""Prompt versions: a prompt version is a file, its id its stem, its identity its sha256."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel

from harness.errors import InputError


class PromptVersion(BaseModel):
    id: str
    path: str
    text: str
    sha256: str


def load_prompt(path: str | Path) -> PromptVersion:
    p = Path(path)
    if not p.is_file():
        raise InputError(p, None, "prompt file not found")
    raw = p.read_bytes()
    return PromptVersion(
        id=p.stem,
        path=str(p.resolve()),
        text=raw.decode("utf-8"),
        sha256=hashlib.sha256(raw).hexdigest(),
    )
