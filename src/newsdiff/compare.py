"""The one place that wires the pipeline together:

files → corpus → boilerplate → sentences → signatures → candidates → alignment → threads
→ divergences → Comparison.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from . import boilerplate as bp
from .align import align
from .config import Settings, load_settings
from .corpus import RawArticle, read_corpus, text_article
from .divergence import find_divergences
from .model import Cluster, Comparison, Document, Duplicate, Match, Span
from .segment import body_regions, sentences
from .signatures import (
    containment_pairs,
    jaccard_containment,
    lsh_pairs,
    minhashes,
    shingle_hashes,
    windows,
)
from .threads import UnionFind, build_threads, doc_order_key
from .tokens import Word, words

Progress = Callable[[str, int, int], None]


def newsdiff_version() -> str:
    """The installed package version."""
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


def analyze(raws: Sequence[RawArticle], settings: Settings,
            repeats: bp.Counter[str] | None = None) -> list[Analyzed]:
    """Boilerplate and sentences of each article; furniture learned across `raws` (plus
    `repeats`, edge-line counts from elsewhere, such as an index)."""
    counts = edge_repeats(raws, settings)
    if repeats:
        counts.update(repeats)
    patterns = bp.compile_patterns(settings.boilerplate_patterns)
    out = []
    for raw in raws:
        furniture, title_line = bp.find_boilerplate(raw.text, counts, raw.front_matter_end,
                                                    patterns, doc=raw.id)
        cut = [(b.span.start, b.span.end) for b in furniture]
        if raw.front_matter_end:
            cut.append((0, raw.front_matter_end))
        regions = body_regions(len(raw.text), 0, cut)
        sents = sentences(raw.text, raw.id, regions)
        sent_words = tuple(tuple(words(raw.text, s.start, s.end)) for s in sents)
        title = raw.meta.get("title") or (title_line.text if title_line else None)
        doc = Document(
            id=raw.id, path=raw.path, text=raw.text, format=raw.format, encoding=raw.encoding,
            sha256=raw.sha256, title=title, source=raw.meta.get("source"),
            published=raw.meta.get("published"),
            word_count=sum(len(ws) for ws in sent_words),
            boilerplate=tuple(furniture), sentences=tuple(sents),
        )
        out.append(Analyzed(doc, sent_words))
    out.sort(key=lambda a: doc_order_key(a.doc))
    return out


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
        jac, cont = jaccard_containment(sets[i], sets[j])
        if jac >= 1.0:
            kind = "exact"
        elif jac >= settings.dup_jaccard:
            kind = "near-duplicate"
        elif cont >= settings.dup_containment and min(len(sets[i]), len(sets[j])) >= 10:
            kind = "contained"
        else:
            continue
        found.append((i, j, round(jac, 4), round(cont, 4), kind))
    return found


def edge_repeats(raws: Sequence[RawArticle], settings: Settings) -> bp.Counter[str]:
    """In how many *different* articles each head or foot line occurs.

    Copies of one story share their first and last paragraphs; those are news, not
    furniture. So articles are first grouped by near-duplication of their raw text, and a
    line counts once per group.
    """
    sets = [shingle_hashes([w.key for w in words(r.text, r.front_matter_end)],
                           settings.shingle_size) for r in raws]
    uf = UnionFind()
    for i in range(len(raws)):
        uf.find(i)
    for i, j, *_ in duplicate_pairs(sets, settings):
        uf.union(i, j)
    counts: bp.Counter[str] = bp.Counter()
    for group in uf.groups():
        counts.update(set().union(*(bp.count_edge_keys([(raws[i].text, raws[i].front_matter_end)])
                                    for i in group)))
    return counts


def corpus_stopwords(items: Sequence[Analyzed], settings: Settings) -> frozenset[str]:
    """Common words so frequent in this corpus that sharing them says nothing ("vs", "cts"
    and "mln" in earnings tables, "said" everywhere): those in more than `stopword_share`
    of all sentences (and in at least `stopword_min_sentences`)."""
    df: Counter[str] = Counter()
    n = 0
    for item in items:
        for ws in item.sentence_words:
            n += 1
            df.update({w.key for w in ws if w.common})
    limit = max(settings.stopword_share * n, settings.stopword_min_sentences)
    return frozenset(k for k, c in df.items() if c > limit)


def without_stopwords(items: Sequence[Analyzed], stop: frozenset[str]) -> list[Analyzed]:
    """The same documents with corpus stopwords no longer counted as statement words."""
    if not stop:
        return list(items)
    return [Analyzed(a.doc, tuple(tuple(w._replace(common=False) if w.common and w.key in stop
                                        else w for w in ws) for ws in a.sentence_words))
            for a in items]


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


def sentence_candidates(items: Sequence[Analyzed], settings: Settings
                        ) -> list[tuple[int, int, int, int]]:
    """(doc i, sentence, doc j, sentence) pairs with i < j whose windows share an LSH
    bucket; never all pairs of sentences.

    Two families of windows are sketched: runs of words as word bigrams (passages that
    keep their wording), and runs of common content words as sets (reworded passages).
    """
    perm = window_num_perm(settings)
    out: set[tuple[int, int, int, int]] = set()
    for family, threshold in (("words", settings.sentence_lsh_threshold),
                              ("content", settings.content_lsh_threshold)):
        keys, groups, owners, sets = [], [], [], []
        for d, item in enumerate(items):
            for s, ws in enumerate(item.sentence_words):
                if len(ws) < settings.match_min_words:
                    continue
                for k, shingles in enumerate(sentence_windows(item.doc.text, ws, family,
                                                              settings)):
                    keys.append(f"{d}/{s}/{k}")
                    groups.append(d)
                    owners.append((d, s))
                    sets.append(shingles)
        sketches = list(minhashes(sets, perm, settings.seed))
        for i, j in lsh_pairs(keys, sketches, threshold, perm, groups):
            (di, si), (dj, sj) = owners[i], owners[j]
            out.add((di, si, dj, sj) if di < dj else (dj, sj, di, si))
    return sorted(out)


def sentence_windows(text: str, ws: Sequence[Word], family: str,
                     settings: Settings) -> list[np.ndarray]:
    """Shingle sets of one sentence's windows: word bigrams over runs of words
    (`family="words"`) or the set of common content words over runs of them
    (`family="content"`)."""
    if family == "words":
        keys = [w.key for w in ws]
        return [shingle_hashes(keys[lo:hi], settings.sentence_shingle_size)
                for lo, hi in windows(len(keys), settings.window_words, settings.window_step)]
    keys = ["~" + w.key for w in ws if w.common]
    if len(keys) < 3:
        return []
    size = settings.content_window_words
    return [shingle_hashes(keys[lo:hi], 1)
            for lo, hi in windows(len(keys), size, max(1, size // 2))]


def window_num_perm(settings: Settings) -> int:
    """Sentence windows hold a handful of shingles: fewer permutations sketch them well."""
    return max(16, settings.num_perm // 4)


def find_matches(items: Sequence[Analyzed], settings: Settings,
                 progress: Progress | None = None) -> list[Match]:
    """Align every candidate sentence pair; keep those that share a real passage."""
    candidates = sentence_candidates(items, settings)
    found = []
    for n, (di, si, dj, sj) in enumerate(candidates):
        if progress and n % 500 == 0:
            progress("align", n, len(candidates))
        a, b = items[di], items[dj]
        al = align(a.doc.text, a.sentence_words[si], b.doc.text, b.sentence_words[sj], settings)
        if al is None:
            continue
        wa, wb = a.sentence_words[si], b.sentence_words[sj]
        sa, ea = wa[al.a_words[0]].start, wa[al.a_words[1] - 1].end
        sb, eb = wb[al.b_words[0]].start, wb[al.b_words[1] - 1].end
        found.append(Match(
            id="", a=Span(a.doc.id, sa, ea, a.doc.text[sa:ea]),
            b=Span(b.doc.id, sb, eb, b.doc.text[sb:eb]), a_sentence=si, b_sentence=sj,
            score=al.score, kind=al.kind, ops=al.ops,
        ))
    if progress:
        progress("align", len(candidates), len(candidates))
    return [Match(f"m{k}", m.a, m.b, m.a_sentence, m.b_sentence, m.score, m.kind, m.ops)
            for k, m in enumerate(found, 1)]


def compare_documents(items: Sequence[Analyzed], settings: Settings,
                      progress: Progress | None = None,
                      warnings: Sequence[str] = ()) -> Comparison:
    """Run every analysis stage over analysed documents (sorted by date)."""
    items = sorted(items, key=lambda a: doc_order_key(a.doc))
    order = {a.doc.id: k for k, a in enumerate(items)}
    docs = {a.doc.id: a.doc for a in items}
    duplicates = find_duplicates(items, settings)
    matches = find_matches(without_stopwords(items, corpus_stopwords(items, settings)),
                           settings, progress)
    threads = build_threads(matches, docs)
    divergences = find_divergences(matches, threads, docs)
    return Comparison(
        settings=settings.as_dict(),
        documents=tuple(a.doc for a in items),
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
    raws, problems = read_corpus(paths, max_bytes, metadata, skip_bad)
    items = analyze(raws, settings)
    return compare_documents(items, settings, progress, problems)



def compare_texts(texts: Sequence[tuple[str, str, str | None]], *,
                  settings: Settings | None = None) -> Comparison:
    """Compare articles given as ``(id, text, published)`` triples instead of files.

    Example:
        >>> result = compare_texts([("a", "Talks resumed on Monday.", "2020-01-01"),
        ...                         ("b", "Talks have not resumed.", "2020-01-02")])
    """
    settings = settings or Settings()
    raws = [text_article(doc_id, text, published) for doc_id, text, published in texts]
    return compare_documents(analyze(raws, settings), settings)
