"""The default index backend: one SQLite file (WAL mode, one transaction per document)."""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import keyfile
from .errors import IndexStoreError
from .store import (
    HOT_BUCKET,
    DocRecord,
    parse_meta,
    query_pairs,
    query_rows,
    record_problems,
    stored_facts,
    stored_record,
    top_votes,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    rowid INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL,
    record BLOB NOT NULL,
    minhash BLOB NOT NULL,
    n_buckets INTEGER NOT NULL,
    first_bucket INTEGER NOT NULL,
    last_bucket INTEGER NOT NULL,
    facts BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS buckets (
    key INTEGER NOT NULL,
    doc INTEGER NOT NULL,
    sent INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS furniture (
    key TEXT NOT NULL,
    doc INTEGER NOT NULL,
    PRIMARY KEY (key, doc)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS furniture_doc ON furniture (doc);
CREATE TABLE IF NOT EXISTS hot (key INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS stale (rowid INTEGER PRIMARY KEY);
"""
# Bucket rows are appended document by document (each document's rows are one rowid
# range, recorded in `docs`), so writing a document dirties a few pages. Looking keys up
# needs this covering index; a bulk build drops it and creates it once at the end (sorting
# is far cheaper than a thousand random B-tree inserts per document), and whoever opens an
# index whose build was interrupted before that creates it. `hot` lists the keys holding
# more than HOT_BUCKET entries, so that a query skips them without counting their rows;
# a document's keys are counted as it is written (all keys at the end of a bulk build). A
# key stays listed when documents are removed: it only means fewer stock-phrase hits.
# Document rowids are never reused (AUTOINCREMENT): the key file names documents by rowid,
# and `stale` lists the rowids removed since it was written, which it must not count.
KEY_INDEX = "CREATE INDEX IF NOT EXISTS buckets_key ON buckets (key, doc, sent)"
ALL_HOT = ("INSERT OR IGNORE INTO hot SELECT key FROM buckets GROUP BY key "
           f"HAVING COUNT(*) > {HOT_BUCKET}")

# `IndexStore.sentence_votes` over the temporary table of queried (key, new sentence)
# pairs: shared buckets counted per (indexed sentence, new sentence), then, per new
# sentence, every pair whose count is among the `per_sentence` highest (ties at the edge
# included). Only those few are joined with `docs` for their ids (the join costs a random
# page read each); Python breaks the ties by id as `store.rank_votes` does.
VOTES = """
WITH shared AS (
    SELECT b.doc AS doc, b.sent AS sent, q.mine AS mine, COUNT(*) AS n
    FROM temp.query q JOIN buckets b ON b.key = q.key
    WHERE b.sent >= 0 AND b.doc != ? AND b.doc > ? AND q.key NOT IN (SELECT key FROM hot)
    GROUP BY b.doc, b.sent, q.mine HAVING COUNT(*) >= ?),
ranked AS (
    SELECT doc, sent, mine, n, RANK() OVER (PARTITION BY mine ORDER BY n DESC) AS rank
    FROM shared)
SELECT d.id, r.sent, r.mine, r.n FROM ranked r JOIN docs d ON d.rowid = r.doc
WHERE r.rank <= ?
"""
# A record and its facts (~24 KB on the benchmark corpus) span two pages of this size
# rather than six of SQLite's default 4 KB: a check reads up to fifty records, from disk
# when the page cache no longer holds the index. Set when a file is created.
PAGE_BYTES = 16384
CACHE_PAGES_KB = -262144  # 256 MB of page cache per connection
# Counting shared buckets in SQL (no key file) reads the bucket index straight from the
# OS page cache, up to SQLite's 2 GB cap: copying every page it touches into SQLite's own
# cache tripled its time. Otherwise the file is not mapped: a fault on a mapped page reads the
# disk's whole read-ahead around it (8 MB on this machine's disk), and the few records a
# check reads are scattered: a check at 100,000 articles, with nothing in the page cache,
# took 611 ms (p50) mapped and 63 ms read page by page.
MMAP_BYTES = 2147418112
# A build writes a new key file when more documents than this (and than this share of
# those it holds) were written or removed one at a time since the last one.
KEYFILE_REFRESH_MIN = 1000
KEYFILE_REFRESH_SHARE = 0.1


def _member(ordered: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each of `values`, whether it is in the sorted array `ordered` (a binary search
    each, in slices: no sort or full-size copy of `values`, which may be a hundred million
    bucket entries)."""
    out = np.zeros(len(values), dtype=bool)
    if not len(ordered):
        return out
    step = 1 << 23
    for lo in range(0, len(values), step):
        part = np.asarray(values[lo:lo + step])
        at = np.minimum(np.searchsorted(ordered, part), len(ordered) - 1)
        out[lo:lo + step] = ordered[at] == part
    return out


class SqliteStore:
    """An index in a SQLite file."""

    def __init__(self, path: Path, url: str, create: bool) -> None:
        self.url = url
        self.path = path
        if not path.exists() and not create:
            raise IndexStoreError(f"{path}: no index here (build one with "
                                  "`newsdiff index build CORPUS`)")
        if path.exists() and path.is_dir():
            raise IndexStoreError(f"{path}: is a folder, not an index file")
        try:
            if create:
                path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(path), timeout=30, isolation_level=None)
            self.db.execute("PRAGMA busy_timeout = 30000")
            self.db.execute(f"PRAGMA page_size = {PAGE_BYTES}")  # a new file only
            mode = self.db.execute("PRAGMA journal_mode = WAL").fetchone()
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute(f"PRAGMA cache_size = {CACHE_PAGES_KB}")
            tables = {r[0] for r in self.db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise IndexStoreError(f"{path}: not a newsdiff index ({exc})") from None
        except OSError as exc:
            raise IndexStoreError(f"{path}: cannot open index: {exc.strerror or exc}") from None
        if mode is None or str(mode[0]).lower() != "wal":
            raise IndexStoreError(f"{path}: cannot switch the index to WAL mode")
        if tables and "meta" not in tables:
            raise IndexStoreError(f"{path}: a SQLite file, but not a newsdiff index")
        if not tables:
            if not create:
                raise IndexStoreError(f"{path}: empty file, not a newsdiff index")
            try:
                self.db.executescript(SCHEMA)
                self.db.execute(KEY_INDEX)
            except sqlite3.DatabaseError as exc:
                raise IndexStoreError(f"{path}: cannot create index: {exc}") from None
        self._bulk = False
        self._keys: keyfile.KeyFile | None = None
        self._votes_asked = 0
        self._pending: list[tuple[int, np.ndarray, np.ndarray]] | None = None

    def _write(self, action) -> Any:  # type: ignore[no-untyped-def]
        """Run `action` inside one immediate transaction."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                result = action()
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
            return result
        except sqlite3.DatabaseError as exc:
            raise IndexStoreError(f"{self.path}: index write failed: {exc}") from None

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.db.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise IndexStoreError(f"{self.path}: corrupt index ({exc})") from None

    def _read_in(self, sql: str, values: Iterable[Any]) -> list[tuple[Any, ...]]:
        """`sql` with its "IN ({})" filled by each slice of 500 of the distinct `values`
        (SQLite limits the parameters of one statement), the rows of all slices."""
        values = sorted(set(values))
        out: list[tuple[Any, ...]] = []
        for k in range(0, len(values), 500):
            chunk = values[k:k + 500]
            out.extend(self._read(sql.format(",".join("?" * len(chunk))), chunk))
        return out

    def read_meta(self) -> dict[str, Any] | None:
        """The settings the index was built with, or None for a new index."""
        rows = self._read("SELECT value FROM meta WHERE name = 'settings'")
        if not rows:
            return None
        return parse_meta(rows[0][0], str(self.path))

    def write_meta(self, meta: dict[str, Any]) -> None:
        """Record the settings the index is built with."""
        text = json.dumps(meta, sort_keys=True)
        self._write(lambda: self.db.execute(
            "INSERT OR REPLACE INTO meta (name, value) VALUES ('settings', ?)", (text,)))

    def documents(self) -> dict[str, str]:
        """Every indexed document id with its sha256."""
        return dict(self._read("SELECT id, sha256 FROM docs"))

    def put(self, record: DocRecord, buckets: Sequence[tuple[int, int]],
            furniture: Iterable[str]) -> None:
        """Add or replace one document in one transaction."""
        furniture = sorted(set(furniture))
        rows = sorted(set(buckets))

        def action() -> None:
            self._delete(record.id)
            (last,), = self.db.execute("SELECT COALESCE(MAX(rowid), 0) FROM buckets")
            cur = self.db.execute(
                "INSERT INTO docs (id, sha256, record, minhash, n_buckets, first_bucket, "
                "last_bucket, facts) VALUES (?,?,?,?,?,?,?,?)",
                (record.id, record.sha256, record.pack(), record.minhash, len(rows), last + 1,
                 last + len(rows), record.pack_facts()))
            rowid = cur.lastrowid
            if self._pending is not None:
                self._pending.append((rowid, np.array([k for k, _ in rows], dtype=np.int64),
                                      np.array([sent for _, sent in rows], dtype=np.int32)))
            self.db.executemany("INSERT INTO buckets (rowid, key, doc, sent) VALUES (?,?,?,?)",
                                ((last + 1 + i, k, rowid, sent)
                                 for i, (k, sent) in enumerate(rows)))
            self.db.executemany("INSERT OR IGNORE INTO furniture (key, doc) VALUES (?, ?)",
                                ((k, rowid) for k in furniture))
            if not self._bulk:
                keys = sorted({k for k, _ in rows})
                before = self.db.total_changes
                for k in range(0, len(keys), 500):
                    chunk = keys[k:k + 500]
                    self.db.execute(
                        "INSERT OR IGNORE INTO hot SELECT key FROM buckets WHERE key IN "
                        f"({','.join('?' * len(chunk))}) GROUP BY key "
                        f"HAVING COUNT(*) > {HOT_BUCKET}", chunk)
                if self.db.total_changes != before:  # new stock phrases: see `_keyfile`
                    self.db.execute(
                        "INSERT INTO meta (name, value) VALUES ('hot_version', '1') ON "
                        "CONFLICT (name) DO UPDATE SET value = CAST(value AS INTEGER) + 1")

        self._write(action)

    def _delete(self, doc_id: str) -> None:
        row = self.db.execute("SELECT rowid, first_bucket, last_bucket FROM docs WHERE id = ?",
                              (doc_id,)).fetchone()
        if row:
            rowid, first, last = row
            self.db.execute("DELETE FROM buckets WHERE rowid BETWEEN ? AND ? AND doc = ?",
                            (first, last, rowid))
            self.db.execute("DELETE FROM furniture WHERE doc = ?", (rowid,))
            self.db.execute("DELETE FROM docs WHERE rowid = ?", (rowid,))
            self.db.execute("INSERT OR IGNORE INTO stale (rowid) VALUES (?)", (rowid,))

    def remove(self, doc_id: str) -> None:
        """Remove one document and everything stored for it."""
        self._write(lambda: self._delete(doc_id))

    def bulk(self, active: bool) -> None:
        """Drop the key index for a bulk build (True); create it again and list the hot
        keys (False)."""
        self._bulk = active
        if active:
            self._write(lambda: self.db.execute("DROP INDEX IF EXISTS buckets_key"))
            self._pending = []
        else:
            self._key_index()
            if self._pending is not None or self._keyfile_behind():
                self._write_keyfile()

    def _keyfile_behind(self) -> bool:
        """True when so many documents were written or removed one at a time since the key
        file (or there is none) that a build should write a new one, or the key file the
        index lists cannot be used (damaged, missing, of another layout)."""
        kf, _ = self._keyfile()
        if kf is None and self._read("SELECT 1 FROM meta WHERE name = 'keyfile'"):
            return True
        (since,), = self._read("SELECT COUNT(*) FROM docs WHERE rowid > ?",
                               (kf.watermark if kf else 0,))
        (removed,), = self._read("SELECT COUNT(*) FROM stale")
        return since + removed > max(KEYFILE_REFRESH_MIN,
                                     KEYFILE_REFRESH_SHARE * (kf.documents if kf else 0))

    def _key_index(self) -> None:
        """Make sure bucket keys can be looked up and hot keys are listed (an interrupted
        bulk build left the index without them)."""
        if self._bulk:
            return
        found = {r[0] for r in self._read(
            "SELECT name FROM sqlite_master WHERE name IN ('buckets_key', 'hot')")}
        if found != {"buckets_key", "hot"}:
            def action() -> None:
                self.db.execute("CREATE TABLE IF NOT EXISTS hot (key INTEGER PRIMARY KEY)")
                self.db.execute(KEY_INDEX)
                self.db.execute(ALL_HOT)

            self._write(action)

    def get(self, doc_ids: Iterable[str]) -> list[DocRecord]:
        """The records of these documents (unknown ids are left out)."""
        rows = self._read_in("SELECT record, minhash FROM docs WHERE id IN ({})", doc_ids)
        return sorted((stored_record(r, m, str(self.path)) for r, m in rows),
                      key=lambda r: r.id)

    def facts(self, doc_ids: Iterable[str]) -> dict[str, Sequence[str]]:
        """Each sentence's stored facts of these documents."""
        return {doc_id: stored_facts(doc_id, blob, str(self.path)) for doc_id, blob in
                self._read_in("SELECT id, facts FROM docs WHERE id IN ({})", doc_ids)}

    def lookup(self, keys: Sequence[int], skip_hot: bool = False, bands_only: bool = False
               ) -> list[tuple[int, str, int]]:
        """(bucket key, document id, sentence or -1) for every stored entry of these keys;
        with `skip_hot`, keys with more than HOT_BUCKET entries (stock phrases) are left
        out; with `bands_only`, only document-band entries (sentence -1) are wanted, and
        those of the documents in the key file are read from it."""
        self._key_index()
        wanted = set(keys) - (self._hot(keys) if skip_hot else set())
        sql = ("SELECT b.key, d.id, b.sent FROM buckets b JOIN docs d ON d.rowid = b.doc "
               "WHERE b.key IN ({})")
        kf = self._keyfile()[0] if bands_only else None
        if kf is None:
            found = self._read_in(sql, wanted)
            return [e for e in found if e[2] < 0] if bands_only else found
        stale = [r[0] for r in self._read("SELECT rowid FROM stale")]
        entries = kf.band_entries(sorted(wanted), stale)
        ids = kf.names({doc for _, doc in entries})
        found = [(key, ids[doc], -1) for key, doc in entries]
        (newest,), = self._read("SELECT COALESCE(MAX(rowid), 0) FROM docs")
        if newest > kf.watermark:  # documents written since the key file
            found += self._read_in(sql + f" AND b.sent < 0 AND b.doc > {kf.watermark:d}",
                                   wanted)
        return found

    def sentence_votes(self, queries: Sequence[tuple[int, int]] | np.ndarray,
                       per_sentence: int, min_shared: int = 1, exclude: str = ""
                       ) -> list[tuple[str, int, int, int]]:
        """The indexed sentences sharing most buckets with each new sentence (see
        `IndexStore.sentence_votes`), counted in the key file (see `keyfile`) for the
        documents it holds and inside SQLite for those written since: only the best pairs
        come back, not every bucket entry."""
        self._key_index()
        skip = self._read("SELECT rowid FROM docs WHERE id = ?", (exclude,))
        skip_row = skip[0][0] if skip else 0
        pairs = query_pairs(queries)
        kf, new_hot = self._keyfile()
        if kf is None:
            return top_votes(self._sql_votes(query_rows(pairs), (skip_row, 0, min_shared,
                                                                  per_sentence)), per_sentence)
        if new_hot:
            hot = sorted(self._hot(set(pairs[:, 0].tolist())))
            pairs = pairs[~np.isin(pairs[:, 0], np.asarray(hot, dtype=np.int64))]
        self._votes_asked += 1
        if self._votes_asked == 2:  # a process making several checks: see `KeyFile.map_in`
            threading.Thread(target=kf.map_in, name="newsdiff-map-in", daemon=True).start()
        stale = [r[0] for r in self._read("SELECT rowid FROM stale")]
        try:
            found = kf.votes(pairs[:, 0], pairs[:, 1], [skip_row, *stale], min_shared,
                             per_sentence)
        except (OverflowError, OSError, ValueError):
            return top_votes(self._sql_votes(query_rows(pairs), (skip_row, 0, min_shared,
                                                                  per_sentence)), per_sentence)
        ids = kf.names({doc for doc, _, _, _ in found})
        out = [(ids[doc], sent, mine, n) for doc, sent, mine, n in found if doc in ids]
        (newest,), = self._read("SELECT COALESCE(MAX(rowid), 0) FROM docs")
        if newest > kf.watermark:  # documents written since the key file
            out += self._sql_votes(query_rows(pairs), (skip_row, kf.watermark, min_shared,
                                                       per_sentence))
        return top_votes(out, per_sentence)

    def _sql_votes(self, rows: Sequence[tuple[int, int]], params: tuple[int, int, int, int]
                   ) -> list[tuple[str, int, int, int]]:
        """The VOTES query over these (key, new sentence) rows."""
        try:
            self.db.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
            self.db.execute("CREATE TEMP TABLE IF NOT EXISTS query (key INTEGER, mine INTEGER)")
            self.db.execute("DELETE FROM temp.query")
            self.db.executemany("INSERT INTO temp.query VALUES (?, ?)", rows)
        except sqlite3.DatabaseError as exc:
            raise IndexStoreError(f"{self.path}: cannot query the index ({exc})") from None
        return self._read(VOTES, params)

    def _hot(self, keys: Iterable[int]) -> set[int]:
        """Those of these keys that are stock phrases (listed in `hot`)."""
        return {r[0] for r in self._read_in("SELECT key FROM hot WHERE key IN ({})", keys)}

    @property
    def keyfile_path(self) -> Path:
        """Where the key file of this index lives: beside it."""
        return self.path.with_name(self.path.name + ".keys")

    def _keyfile(self) -> tuple[keyfile.KeyFile | None, bool]:
        """The key file the index lists, if it is there and is that one (a build killed
        between writing it and listing it leaves another, which is not used); and whether
        keys have become stock phrases since it was written (it leaves out those that were
        then, and a check must leave out those that are now)."""
        rows = dict(self._read("SELECT name, value FROM meta WHERE name IN "
                               "('keyfile', 'hot_version')"))
        try:
            listed = json.loads(rows["keyfile"])
            token, hot = listed["token"], int(listed["hot"])
            hot_now = int(rows.get("hot_version", 0))
        except (ValueError, KeyError, TypeError):
            return None, True
        if self._keys is None or self._keys.token != token:
            try:
                self._keys = keyfile.read(self.keyfile_path)
            except (OSError, ValueError, KeyError, TypeError):
                self._keys = None
        if self._keys is None or self._keys.token != token:
            return None, True
        return self._keys, hot_now != hot

    def _write_keyfile(self) -> None:
        """A new key file for every document now indexed: the entries a bulk build
        collected, the current key file's for the documents it holds, the table's for any
        other (those written one by one since it)."""
        pending, self._pending = self._pending or [], None
        old, _ = self._keyfile()
        try:
            self.db.execute("BEGIN")  # one view of which documents and stock phrases there are
            names = self.db.execute("SELECT rowid, id FROM docs").fetchall()
            removed = [r[0] for r in self.db.execute("SELECT rowid FROM stale")]
            hot_version = self.db.execute(
                "SELECT COALESCE(MAX(CAST(value AS INTEGER)), 0) FROM meta "
                "WHERE name = 'hot_version'").fetchone()[0]
            hot = np.array(sorted(r[0] for r in self.db.execute("SELECT key FROM hot")),
                           dtype=np.int64)
            self.db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise IndexStoreError(f"{self.path}: corrupt index ({exc})") from None
        live = np.sort(np.array([r for r, _ in names], dtype=np.int64))
        # Gathered into one preallocated set of arrays, each source freed as it is copied:
        # a 100,000-article build holds about a hundred million entries.
        fresh = np.array([doc for doc, _, _ in pending], dtype=np.int64)
        others = live[~np.isin(live, fresh)]
        olds: list[tuple[keyfile.Table, np.ndarray]] = []
        if old is not None:
            kept = others[others <= old.watermark]
            olds = [(t, _member(kept, t.rows["doc"])) for t in (old.sentences, old.doc_bands)]
            others = others[others > old.watermark]
        table = []  # the other documents' entries, from the table, a slice at a time
        for lo in range(0, len(others), 5000):
            table.append(np.array(self._read_in(
                "SELECT key, doc, sent FROM buckets WHERE doc IN ({})",
                others[lo:lo + 5000].tolist()), dtype=np.int64).reshape(-1, 3))
        total = (sum(len(keys) for _, keys, _ in pending) + sum(int(m.sum()) for _, m in olds)
                 + sum(len(t) for t in table))
        keys = np.empty(total, dtype=np.int64)
        docs = np.empty(total, dtype=np.int32)
        sents = np.empty(total, dtype=np.int32)
        at = 0
        while pending:
            doc, k, snt = pending.pop()
            keys[at:at + len(k)], docs[at:at + len(k)], sents[at:at + len(k)] = k, doc, snt
            at += len(k)
        step = 1 << 23
        while olds:
            t, member = olds.pop()
            for lo in range(0, len(member), step):
                part = t.rows[np.flatnonzero(member[lo:lo + step]) + lo]
                n = len(part)
                keys[at:at + n], docs[at:at + n], sents[at:at + n] = (
                    part["key"], part["doc"], part["sent"])
                at += n
        for t in table:
            keys[at:at + len(t)], docs[at:at + len(t)], sents[at:at + len(t)] = t.T
            at += len(t)
        del table
        # sentence entries but stock phrases, document-band entries; of live documents
        alive = _member(live, docs)
        band = alive & (sents < 0)
        keep = alive & (sents >= 0) & ~_member(hot, keys)
        del alive
        band_keys, band_docs = keys[band], docs[band]
        del band
        keys, docs, sents = keys[keep], docs[keep], sents[keep]
        del keep
        order = np.argsort(keys, kind="stable")
        keys, docs, sents = keys[order], docs[order], sents[order]
        order = np.argsort(band_keys, kind="stable")
        band_keys, band_docs = band_keys[order], band_docs[order]
        del order
        token = secrets.token_hex(8)
        newest = int(live.max(initial=0))
        self._keys = None
        try:
            keyfile.write(self.keyfile_path, token, newest, len(live), (keys, docs, sents),
                          (band_keys, band_docs), names)
        except OSError as exc:
            raise IndexStoreError(f"{self.keyfile_path}: cannot write the key file: "
                                  f"{exc.strerror or exc}") from None
        listed = json.dumps({"token": token, "watermark": newest, "hot": hot_version})

        def action() -> None:
            self.db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('keyfile', ?)",
                            (listed,))
            self.db.executemany("DELETE FROM stale WHERE rowid = ?", ((r,) for r in removed))

        self._write(action)

    def known_furniture(self, keys: Iterable[str]) -> set[str]:
        """Those of these line keys that indexed documents have as furniture."""
        return {r[0] for r in self._read_in(
            "SELECT DISTINCT key FROM furniture WHERE key IN ({})", keys)}

    def stats(self) -> dict[str, Any]:
        """Counts for `newsdiff index stats`."""
        (docs,), = self._read("SELECT COUNT(*) FROM docs")
        (buckets,), = self._read("SELECT COUNT(*) FROM buckets")
        (furniture,), = self._read("SELECT COUNT(DISTINCT key) FROM furniture")
        kf, _ = self._keyfile()
        return {"backend": "sqlite", "path": str(self.path), "documents": docs,
                "bucket_entries": buckets, "furniture_lines": furniture,
                "bytes": self.path.stat().st_size if self.path.exists() else 0,
                "key_file_entries": len(kf.sentences.rows) if kf is not None else 0,
                "key_file_band_entries": len(kf.doc_bands.rows) if kf is not None else 0}

    def verify(self) -> list[str]:
        """Problems found by a consistency check (empty when the index is sound)."""
        problems = []
        try:
            (check,), = self._read("PRAGMA quick_check")
        except IndexStoreError as exc:
            return [str(exc)]
        if check != "ok":
            problems.append(f"SQLite integrity check: {check}")
        try:
            self.read_meta()
        except IndexStoreError as exc:
            problems.append(str(exc))
        problems.extend(self._keyfile_problems())
        orphans = self._read("SELECT COUNT(*) FROM buckets WHERE doc NOT IN "
                             "(SELECT rowid FROM docs)")[0][0]
        if orphans:
            problems.append(f"{orphans} bucket entries belong to no document")
        for doc_id, expected, found in self._read(
                "SELECT d.id, d.n_buckets, (SELECT COUNT(*) FROM buckets b WHERE b.rowid "
                "BETWEEN d.first_bucket AND d.last_bucket AND b.doc = d.rowid) FROM docs d"):
            if expected != found:
                problems.append(f"{doc_id}: {found} of {expected} bucket entries stored")
        for doc_id, blob, minhash, facts in self._read(
                "SELECT id, record, minhash, facts FROM docs"):
            problems.extend(record_problems(doc_id, blob, minhash, facts))
        return problems

    def _keyfile_problems(self) -> list[str]:
        """What is wrong with the key file the index lists (a missing or damaged file; one
        a killed build left unlisted is not a problem: it is not used)."""
        rows = self._read("SELECT value FROM meta WHERE name = 'keyfile'")
        if not rows:
            return []
        try:
            token = json.loads(rows[0][0])["token"]
            found = keyfile.read(self.keyfile_path)
        except OSError as exc:
            return [f"{self.keyfile_path}: key file unreadable: {exc.strerror or exc} "
                    "(`newsdiff index build` writes a new one)"]
        except (ValueError, KeyError, TypeError) as exc:
            return [f"{self.keyfile_path}: damaged key file: {exc} (`newsdiff index "
                    "build` writes a new one)"]
        if found.token != token:
            return []
        for t in (found.sentences, found.doc_bands):
            keys = t.rows["key"]
            if len(keys) > 1 and bool((keys[1:] < keys[:-1]).any()):
                return [f"{self.keyfile_path}: damaged key file: keys out of order"]
        return []

    def close(self) -> None:
        """Release the connection."""
        self.db.close()
