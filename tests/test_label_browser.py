"""`sdi label` in a real browser: the command serves the page on 127.0.0.1, Debian's headless
Chromium labels transcripts through it with the keyboard and the mouse, and the label set on
disk is checked against the golden-set format; a half-done set resumes where it stopped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from harness.contracts import RULE_IDS
from harness.label.select import build_queue
from harness.label.session import LabelGiven, LabelSession, quote
from harness.report.browser import CHROMIUM
from harness.scoring.golden import GoldenCase
from harness.scoring.labels import load_reference, read_label_lines
from harness.store.rundata import load_run
from tests.test_report_html import PERSONAS, make_score, make_transcript, write_run

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no {CHROMIUM}"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")

REPO = Path(__file__).resolve().parent.parent
RUN_ID = "label-run"


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    transcripts = [
        make_transcript(f"url-junior#{i}", "v1", "url-junior", hostile=i % 2 == 1) for i in range(5)
    ]
    scores = [make_score(t, 6.0, fail_one_question=True) for t in transcripts]
    write_run(root, RUN_ID, transcripts, scores, personas_meta=PERSONAS)
    return root


@contextmanager
def label_command(tmp_path: Path, runs: Path, set_name: str) -> Iterator[str]:
    """`sdi label` as a person starts it; yields the URL it prints, stops it with Ctrl-C."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness.cli.main",
            "label",
            RUN_ID,
            "--set",
            set_name,
            "--labeller",
            "ann",
            "--runs-dir",
            str(runs),
            "--labels-dir",
            str(tmp_path / "labels"),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = ""
        for line in proc.stdout:
            if line.startswith("open "):
                url = line.split()[1]
                break
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.stderr else ""
        yield url
    finally:
        proc.send_signal(2)  # Ctrl-C
        proc.wait(timeout=10)


def _ready(page: Page) -> str:
    page.wait_for_selector("body[data-ready]")
    return page.get_attribute("body", "data-ready") or ""


def _wait_given(page: Page, item: str) -> None:
    sync_api.expect(
        page.locator(f"#state-{item}" if item == "final_score" else f"#rule-{item} .state")
    ).to_have_text("✓")


def _label_transcript(page: Page, fail_turn: int | None, score: str) -> None:
    """Every rule by keyboard (p, or f and a click on a turn), then the score; ] moves on."""
    for rule in RULE_IDS:
        sync_api.expect(page.locator(f"#rule-{rule}")).to_have_class("rule current")
        if rule == "one_question" and fail_turn is not None:
            page.keyboard.press("f")
            page.click(f'.turn[data-index="{fail_turn}"]')
            _wait_given(page, rule)
            page.keyboard.press("j")
        else:
            page.keyboard.press("p")
            _wait_given(page, rule)
    if score:
        page.keyboard.press("s")
        page.fill("#score", score)
        page.keyboard.press("Enter")
    else:
        page.keyboard.press("x")  # no score in the feedback
    _wait_given(page, "final_score")
    sync_api.expect(page.locator("#next")).to_be_enabled()


def test_three_transcripts_labelled_through_the_page(
    browser: Browser, tmp_path: Path, runs: Path
) -> None:
    with label_command(tmp_path, runs, "blind") as url:
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(url)
        seen = [_ready(page)]
        shown_markup = False
        for n, (fail, score) in enumerate([(5, "6"), (None, "7.5"), (3, "")]):
            # No scorer verdict on the page (the stored scores fail one_question at turn 5).
            assert "@5" not in page.inner_text("#rules") and "fail" not in page.inner_text("#turns")
            assert page.locator("#turns img, #turns script").count() == 0
            texts = page.locator("#turns .turn").all_inner_texts()
            shown_markup = shown_markup or any("<img src=x" in t for t in texts)
            _label_transcript(page, fail, score)
            sync_api.expect(page.locator("#progress")).to_contain_text(f"{n + 1} of 5 labelled")
            page.keyboard.press("]")
            sync_api.expect(page.locator("body")).not_to_have_attribute("data-ready", seen[-1])
            seen.append(_ready(page))
        # Two of the five are hostile, so the four visited include one: its markup stayed text.
        assert shown_markup and dialogs == []
        page.close()
    path = tmp_path / "labels" / "blind.jsonl"
    lines = read_label_lines(path)
    assert len(lines) == 3 * 11  # one line per label, written as it was given
    complete = [ln for ln in lines if ln.complete]
    assert [ln.transcript.interview_id for ln in complete] == seen[:3]
    for line in complete:
        raw = json.loads(line.model_dump_json(by_alias=True))
        GoldenCase.model_validate({k: raw[k] for k in ("transcript", "labels", "tags", "notes")})
        assert line.selection.order == "disagreement" and line.selection.run == RUN_ID
    first, second, third = (ln.golden().labels for ln in complete)
    assert first.rules["one_question"].turns == [5] and first.final_score == 6
    assert first.rules["one_question"].evidence == [quote(complete[0].transcript.turns[5].text)]
    assert second.rules["one_question"].verdict == "pass" and second.final_score == 7.5
    assert third.rules["one_question"].turns == [3] and third.final_score is None
    reference = load_reference(path)
    assert len(reference.cases) == 3


def test_a_half_done_set_resumes_where_it_stopped(
    browser: Browser, tmp_path: Path, runs: Path
) -> None:
    path = tmp_path / "labels" / "resume.jsonl"
    queue = build_queue([load_run(RUN_ID, runs)], "disagreement", seed="resume")
    earlier = LabelSession(path, "ann", "disagreement", queue)
    ids = [item.transcript.interview_id for item in queue]
    for rule in RULE_IDS:
        earlier.give(LabelGiven(interview_id=ids[0], item=rule, verdict="pass"))
    earlier.give(LabelGiven(interview_id=ids[0], item="final_score", score=6))
    for rule in RULE_IDS[:4]:  # the second transcript half done
        earlier.give(LabelGiven(interview_id=ids[1], item=rule, verdict="pass"))
    earlier.close()

    with label_command(tmp_path, runs, "resume") as url:
        page = browser.new_page()
        page.goto(url)
        assert _ready(page) == ids[1]
        for rule in RULE_IDS[:4]:
            _wait_given(page, rule)
        sync_api.expect(page.locator(f"#rule-{RULE_IDS[4]}")).to_have_class("rule current")
        sync_api.expect(page.locator("#progress")).to_contain_text("1 of 5 labelled")
        for rule in RULE_IDS[4:]:
            page.keyboard.press("p")
            _wait_given(page, rule)
        page.keyboard.press("x")
        _wait_given(page, "final_score")
        sync_api.expect(page.locator("#progress")).to_contain_text("2 of 5 labelled")
        page.close()
    state = {ln.transcript.interview_id: ln for ln in read_label_lines(path)}
    assert state[ids[1]].complete and state[ids[1]].given[:4] == list(RULE_IDS[:4])
    assert [c.transcript.interview_id for c in load_reference(path).cases] == ids[:2]


def test_one_session_writes_a_set_at_a_time(tmp_path: Path, runs: Path) -> None:
    from harness.errors import InputError

    queue = build_queue([load_run(RUN_ID, runs)], "random", seed="x")
    first = LabelSession(tmp_path / "x.jsonl", "ann", "random", queue)
    try:
        with pytest.raises(InputError, match="another labelling session"):
            LabelSession(tmp_path / "x.jsonl", "bob", "random", queue)
    finally:
        first.close()
