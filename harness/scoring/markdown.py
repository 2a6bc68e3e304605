"""Reading a turn the way a person does: markdown structure kept, code and quotations set aside.

A turn is parsed by markdown-it-py (CommonMark plus tables) into blocks: headings (ATX and
setext), list items (nested lists belong to the list around them), paragraphs and table rows.
Each block becomes sentences, with markdown emphasis removed. Code (fenced, indented or inline),
quoted strings and blockquotes are replaced by a placeholder, so that a question mark inside
them is not the speaker's own question.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from harness.scoring.lexicon import normalize, straighten

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

BlockKind = Literal["heading", "item", "para", "row"]
PLACEHOLDER = "(quoted)"

_INLINE_CODE = re.compile(r"`[^`\n]+`")
_DOUBLE_QUOTED = re.compile(r'"[^"\n]{1,400}"')
# 'use a cache' but not the apostrophes of don't, users' or '90s.
_SINGLE_QUOTED = re.compile(r"(?<![\w'])'(?=\w)[^'\n]{1,400}?(?<=[\w?.!,])'(?![\w'])")
# "• item": a bullet CommonMark does not know, common in model output.
_BULLET = re.compile(r"^(\s*)\u2022(?=\s)", re.M)
_EMPHASIS = re.compile(r"(\*\*|__|\*|(?<!\w)_(?=\S)|(?<=\S)_(?!\w)|~~)")
_SPACE = re.compile(r"\s+")
# "?" and "!" end a sentence; "." only before what starts one (so "e.g. the cache" and "3.5" stay).
_SENTENCE_END = re.compile(r"(?<=[?!])[\"')\]]*\s+|(?<=\.)[\"')\]]*\s+(?=[A-Z0-9\"'(\[])")
_QUOTED_BLOCKS = ("fence", "code_block", "blockquote_open")
_LIST_OPEN = ("bullet_list_open", "ordered_list_open")
_LIST_CLOSE = ("bullet_list_close", "ordered_list_close")


@dataclass(frozen=True, slots=True)
class Block:
    kind: BlockKind
    text: str
    list_group: int = -1  # items of one list (nested ones included) share an id; -1 otherwise


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table")


@lru_cache(maxsize=4096)  # the rules read the same turn several times
def _tokens(text: str) -> tuple[Token, ...]:
    return tuple(_parser().parse(_BULLET.sub(r"\1-", text)))


def mask_inline(text: str) -> str:
    """Inline code and quoted strings replaced by a placeholder (their "?" are not asks)."""
    if "`" in text:
        text = _INLINE_CODE.sub(PLACEHOLDER, text)
    if '"' in text:
        text = _DOUBLE_QUOTED.sub(PLACEHOLDER, text)
    if "'" in text:
        text = _SINGLE_QUOTED.sub(PLACEHOLDER, text)
    return text


def _top_level_spans(text: str, types: tuple[str, ...]) -> list[tuple[int, int]]:
    """Line ranges [start, end) of the top-level blocks of the given token types."""
    return [
        (tok.map[0], tok.map[1])
        for tok in _tokens(text)
        if tok.level == 0 and tok.type in types and tok.map is not None
    ]


def without_quoted_blocks(text: str) -> str:
    """Code blocks (fenced or indented) and blockquotes removed: what the speaker quotes (a
    prompt, a log, someone's words) rather than says in its own voice."""
    spans = _top_level_spans(text, _QUOTED_BLOCKS)
    if not spans:
        return text
    lines = text.splitlines()
    dropped = {i for start, end in spans for i in range(start, end)}
    return "\n".join(line for i, line in enumerate(lines) if i not in dropped)


def rewrite_tables(text: str, row: Callable[[list[str]], str]) -> str:
    """Each table (header and body rows; the delimiter row dropped) replaced by one line per
    row, `row(cells)`; the rest of the text unchanged."""
    if "|" not in text:
        return text
    lines = text.splitlines()
    replaced: dict[int, tuple[int, list[str]]] = {}
    cells: list[str] = []
    rows: list[str] = []
    table_map: list[int] | None = None
    for tok in _tokens(text):
        if tok.type == "table_open" and tok.map is not None:
            table_map, rows = tok.map, []
        elif tok.type == "tr_open":
            cells = []
        elif tok.type == "inline" and table_map is not None:
            cells.append(tok.content.strip())
        elif tok.type == "tr_close":
            rows.append(row(cells))
        elif tok.type == "table_close" and table_map is not None:
            replaced[table_map[0]] = (table_map[1], rows)
            table_map = None
    if not replaced:
        return text
    out: list[str] = []
    i = 0
    while i < len(lines):
        if i in replaced:
            end, rows = replaced[i]
            out += rows
            i = end
        else:
            out.append(lines[i])
            i += 1
    return "\n".join(out)


def strip_emphasis(text: str) -> str:
    if "*" in text or "_" in text or "~" in text:
        text = _EMPHASIS.sub("", text)
    return " ".join(text.split())


def blocks(text: str, *, mask: bool = True) -> list[Block]:
    """Headings, list items, paragraphs and table rows, in order. With `mask`, code blocks
    become a placeholder, blockquotes are left out and inline literals are masked."""
    return list(_blocks(text, mask))


@lru_cache(maxsize=4096)
def _blocks(text: str, mask: bool) -> tuple[Block, ...]:
    out: list[Block] = []
    lists = quotes = 0
    group, next_group = -1, 0
    heading = in_table = False
    row: list[str] = []

    def add(kind: BlockKind, raw: str) -> None:
        joined = strip_emphasis(mask_inline(raw) if mask else raw)
        if joined:
            out.append(Block(kind, joined, group if kind == "item" else -1))

    for tok in _tokens(straighten(text) if mask else text):
        kind = tok.type
        if kind in _LIST_OPEN:
            if lists == 0:
                group, next_group = next_group, next_group + 1
            lists += 1
        elif kind in _LIST_CLOSE:
            lists -= 1
        elif kind in ("blockquote_open", "blockquote_close"):
            quotes += 1 if kind == "blockquote_open" else -1
        elif mask and quotes:
            continue
        elif kind in ("heading_open", "heading_close"):
            heading = kind == "heading_open"
        elif kind in ("table_open", "table_close"):
            in_table = kind == "table_open"
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close":
            add("row", " | ".join(c for c in row if c))
        elif kind in ("fence", "code_block"):
            add("item" if lists else "para", PLACEHOLDER if mask else tok.content)
        elif kind == "inline":
            if in_table:
                row.append(tok.content.strip())
            else:
                add("heading" if heading else "item" if lists else "para", tok.content)
    return tuple(out)


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
