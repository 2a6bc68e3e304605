"""What `sdi gate --baseline X --candidate Y` compares: a finished run, or a prompt version
that the gate suite is run for (its prompts replaced by that one prompt).

Runs go through the runs folder's response cache, so an unchanged baseline costs nothing the
second time; scores come from `scored_run` (computed and saved when missing).
"""

from __future__ import annotations

from pathlib import Path

from harness.config.prompts import load_prompt
from harness.config.suites import LoadedSuite, load_suite
from harness.errors import InputError
from harness.project import current_project
from harness.scoring.runs import scored_run
from harness.simulate.progress import ProgressSink
from harness.simulate.runner import run_suite
from harness.store.rundata import RunData
from harness.store.runs import find_run_dir


def suite_for_prompt(loaded: LoadedSuite, prompt_path: Path) -> LoadedSuite:
    """The suite with its prompts replaced by one prompt file."""
    prompt = load_prompt(prompt_path)
    suite = loaded.suite.model_copy(update={"prompts": [str(prompt_path.resolve())]})
    return loaded.model_copy(update={"suite": suite, "prompts": [prompt]})


def prompt_path_for(ref: str, loaded: LoadedSuite) -> Path | None:
    """A prompt file path as given, or a prompt id looked up in the suite's prompts_dir (the
    project's, then the built-in one)."""
    as_path = Path(ref)
    if as_path.is_file():
        return as_path
    if "/" not in ref and not ref.endswith(".md"):
        by_id = Path(loaded.path).parent / loaded.suite.prompts_dir / f"{ref}.md"
        return current_project().locate(by_id)
    return None


def with_repeats(loaded: LoadedSuite, repeats: int | None) -> LoadedSuite:
    """The suite at another number of repeats per persona (None: as it is)."""
    if repeats is None:
        return loaded
    suite = loaded.suite.model_copy(update={"repeats": repeats})
    return loaded.model_copy(update={"suite": suite})


def side_source(ref: str, *, option: str, suite_path: Path, runs_dir: Path) -> RunData | Path:
    """One side of the gate: the scored run `ref` names, or the prompt file it names (to be run
    with the gate suite). `option` (--baseline/--candidate) names the field in errors."""
    try:
        run_dir = find_run_dir(ref, runs_dir)
    except InputError:
        run_dir = None
    if run_dir is not None:
        run = scored_run(run_dir, runs_dir)
        if len(run.manifest.prompts) != 1:
            ids = ", ".join(p.id for p in run.manifest.prompts)
            raise InputError(
                run_dir,
                option,
                f"run has {len(run.manifest.prompts)} prompt versions ({ids}); "
                "each side of the gate is one prompt version",
            )
        return run
    if runs_dir.exists() and not runs_dir.is_dir():
        raise InputError(runs_dir, "--runs-dir", "is a file, not a folder")
    loaded = load_suite(suite_path)
    prompt_path = prompt_path_for(ref, loaded)
    if prompt_path is None:
        raise InputError(
            None,
            option,
            f"'{ref}' is neither a run (id in {runs_dir}, or a run folder) nor a prompt "
            f"(a file, or an id in {Path(loaded.path).parent / loaded.suite.prompts_dir})",
        )
    # Read and validated now (prompt and suite), so `sdi gate` checks both sides before either
    # side runs and pays.
    suite_for_prompt(loaded, prompt_path)
    return prompt_path


def run_prompt(
    prompt_path: Path,
    *,
    suite_path: Path,
    runs_dir: Path,
    repeats: int | None = None,
    progress: ProgressSink | None = None,
) -> RunData:
    """A new scored run of the gate suite for one prompt, at `repeats` per persona. Earlier
    samples of the same persona come from the response cache, so a later stage of a sequential
    gate pays only for the new samples."""
    loaded = with_repeats(suite_for_prompt(load_suite(suite_path), prompt_path), repeats)
    new_run = run_suite(loaded, runs_dir, progress=progress)
    return scored_run(new_run, runs_dir)
