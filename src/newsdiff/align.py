"""Local, fuzzy alignment of two candidate sentences into a shared passage.

Two passes. The ordered pass has rapidfuzz compute word-level edit operations between the
two sentences (an LCS alignment over word keys); the best-scoring contiguous stretch of
those operations is the shared passage, so extra clauses around it on either side do not
count against it, while words inserted, deleted or substituted inside it are tolerated at
a cost. When word order changed too much for that ("a World War Two peace treaty ...
stymied for decades by a territorial row" against "a decades-old territorial dispute ...
a post-World War II peace treaty"), the rephrase pass looks for a compact stretch of each
sentence that shares most of its content words with a compact stretch of the other.

A passage must carry a statement, not only names: runs of titles and proper names ("Prime
Minister Shinzo Abe and Russian President Vladimir Putin") or one topic phrase shared by
two unrelated sentences do not count, because common (lower-case) content words are
required too. Whole-sentence ratios are never used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from rapidfuzz.distance import Indel

from .config import Settings
from .model import EditOp
from .tokens import Word, is_content, is_number

GAP_OPEN = 1.0  # cost of a stretch of differing words inside a passage
GAP_WORD = 0.5  # plus this per differing word (the longer side)
REPHRASE_MIN_SHARED = 5  # distinct common content words a reordered passage must share
REPHRASE_MIN_DENSITY = 0.4  # shared / distinct common content words in each side's stretch
REPHRASE_MISS = 0.5  # cost of an unshared content word inside a rephrased stretch
MIN_SHARED_KEYS = 5  # distinct words two sentences must share before they are aligned


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
    for k, (tag, i1, i2, _j1, _j2) in enumerate(blocks):
        if tag == "equal":
            gain = float(i2 - i1)
            if run_score <= 0:
                run_start, run_score = k, gain
            else:
                run_score += gain
            if run_score > best[2]:
                best = (run_start, k, run_score)
        else:
            run_score -= GAP_OPEN + GAP_WORD * max(i2 - i1, _j2 - _j1)
    return best


def _extend(stretch: list[tuple[str, int, int, int, int]], words_a: Sequence[Word],
            words_b: Sequence[Word]) -> list[tuple[str, int, int, int, int]]:
    """Grow the first and last equal blocks over equal neighbours the LCS paired elsewhere
    ("Under the plan, the two sides..." keeps its second "the")."""
    stretch = list(stretch)
    _, i1, i2, j1, j2 = stretch[0]
    while i1 > 0 and j1 > 0 and words_a[i1 - 1].key == words_b[j1 - 1].key:
        i1, j1 = i1 - 1, j1 - 1
    stretch[0] = ("equal", i1, i2, j1, j2)
    _, i1, i2, j1, j2 = stretch[-1]
    while (i2 < len(words_a) and j2 < len(words_b)
           and words_a[i2].key == words_b[j2].key):
        i2, j2 = i2 + 1, j2 + 1
    stretch[-1] = ("equal", i1, i2, j1, j2)
    return stretch


def _char_range(words: Sequence[Word], i1: int, i2: int) -> tuple[int, int]:
    """Character range of words[i1:i2]; an empty range sits where the missing words go."""
    if i2 > i1:
        return words[i1].start, words[i2 - 1].end
    if i1 < len(words):
        return words[i1].start, words[i1].start
    return words[-1].end, words[-1].end


def _ops(text_a: str, words_a: Sequence[Word], text_b: str, words_b: Sequence[Word],
         blocks: Sequence[tuple[str, int, int, int, int]]) -> tuple[EditOp, ...]:
    ops = []
    for tag, i1, i2, j1, j2 in blocks:
        a_s, a_e = _char_range(words_a, i1, i2)
        b_s, b_e = _char_range(words_b, j1, j2)
        ops.append(EditOp(tag, a_s, a_e, b_s, b_e, text_a[a_s:a_e], text_b[b_s:b_e]))
    return tuple(ops)


def _ordered(text_a: str, words_a: Sequence[Word], text_b: str, words_b: Sequence[Word],
             settings: Settings, keys: tuple[Keys, Keys]) -> Alignment | None:
    blocks = _blocks(keys[0].keys, keys[1].keys)
    first, last, _ = _best_stretch(blocks)
    if last < first:
        return None
    stretch = _extend(blocks[first:last + 1], words_a, words_b)
    equal = [i for t, i1, i2, _, _ in stretch if t == "equal" for i in range(i1, i2)]
    if len(equal) < settings.match_min_words:
        return None
    n_content = sum(is_content(words_a[i].norm) and not is_number(words_a[i]) for i in equal)
    n_common = len({words_a[i].key for i in equal if words_a[i].common})
    a_lo, a_hi = stretch[0][1], stretch[-1][2]
    b_lo, b_hi = stretch[0][3], stretch[-1][4]
    density = len(equal) / max(a_hi - a_lo, b_hi - b_lo)
    if (n_content < settings.match_min_content_words
            or n_common < min_common(settings)
            or density < settings.match_min_density):
        return None
    score = 2 * len(equal) / ((a_hi - a_lo) + (b_hi - b_lo))
    ops = _ops(text_a, words_a, text_b, words_b, stretch)
    if len(stretch) == 1:
        kind = "verbatim" if ops[0].a_text == ops[0].b_text else "near-verbatim"
    else:
        kind = "near-verbatim" if score >= 0.9 else "rephrased"
    return Alignment((a_lo, a_hi), (b_lo, b_hi), len(equal), round(score, 4), kind, ops)


def _densest(common: Sequence[tuple[int, str]], shared: set[str]) -> tuple[int, int]:
    """The stretch of a sentence's common content words, given as (position, key), that is
    densest in `shared` keys (Kadane), as a word range [lo, hi)."""
    best, best_range = 0.0, (0, 0)
    run, run_lo, seen = 0.0, 0, set()
    for i, key in common:
        if key in shared:
            if run <= 0:
                run, run_lo, seen = 1.0, i, {key}
            elif key not in seen:
                run += 1.0
                seen.add(key)
            if run > best:
                best, best_range = run, (run_lo, i + 1)
        else:
            run -= REPHRASE_MISS
    return best_range


def _common_keys(words: Sequence[Word], lo: int, hi: int) -> set[str]:
    return {w.key for w in words[lo:hi] if w.common}


def _rephrased(text_a: str, words_a: Sequence[Word], text_b: str, words_b: Sequence[Word],
               settings: Settings, keys: tuple[Keys, Keys]) -> Alignment | None:
    shared_all = set(keys[0].common & keys[1].common)
    if len(shared_all) < REPHRASE_MIN_SHARED:
        return None
    # Every stretch of `a` that starts and ends on a shared word, each paired with the
    # densest stretch of `b` for what it shares; the pair sharing most words wins.
    spots = [i for i, w in enumerate(words_a) if w.common and w.key in shared_all]
    best: tuple[int, float, tuple[int, int], tuple[int, int]] | None = None
    # the densest stretch of `b` for each set of shared words tried so far
    stretches: dict[frozenset[str], tuple[int, int, set[str]]] = {}
    common_b = [(i, w.key) for i, w in enumerate(words_b) if w.common]
    # the most shared words a stretch starting at each spot can hold
    within: list[int] = []
    later: set[str] = set()
    for i in reversed(spots):
        later.add(words_a[i].key)
        within.append(len(later))
    within.reverse()
    for x, lo in enumerate(spots):
        if within[x] < REPHRASE_MIN_SHARED or (best and within[x] < best[0]):
            break  # nor can any later start
        keys_a: set[str] = set()
        cursor = lo
        tried: set[str] | None = None
        for y in range(x, len(spots)):
            hi = spots[y]
            keys_a.update(w.key for w in words_a[cursor:hi + 1] if w.common)
            cursor = hi + 1
            if within[x] / len(keys_a) < REPHRASE_MIN_DENSITY:
                break  # too few shared words for so long a stretch, now or further on
            if y - x + 1 < REPHRASE_MIN_SHARED:
                continue
            shared = keys_a & shared_all
            # The same shared words as the last stretch tried from `lo`: the same stretch
            # of `b`, and this one of `a` no denser (`keys_a` only grew), so it cannot rank
            # higher. Long sentences (tables, lists) made this search quadratic.
            if shared == tried:
                continue
            tried = shared
            if len(shared) < REPHRASE_MIN_SHARED or (best and len(shared) < best[0]):
                continue
            if len(shared) / len(keys_a) < REPHRASE_MIN_DENSITY or (
                    best and len(shared) == best[0] and len(shared) / len(keys_a) <= best[1]):
                continue  # not dense enough; or at best a tie in shared words, no denser
            key = frozenset(shared)
            if key not in stretches:
                b_lo, b_hi = _densest(common_b, shared)
                stretches[key] = (b_lo, b_hi, _common_keys(words_b, b_lo, b_hi))
            b_lo, b_hi, keys_b = stretches[key]
            shared = shared & keys_b
            if len(shared) < REPHRASE_MIN_SHARED:
                continue
            density = min(len(shared) / len(keys_a), len(shared) / len(keys_b))
            if density < REPHRASE_MIN_DENSITY:
                continue
            rank = (len(shared), density)
            if best is None or rank > best[:2]:
                best = (len(shared), density, (lo, hi + 1), (b_lo, b_hi))
    if best is None:
        return None
    (a_lo, a_hi), (b_lo, b_hi) = best[2], best[3]
    sub_a, sub_b = words_a[a_lo:a_hi], words_b[b_lo:b_hi]
    blocks = [(t, i1 + a_lo, i2 + a_lo, j1 + b_lo, j2 + b_lo)
              for t, i1, i2, j1, j2 in _blocks([w.key for w in sub_a], [w.key for w in sub_b])]
    n_equal = sum(i2 - i1 for t, i1, i2, _, _ in blocks if t == "equal")
    score = 2 * n_equal / ((a_hi - a_lo) + (b_hi - b_lo))
    return Alignment((a_lo, a_hi), (b_lo, b_hi), n_equal, round(score, 4), "rephrased",
                     _ops(text_a, words_a, text_b, words_b, blocks))


def min_common(settings: Settings) -> int:
    """Distinct common content words an ordered passage needs (a rephrased one needs
    more), so sentences sharing fewer are never aligned."""
    return min(3, settings.match_min_content_words)


def align(text_a: str, words_a: Sequence[Word], text_b: str, words_b: Sequence[Word],
          settings: Settings, keys: tuple[Keys, Keys] | None = None) -> Alignment | None:
    """The shared passage of two word sequences, or None when they share too little.

    An ordered passage needs `match_min_words` equal words, `match_min_content_words` of
    them content words (three distinct ones written in lower case), and
    `match_min_density` equal words per word of the longer side; a reordered (rephrased)
    one needs five shared common content words densely packed on both sides. `keys`: the
    `word_keys` of each side, when the caller keeps them for a sentence aligned with
    many others.
    """
    if not words_a or not words_b:
        return None
    keys = keys or (word_keys(words_a), word_keys(words_b))
    # Both passes depend on argument order (LCS ties, the rephrase search walks `a`), so
    # they run in one canonical order, and the rephrase search from both sides, so that
    # swapping the inputs swaps the result exactly.
    if _goes_first(text_b, words_b, keys[1].keys, text_a, words_a, keys[0].keys):
        found = align(text_b, words_b, text_a, words_a, settings, (keys[1], keys[0]))
        return None if found is None else _swapped(found)
    found = _ordered(text_a, words_a, text_b, words_b, settings, keys)
    if found is not None:
        return found
    forward = _rephrased(text_a, words_a, text_b, words_b, settings, keys)
    backward = _rephrased(text_b, words_b, text_a, words_a, settings, (keys[1], keys[0]))
    if backward is not None and (forward is None or (backward.equal, backward.score)
                                 > (forward.equal, forward.score)):
        return _swapped(backward)
    return forward


class Keys(NamedTuple):
    """What `align` compares of a sentence: its words' keys, in order, the distinct keys
    of its common content words, and all its distinct keys."""

    keys: tuple[str, ...]
    common: frozenset[str]
    distinct: frozenset[str]

    def may_align(self, other: Keys, settings: Settings) -> bool:
        """A cheap test run before `align`: do the two sentences share the distinct words
        (and common content words) any passage `align` accepts would need?"""
        return (len(self.distinct & other.distinct) >= MIN_SHARED_KEYS
                and len(self.common & other.common) >= min_common(settings))


def word_keys(words: Sequence[Word]) -> Keys:
    """The `Keys` of a sentence's words (kept by a caller that aligns one sentence with
    many)."""
    keys = tuple([w.key for w in words])
    return Keys(keys, frozenset([w.key for w in words if w.common]), frozenset(keys))


def _goes_first(text_a: str, words_a: Sequence[Word], keys_a: tuple[str, ...], text_b: str,
                words_b: Sequence[Word], keys_b: tuple[str, ...]) -> bool:
    """Whether side a comes before side b in the canonical order: by the words' keys
    (as tuples compare: the shorter first when one begins the other), then by the text
    they span."""
    if keys_a != keys_b:
        return keys_a < keys_b
    return (text_a[words_a[0].start:words_a[-1].end]
            < text_b[words_b[0].start:words_b[-1].end])


_SWAP_OP = {"insert": "delete", "delete": "insert"}


def _swapped(found: Alignment) -> Alignment:
    """The same alignment seen from the other side."""
    ops = tuple(EditOp(_SWAP_OP.get(o.op, o.op), o.b_start, o.b_end, o.a_start, o.a_end,
                       o.b_text, o.a_text) for o in found.ops)
    return Alignment(found.b_words, found.a_words, found.equal, found.score, found.kind, ops)
