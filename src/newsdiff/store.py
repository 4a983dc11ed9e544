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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlparse

from .errors import IndexStoreError

FORMAT = "newsdiff.index/2"
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
        """The records of these documents (unknown ids are left out)."""

    def lookup(self, keys: Sequence[int], skip_hot: bool = False
               ) -> list[tuple[int, str, int]]:
        """(bucket key, document id, sentence or -1) for every stored entry of these keys;
        with `skip_hot`, keys with more than HOT_BUCKET entries (stock phrases) are left
        out."""

    def known_furniture(self, keys: Iterable[str]) -> set[str]:
        """Those of these line keys that indexed documents have as furniture."""

    def stats(self) -> dict[str, Any]:
        """Counts for `newsdiff index stats`."""

    def verify(self) -> list[str]:
        """Problems found by a consistency check (empty when the index is sound)."""

    def close(self) -> None:
        """Release connections."""


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
