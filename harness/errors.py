"""One error type for bad user input, so the CLI can print one line and exit 2."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError


class InputError(Exception):
    """Bad input from the user: names the file and the field at fault."""

    def __init__(self, path: str | Path | None, field: str | None, message: str) -> None:
        self.path = str(path) if path is not None else None
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __reduce__(self) -> tuple[type[InputError], tuple[str | None, str | None, str]]:
        """Picklable, so an error raised in a worker process reaches the parent intact."""
        return (type(self), (self.path, self.field, self.message))

    def __str__(self) -> str:
        where = self.path or ""
        if self.field:
            where = f"{where}: {self.field}" if where else self.field
        return f"{where}: {self.message}" if where else self.message


def read_text(path: str | Path, field: str | None = None) -> str:
    """A UTF-8 text file, or an InputError saying why not (missing, a folder, unreadable,
    binary or another encoding)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InputError(p, field, "file not found") from None
    except IsADirectoryError:
        raise InputError(p, field, "is a folder, not a file") from None
    except OSError as err:
        raise InputError(p, field, f"cannot read it ({err.strerror})") from None
    return decode_utf8(raw, p, field)


def decode_utf8(raw: bytes, path: str | Path, field: str | None = None) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(
            path, field, f"not UTF-8 text (byte {err.start}: {raw[err.start : err.start + 1]!r})"
        ) from None


def from_validation_error(path: str | Path, err: ValidationError, prefix: str = "") -> InputError:
    """Turn pydantic's first complaint into an InputError naming the dotted field path."""
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    field = f"{prefix}.{loc}" if prefix and loc else (prefix or loc or None)
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown field"
    elif first["type"] == "missing":
        msg = "required field is missing"
    return InputError(path, field, msg)
