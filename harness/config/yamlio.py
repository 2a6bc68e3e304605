"""Read a YAML mapping with errors that name the file and the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from harness.errors import InputError


def read_yaml_mapping(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise InputError(p, None, "file not found")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(err, "problem", None) or "malformed YAML"
        raise InputError(p, where, f"malformed YAML ({problem})") from None
    if not isinstance(data, dict):
        raise InputError(p, None, "expected a YAML mapping at the top level")
    return data
