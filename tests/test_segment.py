"""Sentence spans: the seeds' abbreviation traps and the sentence broken by a blank line."""

from __future__ import annotations

from newsdiff.segment import sentences

from conftest import SEEDS


def _sentences(result, prefix):
    doc = next(d for d in result.documents if d.id.startswith(prefix))
    return doc, [s.text for s in doc.sentences]


def test_abbreviations_do_not_end_sentences(seed_comparison) -> None:
    _, s000 = _sentences(seed_comparison, "000")
    assert ("According to a Japanese government source, Japan has repeatedly requested Russia "
            "to resume peace treaty talks before the Asia-Pacific Economic Cooperation forum "
            "summit to be held Nov. 19-20 in Peru.") in s000
    assert any(s.startswith("Ahead of the Abe-Putin summit on Dec. 15 in Yamaguchi") and
               s.endswith("to conclude a peace treaty.") for s in s000)
    _, s001 = _sentences(seed_comparison, "001")
    assert ("Lavrov said he told Kishida that the deployment of U.S. missile defense systems in "
            "the Asia-Pacific region is a threat.") in s001
    assert any("U.N. Security Council sanctions resolution adopted Wednesday" in s and
               s.endswith("the official said.") for s in s001)
    assert any(s.startswith("Kishida held a meeting with Putin on Friday in St. Petersburg,")
               for s in s001)


def test_sentence_broken_across_a_blank_line_is_one_sentence(seed_comparison) -> None:
    doc, s004 = _sentences(seed_comparison, "004")
    joined = [s for s in s004 if s.startswith("“We both do not want this")]
    assert joined == ["“We both do not want this to drag out into another generation,” Abe "
                      "said on\n\nFriday."]
    assert "Friday." not in s004


def test_spans_are_exact_slices_and_do_not_overlap(seed_comparison) -> None:
    for doc in seed_comparison.documents:
        last = -1
        for s in doc.sentences:
            assert doc.text[s.start:s.end] == s.text
            assert s.start > last
            last = s.end


def test_headings_are_not_glued_to_the_next_paragraph() -> None:
    text = "Abe meets Xi\n\nPrime Minister Shinzo Abe shook hands with Xi on Monday.\n"
    spans = sentences(text, "x", [(0, len(text))])
    assert [s.text for s in spans] == ["Abe meets Xi",
                                       "Prime Minister Shinzo Abe shook hands with Xi on Monday."]


def test_blingfire_offsets_are_characters_as_its_wrapper_gives(seed_comparison) -> None:
    # The C function is called directly (the wrapper converts offsets by a Python loop over
    # every byte); its character offsets must be the wrapper's, multi-byte text included.
    import blingfire

    from newsdiff.segment import _blingfire_sentences, paragraphs

    paras = [doc.text[s:e] for doc in seed_comparison.documents
             for s, e in paragraphs(doc.text)]
    paras.append("Der Bürgermeister sagte am Dienstag: „Wir sind bereit.“ Dann ging er. "
                 "東京は晴れ。 Émile left at 5 p.m. on Dec. 15. Ça va? Oui! \U0001F600 Done.")
    assert sum(len(p.encode("utf-8")) != len(p) for p in paras) > 10  # curly quotes, accents
    for para in paras:
        joined, offsets = blingfire.text_to_sentences_and_offsets(para)
        sentences, ours = _blingfire_sentences(para)
        assert sentences == (joined.split("\n") if joined else [])
        assert ours == [tuple(o) for o in offsets[:len(sentences)]]
    assert _blingfire_sentences("") == ([], [])


def test_paragraphs_are_those_the_paragraph_regex_found() -> None:
    """Paragraphs are found by cutting at blank lines, where a regex used to find each
    paragraph whole (a look-ahead after every character): the same spans on the seeds and
    on random mixes of letters, spaces, tabs, carriage returns, newlines and Unicode
    spaces, over whole texts and parts of them, including that regex's quirk: a
    paragraph of one character runs on to the end of the next."""
    import random
    import re

    from newsdiff.segment import paragraphs

    whole = re.compile(r"\S(?:.*?\S)?(?=\s*(?:\n[ \t\r]*\n|\Z))", re.S)

    def by_regex(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
        return [(m.start(), m.end()) for m in whole.finditer(
            text, start, len(text) if end is None else end)]

    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    assert all(len(paragraphs(t)) > 5 and paragraphs(t) == by_regex(t) for t in texts)
    assert paragraphs("*\n\nOne.\n\nTwo.") == by_regex("*\n\nOne.\n\nTwo.") == [(0, 7),
                                                                             (9, 13)]
    rng = random.Random(5)
    alphabet = ["a", "bc", " ", "\t", "\r", "\n", "\n", "\n", "\u00a0", "\x0c", "."]
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16)))
        start = rng.randint(0, len(text))
        end = rng.randint(start, len(text))
        assert paragraphs(text) == by_regex(text)
        assert paragraphs(text, start, end) == by_regex(text, start, end)
