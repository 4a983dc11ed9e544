"""Security: script payloads from every way text enters a report stay text; absurd manifest,
front matter and config values are refused with clear errors; nothing reaches a terminal
as an escape sequence; and nothing opens a network connection except to the Redis URL
given.

(The report tests probe the renderer with a hand-built Comparison; these go through the
whole pipeline, from files on disk to pages.)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from hostile import prose
from newsdiff.cli import cli
from test_index import redis_server  # noqa: F401  (a real redis-server, shared fixture)

from conftest import SEEDS, seed_text

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
IMG = '"><img src=x onerror=alert(1)>'
SVG = "'><svg onload=alert(1)>"
SCRIPT = "<script>alert(1)</script>"


def run(*args: str, cwd: Path | None = None, color: bool = False):
    old = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, list(args), color=color)
    finally:
        os.chdir(old)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.output, result.exception)
    assert "Traceback" not in result.output
    return result


# ---------------------------------------------------------------- script payloads


class Tags(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def _toml(value: str) -> str:
    return json.dumps(value)


@pytest.fixture(scope="module")
def payload_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A corpus whose file names, manifest values, front matter, HTML metadata and text all
    carry script payloads, compared into a report."""
    work = tmp_path_factory.mktemp("xss")
    corpus = work / "corpus"
    corpus.mkdir()
    a, b, c = seed_text("001"), seed_text("002"), seed_text("003")
    names = {f"{IMG}.txt": a, f"{SVG}.md": b, f"{SCRIPT.replace('/', '')}.txt": c}
    for name, text in names.items():
        (corpus / name).write_text(text + f"\n\nAbe said {SCRIPT} and {IMG} in Lima.\n",
                                   encoding="utf-8")
    (corpus / "front.md").write_text(
        f"---\ntitle: {_toml(SCRIPT + ' front')}\nsource: {_toml(IMG)}\n---\n\n{a}",
        encoding="utf-8")
    body = "".join(f"<p>{p}</p>" for p in b.split("\n\n")[1:6])
    (corpus / "page.html").write_text(
        f"<html><head><title>{SVG} page &lt;script&gt;alert(1)&lt;/script&gt;</title>"
        f'<meta property="og:site_name" content="&quot;&gt;&lt;img src=x '
        f'onerror=alert(1)&gt;"></head><body><article><h1>{SVG} page</h1>{body}'
        "</article></body></html>", encoding="utf-8")
    (corpus / "manifest.toml").write_text(
        f"[articles.{_toml(IMG + '.txt')}]\ntitle = {_toml(SCRIPT + ' manifest')}\n"
        f"source = {_toml('javascript:alert(1)')}\npublished = 2016-11-07\n"
        f"[articles.{_toml(SVG + '.md')}]\nsource = {_toml(SVG)}\npublished = 2016-11-19\n"
        f"note = {_toml(SCRIPT)}\n", encoding="utf-8")
    result = run("compare", str(corpus), "--out", str(work / "r"), "-q")
    assert result.exit_code == EXIT_OK, result.output
    files = {p.relative_to(work / "r").as_posix(): p.read_text(encoding="utf-8")
             for p in (work / "r").rglob("*") if p.is_file()}
    return work, files


def test_payloads_from_names_manifest_front_matter_and_html_reach_the_pages_as_text(
        payload_report: tuple[Path, dict[str, str]]) -> None:
    _, files = payload_report
    data = json.loads(files["comparison.json"])
    titles = {d["title"] for d in data["documents"]}
    sources = {d["source"] for d in data["documents"]}
    assert {f"{SCRIPT} manifest", f"{SCRIPT} front"} <= titles  # the payloads got through
    assert {IMG, SVG, "javascript:alert(1)"} <= sources
    assert any(d["id"] == f"{IMG}.txt" for d in data["documents"])
    pages = "".join(t for n, t in files.items() if n.endswith(".html"))
    # ... and every one of them is shown escaped.
    assert "&lt;script&gt;alert(1)&lt;/script&gt; manifest" in pages
    assert "&lt;script&gt;alert(1)&lt;/script&gt; front" in pages
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in pages
    assert "&#39;&gt;&lt;svg onload=alert(1)&gt;" in pages


def test_no_page_of_that_report_holds_a_live_tag_handler_or_script_url(
        payload_report: tuple[Path, dict[str, str]]) -> None:
    _, files = payload_report
    for name, text in files.items():
        if not name.endswith(".html"):
            continue
        assert re.fullmatch(r"(articles|threads|pairs)/[a-z0-9-]+(--[a-z0-9-]+)?\.html"
                            r"|index\.html", name), name
        for payload in (SCRIPT, IMG, SVG, "<img", "<svg onload", "<iframe"):
            assert payload not in text, (name, payload)
        for tag, attrs in Tags(text).tags:  # the report draws its own bars in <svg>
            assert tag not in ("img", "iframe", "object", "embed"), (name, tag)
            assert not [a for a in attrs if a.startswith("on")], (name, tag, attrs)
            for key in ("href", "src", "action"):
                value = (attrs.get(key) or "").strip().lower()
                assert not value.startswith(("javascript:", "data:")), (name, attrs)
            if tag == "script":  # only the report's own script file
                assert attrs.get("src", "").endswith("static/report.js"), (name, attrs)


def test_article_text_and_file_names_cannot_drive_the_terminal(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    assert run("index", "build", str(corpus), "-q").exit_code == EXIT_OK
    paragraphs = seed_text("002").split("\n\n")
    paragraphs[3] = "\x1b]0;pwned\x07\x1b[2J\x9b31m" + paragraphs[3]
    evil = tmp_path / "evil\x1b[31m.txt"
    evil.write_text("\n\n".join(paragraphs), encoding="utf-8")
    outputs = [
        run("check", "--corpus", str(corpus), str(evil), color=True).output,
        run("compare", str(corpus), str(evil), "--out", str(tmp_path / "r"),
            color=True).output,
        run("add", "--corpus", str(corpus), "--force", str(evil), color=True).output,
    ]
    for text in outputs:
        assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text, text
    assert "evil\\x1b[31m.txt" in outputs[0]


# ---------------------------------------------------------------- absurd values


def _article(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.txt").write_text(seed_text("001"), encoding="utf-8")


@pytest.mark.parametrize(("manifest", "problem"), [
    ('[articles."a.txt"]\npublished = 0216-11-07\n',
     "publication date 0216-11-07 is not plausible (the year must be from 1600 to 2200)"),
    ('[articles."a.txt"]\npublished = 9999-12-31\n',
     "publication date 9999-12-31 is not plausible (the year must be from 1600 to 2200)"),
    ('[articles."a.txt"]\npublished = "yesterday"\n',
     "cannot read the publication date 'yesterday'"),
    ('[articles."a.txt"]\npublished = "in 3 days"\n',
     "cannot read the publication date 'in 3 days'"),
    ('[articles."a.txt"]\npublished = "2016-11-0799"\n',
     "cannot read the publication date '2016-11-0799'"),
    ('[articles."a.txt"]\npublished = 20161107\n',
     "articles.'a.txt': published must be a date"),
    ('[articles."a.txt"]\npublished = 10:30:00\n',
     "articles.'a.txt': published must be a date"),
    ('[articles."a.txt"]\ntitle = 42\n',
     "articles.'a.txt': title must be a string of at most 1000 characters"),
    ('[articles."a.txt"]\nsource = ["Kyodo", "AP"]\n',
     "articles.'a.txt': source must be a string of at most 1000 characters"),
    ('[articles."a.txt"]\ntitle = "' + "T" * 1001 + '"\n',
     "articles.'a.txt': title: longer than 1000 characters"),
    ('[articles."a.txt"]\ntitle = "bell\\u0007 and NUL\\u0000"\n',
     "articles.'a.txt': title: holds control characters"),
    ('[articles."a.txt"]\nauthor = "me"\n', "articles.'a.txt': unknown key 'author'"),
    ("articles = 5\n", "[articles] must be a table of tables"),
    ('[articles]\n"a.txt" = "Kyodo"\n', "articles.'a.txt' must be a table"),
    ('[articles."a.txt"\n', "invalid TOML: Expected ']' at the end of a table declaration"),
])
def test_absurd_manifest_values_are_refused_in_one_line(tmp_path: Path, manifest: str,
                                                       problem: str) -> None:
    _article(tmp_path / "c")
    (tmp_path / "c" / "manifest.toml").write_text(manifest, encoding="utf-8")
    result = run("compare", str(tmp_path / "c"), "--out", str(tmp_path / "r"))
    assert result.exit_code == EXIT_USAGE
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {tmp_path / 'c'}/"), lines
    assert problem in lines[0]


def test_a_huge_or_binary_manifest_is_refused_without_parsing(tmp_path: Path) -> None:
    _article(tmp_path / "c")
    manifest = tmp_path / "c" / "manifest.toml"
    manifest.write_bytes(b"# " + b"x" * (10 * 1024 * 1024) + b"\n")
    result = run("compare", str(tmp_path / "c"), "--out", str(tmp_path / "r"))
    assert (result.exit_code, result.stderr) == (
        EXIT_USAGE, f"Error: {manifest}: manifest larger than 10,485,760 bytes\n")
    manifest.write_bytes(b"\x89PNG\r\n\x1a\n")
    result = run("compare", str(tmp_path / "c"), "--out", str(tmp_path / "r"))
    assert (result.exit_code, result.stderr) == (
        EXIT_USAGE, f"Error: {manifest}: manifest is not UTF-8 (byte 0)\n")


@pytest.mark.parametrize(("front", "problem"), [
    ("title: [a, b]", "front matter title: must be a single value, not list"),
    ("title: {x: 1}", "front matter title: must be a single value, not dict"),
    ("source: true", "front matter source: must be a single value, not bool"),
    ("title: " + "T" * 1001, "front matter title: longer than 1000 characters"),
    ('title: "a\\x1bb"', "front matter title: holds control characters"),
    ("date: yesterday", "cannot read the publication date 'yesterday'"),
    ("date: 0001-01-01", "publication date 0001-01-01 is not plausible"),
    ("title: !!python/object/apply:os.system ['touch pwned']",
     "invalid front matter: could not determine a constructor for the tag"),
])
def test_absurd_front_matter_is_refused_in_one_line(tmp_path: Path, front: str,
                                                    problem: str) -> None:
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "a.md").write_text(f"---\n{front}\n---\n\n{seed_text('001')}",
                                 encoding="utf-8")
    result = run("compare", str(folder), "--out", str(tmp_path / "r"), cwd=tmp_path)
    assert result.exit_code == EXIT_USAGE
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {folder / 'a.md'}: ")
    assert problem in lines[0]
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(("config", "problem"), [
    ("num_perm = 1000000000", "setting num_perm=1000000000: must be an integer from 16 to "
                              "1024"),
    ("shingle_size = -3", "setting shingle_size=-3: must be an integer from 1 to 8"),
    ("dup_jaccard = nan", "setting dup_jaccard=nan: must be a number in (0, 1]"),
    ("dup_containment = inf", "setting dup_containment=inf: must be a number in (0, 1]"),
    ("max_file_mb = 1e308", "setting max_file_mb=1e+308: must be a number in (0, 64]"),
    ("max_file_mb = 100", "setting max_file_mb=100.0: must be a number in (0, 64]"),
    ("max_file_mb = -1", "setting max_file_mb=-1.0: must be a number in (0, 64]"),
    ("seed = -1", "setting seed=-1: must be an integer from 0 to 2**32-1"),
    ("workers = 100000", "setting workers=100000: must be an integer from 0 to 64"),
    ('num_perm = "128"', "setting num_perm must be an integer, got '128'"),
    ("num_perm = 128.5", "setting num_perm must be an integer, got 128.5"),
    ("match_min_words = true", "setting match_min_words must be an integer, got True"),
    ('boilerplate_patterns = "Reporting by .*"',
     "setting boilerplate_patterns must be a list of strings"),
    ('boilerplate_patterns = ["(unclosed"]',
     "boilerplate pattern '(unclosed': missing ), unterminated subpattern"),
    ("colour = 3", "unknown setting 'colour'"),
    ("tool = 5", "unknown setting 'tool'"),
])
def test_absurd_config_values_are_refused_in_one_line(tmp_path: Path, config: str,
                                                      problem: str) -> None:
    _article(tmp_path / "c")
    (tmp_path / "newsdiff.toml").write_text(config + "\n", encoding="utf-8")
    result = run("compare", "c", "--out", "r", cwd=tmp_path)
    assert result.exit_code == EXIT_USAGE
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and problem in lines[0], lines
    assert "newsdiff.toml" in lines[0]


def test_a_pyproject_whose_tool_key_is_not_a_table_is_not_newsdiffs(tmp_path: Path) -> None:
    _article(tmp_path / "c")
    (tmp_path / "pyproject.toml").write_text('tool = "poetry"\n', encoding="utf-8")
    assert run("compare", "c", "--out", "r", "-q", cwd=tmp_path).exit_code == EXIT_OK
    (tmp_path / "pyproject.toml").write_text("[tool]\nnewsdiff = 5\n", encoding="utf-8")
    result = run("compare", "c", "--out", "r", cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (
        EXIT_USAGE, f"Error: {tmp_path / 'pyproject.toml'}: [tool.newsdiff] must be a "
                    "table\n")


def test_redis_passwords_never_appear_in_messages_and_prefixes_are_checked(
        tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    _article(tmp_path / "c")
    url = f"redis://reader:s3cret-pass@127.0.0.1:{port}/0?prefix=news"
    result = run("index", "build", str(tmp_path / "c"), "--index", url)
    assert result.exit_code == EXIT_USAGE
    assert "s3cret" not in result.output
    assert result.stderr.startswith(f"Error: redis://reader:***@127.0.0.1:{port}/0?prefix=news"
                                    ": cannot reach Redis")
    result = run("index", "build", str(tmp_path / "c"), "--index",
                 f"redis://127.0.0.1:{port}/0?prefix=a:doc")
    assert result.exit_code == EXIT_USAGE
    assert "prefix 'a:doc' must be 1 to 100 letters, digits, '_', '.' or '-'" in result.stderr


# ---------------------------------------------------------------- no network


class NetworkGuard:
    """Records every connection and name lookup; refuses all but the allowed address."""

    def __init__(self, allowed: set[tuple[str, int]]) -> None:
        self.allowed = allowed
        self.attempts: list[object] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real_connect = socket.socket.connect
        real_connect_ex = socket.socket.connect_ex
        real_getaddrinfo = socket.getaddrinfo

        def check(address: object) -> None:
            self.attempts.append(address)
            if not (isinstance(address, tuple) and (address[0], address[1]) in self.allowed):
                raise OSError(f"network blocked by the test: {address!r}")

        def connect(sock: socket.socket, address: object) -> None:
            check(address)
            return real_connect(sock, address)

        def connect_ex(sock: socket.socket, address: object) -> int:
            check(address)
            return real_connect_ex(sock, address)

        def sendto(sock: socket.socket, data: bytes, *args: object) -> int:
            check(args[-1])
            raise AssertionError("unreachable")

        def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
            if (host, port) not in self.allowed:
                self.attempts.append(("lookup", host, port))
                raise socket.gaierror(f"name lookup blocked by the test: {host!r}")
            return real_getaddrinfo(host, port, *args, **kwargs)

        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
        monkeypatch.setattr(socket.socket, "sendto", sendto)
        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def _offline_corpus(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the seeds plus a page that points at remote resources, and a new article."""
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    body = "".join(f"<p>{p}</p>" for p in seed_text("002").split("\n\n")[1:6])
    (corpus / "remote.html").write_text(
        '<html><head><link rel="stylesheet" href="http://example.com/s.css">'
        '<script src="https://example.com/x.js"></script></head><body>'
        '<img src="http://example.com/i.png"><iframe src="http://example.com/f"></iframe>'
        f"<article>{body}</article></body></html>", encoding="utf-8")
    new = tmp_path / "new.txt"
    new.write_text(prose(3000, seed=11, paragraph_every=4), encoding="utf-8")
    return corpus, new


def test_compare_check_and_add_open_no_connection(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    guard = NetworkGuard(allowed=set())
    guard.install(monkeypatch)
    with pytest.raises(OSError):  # the guard is live
        socket.create_connection(("93.184.215.14", 80), timeout=1)
    assert guard.attempts == [("lookup", "93.184.215.14", 80)]
    guard.attempts.clear()
    corpus, new = _offline_corpus(tmp_path)
    assert run("compare", str(corpus), "--out", str(tmp_path / "r"), "-q").exit_code == EXIT_OK
    assert run("check", "--corpus", str(corpus), str(new)).exit_code == EXIT_OK
    result = run("add", "--corpus", str(corpus), str(new))
    assert result.exit_code == EXIT_OK and result.stdout.startswith("added ")
    assert guard.attempts == []


def test_with_a_redis_index_the_only_connection_is_to_that_server(
        tmp_path: Path, redis_server: int, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    guard = NetworkGuard(allowed={("127.0.0.1", redis_server)})
    guard.install(monkeypatch)
    corpus, new = _offline_corpus(tmp_path)
    url = f"redis://127.0.0.1:{redis_server}/0?prefix=netguard-{os.getpid()}"
    assert run("index", "build", str(corpus), "--index", url, "-q").exit_code == EXIT_OK
    assert run("check", "--index", url, str(new)).exit_code == EXIT_OK
    assert run("add", "--corpus", str(corpus), "--index", url, str(new)).exit_code == EXIT_OK
    assert guard.attempts and set(guard.attempts) == {("127.0.0.1", redis_server)}


def test_the_commands_work_in_a_namespace_without_any_network(tmp_path: Path) -> None:
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-n", "true"], check=False,
                                         capture_output=True).returncode != 0:
        pytest.skip("unshare -n (a network namespace) is not available here")
    corpus, new = _offline_corpus(tmp_path)

    def offline(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([unshare, "-n", sys.executable, "-m", "newsdiff", *args],
                              capture_output=True, text=True, check=False, timeout=300)

    proc = offline("compare", str(corpus), "--out", str(tmp_path / "r"), "-q")
    assert proc.returncode == EXIT_OK, proc.stderr
    proc = offline("check", "--corpus", str(corpus), str(new))
    assert proc.returncode == EXIT_OK, proc.stderr
    proc = offline("add", "--corpus", str(corpus), str(new))
    assert proc.returncode == EXIT_OK and proc.stdout.startswith("added "), proc.stderr
    proc = offline("check", "--index", "redis://127.0.0.1:6379/0", str(new))
    assert proc.returncode == EXIT_USAGE and "cannot reach Redis" in proc.stderr
