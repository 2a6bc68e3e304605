"""Cost preview: what a suite will call, send and cost, found without calling any model.

Each distinct (prompt, persona) interview is played through the real interview loop against a
stand-in that answers with filler of a set length, so turn limits, the simulated clock,
scripted turns and their timings decide the number of calls exactly as in a run. Each role's
requests are then billed under its vendor's prompt-caching rules (explicit breakpoints with
billed writes for Anthropic, automatic prefix caching for OpenAI, both with a minimum
cacheable length) and priced like the run would be. Reply lengths come from earlier runs of
the same suite (their quartiles and mean) or, without any, from priors; the spread between
short and long replies is the range. Interviews whose first call the response cache already
answers are counted as replayed: a rerun replays them whole at no cost.

Tokens are counted as 4 characters each, like the loopback servers; real tokenizers differ
by some percent, which the range does not cover.
"""

from __future__ import annotations

import asyncio
import hashlib
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from harness.backends.base import ModelRequest, ModelResponse, Usage
from harness.backends.cache import cached_keys
from harness.backends.pricing import cost_of, price_table
from harness.backends.registry import BackendSpec, backend_spec, cache_identity, role_price
from harness.config.suites import LoadedSuite, RoleSettings, load_suite
from harness.contracts import load_transcripts
from harness.errors import InputError
from harness.simulate.candidates import CandidatePlayer, ModelCandidate, ScriptedCandidate
from harness.simulate.interview import NUDGE_TEXT, TIME_UP_TEXT, InterviewPlan, run_interview
from harness.store.runs import MANIFEST, TRANSCRIPTS, read_manifest

if TYPE_CHECKING:
    from harness.stats.render import Section

TOKEN_CHARS = 4
# Reply lengths in tokens (short, typical, long) when no earlier run says otherwise: the v1
# prompt asks one question a turn; the model candidate's card asks for 40-180 words a turn.
PRIORS: dict[str, tuple[float, float, float]] = {
    "interviewer": (40.0, 100.0, 220.0),
    "candidate": (55.0, 150.0, 240.0),
}
MIN_HISTORY_CALLS = 5
SCENARIOS = ("low", "mid", "high")


def tokens(text: str) -> int:
    return max(1, len(text) // TOKEN_CHARS)


class Tokens(BaseModel):
    """Expected calls and tokens of one role (per scenario: short, typical, long replies)."""

    calls: float = 0.0
    input_tokens: float = 0.0
    cache_write_tokens: float = 0.0
    cache_read_tokens: float = 0.0
    output_tokens: float = 0.0

    def plus(self, other: Tokens, times: float = 1.0) -> Tokens:
        return Tokens(
            **{k: getattr(self, k) + times * getattr(other, k) for k in Tokens.model_fields}
        )

    def usage(self) -> Usage:
        return Usage(
            input_tokens=round(self.input_tokens),
            output_tokens=round(self.output_tokens),
            cache_read_input_tokens=round(self.cache_read_tokens),
            cache_creation_input_tokens=round(self.cache_write_tokens),
        )


class Span(BaseModel):
    """An expected figure and its range."""

    low: float
    mid: float
    high: float


class RoleEstimate(BaseModel):
    role: str
    backend: str
    model: str
    reply_tokens: Span
    basis: str
    tokens: dict[str, Tokens]  # scenario -> totals over the interviews still to run
    cost_usd: Span
    cost_batch_usd: Span


class Estimate(BaseModel):
    suite: str
    interviews: int
    replayed: int
    to_run: int
    roles: list[RoleEstimate]
    cost_usd: Span
    cost_batch_usd: Span
    cost_per_interview_usd: Span


@dataclass
class _Stand:
    """Answers every call with filler of the scenario's length (feedback when asked for it)
    and keeps the requests, so the caller can bill them."""

    lengths: dict[str, float]
    requests: list[ModelRequest] = field(default_factory=list)
    name: str = "estimate"

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        n = self.lengths[request.role]
        # about 0.67 words a token at 4 characters a token: 6-character words
        words = " ".join(["abcde"] * max(1, round(n * TOKEN_CHARS / 6)))
        last = request.messages[-1].content if request.messages else ""
        asked = request.role == "interviewer" and (TIME_UP_TEXT in last or NUDGE_TEXT in last)
        text = f"Score: 6/10. {words}." if asked else f"{words}?"
        return ModelResponse(text=text, model=request.model, backend=self.name)


def _blocks(request: ModelRequest, spec: BackendSpec) -> list[str]:
    system = f"system:{request.system}" if spec.prompt_cache == "automatic" else request.system
    return [system, *(f"{m.role}:{m.content}" for m in request.messages)]


def bill_chain(requests: list[ModelRequest], spec: BackendSpec) -> Tokens:
    """One role's calls in one interview, under its vendor's caching rules. Explicit caching:
    the system prompt and the end of each request are breakpoints; a later
    request reads the longest written prefix it repeats and writes the rest up to its end.
    Automatic caching: every prefix is kept and the longest repeated one is read, unbilled
    for writing. Prefixes shorter than `cache_min_tokens` are neither written nor read."""
    kept: set[str] = set()
    out = Tokens()
    for request in requests:
        blocks = _blocks(request, spec)
        sizes = [tokens(b) for b in blocks]
        digests, running, h = [], [], hashlib.sha256()
        total = 0
        for block, size in zip(blocks, sizes, strict=True):
            h.update(block.encode() + b"\0")
            digests.append(h.hexdigest())
            total += size
            running.append(total)
        floor = spec.cache_min_tokens
        hits = [i + 1 for i, d in enumerate(digests) if d in kept and running[i] >= floor]
        hit = max(hits, default=0)
        read = running[hit - 1] if hit else 0
        written = 0
        if spec.prompt_cache == "none":
            hit = read = 0
        elif spec.prompt_cache == "explicit":
            kept.update(digests[m] for m in (0, len(blocks) - 1) if running[m] >= floor)
            written = total - read if total >= floor else 0
        else:
            kept.update(digests)
        out = out.plus(
            Tokens(
                calls=1,
                input_tokens=total - read - written,
                cache_write_tokens=written,
                cache_read_tokens=read,
                output_tokens=0,
            )
        )
    return out


def reply_lengths(loaded: LoadedSuite, runs_dir: Path) -> dict[str, tuple[Span, str]]:
    """Per role: reply length in tokens (quartiles and mean) from earlier runs of this suite
    (calls a model answered), or the priors when there are too few."""
    seen: dict[str, list[int]] = {"interviewer": [], "candidate": []}
    runs = 0
    for manifest_path in sorted(runs_dir.glob(f"*/{MANIFEST}")) if runs_dir.is_dir() else []:
        run_dir = manifest_path.parent
        try:
            if read_manifest(run_dir).suite_name != loaded.suite.name:
                continue
            transcripts = load_transcripts(run_dir / TRANSCRIPTS)
        except InputError:
            continue  # an unreadable earlier run informs nothing
        runs += 1
        for t in transcripts:
            for call in t.meta.get("calls", []):
                if not call.get("cached") and call.get("role") in seen:
                    seen[call["role"]].append(int(call["usage"]["output_tokens"]))
    out: dict[str, tuple[Span, str]] = {}
    for role, values in seen.items():
        if len(values) >= MIN_HISTORY_CALLS:
            q1, _, q3 = statistics.quantiles(values, n=4)
            mean = statistics.fmean(values)
            basis = f"{len(values)} replies in {runs} earlier run(s): quartiles and mean"
            out[role] = (Span(low=min(q1, mean), mid=mean, high=max(q3, mean)), basis)
        else:
            low, mid, high = PRIORS[role]
            out[role] = (Span(low=low, mid=mid, high=high), "priors (no earlier run)")
    return out


async def _play(plan: InterviewPlan, suite: LoadedSuite, lengths: dict[str, float]) -> _Stand:
    stand = _Stand(lengths)
    player: CandidatePlayer
    if plan.persona.mode == "scripted":
        player = ScriptedCandidate(plan.persona)
    else:
        settings = suite.suite.candidate
        player = ModelCandidate(plan.persona, stand, settings, plan.sample_index, plan.seed)
    await run_interview(plan, stand, player)
    return stand


def estimate_suite(loaded: LoadedSuite, runs_dir: Path, *, replay: bool = True) -> Estimate:
    """The cost preview of running `loaded` into `runs_dir` (whose response cache and earlier
    runs it reads, writing nothing); `replay=False` prices every interview as new."""
    from harness.simulate.runner import CACHE_FILE, plan_interviews

    plans = plan_interviews(loaded)
    groups: dict[tuple[str, str], list[InterviewPlan]] = {}
    for plan in plans:
        groups.setdefault((plan.prompt.id, plan.persona.id), []).append(plan)
    roles = loaded.roles_used()
    lengths = reply_lengths(loaded, runs_dir)
    scenario_lengths = {
        s: {role: getattr(lengths[role][0], s) for role in lengths} for s in SCENARIOS
    }

    async def play_all() -> dict[str, list[_Stand]]:
        firsts = [group[0] for group in groups.values()]
        return {
            s: list(await asyncio.gather(*(_play(p, loaded, scenario_lengths[s]) for p in firsts)))
            for s in SCENARIOS
        }

    played = asyncio.run(play_all())
    # Replayed: the response cache already answers an interview's first call.
    identity = cache_identity(loaded.suite.interviewer)
    first_keys: dict[str, str] = {}
    for stand, group in zip(played["mid"], groups.values(), strict=True):
        first = stand.requests[0]
        for plan in group:
            request = first.model_copy(
                update={"sample_index": plan.sample_index, "seed": plan.seed}
            )
            first_keys[plan.interview_id] = request.cache_key(identity)
    held = cached_keys(runs_dir / CACHE_FILE, list(first_keys.values())) if replay else set()
    to_run = {pid for pid, key in first_keys.items() if key not in held}
    weights = [sum(p.interview_id in to_run for p in group) for group in groups.values()]

    role_estimates = []
    for role, settings in roles.items():
        role_estimates.append(_role_estimate(role, settings, played, weights, lengths[role]))
    total = _sum_spans([r.cost_usd for r in role_estimates])
    batch = _sum_spans([r.cost_batch_usd for r in role_estimates])
    n = max(len(to_run), 1)
    return Estimate(
        suite=loaded.suite.name,
        interviews=len(plans),
        replayed=len(plans) - len(to_run),
        to_run=len(to_run),
        roles=role_estimates,
        cost_usd=total,
        cost_batch_usd=batch,
        cost_per_interview_usd=Span(low=total.low / n, mid=total.mid / n, high=total.high / n),
    )


def _role_estimate(
    role: str,
    settings: RoleSettings,
    played: dict[str, list[_Stand]],
    weights: list[int],
    length: tuple[Span, str],
) -> RoleEstimate:
    spec = backend_spec(settings.backend)
    price = role_price(settings)
    by_scenario: dict[str, Tokens] = {}
    for scenario, stands in played.items():
        total = Tokens()
        for stand, weight in zip(stands, weights, strict=True):
            chain = [r for r in stand.requests if r.role == role]
            billed = bill_chain(chain, spec)
            billed.output_tokens = len(chain) * stand.lengths[role]
            total = total.plus(billed, weight)
        by_scenario[scenario] = total
    costs = {
        s: (cost_of(t.usage(), price), cost_of(t.usage(), price, batched=True)) if price else (0, 0)
        for s, t in by_scenario.items()
    }
    plain = [c[0] for c in costs.values()]
    batched = [c[1] for c in costs.values()]
    return RoleEstimate(
        role=role,
        backend=settings.backend,
        model=settings.model,
        reply_tokens=length[0],
        basis=length[1],
        tokens=by_scenario,
        cost_usd=Span(low=min(plain), mid=costs["mid"][0], high=max(plain)),
        cost_batch_usd=Span(low=min(batched), mid=costs["mid"][1], high=max(batched)),
    )


def _sum_spans(spans: list[Span]) -> Span:
    return Span(
        low=sum(s.low for s in spans),
        mid=sum(s.mid for s in spans),
        high=sum(s.high for s in spans),
    )


def _money(span: Span) -> str:
    return f"${span.mid:,.4f} (${span.low:,.4f} to ${span.high:,.4f})"


def render_estimate(est: Estimate) -> list[str]:
    """The preview as lines for the terminal."""
    lines = [
        f"dry run of suite {est.suite}: no model called",
        f"  interviews: {est.interviews} planned, {est.replayed} already in the response cache "
        f"(replayed free), {est.to_run} to run",
    ]
    header = (
        f"  {'role':<12}{'backend/model':<34}{'calls':>8}{'input':>11}{'cache write':>13}"
        f"{'cache read':>12}{'output':>10}  reply tokens"
    )
    lines.append(header)
    for r in est.roles:
        t = r.tokens["mid"]
        lines.append(
            f"  {r.role:<12}{(r.backend + '/' + r.model)[:33]:<34}{t.calls:>8,.0f}"
            f"{t.input_tokens:>11,.0f}{t.cache_write_tokens:>13,.0f}{t.cache_read_tokens:>12,.0f}"
            f"{t.output_tokens:>10,.0f}  {r.reply_tokens.mid:.0f} "
            f"({r.reply_tokens.low:.0f}-{r.reply_tokens.high:.0f}; {r.basis})"
        )
    for r in est.roles:
        lines.append(f"  {r.role} cost: {_money(r.cost_usd)}")
    lines.append(f"  expected cost: {_money(est.cost_usd)}")
    lines.append(f"  with batches: {_money(est.cost_batch_usd)}")
    lines.append(f"  per interview: {_money(est.cost_per_interview_usd)}")
    return lines


def estimate_gate_side(ref: str, option: str, suite_path: Path, runs_dir: Path) -> list[str]:
    """The preview of one side of `sdi gate`: nothing to pay for a finished run; else the gate
    suite run for that prompt version."""
    from harness.stats.gate_inputs import prompt_path_for, suite_for_prompt
    from harness.store.runs import find_run_dir

    try:
        run_dir = find_run_dir(ref, runs_dir)
    except InputError:
        run_dir = None
    if run_dir is not None:
        return [f"{option} {ref}: an existing run, nothing to call"]
    loaded = load_suite(suite_path, require_key=False)
    prompt_path = prompt_path_for(ref, loaded)
    if prompt_path is None:
        raise InputError(None, option, f"'{ref}' is neither a run nor a prompt")
    estimate = estimate_suite(suite_for_prompt(loaded, prompt_path), runs_dir)
    return [f"{option} {ref}:", *render_estimate(estimate)]


def plan_cost_section(
    needs: list[tuple[str, int | None, int]], loaded: LoadedSuite, runs_dir: Path
) -> Section:
    """`sdi plan` in dollars: for each answer (label, repeats per persona, personas), the
    interviews of both versions and what they cost on `loaded`'s models, replays ignored."""
    from harness.stats.render import Section

    per = estimate_suite(loaded, runs_dir, replay=False)
    rows = []
    for label, repeats, personas in needs:
        if repeats is None:
            rows.append([label, "-", "-", "-", "-"])
            continue
        n = 2 * repeats * personas
        rows.append(
            [
                label,
                str(repeats),
                f"{n:,}",
                f"${n * per.cost_per_interview_usd.mid:,.2f} "
                f"(${n * per.cost_per_interview_usd.low:,.2f}-"
                f"${n * per.cost_per_interview_usd.high:,.2f})",
                f"${n * per.cost_per_interview_usd.mid * price_table().batch:,.2f}",
            ]
        )
    return Section(
        f"What that costs on suite {loaded.suite.name} "
        f"({', '.join(f'{r.role} {r.backend}/{r.model}' for r in per.roles)})",
        headers=["answer", "repeats per persona", "interviews (2 versions)", "cost", "batched"],
        rows=rows,
        notes=[
            f"${per.cost_per_interview_usd.mid:.4f} an interview "
            f"(${per.cost_per_interview_usd.low:.4f}-${per.cost_per_interview_usd.high:.4f}), "
            "from `sdi run --dry-run`'s model of the suite; the response cache is not counted"
        ],
    )
