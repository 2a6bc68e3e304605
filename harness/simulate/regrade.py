"""Re-ask only the final feedback, K times, on each fixed transcript of a run (`sdi regrade`).

Every transcript is cut at the candidate's `time_up` turn and the interviewer sees exactly what
it saw then; the spread of the K scores is the part of score variance that comes from grading,
as opposed to the path the conversation took. Records are appended to `regrades.jsonl` one
whole line at a time, so a killed regrade resumes without repeating a sample.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness.backends.base import Backend, ModelRequest
from harness.backends.batch import (
    JOURNAL,
    BatchBackend,
    BatchJournal,
    BatchOptions,
    batches_role,
    open_batcher,
)
from harness.backends.cache import CachedBackend, CallCounter, ResponseCache
from harness.backends.pricing import call_record
from harness.backends.registry import (
    base_url_for,
    cache_identity,
    check_role,
    close_backend,
    make_backend,
)
from harness.config.prompts import PromptVersion, load_prompt
from harness.config.suites import RoleSettings
from harness.contracts import Transcript, Turn
from harness.errors import InputError, from_validation_error
from harness.scoring.feedback import extract_score
from harness.simulate.interview import interviewer_messages
from harness.simulate.progress import ProgressSink, default_progress
from harness.store.manifest import Manifest
from harness.store.rundata import REGRADES, RegradeRecord, load_run
from harness.store.runs import DEFAULT_RUNS_DIR, MANIFEST, append_jsonl, write_json_atomic

# Interviews use sample indices 0..repeats-1 (at most 1000); regrades start far above them.
REGRADE_SAMPLE_OFFSET = 1_000_000


def regrade_sample_index(interview_sample: int, regrade_index: int) -> int:
    """The sample index of a regrade: unique per (interview sample, regrade), so regrades of two
    repeats of one persona never share a sample."""
    return REGRADE_SAMPLE_OFFSET * (1 + interview_sample) + regrade_index


CACHE_FILE = "cache.sqlite"


@dataclass(frozen=True)
class RegradeSummary:
    run_id: str
    path: Path
    samples: int
    transcripts: int
    regraded: int
    skipped_no_time_up: int
    written: int
    already_present: int
    model_calls: int
    cache_hits: int
    cost_usd: float
    without_score: int
    synthetic: bool


@dataclass(frozen=True)
class _Job:
    transcript: Transcript
    cut: list[Turn]
    prompt: PromptVersion
    regrade_index: int


def cut_at_time_up(turns: list[Turn]) -> list[Turn] | None:
    """The turns up to and including the candidate's `time_up` turn; None when there is none."""
    for i, turn in enumerate(turns):
        if turn.role == "candidate" and any(a.kind == "time_up" for a in turn.annotations):
            return turns[: i + 1]
    return None


def _checked_prompts(
    manifest: Manifest, run_dir: Path, wanted: set[str]
) -> dict[str, PromptVersion]:
    """The prompt files the run used, refused if any has changed since (its sha256 differs)."""
    out: dict[str, PromptVersion] = {}
    records = {p.id: (i, p) for i, p in enumerate(manifest.prompts)}
    for version in sorted(wanted):
        if version not in records:
            raise InputError(run_dir / MANIFEST, "prompts", f"no prompt version '{version}'")
        i, record = records[version]
        path = Path(record.path)
        if not path.is_file():
            raise InputError(
                run_dir / MANIFEST, f"prompts[{i}].path", f"prompt file not found: {path}"
            )
        prompt = load_prompt(path)
        if prompt.sha256 != record.sha256:
            raise InputError(
                path,
                "sha256",
                f"the prompt changed since run {manifest.run_id} (run {record.sha256[:12]}, "
                f"now {prompt.sha256[:12]}); regrading needs the prompt the interviews ran with",
            )
        out[version] = prompt
    return out


def _drop_torn_tail(path: Path) -> None:
    """A kill mid-write leaves half a line; cut it off before appending after it."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if text and not text.endswith("\n"):
        write_json_atomic(path, text[: text.rfind("\n") + 1])


async def regrade_run_async(
    ref: str | Path,
    runs_dir: Path = DEFAULT_RUNS_DIR,
    *,
    samples: int,
    concurrency: int | None = None,
    progress: ProgressSink | None = None,
    backend: Backend | None = None,
    batch: BatchOptions | None = None,
) -> RegradeSummary:
    """Regrade every transcript of a run `samples` times; samples already on file are kept.
    A backend may be injected for tests; otherwise the run's interviewer backend is made.
    `batch` sends every call in one Message Batch (a regrade left batches pending resumes
    with them)."""
    if samples < 1:
        raise InputError(None, "--samples", "must be at least 1")
    data = load_run(ref, runs_dir)
    manifest, run_dir = data.manifest, data.run_dir
    path = run_dir / REGRADES
    _drop_torn_tail(path)
    done = {(r.interview_id, r.regrade_index) for r in data.regrades}
    cuts = {t.interview_id: cut_at_time_up(t.turns) for t in data.transcripts}
    with_cut = [t for t in data.transcripts if cuts[t.interview_id] is not None]
    prompts = _checked_prompts(manifest, run_dir, {t.prompt_version for t in with_cut})
    jobs = [
        _Job(t, cut, prompts[t.prompt_version], k)
        for t in with_cut
        if (cut := cuts[t.interview_id]) is not None
        for k in range(samples)
    ]
    todo = [j for j in jobs if (j.transcript.interview_id, j.regrade_index) not in done]
    role = manifest.interviewer
    try:
        # The suite's settings carry the server, key variable and price; older manifests
        # only the role record.
        settings = RoleSettings.model_validate(
            manifest.suite.get("interviewer")
            or role.model_dump(include={"backend", "model", "max_tokens"})
        )
    except ValidationError as err:
        raise from_validation_error(run_dir / MANIFEST, err, prefix="interviewer") from None
    clock = str(manifest.suite.get("clock", "off"))
    if backend is None:
        check_role(settings, run_dir / MANIFEST, "interviewer")
    if batch is None and BatchJournal(run_dir / JOURNAL).pending():
        batch = BatchOptions()
    batched = backend is None and batches_role(settings, batch)
    if batch is not None and not batched and backend is None:
        raise InputError(
            run_dir / MANIFEST, "interviewer.backend", "--batch needs the anthropic backend"
        )
    cache = ResponseCache(run_dir.parent / CACHE_FILE)
    sink = progress or default_progress()
    identity = cache_identity(settings)
    inner = backend or (
        BatchBackend(
            open_batcher(
                run_dir / JOURNAL, cache, batch, sink=sink, base_url=base_url_for(settings)
            ),
            identity,
        )
        if batched
        else make_backend(settings)
    )
    counter = CallCounter()
    interviewer = CachedBackend(inner, cache, counter, identity, share_in_flight=not batched)
    # Batched, every call goes at once: the stage is one batch.
    width = len(todo) if batched else concurrency or int(manifest.suite.get("concurrency", 8))
    limit = asyncio.Semaphore(max(1, width))
    cost = 0.0
    without_score = 0

    async def one(job: _Job) -> None:
        nonlocal cost, without_score
        t = job.transcript
        request = ModelRequest(
            role="interviewer",
            model=settings.model,
            system=job.prompt.text,
            messages=interviewer_messages(job.cut, clock),
            max_tokens=settings.max_tokens,
            persona_id=t.persona,
            sample_index=regrade_sample_index(
                int(t.meta.get("sample_index", 0)), job.regrade_index
            ),
            seed=int(t.meta.get("seed", manifest.suite.get("seed", 0))),
        )
        async with limit:
            response = await interviewer.complete(request)
        meta: dict[str, Any] = {
            "sample_index": request.sample_index,
            "cut_at_turn": len(job.cut) - 1,
            **call_record(response),
        }
        record = RegradeRecord(
            interview_id=t.interview_id,
            prompt_version=t.prompt_version,
            persona=t.persona,
            regrade_index=job.regrade_index,
            text=response.text,
            final_score=extract_score(response.text),
            meta=meta,
        )
        append_jsonl(path, record.to_json())
        cost += meta["cost_usd"]
        without_score += record.final_score is None
        sink.advance(f"{t.interview_id} regrade {job.regrade_index}", _score_note(record))

    label = f"regrade {manifest.run_id}{' [synthetic]' if role.synthetic else ''}"
    sink.start(len(jobs), len(jobs) - len(todo), label)
    try:
        async with asyncio.TaskGroup() as group:
            for job in todo:
                group.create_task(one(job))
    except ExceptionGroup as errors:
        raise errors.exceptions[0] from None
    finally:
        sink.stop()
        cache.close()
        if backend is None:
            await close_backend(inner)
    return RegradeSummary(
        run_id=manifest.run_id,
        path=path,
        samples=samples,
        transcripts=len(data.transcripts),
        regraded=len(with_cut),
        skipped_no_time_up=len(data.transcripts) - len(with_cut),
        written=len(todo),
        already_present=len(jobs) - len(todo),
        model_calls=counter.model_calls,
        cache_hits=counter.cache_hits,
        cost_usd=round(cost, 6),
        without_score=without_score,
        synthetic=role.synthetic,
    )


def _score_note(record: RegradeRecord) -> str:
    return "no score" if record.final_score is None else f"score {record.final_score:g}"


def regrade_run(
    ref: str | Path, runs_dir: Path = DEFAULT_RUNS_DIR, **kwargs: Any
) -> RegradeSummary:
    return asyncio.run(regrade_run_async(ref, runs_dir, **kwargs))
