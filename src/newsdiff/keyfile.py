"""A sorted, memory-mapped copy of an index's bucket entries, beside its SQLite file.

A check counts, for each of its ~1,200 (bucket key, new sentence) pairs, the indexed
sentences in that bucket. In SQLite that is one B-tree seek per key and a GROUP BY over
the rows found; over a sorted array of keys it is a binary search per key and one
`numpy.unique`. The file holds the entries of the documents indexed when a bulk build
ended (up to document rowid `watermark`): their sentence entries (stock-phrase keys left
out) and their document-band entries, in two tables; documents written after it are
counted in SQLite, so the file is never updated in place, only replaced.

Layout (little-endian): MAGIC, a uint32 header length, the JSON header (token, watermark,
documents, the tables' rows and runs, ids, id_bytes), padding to 8 bytes, then each table
(sentences, then documents): its rows sorted by key, 16 bytes each (int64 key, int32
document rowid, int32 sentence: -1 in the document table), then every SAMPLE-th key
(int64). A row's three fields share a page, so a check that finds the page cache empty
reads one page per key it looks up rather than three; the sample (1/256 of the keys) is
small enough to stay in the page cache, and a key's first row is found by a binary search
of the 256 rows (4 KB) after its sampled key. No key holds more than its table's
`run` entries (the sentence table: the index's stock-phrase limit), so a key's entries are
found in one short window after its first. Last, the documents' ids: `ids` int64 rowids
(ascending), as many uint32 end offsets, and the UTF-8 ids one after another
(`id_bytes`): a check names its candidates from them (in SQLite each name is a seek into
the documents table, whose rows hold the records).
"""

from __future__ import annotations

import json
import mmap
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"NDK3"
ROW = np.dtype([("key", "<i8"), ("doc", "<i4"), ("sent", "<i4")])
SAMPLE = 256  # every SAMPLE-th key is in the sample (a power of two: the binary search)
SHORT_RUN = 8  # most keys hold fewer entries: a first look this wide
MAP_IN_SLICE = 1 << 26  # bytes of the file `KeyFile.map_in` touches per numpy call
TABLES = ("sentences", "documents")


@dataclass(frozen=True)
class Table:
    """Rows (ROW) sorted by key, their sampled keys, and the most rows one key has."""

    rows: np.ndarray
    sample: np.ndarray  # rows["key"][::SAMPLE]
    run: int

    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(first row, number of rows) of each of these keys."""
        n, column = len(self.rows), self.rows["key"]
        if not n:
            return np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=np.int64)
        # the first row of a key lies in the SAMPLE rows after its block's sampled key: a
        # binary search of them, all keys at once (nine gathers of one row per key, where
        # two strides of 17 probes, most on other cache lines, took five times as long)
        base = np.maximum(np.searchsorted(self.sample, keys, side="left") - 1, 0) * SAMPLE
        below = np.zeros(len(keys), dtype=np.int64)  # rows from base known to hold less
        step = SAMPLE
        while step > 1:
            step //= 2
            at = base + below + step - 1
            below += step * ((at < n) & (column[np.minimum(at, n - 1)] < keys))
        at = base + below
        lo = at + ((at < n) & (column[np.minimum(at, n - 1)] < keys))
        count = self._run_length(keys, lo, SHORT_RUN)
        long = np.flatnonzero(count == SHORT_RUN)  # may go on: look further
        if len(long):
            count[long] = self._run_length(keys[long], lo[long], self.run + 1)
        return lo, count

    def _run_length(self, keys: np.ndarray, lo: np.ndarray, width: int) -> np.ndarray:
        """How many of the `width` rows from each `lo` hold its key (rows are sorted)."""
        n = len(self.rows)
        offsets = lo[:, None] + np.arange(width)
        window = np.minimum(offsets, n - 1)
        return ((self.rows["key"][window] == keys[:, None]) & (offsets < n)).sum(axis=1)

    def entries(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows of these keys (sorted), one key's after another's; and for each row, the
        position in `keys` of the key it holds."""
        order = np.argsort(keys, kind="stable")
        lo, lengths = self.find(keys[order])
        total = int(lengths.sum())
        starts = np.repeat(lo - np.cumsum(lengths) + lengths, lengths)
        return self.rows[starts + np.arange(total)], np.repeat(order, lengths)


@dataclass(frozen=True)
class KeyFile:
    """An open key file: its header, its two tables and its document ids (memory-mapped)."""

    token: str
    watermark: int  # the highest document rowid whose entries it holds
    documents: int  # how many documents it holds
    sentences: Table  # sentence-window entries, stock phrases left out
    doc_bands: Table  # document-band entries (sentence -1)
    id_rows: np.ndarray  # int64 rowids of the documents named (ascending)
    id_ends: np.ndarray  # uint32 end of each one's id in `id_text`
    id_text: np.ndarray  # their UTF-8 ids one after another (uint8)
    whole: np.ndarray  # the whole file (uint8, memory-mapped)

    def map_in(self) -> None:
        """Bring every page of the file into this process's mapping, by reading a byte of
        each: a check's binary searches then take no page faults for as long as the system
        keeps the file in its page cache (on the benchmark machine that cache drains even
        when idle). At 100,000 articles a process's checks took 360 page faults each, 180
        after this (the rest are new heap memory), and when the file is not in the page
        cache each may wait for the disk.
        numpy releases the GIL while it reads, so a thread can do it beside the checks (a
        1.4 GB file: 0.2 s when it is in the page cache, 2 s from the disk)."""
        for lo in range(0, len(self.whole), MAP_IN_SLICE):
            int(self.whole[lo:lo + MAP_IN_SLICE:mmap.PAGESIZE].max())

    def names(self, rowids: Sequence[int]) -> dict[int, str]:
        """The ids of those of these documents the file names."""
        if not len(self.id_rows):
            return {}
        wanted = np.asarray(sorted(set(rowids)), dtype=np.int64)
        at = np.minimum(np.searchsorted(self.id_rows, wanted), len(self.id_rows) - 1)
        found = at[self.id_rows[at] == wanted]
        ends = self.id_ends[found].astype(np.int64)
        starts = np.where(found > 0, self.id_ends[np.maximum(found - 1, 0)], 0)
        # one bytes view of the ids: slicing it costs less than a numpy slice per name
        text = memoryview(self.id_text)
        return {row: str(text[s:e], "utf-8") for row, s, e in zip(
            self.id_rows[found].tolist(), starts.tolist(), ends.tolist(), strict=True)}

    def votes(self, keys: np.ndarray, mines: np.ndarray, skip: Sequence[int],
              min_shared: int, per_sentence: int) -> list[tuple[int, int, int, int]]:
        """(document rowid, sentence, new sentence, shared buckets) of the indexed sentences
        sharing at least `min_shared` of the queried (key, new sentence) pairs, without
        the documents `skip`, keeping per new sentence those whose count is among the
        `per_sentence` highest (ties at the edge included, as SQL's RANK() does)."""
        if not len(self.sentences.rows) or not len(keys):
            return []
        found, at = self.sentences.entries(keys)
        docs = found["doc"].astype(np.int64)
        sents = found["sent"].astype(np.int64)
        mine = mines.astype(np.int64)[at]
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

    def band_entries(self, keys: Sequence[int], skip: Sequence[int]
                     ) -> list[tuple[int, int]]:
        """(bucket key, document rowid) of every document-band entry of these keys, without
        the documents `skip`, sorted."""
        if not len(self.doc_bands.rows) or not len(keys):
            return []
        found, _ = self.doc_bands.entries(np.asarray(keys, dtype=np.int64))
        found = found[~np.isin(found["doc"], np.asarray(skip, dtype=np.int64))]
        return sorted(zip(found["key"].tolist(), found["doc"].tolist(), strict=True))


def _rows(keys: np.ndarray, docs: np.ndarray, sents: np.ndarray) -> np.ndarray:
    if len(keys) > 1 and bool((keys[1:] < keys[:-1]).any()):
        raise ValueError("key file entries must be sorted by key")
    rows = np.empty(len(keys), dtype=ROW)
    rows["key"], rows["doc"], rows["sent"] = keys, docs, sents
    return rows


def _run(keys: np.ndarray) -> int:
    if not len(keys):
        return 0
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return int(np.diff(np.r_[starts, len(keys)]).max())


def write(path: Path, token: str, watermark: int, documents: int,
          sentences: tuple[np.ndarray, np.ndarray, np.ndarray],
          doc_bands: tuple[np.ndarray, np.ndarray], ids: Sequence[tuple[int, str]]) -> None:
    """Write a key file to a temporary name, then rename it into place: the sentence
    entries as (keys, document rowids, sentences) and the document-band entries as (keys,
    document rowids), each sorted by key, and the (rowid, id) names of the documents."""
    tables = (sentences, (*doc_bands, np.full(len(doc_bands[0]), -1, dtype=np.int32)))
    ids = sorted(ids)
    id_text = [doc_id.encode("utf-8") for _, doc_id in ids]
    id_ends = np.cumsum([len(b) for b in id_text], dtype=np.int64)
    if len(id_ends) and int(id_ends[-1]) >= 1 << 32:
        raise ValueError("document ids too long for a key file")
    header = json.dumps({
        "token": token, "watermark": watermark, "documents": documents,
        "tables": {name: {"rows": len(t[0]), "run": _run(t[0])}
                   for name, t in zip(TABLES, tables, strict=True)},
        "ids": len(ids), "id_bytes": int(id_ends[-1]) if len(id_ends) else 0,
    }, sort_keys=True).encode("utf-8")
    head = MAGIC + struct.pack("<I", len(header)) + header
    head += b"\0" * (-len(head) % 8)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as out:
            out.write(head)
            for keys, docs, sents in tables:
                _rows(keys, docs, sents).tofile(out)
                np.ascontiguousarray(keys[::SAMPLE], dtype="<i8").tofile(out)
            np.array([r for r, _ in ids], dtype="<i8").tofile(out)
            id_ends.astype("<u4").tofile(out)
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
        ValueError: not a whole key file (or one of another layout).
    """
    with open(path, "rb") as handle:
        start = handle.read(8)
        if len(start) < 8 or start[:4] != MAGIC:
            raise ValueError("not a newsdiff key file of this version")
        (n_header,) = struct.unpack("<I", start[4:])
        header = json.loads(handle.read(n_header))
    at = 8 + n_header
    at += -at % 8
    sizes = [(int(header["tables"][name]["rows"]), int(header["tables"][name]["run"]))
             for name in TABLES]
    n_ids, id_bytes = int(header["ids"]), int(header["id_bytes"])
    expected = at + sum(ROW.itemsize * n + 8 * -(-n // SAMPLE) for n, _ in sizes)
    if os.path.getsize(path) != expected + 12 * n_ids + id_bytes:
        raise ValueError("truncated key file")
    # plain arrays over the mapping: numpy.memmap's own indexing costs more per call
    whole = np.memmap(path, dtype=np.uint8, mode="r").view(np.ndarray)
    tables = []
    for n, run in sizes:
        rows = whole[at:at + ROW.itemsize * n].view(ROW)
        at += ROW.itemsize * n
        n_sample = -(-n // SAMPLE)
        tables.append(Table(rows, whole[at:at + 8 * n_sample].view("<i8"), run))
        at += 8 * n_sample
    id_rows = whole[at:at + 8 * n_ids].view("<i8")
    id_ends = whole[at + 8 * n_ids:at + 12 * n_ids].view("<u4")
    if n_ids and (int(id_ends[-1]) != id_bytes or bool((id_ends[1:] < id_ends[:-1]).any())):
        raise ValueError("damaged document ids")
    return KeyFile(str(header["token"]), int(header["watermark"]), int(header["documents"]),
                   tables[0], tables[1], id_rows, id_ends, whole[at + 12 * n_ids:], whole)
