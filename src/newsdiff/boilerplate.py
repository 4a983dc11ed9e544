"""Page furniture: credit and share lines, subscription appeals, photo credits, source and
disclaimer lines.

Learned from the corpus rather than from a list of strings: a line is furniture when it
stands at the head or foot of an article and either recurs across articles (the same
appeal under every story) or has the shape of furniture (a short non-sentence, a line in
capitals, a credit with a slash, a bracketed label, a link line). A paragraph that two
articles share in their *body* is news, not furniture: only the edges are scanned for
repeats.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple

from .model import Boilerplate, Span

# `words`' pattern, used here without making Word tuples (tokens.py is part of the fact
# rules an index records, so it is left as it is rather than given a public name for it)
from .tokens import _WORD as WORD_RE
from .tokens import normalize, words

EDGE_LINES = 6  # how far into the head and the foot of an article furniture is looked for
# Furniture and titles are short: a longer line is body text, and is never tokenised here
# (a 5 MB line without a newline would otherwise be split into words five times over).
MAX_FURNITURE_CHARS = 2000
_TERMINAL = re.compile(r"[.!?…][\"'”’)\]]*\s*$")
_URL_LINE = re.compile(r"^\W{0,3}(?:[\w ]{1,30}:\s*)?<?(?:https?://|www\.)\S+>?\s*$", re.I)
_BRACKETED = re.compile(r"^\s*[\[(][^\])]{1,40}[\])]\s*$")
_CREDIT = re.compile(r"(?:\s/\s|©|\((?:photo|image)\)|^(?:photo|image|credit|pictured)\b)",
                     re.I)
_BULLET = re.compile(r"^\s*[•·▪■◆\-*>|]+\s*")
# Raw HTML in a Markdown or text file: a line of nothing but tags or comments, and whole
# script/style/iframe blocks (bounded, so an unclosed tag costs no more than its limit).
_TAG_LINE = re.compile(r"(?:(?:<[!/?]?[A-Za-z][^<>]{0,500}>|<!--.{0,500}?-->)\s*)+", re.S)
_MARKUP_BLOCK = re.compile(
    r"<(script|style|iframe|noscript|object|template|svg)\b[^>]{0,500}>.{0,20000}?</\1\s*>",
    re.I | re.S)


class Line(NamedTuple):
    """A non-blank line of a document, stripped of surrounding white space."""

    start: int
    end: int
    text: str


def lines(text: str, start: int = 0) -> list[Line]:
    """Non-blank lines of ``text[start:]`` with offsets into `text`."""
    out = []
    for m in re.finditer(r"[^\r\n]+", text[start:]):
        raw = m.group()
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            s = start + m.start() + lead
            out.append(Line(s, s + len(stripped), stripped))
    return out


@lru_cache(maxsize=65_536)  # an edge line is keyed when counted and again when judged
def line_key(line: str) -> str:
    """A line folded for comparison across articles (case, bullets, spacing, punctuation):
    the lower-cased forms of its words as `words` finds them, without making the words;
    empty for a line too long to be furniture."""
    if len(line) > MAX_FURNITURE_CHARS:
        return ""
    # folded once as a whole: lower-casing is letter by letter, but for a final sigma,
    # which the spaces between the words mark as they mark the words' ends (tested)
    return normalize(" ".join(WORD_RE.findall(_BULLET.sub("", line))))


def edge_lines(text: str, start: int = 0) -> list[Line]:
    """The lines in an article's head and foot, where furniture is looked for."""
    all_lines = lines(text, start)
    if len(all_lines) <= 2 * EDGE_LINES:
        return all_lines
    return all_lines[:EDGE_LINES] + all_lines[-EDGE_LINES:]


def shape_reason(line: str, patterns: Sequence[re.Pattern[str]] = ()) -> str | None:
    """Why a line looks like furniture wherever it stands, or None."""
    if len(line) > MAX_FURNITURE_CHARS:
        return None
    for pattern in patterns:
        if pattern.fullmatch(line):
            return "configured pattern"
    if _URL_LINE.match(line):
        return "source or link line"
    if _BRACKETED.match(line):
        return "bracketed label"
    if line.startswith("<") and _TAG_LINE.fullmatch(line):
        return "HTML markup"
    if line.count(" ") > 12:  # too long for any of the shapes below
        return None
    n_words = len(words(line))
    letters = [c for c in line if c.isalpha()]
    if letters and n_words <= 5 and all(c.isupper() for c in letters) and len(letters) > 1:
        return "call to action in capitals"
    if n_words <= 6 and not _TERMINAL.search(line) and _CREDIT.search(line):
        return "photo credit"
    if _BULLET.match(line) and _BULLET.match(line).end() > 0 and n_words <= 3:
        return "credit line"
    return None


def _edge_reason(line: Line, repeats: Counter[str], min_repeats: int) -> str | None:
    if len(line.text) > MAX_FURNITURE_CHARS:
        return None
    key = line_key(line.text)
    if key and repeats.get(key, 0) >= min_repeats:
        return f"repeated at the edge of {repeats[key]} articles"
    n_words = len(words(line.text))
    if n_words <= 4 and not _TERMINAL.search(line.text):
        return "short non-sentence"
    return None


def _is_title_like(line: Line) -> bool:
    return (len(line.text) <= MAX_FURNITURE_CHARS and len(words(line.text)) <= 20
            and not _TERMINAL.search(line.text))


def find_boilerplate(text: str, repeats: Counter[str], start: int = 0,
                     patterns: Sequence[re.Pattern[str]] = (), doc: str = "",
                     min_repeats: int = 2) -> tuple[list[Boilerplate], Line | None]:
    """Furniture spans of one article, and the line taken as its title (if any).

    Args:
        text: the article text.
        repeats: in how many articles each edge-line key occurs (`compare.edge_repeats`).
        start: where the article body begins (after front matter).
        patterns: extra compiled patterns; a line that matches one fully is furniture.
        doc: the document id put on the spans.
        min_repeats: in how many articles an edge line must occur to count as repeated.
    """
    all_lines = lines(text, start)
    reasons: dict[int, str] = {}
    for i, line in enumerate(all_lines):
        reason = shape_reason(line.text, patterns)
        if reason:
            reasons[i] = reason
    for i in _markup_block_lines(text, start, all_lines):
        reasons[i] = "HTML markup"
    title: Line | None = None
    limit = min(EDGE_LINES, len(all_lines))
    for i in range(limit):  # head: furniture and at most one title line, then the body
        line = all_lines[i]
        reason = reasons.get(i) or _edge_reason(line, repeats, min_repeats)
        if reason:
            reasons[i] = reason
        elif title is None and _is_title_like(line) and i < limit - 1:
            title = line
        else:
            break
    head_end = i if limit else 0
    for i in range(len(all_lines) - 1, max(len(all_lines) - 1 - EDGE_LINES, head_end), -1):
        line = all_lines[i]
        reason = reasons.get(i) or _edge_reason(line, repeats, min_repeats)
        if not reason:
            break
        reasons[i] = reason
    spans = [
        Boilerplate(Span(doc, all_lines[i].start, all_lines[i].end, all_lines[i].text), reason)
        for i, reason in sorted(reasons.items())
    ]
    if title is not None and any(b.span.start == title.start for b in spans):
        title = None
    return spans, title


def _markup_block_lines(text: str, start: int, all_lines: Sequence[Line]) -> list[int]:
    """Indexes of the lines inside raw script, style or iframe blocks (never news)."""
    if "<" not in text:
        return []
    blocks = [(m.start(), m.end()) for m in _MARKUP_BLOCK.finditer(text, start)]
    if not blocks:
        return []
    out, k = [], 0
    for i, line in enumerate(all_lines):
        while k < len(blocks) and blocks[k][1] <= line.start:
            k += 1
        if k < len(blocks) and blocks[k][0] < line.end:
            out.append(i)
    return out


def compile_patterns(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    """Compile configured furniture patterns (case-insensitive)."""
    return [re.compile(p, re.I) for p in patterns]
