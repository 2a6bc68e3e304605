"""Run a suite: every (prompt, persona, sample) interview, concurrently, into a run folder.

Finished interviews are appended to `transcripts.jsonl` one whole line at a time, so a run
killed part way resumes (`--resume`) without repeating or losing one; the response cache
makes a re-run of an unchanged suite free.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import subprocess
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import __version__
from harness.aio import run_sync
from harness.backends.base import Backend, CallFailedError, Usage
from harness.backends.batch import JOURNAL, BatchBackend, BatchOptions, batches_role, open_batcher
from harness.backends.cache import CachedBackend, CallCounter, ResponseCache
from harness.backends.ratelimit import AdaptiveLimiter, LimitedBackend
from harness.backends.registry import base_url_for, cache_identity, close_backend, make_backend
from harness.config.suites import OPERATIONAL_LIMITS, LoadedSuite, RoleSettings
from harness.contracts import Transcript
from harness.errors import InputError
from harness.project import snapshot
from harness.scoring import SCORER_VERSION
from harness.scoring.rubrics import rubrics_sha256
from harness.simulate.candidates import CandidatePlayer, ModelCandidate, ScriptedCandidate
from harness.simulate.interview import InterviewPlan, run_interview
from harness.simulate.metering import (
    BudgetExhausted,
    CappedBackend,
    InterviewTally,
    MeteredBackend,
    RunBudget,
    current_interview,
)
from harness.simulate.progress import ProgressSink, default_progress
from harness.store.failures import record_failure
from harness.store.index import RunIndex
from harness.store.ledger import SpendLedger, apply_ledger, read_ledger
from harness.store.lock import run_writer
from harness.store.manifest import Manifest, PromptRecord, RoleRecord
from harness.store.runs import (
    TRANSCRIPTS,
    append_jsonl,
    ensure_runs_dir,
    find_run_dir,
    read_complete_lines,
    read_manifest,
    safe_name,
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
        "limits": suite.limits.model_dump(exclude=set(OPERATIONAL_LIMITS)),
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


def _without_operational(suite: dict[str, Any]) -> dict[str, Any]:
    limits = {k: v for k, v in suite.get("limits", {}).items() if k not in OPERATIONAL_LIMITS}
    return {**suite, "limits": limits}


def _check_resumable(loaded: LoadedSuite, manifest: Manifest) -> None:
    """The suite must be the one the run started with, except for its operational limits
    (a higher budget, a longer timeout), which the resumed run takes from the suite."""
    fresh = new_manifest(loaded, manifest.run_id, 0)
    for name in ("suite", "prompts", "personas"):
        now, then = getattr(fresh, name), getattr(manifest, name)
        if name == "suite":
            now, then = _without_operational(now), _without_operational(then)
        if now != then:
            raise InputError(
                loaded.path,
                name,
                f"differs from the one run {manifest.run_id} started with; "
                "start a new run instead of resuming",
            )
    manifest.suite = fresh.suite


def _finished(run_dir: Path) -> dict[str, Transcript]:
    """Interviews already written; a torn last line from a kill is dropped from the file.
    A complete line that does not read is bad input: named, and the file left as it is."""
    path = run_dir / TRANSCRIPTS
    lines = read_complete_lines(path)
    done = {}
    for line_no, line in enumerate(lines, start=1):
        try:
            transcript = Transcript.model_validate_json(line)
        except ValueError as err:
            problem = str(err).splitlines()[0]
            raise InputError(
                path, f"line {line_no}", f"unreadable transcript ({problem}); fix or remove it"
            ) from None
        done[transcript.interview_id] = transcript
    if path.is_file() and path.read_bytes() != "".join(f"{ln}\n" for ln in lines).encode():
        write_json_atomic(path, "".join(f"{ln}\n" for ln in lines))
    return done


def _totals(manifest: Manifest, transcripts: list[Transcript]) -> None:
    """What the transcripts used, and of it what the response cache replayed; what was billed
    (kills included) is the ledger's."""
    usage = replayed = Usage()
    cost = 0.0
    for t in transcripts:
        usage = usage + Usage.model_validate(t.meta.get("usage", {}))
        cost += float(t.meta.get("cost_usd", 0.0))
        for call in t.meta.get("calls", []):
            if call.get("cached"):
                replayed = replayed + Usage.model_validate(call["usage"])
    manifest.usage = usage
    manifest.replayed_usage = replayed
    manifest.cost_usd = round(cost, 6)
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
    a run that used batches resumes with them, re-attaching to the batches it left pending.

    The run folder is locked for the whole run (one writer per run); SIGTERM stops the run
    the way Ctrl-C does, so the manifest says `interrupted` either way."""
    plans = plan_interviews(loaded)
    options: dict[str, Any] = {
        "progress": progress,
        "interviewer_backend": interviewer_backend,
        "candidate_backend": candidate_backend,
        "batch": batch,
    }
    if resume:
        run_dir = find_run_dir(resume, runs_dir)
        with run_writer(run_dir, "resume"):
            manifest = read_manifest(run_dir)
            _check_resumable(loaded, manifest)
            return await _run_locked(loaded, runs_dir, run_dir, manifest, plans, **options)
    ensure_runs_dir(runs_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    run_id = f"{stamp}-{safe_name(loaded.suite.name)}-{secrets.token_hex(2)}"
    run_dir = runs_dir / run_id
    run_dir.mkdir(parents=True)
    with run_writer(run_dir, "run"):
        manifest = new_manifest(loaded, run_id, len(plans))
        return await _run_locked(loaded, runs_dir, run_dir, manifest, plans, **options)


async def _run_locked(
    loaded: LoadedSuite,
    runs_dir: Path,
    run_dir: Path,
    manifest: Manifest,
    plans: list[InterviewPlan],
    *,
    progress: ProgressSink | None,
    interviewer_backend: Backend | None,
    candidate_backend: Backend | None,
    batch: BatchOptions | None,
) -> Path:
    done = _finished(run_dir)
    (run_dir / TRANSCRIPTS).touch()  # a run killed before its first interview still reads
    manifest.status = "running"
    write_manifest(run_dir, manifest)
    index = RunIndex(runs_dir)
    index.record(manifest, run_dir)

    cache = ResponseCache(runs_dir / CACHE_FILE)
    counter = CallCounter()
    suite = loaded.suite
    ledger = SpendLedger(run_dir)
    budget = RunBudget(
        limit_usd=suite.limits.max_run_cost_usd, spent_usd=read_ledger(run_dir).spent_usd
    )
    owned: list[Backend] = []  # made here, so closed here; injected backends belong to the caller

    def backend_for(settings: RoleSettings, injected: Backend | None) -> CachedBackend:
        identity = cache_identity(settings)
        if injected is None and batcher is not None and batches_role(settings, batch):
            # Batched calls wait for their round's batch: no concurrency limit applies.
            batched = BatchBackend(batcher, identity)
            owned.append(batched)
            metered = MeteredBackend(batched, ledger, budget)
            return CachedBackend(metered, cache, counter, identity, share_in_flight=False)
        if injected is None:
            injected = make_backend(settings, suite.limits)
            owned.append(injected)
        limiter = AdaptiveLimiter(
            suite.concurrency, retry_after_cap_s=suite.limits.max_retry_after_s
        )
        # The limiter holds a slot before the ledger records a call as sent.
        limited = LimitedBackend(MeteredBackend(injected, ledger, budget), limiter)
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
    failed: list[str] = []
    stopped: list[str] = []  # not started, or stopped, by the run budget
    previous_hits = manifest.cache_hits
    terminated = _on_sigterm_cancel(asyncio.current_task())
    try:
        interviewer = backend_for(suite.interviewer, interviewer_backend)
        candidate_model = (
            backend_for(suite.candidate, candidate_backend) if loaded.models_candidate() else None
        )

        def player(plan: InterviewPlan, tally: InterviewTally) -> CandidatePlayer:
            if plan.persona.mode == "scripted":
                return ScriptedCandidate(plan.persona)
            assert candidate_model is not None
            return ModelCandidate(
                plan.persona,
                CappedBackend(candidate_model, tally),
                suite.candidate,
                plan.sample_index,
                plan.seed,
            )

        async def one(plan: InterviewPlan) -> None:
            current_interview.set(plan.interview_id)  # this task's calls, in the ledger
            tally = InterviewTally(cap_usd=plan.limits.max_cost_usd)
            async with limit:
                if budget.exhausted:  # no new interview once a call could pass the budget
                    stopped.append(plan.interview_id)
                    return
                # A batched interview waits on batches (up to 24 h): no wall-clock deadline.
                deadline = None if batcher else plan.limits.interview_deadline_s
                try:
                    with batcher.caller() if batcher else contextlib.nullcontext():
                        async with asyncio.timeout(deadline):
                            transcript = await run_interview(
                                plan, CappedBackend(interviewer, tally), player(plan, tally)
                            )
                except (CallFailedError, TimeoutError) as err:
                    # This interview alone fails; its answered calls stay in the cache.
                    reason = str(err) or (
                        f"interview deadline of {plan.limits.interview_deadline_s:g} s passed"
                    )
                    record_failure(run_dir, plan.interview_id, reason)
                    failed.append(plan.interview_id)
                    sink.advance(plan.interview_id, "failed")
                    return
                except BudgetExhausted:
                    stopped.append(plan.interview_id)  # resumes from the cache, unpaid
                    sink.advance(plan.interview_id, "budget")
                    return
            append_jsonl(run_dir / TRANSCRIPTS, transcript.to_json())
            finished[plan.interview_id] = transcript
            sink.advance(plan.interview_id, str(transcript.meta["end_reason"]))

        sink.start(len(plans), len(done), label)
        async with asyncio.TaskGroup() as group:
            for plan in todo:
                group.create_task(one(plan))
        manifest.status = "budget" if stopped else "partial" if failed else "complete"
    except ExceptionGroup as errors:
        manifest.status = "failed"
        raise errors.exceptions[0] from None
    except asyncio.CancelledError:
        manifest.status = "interrupted"
        if terminated():
            raise KeyboardInterrupt("terminated") from None
        raise
    except BaseException:
        manifest.status = "interrupted"
        raise
    finally:
        _restore_sigterm()
        sink.stop()
        for backend in owned:
            await close_backend(backend)
        if batcher is not None:
            await batcher.aclose()
        ordered = [finished[p.interview_id] for p in plans if p.interview_id in finished]
        ledger.close()
        _totals(manifest, ordered)
        apply_ledger(manifest, run_dir)
        manifest.interviews_failed = len(failed)
        manifest.interviews_budget_stopped = len(stopped)
        manifest.cache_hits = previous_hits + counter.cache_hits
        manifest.ended_at = _now()
        write_manifest(run_dir, manifest)
        index.record(manifest, run_dir)
        index.close()
        cache.close()
    return run_dir


def _on_sigterm_cancel(task: asyncio.Task[Any] | None) -> Callable[[], bool]:
    """SIGTERM cancels the run like Ctrl-C; returns a probe saying whether it fired."""
    fired: list[bool] = []
    if task is None or threading.current_thread() is not threading.main_thread():
        return lambda: False

    def handle() -> None:
        fired.append(True)
        task.cancel()

    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, handle)
    except (NotImplementedError, RuntimeError):
        return lambda: False
    return lambda: bool(fired)


def _restore_sigterm() -> None:
    if threading.current_thread() is threading.main_thread():
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)


def run_suite(loaded: LoadedSuite, runs_dir: Path, **kwargs: Any) -> Path:
    """`run_suite_async` from synchronous code, also inside a running event loop (Jupyter);
    project files (problems, rules) are read once for the run."""
    with snapshot():
        return run_sync(run_suite_async(loaded, runs_dir, **kwargs))
