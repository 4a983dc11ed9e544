"""Sentence spans with character offsets.

blingfire (a maintained sentence breaker that knows news abbreviations such as "Dec. 15",
"Nov. 19-20", "U.S." and "U.N.") segments the paragraphs that need judgement; a paragraph
with no possible boundary, or whose boundaries are all plain (a full stop after an ordinary
word, then a capital), is cut directly. A sentence
that a paragraph gap cuts in the middle of a phrase ("...Abe said on" / "Friday.") is
joined back into one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from .model import Span
from .tokens import FUNCTION_WORDS, words

MAX_PARAGRAPH = 20_000  # longer runs without a blank line are cut at white space first
_BLANK_LINE = re.compile(r"\n[ \t\r]*\n")  # what separates paragraphs
_MAYBE_BOUNDARY = re.compile(r"[.!?…][\"'”’)\]]*\s+\S|\n")
_TERMINAL = re.compile(r"[.!?…:;][\"'”’)\]]*$")
# A possible sentence end: terminal punctuation (and closing quotes), space, then a capital,
# digit or opening quote.
_CANDIDATE_END = re.compile(r"([.!?…]+[\"'”’)\]]*)\s+(?=[\"“‘(\[]?[A-Z0-9])")
_LAST_TOKEN = re.compile(r"[^\s\"“‘(\[]+$")
_QUOTE = re.compile(r"[\"“”]")
_ABBREVIATIONS = frozenset("""mr mrs ms dr gen sen rep gov lt col sgt capt cmdr adm st mt
    jan feb mar apr jun jul aug sep sept oct nov dec no inc corp co ltd jr sr vs etc al
    prof rev fig approx dept est ft univ bros ala ariz ark calif colo conn del fla ga ill
    ind kan ky la md mass mich minn miss mo mont neb nev okla ore pa tenn tex va vt wash
    wis wyo""".split())


def _quoted(para: str, positions: list[int]) -> list[bool]:
    """For each (sorted) position, whether it lies inside a quotation."""
    marks = [(m.start(), m.group()) for m in _QUOTE.finditer(para)]
    out, depth, q = [], 0, 0
    for pos in positions:
        while q < len(marks) and marks[q][0] < pos:
            mark = marks[q][1]
            depth = (depth + 1 if mark == "“" else max(0, depth - 1) if mark == "”"
                     else 1 - depth if depth <= 1 else depth)
            q += 1
        out.append(depth > 0)
    return out


def _plain_boundaries(para: str) -> list[int] | None:
    """Where sentences end in a paragraph whose possible boundaries are all plain (terminal
    punctuation after an ordinary word or number, before a capital); None when any needs
    the segmenter's judgement (an abbreviation or initial: "Dec. 15", "U.S. officials",
    "J. Smith")."""
    if "\n" in para:
        return None
    cuts = []
    for m in _CANDIDATE_END.finditer(para):
        if m.group(1).startswith("."):
            before = _LAST_TOKEN.search(para, 0, m.start())
            token = before.group() if before else ""
            bare = token.strip("'’)]")
            plain = (len(bare) >= 3 and "." not in bare and bare.lower() not in _ABBREVIATIONS
                     and (bare.isalpha() or bare.isdigit() or bare.replace("-", "").isalnum()))
            if not plain:
                return None
        cuts.append(m.end(1))
    return cuts


def _blingfire_sentences(para: str) -> tuple[list[str], list[tuple[int, int]]]:
    """blingfire's sentences of a paragraph and their (start, end) character offsets.

    Its C function is called directly: the Python wrapper's `text_to_sentences_and_offsets`
    turns UTF-8 offsets into character offsets by a Python loop over every byte of the
    text (a third of the time of segmenting a news corpus); here that is a numpy count of
    the leading bytes, and nothing at all for an ASCII paragraph."""
    import ctypes

    import blingfire

    data = para.encode("utf-8")
    size = 2 * len(data)
    out = np.empty(size, dtype=np.uint8)  # not zeroed: only the n bytes written are read
    starts, ends = np.empty(size, dtype=np.int32), np.empty(size, dtype=np.int32)
    n = blingfire.blingfire.TextToSentencesWithOffsets(
        ctypes.c_char_p(data), ctypes.c_int(len(data)), out.ctypes.data_as(ctypes.c_char_p),
        starts.ctypes.data_as(ctypes.c_void_p), ends.ctypes.data_as(ctypes.c_void_p),
        ctypes.c_int(size))
    if n <= 0 or n > size:
        return [], []
    joined = out[:n].tobytes().split(b"\0", 1)[0].decode("utf-8")
    sentences = joined.split("\n") if joined else []
    k = len(sentences)
    lo, hi = starts[:k].tolist(), (ends[:k] + 1).tolist()  # blingfire's ends are inclusive
    if len(data) != len(para):  # characters before each byte offset: its leading bytes
        lead = (np.frombuffer(data, dtype=np.uint8) & 0xC0) != 0x80
        chars = np.concatenate(([0], np.cumsum(lead))).tolist()
        top = len(data)
        lo = [chars[min(max(b, 0), top)] for b in lo]
        hi = [chars[min(max(b, 0), top)] for b in hi]
    return sentences, list(zip(lo, hi, strict=True))


def _segmenter_cuts(para: str) -> list[int]:
    """Sentence ends that blingfire (a maintained, compiled sentence breaker that knows
    news abbreviations) finds in a paragraph, as offsets into it."""
    sentences, offsets = _blingfire_sentences(para)
    cuts, cursor = [], 0
    for k, sentence in enumerate(sentences):
        start, end = offsets[k] if k < len(offsets) else (-1, -1)
        if para[start:end] != sentence:  # offsets off (bytes, not characters): search
            head = sentence[:20]
            start = para.find(head, cursor)
            if start < 0:
                return cuts
            end = start + len(sentence)
            if " ".join(para[start:end].split()) != " ".join(sentence.split()):
                return cuts
        cursor = end
        cuts.append(end)
    return cuts[:-1]


def _split_paragraph(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence (start, end) pairs inside one paragraph, trimmed of white space.

    Paragraphs whose possible boundaries are all plain are cut directly; the others go to
    blingfire. Either way nothing is cut inside a quotation, so a quoted run of sentences
    stays with its attribution."""
    para = text[start:end]
    if not _MAYBE_BOUNDARY.search(para):
        return [(start, end)]
    cuts = _plain_boundaries(para)
    if cuts is None:
        cuts = _segmenter_cuts(para)
    cuts = [c for c, inside in zip(cuts, _quoted(para, cuts), strict=True) if not inside]
    out = []
    lo = 0
    for cut in [*cuts, len(para)]:
        piece = para[lo:cut]
        stripped = piece.strip()
        if stripped:
            at = lo + piece.index(stripped)
            out.append((start + at, start + at + len(stripped)))
        lo = cut
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
    # the text between blank lines, trimmed of white space (a regex that found each
    # paragraph whole tried a look-ahead after every character: a fifth of a check's
    # segmentation)
    cuts = [(m.start(), m.end()) for m in _BLANK_LINE.finditer(text, start, end)]
    out: list[tuple[int, int]] = []
    joined = False
    for lo, hi in zip([start] + [e for _, e in cuts], [s for s, _ in cuts] + [end],
                      strict=True):
        piece = text[lo:hi]
        kept = piece.strip()
        if not kept:
            continue
        at = lo + len(piece) - len(piece.lstrip())
        if out and not joined and out[-1][1] - out[-1][0] == 1:
            # as that regex did: a paragraph of one character runs on to the end of the next
            out[-1] = (out[-1][0], at + len(kept))
            joined = True
        else:
            out.append((at, at + len(kept)))
            joined = False
    return out


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
