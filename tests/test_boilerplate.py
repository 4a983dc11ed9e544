"""Page furniture is learned from the corpus and kept out of every later stage."""

from __future__ import annotations

from pathlib import Path

from newsdiff.compare import compare
from newsdiff.config import Settings

from conftest import seed_text

FURNITURE = {
    "000": ["• Kyodo", "• SHARE",
            "In a time of both misinformation and too much information, quality journalism "
            "is more crucial than ever.",
            "By subscribing, you can help us get the story right.", "SUBSCRIBE NOW"],
    "001": ["• Kyodo", "By subscribing, you can help us get the story right."],
    "003": ["• Kyodo", "By subscribing, you can help us get the story right."],
    "004": ["Mikhail Mettsel / TASS",
            "Source: <https://themoscowtimes.com/news/japan-plans-to-push-for-peace-treaty-"
            "with-russia-pm-says-64035>", "[Disclaimer]"],
}


def _doc(result, prefix):
    return next(d for d in result.documents if d.id.startswith(prefix))


def test_seed_furniture_is_reported_as_boilerplate(seed_comparison) -> None:
    for prefix, expected in FURNITURE.items():
        found = [b.span.text for b in _doc(seed_comparison, prefix).boilerplate]
        for text in expected:
            assert text in found, (prefix, text)


def test_news_lines_and_titles_are_not_boilerplate(seed_comparison) -> None:
    doc = _doc(seed_comparison, "004")
    texts = [b.span.text for b in doc.boilerplate]
    assert not any("Putin" in t or "Abe" in t for t in texts)
    assert doc.title == "Japan Plans to Push for Peace Treaty With Russia, PM Says"
    # The subheading of 003's second story stays in the text.
    assert "Abe meets Xi" not in [b.span.text for b in _doc(seed_comparison, "003").boilerplate]


def test_boilerplate_appears_in_no_sentence_and_no_match(seed_comparison) -> None:
    for doc in seed_comparison.documents:
        for b in doc.boilerplate:
            assert doc.text[b.span.start:b.span.end] == b.span.text
            for s in doc.sentences:
                assert s.end <= b.span.start or s.start >= b.span.end, (doc.id, b.span.text)
    furniture = {(d.id, b.span.start, b.span.end) for d in seed_comparison.documents
                 for b in d.boilerplate}
    for m in seed_comparison.matches:
        for span in (m.a, m.b):
            for doc_id, start, end in furniture:
                assert span.doc != doc_id or span.end <= start or span.start >= end


def test_a_news_paragraph_shared_in_the_body_is_a_match_not_boilerplate(tmp_path: Path) -> None:
    shared = ("Japan and Russia have agreed to promote tourism and ease visa requirements for "
              "each other’s citizens under the eight-point cooperation plan, officials said.")
    a = seed_text("002").split("\n\n")
    b = seed_text("001").split("\n\n")
    a.insert(5, shared)
    b.insert(7, shared)
    (tmp_path / "a.txt").write_text("\n\n".join(a), encoding="utf-8")
    (tmp_path / "b.txt").write_text("\n\n".join(b), encoding="utf-8")
    result = compare([tmp_path])
    for doc in result.documents:
        assert shared not in [bp.span.text for bp in doc.boilerplate]
    verbatim = [(m.a.text, m.b.text, m.kind) for m in result.matches if m.kind == "verbatim"]
    assert (shared[:-1], shared[:-1], "verbatim") in verbatim


def test_configured_patterns_mark_extra_furniture(tmp_path: Path) -> None:
    text = seed_text("002").replace("• Kyodo", "Reporting by Kyodo staff; editing by J. Doe")
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    plain = compare([tmp_path], settings=Settings())
    assert "Reporting by" not in " ".join(b.span.text for b in plain.documents[0].boilerplate)
    custom = compare([tmp_path], settings=Settings(boilerplate_patterns=(r"reporting by .*",)))
    reasons = {b.span.text: b.reason for b in custom.documents[0].boilerplate}
    assert reasons["Reporting by Kyodo staff; editing by J. Doe"] == "configured pattern"


def test_a_line_key_is_its_words_folded_one_by_one() -> None:
    """A line's key is the lower-cased forms of its words as `words` finds them (bullet
    left out), joined by spaces: the line is folded whole, which must fold each word as
    it would alone. It does, a final sigma included (the spaces end the words for it)."""
    import random

    from newsdiff.boilerplate import _BULLET, MAX_FURNITURE_CHARS, line_key
    from newsdiff.tokens import words

    rng = random.Random(11)
    alphabet = [*"aAbΣσςΟΔİıIKkſ’'.-_ •*ʰ\u0301\u00ad\u200d1 ,;:ΑΒßẞǅ\t", "ΣΣ", "ΌΣ", "ΟΔΟΣ"]
    lines = [line for prefix in ("000", "001", "002", "003", "004")
             for line in seed_text(prefix).splitlines()]
    lines += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(40)))
              for _ in range(20000)]
    assert line_key("ΟΔΟΣ ΟΔΟΣ'Σ Α.Σ") == "οδος οδοσ'ς α.ς"  # final sigmas, word by word
    for line in lines:
        assert line_key(line) == " ".join(w.norm for w in words(_BULLET.sub("", line)))
    assert line_key("Word " * MAX_FURNITURE_CHARS) == ""
