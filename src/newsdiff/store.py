"""The persistent index's storage: one small interface, one module per backend.

A backend stores, per document, a `DocRecord` (text, metadata, boilerplate and sentence
spans, the serialised document MinHash), the LSH bucket keys of the document and of its
sentence windows, and the keys of the lines it taught us are furniture. Every write of a
document is one transaction, so a killed build never leaves half a document behind.
Backends are chosen by URL: ``sqlite:///path/index.sqlite`` or ``redis://host:port/db``.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlparse

from .errors import IndexStoreError

FORMAT = "newsdiff.index/3"
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
        """The record as compressed bytes."""
        body = {"id": self.id, "sha256": self.sha256, "text": self.text, "meta": self.meta,
                "boilerplate": [list(b) for b in self.boilerplate],
                "sentences": [list(s) for s in self.sentences],
                "shingles": base64.b64encode(self.shingles).decode("ascii")}
        return zlib.compress(json.dumps(body, ensure_ascii=False).encode("utf-8"), 6)

    @classmethod
    def unpack(cls, blob: bytes, minhash: bytes) -> DocRecord:
        """The record from `pack` bytes and its MinHash."""
        body = json.loads(zlib.decompress(blob).decode("utf-8"))
        return cls(body["id"], body["sha256"], body["text"], body["meta"],
                   tuple((s, e, r) for s, e, r in body["boilerplate"]),
                   tuple((s, e) for s, e in body["sentences"]), minhash,
                   base64.b64decode(body.get("shingles", "")))

    def pack_facts(self) -> bytes:
        """The sentences' facts as compressed bytes, stored apart from the record: a check
        reads them only for the few sentences it matched."""
        return zlib.compress(json.dumps(list(self.facts), ensure_ascii=False).encode("utf-8"), 6)

    @staticmethod
    def unpack_facts(blob: bytes) -> tuple[str, ...]:
        """Each sentence's facts (`facts.facts_json`) from `pack_facts` bytes."""
        return tuple(json.loads(zlib.decompress(blob).decode("utf-8")))


def stored_facts(doc_id: str, blob: bytes, where: str) -> tuple[str, ...]:
    """`DocRecord.unpack_facts`, with damaged bytes as an IndexStoreError naming the
    document (`where`: the index)."""
    try:
        return DocRecord.unpack_facts(blob)
    except (zlib.error, ValueError):
        raise IndexStoreError(f"{where}: corrupt index (the facts of {doc_id})") from None


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

    def facts(self, doc_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """Each sentence's stored facts (`facts.facts_json`) of these documents."""

    def lookup(self, keys: Sequence[int], skip_hot: bool = False
               ) -> list[tuple[int, str, int]]:
        """(bucket key, document id, sentence or -1) for every stored entry of these keys;
        with `skip_hot`, keys with more than HOT_BUCKET entries (stock phrases) are left
        out."""

    def sentence_votes(self, queries: Sequence[tuple[int, int]], per_sentence: int,
                       min_shared: int = 1, exclude: str = ""
                       ) -> list[tuple[str, int, int, int]]:
        """For new sentences given as (bucket key, new sentence) pairs: the indexed
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


def rank_votes(entries: Iterable[tuple[int, str, int]], queries: Sequence[tuple[int, int]],
               per_sentence: int, min_shared: int = 1, exclude: str = ""
               ) -> list[tuple[str, int, int, int]]:
    """`IndexStore.sentence_votes` from the stored (key, document id, sentence) entries of
    the queried keys, for backends that cannot count inside the store."""
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
