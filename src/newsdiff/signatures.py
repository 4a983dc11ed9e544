"""Shingling, MinHash sketches (datasketch) and LSH candidate generation.

Shingles are hashed once with xxHash (a fast non-cryptographic hash) into 32-bit integers;
datasketch then only permutes those integers. Documents are sketched over word shingles
for near-duplicate detection; sentences are sketched as overlapping windows of words so
that a shared passage inside two long sentences still lands in one LSH bucket.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import xxhash
from datasketch import LeanMinHash, MinHash, MinHashLSH, MinHashLSHEnsemble

SCHEME = "affine32"
HASH = "xxh32"


def _identity(value: int) -> int:
    """Shingles arrive already hashed; datasketch only has to permute them."""
    return value


def shingle_hashes(norms: Sequence[str], size: int) -> np.ndarray:
    """32-bit hashes of the distinct word shingles of `size` words (one shingle when the
    text is shorter than that)."""
    if not norms:
        return np.zeros(0, dtype=np.uint32)
    if len(norms) <= size:
        grams: Iterable[str] = (" ".join(norms),)
    else:
        grams = (" ".join(norms[i:i + size]) for i in range(len(norms) - size + 1))
    hashes = np.fromiter((xxhash.xxh32_intdigest(g.encode()) for g in grams), dtype=np.uint32)
    return np.unique(hashes)


def minhash(hashes: np.ndarray, num_perm: int, seed: int) -> LeanMinHash:
    """A compact MinHash of a set of 32-bit shingle hashes."""
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=_identity, scheme=SCHEME)
    if len(hashes):
        m.update_batch(hashes.tolist())
    return LeanMinHash(m)


def minhashes(sets: Iterable[np.ndarray], num_perm: int, seed: int) -> Iterator[LeanMinHash]:
    """MinHashes of many shingle sets, reusing one set of permutations."""
    base = MinHash(num_perm=num_perm, seed=seed, hashfunc=_identity, scheme=SCHEME)
    for hashes in sets:
        m = base.copy()
        if len(hashes):
            m.update_batch(hashes.tolist())
        yield LeanMinHash(m)


def jaccard_containment(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Exact Jaccard of two shingle sets, and the share of the smaller set inside the larger."""
    if not len(a) or not len(b):
        return 0.0, 0.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter), inter / min(len(a), len(b))


def lsh_pairs(keys: Sequence[str], sketches: Sequence[LeanMinHash], threshold: float,
              num_perm: int, same_group: Sequence[str] | None = None) -> set[tuple[int, int]]:
    """Index pairs (i < j) whose sketches share an LSH bucket.

    Args:
        keys: a unique key per sketch.
        sketches: the MinHashes, same order as `keys`.
        threshold: the Jaccard threshold the LSH bands are tuned for.
        num_perm: permutations of every sketch.
        same_group: optional group per sketch; pairs within one group are not returned
            (windows of the same document, say).
    """
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    position = {}
    with lsh.insertion_session() as session:
        for i, (key, sketch) in enumerate(zip(keys, sketches, strict=True)):
            session.insert(key, sketch, check_duplication=False)
            position[key] = i
    pairs: set[tuple[int, int]] = set()
    for i, sketch in enumerate(sketches):
        for key in lsh.query(sketch):
            j = position[key]
            if j <= i or (same_group is not None and same_group[i] == same_group[j]):
                continue
            pairs.add((i, j))
    return pairs


def containment_pairs(sketches: Sequence[LeanMinHash], sizes: Sequence[int],
                      threshold: float, num_perm: int) -> set[tuple[int, int]]:
    """Index pairs (i < j) where one set is (estimated to be) mostly contained in the other:
    LSH Ensemble, which finds a truncated copy that plain Jaccard LSH misses."""
    entries = [(i, m, n) for i, (m, n) in enumerate(zip(sketches, sizes, strict=True)) if n]
    if len(entries) < 2:
        return set()
    ensemble = MinHashLSHEnsemble(threshold=threshold, num_perm=num_perm, num_part=8)
    ensemble.index(entries)
    pairs: set[tuple[int, int]] = set()
    for i, m, n in entries:
        for j in ensemble.query(m, n):
            if j != i:
                pairs.add((min(i, j), max(i, j)))
    return pairs


def windows(n_words: int, size: int, step: int) -> list[tuple[int, int]]:
    """(start, end) word ranges covering `n_words` words with overlapping windows; the last
    window ends at the last word."""
    if n_words <= size:
        return [(0, n_words)]
    starts = list(range(0, n_words - size + 1, step))
    if starts[-1] != n_words - size:
        starts.append(n_words - size)
    return [(s, s + size) for s in starts]
