"""Small, fixed Comparisons for the report tests, built by hand from seed sentences.

They do not run the pipeline, so the golden files change only when the report does.
"""

from __future__ import annotations

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
from newsdiff.tokens import words

# Seed text, byte for byte (from seeds/003, 002 and 004).
K2013 = (
    "• Kyodo\n\n\n"
    "Prime Minister Shinzo Abe and Russian President Vladimir Putin agreed Monday to seek "
    "progress in bilateral territorial talks to resolve a dispute that has prevented the two "
    "countries from signing a World War II peace treaty.\n\n"
    "The meeting was their fourth over the last seven months."
)
K2016 = (
    "• Kyodo\n\n\n"
    "Speaking to reporters after the meeting in Lima, Abe said he “has come to see a path "
    "toward resolution” of what he referred to as the “peace treaty issue,” a decades-old "
    "territorial dispute that has prevented the two countries from concluding a post-World "
    "War II peace treaty.\n\n"
    "Japan hopes to use the eight-point plan as leverage for pushing forward talks on the "
    "territorial issue."
)
MT2019 = (
    "\n\nJapan Plans to Push for Peace Treaty With Russia, PM Says\n\n\n\n"
    "Japanese Prime Minister Shinzo Abe said on Friday he intends to push forward towards a "
    "World War Two peace treaty with Russia, which has been stymied for decades by a "
    "territorial row, during a summit in Russia later this month.\n\n"
    "Abe, who has signalled he is keen to clinch a deal, will meet Russian President Vladimir "
    "Putin in their 25th summit for discussions aimed at ending the disagreement over a group "
    "of windswept islands seized by Soviet troops in the final days of the war."
)


def span(doc: Document | tuple[str, str], phrase: str, after: int = 0) -> Span:
    """The span of the first `phrase` at or after `after` in a document's text."""
    doc_id, text = (doc.id, doc.text) if isinstance(doc, Document) else doc
    start = text.index(phrase, after)
    return Span(doc_id, start, start + len(phrase), phrase)


def document(doc_id: str, text: str, published: str, source: str, title: str | None = None,
             furniture: tuple[str, ...] = ()) -> Document:
    """A Document whose sentences are its non-furniture paragraphs."""
    boilerplate = tuple(Boilerplate(span((doc_id, text), f), "credit line") for f in furniture)
    skip = {(b.span.start, b.span.end) for b in boilerplate}
    sentences, pos = [], 0
    for para in text.split("\n"):
        start = text.index(para, pos) if para else pos
        pos = start + len(para)
        if para.strip() and (start, pos) not in skip and para != title:
            sentences.append(Span(doc_id, start, pos, para))
    count = sum(len(words(text, s.start, s.end)) for s in sentences)
    return Document(id=doc_id, path=f"seeds/{doc_id}", text=text, format="txt",
                    encoding="utf-8", sha256="0" * 64, title=title, source=source,
                    published=published, word_count=count, boilerplate=boilerplate,
                    sentences=tuple(sentences))


def ops(a: Span, b: Span, steps: list[tuple[str, str, str]]) -> tuple[EditOp, ...]:
    """Edit operations whose fragments are found in order inside spans `a` and `b`."""
    out, pa, pb = [], a.start, b.start
    doc_a, doc_b = (a.doc, a.text, a.start), (b.doc, b.text, b.start)
    for op, a_frag, b_frag in steps:
        sa = doc_a[1].index(a_frag, pa - doc_a[2]) + doc_a[2] if a_frag else pa
        sb = doc_b[1].index(b_frag, pb - doc_b[2]) + doc_b[2] if b_frag else pb
        out.append(EditOp(op, sa, sa + len(a_frag), sb, sb + len(b_frag), a_frag, b_frag))
        pa, pb = sa + len(a_frag), sb + len(b_frag)
    return tuple(out)


def sample_comparison() -> Comparison:
    """Four articles (one a reprint), two threads, one divergence, one cluster."""
    k13 = document("003_kyodo_2013.txt", K2013, "2013-10-07", "Kyodo", furniture=("• Kyodo",))
    k16 = document("002_kyodo_2016.txt", K2016, "2016-11-19", "Kyodo", furniture=("• Kyodo",))
    rep = document("002_reprint.txt", K2016.replace("• Kyodo", "• Reprint"), "2016-11-20",
                   "Reprint Wire", furniture=("• Reprint",))
    mt = document("004_moscow_times.txt", MT2019, "2019-01-04", "The Moscow Times",
                  title="Japan Plans to Push for Peace Treaty With Russia, PM Says")
    a1 = span(k13, "dispute that has prevented the two countries from signing a World War II "
                   "peace treaty")
    b1 = span(k16, "dispute that has prevented the two countries from concluding a "
                   "post-World War II peace treaty")
    m1 = Match("m1", a1, b1, 0, 0, 0.9, "near-verbatim", ops(a1, b1, [
        ("equal", "dispute that has prevented the two countries from",
         "dispute that has prevented the two countries from"),
        ("replace", "signing", "concluding"),
        ("equal", "a", "a"),
        ("insert", "", "post"),
        ("equal", "World War II peace treaty", "World War II peace treaty"),
    ]))
    whole = k16.sentences[0].text
    a2, b2 = span(k16, whole), span(rep, whole)
    m2 = Match("m2", a2, b2, 0, 0, 1.0, "verbatim", ops(a2, b2, [("equal", whole, whole)]))
    a3 = span(k16, "a post-World War II peace treaty")
    b3 = span(mt, "a World War Two peace treaty")
    m3 = Match("m3", a3, b3, 0, 0, 0.7, "rephrased", ops(a3, b3, [
        ("equal", "a", "a"), ("delete", "post", ""), ("equal", "World War", "World War"),
        ("replace", "II", "Two"), ("equal", "peace treaty", "peace treaty"),
    ]))
    a4 = span(k13, "their fourth")
    b4 = span(mt, "their 25th summit")
    m4 = Match("m4", a4, b4, 1, 1, 0.5, "rephrased", ops(a4, b4, [
        ("equal", "their", "their"), ("replace", "fourth", "25th summit"),
    ]))

    def member(doc: Document, sent: int, passage: Span) -> ThreadMember:
        return ThreadMember(doc.id, doc.published, doc.sentences[sent], passage)

    t1 = Thread("t1", "dispute that has prevented the two countries from signing a World "
                      "War II peace …",
                (member(k13, 0, a1), member(k16, 0, a2), member(rep, 0, b2),
                 member(mt, 0, b3)),
                ("m1", "m2", "m3"), "2013-10-07", "2019-01-04")
    t2 = Thread("t2", "their fourth", (member(k13, 1, a4), member(mt, 1, b4)), ("m4",),
                "2013-10-07", "2019-01-04")
    fourth = span(k13, "fourth")
    th25 = span(mt, "25th")
    d1 = Divergence("d1", "number", "m4", "t2",
                    FactValue("fourth", "4", fourth, "2013-10-07"),
                    FactValue("25th", "25", th25, "2019-01-04"), "change",
                    "The count of Abe–Putin meetings differs: fourth (2013) vs 25th (2019).",
                    0.8)
    return Comparison(
        settings={"seed": 1},
        documents=(k13, k16, rep, mt),
        duplicates=(Duplicate(k16.id, rep.id, 0.95, 1.0, "near-duplicate"),),
        clusters=(Cluster("c1", (k16.id, rep.id)),),
        matches=(m1, m2, m3, m4),
        threads=(t1, t2),
        divergences=(d1,),
        version="0.0.0-test",
    )


PAYLOADS = ('<script>alert(1)</script>', '"><img src=x onerror=alert(1)>',
            "javascript:alert(1)")


def hostile_comparison() -> Comparison:
    """Articles whose text, title, source, file name and ids carry script payloads."""
    body = (
        'Talks <script>alert(1)</script> resumed "><img src=x onerror=alert(1)> in Moscow '
        'on Monday, see <a href="javascript:alert(1)">this</a> and [x](javascript:alert(1)) '
        "for javascript:alert(1) details.\n\n"
        "The two sides agreed to meet again in Tokyo next month.'><svg onload=alert(1)>"
    )
    evil_id = '../<script>alert(1)</script>"><img src=x onerror=alert(1)>.txt'
    a = document(evil_id, body, "2016-11-07", "<script>alert(1)</script>",
                 title='"><img src=x onerror=alert(1)> <b>bold</b>')
    b = document("..\\..\\windows\\javascript:alert(1).txt", body, "2016-11-08",
                 '"><img src=x onerror=alert(1)>')
    sa, sb = span(a, a.sentences[0].text), span(b, b.sentences[0].text)
    match = Match('m1"><script>alert(1)</script>', sa, sb, 0, 0, 1.0, "verbatim",
                  ops(sa, sb, [("equal", sa.text, sb.text)]))
    thread = Thread('t1"><img src=x onerror=alert(1)>', sa.text[:40],
                    (ThreadMember(a.id, a.published, a.sentences[0], sa),
                     ThreadMember(b.id, b.published, b.sentences[0], sb)),
                    (match.id,), a.published, b.published)
    va, vb = span(a, "<script>alert(1)</script>"), span(b, "javascript:alert(1)")
    div = Divergence("d1", "entity", match.id, thread.id,
                     FactValue(va.text, va.text, va, a.published),
                     FactValue(vb.text, vb.text, vb, b.published), "conflict",
                     "<script>alert(1)</script> explanation", 0.5)
    return Comparison(
        settings={}, documents=(a, b),
        duplicates=(Duplicate(a.id, b.id, 1.0, 1.0, "exact"),),
        clusters=(Cluster('c1"><script>alert(1)</script>', (a.id, b.id)),),
        matches=(match,), threads=(thread,), divergences=(div,),
        warnings=('<script>alert(1)</script>: cannot read',),
    )
