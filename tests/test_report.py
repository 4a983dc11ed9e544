"""The HTML report: golden files, escaping, links, determinism, large corpora."""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsdiff import model
from newsdiff.cli import cli
from newsdiff.compare import compare
from newsdiff.model import (
    Comparison,
    Divergence,
    Document,
    FactValue,
    Match,
    Span,
    Thread,
    ThreadMember,
)
from newsdiff.report import (
    HEATMAP_MAX_DOCS,
    INDEX_ARTICLES,
    article_names,
    change_summary,
    plain_pieces,
    render,
    slug,
    thread_names,
    word_diff,
)
from report_samples import PAYLOADS, hostile_comparison, sample_comparison, span

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
GOLD = Path(__file__).resolve().parent / "gold" / "report"
REGEN = os.environ.get("NEWSDIFF_REGEN_GOLD") == "1"


class Page(HTMLParser):
    """Ids, links, tags and attributes of one HTML page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.links: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        d = dict(attrs)
        self.tags.append((tag, d))
        if d.get("id"):
            self.ids.append(d["id"] or "")
        for name in ("href", "src"):
            if d.get(name) is not None:
                self.links.append(d[name] or "")

    handle_startendtag = handle_starttag


def parsed(files: dict[str, str]) -> dict[str, Page]:
    return {name: Page(text) for name, text in files.items() if name.endswith(".html")}


def broken_links(files: dict[str, str]) -> list[str]:
    """Every internal href/src that names a missing file or a missing #id."""
    pages = parsed(files)
    problems = []
    for name, page in pages.items():
        for link in page.links:
            if re.match(r"^[a-z][a-z0-9+.-]*:|^//", link, re.I):
                problems.append(f"{name}: external or scripted link {link!r}")
                continue
            path, _, fragment = link.partition("#")
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), path)) \
                if path else name
            if target not in files:
                problems.append(f"{name}: {link!r} → missing file {target}")
            elif fragment and fragment not in pages[target].ids:
                problems.append(f"{name}: {link!r} → no id {fragment!r} in {target}")
    return problems


@pytest.fixture(scope="module")
def sample() -> Comparison:
    return sample_comparison()


@pytest.fixture(scope="module")
def sample_files(sample: Comparison) -> dict[str, str]:
    return render(sample)


@pytest.fixture(scope="module")
def seed_comparison() -> Comparison:
    return compare([SEEDS])


@pytest.fixture(scope="module")
def seed_files(seed_comparison: Comparison) -> dict[str, str]:
    return render(seed_comparison)


def page_named(files: dict[str, str], prefix: str, contains: str = "") -> str:
    names = [n for n in files if n.startswith(prefix) and contains in n]
    assert names, f"no page {prefix}*{contains}* in {sorted(files)}"
    return files[names[0]]


# ---------------------------------------------------------------- golden files


def test_golden_files_of_the_sample_comparison(sample_files: dict[str, str],
                                               tmp_path: Path) -> None:
    """The sample renders exactly as tests/gold/report (regenerate: NEWSDIFF_REGEN_GOLD=1)."""
    if REGEN:
        for old in GOLD.rglob("*"):
            if old.is_file():
                old.unlink()
        for name, text in sample_files.items():
            (GOLD / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLD / name).write_text(text, encoding="utf-8", newline="\n")
    expected = {p.relative_to(GOLD).as_posix(): p.read_text(encoding="utf-8")
                for p in GOLD.rglob("*") if p.is_file()}
    differ = sorted(n for n in set(expected) | set(sample_files)
                    if expected.get(n) != sample_files.get(n))
    for name in differ:
        if name in sample_files:
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(sample_files[name], encoding="utf-8")
    assert not differ, (f"report differs from {GOLD} in {differ}; actual pages saved in "
                        f"{tmp_path}. If the change is intended, rerun with "
                        "NEWSDIFF_REGEN_GOLD=1 and review the diff.")


# ---------------------------------------------------------------- determinism and names


def test_same_comparison_renders_byte_identical_pages(sample: Comparison) -> None:
    assert render(sample) == render(sample_comparison())


def test_json_round_trip_renders_the_same_report(seed_comparison: Comparison,
                                                  seed_files: dict[str, str]) -> None:
    again = model.loads(model.dumps(seed_comparison))
    assert render(again) == seed_files


def test_pages_do_not_depend_on_document_order(sample: Comparison,
                                               sample_files: dict[str, str]) -> None:
    shuffled = replace(sample, documents=tuple(reversed(sample.documents)))
    assert render(shuffled) == sample_files


def test_article_names_are_safe_unique_and_stable() -> None:
    ids = ["A.txt", "a.txt", "a_txt", "../a.txt", "a/../../b.txt", "", "日本.txt",
           "CON", "x" * 300]
    names = article_names(ids)
    assert len(set(names.values())) == len(ids)
    assert len({n.lower() for n in names.values()}) == len(ids)  # case-insensitive disks
    for name in names.values():
        assert re.fullmatch(r"[a-z0-9-]{1,60}", name), name
    assert article_names(reversed(ids)) == names
    assert names["A.txt"].startswith("a-")


def test_thread_names_keep_safe_ids_and_hash_the_rest() -> None:
    names = thread_names(["t1", "t2", "../t3", "T4", "t1"])
    assert names[1] == "t2"
    assert len(set(names)) == 5
    assert all(re.fullmatch(r"[a-z0-9_-]+", n) for n in names)
    assert names[0] != "t1" and names[4] != "t1"  # duplicated ids must not collide


def test_slug_is_ascii_lowercase() -> None:
    assert slug("Kyodo: Abe & Putin — Dec. 15") == "kyodo-abe-putin-dec-15"
    assert slug("<script>") == "script"
    assert slug("") == "x"


# ---------------------------------------------------------------- word-level diff


def test_word_diff_marks_substitution_and_inserted_prefix() -> None:
    a = "dispute that has prevented the two countries from signing a World War II peace treaty"
    b = ("dispute that has prevented the two countries from concluding a post-World War II "
         "peace treaty")
    pieces = word_diff(a, b)
    assert [(p.kind, p.text) for p in pieces if p.kind != "equal"] == [
        ("del", "signing"), ("ins", "concluding"), ("ins", "post-")]
    assert "".join(p.text + p.tail for p in pieces if p.kind != "del") == b
    assert change_summary(pieces) == "+2 words, −1 word"


def test_word_diff_ignores_case_and_punctuation_only_edits() -> None:
    pieces = word_diff("the “peace treaty issue,” said Abe", "The peace treaty issue said Abe.")
    assert {p.kind for p in pieces} == {"equal"}
    assert change_summary(pieces) == "unchanged wording"


def test_word_diff_flags_divergent_words() -> None:
    a, b = "their fourth meeting", "their 25th meeting"
    pieces = word_diff(a, b, a_marks=[(6, 12)], b_marks=[(6, 10)])
    assert [(p.kind, p.text, p.divergent) for p in pieces] == [
        ("equal", "their", False), ("del", "fourth", True), ("ins", "25th", True),
        ("equal", "meeting", False)]


def test_word_diff_in_a_range_flags_only_the_marks_it_touches() -> None:
    # Each text holds its sentence after another one; the marks are the document's: one
    # outside the range, one straddling its start, one inside it.
    a = "Earlier: fourth. their fourth meeting"
    b = "Before: third word. 25th meeting"
    a_range, b_range = (17, len(a)), (20, len(b))
    pieces = word_diff(a, b, a_range=a_range, b_range=b_range,
                       a_marks=[(9, 15), (23, 29)], b_marks=[(8, 13), (18, 24)])
    assert [(p.kind, p.text, p.divergent) for p in pieces] == [
        ("del", "their", False), ("del", "fourth", True), ("ins", "25th", True),
        ("equal", "meeting", False)]
    assert [(p.text, p.divergent) for p in plain_pieces(b, *b_range, marks=[(8, 13), (18, 24)])
            ] == [("25th", True), ("meeting", False)]


# ---------------------------------------------------------------- pages of the sample


def test_every_internal_link_points_to_an_existing_file_and_id(
        sample_files: dict[str, str], seed_files: dict[str, str]) -> None:
    assert broken_links(sample_files) == []
    assert broken_links(seed_files) == []
    assert broken_links(render(hostile_comparison())) == []


def test_ids_are_unique_on_every_page(sample_files: dict[str, str],
                                      seed_files: dict[str, str]) -> None:
    for files in (sample_files, seed_files):
        for name, page in parsed(files).items():
            dupes = {i for i in page.ids if page.ids.count(i) > 1}
            assert not dupes, f"{name}: duplicate ids {dupes}"


def test_report_has_every_kind_of_page(sample_files: dict[str, str]) -> None:
    kinds = {name.split("/")[0] for name in sample_files}
    assert kinds == {"index.html", "articles", "threads", "pairs", "static"}
    assert len([n for n in sample_files if n.startswith("articles/")]) == 4
    assert set(n for n in sample_files if n.startswith("static/")) == {
        "static/style.css", "static/report.js"}


def test_no_page_loads_anything_from_the_network(sample_files: dict[str, str]) -> None:
    for name, text in sample_files.items():
        assert not re.search(r"https?://|//[a-z]|@import|url\(", text, re.I), name
    index = Page(sample_files["index.html"])
    assert [d["src"] for t, d in index.tags if t == "script"] == ["static/report.js"]
    assert [d["href"] for t, d in index.tags if t == "link"] == ["static/style.css"]


def test_index_tells_the_story_at_a_glance(sample_files: dict[str, str]) -> None:
    index = sample_files["index.html"]
    assert "4 articles from 3 sources, published 2013-10-07 to 2019-01-04." in index
    # the timeline, in date order, with novelty
    dates = re.findall(r'data-label="Date"><time>([0-9-]+)</time>', index)
    assert dates == ["2013-10-07", "2016-11-19", "2016-11-20", "2019-01-04"]
    assert "<strong>100%</strong> new, 0% recycled" in index
    # heatmap cells link to pair pages
    svg = index[index.index("<svg viewBox"):index.index("</svg>", index.index("<svg viewBox"))]
    assert re.search(r'<a href="pairs/[a-z0-9-]+--[a-z0-9-]+\.html"><rect class="cell h', svg)
    # threads ranked, divergence listed with its explanation, cluster shown
    assert index.index("threads/t1.html") < index.index("threads/t2.html")
    assert "The count of Abe–Putin meetings differs: fourth (2013) vs 25th (2019)." in index
    assert 'id="cluster-c1"' in index
    # every colour has a legend
    for label in ("inserted words", "deleted words", "new: words first seen", "recycled:",
                  "under 2%", "40% and more"):
        assert label in index


def test_thread_page_shows_versions_in_date_order_with_word_diffs(
        sample_files: dict[str, str]) -> None:
    page = sample_files["threads/t1.html"]
    versions = page[page.index('<ol class="versions">'):]
    dates = re.findall(r'<li id="v\d+" class="version">\s*<h3>.*?<time>([0-9-]+)</time>',
                       versions, re.S)
    assert dates == ["2013-10-07", "2016-11-19", "2016-11-20", "2019-01-04"]
    assert "<del>signing</del> <ins>concluding</ins>" in page
    assert "<ins>post-</ins>World" in page
    assert page.count("Compare with the first version") == 2  # versions 3 and 4
    assert "From the first to the latest version" in page


def test_divergence_is_marked_inline_with_its_explanation(
        sample_files: dict[str, str]) -> None:
    page = sample_files["threads/t2.html"]
    version2 = page[page.index('<li id="v2"'):]
    assert '<mark class="div" title="divergent fact"><del>fourth</del>' in version2
    assert '<mark class="div" title="divergent fact"><ins>25th</ins>' in version2
    assert "The count of Abe–Putin meetings differs" in version2
    article = page_named(sample_files, "articles/004-moscow")
    assert 'class="sent divergent"' in article
    assert '<mark class="div">25th</mark>' in article


def test_article_page_marks_each_sentence(sample_files: dict[str, str]) -> None:
    earliest = page_named(sample_files, "articles/003-kyodo-2013")
    later = page_named(sample_files, "articles/002-kyodo-2016")
    assert '<span id="s1" class="sent new"' in earliest
    assert '<span class="seg-bp" title="boilerplate: credit line">• Kyodo</span>' in earliest
    # the 2016 sentence repeats the 2013 one: marked, with a link to the earliest article
    assert '<span id="s1" class="sent repeated"' in later
    link = re.search(r'↩ repeated from <a href="([^"]+)">#1 Kyodo 2013-10-07</a>', later)
    assert link and link.group(1) == "../articles/003-kyodo-2013-099a6c2d.html#s1"
    assert '<mark class="reused">dispute that has prevented' in later
    assert re.search(r"<strong>\d+% new</strong>, \d+% said in earlier articles", later)


def test_pair_page_links_matched_passages_to_each_other(sample_files: dict[str, str]) -> None:
    page = page_named(sample_files, "pairs/003-kyodo-2013", "004-moscow")
    a = re.search(r'<a class="hl (c\d)" href="#b1" id="a1"[^>]*>([^<]+)</a>', page)
    b = re.search(r'<a class="hl (c\d)" href="#a1" id="b1"[^>]*>([^<]+)</a>', page)
    assert a and b and a.group(1) == b.group(1)
    assert (a.group(2), b.group(2)) == ("their fourth", "their 25th summit")
    assert '<del>fourth</del> <ins>25th summit</ins>' in page


# ---------------------------------------------------------------- untrusted text


def test_script_payloads_render_as_text() -> None:
    files = render(hostile_comparison())
    for name in files:
        assert re.fullmatch(r"(articles|threads|pairs)/[a-z0-9-]+(--[a-z0-9-]+)?\.html"
                            r"|index\.html|static/(style\.css|report\.js)", name), name
    article = page_named(files, "articles/script")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in article
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in article
    assert "&lt;a href=&#34;javascript:alert(1)&#34;&gt;this&lt;/a&gt;" in article
    for name, page in parsed(files).items():
        text = files[name]
        for payload in PAYLOADS[:2]:
            assert payload not in text, (name, payload)
        for tag, attrs in page.tags:
            assert tag not in ("img", "iframe", "object", "embed", "b"), (name, tag)
            assert not [a for a in attrs if a.startswith("on")], (name, tag, attrs)
            for key in ("href", "src"):
                assert not (attrs.get(key) or "").lower().startswith("javascript"), name
        assert [t for t, d in page.tags if t == "script"] == ["script"]


def test_autoescape_is_on_and_nothing_is_marked_safe() -> None:
    templates = ROOT / "src" / "newsdiff" / "templates"
    for path in templates.glob("*.html"):
        assert "|safe" not in path.read_text().replace(" ", ""), path
        assert "autoescape false" not in path.read_text(), path


# ---------------------------------------------------------------- the seeds


def test_seed_report_has_thread_article_and_pair_pages(seed_files: dict[str, str]) -> None:
    assert "index.html" in seed_files
    assert len([n for n in seed_files if n.startswith("articles/")]) == 5
    assert any(n.startswith("threads/") for n in seed_files)
    assert any(n.startswith("pairs/") for n in seed_files)


def test_dispute_thread_page_spans_2013_to_2019_with_word_diffs(
        seed_comparison: Comparison, seed_files: dict[str, str]) -> None:
    dispute = [t for t in seed_comparison.threads
               if any("prevented the two" in m.passage.text for m in t.members)]
    assert dispute, "no thread holds the island-dispute description"
    thread = dispute[0]
    assert (thread.first_published, thread.last_published[:4]) == ("2013-10-07", "2019")
    page = seed_files[f"threads/{thread.id}.html"]
    assert "<ins>" in page and "<del>" in page
    assert "2013-10-07" in page and "2019-01-04" in page


def test_compare_command_writes_the_report_and_report_rerenders_it(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "reports"
    result = runner.invoke(cli, ["compare", str(SEEDS), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"report: {out / 'index.html'}"
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"index.html", "comparison.json", "static/style.css"} <= written
    again = tmp_path / "again"
    result = runner.invoke(cli, ["report", str(out / "comparison.json"), "--out", str(again)])
    assert result.exit_code == 0, result.output
    for name in written:
        assert (again / name).read_bytes() == (out / name).read_bytes(), name


# ---------------------------------------------------------------- large corpora


def big_comparison(n: int, divergent: bool = False) -> Comparison:
    """`n` articles, each repeating a sentence of the one before: a long chain (with a
    divergence in each link when `divergent`)."""
    docs, matches, members = [], [], []
    for k in range(n):
        text = (f"Talks resumed on day {k} in Moscow between the two delegations. "
                f"Officials said round {k + 1} would follow in Tokyo next month.")
        first = text.index(" Officials")
        sentences = (Span(f"a{k:04d}.txt", 0, first, text[:first]),
                     Span(f"a{k:04d}.txt", first + 1, len(text), text[first + 1:]))
        docs.append(Document(f"a{k:04d}.txt", f"a{k:04d}.txt", text, "txt", "utf-8", "0" * 64,
                             source=f"Wire {k % 7}",
                             published=f"{2000 + k // 365:04d}-01-01", word_count=22,
                             sentences=sentences))
    for k in range(1, n):
        a, b = docs[k - 1], docs[k]
        sa = Span(a.id, 0, a.sentences[0].end, a.sentences[0].text)
        sb = Span(b.id, 0, b.sentences[0].end, b.sentences[0].text)
        matches.append(Match(f"m{k}", sa, sb, 0, 0, 0.9, "near-verbatim", ()))
        members.append(ThreadMember(b.id, b.published, b.sentences[0], sb))
    thread = Thread("t1", "Talks resumed", (ThreadMember(docs[0].id, docs[0].published,
                                                         docs[0].sentences[0],
                                                         docs[0].sentences[0]), *members),
                    tuple(m.id for m in matches), docs[0].published, docs[-1].published)
    divergences = []
    for k, m in enumerate(matches if divergent else (), 1):  # "day k-1" against "day k"
        a, b = (span(d, f"day {d.text.split()[4]}") for d in (docs[k - 1], docs[k]))
        divergences.append(Divergence(
            f"d{k}", "number", m.id, "t1", FactValue(a.text, a.text[4:], a, docs[k - 1].published),
            FactValue(b.text, b.text[4:], b, docs[k].published), "change",
            f"The day differs: {a.text} vs {b.text}.", 0.8))
    return Comparison(settings={}, documents=tuple(docs), matches=tuple(matches),
                      threads=(thread,), divergences=tuple(divergences))


def test_small_corpus_gets_a_heatmap_and_a_large_one_a_capped_index() -> None:
    small = render(big_comparison(HEATMAP_MAX_DOCS))
    assert '<figure class="heatmap">' in small["index.html"]
    assert "lists/articles-1.html" not in small
    large = render(big_comparison(1000))
    index = large["index.html"]
    assert '<figure class="heatmap">' not in index
    assert "the table below lists the most similar pairs" in index
    assert f"Showing {INDEX_ARTICLES} of 1000 articles" in index
    assert len(index.encode()) < 250_000
    assert {"lists/articles-1.html", "lists/articles-2.html", "lists/pairs-1.html"} <= set(large)
    assert "Showing 501–1000 of 1000." in large["lists/articles-2.html"]
    thread = large["threads/t1.html"]
    assert "Showing 200 of 1000 versions" in thread
    assert len(thread.encode()) < 1_000_000
    assert broken_links(large) == []
    thread = render(big_comparison(1000, divergent=True))["threads/t1.html"]
    assert "Showing 200 of 999 divergences" in thread  # not all 999 rows
    assert thread.count('class="divergence">') == 200


def test_pages_rendered_by_two_workers_are_the_pages_rendered_by_one(
        monkeypatch, seed_comparison: Comparison, seed_files: dict[str, str]) -> None:
    import newsdiff.report as report

    monkeypatch.setattr(report, "RENDER_CHUNK", 1)  # one page per task
    assert render(seed_comparison, workers=2) == seed_files


def test_pages_written_by_the_workers_are_the_pages_rendered(
        monkeypatch, tmp_path: Path, seed_comparison: Comparison,
        seed_files: dict[str, str]) -> None:
    """`newsdiff compare` has the workers write the pages they render; the folder then
    holds exactly `render`'s files, byte for byte."""
    import newsdiff.report as report

    monkeypatch.setattr(report, "RENDER_CHUNK", 1)
    names = report.write_pages(tmp_path, seed_comparison, workers=2)
    assert names == sorted(seed_files)
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == names
    for name, content in seed_files.items():
        data = (tmp_path / name).read_bytes()
        assert data == (content if isinstance(content, bytes) else content.encode("utf-8"))


def test_coverage_counts_the_words_that_words_finds(seed_comparison: Comparison) -> None:
    """The report counts body words by the tokeniser's pattern alone: the same starts."""
    import random

    from newsdiff.report import _Corpus
    from newsdiff.tokens import words

    corpus = _Corpus(seed_comparison)
    rng = random.Random(4)
    for d in seed_comparison.documents:
        starts = [w.start for s in d.sentences for w in words(d.text, s.start, s.end)]
        assert corpus.body_words(d.id) == len(starts) == d.word_count > 0
        for _ in range(100):
            spans = [tuple(sorted(rng.randrange(len(d.text) + 1) for _ in range(2)))
                     for _ in range(rng.randrange(4))]
            assert corpus.words_in(d.id, spans) == sum(
                any(s <= x < e for s, e in spans) for x in starts)


@pytest.mark.parametrize("which", ["seed_comparison", "generated_comparison"])
def test_pairs_and_recycled_words_agree_with_counting_by_hand(
        which: str, request: pytest.FixtureRequest) -> None:
    """What the pages say of pairs of articles and of each article's recycled words, worked
    out for all matches at once, equals counting the body words match by match."""
    from collections import defaultdict

    from newsdiff.report import _Corpus
    from newsdiff.threads import doc_order_key
    from newsdiff.tokens import words

    comparison = request.getfixturevalue(which)
    corpus = _Corpus(comparison)
    place = {d.id: k for k, d in enumerate(sorted(comparison.documents, key=doc_order_key))}
    starts = {d.id: [w.start for s in d.sentences for w in words(d.text, s.start, s.end)]
              for d in comparison.documents}

    def count(doc: str, spans: list[tuple[int, int]]) -> int:
        return sum(any(s <= x < e for s, e in spans) for x in starts[doc])

    later: dict[str, list[tuple[int, int]]] = defaultdict(list)
    sides: dict[tuple[str, str], list[tuple[int, Span, Span]]] = defaultdict(list)
    for k, m in enumerate(comparison.matches):
        if m.a.doc != m.b.doc:
            first, second = sorted((m.a, m.b), key=lambda span: place[span.doc])
            later[second.doc].append((second.start, second.end))
            sides[(first.doc, second.doc)].append((k, first, second))
    for doc in starts:
        assert corpus.recycled_words[doc] == count(doc, later[doc])
        merged = corpus.recycled_spans.get(doc, [])
        assert all(e1 < s2 for (_, e1), (s2, _) in zip(merged, merged[1:], strict=False))
        covered = {x for s, e in later[doc] for x in range(s, e)}
        assert {x for s, e in merged for x in range(s, e)} == covered
    dups = {tuple(sorted((d.a, d.b), key=place.__getitem__)): d for d in comparison.duplicates}
    expected = {}
    for a, b in sides.keys() | dups.keys():
        shared = sides.get((a, b), [])
        aw = count(a, [(s.start, s.end) for _, s, _ in shared])
        bw = count(b, [(s.start, s.end) for _, _, s in shared])
        sim = (aw + bw) / (len(starts[a]) + len(starts[b]))
        dup = dups.get((a, b))
        expected[(a, b)] = (aw, bw, tuple(k for k, _, _ in shared),
                            dup.kind if dup else "overlap",
                            min(max(sim, dup.jaccard) if dup else sim, 1.0))
    # pairs of one passage, of several, and near-duplicates (some sharing no passage)
    assert len(expected) >= 4 and any(len(v[2]) > 1 for v in expected.values())
    assert which == "seed_comparison" or any(v[3] != "overlap" for v in expected.values())
    assert {(p.a, p.b): (p.a_words, p.b_words, p.matches, p.kind, p.similarity)
            for p in corpus.pairs} == expected
    assert [(p.a, p.b) for p in corpus.pairs] == sorted(expected, key=lambda ab: (
        -expected[ab][4], place[ab[0]], place[ab[1]]))
    for doc in starts:
        assert corpus.pairs_of.get(doc, []) == [p for p in corpus.pairs if doc in (p.a, p.b)]
