"""Run folders: `runs/<run-id>/{manifest.json, transcripts.jsonl, scores.jsonl}`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import InputError

if TYPE_CHECKING:  # the CLI reads DEFAULT_RUNS_DIR at start-up; models load on use
    from harness.store.manifest import Manifest

MANIFEST = "manifest.json"
TRANSCRIPTS = "transcripts.jsonl"
SCORES = "scores.jsonl"
DEFAULT_RUNS_DIR = Path("runs")


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
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(payload)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


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
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    complete = lines[:-1]  # whatever follows the last newline is torn or empty
    return [ln for ln in complete if ln.strip()]


def dump_json(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True)
