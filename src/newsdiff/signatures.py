"""Shingling, MinHash sketches (datasketch) and LSH candidate generation.

Shingles are hashed once with xxHash (a fast non-cryptographic hash) into 32-bit integers;
datasketch then only permutes those integers. Documents are sketched over word shingles
for near-duplicate detection; sentences are sketched as overlapping windows of words so
that a shared passage inside two long sentences still lands in one LSH bucket.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import xxhash

if TYPE_CHECKING:  # datasketch (and the scipy it loads) is imported where it is used, so
    # that `newsdiff check` starts without it
    from datasketch import LeanMinHash

SCHEME = "affine32"
HASH = "xxh32"


def _identity(value: int) -> int:
    """Shingles arrive already hashed; datasketch only has to permute them."""
    return value


_WORD_HASHES: dict[str, int] = {}
_NGRAM_MULT = np.array([0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F, 0x165667B1,
                        0xD3A2646C, 0xFD7046C5, 0xB55A4F09], dtype=np.uint32)


def word_hashes(keys: Sequence[str]) -> np.ndarray:
    """32-bit hashes (xxh32) of word keys, each distinct word hashed once per process."""
    cache = _WORD_HASHES
    if len(cache) > 2_000_000:  # a long-running process meets an open vocabulary
        cache.clear()
    for k in dict.fromkeys(keys):  # each distinct word looked up once, the rest in C
        if k not in cache:
            cache[k] = xxhash.xxh32_intdigest(k.encode("utf-8"))
    return np.fromiter(map(cache.__getitem__, keys), dtype=np.uint32, count=len(keys))


def ngram_hashes(hashes: np.ndarray, n: int, sizes: np.ndarray | None = None) -> np.ndarray:
    """Hashes of the runs of `n` consecutive words, in order (not de-duplicated).

    Args:
        hashes: word hashes, one sequence or several laid end to end.
        n: words per shingle (at most 8).
        sizes: lengths of the sequences laid end to end (default: one sequence); shingles
            never cross from one sequence into the next, and a sequence shorter than `n`
            gives one shingle of all its words.
    """
    sizes = np.array([len(hashes)], dtype=np.int64) if sizes is None else sizes
    if n == 1 or not len(hashes):
        return hashes.copy()
    total = len(hashes)
    acc = np.zeros(total, dtype=np.uint32)
    with np.errstate(over="ignore"):
        for j in range(n):
            part = np.zeros(total, dtype=np.uint32)
            part[: max(total - j, 0)] = hashes[j:]  # nothing once j passes the end
            acc += part * _NGRAM_MULT[j]
    ends = np.cumsum(sizes)
    starts = ends - sizes
    for_full = sizes >= n
    # full shingles start at positions start .. end - n of each long enough sequence
    idx = np.arange(total)
    seq = np.repeat(np.arange(len(sizes)), sizes)
    keep = idx <= (ends[seq] - n)
    short = np.flatnonzero(~for_full & (sizes > 0))
    if len(short):  # one shingle of all the words of a short sequence
        partial = np.zeros(len(short), dtype=np.uint32)
        with np.errstate(over="ignore"):
            for j in range(n):
                inside = sizes[short] > j
                pos = np.minimum(starts[short] + j, total - 1)
                partial += np.where(inside, hashes[pos] * _NGRAM_MULT[j], 0).astype(np.uint32)
        acc[starts[short]] = partial
        keep[starts[short]] = True
    return _fmix32(acc[keep])


def ngram_counts(sizes: np.ndarray, n: int) -> np.ndarray:
    """How many shingles `ngram_hashes` gives each sequence."""
    return np.where(sizes >= n, sizes - n + 1, np.minimum(sizes, 1))


def shingle_hashes(keys: Sequence[str], size: int) -> np.ndarray:
    """The distinct hashes of the word shingles of `size` words (one shingle when the text
    is shorter than that)."""
    if not keys:
        return np.zeros(0, dtype=np.uint32)
    return sorted_distinct(ngram_hashes(word_hashes(keys), size))


def sorted_distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted, as np.unique gives them, by one sort: numpy 2's
    np.unique hashes instead, 40 times slower on millions of 64-bit keys (9 s against 0.2 s
    for 8 million here), and imports numpy.ma (10 ms of every `newsdiff check` start-up)."""
    found = np.sort(values)
    return found[np.r_[True, found[1:] != found[:-1]]] if len(found) else found


@lru_cache(maxsize=64)
def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) that datasketch's MinHashLSH picks for a Jaccard threshold (equal
    weight on false positives and negatives); derived by numerical integration, once."""
    from datasketch.lsh import _optimal_param

    return _optimal_param(threshold, num_perm, 0.5, 0.5)


def minhash(hashes: np.ndarray, num_perm: int, seed: int) -> LeanMinHash:
    """A compact MinHash of a set of 32-bit shingle hashes."""
    from datasketch import LeanMinHash, MinHash

    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=_identity, scheme=SCHEME)
    if len(hashes):
        m.update_batch(hashes.tolist())
    return LeanMinHash(m)


def minhashes(sets: Iterable[np.ndarray], num_perm: int, seed: int) -> Iterator[LeanMinHash]:
    """MinHashes of many shingle sets, reusing one set of permutations."""
    from datasketch import LeanMinHash, MinHash

    base = MinHash(num_perm=num_perm, seed=seed, hashfunc=_identity, scheme=SCHEME)
    for hashes in sets:
        m = base.copy()
        if len(hashes):
            m.update_batch(hashes.tolist())
        yield LeanMinHash(m)


def jaccard_containment(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Exact Jaccard of two shingle sets, and the share of the smaller set inside the larger
    (each sorted and distinct, as `shingle_hashes` gives them: the smaller one is looked up
    in the larger by binary search, not both merged and sorted again)."""
    if not len(a) or not len(b):
        return 0.0, 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    at = np.minimum(np.searchsorted(large, small), len(large) - 1)
    return overlap(int(np.count_nonzero(large[at] == small)), len(a), len(b))


def overlap(shared: int, a: int, b: int) -> tuple[float, float]:
    """Jaccard and containment of two sets of `a` and `b` members sharing `shared`."""
    if not a or not b:
        return 0.0, 0.0
    return shared / (a + b - shared), shared / min(a, b)


FILTER_BITS = 16  # low bits of a shingle hash that the members test of `shared_counts` looks at


def shared_counts(mine: np.ndarray, others: Sequence[np.ndarray]) -> np.ndarray:
    """How many members of each of `others` are in `mine` (every set sorted and distinct).

    A table of the low bits of `mine`'s hashes is looked up first: most members of
    `others` are not in `mine`, and those that are cannot be missed by it, so only the
    few that pass are looked up exactly (a binary search per member of all `others`,
    ~36,000 at a check, was a twentieth of its time)."""
    sizes = np.fromiter(map(len, others), dtype=np.int64, count=len(others))
    if not len(mine) or not sizes.sum():
        return np.zeros(len(others), dtype=np.int64)
    flat = np.concatenate(others)
    mask = (1 << FILTER_BITS) - 1
    table = np.zeros(mask + 1, dtype=bool)
    table[mine & mask] = True
    maybe = np.flatnonzero(table[flat & mask])
    at = np.minimum(np.searchsorted(mine, flat[maybe]), len(mine) - 1)
    found = maybe[mine[at] == flat[maybe]]
    # each found member counts for the set it lies in (sets end at `np.cumsum(sizes)`)
    return np.bincount(np.searchsorted(np.cumsum(sizes), found, side="right"),
                       minlength=len(others))


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
    from datasketch import MinHashLSH

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
    from datasketch import MinHashLSHEnsemble

    # m=2 (datasketch's default is 8): its index takes about m times the memory of one
    # MinHash LSH. At 10,000 benchmark articles m=8 took 370 MB in the process finding
    # near-duplicates, m=2 260 MB and 40% less time; it proposed 9,876 pairs instead of
    # 7,281, and the exact comparison kept the same 1,186 near-duplicates.
    ensemble = MinHashLSHEnsemble(threshold=threshold, num_perm=num_perm, num_part=8, m=2)
    # The ensemble partitions the indexed sets by size, in time cubic in the number of
    # distinct sizes (pure Python: 2 s for the 600 sizes of 1,000 articles). Indexed sizes
    # rounded up to one of 32 steps per doubling make a hundred or so: a set is then taken
    # as up to 3% larger than it is, which only lowers the Jaccard threshold its partition
    # is probed with (more candidates, each confirmed exactly afterwards).
    ensemble.index([(i, m, size_class(n)) for i, m, n in entries])
    pairs: set[tuple[int, int]] = set()
    for i, m, n in entries:
        for j in ensemble.query(m, n):
            if j != i:
                pairs.add((min(i, j), max(i, j)))
    return pairs


def size_class(n: int) -> int:
    """`n` rounded up to one of 32 steps per doubling (exact below 64)."""
    step = 1 << max(0, n.bit_length() - 6)
    return -(-n // step) * step


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser: spreads structured inputs before permuting."""
    h = h.astype(np.uint32, copy=True)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


class WindowSketcher:
    """MinHash of many small shingle sets at once, in numpy.

    Sentence windows number in the millions for a large corpus; one datasketch object per
    window would dominate the run. This computes the same kind of signature (affine
    permutations ``a * h + b mod 2**32`` of pre-mixed 32-bit hashes, minimum per set) for
    all windows of a batch of documents in a few array operations, and cuts it into LSH
    bands whose keys are 64-bit integers.
    """

    def __init__(self, num_perm: int, seed: int, threshold: float,
                 bands: tuple[int, int] | None = None) -> None:
        rng = np.random.RandomState(seed)
        self.num_perm = num_perm
        self.a = (rng.randint(0, 2**32, num_perm, dtype=np.uint64) | 1).astype(np.uint32)
        self.b = rng.randint(0, 2**32, num_perm, dtype=np.uint64).astype(np.uint32)
        self.bands, self.rows = bands or lsh_bands(threshold, num_perm)
        self.mix = rng.randint(1, 2**63, (self.bands, self.rows), dtype=np.int64).astype(
            np.uint64) | np.uint64(1)

    def window_signatures(self, flat: np.ndarray, sizes: np.ndarray, step: int
                          ) -> tuple[np.ndarray, np.ndarray]:
        """MinHash signatures of the windows of many shingle sequences.

        `flat` holds sequences laid end to end (`sizes` long each); each sequence (the
        ordered shingle hashes of one sentence) is cut into blocks of
        `step` shingles, and every two consecutive blocks make a window, so windows overlap
        by half; a sequence of one block is one window. Each shingle is permuted once.

        Returns:
            (signatures, owners): a (windows, num_perm) uint32 array and, for each window,
            the index of its sequence.
        """
        sizes = np.asarray(sizes, dtype=np.int64)
        if not len(sizes) or not sizes.sum():
            return np.zeros((0, self.num_perm), dtype=np.uint32), np.zeros(0, dtype=np.int64)
        n_blocks = (sizes + step - 1) // step
        seq_of_block = np.repeat(np.arange(len(sizes)), n_blocks)
        first_block = np.concatenate(([0], np.cumsum(n_blocks)[:-1]))
        seq_start = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        within = np.arange(len(seq_of_block)) - first_block[seq_of_block]
        block_start = seq_start[seq_of_block] + within * step
        flat = _fmix32(flat)
        blocks = np.empty((len(block_start), self.num_perm), dtype=np.uint32)
        chunk = max(1, 2_000_000 // self.num_perm)  # bound the temporary matrix
        for lo in range(0, len(block_start), chunk):
            hi = min(len(block_start), lo + chunk)
            end = block_start[hi] if hi < len(block_start) else len(flat)
            seg = flat[block_start[lo]:end]
            permuted = seg[:, None] * self.a[None, :] + self.b[None, :]
            blocks[lo:hi] = np.minimum.reduceat(permuted, block_start[lo:hi] - block_start[lo],
                                                axis=0)
        has_next = np.zeros(len(block_start), dtype=bool)
        has_next[:-1] = seq_of_block[1:] == seq_of_block[:-1]
        pairs = np.flatnonzero(has_next)
        single = np.flatnonzero(n_blocks == 1)
        # written into one array (three temporary copies of it were part of the candidate
        # search's peak memory)
        sig = np.empty((len(pairs) + len(single), self.num_perm), dtype=np.uint32)
        np.take(blocks, pairs, axis=0, out=sig[:len(pairs)])
        np.minimum(sig[:len(pairs)], blocks[pairs + 1], out=sig[:len(pairs)])
        np.take(blocks, first_block[single], axis=0, out=sig[len(pairs):])
        owners = np.concatenate((seq_of_block[pairs], single))
        return sig, owners

    def set_signature(self, hashes: np.ndarray) -> np.ndarray:
        """The (1, num_perm) signature of one set of shingle hashes."""
        if not len(hashes):
            return np.full((1, self.num_perm), 0xFFFFFFFF, dtype=np.uint32)
        permuted = _fmix32(hashes)[:, None] * self.a[None, :] + self.b[None, :]
        return permuted.min(axis=0, keepdims=True)

    def band_keys(self, signatures: np.ndarray, tag: int) -> np.ndarray:
        """(len(signatures), bands) signed 64-bit bucket keys; `tag` separates families."""
        n = len(signatures)
        keys = np.empty((n, self.bands), dtype=np.uint64)
        # by slices: the 64-bit products of every window at once took 250 MB at 10,000
        # articles, on top of everything else in the candidate search's peak
        for lo in range(0, n, KEY_ROWS):
            part = keys[lo:lo + KEY_ROWS]
            sig = signatures[lo:lo + KEY_ROWS, : self.bands * self.rows].astype(
                np.uint64).reshape(len(part), self.bands, self.rows)
            with np.errstate(over="ignore"):
                (sig * self.mix[None, :, :]).sum(axis=2, dtype=np.uint64, out=part)
                part ^= np.uint64(tag) * np.uint64(0x9E3779B97F4A7C15)
                part ^= part >> np.uint64(31)
                part *= np.uint64(0xBF58476D1CE4E5B9)
                part ^= part >> np.uint64(29)
        return keys.view(np.int64)


KEY_ROWS = 1 << 17  # signatures `WindowSketcher.band_keys` turns into keys at a time
STAR_MEMBERS = 1 << 18  # bucket members `_star_pairs` pairs with their centres at a time


def bucket_pairs(keys: np.ndarray, owners: np.ndarray, groups: np.ndarray,
                 max_bucket: int) -> np.ndarray:
    """Owner pairs (i < j, different groups) that share a bucket key, in numpy.

    Args:
        keys: (n, bands) bucket keys, one row per window.
        owners: (n,) the sentence each window belongs to (non-negative).
        groups: (n,) the document of each window; pairs within one document are skipped.
        max_bucket: buckets holding more owners than this are paired as stars (each
            owner with the first of other groups) rather than quadratically.

    Returns:
        A (pairs, 2) int64 array of distinct (i, j) rows, sorted.
    """
    none = np.zeros((0, 2), dtype=np.int64)
    if not len(keys):
        return none
    bands = keys.shape[1]
    flat = keys.reshape(-1)
    order = np.argsort(flat)
    k = flat[order]
    same_as_next = k[1:] == k[:-1]
    # Keep only entries whose key occurs more than once (most keys are unique).
    in_run = np.zeros(len(k), dtype=bool)
    in_run[:-1] |= same_as_next
    in_run[1:] |= same_as_next
    picked, k = order[in_run], k[in_run]
    del order, same_as_next, in_run  # (at 10,000 articles, arrays of 37 MB each)
    o = owners[picked // bands].astype(np.int64)
    g = groups[picked // bands].astype(np.int64)
    del picked
    if not len(k):
        return none
    # Sort each bucket's entries by owner and keep one entry per (bucket, owner): one
    # int64 sort on (bucket rank, owner), not a lexsort on the 64-bit keys.
    rank = np.cumsum(np.r_[True, k[1:] != k[:-1]]) - 1
    width = np.int64(o.max()) + 1
    order = np.argsort(rank * width + o)
    rank, o, g = rank[order], o[order], g[order]
    del order, k
    first = np.r_[True, (rank[1:] != rank[:-1]) | (o[1:] != o[:-1])]
    rank, o, g = rank[first], o[first], g[first]
    starts = np.flatnonzero(np.r_[True, rank[1:] != rank[:-1]])
    sizes = np.diff(np.r_[starts, len(rank)])
    # each pair (i, j) as the one number i * width + j while they are gathered
    found = [_small_bucket_pairs(starts[sizes == m], m, o, g, width)
             for m in range(2, max_bucket + 1)]
    big = sizes > max_bucket
    if big.any():
        found.append(_star_pairs(starts[big], sizes[big], o, g, max_bucket, width))
    codes = np.concatenate(found)
    del found
    codes = sorted_distinct(codes)
    return np.stack((codes // width, codes % width), axis=1)


def _small_bucket_pairs(starts: np.ndarray, size: int, o: np.ndarray, g: np.ndarray,
                        width: np.int64) -> np.ndarray:
    """Every pair of owners of other groups in the buckets of `size` owners at `starts`
    (entries sorted by owner within a bucket), as `i * width + j` (i < j)."""
    x, y = np.triu_indices(size, 1)
    a = (starts[:, None] + x[None, :]).ravel()
    b = (starts[:, None] + y[None, :]).ravel()
    other = g[a] != g[b]
    return o[a][other] * width + o[b][other]


def _star_pairs(starts: np.ndarray, sizes: np.ndarray, o: np.ndarray, g: np.ndarray,
                max_bucket: int, width: np.int64) -> np.ndarray:
    """Pairs of the large buckets at `starts`, as `i * width + j` (i < j): a passage that
    many sentences share links each sentence to the first sentence of every other document
    when few documents share it (either input order gives the same links), else to the
    first sentence of all (the threads join them all the same)."""
    bucket = np.repeat(np.arange(len(starts)), sizes)
    index = np.repeat(starts - (np.cumsum(sizes) - sizes), sizes) + np.arange(sizes.sum())
    bo, bg = o[index], g[index]
    # The first (smallest) owner of each group in each bucket: a stable sort by (bucket,
    # group) keeps the owner order within them.
    by_group = np.argsort(bucket * (np.int64(bg.max()) + 1) + bg, kind="stable")
    cb, cg, co = bucket[by_group], bg[by_group], bo[by_group]
    lead = np.r_[True, (cb[1:] != cb[:-1]) | (cg[1:] != cg[:-1])]
    cb, cg, co = cb[lead], cg[lead], co[lead]
    n_groups = np.bincount(cb, minlength=len(starts))
    few = n_groups[cb] <= max_bucket
    many = np.flatnonzero(n_groups > max_bucket)
    bucket_first = np.cumsum(sizes) - sizes
    cb = np.r_[cb[few], many]
    cg = np.r_[cg[few], bg[bucket_first[many]]]
    co = np.r_[co[few], bo[bucket_first[many]]]
    by_bucket = np.argsort(cb, kind="stable")
    cb, cg, co = cb[by_bucket], cg[by_bucket], co[by_bucket]
    n_centres = np.bincount(cb, minlength=len(starts))
    centre_first = np.cumsum(n_centres) - n_centres
    # every member of a bucket against every centre of that bucket, so many members at a
    # time (all at once, the index arrays took 200 MB at 10,000 articles)
    reps = n_centres[bucket]
    out = []
    for lo in range(0, len(bucket), STAR_MEMBERS):
        r = reps[lo:lo + STAR_MEMBERS]
        member = np.repeat(np.arange(lo, lo + len(r)), r)
        centre = centre_first[bucket[member]] + np.arange(len(member)) - np.repeat(
            np.cumsum(r) - r, r)
        other = bg[member] != cg[centre]
        p, q = bo[member][other], co[centre][other]
        out.append(np.minimum(p, q) * width + np.maximum(p, q))
    return np.concatenate(out)
