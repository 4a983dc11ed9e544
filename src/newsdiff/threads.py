"""Recurring statements: matches grouped into threads across the timeline.

Each matched sentence is a node and each match an edge; a thread is a connected
component, its members ordered by publication date (undated articles last, by id).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from .model import Document, Match, Span, Thread, ThreadMember
from .tokens import words

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
    ws = words(text)
    if len(ws) <= LABEL_WORDS:
        return text.strip()
    return text[: ws[LABEL_WORDS - 1].end].strip() + " …"


def build_threads(matches: Sequence[Match], docs: Mapping[str, Document]) -> list[Thread]:
    """Group matches into threads, members in date order, threads ordered by reach."""
    uf = UnionFind()
    extent: dict[tuple[str, int], tuple[int, int]] = {}
    best: dict[tuple[str, int], tuple[float, str]] = {}  # the best-matched passage, for labels
    for m in matches:
        for span, sent in ((m.a, m.a_sentence), (m.b, m.b_sentence)):
            node = (span.doc, sent)
            lo, hi = extent.get(node, (span.start, span.end))
            extent[node] = (min(lo, span.start), max(hi, span.end))
            if node not in best or m.score > best[node][0]:
                best[node] = (m.score, span.text)
        uf.union((m.a.doc, m.a_sentence), (m.b.doc, m.b_sentence))
    by_root: dict = defaultdict(list)
    for m in matches:
        by_root[uf.find((m.a.doc, m.a_sentence))].append(m.id)
    ranked = sorted(docs, key=lambda d: doc_order_key(docs[d]))
    order = {doc_id: k for k, doc_id in enumerate(ranked)}
    threads = []
    for group in uf.groups():
        members = []
        nodes = sorted(group, key=lambda n: (order[n[0]], n[1]))
        for doc_id, sent in nodes:
            doc = docs[doc_id]
            sentence = doc.sentences[sent]
            lo, hi = extent[(doc_id, sent)]
            members.append(ThreadMember(doc_id, doc.published, sentence,
                                        Span(doc_id, lo, hi, doc.text[lo:hi])))
        dates = [m.published for m in members if m.published]
        threads.append(Thread(
            id="",
            label=label(best[nodes[0]][1]),
            members=tuple(members),
            matches=tuple(sorted(by_root[uf.find(group[0])], key=_match_number)),
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
