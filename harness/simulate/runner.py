"""Run a suite: every (prompt, persona, sample) interview, concurrently, into a run folder.

Finished interviews are appended to `transcripts.jsonl` one whole line at a time, so a run
killed part way resumes (`--resume`) without repeating or losing one; the response cache
makes a re-run of an unchanged suite free.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import __version__
from harness.aio import run_sync
from harness.backends.base import Backend, Usage
from harness.backends.batch import JOURNAL, BatchBackend, BatchOptions, batches_role, open_batcher
from harness.backends.cache import CachedBackend, CallCounter, ResponseCache
from harness.backends.ratelimit import AdaptiveLimiter, LimitedBackend
from harness.backends.registry import base_url_for, cache_identity, close_backend, make_backend
from harness.config.suites import LoadedSuite, RoleSettings
from harness.contracts import Transcript
from harness.errors import InputError
from harness.project import snapshot
from harness.scoring import SCORER_VERSION
from harness.scoring.rubrics import rubrics_sha256
from harness.simulate.candidates import CandidatePlayer, ModelCandidate, ScriptedCandidate
from harness.simulate.interview import InterviewPlan, run_interview
from harness.simulate.progress import ProgressSink, default_progress
from harness.store.index import RunIndex
from harness.store.manifest import Manifest, PromptRecord, RoleRecord
from harness.store.runs import (
    TRANSCRIPTS,
    append_jsonl,
    find_run_dir,
    read_complete_lines,
    read_manifest,
    write_json_atomic,
    write_manifest,
)

CACHE_FILE = "cache.sqlite"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _git_commit(where: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def plan_interviews(loaded: LoadedSuite) -> list[InterviewPlan]:
    suite = loaded.suite
    synthetic = loaded.uses_synthetic()
    return [
        InterviewPlan(
            interview_id=f"{prompt.id}:{lp.persona.id}#{sample}",
            prompt=prompt,
            persona=lp.persona,
            sample_index=sample,
            seed=suite.seed,
            clock=suite.clock,
            limits=suite.limits,
            interviewer=suite.interviewer,
            synthetic=synthetic,
        )
        for prompt in loaded.prompts
        for lp in loaded.personas
        for sample in range(suite.repeats)
    ]


def fingerprint(loaded: LoadedSuite) -> dict[str, Any]:
    """Everything but the prompt under test: two runs compare only when these agree."""
    suite = loaded.suite
    return {
        "personas": {lp.persona.id: lp.sha256 for lp in loaded.personas},
        "rubrics_sha256": rubrics_sha256(),
        "harness_version": __version__,
        "scorer_version": SCORER_VERSION,
        # Batched or not, the same model gives the same kind of answers: runs still compare.
        "interviewer": suite.interviewer.model_dump(exclude={"batch"}),
        "candidate": suite.candidate.model_dump(exclude={"batch"}),
        "clock": suite.clock,
        "limits": suite.limits.model_dump(),
    }


def new_manifest(loaded: LoadedSuite, run_id: str, planned: int) -> Manifest:
    suite = loaded.suite

    def role(settings: RoleSettings) -> RoleRecord:
        return RoleRecord(
            backend=settings.backend,
            model=settings.model,
            max_tokens=settings.max_tokens,
            synthetic=settings.backend == "synthetic",
            base_url=base_url_for(settings),
        )

    return Manifest(
        run_id=run_id,
        suite_name=suite.name,
        suite_path=loaded.path,
        suite=suite.model_dump(mode="json"),
        prompts=[PromptRecord(id=p.id, path=p.path, sha256=p.sha256) for p in loaded.prompts],
        personas={lp.persona.id: lp.sha256 for lp in loaded.personas},
        personas_meta={
            lp.persona.id: {
                "level": lp.persona.level,
                "problem": lp.persona.problem,
                "expected_band": list(lp.persona.expected_band),
                "mode": lp.persona.mode,
                "path": lp.path,
            }
            for lp in loaded.personas
        },
        interviewer=role(suite.interviewer),
        candidate=role(suite.candidate),
        harness_version=__version__,
        git_commit=_git_commit(Path(loaded.path).parent),
        synthetic=loaded.uses_synthetic(),
        started_at=_now(),
        interviews_planned=planned,
        fingerprint=fingerprint(loaded),
    )


def _check_resumable(loaded: LoadedSuite, manifest: Manifest) -> None:
    fresh = new_manifest(loaded, manifest.run_id, 0)
    for name in ("suite", "prompts", "personas"):
        if getattr(fresh, name) != getattr(manifest, name):
            raise InputError(
                loaded.path,
                name,
                f"differs from the one run {manifest.run_id} started with; "
                "start a new run instead of resuming",
            )


def _finished(run_dir: Path) -> dict[str, Transcript]:
    """Interviews already written; a torn last line from a kill is dropped from the file."""
    path = run_dir / TRANSCRIPTS
    lines = read_complete_lines(path)
    if path.is_file() and path.read_text(encoding="utf-8") != "".join(f"{ln}\n" for ln in lines):
        write_json_atomic(path, "".join(f"{ln}\n" for ln in lines))
    done = {}
    for line in lines:
        transcript = Transcript.model_validate_json(line)
        done[transcript.interview_id] = transcript
    return done


def _totals(manifest: Manifest, transcripts: list[Transcript]) -> None:
    usage = billed = replayed = Usage()
    cost = spent = 0.0
    for t in transcripts:
        usage = usage + Usage.model_validate(t.meta.get("usage", {}))
        cost += float(t.meta.get("cost_usd", 0.0))
        spent += sum(c["cost_usd"] for c in t.meta.get("calls", []) if not c.get("cached"))
        for call in t.meta.get("calls", []):
            if call.get("cached"):
                replayed = replayed + Usage.model_validate(call["usage"])
            else:
                billed = billed + Usage.model_validate(call["usage"])
    manifest.usage = usage
    manifest.billed_usage = billed
    manifest.replayed_usage = replayed
    manifest.cost_usd = round(cost, 6)
    manifest.spent_usd = round(spent, 6)
    manifest.interviews_done = len(transcripts)


async def run_suite_async(
    loaded: LoadedSuite,
    runs_dir: Path,
    *,
    resume: str | None = None,
    progress: ProgressSink | None = None,
    interviewer_backend: Backend | None = None,
    candidate_backend: Backend | None = None,
    batch: BatchOptions | None = None,
) -> Path:
    """Run (or resume) a suite; returns the run folder. Backends may be injected for tests.
    `batch` sends every anthropic role through Message Batches (`batch: true` does it per role);
    a run that used batches resumes with them, re-attaching to the batches it left pending."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    plans = plan_interviews(loaded)
    if resume:
        run_dir = find_run_dir(resume, runs_dir)
        manifest = read_manifest(run_dir)
        _check_resumable(loaded, manifest)
    else:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        run_id = f"{stamp}-{loaded.suite.name}-{secrets.token_hex(2)}"
        run_dir = runs_dir / run_id
        run_dir.mkdir(parents=True)
        manifest = new_manifest(loaded, run_id, len(plans))
    done = _finished(run_dir)
    manifest.status = "running"
    write_manifest(run_dir, manifest)
    index = RunIndex(runs_dir)
    index.record(manifest, run_dir)

    cache = ResponseCache(runs_dir / CACHE_FILE)
    counter = CallCounter()
    suite = loaded.suite
    owned: list[Backend] = []  # made here, so closed here; injected backends belong to the caller

    def backend_for(settings: RoleSettings, injected: Backend | None) -> CachedBackend:
        identity = cache_identity(settings)
        if injected is None and batcher is not None and batches_role(settings, batch):
            # Batched calls wait for their round's batch: no concurrency limit applies.
            batched = BatchBackend(batcher, identity)
            owned.append(batched)
            return CachedBackend(batched, cache, counter, identity, share_in_flight=False)
        if injected is None:
            injected = make_backend(settings)
            owned.append(injected)
        limited = LimitedBackend(injected, AdaptiveLimiter(suite.concurrency))
        return CachedBackend(limited, cache, counter, identity)

    todo = [p for p in plans if p.interview_id not in done]
    sink = progress or default_progress()
    label = f"{suite.name}{' [synthetic]' if manifest.synthetic else ''}"
    if batch is None and (run_dir / JOURNAL).is_file():
        batch = BatchOptions()
    roles = [suite.interviewer, *([suite.candidate] if loaded.models_candidate() else [])]
    batched_roles = [r for r in roles if batches_role(r, batch)]
    batcher = (
        open_batcher(
            run_dir / JOURNAL, cache, batch, sink=sink, base_url=base_url_for(batched_roles[0])
        )
        if batched_roles
        else None
    )
    # Batched, every interview runs at once: each round's calls then share one batch.
    limit = asyncio.Semaphore(max(suite.concurrency, len(todo)) if batcher else suite.concurrency)
    finished: dict[str, Transcript] = dict(done)
    previous_calls, previous_hits = manifest.model_calls, manifest.cache_hits
    try:
        interviewer = backend_for(suite.interviewer, interviewer_backend)
        candidate_model = (
            backend_for(suite.candidate, candidate_backend) if loaded.models_candidate() else None
        )

        def player(plan: InterviewPlan) -> CandidatePlayer:
            if plan.persona.mode == "scripted":
                return ScriptedCandidate(plan.persona)
            assert candidate_model is not None
            return ModelCandidate(
                plan.persona, candidate_model, suite.candidate, plan.sample_index, plan.seed
            )

        async def one(plan: InterviewPlan) -> None:
            async with limit:
                with batcher.caller() if batcher else contextlib.nullcontext():
                    transcript = await run_interview(plan, interviewer, player(plan))
            append_jsonl(run_dir / TRANSCRIPTS, transcript.to_json())
            finished[plan.interview_id] = transcript
            sink.advance(plan.interview_id, str(transcript.meta["end_reason"]))

        sink.start(len(plans), len(done), label)
        async with asyncio.TaskGroup() as group:
            for plan in todo:
                group.create_task(one(plan))
        manifest.status = "complete"
    except ExceptionGroup as errors:
        manifest.status = "failed"
        raise errors.exceptions[0] from None
    except BaseException:
        manifest.status = "interrupted"
        raise
    finally:
        sink.stop()
        for backend in owned:
            await close_backend(backend)
        if batcher is not None:
            await batcher.aclose()
        ordered = [finished[p.interview_id] for p in plans if p.interview_id in finished]
        _totals(manifest, ordered)
        manifest.model_calls = previous_calls + counter.model_calls
        manifest.cache_hits = previous_hits + counter.cache_hits
        manifest.ended_at = _now()
        write_manifest(run_dir, manifest)
        index.record(manifest, run_dir)
        index.close()
        cache.close()
    return run_dir


def run_suite(loaded: LoadedSuite, runs_dir: Path, **kwargs: Any) -> Path:
    """`run_suite_async` from synchronous code, also inside a running event loop (Jupyter);
    project files (problems, rules) are read once for the run."""
    with snapshot():
        return run_sync(run_suite_async(loaded, runs_dir, **kwargs))
