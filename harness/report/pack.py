"""Transcripts packed for the report page: JSON arrays of a few hundred kilobytes, gzipped and
base64-encoded, one per `<script>` element. The page decompresses a chunk (DecompressionStream)
the first time it shows one of its interviews, so a report over ten thousand interviews stays
small and opens fast; base64 has no markup character, so the text cannot break the page.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from typing import Any

from harness.contracts import Transcript

CHUNK_BYTES = 512 * 1024


def compact(payload: object) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def pack(texts: list[str]) -> str:
    """A JSON array of the given JSON texts, gzipped (no timestamp) and base64-encoded."""
    raw = ("[" + ",".join(texts) + "]").encode("utf-8")
    return base64.b64encode(gzip.compress(raw, compresslevel=6, mtime=0)).decode("ascii")


def unpack(chunk: str) -> list[Any]:
    """The inverse of `pack` (for tests and tools; the page uses DecompressionStream)."""
    return list(json.loads(gzip.decompress(base64.b64decode(chunk))))


def turns_entry(t: Transcript) -> list[Any]:
    """A transcript's turns as the page reads them: [role (1 = interviewer), text, seconds,
    [[annotation kind, topic, note]...]]."""
    return [
        [
            0 if turn.role == "candidate" else 1,
            turn.text,
            round(turn.elapsed_s),
            [[a.kind, a.topic, a.note] for a in turn.annotations],
        ]
        for turn in t.turns
    ]


class Packer:
    """Collects interviews' entries in order and closes a chunk whenever it is big enough."""

    def __init__(self, chunk_bytes: int | None = None) -> None:
        self.chunk_bytes = chunk_bytes or CHUNK_BYTES
        self.chunks: list[str] = []
        self._pending: list[str] = []
        self._size = 0

    def add(self, entry: object) -> int:
        """Append an entry; returns the number of the chunk it goes in."""
        text = compact(entry)
        number = len(self.chunks)
        self._pending.append(text)
        self._size += len(text)
        if self._size >= self.chunk_bytes:
            self._close()
        return number

    def _close(self) -> None:
        if self._pending:
            self.chunks.append(pack(self._pending))
            self._pending, self._size = [], 0

    def finish(self) -> list[str]:
        self._close()
        return self.chunks


def iter_chunk_entries(chunks: list[str], chunk_of: list[int]) -> Iterator[Any]:
    """The entries back, in the order they were added (`chunk_of`: each one's chunk)."""
    unpacked = [unpack(c) for c in chunks]
    position: dict[int, int] = {}
    for chunk in chunk_of:
        pos = position.get(chunk, 0)
        position[chunk] = pos + 1
        yield unpacked[chunk][pos]
