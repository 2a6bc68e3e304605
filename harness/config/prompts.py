"""Prompt versions: a prompt version is a file, its id its stem, its identity its sha256."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel

from harness.errors import InputError, decode_utf8


class PromptVersion(BaseModel):
    id: str
    path: str
    text: str
    sha256: str


def load_prompt(path: str | Path) -> PromptVersion:
    p = Path(path)
    if not p.is_file():
        raise InputError(p, None, "prompt file not found")
    try:
        raw = p.read_bytes()
    except OSError as err:
        raise InputError(p, None, f"cannot read the prompt ({err.strerror})") from None
    text = decode_utf8(raw, p)
    if not text.strip():
        raise InputError(p, None, "the prompt file is empty")
    return PromptVersion(
        id=p.stem,
        path=str(p.resolve()),
        text=text,
        sha256=hashlib.sha256(raw).hexdigest(),
    )
