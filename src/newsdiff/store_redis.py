"""The scale-out index backend: Redis, with a key prefix per index so that several corpora
share one server. Each document is written in one MULTI/EXEC transaction.

Layout under PREFIX: ``meta`` (JSON settings), ``layout`` (LAYOUT), ``docs`` (hash id →
sha256), ``next`` (the last document number given), ``num`` (hash number → id), ``doc:ID``
(hash: record, minhash, sentence facts, packed (key, sentence) pairs, number), ``b:`` and the
bucket key as 8 bytes (set of integers, number << SENT_BITS | sentence + 1), ``f:KEY`` (set
of ids that have line KEY as furniture).

A bucket entry is an integer in a set named by eight bytes: Redis keeps small sets of
integers as arrays (intsets), where sets of "ID<US>SENT" strings named by the key in digits
took 251 bytes a bucket against 90 (measured with 200,000 one-member sets); a document has
some 900 bucket entries, and at 100,000 articles the older layout needed 22 GB.

Bucket sets are read and written by two small Lua scripts (`_READ_SETS`, `_EACH_SET`), one
call for all the sets of a check or of a document: as one command per set, redis-py's
packing and parsing of some 2,000 commands took two thirds of a build and half of a check.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from .errors import IndexStoreError
from .store import (
    HOT_BUCKET,
    DocRecord,
    parse_meta,
    query_pairs,
    record_problems,
    stored_facts,
    stored_record,
    top_votes,
)

SEP = "\x1f"  # of the older layout's bucket members, which `remove` still clears
LAYOUT = "2"
SENT_BITS = 24  # a bucket member's bits for the sentence (+ 1, so that -1 is 0)
_PREFIX = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_Entries = TypeVar("_Entries", int, np.ndarray)
# KEYS: bucket sets; ARGV[1]: the most members a set may have to be read (0: no limit).
# The reply: the number of members read from each set (0 for a set left out), then the
# members, set after set.
_READ_SETS = """
local limit = tonumber(ARGV[1])
local counts, out = {}, {}
for i, key in ipairs(KEYS) do
  local members = {}
  if limit == 0 or redis.call('SCARD', key) <= limit then
    members = redis.call('SMEMBERS', key)
  end
  counts[i] = #members
  if #members > 0 then
    out[#out + 1] = table.concat(members, ' ')
  end
end
return table.concat(counts, ' ') .. ' ' .. table.concat(out, ' ')
"""
# KEYS: sets; ARGV[1]: SADD, SREM or SISMEMBER; ARGV[i + 1]: the member for KEYS[i]. The
# reply: how many of the calls answered 1. A document's ~900 bucket entries as one command:
# as a command each, the client's packing and parsing took two thirds of a build.
_EACH_SET = """
local command = ARGV[1]
if command ~= 'SADD' and command ~= 'SREM' and command ~= 'SISMEMBER' then
  return redis.error_reply('unexpected command ' .. command)
end
local n = 0
for i, key in ipairs(KEYS) do
  n = n + redis.call(command, key, ARGV[i + 1])
end
return n
"""


def redact_url(url: str) -> str:
    """The URL with its password (if any) masked, for messages and JSON output."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.netloc.rsplit("@", 1)[1]
        user = parts.username or ""
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    except ValueError:
        return url


class RedisStore:
    """An index in a Redis database."""

    def __init__(self, url: str, prefix: str, create: bool) -> None:
        import redis

        real_url = url
        self.url = url = redact_url(url)  # messages never show the password
        if not _PREFIX.fullmatch(prefix):
            # A ":" would let one index's keys fall inside another's ("a" and "a:doc").
            raise IndexStoreError(f"{url}: prefix {prefix!r} must be 1 to 100 letters, "
                                  "digits, '_', '.' or '-'")
        self.prefix = prefix + ":"
        self._bucket_prefix = self.prefix.encode() + b"b:"
        try:
            self.r = redis.Redis.from_url(real_url.split("?", 1)[0],
                                          socket_connect_timeout=3, socket_timeout=30)
            self.r.ping()
        except ValueError as exc:
            raise IndexStoreError(f"{url}: bad Redis URL ({exc})") from None
        except redis.exceptions.RedisError as exc:
            raise IndexStoreError(f"{url}: cannot reach Redis ({exc})") from None
        self._errors = redis.exceptions.RedisError
        self._read_sets = self.r.register_script(_READ_SETS)
        self._each_set = self.r.register_script(_EACH_SET)
        if not create and not self._call(self.r.exists, self.prefix + "meta"):
            raise IndexStoreError(f"{url}: no newsdiff index under prefix {prefix!r} (build "
                                  "one with `newsdiff index build CORPUS --index URL`)")

    def _call(self, func, *args):  # type: ignore[no-untyped-def]
        try:
            return func(*args)
        except self._errors as exc:
            raise IndexStoreError(f"{self.url}: Redis error: {exc}") from None

    def _k(self, *parts: object) -> str:
        return self.prefix + ":".join(str(p) for p in parts)

    def _b(self, key: int) -> bytes:
        """The name of a bucket's set."""
        return self._bucket_prefix + struct.pack("<q", key)

    def read_meta(self) -> dict[str, Any] | None:
        """The settings the index was built with, or None for a new index.

        Raises:
            IndexStoreError: metadata of another format, or an index in an older layout.
        """
        raw, layout = self._call(self.r.mget, self._k("meta"), self._k("layout"))
        if raw is None:
            return None
        meta = parse_meta(raw, str(self.url))
        if (layout or b"").decode("ascii", "replace") != LAYOUT:
            raise IndexStoreError(f"{self.url}: a Redis index in an older layout; rebuild it "
                                  "(`newsdiff index build --rebuild`)")
        return meta

    def write_meta(self, meta: dict[str, Any]) -> None:
        """Record the settings the index is built with (and the layout it is written in)."""
        self._call(self.r.mset, {self._k("meta"): json.dumps(meta, sort_keys=True),
                                 self._k("layout"): LAYOUT})

    def documents(self) -> dict[str, str]:
        """Every indexed document id with its sha256."""
        raw = self._call(self.r.hgetall, self._k("docs"))
        return {k.decode(): v.decode() for k, v in raw.items()}

    def _stored(self, doc_id: str) -> tuple[list[tuple[int, int]], list[str], int | None]:
        """A document's (bucket key, sentence) pairs, furniture keys and number (None for a
        document of the older layout)."""
        packed, furniture, number = self._call(self.r.hmget, self._k("doc", doc_id), "pairs",
                                               "furniture", "num")
        pairs = list(struct.iter_unpack("<qi", packed)) if packed else []
        return (pairs, json.loads(furniture) if furniture else [],
                int(number) if number is not None else None)

    def _queue_delete(self, pipe, doc_id: str) -> None:  # type: ignore[no-untyped-def]
        pairs, furniture, number = self._stored(doc_id)
        if number is None:  # written by the older layout (a rebuild clears it)
            for key, sent in pairs:
                pipe.srem(self._k("b", key), f"{doc_id}{SEP}{sent}")
        else:
            self._each(pipe, "SREM", pairs, number)
        for key in furniture:
            pipe.srem(self._k("f", key), doc_id)
        if number is not None:
            pipe.hdel(self._k("num"), number)
        pipe.delete(self._k("doc", doc_id))
        pipe.hdel(self._k("docs"), doc_id)

    def put(self, record: DocRecord, buckets: Sequence[tuple[int, int]],
            furniture: Iterable[str]) -> None:
        """Add or replace one document in one transaction."""
        furniture = sorted(set(furniture))
        pairs = sorted(set(buckets))
        if any(not -1 <= sent < (1 << SENT_BITS) - 1 for _, sent in pairs):
            raise IndexStoreError(f"{self.url}: {record.id}: too many sentences to index")
        number = int(self._call(self.r.incr, self._k("next")))  # given once, never again
        pipe = self.r.pipeline(transaction=True)
        self._queue_delete(pipe, record.id)
        self._each(pipe, "SADD", pairs, number)
        for key in furniture:
            pipe.sadd(self._k("f", key), record.id)
        pipe.hset(self._k("doc", record.id), mapping={
            "record": record.pack(), "minhash": record.minhash, "facts": record.pack_facts(),
            "pairs": b"".join(struct.pack("<qi", k, s) for k, s in pairs),
            "furniture": json.dumps(furniture), "n": len(pairs), "num": number})
        pipe.hset(self._k("num"), number, record.id)
        pipe.hset(self._k("docs"), record.id, record.sha256)
        self._call(pipe.execute)

    def _each(self, pipe: Any, command: str, pairs: Sequence[tuple[int, int]], number: int
              ) -> None:
        """Queue `command` (SADD, SREM, SISMEMBER) on a document's bucket entries, as one
        script call."""
        if pairs:
            self._each_set(keys=[self._b(key) for key, _ in pairs],
                           args=[command, *(_member(number, sent) for _, sent in pairs)],
                           client=pipe)

    def remove(self, doc_id: str) -> None:
        """Remove one document and everything stored for it."""
        pipe = self.r.pipeline(transaction=True)
        self._queue_delete(pipe, doc_id)
        self._call(pipe.execute)

    def bulk(self, active: bool) -> None:
        """Nothing to defer: every document's keys are written as it is indexed."""

    def get(self, doc_ids: Iterable[str]) -> list[DocRecord]:
        """The records of these documents (unknown ids are left out)."""
        ids = sorted(set(doc_ids))
        pipe = self.r.pipeline(transaction=False)
        for doc_id in ids:
            pipe.hmget(self._k("doc", doc_id), "record", "minhash")
        out = []
        for blob, minhash in self._call(pipe.execute):
            if blob is not None:
                out.append(stored_record(blob, minhash, self.url))
        return out

    def facts(self, doc_ids: Iterable[str]) -> dict[str, Sequence[str]]:
        """Each sentence's stored facts of these documents."""
        ids = sorted(set(doc_ids))
        pipe = self.r.pipeline(transaction=False)
        for doc_id in ids:
            pipe.hget(self._k("doc", doc_id), "facts")
        return {doc_id: stored_facts(doc_id, blob, self.url)
                for doc_id, blob in zip(ids, self._call(pipe.execute), strict=True)
                if blob is not None}

    def lookup(self, keys: Sequence[int], skip_hot: bool = False, bands_only: bool = False
               ) -> list[tuple[int, str, int]]:
        """(bucket key, document id, sentence or -1) for every stored entry of these keys;
        with `skip_hot`, keys with more than HOT_BUCKET entries (stock phrases) are left
        out (SCARD is constant-time here); with `bands_only`, only document-band entries
        (sentence -1)."""
        bucket, numbers, sents = self._entries(keys, HOT_BUCKET if skip_hot else 0)
        if bands_only:
            keep = sents < 0
            bucket, numbers, sents = bucket[keep], numbers[keep], sents[keep]
        ids = self._ids(numbers)
        # (a number with no id: a document removed since; none while each write is whole)
        return [(key, ids[number], sent) for key, number, sent in zip(
            bucket.tolist(), numbers.tolist(), sents.tolist(), strict=True)
            if ids[number] is not None]

    def sentence_votes(self, queries: Sequence[tuple[int, int]] | np.ndarray,
                       per_sentence: int, min_shared: int = 1, exclude: str = ""
                       ) -> list[tuple[str, int, int, int]]:
        """The indexed sentences sharing most buckets with each new sentence (see
        `IndexStore.sentence_votes`), counted here from the bucket sets, in arrays: at
        100,000 articles a check's sets hold tens of thousands of entries."""
        pairs = query_pairs(queries)  # sorted by key
        if not len(pairs):
            return []
        bucket, numbers, sents = self._entries(np.unique(pairs[:, 0]).tolist(), HOT_BUCKET)
        keep = sents >= 0  # (the document bands are not sentences)
        bucket, numbers, sents = bucket[keep], numbers[keep], sents[keep]
        # every entry meets each new sentence that asked for its key
        first = np.searchsorted(pairs[:, 0], bucket, "left")
        count = np.searchsorted(pairs[:, 0], bucket, "right") - first
        entry = np.repeat(np.arange(len(bucket)), count)
        offset = np.arange(len(entry)) - np.repeat(np.cumsum(count) - count, count)
        votes = np.stack([numbers[entry], sents[entry], pairs[first[entry] + offset, 1]], 1)
        if not len(votes):
            return []
        votes = votes[np.lexsort(votes.T[::-1])]
        starts = np.flatnonzero(np.r_[True, (votes[1:] != votes[:-1]).any(axis=1)])
        shared = np.diff(np.r_[starts, len(votes)])
        votes = votes[starts]
        keep = shared >= min_shared
        votes, shared = votes[keep], shared[keep]
        ids = self._ids(votes[:, 0])
        return top_votes([(ids[number], sent, mine, n) for (number, sent, mine), n in zip(
            votes.tolist(), shared.tolist(), strict=True)
            if ids[number] is not None and ids[number] != exclude], per_sentence)

    def _entries(self, keys: Sequence[int], limit: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(bucket key, document number, sentence) arrays of every entry of these keys'
        sets, leaving out the sets of more than `limit` entries (0: none left out).

        The sets are read by one script on the server, which sends their members back as
        one string: a check reads some 2,000 sets, and a command each (SCARD, SMEMBERS)
        cost the client more than the rest of the check."""
        unique = sorted(set(keys))
        empty = np.zeros(0, dtype=np.int64)
        if not unique:
            return empty, empty, empty
        reply = self._call(self._read_sets, [self._b(key) for key in unique], [limit])
        values = np.array(reply.split(), dtype=np.int64)
        numbers, sents = _entry(values[len(unique):])
        return np.repeat(np.array(unique, dtype=np.int64), values[:len(unique)]), numbers, sents

    def _ids(self, numbers: np.ndarray) -> dict[int, str | None]:
        """The document id of each of these numbers (None: no such document)."""
        wanted = np.unique(numbers).tolist()
        if not wanted:
            return {}
        found = self._call(self.r.hmget, self._k("num"), wanted)
        return {n: None if i is None else i.decode() for n, i in zip(wanted, found, strict=True)}

    def known_furniture(self, keys: Iterable[str]) -> set[str]:
        """Those of these line keys that indexed documents have as furniture."""
        keys = sorted(set(keys))
        pipe = self.r.pipeline(transaction=False)
        for key in keys:
            pipe.exists(self._k("f", key))
        return {k for k, n in zip(keys, self._call(pipe.execute), strict=True) if n}

    def stats(self) -> dict[str, Any]:
        """Counts for `newsdiff index stats`."""
        docs = self._call(self.r.hlen, self._k("docs"))
        return {"backend": "redis", "url": self.url, "prefix": self.prefix.rstrip(":"),
                "documents": docs}

    def verify(self) -> list[str]:
        """Problems found by a consistency check (empty when the index is sound)."""
        problems = []
        try:
            self.read_meta()
        except IndexStoreError as exc:
            problems.append(str(exc))
        for doc_id in sorted(self.documents()):
            blob, minhash, facts, n = self._call(self.r.hmget, self._k("doc", doc_id),
                                                 "record", "minhash", "facts", "n")
            if blob is None:
                problems.append(f"{doc_id}: listed but its record is missing")
                continue
            damaged = record_problems(doc_id, blob, minhash, facts)
            if damaged:
                problems.extend(damaged)
                continue
            pairs, _, number = self._stored(doc_id)
            if number is None:
                problems.append(f"{doc_id}: written in an older layout")
                continue
            pipe = self.r.pipeline(transaction=False)
            self._each(pipe, "SISMEMBER", pairs, number)
            found = int(self._call(pipe.execute)[0]) if pairs else 0
            if found != int(n or 0):
                problems.append(f"{doc_id}: {found} of {int(n or 0)} bucket entries stored")
        return problems

    def close(self) -> None:
        """Release the connection."""
        self.r.close()


def _member(number: int, sent: int) -> int:
    """A bucket entry: document number and sentence (-1 for a document band) in one
    integer."""
    return number << SENT_BITS | (sent + 1)


def _entry(member: _Entries) -> tuple[_Entries, _Entries]:
    """(document number, sentence) of a bucket entry, or of an array of them."""
    return member >> SENT_BITS, (member & ((1 << SENT_BITS) - 1)) - 1
