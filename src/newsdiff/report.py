"""The HTML report: a Comparison becomes per-page render data, then Jinja2 pages.

Three layers, as in coverage.py's HTML report: ``_Corpus`` works out what the pages need
from the Comparison (article order, novelty, pair overlap, sentence status); the
``*_page`` builders turn that into frozen page dataclasses holding only text, numbers and
relative links; the templates in ``templates/`` (autoescape always on) turn those into
HTML. No HTML is written in Python and article text is never marked safe.

Every page name is derived deterministically (article ids are slugged and hashed), every
list is sorted with a total key, and nothing time-dependent is rendered, so the same
Comparison always gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import jinja2
import numpy as np
from rapidfuzz.distance import Indel

from . import workers as par
from .model import Comparison, Divergence, Document, Match, Span, Thread
from .output import write_file
from .threads import doc_order_key
from .tokens import _WORD as WORD_RE  # `words`' pattern (see boilerplate.py)
from .tokens import normalize, words

if TYPE_CHECKING:
    from markupsafe import Markup  # jinja2's

STATIC_FILES = ("style.css", "report.js")

# Caps that keep every page a reasonable size on large corpora.
INDEX_ARTICLES = 200  # timeline rows on the index; the rest on list pages
INDEX_THREADS = 100
INDEX_PAIRS = 50
INDEX_DIVERGENCES = 100
INDEX_CLUSTERS = 50
CLUSTER_MEMBERS = 20
LIST_PAGE_SIZE = 500
HEATMAP_MAX_DOCS = 60  # above this the index shows only the top-pairs table
HEATMAP_NUMBERS_MAX = 12  # write the percentage inside each cell up to this many articles
MAX_PAIR_PAGES = 500
THREAD_VERSIONS = 200
THREAD_DIVERGENCES = 200  # a thread page lists this many of its divergences at most
PAIR_PASSAGES = 200  # passages listed word by word on a pair page
SENTENCE_LINKS = 8
HEADLINE_THREADS = 3  # threads whose first-to-last evolution is shown on the index
TITLE_WORDS = 12
PALETTE = 8  # highlight colours on pair pages

# Similarity bands of the heatmap: (upper bound, css class, legend label).
HEAT_BANDS = (
    (0.02, "h1", "under 2%"),
    (0.05, "h2", "2–5%"),
    (0.15, "h3", "5–15%"),
    (0.40, "h4", "15–40%"),
    (1.01, "h5", "40% and more"),
)


# ---------------------------------------------------------------- render data (no HTML)


@dataclass(frozen=True)
class Link:
    """A link relative to the page it appears on."""

    href: str
    text: str


@dataclass(frozen=True)
class Chrome:
    """What every page shares: title, path back to the report root, navigation."""

    title: str
    root: str
    nav: tuple[Link, ...]
    version: str


@dataclass(frozen=True)
class DocRef:
    """How an article is named wherever it is mentioned."""

    number: int
    href: str
    title: str
    titled: bool  # False: `title` is the article's first words
    source: str
    date: str


@dataclass(frozen=True)
class Capped:
    """A list cut short: "showing `shown` of `total`", with a link to the whole list."""

    shown: int
    total: int
    more: Link | None


@dataclass(frozen=True)
class DiffPiece:
    """A run of words in a word-level diff or its context.

    ``kind`` is ``equal``, ``ins``, ``del`` or ``ctx`` (sentence text around the passage);
    ``tail`` is the space that follows the run.
    """

    kind: str
    text: str
    tail: str
    divergent: bool = False


@dataclass(frozen=True)
class Piece:
    """A run of article text with one look: css classes, optional link and anchor."""

    text: str
    css: str = ""
    href: str | None = None
    anchor: str | None = None
    title: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class Note:
    """A visible tag after a sentence: a label, links, and an optional explanation."""

    kind: str
    label: str
    links: tuple[Link, ...] = ()
    text: str = ""
    more: int = 0


@dataclass(frozen=True)
class Segment:
    """A sentence, a piece of boilerplate, or the text between them."""

    kind: str  # "gap", "boilerplate" or "sentence"
    status: str  # "", "new", "repeated", "divergent", "boilerplate"
    anchor: str | None
    title: str | None
    pieces: tuple[Piece, ...]
    notes: tuple[Note, ...] = ()


@dataclass(frozen=True)
class DivergenceRow:
    """One divergence, told so a reader can judge it in seconds."""

    anchor: str
    kind: str
    relation: str
    a_value: str
    a_doc: DocRef
    a_href: str
    b_value: str
    b_doc: DocRef
    b_href: str
    explanation: str
    confidence: str
    thread: Link | None


@dataclass(frozen=True)
class TimelineRow:
    """One article on the index timeline."""

    doc: DocRef
    year: str
    first_of_year: bool
    words: int
    new_pct: int
    recycled_pct: int
    new_words: int
    recycled_words: int
    threads: int
    cluster: Link | None


@dataclass(frozen=True)
class Figure:
    """A corpus figure: label and value."""

    label: str
    value: str


@dataclass(frozen=True)
class ClusterRow:
    """A group of near-duplicate articles."""

    id: str
    anchor: str
    members: tuple[DocRef, ...]
    more: int
    pairs: tuple[Link, ...]


@dataclass(frozen=True)
class ThreadRow:
    """A recurring statement in the ranked list."""

    rank: int
    href: str
    id: str
    label: str
    articles: int
    years: str
    span: str
    versions: int
    kinds: str
    divergences: int


@dataclass(frozen=True)
class PairRow:
    """Two articles that share text."""

    a: DocRef
    b: DocRef
    similarity_pct: int
    a_pct: int
    b_pct: int
    passages: int
    kind: str
    href: str | None


@dataclass(frozen=True)
class HeatCell:
    """One cell of the similarity heatmap (SVG coordinates)."""

    x: int
    y: int
    band: str
    text: str
    title: str
    href: str | None


@dataclass(frozen=True)
class HeatLabel:
    """An axis label of the heatmap."""

    x: int
    y: int
    text: str
    title: str
    href: str


@dataclass(frozen=True)
class LegendItem:
    """One colour of a legend and what it means."""

    css: str
    label: str


@dataclass(frozen=True)
class Heatmap:
    """The document-by-document similarity grid, drawn as inline SVG."""

    width: int
    height: int
    cell: int
    ox: int
    oy: int
    grid: int
    rows: tuple[HeatLabel, ...]
    cols: tuple[HeatLabel, ...]
    cells: tuple[HeatCell, ...]
    diagonal: tuple[HeatCell, ...]
    legend: tuple[LegendItem, ...]
    numbers: bool


@dataclass(frozen=True)
class Evolution:
    """A recurring statement told as first version → latest version, for the index."""

    thread: Link
    first: DocRef
    last: DocRef
    first_text: str
    last_text: str
    articles: int
    diff: tuple[DiffPiece, ...]


@dataclass(frozen=True)
class IndexPage:
    """The corpus at a glance."""

    chrome: Chrome
    summary: tuple[str, ...]
    figures: tuple[Figure, ...]
    timeline: tuple[TimelineRow, ...]
    timeline_cap: Capped
    evolutions: tuple[Evolution, ...]
    clusters: tuple[ClusterRow, ...]
    clusters_cap: Capped
    heatmap: Heatmap | None
    heatmap_note: str
    pairs: tuple[PairRow, ...]
    pairs_cap: Capped
    threads: tuple[ThreadRow, ...]
    threads_cap: Capped
    divergences: tuple[DivergenceRow, ...]
    divergences_cap: Capped
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Version:
    """One version of a recurring statement on its thread page."""

    number: int
    anchor: str
    doc: DocRef
    href: str
    before: tuple[DiffPiece, ...]
    body: tuple[DiffPiece, ...]  # diff against the previous version (plain for the first)
    after: tuple[DiffPiece, ...]
    vs_first: tuple[DiffPiece, ...]  # diff against the first version (from the third on)
    change: str
    kind: str
    divergences: tuple[DivergenceRow, ...]


@dataclass(frozen=True)
class ThreadPage:
    """Every version of one recurring statement, in date order."""

    chrome: Chrome
    id: str
    label: str
    articles: int
    span: str
    first: DocRef | None
    latest: DocRef | None
    overview: tuple[DiffPiece, ...]  # first version → latest version
    versions: tuple[Version, ...]
    versions_cap: Capped
    divergences: tuple[DivergenceRow, ...]
    divergences_cap: Capped
    prev: Link | None
    next: Link | None


@dataclass(frozen=True)
class ArticlePage:
    """One article's full text with each sentence's status."""

    chrome: Chrome
    doc: DocRef
    path: str
    words: int
    new_pct: int
    recycled_pct: int
    counts: tuple[Figure, ...]
    segments: tuple[Segment, ...]
    threads: tuple[Link, ...]
    pairs: tuple[PairRow, ...]
    divergences: tuple[DivergenceRow, ...]
    boilerplate: tuple[Figure, ...]
    prev: Link | None
    next: Link | None


@dataclass(frozen=True)
class PairPassage:
    """A matched passage of a pair page, with its word-level diff."""

    number: int
    colour: str
    a_href: str
    b_href: str
    kind: str
    score: str
    diff: tuple[DiffPiece, ...]
    thread: Link | None


@dataclass(frozen=True)
class PairPage:
    """Two articles side by side with their shared passages highlighted alike."""

    chrome: Chrome
    a: DocRef
    b: DocRef
    row: PairRow
    duplicate: str
    a_segments: tuple[Piece, ...]
    b_segments: tuple[Piece, ...]
    passages: tuple[PairPassage, ...]
    passages_cap: Capped


@dataclass(frozen=True)
class ListPage:
    """One page of a long list (articles, threads, pairs or divergences)."""

    chrome: Chrome
    kind: str
    heading: str
    pages: tuple[Link, ...]
    current: int
    first_rank: int
    last_rank: int
    total: int
    timeline: tuple[TimelineRow, ...] = ()
    threads: tuple[ThreadRow, ...] = ()
    pairs: tuple[PairRow, ...] = ()
    divergences: tuple[DivergenceRow, ...] = ()


# ---------------------------------------------------------------- names and links


def slug(text: str, limit: int = 40) -> str:
    """A lower-case ASCII slug of `text` (letters, digits and single hyphens)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return cleaned[:limit].strip("-") or "x"


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def article_names(ids: Iterable[str]) -> dict[str, str]:
    """A safe, unique page name (slug + short hash, no folder part) for each article id."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for doc_id in sorted(set(ids)):
        stem = re.sub(r"\.(txt|md|markdown|html?|xhtml)$", "", doc_id, flags=re.IGNORECASE)
        base, digest = slug(stem), _digest(doc_id)
        name = next((f"{base}-{digest[:n]}" for n in (8, 16, 40)
                     if f"{base}-{digest[:n]}" not in used), None)
        k = 2
        while name is None or name in used:
            name = f"{base}-{digest}-{k}"
            k += 1
        used.add(name)
        names[doc_id] = name
    return names


_SAFE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


def thread_names(ids: Sequence[str]) -> list[str]:
    """Page names for threads: the id itself when it is short, lower-case and unique."""
    counts = Counter(ids)
    taken = {i for i in ids if _SAFE_ID.fullmatch(i) and counts[i] == 1}
    names, used = [], set(taken)
    for k, thread_id in enumerate(ids, 1):
        if thread_id in taken:
            names.append(thread_id)
            continue
        name = f"{slug(thread_id, 20)}-{_digest(f'{k}:{thread_id}')[:8]}"
        while name in used:
            name += "x"
        used.add(name)
        names.append(name)
    return names


def rel(here: str, target: str) -> str:
    """`target` (a path from the report root, or a bare #fragment) relative to `here`."""
    if target.startswith("#"):
        return target
    depth = here.count("/")
    return "../" * depth + target


def _pct(part: float, whole: float) -> int:
    return round(100 * part / whole) if whole else 0


# ---------------------------------------------------------------- word-level diff

_TOKEN = re.compile(r"[^\s\-–—]+[\-–—]?|[\-–—]+")
_EDGE = re.compile(r"^[\W_]+|[\W_]+$")


class _Tok(NamedTuple):
    key: str
    text: str
    start: int  # offsets in the document
    end: int
    space: bool  # whitespace follows in the source


@lru_cache(maxsize=200_000)
def _tok_key(raw: str) -> str:
    norm = normalize(raw)
    return _EDGE.sub("", norm) or norm


@lru_cache(maxsize=4096)
def _tokens(text: str, start: int, end: int) -> list[_Tok]:
    """The tokens of ``text[start:end]`` (not to be changed: kept for the next caller; a
    thread page diffs each version with the one before and with the first)."""
    out = []
    new, n = tuple.__new__, len(text)  # _Tok(...) costs twice as much per token
    for m in _TOKEN.finditer(text, start, end):
        raw = m.group()
        s, e = m.span()
        out.append(new(_Tok, (_tok_key(raw), raw, s, e, e < n and text[e].isspace())))
    return out


def _marked(tok: _Tok, marks: Sequence[tuple[int, int]]) -> bool:
    return any(s < tok.end and tok.start < e for s, e in marks)


def _marks_within(marks: Sequence[tuple[int, int]], start: int, end: int
                  ) -> list[tuple[int, int]]:
    """Those of `marks` (a document's) that overlap ``[start, end)``: usually none, and a
    token is then tested against nothing."""
    return [(s, e) for s, e in marks if s < end and start < e]


def _merge(items: Sequence[tuple[str, _Tok, bool]]) -> tuple[DiffPiece, ...]:
    """Join consecutive tokens of the same kind (and mark) into pieces."""
    pieces: list[DiffPiece] = []
    run: list[_Tok] = []
    run_key: tuple[str, bool] | None = None

    def flush() -> None:
        if run and run_key is not None:
            text = "".join(t.text + (" " if t.space else "") for t in run[:-1]) + run[-1].text
            pieces.append(DiffPiece(run_key[0], text, " " if run[-1].space else "",
                                    run_key[1]))

    for kind, tok, mark in items:
        if (kind, mark) != run_key:
            flush()
            run, run_key = [], (kind, mark)
        run.append(tok)
    flush()
    for k in range(len(pieces) - 1):
        p = pieces[k]
        if p.kind == "del" and pieces[k + 1].kind == "ins":
            pieces[k] = DiffPiece(p.kind, p.text, " ", p.divergent)
    if pieces:
        pieces[-1] = DiffPiece(pieces[-1].kind, pieces[-1].text, "", pieces[-1].divergent)
    return tuple(pieces)


def with_tail(pieces: tuple[DiffPiece, ...], tail: str) -> tuple[DiffPiece, ...]:
    """The same pieces with `tail` after the last one."""
    if not pieces:
        return pieces
    last = pieces[-1]
    return pieces[:-1] + (DiffPiece(last.kind, last.text, tail, last.divergent),)


def word_diff(a_text: str, b_text: str, *, a_range: tuple[int, int] | None = None,
              b_range: tuple[int, int] | None = None,
              a_marks: Sequence[tuple[int, int]] = (),
              b_marks: Sequence[tuple[int, int]] = ()) -> tuple[DiffPiece, ...]:
    """Word-level diff of ``a_text[a_range]`` into ``b_text[b_range]``.

    Words compare case-insensitively without surrounding punctuation, so a moved comma or
    a curly quote is not a change. Deleted words come before inserted ones. `a_marks`/
    `b_marks` are character ranges (divergent facts) flagged on the pieces they touch.
    """
    a_range, b_range = a_range or (0, len(a_text)), b_range or (0, len(b_text))
    ta, tb = _tokens(a_text, *a_range), _tokens(b_text, *b_range)
    a_marks, b_marks = _marks_within(a_marks, *a_range), _marks_within(b_marks, *b_range)
    items: list[tuple[str, _Tok, bool]] = []
    dels: list[_Tok] = []
    ins: list[_Tok] = []

    def flush() -> None:
        items.extend(("del", t, _marked(t, a_marks)) for t in dels)
        items.extend(("ins", t, _marked(t, b_marks)) for t in ins)
        dels.clear()
        ins.clear()

    for op in Indel.opcodes([t.key for t in ta], [t.key for t in tb]):
        if op.tag == "equal":
            flush()
            items.extend(("equal", t, _marked(t, b_marks))
                         for t in tb[op.dest_start:op.dest_end])
        else:
            dels.extend(ta[op.src_start:op.src_end])
            ins.extend(tb[op.dest_start:op.dest_end])
    flush()
    return _merge(items)


def plain_pieces(text: str, start: int, end: int, kind: str = "ctx",
                 marks: Sequence[tuple[int, int]] = ()) -> tuple[DiffPiece, ...]:
    """``text[start:end]`` as diff pieces of one kind, divergent facts flagged."""
    marks = _marks_within(marks, start, end)
    return _merge([(kind, t, _marked(t, marks)) for t in _tokens(text, start, end)])


def ops_diff(match: Match) -> tuple[DiffPiece, ...]:
    """The aligner's own word-level edit operations of a match, as diff pieces."""
    pieces: list[DiffPiece] = []
    for op in match.ops:
        if op.op in ("delete", "replace") and op.a_text.strip():
            pieces.append(DiffPiece("del", op.a_text.strip(), " "))
        if op.op in ("insert", "replace") and op.b_text.strip():
            pieces.append(DiffPiece("ins", op.b_text.strip(), " "))
        if op.op == "equal" and op.b_text.strip():
            pieces.append(DiffPiece("equal", op.b_text.strip(), " "))
    if not pieces:
        return word_diff(match.a.text, match.b.text)
    pieces[-1] = DiffPiece(pieces[-1].kind, pieces[-1].text, "")
    return tuple(pieces)


def change_summary(diff: Sequence[DiffPiece]) -> str:
    """"+3 words, −1 word" for a diff, or "unchanged"."""
    added = sum(len(p.text.split()) for p in diff if p.kind == "ins")
    removed = sum(len(p.text.split()) for p in diff if p.kind == "del")
    if not added and not removed:
        return "unchanged wording"
    parts = []
    if added:
        parts.append(f"+{added} word{'s' * (added != 1)}")
    if removed:
        parts.append(f"−{removed} word{'s' * (removed != 1)}")
    return ", ".join(parts)


# ---------------------------------------------------------------- analysis for the pages


class _Pair(NamedTuple):
    """Two articles that share text (268,000 pairs at 10,000 benchmark articles)."""

    a: str  # earlier article
    b: str
    a_words: int  # words of a inside passages shared with b
    b_words: int
    matches: tuple[int, ...]  # indexes into comparison.matches
    jaccard: float | None
    containment: float | None
    kind: str  # duplicate kind or "overlap"
    similarity: float


def _runs(keys: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of equal values in `keys`."""
    if not len(keys):
        return []
    return list(pairwise(np.flatnonzero(np.r_[True, keys[1:] != keys[:-1], True]).tolist()))


def _merge_intervals(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


class _Corpus:
    """What the pages need, worked out once from a Comparison."""

    def __init__(self, comparison: Comparison) -> None:
        self.c = comparison
        self.docs = sorted(comparison.documents, key=doc_order_key)
        self.by_id = {d.id: d for d in self.docs}
        self.number = {d.id: k for k, d in enumerate(self.docs, 1)}
        self.order = {d.id: k for k, d in enumerate(self.docs)}
        self.pages = {i: f"articles/{n}.html" for i, n in article_names(self.by_id).items()}
        names = thread_names([t.id for t in comparison.threads])
        self.threads = list(comparison.threads)
        self.thread_page = {k: f"threads/{n}.html" for k, n in enumerate(names)}
        self.thread_index = {t.id: k for k, t in enumerate(self.threads)}
        self.match_index = {m.id: k for k, m in enumerate(comparison.matches)}
        self.sentence_index = {
            (d.id, s.start): k for d in self.docs for k, s in enumerate(d.sentences)
        }
        # Where each body word starts (for coverage counts), as `words` would find them but
        # without making the words, and kept as one sorted array of (position on the
        # timeline << 32 | offset) codes: counted for all passages at once, not one by one.
        found = [np.fromiter((m.start() for s in d.sentences
                              for m in WORD_RE.finditer(d.text, s.start, s.end)),
                             dtype=np.int64) for d in self.docs]
        for k, starts in enumerate(found):
            starts.sort()
            starts |= k << 32
        self.word_codes = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
        self.n_words = {d.id: len(starts) for d, starts in zip(self.docs, found, strict=True)}
        del found
        self.valid_matches = [
            k for k, m in enumerate(comparison.matches)
            if m.a.doc in self.by_id and m.b.doc in self.by_id and m.a.doc != m.b.doc
        ]
        self.match_thread: dict[str, int] = {}
        for t, thread in enumerate(self.threads):
            for mid in thread.matches:
                self.match_thread.setdefault(mid, t)
        self._sentence_matches()
        self._match_table()
        self._recycled()
        self._threads_of_sentences()
        self._divergences()
        self._pairs()

    # -- basic facts

    def words_in(self, doc_id: str, spans: Iterable[tuple[int, int]]) -> int:
        """How many body words of `doc_id` start inside the (merged) spans."""
        merged = np.array(_merge_intervals(spans), dtype=np.int64).reshape(-1, 2)
        return int(self.words_between(np.full(len(merged), self.order[doc_id]),
                                      merged[:, 0], merged[:, 1]).sum())

    def words_between(self, positions: np.ndarray, starts: np.ndarray, ends: np.ndarray
                      ) -> np.ndarray:
        """How many body words start in ``[starts, ends)`` of the articles at these
        timeline positions, span by span."""
        base = positions.astype(np.int64) << 32
        return (np.searchsorted(self.word_codes, base | ends)
                - np.searchsorted(self.word_codes, base | starts))

    def body_words(self, doc_id: str) -> int:
        """The article's body word count."""
        return self.n_words[doc_id]

    def earlier(self, a: str, b: str) -> bool:
        """True when article `a` comes before `b` on the timeline."""
        return self.order[a] < self.order[b]

    def sentence_of(self, doc_id: str, span: Span) -> int | None:
        """Index of the sentence of `doc_id` that contains `span` (None if none)."""
        doc = self.by_id.get(doc_id)
        if doc is None:
            return None
        cache = self.__dict__.setdefault("_sentence_starts", {})
        if doc_id not in cache:
            cache[doc_id] = [s.start for s in doc.sentences]
        k = bisect_left(cache[doc_id], span.start + 1) - 1
        if 0 <= k < len(doc.sentences) and doc.sentences[k].end >= span.start:
            return k
        return None

    def sentence_href(self, doc_id: str, sentence: int | None) -> str:
        """Root-relative link to an article, at a sentence when known."""
        page = self.pages[doc_id]
        return page if sentence is None else f"{page}#s{sentence + 1}"

    def display_title(self, doc: Document) -> tuple[str, bool]:
        """The article's title, or its first words when it has none."""
        cache = self.__dict__.setdefault("_titles", {})
        if doc.id not in cache:
            cache[doc.id] = self._display_title(doc)
        return cache[doc.id]

    def _display_title(self, doc: Document) -> tuple[str, bool]:
        if doc.title and doc.title.strip():
            return doc.title.strip(), True
        for s in doc.sentences:
            ws = words(doc.text, s.start, s.end)
            if ws:
                cut = ws[min(TITLE_WORDS, len(ws)) - 1].end
                text = " ".join(doc.text[s.start:cut].split())
                return text + (" …" if len(ws) > TITLE_WORDS else ""), False
        return doc.path.rsplit("/", 1)[-1] or doc.id, False

    def ref(self, doc_id: str, here: str) -> DocRef:
        """How article `doc_id` is named on page `here` (made once per folder depth: the
        pairs tables name the same articles hundreds of thousands of times)."""
        cache = self.__dict__.setdefault("_refs", {})
        key = (doc_id, here.count("/"))
        if key not in cache:
            doc = self.by_id[doc_id]
            title, titled = self.display_title(doc)
            cache[key] = DocRef(self.number[doc_id], rel(here, self.pages[doc_id]), title,
                                titled, doc.source or "unknown source",
                                doc.published or "undated")
        return cache[key]

    # -- derived tables

    def _sentence_matches(self) -> None:
        self.sent_matches: dict[tuple[str, int], list[int]] = defaultdict(list)
        for k in self.valid_matches:
            m = self.c.matches[k]
            self.sent_matches[(m.a.doc, m.a_sentence)].append(k)
            self.sent_matches[(m.b.doc, m.b_sentence)].append(k)

    def other_side(self, k: int, doc_id: str, sentence: int) -> tuple[Span, int]:
        """The span and sentence on the far side of match `k` from (doc, sentence)."""
        m = self.c.matches[k]
        if m.a.doc == doc_id and m.a_sentence == sentence:
            return m.b, m.b_sentence
        return m.a, m.a_sentence

    def own_side(self, k: int, doc_id: str) -> Span:
        """The span of match `k` in article `doc_id`."""
        m = self.c.matches[k]
        return m.a if m.a.doc == doc_id else m.b

    def _match_table(self) -> None:
        """Each valid match as numbers, its earlier article first: (timeline position,
        start, end) of its passage in the earlier article, then in the later one."""
        order, matches = self.order, self.c.matches
        table = np.array([(order[m.a.doc], m.a.start, m.a.end, order[m.b.doc], m.b.start,
                           m.b.end) for m in map(matches.__getitem__, self.valid_matches)],
                         dtype=np.int64).reshape(-1, 6)
        later_first = table[:, 0] > table[:, 3]
        table[later_first] = table[later_first][:, [3, 4, 5, 0, 1, 2]]
        self.match_table = table

    def _recycled(self) -> None:
        # each article's passages said in an earlier one, merged where they overlap or
        # touch (`_merge_intervals`), for all articles at once: their (position << 32 |
        # offset) codes sort article by article, so no merged run crosses two articles
        later = self.match_table[:, 3] << 32
        starts, ends = later | self.match_table[:, 4], later | self.match_table[:, 5]
        by_start = np.lexsort((ends, starts))
        starts, ends = starts[by_start], ends[by_start]
        opens = np.ones(len(starts), dtype=bool)
        opens[1:] = starts[1:] > np.maximum.accumulate(ends)[:-1]
        at = np.flatnonzero(opens)
        lo, hi = starts[at], np.maximum.reduceat(ends, at) if len(at) else ends
        positions = lo >> 32
        words = np.zeros(len(self.docs), dtype=np.int64)
        np.add.at(words, positions, np.searchsorted(self.word_codes, hi)
                  - np.searchsorted(self.word_codes, lo))
        self.recycled_words = dict(zip(self.order, words.tolist(), strict=True))
        offset = (1 << 32) - 1
        spans = list(zip((lo & offset).tolist(), (hi & offset).tolist(), strict=True))
        self.recycled_spans = {self.docs[int(positions[i])].id: spans[i:j]
                               for i, j in _runs(positions)}

    def _threads_of_sentences(self) -> None:
        self.sent_threads: dict[tuple[str, int], list[int]] = defaultdict(list)
        self.doc_threads: dict[str, list[int]] = defaultdict(list)
        for t, thread in enumerate(self.threads):
            for member in thread.members:
                if member.doc not in self.by_id:
                    continue
                s = self.sentence_index.get((member.doc, member.sentence.start))
                if s is not None and t not in self.sent_threads[(member.doc, s)]:
                    self.sent_threads[(member.doc, s)].append(t)
                if t not in self.doc_threads[member.doc]:
                    self.doc_threads[member.doc].append(t)

    def _divergences(self) -> None:
        self.divs = [d for d in self.c.divergences
                     if d.a.span.doc in self.by_id and d.b.span.doc in self.by_id]
        self.divs_of: dict[str, list] = {}  # document id → its divergences
        for d in self.divs:
            for doc_id in dict.fromkeys((d.a.span.doc, d.b.span.doc)):
                self.divs_of.setdefault(doc_id, []).append(d)
        self.div_anchor = {id(d): f"d{k}" for k, d in enumerate(self.divs, 1)}
        self.div_marks: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.sent_divs: dict[tuple[str, int], list[Divergence]] = defaultdict(list)
        for d in self.divs:
            for fact in (d.a, d.b):
                self.div_marks[fact.span.doc].append((fact.span.start, fact.span.end))
                s = self.sentence_of(fact.span.doc, fact.span)
                if s is not None and d not in self.sent_divs[(fact.span.doc, s)]:
                    self.sent_divs[(fact.span.doc, s)].append(d)
        self.div_thread = {id(d): self._thread_of(d) for d in self.divs}
        self.thread_divs: dict[int, list[Divergence]] = defaultdict(list)
        for d in self.divs:
            t = self.div_thread[id(d)]
            if t is not None:
                self.thread_divs[t].append(d)

    def _thread_of(self, d: Divergence) -> int | None:
        if d.thread is not None and d.thread in self.thread_index:
            return self.thread_index[d.thread]
        return self.match_thread.get(d.match)

    def divergence_thread(self, d: Divergence) -> int | None:
        """The thread index a divergence belongs to (by id, else by its match)."""
        return self.div_thread[id(d)]

    def _pairs(self) -> None:
        table, n = self.match_table, max(1, len(self.docs))
        ids = [d.id for d in self.docs]
        body = [self.n_words[i] for i in ids]
        # the matches of each pair of articles, in the order of `valid_matches`
        codes = table[:, 0] * n + table[:, 3]
        by_pair = np.argsort(codes, kind="stable")
        found, first, size = np.unique(codes[by_pair], return_index=True, return_counts=True)
        groups = dict(zip(found.tolist(), zip(first.tolist(), size.tolist(), strict=True),
                          strict=True))
        ks = np.asarray(self.valid_matches, dtype=np.int64)[by_pair].tolist()
        # most pairs share one passage: its words, counted for all at once
        table = table[by_pair]
        a_words = self.words_between(table[:, 0], table[:, 1], table[:, 2]).tolist()
        b_words = self.words_between(table[:, 3], table[:, 4], table[:, 5]).tolist()
        dups = {}
        for dup in self.c.duplicates:
            if dup.a in self.by_id and dup.b in self.by_id and dup.a != dup.b:
                x, y = sorted((self.order[dup.a], self.order[dup.b]))
                dups[x * n + y] = dup
        pairs, xs, ys = [], [], []
        for code in sorted(groups.keys() | dups.keys()):
            x, y = divmod(code, n)
            xs.append(x)
            ys.append(y)
            a, b = ids[x], ids[y]
            at, count = groups.get(code, (0, 0))
            if count == 1:
                aw, bw = a_words[at], b_words[at]
            else:  # several passages, merged (or none: near-duplicates alone)
                aw = self.words_in(a, (self._span_in(k, a) for k in ks[at:at + count]))
                bw = self.words_in(b, (self._span_in(k, b) for k in ks[at:at + count]))
            total = body[x] + body[y]
            sim = (aw + bw) / total if total else 0.0
            dup = dups.get(code)
            if dup is not None:
                sim = max(sim, dup.jaccard)
            pairs.append(_Pair(a, b, aw, bw, tuple(ks[at:at + count]),
                               dup.jaccard if dup else None, dup.containment if dup else None,
                               dup.kind if dup else "overlap", min(sim, 1.0)))
        # most similar first, then by the articles' places on the timeline
        rank = np.lexsort((ys, xs, -np.array([p.similarity for p in pairs], dtype=float)))
        self.pairs = pairs = [pairs[i] for i in rank.tolist()]
        # document id → its pairs in that order, for article pages
        held_by = np.concatenate((np.asarray(xs, dtype=np.int64)[rank],
                                  np.asarray(ys, dtype=np.int64)[rank]))
        which = np.concatenate((np.arange(len(pairs)), np.arange(len(pairs))))
        by_doc = np.lexsort((which, held_by))
        held_by, which = held_by[by_doc], which[by_doc].tolist()
        self.pairs_of: dict[str, list[_Pair]] = {
            ids[int(held_by[i])]: [pairs[k] for k in which[i:j]] for i, j in _runs(held_by)}
        self.pair_page = {
            (p.a, p.b): f"pairs/{self.pages[p.a][9:-5]}--{self.pages[p.b][9:-5]}.html"
            for p in pairs[:MAX_PAIR_PAGES]
        }

    def _span_in(self, k: int, doc_id: str) -> tuple[int, int]:
        span = self.own_side(k, doc_id)
        return span.start, span.end

    def pair_key(self, x: str, y: str) -> tuple[str, str]:
        """The (earlier, later) key of two articles."""
        return (x, y) if self.earlier(x, y) else (y, x)


# ---------------------------------------------------------------- page builders


def _chrome(corpus: _Corpus, here: str, title: str) -> Chrome:
    nav = (
        Link(rel(here, "index.html"), "Overview"),
        Link(rel(here, "index.html#timeline"), "Articles"),
        Link(rel(here, "index.html#statements"), "Recurring statements"),
        Link(rel(here, "index.html#pairs"), "Overlapping pairs"),
        Link(rel(here, "index.html#divergences"), "Divergences"),
    )
    return Chrome(title, rel(here, ""), nav, corpus.c.version or "")


def _divergence_row(corpus: _Corpus, d: Divergence, here: str) -> DivergenceRow:
    t = corpus.divergence_thread(d)
    return DivergenceRow(
        anchor=corpus.div_anchor[id(d)], kind=d.kind, relation=d.relation,
        a_value=d.a.value, a_doc=corpus.ref(d.a.span.doc, here),
        a_href=rel(here, corpus.sentence_href(d.a.span.doc,
                                             corpus.sentence_of(d.a.span.doc, d.a.span))),
        b_value=d.b.value, b_doc=corpus.ref(d.b.span.doc, here),
        b_href=rel(here, corpus.sentence_href(d.b.span.doc,
                                             corpus.sentence_of(d.b.span.doc, d.b.span))),
        explanation=d.explanation, confidence=f"{round(100 * d.confidence)}%",
        thread=(Link(rel(here, corpus.thread_page[t]), corpus.threads[t].id)
                if t is not None else None),
    )


def _timeline_rows(corpus: _Corpus, docs: Sequence[Document], here: str
                   ) -> tuple[TimelineRow, ...]:
    cluster_of = {}
    for c in corpus.c.clusters:
        for doc_id in c.docs:
            cluster_of.setdefault(doc_id, c.id)
    rows, last_year = [], None
    for d in docs:
        total = corpus.body_words(d.id)
        recycled = corpus.recycled_words[d.id]
        year = (d.published or "")[:4] or "undated"
        cid = cluster_of.get(d.id)
        rows.append(TimelineRow(
            doc=corpus.ref(d.id, here), year=year, first_of_year=year != last_year,
            words=d.word_count or total, new_pct=100 - _pct(recycled, total) if total else 0,
            recycled_pct=_pct(recycled, total), new_words=total - recycled,
            recycled_words=recycled, threads=len(corpus.doc_threads.get(d.id, ())),
            cluster=Link(rel(here, f"index.html#cluster-{slug(cid)}"), cid) if cid else None,
        ))
        last_year = year
    return tuple(rows)


def _thread_row(corpus: _Corpus, rank: int, t: int, here: str) -> ThreadRow:
    thread = corpus.threads[t]
    docs = {m.doc for m in thread.members}
    kinds = Counter(corpus.c.matches[corpus.match_index[m]].kind
                    for m in thread.matches if m in corpus.match_index)
    first, last = thread.first_published, thread.last_published
    years = (first[:4] if first[:4] == last[:4] else f"{first[:4]}–{last[:4]}") \
        if first and last else "—"
    span = (first if first == last else f"{first} – {last}") if first and last else "undated"
    return ThreadRow(
        rank=rank, href=rel(here, corpus.thread_page[t]), id=thread.id, label=thread.label,
        articles=len(docs), years=years, span=span, versions=len(thread.members),
        kinds=", ".join(f"{k} ×{n}" for k, n in sorted(kinds.items())),
        divergences=len(corpus.thread_divs.get(t, ())),
    )


def _ranked_threads(corpus: _Corpus) -> list[int]:
    def key(t: int) -> tuple[int, int, int]:
        thread = corpus.threads[t]
        first, last = thread.first_published, thread.last_published
        years = int(last[:4]) - int(first[:4]) if first and last else -1
        return (-len({m.doc for m in thread.members}), -years, t)

    return sorted(range(len(corpus.threads)), key=key)


def _pair_row(corpus: _Corpus, p: _Pair, here: str) -> PairRow:
    page = corpus.pair_page.get((p.a, p.b))
    kind = f"{p.kind} (Jaccard {p.jaccard:.2f})" if p.jaccard is not None else "shared passages"
    return PairRow(
        a=corpus.ref(p.a, here), b=corpus.ref(p.b, here),
        similarity_pct=_pct(p.similarity, 1), a_pct=_pct(p.a_words, corpus.body_words(p.a)),
        b_pct=_pct(p.b_words, corpus.body_words(p.b)), passages=len(p.matches), kind=kind,
        href=rel(here, page) if page else None,
    )


def _capped(shown: int, total: int, here: str, target: str | None) -> Capped:
    more = Link(rel(here, target), f"all {total:,}") if target and shown < total else None
    return Capped(shown, total, more)


def _heatmap(corpus: _Corpus, here: str) -> Heatmap | None:
    n = len(corpus.docs)
    if n < 2 or n > HEATMAP_MAX_DOCS:
        return None
    cell = 56 if n <= HEATMAP_NUMBERS_MAX else max(10, 600 // n)
    ox, oy = 110, 28  # room for the row labels ("#12 2016-11-19") and column labels
    grid = cell * n
    rows, cols, cells, diagonal = [], [], [], []
    for i, d in enumerate(corpus.docs):
        ref = corpus.ref(d.id, here)
        tip = f"#{ref.number} {ref.date} {ref.source}: {ref.title}"
        rows.append(HeatLabel(ox - 6, oy + i * cell + cell // 2 + 4,
                              f"#{ref.number} {ref.date}", tip, ref.href))
        cols.append(HeatLabel(ox + i * cell + cell // 2, oy - 8, f"#{ref.number}",
                              tip, ref.href))
        diagonal.append(HeatCell(ox + i * cell, oy + i * cell, "diag", "",
                                 f"#{ref.number} itself", None))
    for p in corpus.pairs:
        if p.similarity <= 0:
            continue
        i, j = corpus.order[p.a], corpus.order[p.b]
        band = next(css for bound, css, _ in HEAT_BANDS if p.similarity < bound)
        page = corpus.pair_page.get((p.a, p.b))
        pct = _pct(p.similarity, 1)
        label = f"{pct}%" if pct else "<1%"
        tip = (f"#{i + 1} and #{j + 1}: {label} of their words in shared passages"
               + (f"; {p.kind}, Jaccard {p.jaccard:.2f}" if p.jaccard is not None else ""))
        # Both triangles when the numbers are written in; else one, to keep the page small.
        for x, y in ((i, j), (j, i)) if n <= HEATMAP_NUMBERS_MAX else ((i, j),):
            cells.append(HeatCell(ox + x * cell, oy + y * cell, band,
                                  label if n <= HEATMAP_NUMBERS_MAX else "", tip,
                                  rel(here, page) if page else None))
    cells.sort(key=lambda c: (c.y, c.x))
    legend = tuple(LegendItem(css, label) for _, css, label in HEAT_BANDS)
    return Heatmap(ox + grid + 10, oy + grid + 10, cell, ox, oy, grid, tuple(rows),
                   tuple(cols), tuple(cells), tuple(diagonal), legend,
                   n <= HEATMAP_NUMBERS_MAX)


def _evolutions(corpus: _Corpus, ranked: Sequence[int], here: str) -> tuple[Evolution, ...]:
    out = []
    for t in ranked:
        if len(out) >= HEADLINE_THREADS:
            break
        thread = corpus.threads[t]
        members = _members(corpus, thread)
        if len({m.doc for m in members}) < 2:
            continue
        first, last = members[0], members[-1]
        fd, ld = corpus.by_id[first.doc], corpus.by_id[last.doc]
        diff = word_diff(fd.text, ld.text,
                         a_range=(first.passage.start, first.passage.end),
                         b_range=(last.passage.start, last.passage.end),
                         a_marks=corpus.div_marks.get(first.doc, ()),
                         b_marks=corpus.div_marks.get(last.doc, ()))
        out.append(Evolution(Link(rel(here, corpus.thread_page[t]), thread.label),
                             corpus.ref(first.doc, here), corpus.ref(last.doc, here),
                             " ".join(first.passage.text.split()),
                             " ".join(last.passage.text.split()),
                             len({m.doc for m in members}), diff))
    return tuple(out)


def _summary(corpus: _Corpus, ranked: Sequence[int]) -> tuple[str, ...]:
    docs = corpus.docs
    c = corpus.c
    lines = []
    sources = sorted({d.source for d in docs if d.source})
    dates = sorted(d.published for d in docs if d.published)
    line = f"{len(docs)} article{'s' * (len(docs) != 1)}"
    if sources:
        line += f" from {len(sources)} source{'s' * (len(sources) != 1)}"
    if dates:
        line += f", published {dates[0]} to {dates[-1]}" if dates[0] != dates[-1] else \
            f", published {dates[0]}"
    lines.append(line + ".")
    if ranked:
        top = corpus.threads[ranked[0]]
        n_docs = len({m.doc for m in top.members})
        span = (f" from {top.first_published[:4]} to {top.last_published[:4]}"
                if top.first_published and top.last_published
                and top.first_published[:4] != top.last_published[:4] else "")
        lines.append(f"{len(corpus.threads)} statement{'s' * (len(corpus.threads) != 1)} "
                     f"recur across articles; the most widespread appears in {n_docs} "
                     f"articles{span}: “{top.label}”")
    else:
        lines.append("No statement recurs across articles.")
    if c.duplicates:
        lines.append(f"{len(c.duplicates)} near-duplicate pair"
                     f"{'s' * (len(c.duplicates) != 1)} in {len(c.clusters)} cluster"
                     f"{'s' * (len(c.clusters) != 1)}.")
    else:
        lines.append("No two articles are near-duplicates.")
    if corpus.divs:
        rel_counts = Counter(d.relation for d in corpus.divs)
        detail = ", ".join(f"{n} {r}{'s' * (n != 1)}" for r, n in sorted(rel_counts.items()))
        lines.append(f"{len(corpus.divs)} divergence{'s' * (len(corpus.divs) != 1)} between "
                     f"aligned statements ({detail}).")
    else:
        lines.append("No divergences found between aligned statements.")
    later = [d for d in docs[1:] if corpus.body_words(d.id)]
    if later:
        most = max(later, key=lambda d: (corpus.recycled_words[d.id] / corpus.body_words(d.id),
                                         -corpus.order[d.id]))
        pct = _pct(corpus.recycled_words[most.id], corpus.body_words(most.id))
        if pct:
            lines.append(f"The most recycled article is #{corpus.number[most.id]} "
                         f"({most.source or 'unknown source'}, {most.published or 'undated'}):"
                         f" {pct}% of its words were said in earlier articles.")
    return tuple(lines)


def index_page(corpus: _Corpus) -> IndexPage:
    """Render data of index.html."""
    here = "index.html"
    c = corpus.c
    ranked = _ranked_threads(corpus)
    total_words = sum(corpus.body_words(d.id) for d in corpus.docs)
    recycled = sum(corpus.recycled_words.values())
    bp_spans = sum(len(d.boilerplate) for d in corpus.docs)
    figures = (
        Figure("articles", f"{len(corpus.docs):,}"),
        Figure("sources", f"{len({d.source for d in corpus.docs if d.source}):,}"),
        Figure("words (body)", f"{total_words:,}"),
        Figure("words new", f"{_pct(total_words - recycled, total_words)}%"),
        Figure("near-duplicate pairs", f"{len(c.duplicates):,}"),
        Figure("recurring passages", f"{len(corpus.valid_matches):,}"),
        Figure("recurring statements", f"{len(corpus.threads):,}"),
        Figure("divergences", f"{len(corpus.divs):,}"),
        Figure("boilerplate spans", f"{bp_spans:,}"),
    )
    clusters = []
    for cl in c.clusters[:INDEX_CLUSTERS]:
        members = [m for m in cl.docs if m in corpus.by_id]
        members.sort(key=corpus.order.__getitem__)
        pair_links = []
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                page = corpus.pair_page.get(corpus.pair_key(members[x], members[y]))
                if page and len(pair_links) < CLUSTER_MEMBERS:
                    pair_links.append(Link(rel(here, page), f"#{corpus.number[members[x]]} ↔ "
                                                            f"#{corpus.number[members[y]]}"))
        clusters.append(ClusterRow(cl.id, f"cluster-{slug(cl.id)}",
                                   tuple(corpus.ref(m, here) for m in members[:CLUSTER_MEMBERS]),
                                   max(0, len(members) - CLUSTER_MEMBERS), tuple(pair_links)))
    heatmap = _heatmap(corpus, here)
    if heatmap is None and len(corpus.docs) > HEATMAP_MAX_DOCS:
        note = (f"The heatmap is drawn for up to {HEATMAP_MAX_DOCS} articles; with "
                f"{len(corpus.docs):,} articles, the table below lists the most similar pairs.")
    elif heatmap is None:
        note = "A heatmap needs at least two articles."
    else:
        note = ""
    many = len(corpus.docs) > INDEX_ARTICLES
    return IndexPage(
        chrome=_chrome(corpus, here, "Overview"),
        summary=_summary(corpus, ranked),
        figures=figures,
        timeline=_timeline_rows(corpus, corpus.docs[:INDEX_ARTICLES], here),
        timeline_cap=_capped(min(len(corpus.docs), INDEX_ARTICLES), len(corpus.docs), here,
                             "lists/articles-1.html" if many else None),
        evolutions=_evolutions(corpus, ranked, here),
        clusters=tuple(clusters),
        clusters_cap=_capped(len(clusters), len(c.clusters), here, None),
        heatmap=heatmap,
        heatmap_note=note,
        pairs=tuple(_pair_row(corpus, p, here) for p in corpus.pairs[:INDEX_PAIRS]),
        pairs_cap=_capped(min(len(corpus.pairs), INDEX_PAIRS), len(corpus.pairs), here,
                          "lists/pairs-1.html" if len(corpus.pairs) > INDEX_PAIRS else None),
        threads=tuple(_thread_row(corpus, r, t, here)
                      for r, t in enumerate(ranked[:INDEX_THREADS], 1)),
        threads_cap=_capped(min(len(ranked), INDEX_THREADS), len(ranked), here,
                            "lists/threads-1.html" if len(ranked) > INDEX_THREADS else None),
        divergences=tuple(_divergence_row(corpus, d, here)
                          for d in corpus.divs[:INDEX_DIVERGENCES]),
        divergences_cap=_capped(min(len(corpus.divs), INDEX_DIVERGENCES), len(corpus.divs),
                                here, "lists/divergences-1.html"
                                if len(corpus.divs) > INDEX_DIVERGENCES else None),
        warnings=tuple(c.warnings),
    )


def _members(corpus: _Corpus, thread: Thread) -> list:
    members = [m for m in thread.members if m.doc in corpus.by_id]
    return sorted(members, key=lambda m: (corpus.order[m.doc], m.sentence.start))


def thread_page(corpus: _Corpus, t: int, ranked: Sequence[int],
                position: dict[int, int] | None = None) -> ThreadPage:
    """Render data of one thread page."""
    here = corpus.thread_page[t]
    thread = corpus.threads[t]
    members = _members(corpus, thread)
    in_thread = {corpus.match_index[mid] for mid in thread.matches if mid in corpus.match_index}
    thread_divs = corpus.thread_divs.get(t, [])
    divs_by_doc: dict[str, list[Divergence]] = {}  # the thread's divergences, by document
    for d in thread_divs:
        for doc_id in dict.fromkeys((d.a.span.doc, d.b.span.doc)):
            divs_by_doc.setdefault(doc_id, []).append(d)
    versions = []
    for n, member in enumerate(members[:THREAD_VERSIONS]):
        doc = corpus.by_id[member.doc]
        marks = corpus.div_marks.get(member.doc, ())
        sent = corpus.sentence_index.get((member.doc, member.sentence.start))
        lo, hi = member.passage.start, member.passage.end
        s_lo, s_hi = min(member.sentence.start, lo), max(member.sentence.end, hi)
        if n == 0:
            body = plain_pieces(doc.text, lo, hi, "equal", marks)
            change = "first version"
        else:
            prev = members[n - 1]
            body = word_diff(corpus.by_id[prev.doc].text, doc.text,
                             a_range=(prev.passage.start, prev.passage.end), b_range=(lo, hi),
                             a_marks=corpus.div_marks.get(prev.doc, ()), b_marks=marks)
            change = change_summary(body)
        vs_first: tuple[DiffPiece, ...] = ()
        if n >= 2:
            first = members[0]
            vs_first = word_diff(corpus.by_id[first.doc].text, doc.text,
                                 a_range=(first.passage.start, first.passage.end),
                                 b_range=(lo, hi),
                                 a_marks=corpus.div_marks.get(first.doc, ()), b_marks=marks)
        own_divs = tuple(
            _divergence_row(corpus, d, here) for d in divs_by_doc.get(member.doc, ())
            if any(f.span.doc == member.doc and s_lo <= f.span.start < s_hi
                   for f in (d.a, d.b))
        )
        gap_before = " " if lo > s_lo and doc.text[lo - 1].isspace() else ""
        gap_after = " " if hi < s_hi and doc.text[hi].isspace() else ""
        versions.append(Version(
            number=n + 1, anchor=f"v{n + 1}", doc=corpus.ref(member.doc, here),
            href=rel(here, corpus.sentence_href(member.doc, sent)),
            before=with_tail(plain_pieces(doc.text, s_lo, lo, "ctx", marks), gap_before),
            body=with_tail(body, gap_after),
            after=plain_pieces(doc.text, hi, s_hi, "ctx", marks),
            vs_first=vs_first, change=change,
            kind=_version_kind(corpus, member.doc, sent, in_thread),
            divergences=own_divs,
        ))
    first_docs = {m.doc for m in members}
    overview: tuple[DiffPiece, ...] = ()
    if len(members) > 1:
        a, b = members[0], members[-1]
        overview = word_diff(corpus.by_id[a.doc].text, corpus.by_id[b.doc].text,
                             a_range=(a.passage.start, a.passage.end),
                             b_range=(b.passage.start, b.passage.end),
                             a_marks=corpus.div_marks.get(a.doc, ()),
                             b_marks=corpus.div_marks.get(b.doc, ()))
    first, last = thread.first_published, thread.last_published
    span = (first if first == last else f"{first} to {last}") if first and last else "undated"
    pos = position[t] if position is not None else list(ranked).index(t)
    prev_t = ranked[pos - 1] if pos > 0 else None
    next_t = ranked[pos + 1] if pos + 1 < len(ranked) else None
    return ThreadPage(
        chrome=_chrome(corpus, here, f"Recurring statement {thread.id}"),
        id=thread.id, label=thread.label, articles=len(first_docs), span=span,
        first=versions[0].doc if versions else None,
        latest=versions[-1].doc if len(versions) > 1 else None,
        overview=overview, versions=tuple(versions),
        versions_cap=_capped(len(versions), len(members), here, None),
        divergences=tuple(_divergence_row(corpus, d, here)
                          for d in thread_divs[:THREAD_DIVERGENCES]),
        divergences_cap=_capped(min(len(thread_divs), THREAD_DIVERGENCES), len(thread_divs),
                                here, None),
        prev=(Link(rel(here, corpus.thread_page[prev_t]), corpus.threads[prev_t].id)
              if prev_t is not None else None),
        next=(Link(rel(here, corpus.thread_page[next_t]), corpus.threads[next_t].id)
              if next_t is not None else None),
    )


def _version_kind(corpus: _Corpus, doc_id: str, sentence: int | None,
                  matches: set[int]) -> str:
    """How this version relates to earlier ones: the kind of its best match to one."""
    if sentence is None:
        return ""
    best: tuple[float, int] | None = None
    for k in corpus.sent_matches.get((doc_id, sentence), ()):
        other, _ = corpus.other_side(k, doc_id, sentence)
        if k in matches and corpus.earlier(other.doc, doc_id):
            cand = (corpus.c.matches[k].score, -k)
            best = cand if best is None or cand > best else best
    return corpus.c.matches[-best[1]].kind if best else ""


def _regions(doc: Document) -> list[tuple[int, int, str, int]]:
    """Partition the text into (start, end, kind, index) for sentences, boilerplate, gaps."""
    marks = [(b.span.start, b.span.end, "boilerplate", k) for k, b in enumerate(doc.boilerplate)]
    marks += [(s.start, s.end, "sentence", k) for k, s in enumerate(doc.sentences)]
    marks.sort(key=lambda r: (r[0], r[2] != "boilerplate", r[3]))
    out, pos = [], 0
    for start, end, kind, k in marks:
        start, end = max(start, pos), min(end, len(doc.text))
        if start >= end:
            continue
        if start > pos:
            out.append((pos, start, "gap", -1))
        out.append((start, end, kind, k))
        pos = end
    if pos < len(doc.text):
        out.append((pos, len(doc.text), "gap", -1))
    return out


class _Layer(NamedTuple):
    """A highlighted range for `_paint`."""

    start: int
    end: int
    css: str
    href: str | None = None
    anchor: str | None = None
    title: str | None = None
    label: str | None = None  # shown before the range (a passage number)


def _paint(text: str, start: int, end: int, layers: Sequence[_Layer]) -> tuple[Piece, ...]:
    """Cut ``text[start:end]`` into pieces; the first layer covering a character decides
    its look. Each anchored layer gets its id (and label) on its first piece."""
    cuts = {start, end}
    for ly in layers:
        if ly.start < end and start < ly.end:
            cuts.update((max(ly.start, start), min(ly.end, end)))
    points = sorted(cuts)
    pieces: list[Piece] = []
    placed: set[str] = set()
    for lo, hi in zip(points, points[1:], strict=False):
        layer = next((ly for ly in layers if ly.start <= lo and hi <= ly.end), None)
        if layer is None:
            piece = Piece(text[lo:hi])
        else:
            first = bool(layer.anchor) and layer.anchor not in placed
            if first:
                placed.add(layer.anchor or "")
            piece = Piece(text[lo:hi], layer.css, layer.href,
                          layer.anchor if first else None, layer.title,
                          layer.label if first else None)
        last = pieces[-1] if pieces else None
        if (last is not None and piece.anchor is None
                and (last.css, last.href, last.title) == (piece.css, piece.href, piece.title)):
            pieces[-1] = Piece(last.text + piece.text, last.css, last.href, last.anchor,
                               last.title, last.label)
        else:
            pieces.append(piece)
    # A layer hidden under earlier ones still needs its anchor, or links to it break.
    for ly in layers:
        if ly.anchor and ly.anchor not in placed and start <= ly.start < end:
            placed.add(ly.anchor)
            pieces.append(Piece("", "anchor", None, ly.anchor, None, ly.label))
    return tuple(pieces)


def article_page(corpus: _Corpus, doc: Document) -> ArticlePage:
    """Render data of one article page."""
    here = corpus.pages[doc.id]
    segments = []
    status_count: Counter[str] = Counter()
    # divergent facts before recycled passages: the first layer covering a character wins
    layers = ([_Layer(s, e, "div", title="divergent fact")
               for s, e in corpus.div_marks.get(doc.id, [])]
              + [_Layer(s, e, "reused", title="said in an earlier article")
                 for s, e in corpus.recycled_spans.get(doc.id, [])])
    for start, end, kind, k in _regions(doc):
        if kind == "gap":
            segments.append(Segment("gap", "", None, None, (Piece(doc.text[start:end]),)))
            continue
        if kind == "boilerplate":
            reason = doc.boilerplate[k].reason
            segments.append(Segment("boilerplate", "boilerplate", None,
                                    f"boilerplate: {reason}",
                                    (Piece(doc.text[start:end]),),
                                    (Note("boilerplate", reason),)))
            status_count["boilerplate"] += 1
            continue
        key = (doc.id, k)
        earlier: dict[str, int] = {}
        later: dict[str, int] = {}
        for m in corpus.sent_matches.get(key, ()):
            span, sent = corpus.other_side(m, doc.id, k)
            bucket = earlier if corpus.earlier(span.doc, doc.id) else later
            bucket[span.doc] = min(bucket.get(span.doc, sent), sent)
        divs = corpus.sent_divs.get(key, [])
        notes = []
        if divs:
            status = "divergent"
        elif earlier:
            status = "repeated"
        else:
            status = "new"
        status_count[status] += 1
        for d in divs:
            other = d.b if d.a.span.doc == doc.id else d.a
            own = d.a if other is d.b else d.b
            notes.append(Note("divergent", f"diverges ({d.kind}): “{own.value}” here, "
                                           f"“{other.value}” in #{corpus.number[other.span.doc]}",
                              (Link(rel(here, corpus.sentence_href(
                                  other.span.doc, corpus.sentence_of(other.span.doc,
                                                                     other.span))),
                                    f"#{corpus.number[other.span.doc]} "
                                    f"{corpus.by_id[other.span.doc].published or 'undated'}"),),
                              d.explanation))
        if earlier:
            first_doc = min(earlier, key=corpus.order.__getitem__)
            src = corpus.by_id[first_doc]
            notes.append(Note("repeated", "repeated from",
                              (Link(rel(here, corpus.sentence_href(first_doc,
                                                                   earlier[first_doc])),
                                    f"#{corpus.number[first_doc]} {src.source or ''} "
                                    f"{src.published or 'undated'}".replace("  ", " ")),),
                              "", max(0, len(earlier) - 1)))
        if later:
            order = sorted(later, key=corpus.order.__getitem__)
            notes.append(Note("later", "said again in",
                              tuple(Link(rel(here, corpus.sentence_href(x, later[x])),
                                         f"#{corpus.number[x]}")
                                    for x in order[:SENTENCE_LINKS]),
                              "", max(0, len(order) - SENTENCE_LINKS)))
        for t in corpus.sent_threads.get(key, ())[:SENTENCE_LINKS]:
            notes.append(Note("thread", "statement",
                              (Link(rel(here, corpus.thread_page[t]), corpus.threads[t].id),)))
        titles = {"new": "new: first seen in this article",
                  "repeated": "repeated: said in an earlier article",
                  "divergent": "divergent: a fact differs from an aligned statement"}
        segments.append(Segment("sentence", status, f"s{k + 1}", titles[status],
                                _paint(doc.text, start, end, [
                                    ly for ly in layers if ly.start < end and start < ly.end]),
                                tuple(notes)))
    total = corpus.body_words(doc.id)
    rec = corpus.recycled_words[doc.id]
    n = corpus.number[doc.id]
    prev_doc = corpus.docs[n - 2] if n > 1 else None
    next_doc = corpus.docs[n] if n < len(corpus.docs) else None
    pairs = corpus.pairs_of.get(doc.id, [])
    bp_reasons = Counter(b.reason for b in doc.boilerplate)
    return ArticlePage(
        chrome=_chrome(corpus, here, corpus.display_title(doc)[0]),
        doc=corpus.ref(doc.id, here), path=doc.path, words=doc.word_count or total,
        new_pct=100 - _pct(rec, total) if total else 0, recycled_pct=_pct(rec, total),
        counts=tuple(Figure(label, str(status_count[key])) for key, label in (
            ("new", "new sentences"), ("repeated", "repeated sentences"),
            ("divergent", "divergent sentences"), ("boilerplate", "boilerplate spans"))),
        segments=tuple(segments),
        threads=tuple(Link(rel(here, corpus.thread_page[t]),
                           f"{corpus.threads[t].id}: {corpus.threads[t].label}")
                      for t in sorted(corpus.doc_threads.get(doc.id, ()))[:50]),
        pairs=tuple(_pair_row(corpus, p, here) for p in pairs[:50]),
        divergences=tuple(_divergence_row(corpus, d, here)
                          for d in corpus.divs_of.get(doc.id, [])[:50]),
        boilerplate=tuple(Figure(r, str(c)) for r, c in sorted(bp_reasons.items())),
        prev=Link(rel(here, corpus.pages[prev_doc.id]), f"#{n - 1}") if prev_doc else None,
        next=Link(rel(here, corpus.pages[next_doc.id]), f"#{n + 1}") if next_doc else None,
    )


def pair_page(corpus: _Corpus, p: _Pair) -> PairPage:
    """Render data of one pair page."""
    here = corpus.pair_page[(p.a, p.b)]
    a_layers, b_layers, passages = [], [], []
    ordered = sorted(p.matches, key=lambda k: (corpus.own_side(k, p.a).start,
                                              corpus.own_side(k, p.b).start, k))
    for n, k in enumerate(ordered, 1):
        m = corpus.c.matches[k]
        colour = f"c{(n - 1) % PALETTE}"
        sa, sb = corpus.own_side(k, p.a), corpus.own_side(k, p.b)
        tip = f"passage {n} ({m.kind}): go to the same passage in the other article"
        a_layers.append(_Layer(sa.start, sa.end, f"hl {colour}", f"#b{n}", f"a{n}", tip,
                               str(n)))
        b_layers.append(_Layer(sb.start, sb.end, f"hl {colour}", f"#a{n}", f"b{n}", tip,
                               str(n)))
        t = corpus.match_thread.get(m.id)
        diff = ops_diff(m) if m.a.doc == p.a else word_diff(sa.text, sb.text)
        passages.append(PairPassage(
            n, colour, f"#a{n}", f"#b{n}", m.kind, f"{m.score:.2f}", diff,
            Link(rel(here, corpus.thread_page[t]), corpus.threads[t].id) if t is not None
            else None))

    def side(doc_id: str, layers: list[_Layer]) -> tuple[Piece, ...]:
        doc = corpus.by_id[doc_id]
        bps = [_Layer(b.span.start, b.span.end, "bp", title=f"boilerplate: {b.reason}")
               for b in doc.boilerplate]
        return _paint(doc.text, 0, len(doc.text), layers + bps)

    dup = ""
    if p.jaccard is not None:
        dup = (f"{p.kind}: Jaccard {p.jaccard:.2f}, containment "
               f"{(p.containment or 0):.2f}")
    title = f"#{corpus.number[p.a]} and #{corpus.number[p.b]} side by side"
    return PairPage(
        chrome=_chrome(corpus, here, title), a=corpus.ref(p.a, here), b=corpus.ref(p.b, here),
        row=_pair_row(corpus, p, here), duplicate=dup,
        a_segments=side(p.a, a_layers), b_segments=side(p.b, b_layers),
        passages=tuple(passages[:PAIR_PASSAGES]),
        passages_cap=_capped(min(len(passages), PAIR_PASSAGES), len(passages), here, None),
    )


LISTS = (("articles", "All articles", INDEX_ARTICLES),
         ("threads", "All recurring statements", INDEX_THREADS),
         ("pairs", "All overlapping pairs", INDEX_PAIRS),
         ("divergences", "All divergences", INDEX_DIVERGENCES))  # (kind, heading, index cap)


def _list_total(corpus: _Corpus, kind: str) -> int:
    return {"articles": len(corpus.docs), "threads": len(corpus.threads),
            "pairs": len(corpus.pairs), "divergences": len(corpus.divs)}[kind]


def _list_jobs(corpus: _Corpus) -> list[tuple[str, int]]:
    """(kind, page number) of every list page: the rows the index has no room for."""
    return [(kind, page) for kind, _, cap in LISTS if _list_total(corpus, kind) > cap
            for page in range(1, -(-_list_total(corpus, kind) // LIST_PAGE_SIZE) + 1)]


def _list_page(corpus: _Corpus, kind: str, page: int, ranked: Sequence[int]) -> ListPage:
    """Page `page` of the list of every article, thread, pair or divergence (`ranked`: the
    threads in index order)."""
    heading = next(h for k, h, _ in LISTS if k == kind)
    total = _list_total(corpus, kind)
    count = -(-total // LIST_PAGE_SIZE)
    here = f"lists/{kind}-{page}.html"
    lo, hi = (page - 1) * LIST_PAGE_SIZE, page * LIST_PAGE_SIZE
    links = tuple(Link(rel(here, f"lists/{kind}-{k}.html"), str(k)) for k in range(1, count + 1))
    rows: dict = {}
    if kind == "articles":
        rows["timeline"] = _timeline_rows(corpus, corpus.docs[lo:hi], here)
    elif kind == "threads":
        rows["threads"] = tuple(_thread_row(corpus, r, t, here)
                                for r, t in enumerate(ranked[lo:hi], lo + 1))
    elif kind == "pairs":
        rows["pairs"] = tuple(_pair_row(corpus, p, here) for p in corpus.pairs[lo:hi])
    else:
        rows["divergences"] = tuple(_divergence_row(corpus, d, here)
                                    for d in corpus.divs[lo:hi])
    return ListPage(_chrome(corpus, here, f"{heading}, page {page} of {count}"), kind,
                    heading, links, page, lo + 1, min(hi, total), total, **rows)


# ---------------------------------------------------------------- templates and files


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("newsdiff", "templates"),
        autoescape=True,  # always: article text, titles and ids are untrusted
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # The templates do not change while a report is written: no stat of each template
        # file for each page (33,000 pages at 10,000 articles).
        auto_reload=False,
    )
    env.globals["doc_short_once"] = _once_per_argument(env, "doc_short")
    return env


def _once_per_argument(env: jinja2.Environment, name: str) -> Callable[..., Markup]:
    """Macro `name` of macros.html, rendered once per distinct (hashable) argument list: for
    a macro whose markup depends on its arguments alone, such as an article's link in the
    pairs tables, which name the same articles hundreds of thousands of times."""

    @lru_cache(maxsize=1 << 16)
    def render(*args: object) -> Markup:
        return getattr(env.get_template("macros.html").module, name)(*args)

    return render


def _static(name: str) -> str:
    return resources.files("newsdiff").joinpath("static", name).read_text(encoding="utf-8")


def _tidy(html: str) -> str:
    """Strip trailing spaces and end with one newline, so output is byte-stable."""
    return "\n".join(line.rstrip() for line in html.splitlines()).strip("\n") + "\n"


def render(comparison: Comparison, workers: int = 1) -> dict[str, str]:
    """Every page of the report, as relative file name → HTML text (or CSS/JS); the
    thread, article and pair pages on `workers` forked processes when there are many."""
    return dict(sorted(_pages(comparison, workers, None)))  # type: ignore[arg-type]


def write_pages(folder: Path, comparison: Comparison, workers: int = 1) -> list[str]:
    """Write every page of the report (`render`'s) under `folder`; return their names.
    The workers write the thread, article and pair pages they render, so that no page
    travels back nor waits in memory (at 10,000 articles: 33,000 pages, 960 MB)."""
    names = []
    for name, html in _pages(comparison, workers, folder):
        if html is not None:
            write_file(folder, name, html)
        names.append(name)
    return sorted(names)


def _pages(comparison: Comparison, workers: int, folder: Path | None
           ) -> Iterator[tuple[str, str | None]]:
    """(file name, content) of every page; None for a page a worker wrote under
    `folder` (when given)."""
    global _RENDER_STATE
    with par.cycles_paused():
        corpus = _Corpus(comparison)
        env = _environment()

        yield "index.html", _tidy(env.get_template("index.html").render(page=index_page(corpus)))
        ranked = _ranked_threads(corpus)
        position = {t: k for k, t in enumerate(ranked)}
        # the list pages (the longest to render) first, so that no worker is left with them
        jobs = ([("list", job) for job in _list_jobs(corpus)]
                + [("thread", t) for t in range(len(corpus.threads))]
                + [("article", k) for k in range(len(corpus.docs))]
                + [("pair", k) for k in range(min(len(corpus.pairs), MAX_PAIR_PAGES))])
        for name in ("thread.html", "article.html", "pair.html", "list.html"):
            env.get_template(name)  # compiled once, before the workers fork
        _RENDER_STATE = (corpus, env, ranked, position, jobs, folder)
        try:
            size = max(RENDER_CHUNK, len(jobs) // (4 * max(1, workers)) + 1)
            parts = par.parallel_map(_render_chunk, par.chunked(len(jobs), size), workers)
        finally:
            _RENDER_STATE = None
        for part in parts:
            yield from part
        for name in STATIC_FILES:
            yield f"static/{name}", _static(name)


_RENDER_STATE: tuple | None = None  # what the forked workers of `render` read
RENDER_CHUNK = 200  # pages a worker renders at a time (at least)


def _render_chunk(indexes: range) -> list[tuple[str, str | None]]:
    corpus, env, ranked, position, jobs, folder = _RENDER_STATE  # type: ignore[misc]
    out: list[tuple[str, str | None]] = []
    for i in indexes:
        kind, k = jobs[i]
        page: object
        if kind == "thread":
            path, page = corpus.thread_page[k], thread_page(corpus, k, ranked, position)
        elif kind == "article":
            doc = corpus.docs[k]
            path, page = corpus.pages[doc.id], article_page(corpus, doc)
        elif kind == "pair":
            p = corpus.pairs[k]
            path, page = corpus.pair_page[(p.a, p.b)], pair_page(corpus, p)
        else:
            what, number = k
            path, page = f"lists/{what}-{number}.html", _list_page(corpus, what, number, ranked)
        html = _tidy(env.get_template(f"{kind}.html").render(page=page))
        if folder is None:
            out.append((path, html))
        else:
            write_file(folder, path, html)
            out.append((path, None))
    return out


__all__ = [
    "STATIC_FILES",
    "article_names",
    "change_summary",
    "plain_pieces",
    "render",
    "write_pages",
    "slug",
    "thread_names",
    "word_diff",
]
