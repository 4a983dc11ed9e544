"""Reading articles: discovery, decoding, metadata precedence, HTML extraction."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from newsdiff.compare import compare
from newsdiff.corpus import decode, discover, read_corpus
from newsdiff.errors import InputError

from conftest import seed_text

MB = 1024 * 1024
PARAGRAPH = ("Prime Minister Shinzo Abe held intensive talks Saturday with Russian President "
             "Vladimir Putin on territorial issues and said he wanted to achieve a "
             "breakthrough in negotiations on the disputed islands off Hokkaido.")


def test_discover_walks_folders_and_skips_hidden_files_manifest_and_other_suffixes(
        tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").mkdir()
    for name in ("a.txt", "sub/b.md", "sub/c.html", ".d.txt", ".hidden/e.txt", "f.pdf",
                 "manifest.toml", "g.HTM"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    ids = [i for _, i in discover([tmp_path])]
    assert ids == ["a.txt", "g.HTM", "sub/b.md", "sub/c.html"]


def test_a_single_file_is_an_input_too(seeds_dir: Path) -> None:
    path = next(seeds_dir.glob("004_*.txt"))
    assert discover([path]) == [(path, path.name)]


def test_utf8_with_and_without_bom_and_utf16_with_bom_are_decoded() -> None:
    text = seed_text("001")
    assert decode(text.encode("utf-8"), "x") == (text, "utf-8")
    assert decode(codecs.BOM_UTF8 + text.encode("utf-8"), "x") == (text, "utf-8-sig")
    assert decode(codecs.BOM_UTF16_LE + text.encode("utf-16-le"), "x") == (text, "utf-16")
    assert decode(codecs.BOM_UTF16_BE + text.encode("utf-16-be"), "x") == (text, "utf-16")


def test_legacy_encodings_are_detected_and_recorded() -> None:
    latin = ("Le Premier ministre japonais a rencontré le président russe à Lima. "
             "Les négociations sur les îles contestées progressent, a déclaré un "
             "responsable japonais après la réunion de samedi. ") * 3
    text, encoding = decode(latin.encode("latin-1"), "x")
    assert text == latin
    assert encoding.replace("_", "-") in {"latin-1", "iso8859-1", "cp1252", "iso-8859-1",
                                          "windows-1252", "cp1250", "iso8859-15"}
    japanese = ("安倍晋三首相は土曜日、ロシアのプーチン大統領と会談し、"
                "北方領土問題について協議した。") * 4
    text, encoding = decode(japanese.encode("shift_jis"), "x")
    assert text == japanese
    assert "jis" in encoding.replace("_", "").lower() or encoding == "cp932"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file (a PNG image), not text"),
        (b"Abe met Putin.\x00\x00 Talks went on.", "binary file (NUL byte at offset 14)"),
        (seed_text("001").encode()[:2000] + b"\xff" + seed_text("001").encode()[2000:],
         "invalid UTF-8 at byte 2000"),
    ],
)
def test_bad_bytes_are_refused_with_the_problem_named(data: bytes, problem: str) -> None:
    with pytest.raises(InputError) as err:
        decode(data, "news/x.txt")
    assert str(err.value).startswith(f"news/x.txt: {problem}")


def test_whitespace_only_and_too_large_files_are_refused(tmp_path: Path) -> None:
    blank = tmp_path / "blank.txt"
    blank.write_text(" \n\n\t \n", encoding="utf-8")
    with pytest.raises(InputError, match=r"blank.txt: empty article"):
        read_corpus([blank], MB)
    big = tmp_path / "big.txt"
    big.write_text(PARAGRAPH * 100, encoding="utf-8")
    with pytest.raises(InputError, match=r"big.txt: file too large"):
        read_corpus([big], 1000)


def test_missing_path_and_folder_without_articles(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nowhere: no such file or folder"):
        read_corpus([tmp_path / "nowhere"], MB)
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(InputError, match=r"no articles found"):
        read_corpus([tmp_path], MB)


def test_skip_bad_keeps_the_good_articles_and_reports_the_bad(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text(seed_text("002"), encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(InputError, match="empty.txt: empty file"):
        read_corpus([tmp_path], MB)
    articles, problems = read_corpus([tmp_path], MB, skip_bad=True)
    assert [a.id for a in articles] == ["good.txt"]
    assert problems == [f"{tmp_path / 'empty.txt'}: empty file"]


def test_manifest_supplies_seed_metadata(seed_comparison) -> None:
    by_id = {d.id: d for d in seed_comparison.documents}
    assert by_id["003_c7b829f5c48603c9.txt"].published == "2013-10-07"
    assert by_id["004_ca3b18b3347b43dc.txt"].source == "The Moscow Times"
    assert by_id["004_ca3b18b3347b43dc.txt"].title == (
        "Japan Plans to Push for Peace Treaty With Russia, PM Says")
    # Documents come in date order.
    assert [d.published for d in seed_comparison.documents] == [
        "2013-10-07", "2016-11-07", "2016-11-19", "2016-12-03", "2019-01-04"]


def test_metadata_precedence_options_over_manifest_over_front_matter(tmp_path: Path) -> None:
    front = ("---\ntitle: From front matter\nsource: Front Source\ndate: 2016-11-19\n---\n\n"
             + PARAGRAPH + "\n")
    (tmp_path / "a.md").write_text(front, encoding="utf-8")
    (articles, _) = read_corpus([tmp_path], MB)
    assert articles[0].meta == {"title": "From front matter", "source": "Front Source",
                                "published": "2016-11-19"}
    assert articles[0].text[articles[0].front_matter_end:].strip() == PARAGRAPH
    (tmp_path / "manifest.toml").write_text(
        '[articles."a.md"]\nsource = "Manifest Source"\npublished = 2016-11-20\n',
        encoding="utf-8")
    (articles, _) = read_corpus([tmp_path], MB)
    assert articles[0].meta == {"title": "From front matter", "source": "Manifest Source",
                                "published": "2016-11-20"}
    (articles, _) = read_corpus([tmp_path], MB, options={"source": "Option Source"})
    assert articles[0].meta["source"] == "Option Source"


def test_bad_manifest_values_are_input_errors(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(PARAGRAPH, encoding="utf-8")
    (tmp_path / "manifest.toml").write_text('[articles."a.txt"]\npublished = "someday"\n',
                                            encoding="utf-8")
    with pytest.raises(InputError, match="cannot read the publication date 'someday'"):
        read_corpus([tmp_path], MB)
    (tmp_path / "manifest.toml").write_text('[articles."a.txt"]\ncolour = "red"\n',
                                            encoding="utf-8")
    with pytest.raises(InputError, match="unknown key 'colour'"):
        read_corpus([tmp_path], MB)


def test_html_article_text_and_metadata_come_from_trafilatura(tmp_path: Path) -> None:
    body = "".join(f"<p>{p}</p>" for p in seed_text("002").split("\n\n")[1:6])
    html = ("<html><head><title>Abe meets Putin in Lima</title>"
            '<meta property="og:site_name" content="Kyodo News">'
            '<meta property="article:published_time" content="2016-11-19T10:00:00Z">'
            "</head><body><nav>Home | World | Asia</nav><article>"
            f"<h1>Abe meets Putin in Lima</h1>{body}</article>"
            "<script>alert(1)</script><footer>Contact us</footer></body></html>")
    (tmp_path / "lima.html").write_text(html, encoding="utf-8")
    result = compare([tmp_path])
    (doc,) = result.documents
    assert doc.format == "html"
    assert (doc.title, doc.source, doc.published) == ("Abe meets Putin in Lima", "Kyodo News",
                                                      "2016-11-19")
    assert "intensive talks Saturday" in doc.text
    assert "alert(1)" not in doc.text and "Home | World" not in doc.text


def test_undated_documents_sort_after_dated_ones_by_id(tmp_path: Path) -> None:
    for name, prefix in (("b.txt", "000"), ("a.txt", "001"), ("c.txt", "002")):
        (tmp_path / name).write_text(seed_text(prefix), encoding="utf-8")
    (tmp_path / "manifest.toml").write_text('[articles."c.txt"]\npublished = 2016-11-19\n',
                                            encoding="utf-8")
    result = compare([tmp_path])
    assert [d.id for d in result.documents] == ["c.txt", "a.txt", "b.txt"]
