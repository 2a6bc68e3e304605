"""The simulator and runner end to end on the synthetic backend."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from harness.backends.base import ModelRequest, ModelResponse
from harness.backends.synthetic import SyntheticBackend
from harness.config.suites import load_suite
from harness.contracts import load_transcripts
from harness.simulate.interview import DEFAULT_OPENING, opening_text
from harness.simulate.progress import QuietProgress
from harness.simulate.runner import run_suite, run_suite_async
from harness.store.runs import read_manifest
from tests.conftest import SCRIPTED_PERSONA, write_project


class RecordingBackend:
    """The synthetic backend, remembering every request it was sent."""

    name = "synthetic"

    def __init__(self) -> None:
        self.inner = SyntheticBackend()
        self.requests: list[ModelRequest] = []

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        return await self.inner.complete(request)


def _run(suite_path: Path, runs_dir: Path, **kwargs: object) -> Path:
    return run_suite(load_suite(suite_path), runs_dir, progress=QuietProgress(), **kwargs)


def test_run_writes_contract_transcripts_with_annotations(suite_path: Path, tmp_path: Path) -> None:
    run_dir = _run(suite_path, tmp_path / "runs")
    transcripts = load_transcripts(run_dir / "transcripts.jsonl")
    assert len(transcripts) == 4  # 2 personas x 2 repeats
    assert len({t.interview_id for t in transcripts}) == 4
    for t in transcripts:
        roles = [turn.role for turn in t.turns]
        assert roles[0] == "candidate"
        assert all(a != b for a, b in itertools.pairwise(roles)), "roles alternate"
        times = [turn.elapsed_s for turn in t.turns]
        assert times == sorted(times)
        kinds = [a.kind for turn in t.turns for a in turn.annotations]
        assert "time_up" in kinds
        time_up_turn = next(x for x in t.turns if any(a.kind == "time_up" for a in x.annotations))
        assert time_up_turn.elapsed_s >= 2400
        assert t.meta["synthetic"] is True
        assert t.meta["end_reason"] in {"feedback", "no_feedback"}
        assert all(
            a.kind != "time_up" or x.role == "candidate" for x in t.turns for a in x.annotations
        )
    scripted = [t for t in transcripts if t.persona == SCRIPTED_PERSONA["id"]]
    planted = {a.kind for t in scripted for x in t.turns for a in x.annotations}
    assert {"gloss", "decision", "incorrect_claim"} <= planted
    manifest = read_manifest(run_dir)
    assert manifest.synthetic and manifest.status == "complete"
    assert manifest.interviews_done == 4 and manifest.model_calls > 0
    assert len(manifest.prompts[0].sha256) == 64


def test_model_played_candidate_markers_become_annotations(
    suite_path: Path, tmp_path: Path
) -> None:
    run_dir = _run(suite_path, tmp_path / "runs")
    played = [
        t
        for t in load_transcripts(run_dir / "transcripts.jsonl")
        if t.persona == "queue-senior-test"
    ]
    assert played
    for t in played:
        assert not any("[[plant" in x.text or "Stage direction" in x.text for x in t.turns)
        kinds = {a.kind for x in t.turns for a in x.annotations}
        assert {"gloss", "decision"} <= kinds
        assert any(c["role"] == "candidate" for c in t.meta["calls"])


def test_second_identical_run_makes_no_model_calls(suite_path: Path, tmp_path: Path) -> None:
    first = _run(suite_path, tmp_path / "runs")
    second = _run(suite_path, tmp_path / "runs")
    assert read_manifest(first).model_calls > 0
    assert read_manifest(second).model_calls == 0
    first_total = read_manifest(first).model_calls + read_manifest(first).cache_hits
    assert read_manifest(second).cache_hits == first_total
    # (lines are in the order interviews finished, which cache writes off the loop can vary)
    a = {t.interview_id: t.turns for t in load_transcripts(first / "transcripts.jsonl")}
    b = {t.interview_id: t.turns for t in load_transcripts(second / "transcripts.jsonl")}
    assert a == b


def test_repeats_are_distinct_samples(suite_path: Path, tmp_path: Path) -> None:
    run_dir = _run(suite_path, tmp_path / "runs")
    by_persona: dict[str, list[list[str]]] = {}
    for t in load_transcripts(run_dir / "transcripts.jsonl"):
        by_persona.setdefault(t.persona, []).append([x.text for x in t.turns])
    assert any(len({json.dumps(v) for v in texts}) > 1 for texts in by_persona.values())


def test_clock_prefix_is_shown_to_the_interviewer_only(tmp_path: Path) -> None:
    suite = write_project(
        tmp_path / "p", repeats=1, personas=[SCRIPTED_PERSONA], extra_suite={"clock": "prefix"}
    )
    backend = RecordingBackend()
    import asyncio

    run_dir = asyncio.run(
        run_suite_async(
            load_suite(suite),
            tmp_path / "runs",
            progress=QuietProgress(),
            interviewer_backend=backend,
        )
    )
    last = backend.requests[-1]
    assert all(m.content.startswith("[elapsed ") for m in last.messages if m.role == "user")
    transcript = load_transcripts(run_dir / "transcripts.jsonl")[0]
    assert not any(x.text.startswith("[elapsed") for x in transcript.turns)


@pytest.mark.parametrize(
    ("limits", "reason"),
    [({"max_turns": 6}, "turn_limit"), ({"max_tokens": 1000}, "token_cap")],
)
def test_caps_end_the_interview_and_say_why(tmp_path: Path, limits: dict, reason: str) -> None:
    suite = write_project(
        tmp_path / "p", repeats=1, personas=[SCRIPTED_PERSONA], extra_suite={"limits": limits}
    )
    run_dir = _run(suite, tmp_path / "runs")
    transcript = load_transcripts(run_dir / "transcripts.jsonl")[0]
    assert transcript.meta["end_reason"] == reason
    if reason == "turn_limit":
        assert len(transcript.turns) <= 6


def test_candidate_is_held_constant_across_prompt_versions(tmp_path: Path) -> None:
    """Same conversation so far -> same candidate reply, served from the cache, not re-sampled."""
    import asyncio

    import yaml

    from tests.conftest import LLM_PERSONA

    suite = write_project(tmp_path / "p", repeats=2, personas=[LLM_PERSONA])
    prompts = tmp_path / "p" / "prompts" / "interviewer"
    edited = (prompts / "v1.md").read_text() + "\nKeep every reply under 120 words.\n"
    (prompts / "v1edit.md").write_text(edited)
    data = yaml.safe_load(suite.read_text())
    data["prompts"] = ["v1", "v1edit"]
    suite.write_text(yaml.safe_dump(data))
    candidate = RecordingBackend()
    run_dir = asyncio.run(
        run_suite_async(
            load_suite(suite),
            tmp_path / "runs",
            progress=QuietProgress(),
            candidate_backend=candidate,
        )
    )
    transcripts = load_transcripts(run_dir / "transcripts.jsonl")
    candidate_turns = sum(
        1 for t in transcripts for c in t.meta["calls"] if c["role"] == "candidate"
    )
    first_requests = {
        (r.sample_index, json.dumps([m.content for m in r.messages]))
        for r in candidate.requests
        if len(r.messages) == 1
    }
    # Each sample's opening candidate call sees the same problem statement under both versions,
    # so it reached the model once, not twice.
    assert len(first_requests) == 2
    assert sum(len(r.messages) == 1 for r in candidate.requests) == 2
    assert len(candidate.requests) < candidate_turns


def test_candidate_opens_with_the_statement_of_the_prompts_start_line() -> None:
    v1 = (
        Path(__file__).resolve().parent.parent / "harness/data/prompts/interviewer/v1.md"
    ).read_text()
    assert opening_text(v1) == "I'd like to do a system design interview."
    assert opening_text('Rules...\nStart: "Hello. I want to practise. Ready?"') == (
        "Hello. I want to practise."
    )
    assert opening_text("A prompt with no start line.") == DEFAULT_OPENING


class SilentAfter:
    """An interviewer that goes silent (an empty reply, as after a refusal) at call n."""

    name = "anthropic"

    def __init__(self, n: int) -> None:
        self.n = n
        self.requests: list[ModelRequest] = []
        self.inner = SyntheticBackend()

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        response = await self.inner.complete(request)
        if len(self.requests) >= self.n:
            return response.model_copy(update={"text": "", "stop_reason": "refusal"})
        return response.model_copy(update={"synthetic": False, "backend": "anthropic"})


async def test_an_empty_reply_ends_the_interview_and_is_never_sent_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key-not-real")
    suite = write_project(
        tmp_path / "p",
        repeats=1,
        personas=[SCRIPTED_PERSONA],
        extra_suite={"interviewer": {"backend": "anthropic", "model": "claude-sonnet-4-6"}},
    )
    backend = SilentAfter(4)
    run_dir = await run_suite_async(
        load_suite(suite), tmp_path / "runs", progress=QuietProgress(), interviewer_backend=backend
    )
    (transcript,) = load_transcripts(run_dir / "transcripts.jsonl")
    assert transcript.meta["end_reason"] == "empty_reply"
    assert len(backend.requests) == 4
    assert all(m.content for r in backend.requests for m in r.messages)
    # every persona is scripted, so no candidate model ran: the run is not synthetic
    assert read_manifest(run_dir).synthetic is False
