"""One error type for bad user input, so the CLI can print one line and exit 2."""

from __future__ import annotations

import os
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


MIN_SECRET_PREFIX = 8
SECRET_SUFFIXES = ("_API_KEY", "_AUTH_TOKEN")


def scrub_secret(text: str, secret: str, min_len: int = MIN_SECRET_PREFIX) -> str:
    """`text` with the secret, and any run of its first `min_len` or more characters (an
    echo cut short), replaced by `***`."""
    if len(secret) < min_len:
        return text.replace(secret, "***") if secret else text
    head = secret[:min_len]
    out, i = [], 0
    while (start := text.find(head, i)) != -1:
        end = start + min_len
        while end < len(text) and end - start < len(secret) and text[end] == secret[end - start]:
            end += 1
        out += [text[i:start], "***"]
        i = end
    return "".join(out) + text[i:]


def scrub_secrets(text: str) -> str:
    """`text` with every key or token in the environment (`*_API_KEY`, `*_AUTH_TOKEN`)
    scrubbed, prefixes of 8 or more characters included."""
    for name, value in os.environ.items():
        if name.endswith(SECRET_SUFFIXES) and value.strip():
            text = scrub_secret(text, value.strip())
    return text
