"""Where a project's files come from: the project folder first, then the files that ship with
the harness (`harness/data`: rubrics, personas, the seed prompt, suites, gates, problems).

A project is a folder laid out like `harness/data` (`prompts/interviewer/`, `candidates/`,
`rubrics/`, `suites/`, `problems/`, `gates.yaml`); all of it is optional. The current folder is
the project unless `SDI_PROJECT` names another. A project file overrides the built-in file of
the same id (file stem); a glob such as `candidates/*.yaml` matches the project's files and the
built-in ones, the project's winning by id. The harness's own checkout is just another project
that adds nothing, so there is one copy of every built-in file.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

BUILTIN_ROOT = Path(__file__).resolve().parent / "data"
PROJECT_ENV = "SDI_PROJECT"


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def layers(self) -> tuple[Path, ...]:
        """Folders searched in order: the project's, then the built-in one."""
        return (self.root,) if self.root == BUILTIN_ROOT else (self.root, BUILTIN_ROOT)

    def relative(self, path: Path) -> str | None:
        """`path` (possibly a glob) relative to the layer it lies in, or None outside them."""
        absolute = Path(os.path.normpath(Path(path).absolute()))
        for layer in self.layers:
            if absolute.is_relative_to(layer):
                return absolute.relative_to(layer).as_posix()
        return None

    def find(self, rel: str) -> Path | None:
        """The first layer's file at `rel`, or None."""
        return next((layer / rel for layer in self.layers if (layer / rel).is_file()), None)

    def glob(self, pattern: str) -> list[Path]:
        """Files matching `pattern` in every layer, one per file name (the first layer wins),
        sorted by name."""
        found: dict[str, Path] = {}
        for layer in self.layers:
            for hit in sorted(glob.glob(str(layer / pattern))):
                found.setdefault(Path(hit).name, Path(hit))
        return [found[name] for name in sorted(found)]

    def locate(self, path: Path) -> Path | None:
        """A file named by the user or a suite: inside the project or the built-in data, the
        first layer's file at the same place (so the project's `prompts/interviewer/v1.md`
        wins over the built-in one, and `suites/smoke.yaml` finds the built-in suite in a
        project without one); elsewhere, the file as given."""
        rel = self.relative(path)
        if rel is not None:
            return self.find(rel)
        return path if path.is_file() else None

    def resolve(self, given: Path, folder: str, suffix: str = ".yaml") -> Path | None:
        """A path, or a bare id looked up in `folder` (`smoke` -> `suites/smoke.yaml`)."""
        found = self.locate(given)
        if found is None and given.suffix == "" and len(given.parts) == 1:
            found = self.find(f"{folder}/{given.name}{suffix}")
        return found


# Inside `snapshot()`, what is read from project files is read once: a batch (a run, a scoring
# pass) sees one consistent set of rules and problems, and does not look at the files again
# for every transcript. Outside it, every call checks the files.
_SNAPSHOT: ContextVar[dict[str, Any] | None] = ContextVar("sdi_project_snapshot", default=None)


@contextmanager
def snapshot() -> Iterator[None]:
    token = _SNAPSHOT.set({} if _SNAPSHOT.get() is None else _SNAPSHOT.get())
    try:
        yield
    finally:
        _SNAPSHOT.reset(token)


def snapshotted(key: str, load: Callable[[], T]) -> T:
    """`load()`, once per `snapshot()` block (every time outside one)."""
    store = _SNAPSHOT.get()
    if store is None:
        return load()
    if key not in store:
        store[key] = load()
    value: T = store[key]
    return value


def current_project() -> Project:
    """The project of the current folder (or of `$SDI_PROJECT`)."""
    return Project(Path(os.environ.get(PROJECT_ENV) or Path.cwd()).resolve())


def expand(path: Path) -> list[Path]:
    """A path or glob as a suite names it: layered when it lies in the current project or in
    the built-in data, else as is."""
    project = current_project()
    rel = project.relative(path)
    if rel is None:
        return [Path(p) for p in sorted(glob.glob(str(path)))]
    return project.glob(rel)
