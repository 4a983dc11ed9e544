"""Property-based tests (hypothesis) of the invariants every stage promises: spans are exact
slices, segmentation covers the body without overlaps, swapping two inputs swaps the
matches and nothing else, a document is an exact duplicate of itself, and the JSON form
round-trips through the model."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from newsdiff import model, signatures
from newsdiff.compare import MAX_BUCKET, analyze, columns_of, compare_texts, window_keys
from newsdiff.config import Settings
from newsdiff.corpus import text_article
from newsdiff.model import (
    Boilerplate,
    Cluster,
    Comparison,
    Divergence,
    Document,
    Duplicate,
    EditOp,
    FactValue,
    Match,
    Span,
    Thread,
    ThreadMember,
)
from newsdiff.segment import sentences
from newsdiff.signatures import bucket_pairs, size_class

from conftest import seed_text

SETTINGS = Settings(workers=1)  # no forked workers inside a hypothesis loop
PROPERTY = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
SLOW_PROPERTY = settings(max_examples=25, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------- text strategies

SEED_SENTENCES = sorted({
    s.strip() for p in ("000", "001", "002", "003", "004")
    for s in re.split(r"(?<=[.!?])\s+", seed_text(p)) if len(s.split()) >= 6
})
TRAPS = ["U.S.", "Dec. 15", "Nov. 19-20", "Gen.", "Mr.", "J. Smith", "No. 2", "e.g.", "...",
         "“Quoted.”", "(Reuters)", "—", "•", "©", "http://example.com/x", "<b>", "&amp;",
         "東京", "naïve", "e\u0301", "\u2028", "\x0b", "\x1c", "\u00a0", "12.5%", "1,000",
         "#", "---", "> quote", "* item", "PHOTO: AP", "SUBSCRIBE NOW", "[Ad]"]
SEPARATORS = [" ", " ", " ", "  ", "\n", "\n\n", "\r\n", "\r\n\r\n", "\t", " \n \n", "\r",
              ". ", ", ", "! ", "? ", "; ", ": "]
WORDS = sorted({w for s in SEED_SENTENCES for w in s.split()})

pieces = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(TRAPS),
    st.sampled_from(SEPARATORS),
    st.sampled_from(SEED_SENTENCES),
    st.text(max_size=6),
)
texts = st.lists(pieces, max_size=60).map("".join)


@st.composite
def related_articles(draw: st.DrawFn) -> tuple[str, str]:
    """Two articles built from the seed sentences, some shared (with small edits)."""
    pool = draw(st.lists(st.sampled_from(SEED_SENTENCES), min_size=2, max_size=8,
                         unique=True))

    def article() -> str:
        chosen = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=6))
        out = []
        for sentence in chosen:
            words = sentence.split()
            if draw(st.booleans()):
                k = draw(st.integers(0, len(words) - 1))
                words[k] = draw(st.sampled_from(WORDS))
            out.append(" ".join(words))
        sep = draw(st.sampled_from(["\n\n", " ", "\n"]))
        return sep.join(out) + "\n"

    return article(), article()


# ---------------------------------------------------------------- helpers


def spans_in(node: object) -> list[dict]:
    found = []
    if isinstance(node, dict):
        if {"doc", "start", "end", "text"} <= node.keys():
            found.append(node)
        for value in node.values():
            found.extend(spans_in(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(spans_in(value))
    return found


def assert_spans_exact(result: Comparison) -> None:
    data = model.to_jsonable(result)
    texts = {d["id"]: d["text"] for d in data["documents"]}
    for span in spans_in(data):
        assert 0 <= span["start"] <= span["end"] <= len(texts[span["doc"]])
        assert texts[span["doc"]][span["start"]:span["end"]] == span["text"]
    for match in result.matches:
        for op in match.ops:
            assert texts[match.a.doc][op.a_start:op.a_end] == op.a_text
            assert texts[match.b.doc][op.b_start:op.b_end] == op.b_text


def assert_covers_without_overlap(text: str, spans: list[tuple[int, int]],
                                  regions: list[tuple[int, int]]) -> None:
    """`spans` are sorted, disjoint, trimmed, inside `regions`, and every non-space
    character of the regions lies in one of them."""
    spans = sorted(spans)
    for (_, e1), (s2, _) in zip(spans, spans[1:], strict=False):
        assert e1 <= s2, ("overlap", spans)
    covered = [False] * len(text)
    for s, e in spans:
        assert s < e and text[s:e] == text[s:e].strip(), (s, e, text[s:e])
        assert any(r_s <= s and e <= r_e for r_s, r_e in regions) or len(regions) > 1
        for k in range(s, e):
            covered[k] = True
    for r_s, r_e in regions:
        for k in range(r_s, r_e):
            assert covered[k] or text[k].isspace(), (k, repr(text[k]), repr(text))


# ---------------------------------------------------------------- segmentation


@PROPERTY
@given(texts)
def test_segmentation_covers_the_text_without_overlaps(text: str) -> None:
    spans = sentences(text, "d", [(0, len(text))])
    for span in spans:
        assert span.text == text[span.start:span.end]
    assert_covers_without_overlap(text, [(s.start, s.end) for s in spans], [(0, len(text))])


@PROPERTY
@given(texts)
def test_furniture_and_sentences_partition_the_article(text: str) -> None:
    (item,) = analyze([text_article("d", text)], SETTINGS)
    doc = item.doc
    spans = [(b.span.start, b.span.end) for b in doc.boilerplate]
    spans += [(s.start, s.end) for s in doc.sentences]
    for b in doc.boilerplate:
        assert b.span.text == text[b.span.start:b.span.end]
    assert_covers_without_overlap(text, spans, [(0, len(text))])
    assert doc.word_count == sum(len(ws) for ws in item.sentence_words)


# ---------------------------------------------------------------- comparison


@SLOW_PROPERTY
@given(texts, texts)
def test_every_span_of_a_comparison_is_an_exact_slice(a: str, b: str) -> None:
    result = compare_texts([("a", a, None), ("b", b, None)], settings=SETTINGS)
    assert_spans_exact(result)


def _content(result: Comparison, names: dict[str, str]) -> dict[str, object]:
    """The findings of a comparison with documents named by their text, not their id."""
    def side(span: Span) -> tuple[str, int, int]:
        return (names[span.doc], span.start, span.end)

    return {
        "matches": sorted(tuple(sorted([side(m.a), side(m.b)])) for m in result.matches),
        "duplicates": sorted((tuple(sorted([names[d.a], names[d.b]])), d.jaccard,
                              d.containment, d.kind) for d in result.duplicates),
        "sentences": {names[d.id]: [(s.start, s.end) for s in d.sentences]
                      for d in result.documents},
    }


@SLOW_PROPERTY
@given(related_articles())
def test_matches_are_symmetric_in_content_when_the_inputs_are_swapped(
        pair: tuple[str, str]) -> None:
    first, second = pair
    assume(first != second)
    one = compare_texts([("x", first, None), ("y", second, None)], settings=SETTINGS)
    two = compare_texts([("x", second, None), ("y", first, None)], settings=SETTINGS)
    assert _content(one, {"x": "first", "y": "second"}) == \
        _content(two, {"x": "second", "y": "first"})


@SLOW_PROPERTY
@given(texts.filter(lambda t: re.search(r"[^\W_]", t) is not None))
def test_a_document_compared_with_itself_is_an_exact_duplicate(text: str) -> None:
    result = compare_texts([("a", text, None), ("b", text, None)], settings=SETTINGS)
    a, b = result.documents
    assume(a.word_count > 0)  # a text that is all furniture has no body to compare
    assert [(d.a, d.b, d.jaccard, d.containment, d.kind) for d in result.duplicates] == [
        ("a", "b", 1.0, 1.0, "exact")]
    assert [c.docs for c in result.clusters] == [("a", "b")]


# ---------------------------------------------------------------- JSON


@SLOW_PROPERTY
@given(related_articles())
def test_json_of_a_real_comparison_round_trips_unchanged(pair: tuple[str, str]) -> None:
    result = compare_texts([("a", pair[0], "2016-11-07"), ("b", pair[1], "2016-11-19")],
                           settings=SETTINGS)
    text = model.dumps(result)
    again = model.loads(text)
    assert again == result
    assert model.dumps(again) == text
    # the report's comparison.json is written in pieces: the same bytes
    assert b"".join(model.json_chunks(result)) == text.encode("utf-8")


names = st.text(min_size=1, max_size=12)
maybe = st.none() | st.text(max_size=20)
numbers = st.floats(min_value=0, max_value=1, allow_nan=False)


@st.composite
def comparisons(draw: st.DrawFn) -> Comparison:
    """Arbitrary model trees: any Unicode in ids, titles and text (control characters,
    quotes, separators), spans that are real slices."""
    ids = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    docs = []
    for doc_id in ids:
        text = draw(st.text(max_size=80))

        def span(text: str = text, doc_id: str = doc_id) -> Span:
            s = draw(st.integers(0, len(text)))
            e = draw(st.integers(s, len(text)))
            return Span(doc_id, s, e, text[s:e])

        docs.append(Document(
            id=doc_id, path=draw(st.text(max_size=30)), text=text,
            format=draw(st.sampled_from(["txt", "md", "html"])),
            encoding=draw(st.sampled_from(["utf-8", "utf-16", "cp932"])),
            sha256=draw(st.text("0123456789abcdef", min_size=64, max_size=64)),
            title=draw(maybe), source=draw(maybe), published=draw(maybe),
            word_count=draw(st.integers(0, 10**6)),
            boilerplate=tuple(Boilerplate(span(), draw(st.text(max_size=20)))
                              for _ in range(draw(st.integers(0, 2)))),
            sentences=tuple(span() for _ in range(draw(st.integers(0, 3)))),
        ))
    by_id = {d.id: d for d in docs}

    def span_of(doc_id: str) -> Span:
        text = by_id[doc_id].text
        s = draw(st.integers(0, len(text)))
        e = draw(st.integers(s, len(text)))
        return Span(doc_id, s, e, text[s:e])

    matches = []
    for k in range(draw(st.integers(0, 3))):
        a, b = draw(st.sampled_from(ids)), draw(st.sampled_from(ids))
        sa, sb = span_of(a), span_of(b)
        ops = tuple(EditOp(draw(st.sampled_from(["equal", "replace", "insert", "delete"])),
                           sa.start, sa.end, sb.start, sb.end, sa.text, sb.text)
                    for _ in range(draw(st.integers(0, 2))))
        matches.append(Match(f"m{k}", sa, sb, draw(st.integers(0, 50)),
                             draw(st.integers(0, 50)), draw(numbers),
                             draw(st.sampled_from(model.MATCH_KINDS)), ops))
    threads = [Thread(f"t{k}", draw(st.text(max_size=30)),
                      tuple(ThreadMember(m.a.doc, draw(maybe), m.a, m.a) for m in matches),
                      tuple(m.id for m in matches), draw(maybe), draw(maybe))
               for k in range(draw(st.integers(0, 2)))]
    divergences = [Divergence(f"v{k}", draw(st.sampled_from(model.DIVERGENCE_KINDS)), m.id,
                              draw(st.none() | st.just("t0")),
                              FactValue(draw(st.text(max_size=10)), draw(st.text(max_size=10)),
                                        m.a, draw(maybe)),
                              FactValue(draw(st.text(max_size=10)), draw(st.text(max_size=10)),
                                        m.b, draw(maybe)),
                              draw(st.sampled_from(["change", "conflict"])),
                              draw(st.text(max_size=40)), draw(numbers))
                   for k, m in enumerate(matches)]
    return Comparison(
        settings=Settings().as_dict(), documents=tuple(docs),
        duplicates=tuple(Duplicate(draw(st.sampled_from(ids)), draw(st.sampled_from(ids)),
                                   draw(numbers), draw(numbers),
                                   draw(st.sampled_from(["exact", "near-duplicate",
                                                         "contained"])))
                         for _ in range(draw(st.integers(0, 2)))),
        clusters=tuple(Cluster(f"c{k}", tuple(draw(st.lists(st.sampled_from(ids),
                                                             max_size=3))))
                       for k in range(draw(st.integers(0, 2)))),
        matches=tuple(matches), threads=tuple(threads), divergences=tuple(divergences),
        version=draw(st.text(max_size=10)), warnings=tuple(draw(st.lists(st.text(max_size=20),
                                                                        max_size=2))),
    )


@PROPERTY
@given(comparisons())
def test_json_of_any_model_tree_round_trips_unchanged(result: Comparison) -> None:
    text = model.dumps(result)
    assert text.encode("utf-8")  # always writable as UTF-8
    reference = json.dumps(model.to_jsonable(result), ensure_ascii=False, indent=2)
    assert json.loads(text) == json.loads(reference)  # standard JSON (no NaN), same values
    again = model.loads(text)
    assert again == result
    assert model.dumps(again) == text
    # the report's comparison.json is written in pieces: the same bytes
    assert b"".join(model.json_chunks(result)) == text.encode("utf-8")


@given(st.integers(1, 10**9))
def test_size_classes_round_up_by_at_most_a_32nd_and_are_their_own_class(n: int) -> None:
    """The set sizes LSH Ensemble partitions: never smaller, at most 1/32 larger, stable,
    and in order."""
    c = size_class(n)
    assert n <= c <= n + n / 32
    assert size_class(c) == c
    assert size_class(n + 1) >= c


def test_article_sized_sets_fall_into_few_size_classes() -> None:
    """300 to 1,200 shingles (an article of this corpus) make 65 classes, not 901 sizes:
    what keeps LSH Ensemble's partitioning (cubic in distinct sizes) fast."""
    assert len({size_class(n) for n in range(300, 1201)}) == 65


def test_comparison_json_is_laid_out_as_the_json_module_would() -> None:
    """orjson writes the JSON (see `model.json_bytes`): byte for byte what `json.dumps` of
    `to_jsonable` writes, on a real comparison; and text orjson refuses (a lone
    surrogate) as its JSON escape."""
    result = compare_texts([("a", seed_text("001"), "2013-10-07"),
                            ("b", seed_text("003"), "2016-11-19")])
    assert model.dumps(result) == json.dumps(model.to_jsonable(result), ensure_ascii=False,
                                             indent=2) + "\n"
    odd = model.Span("a", 0, 2, "\ud800\u2028")
    assert model.json_bytes(odd) == ('{\n  "doc": "a",\n  "start": 0,\n  "end": 2,\n'
                                     '  "text": "\\ud800\u2028"\n}\n').encode("utf-8")
    assert json.loads(model.json_bytes(odd))["text"] == odd.text
    # written in pieces, the piece orjson refuses goes the same way
    odd_result = replace(result, matches=(replace(result.matches[0], a=odd),
                                          *result.matches[1:]))
    assert b"".join(model.json_chunks(odd_result)) == model.json_bytes(odd_result)
    assert b"\\ud800" in model.json_bytes(odd_result)


@given(st.text(alphabet=st.sampled_from(list("ab Z9’'.-_•*\t,é ß")), max_size=60) | texts)
def test_line_keys_are_the_words_of_the_line_lower_cased(line: str) -> None:
    """Furniture lines are keyed by `words`' own forms (found without making words)."""
    from newsdiff.boilerplate import _BULLET, MAX_FURNITURE_CHARS, line_key
    from newsdiff.tokens import words

    expected = (" ".join(w.norm for w in words(_BULLET.sub("", line)))
                if len(line) <= MAX_FURNITURE_CHARS else "")
    assert line_key(line) == expected


def _bucket_pairs_one_by_one(keys: np.ndarray, owners: np.ndarray, groups: np.ndarray,
                             max_bucket: int) -> set[tuple[int, int]]:
    """bucket_pairs' rule spelled out bucket by bucket (what the numpy version replaced)."""
    buckets: dict[int, dict[int, int]] = {}
    for row, owner, group in zip(keys.tolist(), owners.tolist(), groups.tolist(), strict=True):
        for key in row:
            buckets.setdefault(key, {})[owner] = group
    pairs: set[tuple[int, int]] = set()
    for members in buckets.values():
        items = sorted(members.items())
        if len(items) > max_bucket:  # a star around each group's first owner, or the first
            firsts: dict[int, int] = {}
            for o, g in items:
                firsts.setdefault(g, o)
            centres = firsts if len(firsts) <= max_bucket else {items[0][1]: items[0][0]}
            pairs.update((min(o, c), max(o, c)) for o, g in items
                         for cg, c in centres.items() if cg != g)
        else:
            pairs.update((oi, oj) for x, (oi, gi) in enumerate(items)
                         for oj, gj in items[x + 1:] if gi != gj)
    return pairs


@PROPERTY
@given(st.lists(st.tuples(st.integers(0, 40), st.lists(st.integers(0, 12), min_size=3,
                                                        max_size=3)), max_size=120),
       st.integers(2, 5))
def test_bucket_pairs_follow_the_bucket_by_bucket_rule(
        windows: list[tuple[int, list[int]]], max_bucket: int) -> None:
    # few distinct keys, so that buckets of every size, and stars, occur
    owners = np.array([o for o, _ in windows], dtype=np.int64)
    keys = np.array([k for _, k in windows], dtype=np.int64).reshape(-1, 3)
    groups = owners // 4  # owners numbered in group order, as sentences are by document
    found = bucket_pairs(keys, owners, groups, max_bucket)
    expected = _bucket_pairs_one_by_one(keys, owners, groups, max_bucket)
    assert found.tolist() == sorted(map(list, expected))
    with _setting(signatures, "STAR_MEMBERS", 3):  # the large buckets' pairs in slices
        assert bucket_pairs(keys, owners, groups, max_bucket).tolist() == found.tolist()


@contextlib.contextmanager
def _setting(module: object, name: str, value: object) -> Iterator[None]:
    """A module constant set for the block (monkeypatch is per test, not per example)."""
    old = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, old)


def test_bucket_pairs_on_the_seed_windows_link_the_recycled_sentences() -> None:
    items = analyze([text_article(p, seed_text(p), None) for p in ("000", "001", "002")],
                    SETTINGS)
    sentences, families = window_keys(columns_of(items), SETTINGS)
    families = list(families)
    with _setting(signatures, "KEY_ROWS", 5):  # bucket keys made five windows at a time
        _, sliced = window_keys(columns_of(items), SETTINGS)
        for (keys, owners), (keys5, owners5) in zip(families, sliced, strict=True):
            assert keys.shape[0] > 5
            assert np.array_equal(keys, keys5) and np.array_equal(owners, owners5)
    doc_of = np.array([d for d, _ in sentences], dtype=np.int64)
    for keys, owners in families:
        found = bucket_pairs(keys, owners, doc_of[owners], MAX_BUCKET)
        assert len(found) > 0
        assert found.tolist() == sorted(map(list, _bucket_pairs_one_by_one(
            keys, owners, doc_of[owners], MAX_BUCKET)))


# ---------------------------------------------------------------- words


@PROPERTY
@given(texts, st.integers(0, 70_000), st.data())
def test_words_are_the_pattern_matches_with_their_offsets(text: str, shift: int,
                                                          data: st.DataObject) -> None:
    """`words` finds what the word pattern matches, at the offsets it matches, in any
    slice of a text (placed anywhere in a longer one: past the table of shared offsets
    too), and the same offsets in two texts are one int object below the table's end."""
    from newsdiff.tokens import _WORD, words

    padded = "x " * (shift // 2) + text
    lo = data.draw(st.integers(0, len(text)))
    hi = data.draw(st.integers(lo, len(text)))
    base = len(padded) - len(text)
    found = words(padded, base + lo, base + hi)
    expected = [(m.start(), m.end()) for m in _WORD.finditer(padded, base + lo, base + hi)]
    assert [(w.start, w.end) for w in found] == expected
    assert all(padded[w.start:w.end].lower().replace("’", "'") == w.norm for w in found)
    again = words((padded + " ")[:-1], base + lo, base + hi)  # another string, same text
    assert again == found
    assert all(a.start is b.start and a.end is b.end for a, b in zip(found, again, strict=True)
               if a.end < 1 << 16)


@PROPERTY
@given(st.sets(st.integers(0, 60), max_size=40), st.sets(st.integers(0, 60), max_size=40))
def test_exact_jaccard_and_containment_are_the_set_figures(a: set[int], b: set[int]) -> None:
    from newsdiff.signatures import jaccard_containment

    found = jaccard_containment(np.array(sorted(a), dtype=np.uint32),
                                np.array(sorted(b), dtype=np.uint32))
    if not a or not b:
        assert found == (0.0, 0.0)
    else:
        assert found == (len(a & b) / len(a | b), len(a & b) / min(len(a), len(b)))
