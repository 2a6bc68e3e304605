"""`sdi practice`: play the candidate yourself in the terminal; `--history` shows past sessions."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from harness.cli.common import RunsDir, cli_errors
from harness.project import BUILTIN_ROOT
from harness.store.runs import DEFAULT_RUNS_DIR

if TYPE_CHECKING:
    from rich.console import Console

    from harness.simulate.practice import PracticeSetup

PRACTICE_HELP = "\n\n".join(
    [
        "Practise a system-design interview against an interviewer prompt: you are the "
        "candidate. The elapsed time shows at every answer; finish an answer with an empty "
        "line (answers may span lines). /time asks for feedback and a score; /quit (or Ctrl-D) "
        "stops and keeps what was said.",
        "The interviewer comes from --suite's interviewer role (any backend); without a suite "
        "it is the offline SYNTHETIC stand-in, which reads keywords, not meaning, and is "
        "labelled as such on screen. The session is saved as a run (persona `human`, your "
        "level and the problem recorded), scored, and shown with each rule's verdict.",
        "--history lists your sessions' scores and the topics that keep coming back under "
        '"Needs Work".',
    ]
)
DEFAULT_PROMPTS = BUILTIN_ROOT / "prompts" / "interviewer"  # the project's, where it has one


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60):02d}:{int(seconds % 60):02d}"


class ConsoleTerminal:
    """The person's side: rich panels for the interviewer, plain input() for answers."""

    def __init__(self, console: Console, synthetic: bool) -> None:
        self.console = console
        self.tag = " · SYNTHETIC stand-in, not a model" if synthetic else ""

    def interviewer(self, text: str, elapsed_s: float) -> None:
        from rich.markdown import Markdown
        from rich.panel import Panel

        from harness.simulate.practice import printable

        title = f"interviewer [{_clock(elapsed_s)}]{self.tag}"
        self.console.print(Panel(Markdown(printable(text)), title=title, title_align="left"))

    def candidate(self, text: str, elapsed_s: float) -> None:
        self.console.print(f"[dim]you [{_clock(elapsed_s)}]: {text}[/dim]", highlight=False)

    def answer(self, elapsed_s: float) -> str:
        first = input(f"[{_clock(elapsed_s)}] you> ")
        if first.strip().startswith("/"):
            return first
        lines = [first]
        while True:
            more = input("   ...> ")
            if not more.strip():
                return "\n".join(lines)
            lines.append(more)


def _setup(prompt: str, problem: str | None, suite: Path | None, level: str) -> PracticeSetup:
    from harness.config.problems import load_problems
    from harness.config.prompts import load_prompt
    from harness.config.suites import Limits, RoleSettings, load_suite
    from harness.errors import InputError
    from harness.project import current_project
    from harness.simulate.practice import PracticeSetup

    problems = list(load_problems())
    if problem is not None and problem not in problems:
        raise InputError(
            None, "--problem", f"unknown problem '{problem}' (known: {', '.join(problems)})"
        )
    if suite is not None:
        loaded = load_suite(suite)
        settings, limits, clock = loaded.suite.interviewer, loaded.suite.limits, loaded.suite.clock
        prompts_dir = suite.parent / loaded.suite.prompts_dir
        suite_path = str(suite.resolve())
    else:
        settings = RoleSettings(backend="synthetic", model="synthetic-interviewer", max_tokens=1024)
        limits, clock, prompts_dir, suite_path = Limits(), "off", DEFAULT_PROMPTS, "(built in)"
    path = Path(prompt) if prompt.endswith(".md") else prompts_dir / f"{prompt}.md"
    path = current_project().locate(path) or path
    return PracticeSetup(
        prompt=load_prompt(path),
        interviewer=settings,
        problem=problem or _ask_problem(),
        level=level,
        limits=limits,
        clock=clock,
        suite_path=suite_path,
    )


def _ask_problem() -> str:
    from harness.config.problems import load_problems

    problems = list(load_problems())
    for i, p in enumerate(problems, start=1):
        typer.echo(f"  {i}. {p}")
    while True:
        raw = input("Which problem (number)? ").strip()
        if raw.isdigit() and 1 <= int(raw) <= len(problems):
            return problems[int(raw) - 1]


async def _play(setup: PracticeSetup, terminal: ConsoleTerminal, interview_id: str) -> object:
    from harness.backends.registry import close_backend, make_backend
    from harness.simulate.practice import play

    backend = make_backend(setup.interviewer)
    try:
        return await play(setup, backend, terminal, interview_id)
    finally:
        await close_backend(backend)


def _show_result(console: Console, run_dir: Path, record: object) -> None:
    from rich.table import Table

    from harness.contracts import ScoreRecord

    assert isinstance(record, ScoreRecord)
    table = Table(title="How the interviewer kept to its rules (deterministic scorers)")
    for col in ("rule", "verdict", "turns", "evidence"):
        table.add_column(col)
    for rule, result in record.rules.items():
        style = {"fail": "red", "pass": "green"}.get(result.verdict, "dim")
        table.add_row(
            rule,
            f"[{style}]{result.verdict}[/{style}]",
            ",".join(map(str, result.turns)),
            " | ".join(result.evidence)[:100],
        )
    console.print(table)
    score = "-" if record.final_score is None else f"{record.final_score:g}/10"
    console.print(f"your score from the interviewer: {score}")
    console.print(f"saved as run {run_dir.name} ({run_dir})")


@cli_errors
def practice(
    prompt: Annotated[str, typer.Option("--prompt", help="Prompt id (or .md path).")] = "v1",
    problem: Annotated[
        str | None, typer.Option("--problem", help="Problem id (asked when not given).")
    ] = None,
    suite: Annotated[
        Path | None, typer.Option("--suite", help="Suite whose interviewer role to use.")
    ] = None,
    level: Annotated[
        str, typer.Option("--level", help="Your level, recorded with the session.")
    ] = "unstated",
    runs_dir: RunsDir = DEFAULT_RUNS_DIR,
    show_history: Annotated[
        bool, typer.Option("--history", help="Show past sessions instead of starting one.")
    ] = False,
) -> None:
    """Practise an interview yourself (see PRACTICE_HELP, the command's help)."""
    from rich.console import Console

    console = Console(highlight=False)
    if show_history:
        _history(console, runs_dir)
        return
    from harness.scoring.score import score_transcript
    from harness.simulate.practice import _now, new_run_id, save_session

    setup = _setup(prompt, problem, suite, level)
    if setup.synthetic:
        console.print(
            "[bold yellow]The interviewer is the SYNTHETIC stand-in: offline, it reads keywords "
            "not meaning. Use --suite with a model backend for a real interviewer.[/bold yellow]"
        )
    console.print(
        f"prompt {setup.prompt.id} · problem {setup.problem} · finish an answer with an empty "
        "line · /time for feedback · /quit to stop"
    )
    run_id, started = new_run_id(), _now()
    terminal = ConsoleTerminal(console, setup.synthetic)
    transcript = asyncio.run(_play(setup, terminal, f"{run_id}#0"))
    from harness.contracts import Transcript

    assert isinstance(transcript, Transcript)
    record = score_transcript(transcript)
    run_dir = save_session(setup, transcript, runs_dir, run_id, started, [record])
    _show_result(console, run_dir, record)


def _history(console: Console, runs_dir: Path) -> None:
    from rich.table import Table

    from harness.simulate.practice import history, recurring_topics

    sessions = history(runs_dir)
    if not sessions:
        console.print(f"no practice sessions in {runs_dir}")
        return
    table = Table(title=f"practice sessions in {runs_dir}")
    for col in ("started", "problem", "level", "prompt", "score", "rules failed", "ended", ""):
        table.add_column(col)
    for s in sessions:
        table.add_row(
            s.started_at[:16].replace("T", " "),
            s.problem,
            s.level,
            s.prompt,
            "-" if s.final_score is None else f"{s.final_score:g}",
            ", ".join(s.failed_rules) or "-",
            s.end_reason,
            "synthetic" if s.synthetic else "",
        )
    console.print(table)
    recurring = recurring_topics(sessions)
    if recurring:
        console.print(
            "Needs Work, again and again: "
            + ", ".join(f"{topic} ({n} sessions)" for topic, n in recurring)
        )
    else:
        console.print('No topic has come back under "Needs Work" in more than one session.')
    last = sessions[-1]
    if last.needs_work:
        console.print("Last session's Needs Work: " + " | ".join(last.needs_work))


def register(app: typer.Typer) -> None:
    app.command("practice", help=PRACTICE_HELP)(practice)
