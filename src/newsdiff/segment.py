"""Sentence spans with character offsets.

pysbd (a maintained rule-based segmenter that knows news abbreviations such as "Dec. 15",
"Nov. 19-20", "U.S." and "U.N.") segments each paragraph; a paragraph with no possible
boundary inside skips it, which keeps the slow segmenter off most of the text. A sentence
that a paragraph gap cuts in the middle of a phrase ("...Abe said on" / "Friday.") is
joined back into one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from .model import Span
from .tokens import FUNCTION_WORDS, words

MAX_PARAGRAPH = 20_000  # longer runs without a blank line are cut at white space first
_PARAGRAPH = re.compile(r"\S(?:.*?\S)?(?=\s*(?:\n[ \t\r]*\n|\Z))", re.S)
_MAYBE_BOUNDARY = re.compile(r"[.!?…][\"'”’)\]]*\s+\S|\n")
_TERMINAL = re.compile(r"[.!?…:;][\"'”’)\]]*$")


@lru_cache(maxsize=1)
def _segmenter():  # type: ignore[no-untyped-def]
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=False)


def _split_paragraph(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence (start, end) pairs inside one paragraph, trimmed of white space."""
    para = text[start:end]
    if not _MAYBE_BOUNDARY.search(para):
        return [(start, end)]
    out = []
    cursor = 0
    for sentence in _segmenter().segment(para):
        piece = sentence.strip()
        if not piece:
            continue
        at = para.find(piece, cursor)
        if at < 0:  # the segmenter changed the text; keep what remains as one sentence
            rest = para[cursor:].strip()
            if rest:
                at = para.index(rest, cursor)
                out.append((start + at, start + at + len(rest)))
            return out
        out.append((start + at, start + at + len(piece)))
        cursor = at + len(piece)
    return out


def _chunks(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut an over-long paragraph at white space into pieces of at most MAX_PARAGRAPH."""
    pieces = []
    while end - start > MAX_PARAGRAPH:
        cut = text.rfind(" ", start + MAX_PARAGRAPH // 2, start + MAX_PARAGRAPH)
        cut = cut if cut > start else start + MAX_PARAGRAPH
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))
    return pieces


def paragraphs(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of the paragraphs (blank-line separated) of ``text[start:end]``."""
    end = len(text) if end is None else end
    return [(m.start(), m.end()) for m in _PARAGRAPH.finditer(text, start, end)]


def _runs_on(text: str, end: int) -> bool:
    """True when a sentence ending at `end` stops mid-phrase (no final punctuation and a
    last word that cannot end an English sentence)."""
    tail = text[max(0, end - 40):end]
    if _TERMINAL.search(tail):
        return False
    last = words(tail)
    return bool(last) and last[-1].norm in FUNCTION_WORDS - {"it", "them", "me", "up", "out",
                                                             "off", "down", "again", "once"}


def sentences(text: str, doc: str, regions: Sequence[tuple[int, int]]) -> list[Span]:
    """Sentence spans of the text inside `regions` (the body, boilerplate left out).

    Args:
        text: the document text.
        doc: the document id put on the spans.
        regions: sorted, non-overlapping (start, end) ranges to segment.
    """
    pairs: list[tuple[int, int]] = []
    for r_start, r_end in regions:
        for p_start, p_end in paragraphs(text, r_start, r_end):
            for c_start, c_end in _chunks(text, p_start, p_end):
                pairs.extend(_split_paragraph(text, c_start, c_end))
    merged: list[tuple[int, int]] = []
    for s, e in pairs:
        if merged and _runs_on(text, merged[-1][1]) and not _crosses_furniture(
            merged[-1][1], s, regions
        ):
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return [Span(doc, s, e, text[s:e]) for s, e in merged]


def _crosses_furniture(a: int, b: int, regions: Sequence[tuple[int, int]]) -> bool:
    """True when the gap between offsets a and b leaves a body region (furniture between)."""
    return not any(r_start <= a and b <= r_end for r_start, r_end in regions)


def body_regions(length: int, start: int, cut: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of ``[start, length)`` outside the sorted spans `cut`."""
    out = []
    cursor = start
    for c_start, c_end in sorted(cut):
        if c_start > cursor:
            out.append((cursor, c_start))
        cursor = max(cursor, c_end)
    if cursor < length:
        out.append((cursor, length))
    return out
