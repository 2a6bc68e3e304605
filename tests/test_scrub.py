"""Secrets never reach a message, whole or cut short; markdown from run data never links."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from harness.backends.anthropic_backend import AnthropicBackend
from harness.backends.base import BackendFatalError, ChatMessage, ModelRequest
from harness.cli.common import fail
from harness.errors import scrub_secret
from harness.report.markdown import md_text
from harness.stats.render import Section, to_markdown
from tests.loopback import FAKE_API_KEY, LoopbackServer, error

KEY = "sk-ant-api03-abcdefghijklmnop"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"bad key {KEY}", "bad key ***"),
        (f"bad key {KEY[:8]}…", "bad key ***…"),
        (f"echo {KEY[:15]}XYZ and {KEY[:12]}", "echo ***XYZ and ***"),
        (f"too short to be the key: {KEY[:7]}", f"too short to be the key: {KEY[:7]}"),
        ("nothing here", "nothing here"),
    ],
)
def test_any_prefix_of_eight_or_more_is_scrubbed(text: str, expected: str) -> None:
    assert scrub_secret(text, KEY) == expected


def test_cli_errors_scrub_keys_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("OTHER_AUTH_TOKEN", "tok-1234567890")
    fail(f"server said: key {KEY[:10]} or tok-1234567 rejected")
    err = capsys.readouterr().err
    assert KEY[:8] not in err and "tok-1234" not in err and err.count("***") == 2


async def test_an_echoed_key_prefix_from_the_api_is_scrubbed(loopback: LoopbackServer) -> None:
    loopback.enqueue(error(401, "authentication_error", f"invalid x-api-key {FAKE_API_KEY[:14]}…"))
    backend = AnthropicBackend(max_retries=0)
    request = ModelRequest(
        role="interviewer",
        model="claude-haiku-4-5",
        system="s",
        messages=[ChatMessage(role="user", content="hi")],
    )
    with pytest.raises(BackendFatalError) as caught:
        await backend.complete(request)
    await backend.aclose()
    assert FAKE_API_KEY[:8] not in str(caught.value) and "***" in str(caught.value)


@pytest.mark.parametrize(
    "hostile",
    [
        "[x](javascript:alert(1))",
        "![img](http://evil.example/pixel.png)",
        "[ref]: javascript:alert(1)",
        "<a href='javascript:alert(1)'>x</a>",
    ],
)
@pytest.mark.parametrize("escaped_first", [False, True])
def test_markdown_from_run_data_renders_no_link(hostile: str, escaped_first: bool) -> None:
    text = md_text(hostile) if escaped_first else hostile
    section = Section(
        f"persona {text}", headers=["persona", "n"], rows=[[text, "3"]], lines=[text], notes=[text]
    )
    html = MarkdownIt("commonmark").enable("table").render(to_markdown([section]))
    assert "<a " not in html and "<img" not in html
    assert 'href="' not in html and 'src="' not in html
    assert "javascript" in html or "evil.example" in html  # shown as text
