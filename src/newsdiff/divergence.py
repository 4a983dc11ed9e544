"""Divergences: comparable facts that differ between two aligned statements.

A match's word alignment (its edit operations) says which words of one statement stand
where which words of the other stand. A fact is compared only with the fact in the same
aligned slot of the other statement:

- **number**: the two numbers count the same aligned noun ("19 members" / "16 members"),
  or the same aligned number gained or lost a comparator ("70 years" / "more than 70
  years"); "four" and "4" are the same value;
- **date**: the two dates sit in the same replaced words between aligned words and do not
  overlap once normalised against each article's date;
- **entity**: a name replaced by a different name (aliases folded: "Abe" is "Shinzo
  Abe") with nothing else changed around it, or the same person under another title;
- **negation**: a negator ("not", "never", "no", "failed to") on one side only, scoping
  over a predicate both statements share ("have not been held" / "have been held"), and
  only as certain as the negated clause is restated by the other statement: the shorter
  statement's words aligned in order, no more than a few words (asides apart) inserted
  between them, its names, numbers and dates all present on the other side, and the
  affirmative side asserting the predicate (not "called on him to resign", "if he
  becomes", "Nguyen's lawyer"); a negated copula ("X is not a N") needs the other side to
  join X to N by a copula or an apposition ("X, the N"), not merely to hold both words;
  nor is it a divergence when the other side denies in other words ("holds no monopoly" /
  "does not hold a monopoly") or when the shared word is inside a name on one side only
  ("the Chrysler Building" / "was not built");
- **stance**: opposite stance words in the same slot ("reluctant to" / "agreed to").

Precision comes first: a fact with no counterpart (added detail) is not a divergence, nor
is a number counting another noun or about another time frame ("their third meeting this
year" / "their fourth over the last seven months"), nor a reworded phrase with the same
facts. Every divergence names both values in a one-sentence explanation; a fuzzy score
never decides one.
"""

from __future__ import annotations

import marshal
import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from functools import cached_property
from typing import NamedTuple

from rapidfuzz.distance import Indel

from . import workers as par
from .facts import (
    ORDINALS,
    STANCES,
    TITLE_WORDS,
    Fact,
    alias_key,
    entities,
    extract_facts,
    fold_aliases,
    may_hold_outside_facts,
    publication_date,
    same_entity,
)
from .model import DIVERGENCE_KINDS, Divergence, Document, EditOp, FactValue, Match, Span, Thread
from .tokens import FUNCTION_WORDS, Word, word_key, words

CONFLICT_DAYS = 3  # articles published within this many days report "about the same time"
MIN_CONFIDENCE = 0.5  # weaker findings are not reported (precision first)
RELATIVE_GRAINS = ("weekday", "relative", "week")
# Words that may stand between a negator and the predicate it negates.
_AUXILIARIES = frozenset(
    """be been being is are was were am has have had do does did will would shall should
    can could may might must yet ever also even really always still been get got
    currently necessarily""".split()
)
_KIND_LABEL = {"number": "Number", "date": "Date", "entity": "Name",
               "negation": "Polarity", "stance": "Stance"}


@dataclass(frozen=True)
class Finding:
    """A divergence before ids and relation are assigned: two facts and why."""

    kind: str
    a: Fact
    b: Fact
    a_value: str
    b_value: str
    a_norm: str
    b_norm: str
    confidence: float
    reason: str


class _Side:
    """One statement of a match: its document, sentence, facts and words."""

    def __init__(self, doc: Document, sentence: Span, facts: Sequence[Fact],
                 tokens: Sequence[Word] | None = None) -> None:
        self.doc = doc
        self.sentence = sentence
        self.facts = facts
        self.words = words(doc.text, sentence.start, sentence.end) if tokens is None else tokens
        # negations, then negative stances ("refused to"): what `_negator_of` looks for
        self.negators = [f for f in facts if f.kind == "negation"] + [
            f for f in facts if f.kind == "stance" and f.polarity < 0]
        self._spans: dict[tuple[int, int], Sequence[Word]] = {}

    # Made when first asked for: most sides of a large comparison never need them.
    @cached_property
    def index_of(self) -> dict[int, int]:
        """Word index by start offset."""
        return {w.start: i for i, w in enumerate(self.words)}

    @cached_property
    def _starts(self) -> list[int]:
        return [w.start for w in self.words]

    @cached_property
    def negator_reach(self) -> frozenset[int]:
        """Indexes of the words a negator may scope over (see `_negator_of`): the five
        after each word inside one."""
        starts = self._starts
        return frozenset(k for f in self.negators
                         for j in range(bisect_left(starts, f.start), bisect_left(starts, f.end))
                         for k in range(j + 1, j + 6))

    def span(self, lo: int, hi: int) -> Sequence[Word]:
        """The words of ``text[lo:hi]``, as `words` would find them: a slice of the
        sentence's words when no word straddles either end (tokenised afresh otherwise).
        Each is found once (the comparisons of one match ask for the same spans)."""
        found = self._spans.get((lo, hi))
        if found is None:
            found = self._spans[(lo, hi)] = self._span(lo, hi)
        return found

    def _span(self, lo: int, hi: int) -> Sequence[Word]:
        ws = self.words
        i, j = bisect_left(self._starts, lo), bisect_left(self._starts, hi)
        if (self.sentence.start <= lo <= hi <= self.sentence.end
                and not (i and ws[i - 1].end > lo) and not (j and ws[j - 1].end > hi)):
            return ws[i:j]
        return words(self.doc.text, lo, hi)

    def facts_in(self, kind: str, lo: int, hi: int) -> list[Fact]:
        """Facts of `kind` whose core lies inside ``[lo, hi)``."""
        return [f for f in self.facts if f.kind == kind and lo <= f.core[0] and f.core[1] <= hi
                and hi > lo]

    def word_index(self, pos: int) -> int:
        """Index of the word starting at or containing offset `pos` (-1 when none)."""
        for i, w in enumerate(self.words):
            if w.start <= pos < w.end or w.start >= pos:
                return i
        return -1


# --- the public entry point ---------------------------------------------------------------

REORDERED_SCORE = 0.5  # below this, a rephrased match's word slots are not roles


def find_divergences(matches: Sequence[Match], threads: Sequence[Thread],
                     docs: Mapping[str, Document], workers: int = 1,
                     known_facts: Mapping[tuple[str, int], list[Fact]] | None = None,
                     known_words: Mapping[tuple[str, int], Sequence[Word]] | None = None,
                     known_holds: Mapping[tuple[str, int], bool] | None = None
                     ) -> list[Divergence]:
    """Comparable facts that differ between the two sides of each match (on `workers`
    forked processes when there are many). `known_facts`: the facts of (document,
    sentence) pairs already found, such as those an index stores; `known_words`: the
    words of (document, sentence) pairs already tokenised; `known_holds`: what
    `may_hold_outside_facts` says of the text of (document, sentence) pairs."""
    global _STATE
    thread_of = {mid: t.id for t in threads for mid in t.matches}
    known = {} if known_facts is None else known_facts
    tokens = known_words or {}
    everything = list(enumerate(matches))
    _STATE = _Work(docs, [], everything, {}, {}, tokens, dict(known_holds or {}))
    try:
        todo = [everything[k] for part in par.parallel_map(
            _may_diverge_chunk, par.chunked(len(everything), CHUNK), workers) for k in part]
        needed = list(dict.fromkeys([(m.a.doc, m.a_sentence) for _, m in todo]
                                    + [(m.b.doc, m.b_sentence) for _, m in todo]))
        # by document, so that what facts.py keeps of one document's text is reused
        keys = sorted(key for key in needed if key not in known)
        _STATE = _Work(docs, keys, todo, {}, {}, tokens, {})
        facts: dict[tuple[str, int], Sequence[Fact] | bytes] = {}
        names: set[str] = set()  # of the entities found here: all `fold_aliases` reads
        chunks = par.chunked(len(keys), CHUNK)
        for span, (part, found_names) in zip(chunks, par.parallel_imap(
                _facts_chunk, chunks, workers), strict=True):
            facts.update(zip([keys[k] for k in span], part, strict=True))
            names.update(found_names)
        named: dict[str, Fact] = {}  # an entity fact per name
        for key in needed:
            if key in known:
                facts[key] = known[key]
                named.update((f.name, f) for f in facts[key] if f.kind == "entity" and f.name)
        # the names found in the workers came back without their facts: one made for each
        # (none in a check, whose facts are all known)
        named.update((n, Fact("entity", 0, 0, n, n, name=n)) for n in names - named.keys())
        aliases = fold_aliases(named.values())
        _STATE = _Work(docs, keys, todo, facts, aliases, tokens, {})
        results = par.parallel_map(_compare_chunk, par.chunked(len(todo), CHUNK), workers)
    finally:
        _STATE = None
    found: list[tuple[tuple, Match, Finding]] = []
    seen: set[tuple] = set()
    for part in results:
        for k, findings in part:
            order, m = todo[k]
            for f in findings:
                key = (f.kind, m.a.doc, f.a.start, f.a.end, m.b.doc, f.b.start, f.b.end)
                if key in seen:
                    continue
                seen.add(key)
                found.append(((order, f.a.start, f.b.start, DIVERGENCE_KINDS.index(f.kind)),
                              m, f))
    found.sort(key=lambda x: x[0])
    return [_divergence(f"d{k}", m, f, docs, thread_of.get(m.id))
            for k, (_, m, f) in enumerate(found, 1)]


class _Work(NamedTuple):
    """What the forked workers of `find_divergences` read (module state: a fork shares it
    without pickling)."""

    docs: Mapping[str, Document]
    keys: list[tuple[str, int]]  # (document, sentence) pairs whose facts are to be found
    todo: list[tuple[int, Match]]  # (order, match) of the matches to compare
    facts: Mapping[tuple[str, int], Sequence[Fact] | bytes]  # bytes: `_facts_bytes`
    aliases: Mapping[str, str]
    tokens: Mapping[tuple[str, int], Sequence[Word]]
    holds: dict[tuple[str, int], bool]  # `_may_diverge`'s, each process its own


_STATE: _Work | None = None
CHUNK = 2000  # sentences or matches a worker takes at a time


def _may_diverge_chunk(indexes: range) -> list[int]:
    """Those of these indexes of `todo` whose match `_may_diverge` (a third of the stage's
    serial time at 10,000 articles when the parent ran it alone)."""
    assert _STATE is not None
    todo, docs, holds = _STATE.todo, _STATE.docs, _STATE.holds
    return [k for k in indexes if _may_diverge(todo[k][1], docs, holds)]


def _facts_chunk(indexes: range) -> tuple[list[bytes], set[str]]:
    """The facts of each of these sentences of `keys` (`_facts_bytes`), and the names of
    the entities among them."""
    assert _STATE is not None
    docs, keys = _STATE.docs, _STATE.keys
    out = []
    names: set[str] = set()
    for i in indexes:
        doc_id, sent = keys[i]
        doc = docs[doc_id]
        s = doc.sentences[sent]
        found = extract_facts(doc.text, s.start, s.end, doc.published)
        names.update(_names(found))
        out.append(_facts_bytes(found))
    return out, names


def _names(facts: Sequence[Fact]) -> list[str]:
    return [f.name for f in facts if f.kind == "entity" and f.name]


_FACT_FIELDS = tuple(f.name for f in fields(Fact))


def _facts_bytes(facts: Sequence[Fact]) -> bytes:
    """Facts as bytes for the processes of this run (`marshal`: never stored, its format
    may change with Python's version). The parent keeps every compared sentence's facts
    until the comparisons: as objects they took 1.4 KB a sentence (510 MB at 10,000
    articles), as bytes under 300 bytes, and the parent no longer rebuilds them all, one
    process after another: each comparing worker rebuilds those it reads."""
    return marshal.dumps([tuple(getattr(f, k) for k in _FACT_FIELDS) for f in facts])


def _facts_of(found: Sequence[Fact] | bytes) -> Sequence[Fact]:
    """The facts `_facts_bytes` wrote (or facts given as they are)."""
    if not isinstance(found, bytes):
        return found
    out = []
    for values in marshal.loads(found):
        fact = object.__new__(Fact)  # as `facts_from_json` makes them: no __init__
        fact.__dict__.update(zip(_FACT_FIELDS, values, strict=True))
        out.append(fact)
    return out


def _compare_chunk(indexes: range) -> list[tuple[int, list[Finding]]]:
    assert _STATE is not None
    docs, todo, facts, aliases, tokens = (_STATE.docs, _STATE.todo, _STATE.facts,
                                          _STATE.aliases, _STATE.tokens)
    sides: dict[tuple[str, int], _Side] = {}

    def side(doc_id: str, sent: int) -> _Side:
        if (doc_id, sent) not in sides:
            doc = docs[doc_id]
            sides[(doc_id, sent)] = _Side(doc, doc.sentences[sent],
                                          _facts_of(facts[(doc_id, sent)]),
                                          tokens.get((doc_id, sent)))
        return sides[(doc_id, sent)]

    out = []
    for k in indexes:
        m = todo[k][1]
        findings = compare_statements(m, side(m.a.doc, m.a_sentence),
                                      side(m.b.doc, m.b_sentence), aliases)
        if findings:
            out.append((k, findings))
    return out


def _may_diverge(m: Match, docs: Mapping[str, Document],
                 holds: dict[tuple[str, int], bool]) -> bool:
    """False for a match no fact comparison can flag, cheaply: two sentences written alike
    word for word, or a verbatim passage in sentences with no negator, stance word or number
    (only those, next to the passage, could then make a difference). Copies of a story and
    recycled passages make most matches of a large corpus. `holds`: what
    `may_hold_outside_facts` said of each (document, sentence) so far."""
    sa, sb = docs[m.a.doc].sentences[m.a_sentence], docs[m.b.doc].sentences[m.b_sentence]
    if sa.text == sb.text or sa.text.split() == sb.text.split():
        return False
    if any(op.op != "equal" for op in m.ops):
        return True
    sides = (((m.a.doc, m.a_sentence), sa.text), ((m.b.doc, m.b_sentence), sb.text))
    if any(holds.get(key) for key, _ in sides):  # a side known to hold one: no test needed
        return True
    for key, text in sides:
        if key not in holds:
            holds[key] = may_hold_outside_facts(text)
        if holds[key]:
            return True
    return False


def compare_statements(match: Match, a: _Side, b: _Side,
                       aliases: Mapping[str, str] | None = None) -> list[Finding]:
    """Facts that differ between the two aligned statements of `match`, slot by slot."""
    aliases = aliases or {}
    ops = list(match.ops)
    found: list[Finding] = []
    found += _numbers(ops, a, b)
    found += _dates(ops, a, b)
    # In a loosely reordered passage (the aligner's rephrase pass, low score) two words in
    # "the same slot" need not play the same role: "Japanese-claimed" against "held by
    # Russia but claimed". Names and stances are compared only where the order holds.
    ordered = match.kind != "rephrased" or match.score >= REORDERED_SCORE
    if ordered:
        found += _entities(ops, a, b, aliases)
    found += _polarity(match, ops, a, b)
    if ordered:
        found += _stances(ops, a, b)
    # (most matches find nothing: what is shared is measured only for a finding)
    shared = support(ops, a, b) if any(f.kind != "negation" for f in found) else 0.0
    out = []
    for f in found:
        # A negation is only as certain as the claim that both statements say the same thing
        # otherwise: that the clause negated on one side is wholly restated on the other
        # ("Tom Jennings is not an ophthalmologist" / "Tom Jennings is a board certified
        # ophthalmologist"), however much the other adds. A number, date or name is
        # anchored by its own slot and loses less.
        weight = (coverage(ops, a, b, aliases, (f.a.start, f.b.start)) if f.kind == "negation"
                  else 0.6 + 0.4 * shared)
        conf = round(f.confidence * weight, 2)
        if conf >= MIN_CONFIDENCE:
            out.append(Finding(f.kind, f.a, f.b, f.a_value, f.b_value, f.a_norm, f.b_norm,
                               conf, f.reason))
    return out


# --- numbers --------------------------------------------------------------------------------

def _comparable_units(fa: Fact, fb: Fact) -> bool:
    return (bool(fa.unit) and fa.unit == fb.unit and fa.ordinal == fb.ordinal
            and fa.modifiers == fb.modifiers and fa.attributive == fb.attributive)


def _numbers(ops: Sequence[EditOp], a: _Side, b: _Side) -> list[Finding]:
    out: list[Finding] = []
    if not (any(f.kind == "number" for f in a.facts)
            and any(f.kind == "number" for f in b.facts)):
        return out  # every finding below pairs a number of each side
    for k, op in enumerate(ops):
        if op.op == "equal":
            # the counted noun is aligned: compare the numbers in front of it, wherever they
            # stand ("The United Nations elected eight judges" / "11 judges were sworn in")
            out += _unit_anchored(op, ops, a, b)
            # the same number word on both sides: did its comparator or unit change?
            for fa, fb in _mapped(op, a, b, "number"):
                if not _comparable_units(fa, fb) and not (fa.unit == fb.unit == ""):
                    continue
                if fa.value == fb.value and not _comparator_conflict(fa, fb):
                    continue
                out.append(_number_finding(fa, fb, 0.85, "the same number is qualified "
                                           "differently"))
            continue
        if op.op != "replace":
            continue
        na = a.facts_in("number", op.a_start, op.a_end)
        nb = b.facts_in("number", op.b_start, op.b_end)
        for fa in na:
            partners = [fb for fb in nb if _comparable_units(fa, fb)]
            rivals = [x for x in na if _comparable_units(x, fa)]
            if len(partners) != 1 or len(rivals) != 1:
                continue  # no counterpart, or several: the slot is ambiguous
            fb = partners[0]
            if fa.value == fb.value and fa.comparator == fb.comparator:
                continue  # "four" and "4"
            if fa.ordinal and _other_frames(op, a, b, fa, fb):
                continue  # "third meeting this year" / "fourth ... over seven months"
            if fa.value == fb.value and not _comparator_conflict(fa, fb):
                continue
            if _unit_aligned(ops, k, fa, fb, a, b):
                continue  # reported by _unit_anchored with the next equal block
            out.append(_number_finding(fa, fb, 0.75, "the same noun is counted differently"))
    return out


def _unit_anchored(op: EditOp, ops: Sequence[EditOp], a: _Side, b: _Side) -> list[Finding]:
    """Numbers whose counted nouns are aligned with each other in the equal block `op`,
    while the numbers themselves are not (those are compared by the caller)."""
    if op.op != "equal":
        return []
    wa = a.span(op.a_start, op.a_end)
    wb = b.span(op.b_start, op.b_end)
    if len(wa) != len(wb):
        return []
    to_b = {x.end: y.end for x, y in zip(wa, wb, strict=True)}
    out = []
    for fa in a.facts:
        if fa.kind != "number" or not fa.unit or fa.unit == "%" or fa.end not in to_b:
            continue
        if op.a_start <= fa.core[0] < op.a_end:
            continue  # the number word itself is aligned: handled as a mapped pair
        fbs = [f for f in b.facts if f.kind == "number" and f.end == to_b[fa.end]]
        if len(fbs) != 1:
            continue
        fb = fbs[0]
        if op.b_start <= fb.core[0] < op.b_end or not _comparable_units(fa, fb):
            continue
        if fa.value == fb.value and not _comparator_conflict(fa, fb):
            continue
        if fa.ordinal and _other_frames_near(a, b, fa, fb):
            continue
        out.append(_number_finding(fa, fb, 0.9, "the same noun is counted differently"))
    return out


def _other_frames_near(a: _Side, b: _Side, fa: Fact, fb: Fact) -> bool:
    """True when the clauses after two ordinals carry different time frames."""
    def frames(side: _Side, fact: Fact) -> set[str]:
        return {f.normalized for f in side.facts if f.kind in ("date", "number")
                and f is not fact and 0 <= f.start - fact.end <= 40}
    return frames(a, fa) != frames(b, fb)


def _comparator_conflict(fa: Fact, fb: Fact) -> bool:
    """Same value, different qualifier: "70 years" vs "more than 70 years" differ (a strict
    bound excludes the value itself); "no more than 200", "about 200", "an average of 200"
    and "200" are compatible."""
    if fa.comparator == fb.comparator:
        return False
    return bool({fa.comparator, fb.comparator} & {">", "<"})


def _unit_aligned(ops: Sequence[EditOp], k: int, fa: Fact, fb: Fact, a: _Side,
                  b: _Side) -> bool:
    """True when the counted nouns of both numbers lie in the next equal block."""
    if k + 1 >= len(ops) or ops[k + 1].op != "equal":
        return False
    nxt = ops[k + 1]
    return nxt.a_start <= fa.end <= nxt.a_end and nxt.b_start <= fb.end <= nxt.b_end


def _other_frames(op: EditOp, a: _Side, b: _Side, fa: Fact, fb: Fact) -> bool:
    """True when either side of the slot, or the clause after either number, carries a
    time frame ("this year", "over the last seven months") the other side does not."""
    def frames(side: _Side, lo: int, hi: int, fact: Fact) -> set[str]:
        after = [f for f in side.facts if f.kind in ("date", "number") and f is not fact
                 and (lo <= f.start < hi or 0 <= f.start - fact.end <= 40)]
        return {f.normalized for f in after}
    return frames(a, op.a_start, op.a_end, fa) != frames(b, op.b_start, op.b_end, fb)


def _number_finding(fa: Fact, fb: Fact, conf: float, reason: str) -> Finding:
    return Finding("number", fa, fb, fa.text, fb.text, _number_norm(fa), _number_norm(fb),
                   conf, reason)


def _number_norm(f: Fact) -> str:
    return f.normalized


def _mapped(op: EditOp, a: _Side, b: _Side, kind: str) -> list[tuple[Fact, Fact]]:
    """Pairs of facts of `kind` whose cores start at the same word of an equal block."""
    wa = a.span(op.a_start, op.a_end)
    wb = b.span(op.b_start, op.b_end)
    if len(wa) != len(wb):
        return []
    pos_b = {wa[i].start: wb[i].start for i in range(len(wa))}
    out = []
    for fa in a.facts_in(kind, op.a_start, op.a_end):
        target = pos_b.get(fa.core[0])
        for fb in b.facts:
            if fb.kind == kind and fb.core[0] == target:
                out.append((fa, fb))
    return out


# --- dates ----------------------------------------------------------------------------------

def _dates(ops: Sequence[EditOp], a: _Side, b: _Side) -> list[Finding]:
    out: list[Finding] = []
    pub_a, pub_b = publication_date(a.doc.published), publication_date(b.doc.published)
    far_apart = bool(pub_a and pub_b and abs((pub_a - pub_b).days) > 7)
    for op in ops:
        if op.op != "replace":
            continue
        da = _overlapping(a, "date", op.a_start, op.a_end)
        db = _overlapping(b, "date", op.b_start, op.b_end)
        if len(da) != 1 or len(db) != 1:
            continue
        fa, fb = da[0], db[0]
        if not _tight(op, a, b, fa, fb):
            continue
        relative = fa.grain in RELATIVE_GRAINS + ("month",) and \
            fb.grain in RELATIVE_GRAINS + ("month",)
        if fa.lo and fb.lo:
            if fa.lo <= fb.hi and fb.lo <= fa.hi:
                continue  # one contains or overlaps the other: "Dec. 15" in "next month"
            if far_apart and relative:
                continue  # "Monday" in 2013 and "Saturday" in 2016 name different days
            conf = 0.85 if fa.grain in ("day", "days", "year") and fb.grain in (
                "day", "days", "year") else 0.7
        elif fa.grain == fb.grain and fa.normalized != fb.normalized and not fa.lo \
                and not fb.lo:
            conf = 0.6
        else:
            continue
        out.append(Finding("date", fa, fb, fa.text, fb.text, fa.normalized, fb.normalized,
                           conf, "the same event is dated differently"))
    return out


def _extra_content(side: _Side, lo: int, hi: int, fact: Fact) -> list[str]:
    """Content words of ``[lo, hi)`` outside `fact`'s span (other than function words)."""
    return [w.norm for w in side.span(lo, hi)
            if not (fact.start <= w.start < fact.end) and w.norm not in FUNCTION_WORDS]


def _tight(op: EditOp, a: _Side, b: _Side, fa: Fact, fb: Fact, slack: int = 1) -> bool:
    """True when the replaced words are little more than the two facts themselves."""
    ea = _extra_content(a, op.a_start, op.a_end, fa)
    eb = _extra_content(b, op.b_start, op.b_end, fb)
    return len(ea) <= slack and len(eb) <= slack


# --- entities ---------------------------------------------------------------------------------

def _entities(ops: Sequence[EditOp], a: _Side, b: _Side,
              aliases: Mapping[str, str]) -> list[Finding]:
    out: list[Finding] = []
    for k, op in enumerate(ops):
        if op.op != "replace":
            continue
        ea = _overlapping(a, "entity", op.a_start, op.a_end)
        eb = _overlapping(b, "entity", op.b_start, op.b_end)
        if len(ea) != 1 or len(eb) != 1:
            continue
        fa, fb = ea[0], eb[0]
        if same_entity(fa, fb, aliases):
            if fa.title and fb.title and _title_key(fa.title) != _title_key(fb.title) and \
                    _inside(op.a_start, op.a_end, fa) and _inside(op.b_start, op.b_end, fb):
                out.append(Finding("entity", fa, fb, fa.text, fb.text,
                                   f"{fa.title} {fa.name}", f"{fb.title} {fb.name}", 0.6,
                                   "the same person is given another title"))
            continue
        if not (0 < k < len(ops) - 1):
            continue  # a name at the edge of the passage has no aligned context
        if not (_covers(op.a_start, op.a_end, fa, a) and _covers(op.b_start, op.b_end, fb, b)):
            continue  # other words changed too: maybe another role, not another name
        if not (op.a_start <= _name_start(fa) and fa.end <= op.a_end
                and op.b_start <= _name_start(fb) and fb.end <= op.b_end):
            continue  # names that share words ("Golden Bear", "Golden Palm") name kin
        if not _compatible_types(fa, fb):
            continue
        out.append(Finding("entity", fa, fb, fa.text, fb.text, aliases.get(fa.name, fa.name),
                           aliases.get(fb.name, fb.name), 0.75,
                           "another name stands in the same place"))
    return out


def _name_start(fact: Fact) -> int:
    """Where the name proper starts inside an entity's span (after its title)."""
    if not fact.title or not fact.name:
        return fact.start
    at = fact.text.find(fact.name.split()[0], len(fact.title))
    return fact.start + max(at, 0)


def _title_key(title: str) -> str:
    """A title without nationality ("Russian Foreign Minister" -> "foreign minister")."""
    from .facts import NATIONALITIES

    return " ".join(w for w in title.lower().split() if w not in NATIONALITIES)


def _overlapping(side: _Side, kind: str, lo: int, hi: int) -> list[Fact]:
    return [f for f in side.facts if f.kind == kind and f.start < hi and lo < f.end]


def _inside(lo: int, hi: int, fact: Fact) -> bool:
    """True when the changed words fall inside the fact's span."""
    return fact.start <= lo and hi <= fact.end


def _covers(lo: int, hi: int, fact: Fact, side: _Side) -> bool:
    """True when the changed words are the name itself (plus function words)."""
    outside = [w for w in side.span(lo, hi)
               if not (fact.start <= w.start < fact.end) and w.norm not in FUNCTION_WORDS]
    return not outside


def _compatible_types(fa: Fact, fb: Fact) -> bool:
    return fa.etype == fb.etype or "name" in (fa.etype, fb.etype)


# --- negation ---------------------------------------------------------------------------------

def _polarity(match: Match, ops: Sequence[EditOp], a: _Side, b: _Side) -> list[Finding]:
    """Shared (aligned) words negated on one side only, the negator looked for in the
    whole sentence: a passage often starts just after "will not"."""
    out: list[Finding] = []
    if not a.negators and not b.negators:
        return out  # no negator on either side to scope over a shared word
    done: set[int] = set()
    pairs: list[tuple[Word, Word]] = []
    for op in ops:
        if op.op != "equal":
            continue
        wa = a.span(op.a_start, op.a_end)
        wb = b.span(op.b_start, op.b_end)
        if len(wa) == len(wb):
            pairs += zip(wa, wb, strict=True)
    for op in ops:
        if op.op != "equal":
            continue
        wa = a.span(op.a_start, op.a_end)
        wb = b.span(op.b_start, op.b_end)
        if len(wa) != len(wb):
            continue
        for x, y in zip(wa, wb, strict=True):
            if x.norm in FUNCTION_WORDS or x.norm in _AUXILIARIES:
                continue
            na, nb = _negator_of(a, x), _negator_of(b, y)
            if (na is None) == (nb is None):
                continue
            neg, side, word = (na, a, x) if na is not None else (nb, b, y)
            if neg.start in done:
                continue
            done.add(neg.start)
            other, oword = (b, y) if side is a else (a, x)
            if neg.normalized in STANCES and _stance_before(other, oword):
                continue  # "reluctant to X" / "agreed to X": a stance divergence
            if _not_asserted(other, oword, side, word):
                continue  # "called on Singh to resign" does not say that he resigned
            if not _linked(pairs if side is a else [(q, p) for p, q in pairs], side, neg,
                           word, other, oword):
                continue  # "Prabhakaran, diplomats said" does not say he is a diplomat
            if _ranked_otherwise(side, word, other, oword):
                continue  # "the first man in orbit" / "the first American man to orbit"
            if _name_word(side, word) != _name_word(other, oword):
                continue  # "the Chrysler Building" / "was not built"
            if _negated_nearby(other, [q if side is a else p for p, q in pairs], oword,
                               {f.normalized for f in side.facts if f.kind == "negation"}):
                continue  # "holds no monopoly" / "does not hold a monopoly": both deny
            f_neg = _predicate_fact(side, neg, word)
            f_pos = _predicate_fact(other, None, oword, start=_clause_start(other, oword))
            conf = 0.9 if neg.normalized in ("not", "never", "no longer", "failed to") else 0.75
            reason = f'"{neg.text}" negates what both say'
            if side is a:
                out.append(Finding("negation", f_neg, f_pos, f_neg.text, f_pos.text,
                                   "negative", "affirmative", conf, reason))
            else:
                out.append(Finding("negation", f_pos, f_neg, f_pos.text, f_neg.text,
                                   "affirmative", "negative", conf, reason))
    return out


_RANK_WORDS = frozenset(ORDINALS) | {"last", "only", "latest", "largest", "biggest",
                                     "smallest", "highest", "lowest", "deepest", "longest",
                                     "tallest", "oldest", "youngest", "best", "worst"}


def _ranked_otherwise(side: _Side, word: Word, other: _Side, oword: Word) -> bool:
    """True when a rank ("first", "deepest") is said of another thing on the two sides:
    the words right before or after it differ ("the eighth deepest lake" / "the deepest
    lake"; "the first American man" / "the first man")."""
    if word.norm not in _RANK_WORDS:
        return False

    def around(s: _Side, w: Word) -> tuple[str, str]:
        i = s.index_of[w.start]
        prev = s.words[i - 1].key if i > 0 else ""
        nxt = s.words[i + 1].key if i + 1 < len(s.words) else ""
        return prev, nxt
    (pa, na), (pb, nb) = around(side, word), around(other, oword)
    neg_words = _POLARITY_WORDS | _DETERMINERS
    return (pa != pb and pa not in neg_words and pb not in neg_words) or na != nb


def _name_word(side: _Side, word: Word) -> bool:
    """True for a capitalised word after another capitalised content word: the inside of
    a name ("Building" in "the Chrysler Building"), other than a title ("President")."""
    text = side.doc.text
    idx = side.index_of[word.start]
    if idx == 0 or not text[word.start].isupper() or word.norm in TITLE_WORDS:
        return False
    prev = side.words[idx - 1]
    return text[prev.start].isupper() and prev.norm not in FUNCTION_WORDS and \
        text[prev.end:word.start] == " "


def _negated_nearby(side: _Side, aligned: Sequence[Word], word: Word,
                    shared: set[str]) -> bool:
    """True when `side` holds a negator of its own (not one of `shared`, which the other
    side holds too) within its aligned words around `word`, in the same clause: its
    statement is then negative too, in other words."""
    lo, hi = _clause(side, word.start)
    spans = [w for w in aligned if lo <= w.start < hi]
    if not spans:
        return False
    first, last = spans[0].start, spans[-1].end
    return any(f.kind == "negation" and first <= f.start < last and f.normalized not in shared
               for f in side.facts)


_COPULAS = frozenset("is are was were be been being am 's".split())
_DETERMINERS = frozenset("a an the".split())
# What may join a subject to what a copula says it is, on the side that says so: "Tom
# Jennings is a board certified ophthalmologist", "Paul Watson, the founder of", "Walter
# Mears, a columnist for", "Kozyrev, who was the Soviet foreign minister".
_LINK = re.compile(
    r"^[\s,()\[\]]*"
    r"(?:(?:a|an|the)\s+(?:[\w’'-]+\s+){1,3}(?:who|which|that)\s+)?"
    r"(?:(?:who|which|that)\s+)?"
    r"(?:(?:is|are|was|were|be|been|being|has|have|had|will|would|also|still|now|then|"
    r"currently|later|formerly|already|became|become|becomes|remains|remained|serves|"
    r"served|as)\s+)*"
    r"(?:(?:a|an|the)\s+)?(?:\w[\w’',.-]*\s+){0,3}$", re.I)
_NOT_MODIFIERS = FUNCTION_WORDS - _DETERMINERS


def _linked(pairs: Sequence[tuple[Word, Word]], side: _Side, neg: Fact, word: Word,
            other: _Side, oword: Word) -> bool:
    """For a negated copula ("X is not a N"), True when `other` joins its X to its N as a
    copula or an apposition does; True for other statements."""
    subjects = [w for w in side.words if w.end <= neg.start and w.norm not in FUNCTION_WORDS
                and w.norm not in _AUXILIARIES]
    if not subjects:
        return True
    subj = subjects[-1]
    between = [w for w in side.words if subj.end <= w.start and w.end <= word.start
               and not (neg.start <= w.start < neg.end)]
    after_neg = [w for w in between if w.start >= neg.end]
    if not any(w.norm in _COPULAS for w in between) or any(
            w.norm not in _COPULAS | _AUXILIARIES | _DETERMINERS | _POLARITY_WORDS
            for w in between) or not (neg.normalized == "no" or any(
                w.norm in _DETERMINERS for w in after_neg)):
        return True  # not "X is not a N" with its subject right before it
    counterpart = [q for p, q in pairs if p.start == subj.start]
    if not counterpart:
        return _named_after(pairs, subj, other, oword)
    if counterpart[0].end > oword.start:
        return False  # the other side does not say of this X that it is a N
    osubj = counterpart[0]
    link = other.doc.text[osubj.end:oword.start]
    if not _LINK.match(link):
        return False
    tail = words(link)
    if "," in link and not any(w.norm in _COPULAS | _DETERMINERS for w in tail):
        return False  # "Lavrov, diplomats said": a comma alone is no apposition
    return not any(w.norm in _NOT_MODIFIERS for w in tail
                   if w.norm not in _COPULAS | _AUXILIARIES | {"who", "which", "that", "as"})


def _named_after(pairs: Sequence[tuple[Word, Word]], subj: Word, other: _Side,
                 oword: Word) -> bool:
    """True when `other` names the subject right after the aligned words that say what it
    is, as a title or an expansion does: "Field Marshal Pibul", "the International
    Olympic Committee (IOC)", "the High Representative for the CFSP, Javier Solana"."""
    for occ in other.words:
        if occ.key != subj.key or occ.start <= oword.start:
            continue
        said = [q for _, q in pairs if oword.start <= q.start and q.end <= occ.start]
        if said and re.fullmatch(r"[\s,(]*(?:the\s+)?(?:[A-Z][\w.'’-]*\s+){0,3}",
                                 other.doc.text[said[-1].end:occ.start]):
            return True
    return False


def support(ops: Sequence[EditOp], a: _Side, b: _Side) -> float:
    """How much of the two aligned passages is shared: the geometric mean of the share of
    each passage's content words that are aligned with the other's (1.0 for a verbatim
    passage, low for two statements that share a few words across long detours)."""
    if not ops:
        return 0.0
    shared = sum(1 for o in ops if o.op == "equal" for w in a.span(o.a_start, o.a_end)
                 if w.norm not in FUNCTION_WORDS)

    def content(side: _Side, lo: int, hi: int) -> int:
        return sum(1 for w in side.span(lo, hi) if w.norm not in FUNCTION_WORDS) or 1
    ca = content(a, ops[0].a_start, ops[-1].a_end)
    cb = content(b, ops[0].b_start, ops[-1].b_end)
    return min(1.0, (shared / ca * shared / cb) ** 0.5)


MAX_GAP = 3  # content words the longer statement may insert between two shared ones
# An aside the longer statement inserts whole: ", wife of the former ambassador Joseph
# Wilson," or "(born February 18, 1933 in Tokyo)" or "-- Botswana's joint venture --".
_PARENTHETICAL = re.compile(r",[^,;:.!?]*,|\([^()]*\)|\s[-–—]{1,2}\s[^-–—]*\s[-–—]{1,2}\s")
# Negators and the auxiliaries around them: not part of what a statement says about what.
_POLARITY_WORDS = frozenset("""not n't never no none nobody nothing nor neither cannot
    ever""".split())


def coverage(ops: Sequence[EditOp], a: _Side, b: _Side,
             aliases: Mapping[str, str] | None = None,
             at: tuple[int, int] | None = None) -> float:
    """How wholly the shorter statement is restated by the longer: the share of its
    content words (negators and auxiliaries aside) aligned in order with the other's, 0.0
    when the longer one puts more than `MAX_GAP` content words between two of them or does
    not carry each of its names, numbers and dates (those of the clause holding offset
    `at` of each side, when given: the other clauses may differ in other ways)."""
    def content(side: _Side) -> list[Word]:
        return [w for w in side.words if w.norm not in FUNCTION_WORDS and w.norm not in
                _AUXILIARIES and w.norm not in _POLARITY_WORDS and not w.norm.endswith("n't")]
    ca, cb = content(a), content(b)
    if not ca or not cb:
        return 0.0
    short, long_, lo_hi = (a, b, "a") if len(ca) <= len(cb) else (b, a, "b")
    equal = [o for o in ops if o.op == "equal"]
    if not equal:
        return 0.0
    spans = [(o.a_start, o.a_end) if lo_hi == "a" else (o.b_start, o.b_end) for o in equal]
    aligned = sum(1 for w in content(short) if any(s <= w.start < e for s, e in spans))
    long_spans = [(o.b_start, o.b_end) if lo_hi == "a" else (o.a_start, o.a_end)
                  for o in equal]
    for (_, lo), (hi, _) in zip(long_spans, long_spans[1:], strict=False):
        between = _PARENTHETICAL.sub(" ", long_.doc.text[lo:hi])
        if sum(1 for w in words(between) if w.norm not in FUNCTION_WORDS) > MAX_GAP:
            return 0.0
    clause = _clause(short, (at[0] if lo_hi == "a" else at[1]) if at else None)
    if not _facts_carried(short, long_, aliases or {}, clause):
        return 0.0
    return aligned / len(content(short))


def _clause(side: _Side, pos: int | None) -> tuple[int, int]:
    """The clause of `side`'s sentence around offset `pos` (the whole sentence if None)."""
    lo, hi = side.sentence.start, side.sentence.end
    if pos is None:
        return lo, hi
    text = side.doc.text
    left = max((m.end() for m in _CLAUSE_MARK.finditer(text, lo, pos)), default=lo)
    right = _CLAUSE_MARK.search(text, pos, hi)
    return left, right.start() if right else hi


_CLAUSE_MARK = re.compile(r"[,;:!?“”\"()]|\s[-–—]{1,2}\s")


def _facts_carried(short: _Side, long_: _Side, aliases: Mapping[str, str],
                   clause: tuple[int, int]) -> bool:
    """True when every name, number and date in the `clause` of `short` has its like in
    `long_`: a statement about another person, count or time is another statement."""
    named = [g for g in long_.facts if g.kind == "entity"]
    if any(w.norm in _PRONOUNS for w in long_.words):
        # "Nor did she plan to stop buying": she is the one the sentence before names
        lo = max(0, long_.sentence.start - 400)
        named += entities(long_.doc.text, lo, long_.sentence.start)
    return all(_has_like(f, named, long_.facts, aliases) for f in short.facts
               if clause[0] <= f.start < clause[1])


def _has_like(f: Fact, named: Sequence[Fact], facts: Sequence[Fact],
              aliases: Mapping[str, str]) -> bool:
    """True when a name, number or date `f` has its like among `named` or `facts`."""
    if f.kind == "entity":
        return any(same_entity(f, g, aliases) or _ends_with(g, f) for g in named)
    if f.kind == "number":
        return any(g.kind == "number" and g.value == f.value for g in facts)
    if f.kind == "date":
        return any(g.kind == "date" and (g.normalized == f.normalized or bool(
            f.lo and g.lo and f.lo <= g.hi and g.lo <= f.hi)) for g in facts)
    return True


_PRONOUNS = frozenset("he she it they him her his its their them".split())


def _ends_with(longer: Fact, name: Fact) -> bool:
    """True when `longer`'s name ends with `name`'s words, as a name does after a title
    the extractor did not know ("Foreign Affairs Minister Alexander Downer")."""
    lw, nw = alias_key(longer.name).split(), alias_key(name.name).split()
    return len(nw) < len(lw) and lw[-len(nw):] == nw


def _negator_of(side: _Side, word: Word) -> Fact | None:
    """The negator scoping over `word`: within four words before it with only
    auxiliaries, adverbs and articles between ("have not been held", "no progress",
    "failed to resolve"), or a negative stance word ("refused to accept")."""
    negs = side.negators
    if not negs:
        return None
    idx = side.index_of.get(word.start)
    if idx is None or idx not in side.negator_reach:
        return None
    j = idx - 1
    steps = 0
    while j >= 0 and steps < 5:
        w = side.words[j]
        gap = side.doc.text[w.end:side.words[j + 1].start]
        if any(ch in gap for ch in ",;:.!?()\"“”"):
            return None
        for f in negs:
            if f.start <= w.start < f.end:
                if f.kind == "negation":
                    return f
                # "refused to sell", "reluctant to reconvene"; not "sales declined"
                after = side.doc.text[f.end:f.end + 4]
                return _as_negation(f) if after.startswith(" to ") else None
        if w.norm not in _AUXILIARIES and w.norm not in _BRIDGE:
            return None
        j -= 1
        steps += 1
    return None


# words that may stand between a negator and what it negates
_BRIDGE = frozenset("""to a an the any its their his her our this that so as too very
    yet ever been be able much longer he she it they we i you""".split())


# Words that make what follows them in a clause a wish, a plan, a condition or a
# possibility rather than a fact.
_IRREALIS = frozenset("""if unless whether would could may might should wish wishes
    deny denies denied doubt doubts doubted
    wished want wants wanted plan plans planned hope hopes hoped expect expects expected
    likely ask asks asked urge urges urged incentive""".split())


# Verbs and adjectives before "to" that state their complement happened ("has gone on to
# become", "managed to escape", "was able to eat").
_IMPLICATIVE = frozenset("""managed manage manages on began begun begin begins started
    start starts continued continue continues able proceeded came""".split())
# "it's", "that's": a verb, not a possessive
_CONTRACTED = frozenset("it he she that there what who here where let".split())


def _not_asserted(side: _Side, word: Word, other: _Side, oword: Word) -> bool:
    """True when `side` does not state what `word` says while `other` does: `word` is an
    infinitive ("called on him to resign"), follows a marker of wish, plan, condition or
    possibility ("if he becomes", "may wish for him to take up") that `other` lacks, or
    names something a possessive owns ("Nguyen's lawyer" does not say Nguyen is one)."""
    def before(s: _Side, w: Word, n: int) -> list[Word]:
        idx = s.index_of[w.start]
        out: list[Word] = []
        for j in range(idx - 1, max(-1, idx - 1 - n), -1):
            gap = s.doc.text[s.words[j].end:s.words[j + 1].start]
            if any(ch in gap for ch in ";:.!?"):
                break
            out.append(s.words[j])
        return out
    near = [w for w in before(side, word, 4) if w.norm not in _AUXILIARIES
            and w.norm not in _BRIDGE - {"to"}]
    onear = [w for w in before(other, oword, 4) if w.norm not in _AUXILIARIES
             and w.norm not in _BRIDGE - {"to"}]
    prev = before(side, word, 1)
    oprev = before(other, oword, 1)
    if near and near[0].norm == "to" and not (onear and onear[0].norm == "to") and not (
            len(near) > 1 and near[1].norm in _IMPLICATIVE):
        return True
    if prev and prev[0].norm.endswith("'s") and prev[0].norm[:-2] not in _CONTRACTED and \
            not (oprev and oprev[0].key == prev[0].key):
        return True
    marks = {w.key for w in before(side, word, 8) if w.norm in _IRREALIS}
    return bool(marks - {w.key for w in before(other, oword, 8)})


def _stance_before(side: _Side, word: Word) -> bool:
    """True when a stance word stands within three words before `word`."""
    before = [w for w in side.words if w.end <= word.start][-3:]
    lo = before[0].start if before else word.start
    return bool(side.facts_in("stance", lo, word.start))


def _as_negation(stance: Fact) -> Fact:
    return Fact("negation", stance.start, stance.end, stance.text, stance.normalized,
                polarity=-1)


def _clause_start(side: _Side, word: Word) -> int:
    """Where the affirmative predicate begins: up to three auxiliaries before `word`."""
    idx = side.index_of[word.start]
    start = word.start
    j = idx - 1
    while j >= 0 and idx - j <= 3 and side.words[j].norm in _AUXILIARIES:
        start = side.words[j].start
        j -= 1
    return start


def _predicate_fact(side: _Side, neg: Fact | None, target: Word, start: int | None = None
                    ) -> Fact:
    """A span from the negator (or `start`) through the negated word, as written."""
    lo = neg.start if neg is not None else (start if start is not None else target.start)
    lo = min(lo, target.start)
    text = side.doc.text[lo:target.end]
    return Fact("negation", lo, target.end, text, "negative" if neg else "affirmative")


def _stance_in(side: _Side, lo: int, hi: int, polarity: int) -> bool:
    return any(f.polarity == polarity for f in side.facts_in("stance", lo, hi))


# --- stance -----------------------------------------------------------------------------------

def _stances(ops: Sequence[EditOp], a: _Side, b: _Side) -> list[Finding]:
    out: list[Finding] = []
    for op in ops:
        if op.op != "replace":
            continue
        sa = a.facts_in("stance", op.a_start, op.a_end)
        sb = b.facts_in("stance", op.b_start, op.b_end)
        if len(sa) != 1 or len(sb) != 1:
            continue
        fa, fb = sa[0], sb[0]
        if fa.polarity == fb.polarity or _negated_fact(a, fa) != _negated_fact(b, fb):
            continue
        out.append(Finding("stance", fa, fb, fa.text, fb.text,
                           f"{fa.normalized} ({_side_word(fa.polarity)})",
                           f"{fb.normalized} ({_side_word(fb.polarity)})", 0.85,
                           "opposite stances in the same place"))
    return out


def _negated_fact(side: _Side, fact: Fact) -> bool:
    before = [w for w in side.words if w.end <= fact.start][-3:]
    lo = before[0].start if before else fact.start
    return bool(side.facts_in("negation", lo, fact.start))


def _side_word(polarity: int) -> str:
    return "for" if polarity > 0 else "against"


# --- assembling a Divergence -------------------------------------------------------------------

def _divergence(div_id: str, m: Match, f: Finding, docs: Mapping[str, Document],
                thread: str | None) -> Divergence:
    da, db = docs[m.a.doc], docs[m.b.doc]
    va = FactValue(f.a_value, f.a_norm, Span(da.id, f.a.start, f.a.end, da.text[f.a.start:f.a.end]),
                   da.published)
    vb = FactValue(f.b_value, f.b_norm, Span(db.id, f.b.start, f.b.end, db.text[f.b.start:f.b.end]),
                   db.published)
    pa, pb = publication_date(da.published), publication_date(db.published)
    if pa and pb and abs((pa - pb).days) > CONFLICT_DAYS:
        relation = "change"
        if pb < pa:
            va, vb = vb, va
        explanation = (f'{_KIND_LABEL[f.kind]} changed: "{va.value}" in {va.span.doc} '
                       f'({va.published}) became "{vb.value}" in {vb.span.doc} '
                       f'({vb.published}); {f.reason}.')
    else:
        relation = "conflict"
        when = (f"both {pa.isoformat()}" if pa and pb and pa == pb else
                f"{da.published or 'undated'} and {db.published or 'undated'}")
        explanation = (f'{_KIND_LABEL[f.kind]} conflict: {va.span.doc} says "{va.value}" '
                       f'where {vb.span.doc} says "{vb.value}" ({when}); {f.reason}.')
    return Divergence(div_id, f.kind, m.id, thread, va, vb, relation, explanation,
                      round(max(0.0, min(1.0, f.confidence)), 2))


# --- pairing short statements without the corpus alignment -------------------------------------

def statement_match(match_id: str, doc_a: Document, sent_a: int, doc_b: Document,
                    sent_b: int, min_shared: int = 2) -> Match | None:
    """Align two whole sentences on their content words (word keys: "accepts"/"accept",
    "four"/"4"), for statements too short or too reworded for the corpus alignment.

    Equal blocks are single shared content words (or identical runs); what lies between
    two of them becomes a replace, insert or delete. Returns None when fewer than
    `min_shared` content words are shared.
    """
    sa, sb = doc_a.sentences[sent_a], doc_b.sentences[sent_b]
    wa = words(doc_a.text, sa.start, sa.end)
    wb = words(doc_b.text, sb.start, sb.end)
    ca = [w for w in wa if w.norm not in FUNCTION_WORDS]
    cb = [w for w in wb if w.norm not in FUNCTION_WORDS]
    pairs: list[tuple[Word, Word]] = []
    for tag, i1, i2, j1, j2 in Indel.opcodes([lemma(w) for w in ca], [lemma(w) for w in cb]):
        if tag == "equal":
            pairs.extend(zip(ca[i1:i2], cb[j1:j2], strict=True))
    if len(pairs) < min_shared:
        return None
    text_a, text_b = doc_a.text, doc_b.text
    ops: list[EditOp] = []
    for n, (x, y) in enumerate(pairs):
        if n:
            px, py = pairs[n - 1]
            gap_a = [w for w in wa if px.end <= w.start and w.end <= x.start]
            gap_b = [w for w in wb if py.end <= w.start and w.end <= y.start]
            ops.append(_gap_op(text_a, text_b, gap_a, gap_b, px.end, py.end))
        ops.append(EditOp("equal", x.start, x.end, y.start, y.end, text_a[x.start:x.end],
                          text_b[y.start:y.end]))
    ops = _merge_equal(ops, text_a, text_b)
    (x0, y0), (x1, y1) = pairs[0], pairs[-1]
    n_eq = sum(1 for _ in pairs)
    score = round(2 * n_eq / (len(ca) + len(cb)), 4)
    return Match(match_id, Span(doc_a.id, x0.start, x1.end, text_a[x0.start:x1.end]),
                 Span(doc_b.id, y0.start, y1.end, text_b[y0.start:y1.end]), sent_a, sent_b,
                 score, "rephrased", tuple(ops))


# Irregular English verb forms, each with its base form: "took" aligns with "take".
_IRREGULAR = {form: base for base, forms in (
    ("be", "am is are was were been being"), ("become", "became"), ("begin", "began begun"),
    ("break", "broke broken"), ("bring", "brought"), ("build", "built"), ("buy", "bought"),
    ("catch", "caught"), ("choose", "chose chosen"), ("come", "came"), ("die", "died dies"),
    ("do", "did done does"), ("draw", "drew drawn"), ("drive", "drove driven"),
    ("eat", "ate eaten"), ("fall", "fell fallen"), ("feel", "felt"), ("fight", "fought"),
    ("find", "found"), ("fly", "flew flown flies"), ("get", "got gotten"),
    ("give", "gave given"), ("go", "went gone goes"), ("grow", "grew grown"),
    ("have", "has had"), ("hear", "heard"), ("hide", "hid hidden"), ("hold", "held"),
    ("keep", "kept"), ("know", "knew known"), ("lead", "led"), ("leave", "left"),
    ("lie", "lay lain"), ("live", "lived lives"), ("lose", "lost"), ("make", "made"),
    ("mean", "meant"), ("meet", "met"), ("pay", "paid"), ("ride", "rode ridden"),
    ("rise", "rose risen"), ("run", "ran"), ("say", "said"), ("see", "saw seen"),
    ("sell", "sold"), ("send", "sent"), ("shoot", "shot"), ("show", "shown"),
    ("sing", "sang sung"), ("sit", "sat"), ("speak", "spoke spoken"), ("spend", "spent"),
    ("stand", "stood"), ("steal", "stole stolen"), ("strike", "struck"),
    ("swear", "swore sworn"), ("take", "took taken"), ("teach", "taught"),
    ("tell", "told"), ("think", "thought"), ("throw", "threw thrown"),
    ("understand", "understood"), ("wear", "wore worn"), ("win", "won"),
    ("withdraw", "withdrew withdrawn"), ("write", "wrote written"), ("bear", "bore born"),
    ("forbid", "forbade forbidden"), ("seek", "sought"), ("shake", "shook shaken"),
    ("fly", "flew"), ("bite", "bit bitten"), ("beat", "beaten"), ("arise", "arose arisen"),
) for form in (base, *forms.split())}


def lemma(word: Word) -> str:
    """The key two statements' words are paired by: the word key, with irregular verb
    forms folded to their base ("took", "taken" -> "take") and a final "e" dropped so that
    "live", "lives" and "lived" meet."""
    base = _IRREGULAR.get(word.norm)
    key = word_key(base) if base else word.key
    return key[:-1] if len(key) > 3 and key.endswith("e") else key


def _gap_op(text_a: str, text_b: str, gap_a: Sequence[Word], gap_b: Sequence[Word],
            at_a: int, at_b: int) -> EditOp:
    """The op for the words between two aligned content words."""
    a_s, a_e = (gap_a[0].start, gap_a[-1].end) if gap_a else (at_a, at_a)
    b_s, b_e = (gap_b[0].start, gap_b[-1].end) if gap_b else (at_b, at_b)
    if [w.key for w in gap_a] == [w.key for w in gap_b]:
        tag = "equal"
    elif gap_a and gap_b:
        tag = "replace"
    else:
        tag = "delete" if gap_a else "insert"
    return EditOp(tag, a_s, a_e, b_s, b_e, text_a[a_s:a_e], text_b[b_s:b_e])


def _merge_equal(ops: Iterable[EditOp], text_a: str, text_b: str) -> list[EditOp]:
    """Fuse neighbouring equal ops (and drop empty ones) so equal blocks are maximal."""
    out: list[EditOp] = []
    for op in ops:
        if op.op == "equal" and op.a_start == op.a_end and op.b_start == op.b_end:
            continue
        if out and op.op == "equal" and out[-1].op == "equal":
            p = out[-1]
            out[-1] = EditOp("equal", p.a_start, op.a_end, p.b_start, op.b_end,
                             text_a[p.a_start:op.a_end], text_b[p.b_start:op.b_end])
        else:
            out.append(op)
    return out


def statement_matches(doc_a: Document, doc_b: Document, min_shared: int = 2,
                      min_cover: float = 0.5) -> list[Match]:
    """For each sentence of the shorter document, the sentence of the other that shares
    most of its content words (at least `min_cover` of them), aligned word by word."""
    short, long_ = (doc_a, doc_b) if len(doc_a.text) <= len(doc_b.text) else (doc_b, doc_a)
    out: list[Match] = []
    for j in range(len(short.sentences)):
        best: tuple[float, int, Match] | None = None
        for i in range(len(long_.sentences)):
            m = statement_match("", long_, i, short, j, min_shared)
            if m is None:
                continue
            sb = short.sentences[j]
            n_short = sum(1 for w in words(short.text, sb.start, sb.end)
                          if w.norm not in FUNCTION_WORDS) or 1
            shared = sum(1 for o in m.ops if o.op == "equal" for w in words(o.b_text)
                         if w.norm not in FUNCTION_WORDS)
            cover = shared / n_short
            if cover < min_cover:
                continue
            if best is None or cover > best[0]:
                best = (cover, i, m)
        if best is not None:
            out.append(best[2])
    # the earlier document on side a, as in the corpus pipeline
    return [_oriented(m, f"s{k}", doc_a, doc_b) for k, m in enumerate(out, 1)]


def _oriented(m: Match, match_id: str, doc_a: Document, doc_b: Document) -> Match:
    """The match with side a in `doc_a`."""
    if m.a.doc == doc_a.id:
        return Match(match_id, m.a, m.b, m.a_sentence, m.b_sentence, m.score, m.kind, m.ops)
    ops = tuple(EditOp({"insert": "delete", "delete": "insert"}.get(o.op, o.op), o.b_start,
                       o.b_end, o.a_start, o.a_end, o.b_text, o.a_text) for o in m.ops)
    return Match(match_id, m.b, m.a, m.b_sentence, m.a_sentence, m.score, m.kind, ops)


__all__ = ["CONFLICT_DAYS", "Finding", "compare_statements", "coverage", "find_divergences",
           "statement_match", "statement_matches", "support"]
