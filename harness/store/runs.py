"""Run folders: `runs/<run-id>/{manifest.json, transcripts.jsonl, scores.jsonl}`."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import InputError, decode_utf8

if TYPE_CHECKING:  # the CLI reads DEFAULT_RUNS_DIR at start-up; models load on use
    from harness.store.manifest import Manifest

MANIFEST = "manifest.json"
TRANSCRIPTS = "transcripts.jsonl"
SCORES = "scores.jsonl"
DEFAULT_RUNS_DIR = Path("runs")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def safe_name(name: str) -> str:
    """A suite name as one folder-name part: no separators or dots, so it stays in its folder."""
    return _UNSAFE.sub("-", name).strip("-")[:60] or "suite"


def ensure_runs_dir(runs_dir: Path) -> None:
    """Create the runs folder if needed; a file in its place or no write access is bad input."""
    if runs_dir.exists() and not runs_dir.is_dir():
        raise InputError(runs_dir, "--runs-dir", "is a file, not a folder")
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(runs_dir, "--runs-dir", f"cannot create it ({err.strerror})") from None
    if not os.access(runs_dir, os.W_OK | os.X_OK):
        raise InputError(runs_dir, "--runs-dir", "is not writable")


def find_run_dir(ref: str | Path, runs_dir: Path = DEFAULT_RUNS_DIR) -> Path:
    """A run is named by its id (looked up in runs_dir) or by the path of its folder."""
    as_path = Path(ref)
    for candidate in (as_path, runs_dir / str(ref)):
        if (candidate / MANIFEST).is_file():
            return candidate
    raise InputError(None, None, f"no run '{ref}' (looked in {runs_dir} and as a folder path)")


def read_manifest(run_dir: Path) -> Manifest:
    from harness.store.manifest import Manifest

    path = run_dir / MANIFEST
    try:
        return Manifest.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, None, "manifest not found") from None
    except ValueError as err:
        raise InputError(path, None, f"unreadable manifest ({err})") from None


def write_json_atomic(path: Path, payload: str) -> None:
    """Write to a temporary file and rename it, so a killed process never leaves half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed write leaves nothing behind
        raise


def write_manifest(run_dir: Path, manifest: Manifest) -> None:
    write_json_atomic(run_dir / MANIFEST, manifest.model_dump_json(by_alias=True, indent=2))


def append_jsonl(path: Path, line: str) -> None:
    """Append one whole line and fsync it: a finished interview is never lost to a kill."""
    with path.open("a", encoding="utf-8") as fh:
        fh.write(line.rstrip("\n") + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_complete_lines(path: Path) -> list[str]:
    """Lines of a JSONL file that end in a newline; a torn last line (a kill mid-write) drops."""
    if not path.is_file():
        return []
    lines = path.read_bytes().split(b"\n")
    complete = lines[:-1]  # whatever follows the last newline is torn or empty
    return [
        decode_utf8(ln, path, f"line {n}") for n, ln in enumerate(complete, start=1) if ln.strip()
    ]


def dump_json(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True)


def check_output_path(out: Path, field: str = "--out") -> None:
    """An output file path that can be written: not a folder, its nearest existing folder
    writable. Checked before the work that produces the output."""
    if out.is_dir():
        raise InputError(out, field, "is a folder; give a file path")
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(out, field, f"cannot write there ({parent} is not a writable folder)")
