"""A sorted, memory-mapped copy of an index's sentence bucket entries, beside its SQLite file.

A check counts, for each of its ~1,200 (bucket key, new sentence) pairs, the indexed
sentences in that bucket. In SQLite that is one B-tree seek per key and a GROUP BY over
the rows found; over a sorted array of keys it is a binary search per key and one
`numpy.unique`. The file holds the entries of the documents indexed when a bulk build
ended (up to document rowid `watermark`, stock-phrase keys left out); documents written
after it are counted in SQLite, so the file is never updated in place, only replaced.

Layout (little-endian): MAGIC, a uint32 header length, the JSON header (token, watermark,
documents, entries, run, ids, id_bytes), padding to 8 bytes, then `entries` int64 keys
(ascending), as many int32 document rowids, as many int32 sentence numbers, and every
STRIDE-th key (int64), which a query searches first: a binary search over the whole array
touches a page at each of its ~27 steps. No key holds more than `run` entries (the index's
stock-phrase limit), so a key's entries are found in one short window after its first.
Last, the documents' ids: `ids` int64 rowids (ascending), as many uint32 end offsets, and
the UTF-8 ids one after another (`id_bytes`). A check names its candidates from them: in
SQLite each name is a seek into the documents table, whose rows hold the records, so one
page read per candidate on an index the page cache no longer holds. (Files of the first
layout, MAGIC1, have no ids; they are still read, and names come from SQLite.)
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"NDK2"
MAGIC1 = b"NDK1"  # the first layout: without the ids
STRIDE = 16
SHORT_RUN = 8  # most keys hold fewer entries: a first look this wide


@dataclass(frozen=True)
class KeyFile:
    """An open key file: its header and its three arrays (memory-mapped)."""

    token: str
    watermark: int  # the highest document rowid whose entries it holds
    documents: int  # how many documents it holds
    keys: np.ndarray  # int64, ascending
    docs: np.ndarray  # int32 document rowids
    sents: np.ndarray  # int32 sentence numbers
    sample: np.ndarray  # keys[::STRIDE]
    run: int  # the most entries one key has
    id_rows: np.ndarray | None = None  # int64 rowids of the documents named (ascending)
    id_ends: np.ndarray | None = None  # uint32 end of each one's id in `id_text`
    id_text: np.ndarray | None = None  # their UTF-8 ids one after another (uint8)

    def names(self, rowids: Sequence[int]) -> dict[int, str] | None:
        """The ids of those of these documents the file names (None: a file of the first
        layout, which names none)."""
        if self.id_rows is None or self.id_ends is None or self.id_text is None:
            return None
        if not len(self.id_rows):
            return {}
        wanted = np.asarray(sorted(set(rowids)), dtype=np.int64)
        at = np.minimum(np.searchsorted(self.id_rows, wanted), len(self.id_rows) - 1)
        found = at[self.id_rows[at] == wanted]
        ends, text = self.id_ends, self.id_text
        return {row: text[(int(ends[k - 1]) if k else 0):int(ends[k])].tobytes().decode("utf-8")
                for row, k in zip(self.id_rows[found].tolist(), found.tolist(), strict=True)}

    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(first row, number of rows) of each of these keys."""
        n = len(self.keys)
        block = np.maximum(np.searchsorted(self.sample, keys, side="left") - 1, 0)
        # the first row of a key lies in the STRIDE rows after its block's sampled key
        window = np.minimum(block[:, None] * STRIDE + np.arange(STRIDE + 1), n - 1)
        lo = np.minimum(block * STRIDE + (self.keys[window] < keys[:, None]).sum(axis=1), n)
        count = self._run_length(keys, lo, SHORT_RUN)
        long = np.flatnonzero(count == SHORT_RUN)  # may go on: look further
        if len(long):
            count[long] = self._run_length(keys[long], lo[long], self.run + 1)
        return lo, count

    def _run_length(self, keys: np.ndarray, lo: np.ndarray, width: int) -> np.ndarray:
        """How many of the `width` rows from each `lo` hold its key (rows are sorted)."""
        offsets = lo[:, None] + np.arange(width)
        window = np.minimum(offsets, len(self.keys) - 1)
        return ((self.keys[window] == keys[:, None]) & (offsets < len(self.keys))).sum(axis=1)

    def votes(self, keys: np.ndarray, mines: np.ndarray, skip: Sequence[int],
              min_shared: int, per_sentence: int) -> list[tuple[int, int, int, int]]:
        """(document rowid, sentence, new sentence, shared buckets) of the indexed sentences
        sharing at least `min_shared` of the queried (key, new sentence) pairs, without
        the documents `skip`, keeping per new sentence those whose count is among the
        `per_sentence` highest (ties at the edge included, as SQL's RANK() does)."""
        if not len(self.keys) or not len(keys):
            return []
        order = np.argsort(keys, kind="stable")
        keys, mines = keys[order], mines[order]
        lo, lengths = self.find(keys)
        total = int(lengths.sum())
        if not total:
            return []
        # the rows lo[i]..hi[i] of every queried key, one after another
        starts = np.repeat(lo - np.cumsum(lengths) + lengths, lengths)
        rows = starts + np.arange(total)
        docs = np.asarray(self.docs[rows], dtype=np.int64)
        sents = np.asarray(self.sents[rows], dtype=np.int64)
        mine = np.repeat(mines.astype(np.int64), lengths)
        keep = ~np.isin(docs, np.asarray(skip, dtype=np.int64))
        docs, sents, mine = docs[keep], sents[keep], mine[keep]
        if not len(docs):
            return []
        n_sent, n_mine = int(sents.max()) + 1, int(mine.max()) + 1
        if int(docs.max()) + 1 >= (1 << 62) // (n_sent * n_mine):
            raise OverflowError("too many sentences to count in one key")
        codes, counts = np.unique((docs * n_sent + sents) * n_mine + mine, return_counts=True)
        keep = counts >= min_shared
        codes, counts = codes[keep], counts[keep]
        if not len(codes):
            return []
        mine = codes % n_mine
        # per new sentence, the count of its `per_sentence`-th best pair is the bar
        order = np.lexsort((-counts, mine))
        codes, counts, mine = codes[order], counts[order], mine[order]
        first = np.flatnonzero(np.r_[True, mine[1:] != mine[:-1]])
        size = np.diff(np.r_[first, len(mine)])
        bar_at = first + np.minimum(size, per_sentence) - 1
        keep = counts >= np.repeat(counts[bar_at], size)
        codes, counts, mine = codes[keep], counts[keep], mine[keep]
        pairs = codes // n_mine
        return list(zip((pairs // n_sent).tolist(), (pairs % n_sent).tolist(), mine.tolist(),
                        counts.tolist(), strict=True))


def write(path: Path, token: str, watermark: int, documents: int, keys: np.ndarray,
          docs: np.ndarray, sents: np.ndarray, ids: Sequence[tuple[int, str]]) -> None:
    """Write a key file of these entries (sorted by key) and these (rowid, id) names of
    documents to a temporary name, then rename it into place."""
    if len(keys) > 1 and bool((keys[1:] < keys[:-1]).any()):
        raise ValueError("key file entries must be sorted by key")
    run = 0
    if len(keys):
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        run = int(np.diff(np.r_[starts, len(keys)]).max())
    ids = sorted(ids)
    id_text = [doc_id.encode("utf-8") for _, doc_id in ids]
    id_ends = np.cumsum([len(b) for b in id_text], dtype=np.int64)
    if len(id_ends) and int(id_ends[-1]) >= 1 << 32:
        raise ValueError("document ids too long for a key file")
    header = json.dumps({"token": token, "watermark": watermark, "documents": documents,
                         "entries": len(keys), "run": run, "ids": len(ids),
                         "id_bytes": int(id_ends[-1]) if len(id_ends) else 0},
                        sort_keys=True).encode("utf-8")
    head = MAGIC + struct.pack("<I", len(header)) + header
    head += b"\0" * (-len(head) % 8)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as out:
            out.write(head)
            for array, dtype in ((keys, "<i8"), (docs, "<i4"), (sents, "<i4"),
                                 (keys[::STRIDE], "<i8"),
                                 (np.array([r for r, _ in ids], dtype=np.int64), "<i8"),
                                 (id_ends, "<u4")):
                np.ascontiguousarray(array, dtype=dtype).tofile(out)
            out.write(b"".join(id_text))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read(path: Path) -> KeyFile:
    """The key file at `path`, memory-mapped.

    Raises:
        OSError: no such file, or it cannot be read.
        ValueError: not a whole key file.
    """
    with open(path, "rb") as handle:
        start = handle.read(8)
        if len(start) < 8 or start[:4] not in (MAGIC, MAGIC1):
            raise ValueError("not a newsdiff key file")
        (n_header,) = struct.unpack("<I", start[4:])
        header = json.loads(handle.read(n_header))
    at = 8 + n_header
    at += -at % 8
    n = int(header["entries"])
    n_sample = -(-n // STRIDE)
    named = start[:4] == MAGIC
    n_ids, id_bytes = (int(header["ids"]), int(header["id_bytes"])) if named else (0, 0)
    if os.path.getsize(path) != at + 16 * n + 8 * n_sample + 12 * n_ids + id_bytes:
        raise ValueError("truncated key file")
    token, watermark, documents = (str(header["token"]), int(header["watermark"]),
                                   int(header["documents"]))
    run = int(header["run"])
    # plain arrays over the mapping: numpy.memmap's own indexing costs more per call
    whole = np.memmap(path, dtype=np.uint8, mode="r").view(np.ndarray)
    keys = whole[at:at + 8 * n].view("<i8")
    docs = whole[at + 8 * n:at + 12 * n].view("<i4")
    sents = whole[at + 12 * n:at + 16 * n].view("<i4")
    at += 16 * n
    sample = whole[at:at + 8 * n_sample].view("<i8")
    if not named:
        return KeyFile(token, watermark, documents, keys, docs, sents, sample, run)
    at += 8 * n_sample
    id_rows = whole[at:at + 8 * n_ids].view("<i8")
    id_ends = whole[at + 8 * n_ids:at + 12 * n_ids].view("<u4")
    if n_ids and (int(id_ends[-1]) != id_bytes
                  or bool((id_ends[1:] < id_ends[:-1]).any())):
        raise ValueError("damaged document ids")
    return KeyFile(token, watermark, documents, keys, docs, sents, sample, run, id_rows,
                   id_ends, whole[at + 12 * n_ids:])
