"""The persistent index's storage: one small interface, one module per backend.

A backend stores, per document, a `DocRecord` (text, metadata, boilerplate and sentence
spans, the serialised document MinHash), the LSH bucket keys of the document and of its
sentence windows, and the keys of the lines it taught us are furniture. Every write of a
document is one transaction, so a killed build never leaves half a document behind.
Backends are chosen by URL: ``sqlite:///path/index.sqlite`` or ``redis://host:port/db``.
"""

from __future__ import annotations

import json
import struct
import sys
import zlib
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any, Protocol, TypeVar, overload
from urllib.parse import parse_qs, urlparse

import numpy as np

from .errors import IndexStoreError

FORMAT = "newsdiff.index/5"
HOT_BUCKET = 64  # a bucket holding more entries than this is a stock phrase


@dataclass(frozen=True)
class DocRecord:
    """What the index keeps of one document."""

    id: str
    sha256: str
    text: str
    meta: dict[str, Any]
    boilerplate: tuple[tuple[int, int, str], ...]
    sentences: tuple[tuple[int, int], ...]
    minhash: bytes
    shingles: bytes = b""  # the body's distinct shingle hashes (uint32), for exact Jaccard
    facts: tuple[str, ...] = ()  # each sentence's facts (`facts.facts_json`); `get` leaves
    # them out (see `IndexStore.facts`)

    def pack(self) -> bytes:
        """The record as bytes (see `RECORD_MAGIC`): decoding it is a few slices, with no
        decompression or JSON parsing of the text, because a check decodes up to
        fifty records."""
        head = json.dumps({"id": self.id, "sha256": self.sha256, "meta": self.meta,
                           "reasons": [r for _, _, r in self.boilerplate]},
                          ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        text = self.text.encode("utf-8")
        spans = array("i", [v for s, e, _ in self.boilerplate for v in (s, e)]
                      + [v for s, e in self.sentences for v in (s, e)])
        _little_endian(spans)
        return b"".join((RECORD_MAGIC, struct.pack("<5I", len(head), len(text),
                                                   len(self.boilerplate), len(self.sentences),
                                                   len(self.shingles)),
                         head, text, spans.tobytes(), self.shingles))

    @classmethod
    def unpack(cls, blob: bytes, minhash: bytes) -> DocRecord:
        """The record from `pack` bytes and its MinHash.

        Raises:
            ValueError: bytes that are not a whole record.
        """
        if blob[:len(RECORD_MAGIC)] != RECORD_MAGIC:
            raise ValueError("not a newsdiff record")
        at = len(RECORD_MAGIC) + 20
        if len(blob) < at:
            raise ValueError("truncated record")
        n_head, n_text, n_boiler, n_sent, n_shingles = struct.unpack_from(
            "<5I", blob, len(RECORD_MAGIC))
        n_spans = 8 * (n_boiler + n_sent)
        if len(blob) != at + n_head + n_text + n_spans + n_shingles:
            raise ValueError("truncated record")
        head = json.loads(blob[at:at + n_head])
        at += n_head
        text = blob[at:at + n_text].decode("utf-8")
        at += n_text
        spans = array("i", blob[at:at + n_spans])
        _little_endian(spans)
        at += n_spans
        reasons = head["reasons"]
        if len(reasons) != n_boiler:
            raise ValueError("boilerplate reasons miscounted")
        cut = 2 * n_boiler
        boiler = tuple(zip(spans[0:cut:2], spans[1:cut:2], reasons, strict=True))
        sentences = tuple(zip(spans[cut::2], spans[cut + 1::2], strict=True))
        return cls(head["id"], head["sha256"], text, head["meta"], boiler, sentences,
                   minhash, blob[at:])

    def pack_facts(self) -> bytes:
        """The sentences' facts as bytes, stored apart from the record: a check reads them
        only for the documents it matched."""
        return pack_facts(self.facts)

    @staticmethod
    def unpack_facts(blob: bytes) -> tuple[str, ...]:
        """Each sentence's facts (`facts.facts_json`) from `pack_facts` bytes.

        Raises:
            ValueError: bytes that are not a whole list of facts.
        """
        at, ends = _facts_layout(blob)
        starts = [0, *ends[:-1]] if ends else []
        return tuple(_inflate(blob[at + s:at + e]).decode("utf-8")
                     for s, e in zip(starts, ends, strict=True))


def _facts_layout(blob: bytes) -> tuple[int, array]:  # type: ignore[type-arg]
    """Where the sentences of `pack_facts` bytes start, and the end offset of each.

    Raises:
        ValueError: bytes that are not a whole list of facts, or were changed.
    """
    if blob[:len(FACTS_MAGIC)] != FACTS_MAGIC:
        raise ValueError("not newsdiff facts")
    at = len(FACTS_MAGIC) + 8
    if len(blob) < at:
        raise ValueError("truncated facts")
    crc, n = struct.unpack_from("<II", blob, len(FACTS_MAGIC))
    if zlib.crc32(memoryview(blob)[len(FACTS_MAGIC) + 4:]) != crc:
        raise ValueError("damaged facts")
    ends = array("I", blob[at:at + 4 * n])
    _little_endian(ends)
    at += 4 * n
    if len(ends) != n or (ends[-1] if n else 0) != len(blob) - at:
        raise ValueError("truncated facts")
    return at, ends


T = TypeVar("T")


class LazySequence(Sequence[T]):
    """A sequence whose items are made only when read (a subclass gives `__len__` and
    `_item`, called with an index from 0 to len - 1); slices are tuples."""

    def _item(self, k: int) -> T:
        raise NotImplementedError

    @overload
    def __getitem__(self, k: int) -> T: ...

    @overload
    def __getitem__(self, k: slice) -> tuple[T, ...]: ...

    def __getitem__(self, k: int | slice) -> T | tuple[T, ...]:
        if isinstance(k, slice):
            return tuple(self._item(i) for i in range(len(self))[k])
        return self._item(range(len(self))[k])  # IndexError as a sequence gives it


class StoredFactsText(LazySequence[str]):
    """One document's stored facts (`facts.facts_json`), sentence by sentence, each
    decoded when read: a check reads a few sentences of each document it matched."""

    def __init__(self, doc_id: str, blob: bytes, where: str) -> None:
        self._doc, self._blob, self._where = doc_id, blob, where
        try:
            self._at, self._ends = _facts_layout(blob)
        except ValueError:
            raise self._corrupt() from None

    def _corrupt(self) -> IndexStoreError:
        return IndexStoreError(f"{self._where}: corrupt index (the facts of {self._doc})")

    def __len__(self) -> int:
        return len(self._ends)

    def _item(self, k: int) -> str:
        start = self._ends[k - 1] if k else 0
        try:
            return _inflate(self._blob[self._at + start:self._at + self._ends[k]]
                            ).decode("utf-8")
        except ValueError:  # not deflate, or not UTF-8
            raise self._corrupt() from None


# Stored layouts (little-endian). A record: RECORD_MAGIC, five uint32 (bytes of the JSON
# head, bytes of the UTF-8 text, boilerplate spans, sentences, bytes of shingles), the JSON
# head (id, sha256, meta, the boilerplate reasons), the text, int32 (start, end) pairs of
# the boilerplate then of the sentences, the shingles (uint32). Facts: FACTS_MAGIC, the
# CRC-32 of what follows, a uint32 count, the uint32 end offset of each sentence's facts,
# then each sentence's facts JSON in UTF-8, deflated (raw) with FACTS_DICT as the preset
# dictionary. Compressed one by one, a document's facts take 4.2 KB rather than 15.1 (the
# 10,000-article benchmark), so that most documents' rows fit in one 16 KB SQLite page (a
# check that finds its pages out of the page cache reads a third less from the disk), and
# a check inflates only the sentences it compares (a few µs each).
RECORD_MAGIC = b"NDR4"
FACTS_MAGIC = b"NDF5"
# What facts JSON is made of (`facts.facts_json`): its keys and most frequent values, the
# commonest last (nearest, so cheapest to refer to). Changing it takes a new FORMAT.
FACTS_DICT = (
    b'{"kind":"number","start":,"end":,"text":"","normalized":"","value":.0,"ordinal":true}'
    b'{"kind":"number","start":,"end":,"text":"","normalized":"","value":.0,"unit":"",'
    b'"attributive":true,"core":[,]}'
    b'{"kind":"number","start":,"end":,"text":"","normalized":"<= ","value":.0,"unit":"",'
    b'"modifiers":[""],"comparator":"<=","core":[,]}'
    b'{"kind":"entity","start":,"end":,"text":"President ","normalized":"","name":"",'
    b'"title":"President","etype":"person"}'
    b'{"kind":"date","start":,"end":,"text":"","normalized":"","grain":"month"}'
    b'{"kind":"date","start":,"end":,"text":"","normalized":"","grain":"day","lo":"","hi":""}'
    b'{"kind":"stance","start":,"end":,"text":"","normalized":"","polarity":1}'
    b'{"kind":"negation","start":,"end":,"text":"not","normalized":"not","polarity":-1}'
    b'{"kind":"date","start":,"end":,"text":"","normalized":"","grain":"relative"}'
    b'{"kind":"date","start":,"end":,"text":"","normalized":"","grain":"year"}'
    b'{"kind":"number","start":,"end":,"text":"","normalized":"","value":.0}'
    b'{"kind":"number","start":,"end":,"text":" pct","normalized":" pct","value":.0,'
    b'"unit":"pct","core":[,]}'
    b'{"kind":"number","start":,"end":,"text":" mln dlrs","normalized":" mln dlr",'
    b'"value":.0,"unit":"dlr","modifiers":["mln"],"core":[,]}'
    b'{"kind":"entity","start":,"end":,"text":"","normalized":"","name":"","etype":"org"}'
    b'{"kind":"entity","start":,"end":,"text":"","normalized":"","name":"","etype":"name"}'
)


def _deflate(data: bytes) -> bytes:
    """`data` compressed as raw deflate, with FACTS_DICT as the preset dictionary."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY, FACTS_DICT)
    return packer.compress(data) + packer.flush()


def _inflate(data: bytes) -> bytes:
    """What `_deflate` compressed.

    Raises:
        ValueError: bytes that are not one whole deflate stream.
    """
    unpacker = zlib.decompressobj(-15, FACTS_DICT)
    try:
        out = unpacker.decompress(data)
    except zlib.error:
        raise ValueError("damaged facts") from None
    if not unpacker.eof or unpacker.unused_data:
        raise ValueError("damaged facts")
    return out


def _little_endian(numbers: array) -> None:  # type: ignore[type-arg]
    """Swap `numbers` in place between this machine's byte order and the stored one."""
    if sys.byteorder != "little":
        numbers.byteswap()


def pack_facts(facts: Sequence[str]) -> bytes:
    """Bytes of each sentence's facts JSON, for `DocRecord.unpack_facts`."""
    parts = [_deflate(f.encode("utf-8")) for f in facts]
    ends = array("I", accumulate(len(p) for p in parts))
    _little_endian(ends)
    body = b"".join((struct.pack("<I", len(parts)), ends.tobytes(), *parts))
    return b"".join((FACTS_MAGIC, struct.pack("<I", zlib.crc32(body)), body))


def stored_facts(doc_id: str, blob: bytes, where: str) -> StoredFactsText:
    """A document's facts from `pack_facts` bytes, each sentence's decoded when read;
    damaged bytes raise an IndexStoreError naming the document (`where`: the index), when
    the layout is read or, for one sentence's text, when that is."""
    return StoredFactsText(doc_id, blob, where)


def stored_record(blob: bytes, minhash: bytes, where: str) -> DocRecord:
    """`DocRecord.unpack`, with damaged bytes as an IndexStoreError (`where`: the
    index)."""
    try:
        return DocRecord.unpack(blob, minhash)
    except (ValueError, KeyError, TypeError):
        raise IndexStoreError(f"{where}: corrupt index (a damaged document record)") from None


class IndexStore(Protocol):
    """What every backend offers."""

    url: str

    def read_meta(self) -> dict[str, Any] | None:
        """The settings the index was built with, or None for a new index."""

    def write_meta(self, meta: dict[str, Any]) -> None:
        """Record the settings the index is built with."""

    def documents(self) -> dict[str, str]:
        """Every indexed document id with its sha256."""

    def put(self, record: DocRecord, buckets: Sequence[tuple[int, int]],
            furniture: Iterable[str]) -> None:
        """Add or replace one document, its (bucket key, sentence or -1) pairs and its
        furniture line keys, in one transaction."""

    def remove(self, doc_id: str) -> None:
        """Remove one document and everything stored for it."""

    def bulk(self, active: bool) -> None:
        """Enter (True) or leave (False) bulk loading, for a build that adds many
        documents: a backend may defer work that each document would otherwise pay for."""

    def get(self, doc_ids: Iterable[str]) -> list[DocRecord]:
        """The records of these documents (unknown ids are left out), without facts."""

    def facts(self, doc_ids: Iterable[str]) -> dict[str, Sequence[str]]:
        """Each sentence's stored facts (`facts.facts_json`) of these documents."""

    def lookup(self, keys: Sequence[int], skip_hot: bool = False, bands_only: bool = False
               ) -> list[tuple[int, str, int]]:
        """(bucket key, document id, sentence or -1) for every stored entry of these keys;
        with `skip_hot`, keys with more than HOT_BUCKET entries (stock phrases) are left
        out; with `bands_only`, only document-band entries (sentence -1)."""

    def sentence_votes(self, queries: Sequence[tuple[int, int]] | np.ndarray,
                       per_sentence: int, min_shared: int = 1, exclude: str = ""
                       ) -> list[tuple[str, int, int, int]]:
        """For new sentences given as (bucket key, new sentence) pairs (or an (n, 2) array
        of them; repeated pairs count once): the indexed
        sentences that share at least `min_shared` buckets with one, at most `per_sentence`
        of them for each, as (document id, sentence, new sentence, shared buckets), ranked
        as `top_votes` does. Keys with more than HOT_BUCKET entries (stock phrases) and the
        document `exclude` are left out; the counting happens in the store where it can."""

    def known_furniture(self, keys: Iterable[str]) -> set[str]:
        """Those of these line keys that indexed documents have as furniture."""

    def stats(self) -> dict[str, Any]:
        """Counts for `newsdiff index stats`."""

    def verify(self) -> list[str]:
        """Problems found by a consistency check (empty when the index is sound)."""

    def close(self) -> None:
        """Release connections."""


def record_problems(doc_id: str, blob: bytes, minhash: bytes, facts: bytes | None
                    ) -> list[str]:
    """What is wrong with one stored document (nothing when its record and its facts
    decode, with facts for every sentence)."""
    try:
        record = DocRecord.unpack(blob, minhash)
        found = DocRecord.unpack_facts(facts or b"")
    except Exception as exc:  # any decoding failure means a damaged record
        return [f"{doc_id}: damaged record: {exc}"]
    if len(found) != len(record.sentences):
        return [f"{doc_id}: facts of {len(found)} sentences stored for "
                f"{len(record.sentences)}"]
    return []


def query_pairs(queries: Sequence[tuple[int, int]] | np.ndarray) -> np.ndarray:
    """The distinct (bucket key, new sentence) pairs of a `sentence_votes` query, given as
    pairs or as an (n, 2) array, as an (n, 2) int64 array sorted by key."""
    pairs = np.asarray(queries, dtype=np.int64).reshape(-1, 2)
    if len(pairs) > 1:
        pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
        pairs = pairs[np.r_[True, (pairs[1:] != pairs[:-1]).any(axis=1)]]
    return pairs


def query_rows(pairs: np.ndarray) -> list[tuple[int, int]]:
    """`query_pairs` as tuples of ints."""
    return list(zip(pairs[:, 0].tolist(), pairs[:, 1].tolist(), strict=True))


def rank_votes(entries: Iterable[tuple[int, str, int]], queries: Sequence[tuple[int, int]],
               per_sentence: int, min_shared: int = 1, exclude: str = ""
               ) -> list[tuple[str, int, int, int]]:
    """`IndexStore.sentence_votes` from the stored (key, document id, sentence) entries of
    the queried keys: the count every backend's `sentence_votes` gives, written plainly
    (the backends count in SQL, in the key file or in arrays; the tests hold each to
    this)."""
    mine_of_key: dict[int, set[int]] = {}
    for key, mine in set(queries):
        mine_of_key.setdefault(key, set()).add(mine)
    votes: Counter[tuple[str, int, int]] = Counter()
    for key, doc_id, sent in set(entries):
        if sent < 0 or doc_id == exclude:
            continue
        for mine in mine_of_key.get(key, ()):
            votes[(doc_id, sent, mine)] += 1
    return top_votes([(*pair, n) for pair, n in votes.items() if n >= min_shared],
                     per_sentence)


def top_votes(rows: Iterable[tuple[str, int, int, int]], per_sentence: int
              ) -> list[tuple[str, int, int, int]]:
    """Of (document id, sentence, new sentence, shared buckets) rows, the `per_sentence`
    best of each new sentence: most shared buckets first, then by document id and
    sentence; sorted by new sentence, then rank."""
    ranked = sorted(rows, key=lambda r: (r[2], -r[3], r[0], r[1]))
    out: list[tuple[str, int, int, int]] = []
    taken: Counter[int] = Counter()
    for row in ranked:
        if taken[row[2]] < per_sentence:
            taken[row[2]] += 1
            out.append(row)
    return out


def parse_meta(raw: str | bytes, where: str) -> dict[str, Any]:
    """An index's stored settings, checked to be of this newsdiff's index format.

    Raises:
        IndexStoreError: unreadable metadata or another format.
    """
    try:
        meta = json.loads(raw)
    except ValueError:
        raise IndexStoreError(f"{where}: corrupt index metadata") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise IndexStoreError(f"{where}: index format {found!r} is not {FORMAT!r}; rebuild it "
                              "with this newsdiff")
    return meta


def default_url(corpus: Path) -> str:
    """The index of a corpus folder: a SQLite file in CORPUS/.newsdiff/."""
    return f"sqlite:///{(corpus / '.newsdiff' / 'index.sqlite').resolve()}"


def sqlite_path(url: str) -> Path | None:
    """The file a sqlite:// URL names (None for other URLs).

    As in SQLAlchemy: ``sqlite:///relative/path``, ``sqlite:////absolute/path``.

    Raises:
        IndexStoreError: a sqlite URL without a path.
    """
    parsed = urlparse(url)
    if parsed.scheme != "sqlite":
        return None
    raw = parsed.netloc + parsed.path
    if not raw.strip("/"):
        raise IndexStoreError(f"{url}: give a path, as in sqlite:///index.sqlite")
    return Path("/" + raw.lstrip("/")) if raw.startswith("//") else Path(raw[1:] or raw)


def open_store(url: str, create: bool = False) -> IndexStore:
    """Open the backend a URL names.

    Raises:
        IndexStoreError: an unknown scheme, a missing index (unless `create`), a corrupt
            or foreign file, or an unreachable server.
    """
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        from .store_sqlite import SqliteStore

        path = sqlite_path(url)
        assert path is not None
        return SqliteStore(path, url, create)
    if parsed.scheme in ("redis", "rediss"):
        from .store_redis import RedisStore

        prefix = parse_qs(parsed.query).get("prefix", ["newsdiff"])[0]
        return RedisStore(url, prefix, create)
    raise IndexStoreError(f"{url}: unknown index URL (use sqlite:///PATH or "
                          "redis://HOST:PORT/DB)")
