"""The plain data every stage passes on, and its JSON form.

Every span is a ``Span(doc, start, end, text)`` whose ``start``/``end`` are Python string
indices (code points) into ``Document.text`` exactly as decoded, so that
``text == document.text[start:end]`` always holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

SCHEMA = "newsdiff.comparison/1"
CHECK_SCHEMA = "newsdiff.check/1"

MATCH_KINDS = ("verbatim", "near-verbatim", "rephrased")

T = TypeVar("T")


def _by_position(cls: type[T]) -> type[T]:
    """A dataclass pickled as its field values in order, made again by its constructor.

    For the classes a large comparison holds by the hundred thousand (spans, edit
    operations, matches, thread members), which have `__slots__`: no dict of their own.
    At 10,000 benchmark articles the run's peak memory fell from 1,965 to 1,815 MB. The
    price is in pickling, which the aligners' matches go through on their way back: for
    100,000 matches like theirs, 1.98 s to pickle and 2.95 s to unpickle, against 0.93 s
    and 2.18 s with a dict (`dataclasses`' own pickling of slotted classes, field by
    field, took 3.51 and 3.10 s)."""
    names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]

    def __reduce__(self: T) -> tuple[type[T], tuple[Any, ...]]:
        return cls, tuple([getattr(self, name) for name in names])

    cls.__reduce__ = __reduce__  # type: ignore[assignment,method-assign]
    return cls


DIVERGENCE_KINDS = ("number", "date", "entity", "negation", "stance")


@_by_position
@dataclass(frozen=True, slots=True)
class Span:
    """A slice of one document's text."""

    doc: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Boilerplate:
    """A span of page furniture (credit line, share button, subscription appeal...)."""

    span: Span
    reason: str


@dataclass(frozen=True)
class Document:
    """One article as read from disk, with its metadata and segmentation."""

    id: str
    path: str
    text: str
    format: str
    encoding: str
    sha256: str
    title: str | None = None
    source: str | None = None
    published: str | None = None
    word_count: int = 0
    boilerplate: tuple[Boilerplate, ...] = ()
    sentences: tuple[Span, ...] = ()


@dataclass(frozen=True)
class Duplicate:
    """Two documents that are near-duplicates (or one contains the other)."""

    a: str
    b: str
    jaccard: float
    containment: float
    kind: str  # "exact", "near-duplicate" or "contained"


@dataclass(frozen=True)
class Cluster:
    """Documents connected by near-duplicate links."""

    id: str
    docs: tuple[str, ...]


@_by_position
@dataclass(frozen=True, slots=True)
class EditOp:
    """One word-level edit operation between two aligned passages.

    ``op`` is ``equal``, ``replace``, ``insert`` (words only in b) or ``delete`` (words
    only in a); ``a``/``b`` are the character ranges ``[start, end)`` in the respective
    documents (empty ranges for the missing side) and ``a_text``/``b_text`` their text.
    """

    op: str
    a_start: int
    a_end: int
    b_start: int
    b_end: int
    a_text: str
    b_text: str


@_by_position
@dataclass(frozen=True, slots=True)
class Match:
    """A passage that recurs in two documents, found inside two sentences."""

    id: str
    a: Span
    b: Span
    a_sentence: int
    b_sentence: int
    score: float
    kind: str
    ops: tuple[EditOp, ...]


@_by_position
@dataclass(frozen=True, slots=True)
class ThreadMember:
    """One version of a recurring statement."""

    doc: str
    published: str | None
    sentence: Span
    passage: Span


@dataclass(frozen=True)
class Thread:
    """A recurring statement: its versions across articles, in date order."""

    id: str
    label: str
    members: tuple[ThreadMember, ...]
    matches: tuple[str, ...]
    first_published: str | None = None
    last_published: str | None = None


@dataclass(frozen=True)
class FactValue:
    """One side of a divergence: the value as written and where it stands."""

    value: str
    normalized: str
    span: Span
    published: str | None


@dataclass(frozen=True)
class Divergence:
    """A comparable fact that differs between two aligned statements."""

    id: str
    kind: str
    match: str
    thread: str | None
    a: FactValue
    b: FactValue
    relation: str  # "change" (different times) or "conflict" (about the same time)
    explanation: str
    confidence: float


@dataclass(frozen=True)
class Comparison:
    """Everything `newsdiff compare` found in a corpus."""

    settings: dict[str, Any]
    documents: tuple[Document, ...]
    duplicates: tuple[Duplicate, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    matches: tuple[Match, ...] = ()
    threads: tuple[Thread, ...] = ()
    divergences: tuple[Divergence, ...] = ()
    schema: str = SCHEMA
    version: str = ""
    warnings: tuple[str, ...] = field(default=())

    def document(self, doc_id: str) -> Document:
        """Return the document with this id (KeyError if absent)."""
        for doc in self.documents:
            if doc.id == doc_id:
                return doc
        raise KeyError(doc_id)


def to_jsonable(obj: Any) -> Any:
    """Turn a dataclass tree into plain lists and dicts, keeping field order."""
    if hasattr(obj, "__dataclass_fields__"):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    return obj


def json_bytes(obj: Any) -> bytes:
    """Deterministic JSON of any model object, in UTF-8 (trailing newline included):
    indented by two spaces, fields in their declared order, text as it is (not as ASCII
    escapes).

    orjson writes the dataclass tree directly, as `json.dumps` would write `to_jsonable`
    of it (only floats below 1e-4 are spelled otherwise, "0.00001" for "1e-05"; the model
    rounds its scores to four places): the JSON of 1,000 benchmark articles takes 0.4 s
    instead of 4.0 s (`json`'s indenting encoder is pure Python), and no tree of dicts is
    built first (at 10,000 articles the stage's peak fell from 6.6 to 4.7 GB). Text orjson
    refuses, a lone surrogate, goes the `json` way, written as its JSON escape.
    """
    return _json(obj) + b"\n"


def json_chunks(obj: Any) -> Iterator[bytes]:
    """`json_bytes` of a model object in pieces that add up to the same bytes: the fields
    of a dataclass one by one, and the items of its lists one by one, so that the whole
    text is never held at once (a Comparison of 10,000 benchmark articles is 570 MB of
    JSON; written whole, by a process forked from one holding 2.6 GB, it set the run's
    peak memory). A piece orjson refuses goes the `json` way on its own."""
    if not hasattr(obj, "__dataclass_fields__"):
        yield json_bytes(obj)
        return
    for k, f in enumerate(fields(obj)):
        value = getattr(obj, f.name)
        # what orjson writes at depth one, and its items at depth two: each line of a
        # piece made at depth zero indented (JSON text has no newline inside a string)
        yield (b"{" if k == 0 else b",") + b"\n  " + _json(f.name) + b": "
        if isinstance(value, (list, tuple)) and value:
            for i, item in enumerate(value):
                yield (b"[" if i == 0 else b",") + b"\n    " + _json(item).replace(
                    b"\n", b"\n    ")
            yield b"\n  ]"
        else:
            yield _json(value).replace(b"\n", b"\n  ")
    yield b"\n}\n" if fields(obj) else b"{}\n"


def _json(obj: Any) -> bytes:
    """JSON of `obj` as `json_bytes` writes it, without the final newline."""
    import orjson

    try:
        return orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
    except TypeError:
        text = json.dumps(to_jsonable(obj), ensure_ascii=False, indent=2)
        return text.encode("utf-8", "backslashreplace")


def dumps(obj: Any) -> str:
    """`json_bytes` as text."""
    return json_bytes(obj).decode("utf-8")


def _span(d: dict[str, Any]) -> Span:
    return Span(doc=d["doc"], start=d["start"], end=d["end"], text=d["text"])


def _fact(d: dict[str, Any]) -> FactValue:
    return FactValue(d["value"], d["normalized"], _span(d["span"]), d["published"])


def comparison_from_dict(data: dict[str, Any]) -> Comparison:
    """Rebuild a Comparison from its JSON form (raises ValueError on a wrong schema)."""
    if data.get("schema") != SCHEMA:
        raise ValueError(f"not a {SCHEMA} document (schema={data.get('schema')!r})")
    docs = tuple(
        Document(
            **{
                **{k: v for k, v in d.items() if k not in ("boilerplate", "sentences")},
                "boilerplate": tuple(
                    Boilerplate(_span(b["span"]), b["reason"]) for b in d["boilerplate"]
                ),
                "sentences": tuple(_span(s) for s in d["sentences"]),
            }
        )
        for d in data["documents"]
    )
    matches = tuple(
        Match(
            id=m["id"],
            a=_span(m["a"]),
            b=_span(m["b"]),
            a_sentence=m["a_sentence"],
            b_sentence=m["b_sentence"],
            score=m["score"],
            kind=m["kind"],
            ops=tuple(EditOp(**op) for op in m["ops"]),
        )
        for m in data["matches"]
    )
    threads = tuple(
        Thread(
            id=t["id"],
            label=t["label"],
            members=tuple(
                ThreadMember(x["doc"], x["published"], _span(x["sentence"]), _span(x["passage"]))
                for x in t["members"]
            ),
            matches=tuple(t["matches"]),
            first_published=t.get("first_published"),
            last_published=t.get("last_published"),
        )
        for t in data["threads"]
    )
    divergences = tuple(
        Divergence(
            id=v["id"],
            kind=v["kind"],
            match=v["match"],
            thread=v["thread"],
            a=_fact(v["a"]),
            b=_fact(v["b"]),
            relation=v["relation"],
            explanation=v["explanation"],
            confidence=v["confidence"],
        )
        for v in data["divergences"]
    )
    return Comparison(
        settings=data["settings"],
        documents=docs,
        duplicates=tuple(Duplicate(**d) for d in data["duplicates"]),
        clusters=tuple(Cluster(c["id"], tuple(c["docs"])) for c in data["clusters"]),
        matches=matches,
        threads=threads,
        divergences=divergences,
        schema=data["schema"],
        version=data.get("version", ""),
        warnings=tuple(data.get("warnings", ())),
    )


def loads(text: str) -> Comparison:
    """Parse comparison JSON text."""
    return comparison_from_dict(json.loads(text))


__all__ = [
    "SCHEMA",
    "CHECK_SCHEMA",
    "Boilerplate",
    "Cluster",
    "Comparison",
    "Divergence",
    "Document",
    "Duplicate",
    "EditOp",
    "FactValue",
    "Match",
    "Span",
    "Thread",
    "ThreadMember",
    "comparison_from_dict",
    "dumps",
    "json_bytes",
    "json_chunks",
    "loads",
    "to_jsonable",
]
