"""Independent samples with common random numbers: every call is keyed on the interview's
identity (persona, sample) as well as the request, and the synthetic stand-in draws its
randomness from (persona, sample, turn), never from the prompt text."""

from __future__ import annotations

import itertools
from pathlib import Path

import yaml

from harness.backends.base import ModelRequest, ModelResponse
from harness.backends.synthetic import SyntheticBackend, stream_seed
from harness.config.suites import load_suite
from harness.contracts import Transcript, load_transcripts
from harness.simulate.progress import QuietProgress
from harness.simulate.runner import run_suite
from harness.store.runs import read_manifest
from tests.conftest import LLM_PERSONA, SCRIPTED_PERSONA, V1, write_project


class FreshDraws:
    """The synthetic stand-in with a new token on every reply it is asked for, like a model
    sampled at temperature > 0: two equal replies can only come from the response cache."""

    name = "synthetic"

    def __init__(self) -> None:
        self.inner = SyntheticBackend()
        self.draws = itertools.count()

    async def complete(self, request: ModelRequest) -> ModelResponse:
        response = await self.inner.complete(request)
        return response.model_copy(update={"text": f"{response.text} (draw {next(self.draws)})"})


def _project(root: Path, personas: list[dict], edits: dict[str, str], repeats: int) -> Path:
    """A project whose suite runs v1 and each edit of it (name -> prompt text)."""
    suite_path = write_project(root, repeats=repeats, personas=personas)
    prompts = root / "prompts" / "interviewer"
    for name, text in edits.items():
        (prompts / f"{name}.md").write_text(text, encoding="utf-8")
    suite = yaml.safe_load(suite_path.read_text())
    suite["prompts"] = ["v1", *edits]
    suite_path.write_text(yaml.safe_dump(suite))
    return suite_path


def _run(suite_path: Path, runs: Path, **backends: FreshDraws) -> Path:
    return run_suite(load_suite(suite_path), runs, progress=QuietProgress(), **backends)


def _by_arm(run_dir: Path) -> dict[str, dict[tuple[str, int], Transcript]]:
    out: dict[str, dict[tuple[str, int], Transcript]] = {}
    for t in load_transcripts(run_dir / "transcripts.jsonl"):
        out.setdefault(t.prompt_version, {})[(t.persona, t.meta["sample_index"])] = t
    return out


def _whitespace_edit(v1: str) -> str:
    first, rest = v1.split("\n", 1)
    return f"{first} \n{rest}"


def test_requests_differing_only_in_identity_are_different_samples() -> None:
    base = ModelRequest(role="interviewer", model="m", system="s", messages=[])
    other_persona = base.model_copy(update={"persona_id": "b"})
    other_sample = base.model_copy(update={"sample_index": 1})
    keys = {r.cache_key("x") for r in (base, other_persona, other_sample)}
    assert len(keys) == 3
    assert len({stream_seed(r) for r in (base, other_persona, other_sample)}) == 3
    # The stand-in's stream ignores the prompt text: an edit changes only what it reads.
    assert stream_seed(base) == stream_seed(base.model_copy(update={"system": "s "}))


def test_two_personas_with_one_problem_do_not_share_a_response(tmp_path: Path) -> None:
    twin = {**SCRIPTED_PERSONA, "id": "url-mid-twin"}
    suite_path = write_project(tmp_path / "p", repeats=2, personas=[SCRIPTED_PERSONA, twin])
    run_dir = _run(suite_path, tmp_path / "runs", interviewer_backend=FreshDraws())
    transcripts = load_transcripts(run_dir / "transcripts.jsonl")
    assert len(transcripts) == 4
    # Both personas send byte-identical first requests; each interview still got its own reply.
    assert len({t.turns[0].text for t in transcripts}) == 1
    assert len({t.turns[1].text for t in transcripts}) == 4
    assert read_manifest(run_dir).cache_hits == 0


def test_same_persona_and_sample_keep_the_candidate_reply_across_versions(
    tmp_path: Path,
) -> None:
    v1_text = V1.read_text(encoding="utf-8")
    suite_path = _project(
        tmp_path / "p", [LLM_PERSONA], {"v1-space": _whitespace_edit(v1_text)}, repeats=2
    )
    run_dir = _run(suite_path, tmp_path / "runs", candidate_backend=FreshDraws())
    arms = _by_arm(run_dir)
    pid = LLM_PERSONA["id"]
    for sample in (0, 1):
        a, b = arms["v1"][(pid, sample)], arms["v1-space"][(pid, sample)]
        replies_a = [t.text for t in a.turns[4:] if t.role == "candidate"]
        replies_b = [t.text for t in b.turns[4:] if t.role == "candidate"]
        assert replies_a and replies_a == replies_b  # the cache answered the second version
    first = [arms["v1"][(pid, s)].turns[4].text for s in (0, 1)]
    assert first[0] != first[1]  # another sample is another draw
    assert read_manifest(run_dir).cache_hits > 0


def test_a_whitespace_edit_leaves_the_interviews_identical(tmp_path: Path) -> None:
    v1_text = V1.read_text(encoding="utf-8")
    no_rule_2 = "\n".join(ln for ln in v1_text.splitlines() if not ln.startswith("2. ")) + "\n"
    suite_path = _project(
        tmp_path / "p",
        [SCRIPTED_PERSONA, LLM_PERSONA],
        {"v1-space": _whitespace_edit(v1_text), "v1-no-rule-2": no_rule_2},
        repeats=3,
    )
    run_dir = _run(suite_path, tmp_path / "runs")
    arms = _by_arm(run_dir)

    def same(version: str) -> int:
        return sum(
            [t.text for t in arms["v1"][key].turns] == [t.text for t in other.turns]
            for key, other in arms[version].items()
        )

    assert same("v1-space") == 6  # the stand-in reads nothing that changed
    assert same("v1-no-rule-2") < 6  # it does read the rule that was deleted
    # Repeats of one persona are different samples.
    assert len({t.turns[1].text + t.turns[-1].text for t in arms["v1"].values()}) > 2
