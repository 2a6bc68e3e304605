"""Read YAML files into pydantic models, with errors that name the file and the line or field."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, TypeVar, get_args

import yaml
from pydantic import BaseModel, ValidationError

from harness.errors import InputError, from_validation_error

M = TypeVar("M", bound=BaseModel)


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


def read_yaml_model(path: str | Path, model: type[M]) -> M:
    """A YAML file validated as `model`; the first complaint becomes an InputError."""
    p = Path(path)
    data = read_yaml_mapping(p)
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise _explained(p, err, model) from None


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model whose fields sit at `loc` (names of nested fields; list indexes skipped)."""
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        field = current.model_fields.get(part)
        if field is None:
            return None
        annotation = field.annotation
        candidates = [annotation, *get_args(annotation)]
        candidates += [inner for c in candidates for inner in get_args(c)]
        current = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
    return current


def _explained(path: Path, err: ValidationError, model: type[BaseModel]) -> InputError:
    """pydantic's first complaint, with the two fixes a newcomer needs most: the field a typo
    meant, and quotes around a YAML 1.1 boolean (`off`, `no`, `yes`, `on`) meant as a word."""
    error = from_validation_error(path, err)
    first = err.errors()[0]
    loc = tuple(first["loc"])
    if first["type"] == "extra_forbidden" and loc:
        owner = _model_at(model, loc[:-1])
        names = list(owner.model_fields) if owner is not None else []
        close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
        if close:
            error.message = f"unknown field; did you mean '{close[0]}'?"
        elif names:
            error.message = f"unknown field (known: {', '.join(names)})"
    elif isinstance(first.get("input"), bool) and first["type"] != "bool_type":
        word = _bool_word(first)
        error.message = (
            f"YAML read an unquoted {word} as the boolean {str(first['input']).lower()} "
            f'(YAML 1.1 booleans: yes/no/on/off/true/false); quote it: {loc[-1]}: "{word}"'
        )
    return error


def _bool_word(first: Any) -> str:
    """The word the user most likely typed: an allowed value that YAML turns into this
    boolean (`off` for false when 'off' is allowed), else the plainest spelling."""
    spellings = ("off", "no", "false") if first["input"] is False else ("on", "yes", "true")
    expected = str(first.get("ctx", {}).get("expected", ""))
    return next((w for w in spellings if f"'{w}'" in expected), spellings[0])


def require_file_stem(path: str | Path, field: str, value: str) -> None:
    """Ids that name a file must match it, so a reference by id finds the file."""
    stem = Path(path).stem
    if value != stem:
        raise InputError(path, field, f"'{value}' must match the file name '{stem}'")
