"""The persistent index behind `check` and `add`: building it incrementally from a corpus
folder, and asking it what a new article repeats, adds and contradicts.

The index keeps the same sketches `compare` makes (document MinHash, sentence windows)
and their LSH band keys, so a check proposes candidates exactly as a comparison would,
then confirms them with the same exact Jaccard, containment and alignment.
"""

from __future__ import annotations

from collections import ChainMap, Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import boilerplate as bp
from . import workers
from .align import Keys, align, word_keys
from .compare import (
    Analyzed,
    analyze,
    analyze_map,
    columns_of,
    duplicate_verdicts,
    newsdiff_version,
    segment_article,
    window_keys,
    window_num_perm,
    window_sketcher,
    with_words,
)
from .config import Settings
from .corpus import (
    RawArticle,
    discover,
    display_name,
    load_manifest,
    open_regular,
    read_article,
    read_problem,
)
from .divergence import find_divergences
from .errors import IndexStoreError, InputError
from .facts import (
    Fact,
    extract_facts,
    facts_from_json,
    facts_json,
    may_hold_outside_facts,
    rules_signature,
)
from .model import Boilerplate, Divergence, Document, Duplicate, Match, Span
from .signatures import HASH, SCHEME, lsh_bands, minhash, shingle_hashes
from .store import FORMAT, DocRecord, IndexStore, LazySequence
from .threads import doc_order_key
from .tokens import Word, words

if TYPE_CHECKING:
    from datasketch import LeanMinHash

Progress = Callable[[str, int, int], None]
MAX_CANDIDATE_DOCS = 50  # documents fetched for one check, most bucket hits first
MAX_DUPLICATE_CANDIDATES = 10  # ... of which sharing document buckets (the nearest)
MAX_CANDIDATES_PER_SENTENCE = 10  # indexed sentences aligned with each new sentence
# ... that share at least this many window buckets with it. On the 10,000-article benchmark
# index a third of the candidate pairs shared one bucket, and none of those aligned.
MIN_SHARED_BUCKETS = 2


def index_params(settings: Settings) -> dict[str, Any]:
    """What decides how the index's bucket keys are made; a query must agree with it."""
    return {
        "format": FORMAT,
        "scheme": SCHEME,
        "hash": HASH,
        **settings.sketch_params(),
        "doc_lsh_threshold": settings.doc_lsh_threshold,
        "sentence_lsh_threshold": settings.sentence_lsh_threshold,
        "content_lsh_threshold": settings.content_lsh_threshold,
        "match_min_words": settings.match_min_words,
        "window_num_perm": window_num_perm(settings),
        "facts_rules": rules_signature(),
    }


def index_meta(settings: Settings) -> dict[str, Any]:
    """The index parameters plus what they were derived with, as a new index records them:
    the LSH (bands, rows) of the document and window sketches, so that a query need not
    derive them (nor load datasketch), and the versions that wrote it."""
    import datasketch

    perm = window_num_perm(settings)
    return {
        **index_params(settings),
        "newsdiff": newsdiff_version(),
        "datasketch": datasketch.__version__,
        "bands": {"doc": lsh_bands(settings.doc_lsh_threshold, settings.num_perm),
                  "words": lsh_bands(settings.sentence_lsh_threshold, perm),
                  "content": lsh_bands(settings.content_lsh_threshold, perm)},
    }


Bands = dict[str, tuple[int, int]]


def ensure_compatible(store: IndexStore, settings: Settings, create: bool = False) -> Bands:
    """Refuse to mix sketches made another way (raises IndexStoreError); a new index
    records the settings when `create`. Returns the LSH bands the index was built with."""
    stored = store.read_meta()
    if stored is None:
        if not create:
            raise IndexStoreError(f"{store.url}: the index is empty (run `newsdiff index "
                                  "build`)")
        stored = index_meta(settings)
        store.write_meta(stored)
    wanted = index_params(settings)
    diffs = [f"{k}={stored.get(k)!r} (now {wanted[k]!r})" for k in wanted
             if stored.get(k) != wanted[k]]
    if diffs:
        raise IndexStoreError(f"{store.url}: index built with other settings: "
                              f"{', '.join(diffs)}; rebuild it (`newsdiff index build "
                              "--rebuild`) or use the same settings")
    try:
        return {name: (int(b), int(r)) for name, (b, r) in stored["bands"].items()}
    except (KeyError, TypeError, ValueError, AttributeError):
        raise IndexStoreError(f"{store.url}: corrupt index metadata (LSH bands)") from None


@dataclass(frozen=True)
class Sketched:
    """An analysed document with its document shingles and all its bucket keys."""

    item: Analyzed
    shingles: np.ndarray
    doc_minhash: LeanMinHash | None  # None when only querying
    doc_keys: list[int]  # the document's band keys
    # (bucket key, sentence) of every band of every sentence window, in window order (a
    # check hands these arrays to the store as they are: tuples of them cost a millisecond)
    sentence_keys: np.ndarray  # (n, 2) int64

    @property
    def buckets(self) -> tuple[tuple[int, int], ...]:
        """Every distinct (key, sentence or -1) the index stores, document bands first."""
        keys, sentences = self.sentence_keys.T.tolist()
        return tuple(dict.fromkeys([(k, -1) for k in self.doc_keys]
                                   + list(zip(keys, sentences, strict=True))))


DOC_TAG = 1  # bucket-key tag of document bands (window families use 2 and 3)


def sketch(item: Analyzed, settings: Settings, bands: Bands, *, for_storage: bool = True
           ) -> Sketched:
    """Shingles and LSH bucket keys of one analysed document, and (`for_storage`) its
    datasketch MinHash, which the index keeps."""
    shingles = shingle_hashes(item.body_norms, settings.shingle_size)
    doc_mh = minhash(shingles, settings.num_perm, settings.seed) if for_storage else None
    sketcher = window_sketcher(settings.num_perm, settings.seed, settings.doc_lsh_threshold,
                               bands["doc"])
    doc_keys = sketcher.band_keys(sketcher.set_signature(shingles), DOC_TAG)[0].tolist()
    sentences, families = window_keys(columns_of([item]), settings, bands)
    sentence_of = sentences[:, 1]
    pairs = [np.stack((keys.ravel(), np.repeat(sentence_of[owners], keys.shape[1])), axis=1)
             for keys, owners in families]
    return Sketched(item, shingles, doc_mh, doc_keys,
                    np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int64))


def to_record(sk: Sketched) -> DocRecord:
    """The stored form of a sketched document."""
    doc = sk.item.doc
    assert sk.doc_minhash is not None, "sketched for a query, not for storage"
    buf = bytearray(sk.doc_minhash.bytesize())
    sk.doc_minhash.serialize(buf)
    meta = {"path": doc.path, "title": doc.title, "source": doc.source,
            "published": doc.published, "format": doc.format, "encoding": doc.encoding}
    return DocRecord(doc.id, doc.sha256, doc.text, meta,
                     tuple((b.span.start, b.span.end, b.reason) for b in doc.boilerplate),
                     tuple((s.start, s.end) for s in doc.sentences), bytes(buf),
                     sk.shingles.astype("<u4").tobytes(),
                     tuple(facts_json(extract_facts(doc.text, s.start, s.end, doc.published))
                           for s in doc.sentences))


class StoredSentences(LazySequence[Span]):
    """A stored document's sentences, each made into a Span only when asked for: a check
    reads a few sentences of each document it matched, of thirty or more."""

    def __init__(self, doc_id: str, text: str, offsets: Sequence[tuple[int, int]]) -> None:
        self._doc, self._text, self._offsets = doc_id, text, offsets

    def __len__(self) -> int:
        return len(self._offsets)

    def _item(self, k: int) -> Span:
        s, e = self._offsets[k]
        return Span(self._doc, s, e, self._text[s:e])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    __hash__ = None  # type: ignore[assignment]


class StoredFacts(Mapping[tuple[str, int], list[Fact]]):
    """The facts an index stores for (document, sentence) pairs, read from the index on
    first use and parsed one sentence at a time when asked for: a check compares the
    facts of few of its matches (those of a copy are mostly word for word the same)."""

    def __init__(self, store: IndexStore, wanted: Iterable[tuple[str, int]]) -> None:
        self._store, self._wanted = store, frozenset(wanted)
        self._stored: dict[str, Sequence[str]] | None = None
        self._parsed: dict[tuple[str, int], list[Fact]] = {}

    def _json(self, key: tuple[str, int]) -> str | None:
        if key not in self._wanted:
            return None
        if self._stored is None:
            self._stored = self._store.facts({doc for doc, _ in self._wanted})
        found = self._stored.get(key[0], ())
        return found[key[1]] if 0 <= key[1] < len(found) else None  # damaged: found again

    def __getitem__(self, key: tuple[str, int]) -> list[Fact]:
        if key not in self._parsed:
            blob = self._json(key)
            if blob is None:
                raise KeyError(key)
            self._parsed[key] = facts_from_json(blob)
        return self._parsed[key]

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return iter([key for key in sorted(self._wanted) if self._json(key) is not None])

    def __len__(self) -> int:
        return sum(1 for _ in self)


def record_document(rec: DocRecord) -> Document:
    """The Document a record describes (its sentences as spans, made when read, and not
    yet tokenised)."""
    text = rec.text
    return Document(
        id=rec.id, path=rec.meta.get("path") or rec.id, text=text,
        format=rec.meta.get("format", "txt"), encoding=rec.meta.get("encoding", "utf-8"),
        sha256=rec.sha256, title=rec.meta.get("title"), source=rec.meta.get("source"),
        published=rec.meta.get("published"),
        boilerplate=tuple(Boilerplate(Span(rec.id, s, e, text[s:e]), r)
                          for s, e, r in rec.boilerplate),
        sentences=StoredSentences(rec.id, text, rec.sentences),  # type: ignore[arg-type]
    )


def furniture_keys(doc: Document) -> set[str]:
    """Keys of the lines this document has as learned (repeated) furniture."""
    return {bp.line_key(b.span.text) for b in doc.boilerplate
            if b.reason.startswith("repeated")} - {""}


@dataclass
class BuildReport:
    """What `newsdiff index build` did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open_regular(path) as handle:  # a named pipe must not block the build
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_index(corpus: Path, store: IndexStore, settings: Settings, *,
                rebuild: bool = False, skip_bad: bool = False,
                progress: Progress | None = None, chunk: int = 500) -> BuildReport:
    """Bring the index of `corpus` up to date: index new and changed files (same sha256
    skips), remove deleted ones. Every document is written in its own transaction, so an
    interrupted build leaves a sound index that the next build completes.

    Raises:
        InputError: a bad article (unless `skip_bad`: then reported in the result).
        IndexStoreError: an index made with other settings (unless `rebuild`).
    """
    with workers.cycles_paused():
        return _build_index(corpus, store, settings, rebuild, skip_bad, progress, chunk)


def _build_index(corpus: Path, store: IndexStore, settings: Settings, rebuild: bool,
                 skip_bad: bool, progress: Progress | None, chunk: int) -> BuildReport:
    if rebuild:
        for doc_id in sorted(store.documents()):
            store.remove(doc_id)
        store.write_meta(index_meta(settings))
    bands = ensure_compatible(store, settings, create=True)
    report = BuildReport()
    stored = store.documents()
    found = discover([corpus])
    present = {doc_id for _, doc_id in found}
    todo: list[tuple[Path, str]] = []
    for path, doc_id in found:
        try:
            sha = _sha256(path)
        except OSError as exc:
            problem = InputError(display_name(str(path)), read_problem(path, exc))
            if not skip_bad:
                raise problem from None
            report.skipped.append(str(problem))
            continue
        if stored.get(doc_id) == sha:
            report.unchanged += 1
        else:
            todo.append((path, doc_id))
    max_bytes = int(settings.max_file_mb * 1024 * 1024)
    # Read everything first: a bad file stops the build before the index changes.
    manifests: dict[Path, dict[str, dict[str, str]]] = {}
    raws: list[RawArticle] = []
    for path, doc_id in todo:
        if path.parent not in manifests:
            manifests[path.parent] = load_manifest(path.parent)
        try:
            raws.append(read_article(path, doc_id, max_bytes, manifests[path.parent]))
        except InputError as exc:
            if not skip_bad:
                raise
            report.skipped.append(str(exc))
    for doc_id in sorted(set(stored) - present):
        store.remove(doc_id)
        report.removed.append(doc_id)
    learned: Counter[str] = Counter()
    # Adding more documents than the index still holds: a bulk load (see IndexStore.bulk).
    bulk = len(raws) > len(stored) - len(report.removed)
    if bulk:
        store.bulk(True)
    for start in range(0, len(raws), chunk):
        batch = raws[start:start + chunk]
        edge = {bp.line_key(line.text) for r in batch
                for line in bp.edge_lines(r.text, r.front_matter_end)}
        learned.update({k: 2 for k in store.known_furniture(edge) if k not in learned})
        def stored_form(item: Analyzed) -> tuple[DocRecord, tuple[tuple[int, int], ...],
                                                   set[str]]:
            sk = sketch(item, settings, bands)
            return to_record(sk), sk.buckets, furniture_keys(item.doc)

        for record, buckets, furniture in analyze_map(batch, settings, stored_form, learned):
            store.put(record, buckets, furniture)
            (report.updated if record.id in stored else report.added).append(record.id)
            if progress:
                progress("index", len(report.added) + len(report.updated), len(raws))
    store.bulk(False)  # also completes the key index an interrupted bulk build left out
    return report


@dataclass(frozen=True)
class Repeat:
    """A statement of the new article already in the corpus."""

    sentence: Span
    matches: tuple[Match, ...]  # a = the indexed article, b = the new one; earliest first


@dataclass(frozen=True)
class CheckResult:
    """What the index says about one new article."""

    document: Document
    verdict: str  # "duplicate", "overlap" or "novel"
    duplicates: tuple[Duplicate, ...]
    repeats: tuple[Repeat, ...]
    new: tuple[Span, ...]
    divergences: tuple[Divergence, ...]
    corpus_docs: dict[str, Document]


def _learned_repeats(store: IndexStore, raw: RawArticle) -> Counter[str]:
    edge = {bp.line_key(line.text) for line in bp.edge_lines(raw.text, raw.front_matter_end)}
    return Counter({k: 2 for k in store.known_furniture(edge)})


_checks_made = 0  # by this process


def check_article(raw: RawArticle, store: IndexStore, settings: Settings,
                  bands: Bands | None = None) -> CheckResult:
    """Compare one new article with the index: near-duplicates, repeated statements (with
    the earliest indexed article that made each), new statements, divergences. `bands`:
    what `ensure_compatible` returned (checked here when not given).

    From a process's second check on, with two workers, a helper process (see
    `workers.Helper`) finds the new article's facts while the index is searched: they
    were a sixth of a check's instructions. A process that checks one article does not
    fork one: that costs more than it saves."""
    global _checks_made
    bands = bands or ensure_compatible(store, settings)
    helper = (workers.helper() if _checks_made and workers.worker_count(settings.workers) > 1
              else None)
    _checks_made += 1
    with workers.cycles_paused():  # ~3% of a check's instructions went to collections
        return _check_article(raw, store, settings, bands, helper)


def sentence_facts(text: str, spans: Sequence[tuple[int, int]], published: str | None
                   ) -> list[tuple[list[Fact], bool]]:
    """The facts of each of these sentences of `text`, and whether it may hold one next
    to a passage shared word for word (`may_hold_outside_facts`)."""
    return [(extract_facts(text, start, end, published),
             may_hold_outside_facts(text[start:end])) for start, end in spans]


@dataclass(frozen=True)
class Candidates:
    """What the index proposes for one new article, before anything is confirmed: the
    article analysed and sketched, the indexed sentences to align with each of its
    sentences, and the records of the documents they belong to (the nearest documents by
    document buckets among them, the near-duplicate candidates)."""

    item: Analyzed
    sketched: Sketched
    pairs: list[tuple[str, int, int]]  # (document, its sentence, new sentence), sorted
    records: dict[str, DocRecord]


def find_candidates(raw: RawArticle, store: IndexStore, settings: Settings, bands: Bands,
                    segmented: Callable[[Document], None] | None = None) -> Candidates:
    """The index search of a check: the new article segmented, tokenised and sketched,
    its buckets looked up, the records of the candidate documents read. `segmented` is
    called with the article's sentences before their words are found (a check hands them
    to its helper there)."""
    doc = segment_article(raw, settings, repeats=_learned_repeats(store, raw))
    if segmented is not None:
        segmented(doc)
    item = with_words(doc)
    sk = sketch(item, settings, bands, for_storage=False)
    doc_votes: Counter[str] = Counter(
        doc_id for _, doc_id, _ in store.lookup(sk.doc_keys, bands_only=True)
        if doc_id != raw.id)
    # The indexed sentences sharing most buckets with each new sentence are aligned; the
    # store counts the shared buckets (stock-phrase buckets left out).
    votes = store.sentence_votes(sk.sentence_keys,
                                 MAX_CANDIDATES_PER_SENTENCE, MIN_SHARED_BUCKETS, raw.id)
    pairs = sorted((doc_id, sent, mine) for doc_id, sent, mine, _ in votes)
    doc_hits: Counter[str] = Counter()  # shared sentence buckets of the candidate pairs
    for doc_id, _, _, n in votes:
        doc_hits[doc_id] += n
    # Documents: the few nearest by document buckets (duplicate candidates), then those of
    # the candidate sentences, most shared buckets first.
    nearest = sorted(doc_votes, key=lambda d: (-doc_votes[d], d))
    chosen = nearest[:MAX_DUPLICATE_CANDIDATES]
    rest = set(doc_hits) - set(chosen)
    chosen += sorted(rest, key=lambda d: (-doc_hits[d], d))[:MAX_CANDIDATE_DOCS - len(chosen)]
    return Candidates(item, sk, pairs, {rec.id: rec for rec in store.get(chosen)})


def _check_article(raw: RawArticle, store: IndexStore, settings: Settings, bands: Bands,
                   helper: workers.Helper | None = None) -> CheckResult:
    asked: list[Callable[[], list[tuple[list[Fact], bool]]]] = []

    def hand_over(doc: Document) -> None:  # the sentences, before their words are found
        if helper is not None:
            asked.append(helper.call(sentence_facts, doc.text, [
                (s.start, s.end) for s in doc.sentences], doc.published))

    candidates = find_candidates(raw, store, settings, bands, hand_over)
    new_facts = asked[0] if asked else None
    item, sk, pairs, records = (candidates.item, candidates.sketched, candidates.pairs,
                                candidates.records)
    ids = sorted(records)
    # the stored bytes as they are: `duplicate_verdicts` copies them into one array anyway
    verdicts = duplicate_verdicts(sk.shingles, [np.frombuffer(
        records[doc_id].shingles, dtype="<u4") for doc_id in ids], settings)
    duplicates = [Duplicate(doc_id, raw.id, *verdict)
                  for doc_id, verdict in zip(ids, verdicts, strict=True) if verdict]
    found: list[Match] = []
    # a sentence is aligned with several: its words and keys are found once
    theirs_words: dict[tuple[str, int], list[Word]] = {}
    theirs_keys: dict[tuple[str, int], Keys] = {}
    my_keys: dict[int, Keys] = {}
    for doc_id, sent, mine in pairs:
        rec = records.get(doc_id)
        if rec is None:
            continue
        if (doc_id, sent) not in theirs_words:
            theirs_words[(doc_id, sent)] = words(rec.text, *rec.sentences[sent])
            theirs_keys[(doc_id, sent)] = word_keys(theirs_words[(doc_id, sent)])
        if mine not in my_keys:
            my_keys[mine] = word_keys(item.sentence_words[mine])
        wa, wb = theirs_words[(doc_id, sent)], item.sentence_words[mine]
        ka, kb = theirs_keys[(doc_id, sent)], my_keys[mine]
        if not ka.may_align(kb, settings):
            continue
        al = align(rec.text, wa, raw.text, wb, settings, (ka, kb))
        if al is None:
            continue
        sa, ea = wa[al.a_words[0]].start, wa[al.a_words[1] - 1].end
        sb, eb = wb[al.b_words[0]].start, wb[al.b_words[1] - 1].end
        found.append(Match("", Span(doc_id, sa, ea, rec.text[sa:ea]),
                           Span(raw.id, sb, eb, raw.text[sb:eb]), sent, mine, al.score,
                           al.kind, al.ops))
    # Documents are made only of the records that matched or are near-duplicates.
    used = {m.a.doc for m in found} | {d.a for d in duplicates}
    others = {doc_id: record_document(records[doc_id]) for doc_id in sorted(used)}
    order = {d: k for k, d in enumerate(sorted(others, key=lambda d: doc_order_key(
        others[d])))}
    found.sort(key=lambda m: (m.b_sentence, order[m.a.doc], m.a.start))
    matches = [Match(f"m{k}", m.a, m.b, m.a_sentence, m.b_sentence, m.score, m.kind, m.ops)
               for k, m in enumerate(found, 1)]
    by_sentence: dict[int, list[Match]] = defaultdict(list)
    for m in matches:
        by_sentence[m.b_sentence].append(m)
    repeats = tuple(Repeat(item.doc.sentences[s], tuple(ms))
                    for s, ms in sorted(by_sentence.items()))
    new = tuple(s for k, s in enumerate(item.doc.sentences) if k not in by_sentence)
    docs = dict(others)
    docs[raw.id] = item.doc
    # The indexed side's facts were found when it was indexed (found again here if a
    # damaged record lacks them).
    known: Mapping[tuple[str, int], list[Fact]] = StoredFacts(
        store, [(m.a.doc, m.a_sentence) for m in matches])
    holds: dict[tuple[str, int], bool] = {}
    if new_facts is not None:  # the helper's
        found = {(raw.id, k): f for k, f in enumerate(new_facts())}
        known = ChainMap({key: f for key, (f, _) in found.items()}, known)
        holds = {key: h for key, (_, h) in found.items()}
    tokens = {**{(m.a.doc, m.a_sentence): theirs_words[(m.a.doc, m.a_sentence)]
                 for m in matches},
              **{(raw.id, k): ws for k, ws in enumerate(item.sentence_words)}}
    divergences = tuple(find_divergences(matches, [], docs, known_facts=known,
                                         known_words=tokens, known_holds=holds))
    verdict = "duplicate" if duplicates else "overlap" if matches else "novel"
    return CheckResult(item.doc, verdict, tuple(duplicates), repeats, new, divergences, others)


def index_document(raw: RawArticle, store: IndexStore, settings: Settings) -> None:
    """Add one article to the index (its furniture learned from what the index knows)."""
    bands = ensure_compatible(store, settings, create=True)
    (item,) = analyze([raw], settings, repeats=_learned_repeats(store, raw))
    sk = sketch(item, settings, bands)
    store.put(to_record(sk), sk.buckets, furniture_keys(item.doc))


__all__ = [
    "BuildReport",
    "Candidates",
    "CheckResult",
    "Repeat",
    "StoredFacts",
    "StoredSentences",
    "build_index",
    "check_article",
    "ensure_compatible",
    "find_candidates",
    "index_document",
    "index_meta",
    "sentence_facts",
]

