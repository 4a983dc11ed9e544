"""The one place that wires the pipeline together:

files → corpus → boilerplate → sentences → signatures → candidates → alignment → threads
→ divergences → Comparison.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from itertools import chain
from operator import itemgetter

import numpy as np

from . import boilerplate as bp
from . import workers
from .align import MIN_SHARED_KEYS, Keys, align, min_common, word_keys
from .config import Settings, load_settings
from .corpus import RawArticle, read_corpus, text_article
from .divergence import find_divergences
from .model import Cluster, Comparison, Document, Duplicate, Match, Span
from .segment import body_regions, sentences
from .signatures import (
    WindowSketcher,
    bucket_pairs,
    containment_pairs,
    jaccard_containment,
    lsh_pairs,
    minhashes,
    ngram_counts,
    ngram_hashes,
    overlap,
    shared_counts,
    shingle_hashes,
    sorted_distinct,
    word_hashes,
)
from .threads import UnionFind, build_threads, doc_order_key
from .tokens import FUNCTION_WORDS, Word, words

Progress = Callable[[str, int, int], None]


def newsdiff_version() -> str:
    """The installed package version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("newsdiff")
    except PackageNotFoundError:  # running from a source tree
        return "0+unknown"


@dataclass(frozen=True)
class Analyzed:
    """A document with the per-sentence words later stages work on."""

    doc: Document
    sentence_words: tuple[tuple[Word, ...], ...]

    @property
    def body_norms(self) -> list[str]:
        """The comparison keys of the body words, in order."""
        return [w.key for ws in self.sentence_words for w in ws]


@dataclass(frozen=True, eq=False)  # arrays: no field-wise ==
class Columns:
    """The words of analysed documents as arrays, sentence after sentence of each document
    in order: what the stages that count over every word of a corpus (its stopwords, the
    sentence windows, the words candidate sentences share) read, in numpy, rather than
    each word's object once per stage."""

    vocab: tuple[str, ...]  # the key of each key id
    ids: np.ndarray  # (words,) key id of each word
    common: np.ndarray  # (words,) bool: a common content word (`Word.common`)
    content: np.ndarray  # (words,) bool: not a function word
    sizes: np.ndarray  # (sentences,) words of each sentence
    doc_sizes: np.ndarray  # (documents,) sentences of each document

    @cached_property
    def sentence_of_words(self) -> np.ndarray:
        """The sentence each word belongs to (sentences numbered across documents), found
        once for the stages that read it."""
        return np.repeat(np.arange(len(self.sizes), dtype=np.int64), self.sizes)

    def without(self, stop: frozenset[str]) -> Columns:
        """The same words, those whose key is in `stop` no longer common content words."""
        if not stop:
            return self
        is_stop = np.fromiter(map(stop.__contains__, self.vocab), dtype=bool,
                              count=len(self.vocab))
        return replace(self, common=self.common & ~is_stop[self.ids])


def columns_of(items: Sequence[Analyzed]) -> Columns:
    """The `Columns` of analysed documents (their words read once, in C where it can)."""
    sentences = [ws for item in items for ws in item.sentence_words]
    flat = list(chain.from_iterable(sentences))
    keys = list(map(itemgetter(1), flat))  # Word is a named tuple: (norm, key, ..., common)
    vocab = tuple(dict.fromkeys(keys))
    index = {k: i for i, k in enumerate(vocab)}
    n = len(flat)
    return Columns(
        vocab=vocab,
        ids=np.fromiter(map(index.__getitem__, keys), dtype=np.int64, count=n),
        common=np.fromiter(map(itemgetter(4), flat), dtype=bool, count=n),
        content=~np.fromiter(map(FUNCTION_WORDS.__contains__, map(itemgetter(0), flat)),
                             dtype=bool, count=n),
        sizes=np.fromiter(map(len, sentences), dtype=np.int64, count=len(sentences)),
        doc_sizes=np.fromiter((len(item.sentence_words) for item in items), dtype=np.int64,
                              count=len(items)),
    )


def analyze(raws: Sequence[RawArticle], settings: Settings,
            repeats: bp.Counter[str] | None = None) -> list[Analyzed]:
    """Boilerplate and sentences of each article; furniture learned across `raws` (plus
    `repeats`, edge-line counts from elsewhere, such as an index). Sorted by date."""
    out = analyze_map(raws, settings, None, repeats)
    out.sort(key=lambda a: doc_order_key(a.doc))
    return out


def analyze_map(raws: Sequence[RawArticle], settings: Settings,
                then: Callable[[Analyzed], object] | None,
                repeats: bp.Counter[str] | None = None) -> list:  # type: ignore[type-arg]
    """`then` of each analysed article (the Analyzed itself when None), in input order,
    computed in the workers, so that only its result travels back. Without `then` the
    workers find furniture and sentences, and the words are found here: sending an
    article's word objects back costs more than finding them (measured: 1,000 articles
    analysed whole in 3.1 s here, 4.0 s on two workers)."""
    counts = edge_repeats(raws, settings)
    if repeats:
        counts.update(repeats)
    global _ANALYZE_STATE
    _ANALYZE_STATE = (raws, counts, settings, then)
    chunks = [range(k, min(k + 200, len(raws))) for k in range(0, len(raws), 200)]
    if then is None:  # the words of one chunk found here while the workers segment the next
        out = [with_words(doc) for part in workers.parallel_imap(
            _segment_chunk, chunks, workers.worker_count(settings.workers)) for doc in part]
    else:
        out = [a for part in parallel_map(_analyze_chunk, chunks, settings) for a in part]
    _ANALYZE_STATE = None
    return out


_ANALYZE_STATE: tuple | None = None  # what forked workers of `analyze` read
_MATCH_STATE: tuple | None = None  # what forked workers of `find_matches` read


def parallel_map(func: Callable, chunks: Sequence, settings: Settings) -> list:  # type: ignore[type-arg]
    """`func` over `chunks` on the worker processes `settings.workers` allows."""
    return workers.parallel_map(func, chunks, workers.worker_count(settings.workers))


def _analyze_chunk(indexes: range) -> list:  # type: ignore[type-arg]
    then = _ANALYZE_STATE[3]  # type: ignore[index]
    return [then(with_words(doc)) for doc in _segment_chunk(indexes)]


def _segment_chunk(indexes: range) -> list[Document]:
    raws, counts, settings, _ = _ANALYZE_STATE  # type: ignore[misc]
    patterns = bp.compile_patterns(settings.boilerplate_patterns)
    return [_segment_one(raws[i], counts, patterns) for i in indexes]


def segment_article(raw: RawArticle, settings: Settings,
                    repeats: bp.Counter[str] | None = None) -> Document:
    """One article's furniture and sentences, as `analyze` finds them, without its words
    (`with_words` adds them): a check hands the sentences to its helper first."""
    counts = edge_repeats([raw], settings)
    if repeats:
        counts.update(repeats)
    return _segment_one(raw, counts, bp.compile_patterns(settings.boilerplate_patterns))


def with_words(doc: Document) -> Analyzed:
    """A segmented document with the words of each sentence (and their count)."""
    sent_words = tuple(tuple(words(doc.text, s.start, s.end)) for s in doc.sentences)
    return Analyzed(replace(doc, word_count=sum(len(ws) for ws in sent_words)), sent_words)


def _segment_one(raw: RawArticle, counts: Counter[str], patterns: list) -> Document:  # type: ignore[type-arg]
    """An article's furniture and sentences (its words not yet counted)."""
    furniture, title_line = bp.find_boilerplate(raw.text, counts, raw.front_matter_end,
                                                patterns, doc=raw.id)
    cut = [(b.span.start, b.span.end) for b in furniture]
    if raw.front_matter_end:
        cut.append((0, raw.front_matter_end))
    regions = body_regions(len(raw.text), 0, cut)
    sents = sentences(raw.text, raw.id, regions)
    title = raw.meta.get("title") or (title_line.text if title_line else None)
    return Document(
        id=raw.id, path=raw.path, text=raw.text, format=raw.format, encoding=raw.encoding,
        sha256=raw.sha256, title=title, source=raw.meta.get("source"),
        published=raw.meta.get("published"),
        boilerplate=tuple(furniture), sentences=tuple(sents),
    )


def duplicate_pairs(sets: Sequence[np.ndarray], settings: Settings
                    ) -> list[tuple[int, int, float, float, str]]:
    """(i, j, jaccard, containment, kind) for near-duplicate shingle sets: Jaccard LSH and
    LSH Ensemble (containment) propose, the exact figures confirm."""
    sketches = list(minhashes(sets, settings.num_perm, settings.seed))
    pairs = lsh_pairs([str(i) for i in range(len(sets))], sketches,
                      settings.doc_lsh_threshold, settings.num_perm)
    pairs |= containment_pairs(sketches, [len(s) for s in sets],
                               max(0.5, settings.dup_containment - 0.1), settings.num_perm)
    found = []
    for i, j in sorted(pairs):
        verdict = duplicate_verdict(sets[i], sets[j], settings)
        if verdict:
            found.append((i, j, *verdict))
    return found


def duplicate_verdict(a: np.ndarray, b: np.ndarray, settings: Settings
                      ) -> tuple[float, float, str] | None:
    """(jaccard, containment, kind) when two shingle sets are near-duplicates: "exact",
    "near-duplicate" (Jaccard), or "contained" (a truncated copy); None otherwise."""
    return _verdict(*jaccard_containment(a, b), min(len(a), len(b)), settings)


def duplicate_verdicts(mine: np.ndarray, others: Sequence[np.ndarray], settings: Settings
                       ) -> list[tuple[float, float, str] | None]:
    """`duplicate_verdict` of each of `others` against `mine`, their shared shingles
    counted together."""
    return [_verdict(*overlap(int(shared), len(theirs), len(mine)),
                     min(len(theirs), len(mine)), settings)
            for theirs, shared in zip(others, shared_counts(mine, others).tolist(),
                                      strict=True)]


def _verdict(jac: float, cont: float, smaller: int, settings: Settings
             ) -> tuple[float, float, str] | None:
    if jac >= 1.0:
        kind = "exact"
    elif jac >= settings.dup_jaccard:
        kind = "near-duplicate"
    elif cont >= settings.dup_containment and smaller >= 10:
        kind = "contained"
    else:
        return None
    return round(jac, 4), round(cont, 4), kind


def edge_repeats(raws: Sequence[RawArticle], settings: Settings) -> bp.Counter[str]:
    """In how many articles each head or foot line occurs, counting copies of one story
    as one article.

    Copies of a story share their first and last paragraphs; those are news, not
    furniture. So a line found in several articles counts as repeated only when at least
    one of them is not a near-duplicate of the first (compared on their raw text, and
    only for the few lines that are found more than once).
    """
    holders: dict[str, list[int]] = {}
    for i, r in enumerate(raws):
        for key in {bp.line_key(line.text) for line in bp.edge_lines(r.text, r.front_matter_end)}:
            if key:
                holders.setdefault(key, []).append(i)
    shingles: dict[int, np.ndarray] = {}

    def raw_shingles(i: int) -> np.ndarray:
        if i not in shingles:
            r = raws[i]
            shingles[i] = shingle_hashes([w.key for w in words(r.text, r.front_matter_end)],
                                         settings.shingle_size)
        return shingles[i]

    def copies(i: int, j: int) -> bool:
        jac, cont = jaccard_containment(raw_shingles(i), raw_shingles(j))
        return jac >= settings.dup_jaccard or cont >= settings.dup_containment

    counts: bp.Counter[str] = bp.Counter()
    for key, docs in holders.items():
        if len(docs) == 1:
            counts[key] = 1
        elif any(not copies(docs[0], j) for j in docs[1:]):
            counts[key] = len(docs)
        else:
            counts[key] = 1
    return counts


def corpus_stopwords(columns: Columns, settings: Settings) -> frozenset[str]:
    """Common words so frequent in this corpus that sharing them says nothing ("vs", "cts"
    and "mln" in earnings tables, "said" everywhere): those in more than `stopword_share`
    of all sentences (and in at least `stopword_min_sentences`)."""
    width = np.int64(max(1, len(columns.vocab)))
    # each sentence's distinct common words, counted per word
    codes = sorted_distinct((columns.sentence_of_words * width + columns.ids)[columns.common])
    df = np.bincount(codes % width, minlength=int(width))
    limit = max(settings.stopword_share * len(columns.sizes), settings.stopword_min_sentences)
    return frozenset(columns.vocab[k] for k in np.flatnonzero(df > limit).tolist())


def without_stopwords(ws: tuple[Word, ...], stop: frozenset[str]) -> tuple[Word, ...]:
    """A sentence's words with corpus stopwords no longer counted as statement words."""
    if not stop or stop.isdisjoint([w.key for w in ws if w.common]):
        return ws  # most sentences: kept as they are
    new = tuple.__new__  # Word(...) and _replace cost several times as much
    return tuple(new(Word, (w.norm, w.key, w.start, w.end, False))
                 if w.common and w.key in stop else w for w in ws)


def find_duplicates(items: Sequence[Analyzed], settings: Settings) -> list[Duplicate]:
    """Near-duplicate document pairs, compared on their body text (furniture left out)."""
    sets = [shingle_hashes(a.body_norms, settings.shingle_size) for a in items]
    return [Duplicate(items[i].doc.id, items[j].doc.id, jac, cont, kind)
            for i, j, jac, cont, kind in duplicate_pairs(sets, settings)]


def clusters_of(duplicates: Iterable[Duplicate], order: dict[str, int]) -> list[Cluster]:
    """Connected components of the near-duplicate links."""
    uf = UnionFind()
    for d in duplicates:
        uf.union(d.a, d.b)
    groups = sorted((sorted(g, key=order.__getitem__) for g in uf.groups()),
                    key=lambda g: order[g[0]])
    return [Cluster(f"c{k}", tuple(g)) for k, g in enumerate(groups, 1)]


FAMILIES = (("words", 2), ("content", 3))  # (window family, bucket-key tag)
MAX_BUCKET = 4  # larger buckets are linked as a star, not as all their pairs


@lru_cache(maxsize=16)
def window_sketcher(num_perm: int, seed: int, threshold: float,
                    bands: tuple[int, int] | None = None) -> WindowSketcher:
    """One sketcher per setting (deriving LSH band parameters is not free)."""
    return WindowSketcher(num_perm, seed, threshold, bands)


def window_keys(columns: Columns, settings: Settings,
                bands: dict[str, tuple[int, int]] | None = None
                ) -> tuple[np.ndarray, Iterator[tuple[np.ndarray, np.ndarray]]]:
    """LSH bucket keys of every sentence window of the documents of `columns` (`bands`:
    the LSH (bands, rows) of each family when already known, as an index records them).

    Two families of windows are sketched: runs of words as bigrams of their content words
    (passages that keep their wording; function words are skipped, so "of the" and "said
    it" propose nothing), and runs of common content words as sets (reworded passages).
    Sentences shorter than `match_min_words` have no windows.

    Returns:
        (sentences, families): the (document, sentence) rows of the sentences that have
        windows, and per family a (windows × bands) array of keys with each window's index
        in `sentences`, each family made when the one before has been read (at 10,000
        articles both at once held 100 MB more at the candidate search's peak).
    """
    n_sentences = len(columns.sizes)
    sentence_of = columns.sentence_of_words
    kept = columns.sizes >= settings.match_min_words
    doc_of = np.repeat(np.arange(len(columns.doc_sizes), dtype=np.int64), columns.doc_sizes)
    first = np.cumsum(columns.doc_sizes) - columns.doc_sizes
    number = np.arange(n_sentences, dtype=np.int64) - first[doc_of]
    sentences = np.stack((doc_of[kept], number[kept]), axis=1)
    in_kept = kept[sentence_of]
    content = columns.content & in_kept
    common = columns.common & in_kept
    # a sentence with fewer than three common content words has no set window
    common &= (np.bincount(sentence_of[common], minlength=n_sentences) >= 3)[sentence_of]
    hashes = word_hashes(columns.vocab)
    perm = window_num_perm(settings)
    return sentences, _window_families(columns, settings, bands, (content, common), kept,
                                       hashes, perm)


def _window_families(columns: Columns, settings: Settings,
                     bands: dict[str, tuple[int, int]] | None,
                     masks: tuple[np.ndarray, np.ndarray], kept: np.ndarray,
                     hashes: np.ndarray, perm: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    n_sentences = len(columns.sizes)
    sentence_of = columns.sentence_of_words
    for (family, tag), chosen in zip(FAMILIES, masks, strict=True):
        flat = hashes[columns.ids[chosen]]
        sizes_arr = np.bincount(sentence_of[chosen], minlength=n_sentences)[kept]
        if family == "words":
            flat = ngram_hashes(flat, settings.sentence_shingle_size, sizes_arr)
            sizes_arr = ngram_counts(sizes_arr, settings.sentence_shingle_size)
            step, threshold = settings.window_step, settings.sentence_lsh_threshold
        else:
            step = max(2, settings.content_window_words // 2)
            threshold = settings.content_lsh_threshold
        known = (bands or {}).get(family)
        sketcher = window_sketcher(perm, settings.seed, threshold,
                                   tuple(known) if known else None)
        sig, owners = sketcher.window_signatures(flat, sizes_arr, step)
        del flat
        keys = sketcher.band_keys(sig, tag)
        del sig
        yield keys, owners
        del keys, owners


def sentence_candidates(columns: Columns, settings: Settings) -> np.ndarray:
    """(doc i, sentence, doc j, sentence) rows, sorted and distinct, with i < j, of the
    sentence pairs whose windows share an LSH bucket; never all pairs of sentences."""
    where, families = window_keys(columns, settings)
    doc_of = where[:, 0]
    found = []
    for family in families:  # (the name let go of each before the next is made)
        found.append(bucket_pairs(family[0], family[1], doc_of[family[1]], MAX_BUCKET))
        del family
    pairs = np.concatenate(found)
    del found
    width = np.int64(len(where))
    codes = sorted_distinct(pairs[:, 0] * width + pairs[:, 1])
    # sentences are numbered in (document, sentence) order, so i < j keeps doc i < doc j
    return np.concatenate((where[codes // width], where[codes % width]), axis=1)


def window_num_perm(settings: Settings) -> int:
    """Sentence windows hold a handful of shingles: fewer permutations sketch them well."""
    return max(16, settings.num_perm // 8)


def shared_words(columns: Columns, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each candidate sentence pair, how many distinct words and distinct common
    content words the two sentences share (sparse incidence matrices, no Python loop over
    the pairs)."""
    from scipy.sparse import csr_matrix

    n_sentences = len(columns.sizes)
    row = columns.sentence_of_words
    width = np.int64(max(1, len(columns.vocab)))
    shape = (n_sentences, int(width))
    matrices = []
    for chosen in (slice(None), columns.common):  # each sentence's distinct words, as rows
        codes = sorted_distinct(row[chosen] * width + columns.ids[chosen])
        # 32-bit indices where they fit: scipy's products are faster on them
        index = np.int32 if max(len(codes), width) < 2**31 else np.int64
        indptr = np.zeros(n_sentences + 1, dtype=index)
        np.cumsum(np.bincount(codes // width, minlength=n_sentences), out=indptr[1:])
        matrices.append(csr_matrix((np.ones(len(codes), dtype=np.int32),
                                    (codes % width).astype(index), indptr), shape=shape))
        del codes
    every, common = matrices
    pairs = np.asarray(candidates, dtype=np.int64).reshape(-1, 4)
    # each document's first row
    start = np.cumsum(columns.doc_sizes) - columns.doc_sizes
    rows_a = start[pairs[:, 0]] + pairs[:, 1]
    rows_b = start[pairs[:, 2]] + pairs[:, 3]
    out = []
    for matrix in (every, common):
        counts = np.zeros(len(pairs), dtype=np.int64)
        # bound the temporary matrices (200,000 pairs at a time took 250 MB at 10,000
        # articles, then the peak of the whole run)
        for lo in range(0, len(pairs), 50_000):
            hi = lo + 50_000
            both = matrix[rows_a[lo:hi]].multiply(matrix[rows_b[lo:hi]])
            counts[lo:hi] = np.asarray(both.sum(axis=1)).ravel()
        out.append(counts)
    return out[0], out[1]


def find_matches(items: Sequence[Analyzed], settings: Settings,
                 progress: Progress | None = None) -> list[Match]:
    """Align the candidate sentence pairs that share enough words; keep those that share a
    real passage. The corpus stopwords (`corpus_stopwords`) count as no statement's words."""
    global _MATCH_STATE
    columns = columns_of(items)
    stop = corpus_stopwords(columns, settings)
    columns = columns.without(stop)
    found = sentence_candidates(columns, settings)
    if len(found):
        n_shared, n_common = shared_words(columns, found)
        found = found[(n_shared >= MIN_SHARED_KEYS) & (n_common >= min_common(settings))]
    del columns
    # the candidates stay one array (as lists of ints they took 140 MB at 10,000 articles,
    # in the parent and in every worker): each chunk's rows become lists in its worker
    candidates = found
    _MATCH_STATE = (items, stop, settings, candidates)
    step = max(2000, len(candidates) // 8 + 1)
    chunks = [range(k, min(k + step, len(candidates))) for k in range(0, len(candidates), step)]
    if progress:
        progress("align", 0, len(candidates))
    matches = [m for part in parallel_map(_match_chunk, chunks, settings) for m in part]
    _MATCH_STATE = None
    if progress:
        progress("align", len(candidates), len(candidates))
    for k, m in enumerate(matches):  # in place: never two of each match at once
        matches[k] = Match(f"m{k + 1}", m.a, m.b, m.a_sentence, m.b_sentence, m.score,
                           m.kind, m.ops)
    return matches


def _match_chunk(indexes: range) -> list[Match]:
    items, stop, settings, candidates = _MATCH_STATE  # type: ignore[misc]
    found = []
    # a sentence is aligned with several: its words (stopwords made plain) and keys kept
    sides: dict[tuple[int, int], tuple[tuple[Word, ...], Keys]] = {}

    def side(d: int, s: int) -> tuple[tuple[Word, ...], Keys]:
        if (d, s) not in sides:
            ws = without_stopwords(items[d].sentence_words[s], stop)
            sides[(d, s)] = ws, word_keys(ws)
        return sides[(d, s)]

    for di, si, dj, sj in candidates[indexes.start:indexes.stop].tolist():
        a, b = items[di], items[dj]
        (wa, ka), (wb, kb) = side(di, si), side(dj, sj)
        al = align(a.doc.text, wa, b.doc.text, wb, settings, (ka, kb))
        if al is None:
            continue
        sa, ea = wa[al.a_words[0]].start, wa[al.a_words[1] - 1].end
        sb, eb = wb[al.b_words[0]].start, wb[al.b_words[1] - 1].end
        found.append(Match(
            id="", a=Span(a.doc.id, sa, ea, a.doc.text[sa:ea]),
            b=Span(b.doc.id, sb, eb, b.doc.text[sb:eb]), a_sentence=si, b_sentence=sj,
            score=al.score, kind=al.kind, ops=al.ops,
        ))
    return found


def compare_documents(items: Sequence[Analyzed], settings: Settings,
                      progress: Progress | None = None,
                      warnings: Sequence[str] = ()) -> Comparison:
    """Run every analysis stage over analysed documents (sorted by date)."""
    return _compare_owned(list(items), settings, progress, warnings)


def _compare_owned(items: list[Analyzed], settings: Settings, progress: Progress | None,
                   warnings: Sequence[str]) -> Comparison:
    """`compare_documents` of a list that no one else reads: it is emptied once the
    sentences have been aligned, and their words are let go, some 800 word objects per
    article (630 MB at 10,000 articles, in the parent and in every worker forked after;
    with one worker, the near-duplicates, found at the end, hold them until then). The
    divergences find again the words of the sentences they compare, in their workers (at
    10,000 articles, 6 s more of the stage's 13)."""
    items.sort(key=lambda a: doc_order_key(a.doc))
    order = {a.doc.id: k for k, a in enumerate(items)}
    docs = {a.doc.id: a.doc for a in items}
    documents = tuple(a.doc for a in items)
    n_workers = workers.worker_count(settings.workers)
    # Near-duplicates need nothing of the later stages: found in a process of their own,
    # on the core the serial parts of those leave idle.
    # (a list of its own: the one that is emptied is not the one it reads)
    with workers.background(find_duplicates, (list(items), settings),
                            n_workers) as duplicates_of:
        matches = find_matches(items, settings, progress)
        items.clear()
        threads = build_threads(matches, docs)
        divergences = find_divergences(matches, threads, docs, n_workers)
        duplicates = duplicates_of()
    return Comparison(
        settings=settings.as_dict(),
        documents=documents,
        duplicates=tuple(duplicates),
        clusters=tuple(clusters_of(duplicates, order)),
        matches=tuple(matches),
        threads=tuple(threads),
        divergences=tuple(divergences),
        version=newsdiff_version(),
        warnings=tuple(warnings),
    )


def compare(paths: Iterable[str | os.PathLike[str]], *, settings: Settings | None = None,
            skip_bad: bool = False, metadata: dict[str, str] | None = None,
            progress: Progress | None = None, **overrides: object) -> Comparison:
    """Compare the articles found under `paths`.

    Args:
        paths: article files and folders (searched recursively).
        settings: full settings; by default read from ./newsdiff.toml or
            ./pyproject.toml [tool.newsdiff].
        skip_bad: report unreadable files in ``Comparison.warnings`` instead of failing.
        metadata: title/source/published applied to every article (highest precedence).
        progress: called as ``progress(stage, done, total)`` during long stages.
        **overrides: individual settings (``shingle_size=4``...).

    Returns:
        The Comparison: documents, duplicates, clusters, matches, threads, divergences.

    Raises:
        NewsdiffError: a bad path, file or setting.

    Example:
        >>> import newsdiff
        >>> result = newsdiff.compare(["seeds/"])
        >>> len(result.documents)
        5
    """
    if settings is None:
        settings = load_settings(overrides=dict(overrides))
    elif overrides:
        from .config import make_settings

        settings = make_settings(dict(overrides), base=settings)
    max_bytes = int(settings.max_file_mb * 1024 * 1024)
    with workers.cycles_paused():
        raws, problems = read_corpus(paths, max_bytes, metadata, skip_bad)
        items = analyze(raws, settings)
        del raws  # the documents hold their text
        return _compare_owned(items, settings, progress, problems)



def compare_texts(texts: Sequence[tuple[str, str, str | None]], *,
                  settings: Settings | None = None) -> Comparison:
    """Compare articles given as ``(id, text, published)`` triples instead of files.

    Example:
        >>> result = compare_texts([("a", "Talks resumed on Monday.", "2020-01-01"),
        ...                         ("b", "Talks have not resumed.", "2020-01-02")])
    """
    settings = settings or Settings()
    raws = [text_article(doc_id, text, published) for doc_id, text, published in texts]
    with workers.cycles_paused():
        return _compare_owned(analyze(raws, settings), settings, None, ())
