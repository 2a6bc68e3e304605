"""Reading a turn the way a person does: markdown structure kept, code and quotations set aside.

A turn becomes blocks (headings, list items, paragraphs) and each block becomes sentences, with
markdown emphasis removed. Code (fenced or inline), quoted strings and blockquotes are replaced
by a placeholder, so that a question mark inside them is not the speaker's own question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from harness.scoring.lexicon import normalize, straighten

BlockKind = Literal["heading", "item", "para"]
PLACEHOLDER = "(quoted)"

_FENCE = re.compile(r"^\s*(```|~~~).*?(?:^\s*\1[^\n]*$|\Z)", re.S | re.M)
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_DOUBLE_QUOTED = re.compile(r'"[^"\n]{1,400}"')
# 'use a cache' but not the apostrophes of don't, users' or '90s.
_SINGLE_QUOTED = re.compile(r"(?<![\w'])'(?=\w)[^'\n]{1,400}?(?<=[\w?.!,])'(?![\w'])")
_BLOCKQUOTE = re.compile(r"^\s*>.*$", re.M)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_ITEM = re.compile(r"^\s*(?:\d{1,3}[.)]|[-*+\u2022])\s+(.*)$")
_RULE_LINE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_EMPHASIS = re.compile(r"(\*\*|__|\*|(?<!\w)_(?=\S)|(?<=\S)_(?!\w)|~~)")
_SPACE = re.compile(r"\s+")
# "?" and "!" end a sentence; "." only before what starts one (so "e.g. the cache" and "3.5" stay).
_SENTENCE_END = re.compile(r"(?<=[?!])[\"')\]]*\s+|(?<=\.)[\"')\]]*\s+(?=[A-Z0-9\"'(\[])")


@dataclass(frozen=True, slots=True)
class Block:
    kind: BlockKind
    text: str
    list_group: int = -1  # consecutive items share a group id; -1 for headings and paragraphs


def mask_literals(text: str) -> str:
    """Code, quoted strings and blockquotes replaced by a placeholder (their "?" are not asks)."""
    text = straighten(text)
    if "```" in text or "~~~" in text:
        text = _FENCE.sub(PLACEHOLDER, text)
    if "`" in text:
        text = _INLINE_CODE.sub(PLACEHOLDER, text)
    if ">" in text:
        text = _BLOCKQUOTE.sub("", text)
    if '"' in text:
        text = _DOUBLE_QUOTED.sub(PLACEHOLDER, text)
    if "'" in text:
        text = _SINGLE_QUOTED.sub(PLACEHOLDER, text)
    return text


def without_quoted_blocks(text: str) -> str:
    """Fenced code and blockquotes removed: what the speaker quotes (a prompt, a log, someone's
    words) rather than says in its own voice."""
    if "```" in text or "~~~" in text:
        text = _FENCE.sub("", text)
    if ">" in text:
        text = _BLOCKQUOTE.sub("", text)
    return text


def strip_emphasis(text: str) -> str:
    if "*" in text or "_" in text or "~" in text:
        text = _EMPHASIS.sub("", text)
    return " ".join(text.split())


def blocks(text: str, *, mask: bool = True) -> list[Block]:
    """Headings, list items (with their continuation lines) and paragraphs, in order."""
    out: list[Block] = []
    current: list[str] = []
    kind: BlockKind = "para"
    group = -1
    next_group = 0

    def flush() -> None:
        nonlocal current
        joined = strip_emphasis(" ".join(current))
        if joined:
            out.append(Block(kind, joined, group if kind == "item" else -1))
        current = []

    for line in (mask_literals(text) if mask else text).splitlines():
        if not line.strip() or _RULE_LINE.match(line):
            flush()
            kind = "para"
            continue
        heading = _HEADING.match(line)
        item = _ITEM.match(line)
        if heading:
            flush()
            group = -1
            out.append(Block("heading", strip_emphasis(heading.group(1))))
            kind = "para"
        elif item:
            flush()
            if not out or out[-1].kind != "item" or group == -1:
                group = next_group
                next_group += 1
            kind = "item"
            current = [item.group(1)]
        else:
            if kind == "item" and not current:
                kind, group = "para", -1
            elif kind == "para" and not current:
                group = -1
            current.append(line.strip())
    flush()
    return out


def sentences(text: str) -> list[str]:
    """A block's sentences; a sentence keeps its closing punctuation."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def is_question_sentence(sentence: str) -> bool:
    return sentence.rstrip(" \"')]*_").endswith("?")


def plain_sentences(text: str) -> list[str]:
    """Every sentence of a turn, markdown removed, literals masked, as normalized text."""
    return [normalize(s) for b in blocks(text) for s in sentences(b.text)]


def quote(text: str, limit: int = 160) -> str:
    """A short quote for evidence: whitespace collapsed, cut at a word boundary."""
    flat = _SPACE.sub(" ", text).strip()
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + " …"
