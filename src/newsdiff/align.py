"""Local, fuzzy alignment of two candidate sentences into a shared passage.

rapidfuzz computes the word-level edit operations between the two sentences (an LCS
alignment over word lists); the best-scoring contiguous stretch of those operations is the
shared passage, so extra clauses around it on either side do not count against it, while
words inserted, deleted or substituted inside it are tolerated at a cost. Whole-sentence
ratios are not used: they cannot tell a rephrased background paragraph from two unrelated
sentences about the same summit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Indel

from .config import Settings
from .model import EditOp
from .tokens import Word, is_content

GAP_OPEN = 1.0  # cost of a stretch of differing words inside a passage
GAP_WORD = 0.5  # plus this per differing word (the longer side)


@dataclass(frozen=True)
class Alignment:
    """The shared passage of two sentences: word ranges, score, kind and edit operations."""

    a_words: tuple[int, int]
    b_words: tuple[int, int]
    equal: int
    score: float
    kind: str
    ops: tuple[EditOp, ...]


def _blocks(a: Sequence[str], b: Sequence[str]) -> list[tuple[str, int, int, int, int]]:
    """Word opcodes with each delete/insert run between two equal blocks fused into one
    `replace`."""
    out: list[tuple[str, int, int, int, int]] = []
    for tag, i1, i2, j1, j2 in Indel.opcodes(a, b):
        if tag != "equal" and out and out[-1][0] != "equal":
            _, pi1, _, pj1, _ = out[-1]
            out[-1] = ("replace", pi1, i2, pj1, j2)
        else:
            out.append((tag, i1, i2, j1, j2))
    return [
        ("replace" if t != "equal" and i2 > i1 and j2 > j1 else t, i1, i2, j1, j2)
        for t, i1, i2, j1, j2 in out
    ]


def _best_stretch(blocks: list[tuple[str, int, int, int, int]]) -> tuple[int, int, float]:
    """Kadane's maximum-sum run of blocks, starting and ending on an equal block."""
    best = (0, -1, 0.0)
    run_start, run_score = 0, 0.0
    for k, (tag, i1, i2, j1, j2) in enumerate(blocks):
        if tag == "equal":
            gain = float(i2 - i1)
            if run_score <= 0:
                run_start, run_score = k, gain
            else:
                run_score += gain
            if run_score > best[2]:
                best = (run_start, k, run_score)
        else:
            run_score -= GAP_OPEN + GAP_WORD * max(i2 - i1, j2 - j1)
    return best


def _char_range(words: Sequence[Word], i1: int, i2: int, base: int) -> tuple[int, int]:
    """Character range of words[i1:i2]; an empty range sits where the missing words go."""
    if i2 > i1:
        return words[i1].start, words[i2 - 1].end
    if i1 < len(words):
        return words[i1].start, words[i1].start
    return (words[-1].end, words[-1].end) if words else (base, base)


def align(text_a: str, words_a: Sequence[Word], text_b: str, words_b: Sequence[Word],
          settings: Settings) -> Alignment | None:
    """The shared passage of two word sequences, or None when they share too little.

    A passage needs `match_min_words` equal words, `match_min_content_words` of them
    content words, and `match_min_density` equal words per word of the longer side.
    """
    if not words_a or not words_b:
        return None
    blocks = _blocks([w.norm for w in words_a], [w.norm for w in words_b])
    first, last, _ = _best_stretch(blocks)
    if last < first:
        return None
    stretch = blocks[first:last + 1]
    equal = [(i1, i2) for t, i1, i2, _, _ in stretch if t == "equal"]
    n_equal = sum(i2 - i1 for i1, i2 in equal)
    n_content = sum(is_content(words_a[i].norm) for i1, i2 in equal for i in range(i1, i2))
    a_lo, a_hi = stretch[0][1], stretch[-1][2]
    b_lo, b_hi = stretch[0][3], stretch[-1][4]
    density = n_equal / max(a_hi - a_lo, b_hi - b_lo)
    if (n_equal < settings.match_min_words or n_content < settings.match_min_content_words
            or density < settings.match_min_density):
        return None
    score = 2 * n_equal / ((a_hi - a_lo) + (b_hi - b_lo))
    ops = []
    for tag, i1, i2, j1, j2 in stretch:
        a_s, a_e = _char_range(words_a, i1, i2, 0)
        b_s, b_e = _char_range(words_b, j1, j2, 0)
        ops.append(EditOp(tag, a_s, a_e, b_s, b_e, text_a[a_s:a_e], text_b[b_s:b_e]))
    if len(stretch) == 1:
        a_slice, b_slice = ops[0].a_text, ops[0].b_text
        kind = "verbatim" if a_slice == b_slice else "near-verbatim"
    else:
        kind = "near-verbatim" if score >= 0.9 else "rephrased"
    return Alignment((a_lo, a_hi), (b_lo, b_hi), n_equal, round(score, 4), kind, tuple(ops))
