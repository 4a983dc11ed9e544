"""Recurring statements: matches grouped into threads across the timeline.

Each matched sentence is a node and each match an edge; a thread is a connected
component, its members ordered by publication date (undated articles last, by id).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from itertools import islice
from operator import attrgetter

import numpy as np

from .model import Document, Match, Span, Thread, ThreadMember
from .tokens import _WORD as WORD_RE  # the words `words` finds

LABEL_WORDS = 14


class UnionFind:
    """Disjoint sets over hashable items (path halving, union by size)."""

    def __init__(self) -> None:
        self.parent: dict = {}
        self.size: dict = {}

    def find(self, item):  # type: ignore[no-untyped-def]
        """The representative of `item`'s set (adding it when new)."""
        parent = self.parent
        if item not in parent:
            parent[item] = item
            self.size[item] = 1
            return item
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, a, b) -> None:  # type: ignore[no-untyped-def]
        """Merge the sets of `a` and `b`."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]

    def groups(self) -> list[list]:
        """All sets, each as a list in insertion order."""
        out: dict = defaultdict(list)
        for item in self.parent:
            out[self.find(item)].append(item)
        return list(out.values())


def doc_order_key(doc: Document) -> tuple[bool, str, str]:
    """Dated documents first, by date, then undated ones; ties by id."""
    return (doc.published is None, doc.published or "", doc.id)


def label(text: str) -> str:
    """A short label: the first words of a passage."""
    # the words `words` would find, counted only as far as the label needs them
    found = list(islice(WORD_RE.finditer(text), LABEL_WORDS + 1))
    if len(found) <= LABEL_WORDS:
        return text.strip()
    return text[: found[LABEL_WORDS - 1].end()].strip() + " …"


def build_threads(matches: Sequence[Match], docs: Mapping[str, Document]) -> list[Thread]:
    """Group matches into threads, members in date order, threads ordered by reach.

    Each matched sentence is numbered in (date order of its document, sentence) order, so
    that the connected components, each sentence's matched extent and best-matched passage
    are found in numpy; Python makes only the threads' members.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not matches:
        return []
    ranked = sorted(docs, key=lambda d: doc_order_key(docs[d]))
    order = {doc_id: k for k, doc_id in enumerate(ranked)}
    first = np.zeros(len(ranked) + 1, dtype=np.int64)
    np.cumsum([len(docs[d].sentences) for d in ranked], out=first[1:])
    n = len(matches)
    (a_doc, a_sent, a_start, a_end, b_doc, b_sent, b_start, b_end, scores, ids) = zip(
        *map(attrgetter("a.doc", "a_sentence", "a.start", "a.end", "b.doc", "b_sentence",
                        "b.start", "b.end", "score", "id"), matches), strict=True)
    # both sides of every match: entry 2k is match k's side a, 2k + 1 its side b
    node, start, end = (np.empty(2 * n, dtype=np.int64) for _ in range(3))
    node[0::2] = first[[order[d] for d in a_doc]] + np.array(a_sent, dtype=np.int64)
    node[1::2] = first[[order[d] for d in b_doc]] + np.array(b_sent, dtype=np.int64)
    start[0::2], start[1::2], end[0::2], end[1::2] = a_start, b_start, a_end, b_end
    score = np.repeat(np.array(scores, dtype=np.float64), 2)
    # sentences matched, their extent (the union of their passages) and best passage: the
    # first entry, in match order, of those with the highest score
    by_node = np.lexsort((np.arange(2 * n), -score, node))
    sorted_nodes = node[by_node]
    heads = np.flatnonzero(np.r_[True, sorted_nodes[1:] != sorted_nodes[:-1]])
    nodes = sorted_nodes[heads]
    lo = np.minimum.reduceat(start[by_node], heads)
    hi = np.maximum.reduceat(end[by_node], heads)
    best = by_node[heads]  # the entry whose passage labels a thread it starts
    pairs = np.searchsorted(nodes, node).reshape(-1, 2)
    graph = coo_matrix((np.ones(n, dtype=np.int8), (pairs[:, 0], pairs[:, 1])),
                       shape=(len(nodes), len(nodes)))
    count, component = connected_components(graph, directed=False)
    # members: sentences by component, then in node order (date order, sentence)
    member_order = np.argsort(component, kind="stable")
    member_bounds = np.searchsorted(component[member_order], np.arange(count + 1))
    numbers = np.array([_match_number(i) for i in ids], dtype=np.int64)
    match_component = component[pairs[:, 0]]
    match_order = np.lexsort((numbers, match_component))
    match_bounds = np.searchsorted(match_component[match_order], np.arange(count + 1))
    doc_of = np.searchsorted(first, nodes, side="right") - 1
    sent_of = (nodes - first[doc_of]).tolist()
    doc_of, lo, hi, best = doc_of.tolist(), lo.tolist(), hi.tolist(), best.tolist()
    threads = []
    for c in range(count):
        members = []
        group = member_order[member_bounds[c]:member_bounds[c + 1]].tolist()
        for k in group:
            doc = docs[ranked[doc_of[k]]]
            s, e = lo[k], hi[k]
            members.append(ThreadMember(doc.id, doc.published, doc.sentences[sent_of[k]],
                                        Span(doc.id, s, e, doc.text[s:e])))
        b = best[group[0]]
        passage = matches[b // 2].a if b % 2 == 0 else matches[b // 2].b
        dates = [m.published for m in members if m.published]
        threads.append(Thread(
            id="",
            label=label(passage.text),
            members=tuple(members),
            matches=tuple(matches[k].id
                          for k in match_order[match_bounds[c]:match_bounds[c + 1]].tolist()),
            first_published=min(dates) if dates else None,
            last_published=max(dates) if dates else None,
        ))
    threads.sort(key=lambda t: (-len({m.doc for m in t.members}), -_years(t),
                                order[t.members[0].doc], t.members[0].sentence.start))
    return [Thread(f"t{k}", t.label, t.members, t.matches, t.first_published, t.last_published)
            for k, t in enumerate(threads, 1)]


def _years(thread: Thread) -> int:
    if not thread.first_published or not thread.last_published:
        return 0
    return int(thread.last_published[:4]) - int(thread.first_published[:4])


def _match_number(match_id: str) -> int:
    return int(match_id.lstrip("m"))
