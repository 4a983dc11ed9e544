"""Recurring statements: local, fuzzy alignment of candidate sentences (seed expectations)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsdiff.align import align
from newsdiff.config import Settings
from newsdiff.tokens import words

SETTINGS = Settings()


def _align(a: str, b: str):
    return align(a, words(a), b, words(b), SETTINGS)


def _doc(result, prefix):
    return next(d for d in result.documents if d.id.startswith(prefix))


def _matched(result, prefix_a, needle_a, prefix_b, needle_b):
    """Matches between the sentence of article A containing needle_a and that of B."""
    found = []
    for m in result.matches:
        for x, y in ((m.a, m.b), (m.b, m.a)):
            if x.doc.startswith(prefix_a) and y.doc.startswith(prefix_b):
                sx = _doc(result, prefix_a).sentences[m.a_sentence if x is m.a else m.b_sentence]
                sy = _doc(result, prefix_b).sentences[m.b_sentence if y is m.b else m.a_sentence]
                if needle_a in sx.text and needle_b in sy.text:
                    found.append(m)
    return found


def test_dispute_description_matches_between_2013_and_2016(seed_comparison) -> None:
    (m,) = _matched(seed_comparison, "003", "signing a World War II peace treaty",
                    "002", "concluding a post-World War II peace treaty")
    assert m.a.text == ("dispute that has prevented the two countries from signing a World "
                        "War II peace treaty")
    assert m.b.text == ("dispute that has prevented the two countries from concluding a "
                        "post-World War II peace treaty")
    assert m.kind == "near-verbatim" and 0.85 < m.score < 1
    assert [(op.op, op.a_text, op.b_text) for op in m.ops if op.op != "equal"] == [
        ("replace", "signing", "concluding"), ("insert", "", "post")]


def test_dispute_description_reworded_in_2016_still_matches(seed_comparison) -> None:
    (m,) = _matched(seed_comparison, "003", "signing a World War II peace treaty",
                    "001", "The dispute over the islands has prevented")
    assert "has prevented the two neighbors from signing a peace treaty" in m.b.text


def test_dispute_description_of_2019_joins_by_rephrasing(seed_comparison) -> None:
    matches = _matched(seed_comparison, "002", "decades-old territorial dispute",
                       "004", "stymied for decades by a territorial row")
    assert [m.kind for m in matches] == ["rephrased"]


def test_eight_point_plan_description_matches(seed_comparison) -> None:
    (m,) = _matched(seed_comparison, "002", "eight-point economic cooperation plan Abe",
                    "001", "eight-point plan Abe proposed")
    assert (m.a.text, m.b.text) == (
        "on an eight-point economic cooperation plan Abe proposed to Putin in May",
        "on an eight-point plan Abe proposed to Putin in May")
    assert [(op.op, op.a_text, op.b_text) for op in m.ops if op.op != "equal"] == [
        ("delete", "economic cooperation", "")]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # Same summit, same officials, different statements.
        ("A Japanese official said Abe and Xi were attending a meeting of business leaders on "
         "the sidelines of the Asia-Pacific Economic Cooperation forum summit that started "
         "the same day.",
         "According to a Japanese government source, Japan has repeatedly requested Russia to "
         "resume peace treaty talks before the Asia-Pacific Economic Cooperation forum summit "
         "to be held Nov. 19-20 in Peru."),
        ("During the 70-minute meeting on the sidelines of a Pacific Rim summit in the Peruvian "
         "capital, Abe and Putin spent half the time discussing the territorial issue alone "
         "with their interpreters, according to a senior Japanese official.",
         "Abe told Putin that he wants to instruct his ministers to “increase the depth of "
         "Japan-Russia relations,” according to a Japanese official, as the leaders met on "
         "the sidelines of the Asia-Pacific Economic Cooperation forum summit that started "
         "earlier in the day in Bali, Indonesia."),
        # Only names in common.
        ("Prime Minister Shinzo Abe and Russian President Vladimir Putin agreed Monday to seek "
         "progress in bilateral territorial talks.",
         "Russia is reluctant to reconvene a meeting ahead of a summit next month between "
         "Prime Minister Shinzo Abe and Russian President Vladimir Putin."),
    ],
)
def test_sentences_that_merely_share_topic_words_or_names_do_not_match(a: str, b: str) -> None:
    assert _align(a, b) is None


def test_verbatim_passage_inside_longer_sentences() -> None:
    shared = "the two sides will expand the size of student exchanges from 2017"
    a = f"Officials said on Tuesday that {shared}, in a move welcomed by universities."
    b = f"Under the plan, {shared}."
    al = _align(a, b)
    assert al is not None and al.kind == "verbatim" and al.score == 1.0
    assert a[al.ops[0].a_start:al.ops[-1].a_end] == shared


def _rephrased_exhaustively(words_a, words_b):  # type: ignore[no-untyped-def]
    """The rephrase search as specified: every stretch of `a` from a shared word to a
    shared word, each with the densest stretch of `b` for what it shares; the pair sharing
    most words, then densest, first found wins. (Returns the two word ranges.)"""
    from newsdiff.align import (
        REPHRASE_MIN_DENSITY,
        REPHRASE_MIN_SHARED,
        _common_keys,
        _densest,
    )

    shared_all = _common_keys(words_a, 0, len(words_a)) & _common_keys(words_b, 0, len(words_b))
    if len(shared_all) < REPHRASE_MIN_SHARED:
        return None
    spots = [i for i, w in enumerate(words_a) if w.common and w.key in shared_all]
    best = None
    for x in range(len(spots)):
        for y in range(x + REPHRASE_MIN_SHARED - 1, len(spots)):
            lo, hi = spots[x], spots[y] + 1
            keys_a = _common_keys(words_a, lo, hi)
            b_lo, b_hi = _densest([(i, w.key) for i, w in enumerate(words_b) if w.common],
                                  keys_a & shared_all)
            keys_b = _common_keys(words_b, b_lo, b_hi)
            shared = keys_a & shared_all & keys_b
            if len(shared) < REPHRASE_MIN_SHARED:
                continue
            density = min(len(shared) / len(keys_a), len(shared) / len(keys_b))
            if density >= REPHRASE_MIN_DENSITY and (
                    best is None or (len(shared), density) > best[:2]):
                best = (len(shared), density, (lo, hi), (b_lo, b_hi))
    return None if best is None else best[2:]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 11), min_size=0, max_size=60),
       st.lists(st.integers(0, 11), min_size=0, max_size=60))
def test_the_rephrase_search_finds_what_trying_every_stretch_finds(a, b) -> None:
    """The search skips stretches that cannot rank higher (the same shared words as a
    shorter one); on long sentences of a few recurring words it returns exactly what
    trying every stretch returns."""
    from newsdiff.align import _rephrased, word_keys

    vocab = ("tanker cargo harbour crude spill coast guard divers wreck salvage crew "
             "storm").split()
    text_a = " ".join(vocab[i] if i < 10 else "The" for i in a)
    text_b = " ".join(vocab[i] if i < 10 else "and" for i in b)
    wa, wb = words(text_a), words(text_b)
    found = _rephrased(text_a, wa, text_b, wb, Settings(), (word_keys(wa), word_keys(wb)))
    assert (None if found is None else (found.a_words, found.b_words)) == \
        _rephrased_exhaustively(wa, wb)


@given(st.lists(st.sampled_from(["talks", "Talks", "talk", "resumed", "2", "two", "on",
                                 "Monday", "—"]), min_size=1, max_size=6),
       st.lists(st.sampled_from(["talks", "Talks", "talk", "resumed", "2", "two", "on",
                                 "Monday", "—"]), min_size=1, max_size=6))
def test_the_canonical_side_is_the_one_whose_keys_then_text_sort_first(
        a: list[str], b: list[str]) -> None:
    """`align` runs its passes in one order of the two sides: the one whose word keys
    (then spanned text) sort first as lists do."""
    from newsdiff.align import _goes_first, word_keys

    text_a, text_b = " ".join(a), " ".join(b)
    wa, wb = words(text_a), words(text_b)
    if not wa or not wb:
        return

    def key(text: str, ws: list) -> tuple[list[str], str]:
        return [w.key for w in ws], text[ws[0].start:ws[-1].end]

    assert _goes_first(text_a, wa, word_keys(wa).keys, text_b, wb, word_keys(wb).keys) == (
        key(text_a, wa) < key(text_b, wb))
