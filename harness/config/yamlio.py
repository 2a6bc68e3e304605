"""Read YAML files into pydantic models, with errors that name the file and the line or field."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from harness.errors import InputError, from_validation_error, read_text

M = TypeVar("M", bound=BaseModel)


def read_yaml_mapping(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise InputError(p, None, "file not found")
    try:
        data = yaml.safe_load(read_text(p))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(err, "problem", None) or "malformed YAML"
        raise InputError(p, where, f"malformed YAML ({problem})") from None
    if not isinstance(data, dict):
        raise InputError(p, None, "expected a YAML mapping at the top level")
    return data


def read_yaml_model(path: str | Path, model: type[M]) -> M:
    """A YAML file validated as `model`; the first complaint becomes an InputError."""
    p = Path(path)
    data = read_yaml_mapping(p)
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise from_validation_error(p, err) from None


def require_file_stem(path: str | Path, field: str, value: str) -> None:
    """Ids that name a file must match it, so a reference by id finds the file."""
    stem = Path(path).stem
    if value != stem:
        raise InputError(path, field, f"'{value}' must match the file name '{stem}'")
