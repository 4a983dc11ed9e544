"""The command line: exit codes, one-line errors, nothing half-written, spans exact."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsdiff.cli import cli

from conftest import seed_text


def run(*args: str, cwd: Path | None = None):
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(cli, list(args))
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(cli, list(args))
    finally:
        os.chdir(old)


def test_compare_seeds_writes_json_whose_every_span_is_exact(seeds_dir: Path,
                                                            tmp_path: Path) -> None:
    out_json = tmp_path / "out.json"
    result = run("compare", str(seeds_dir), "--out", str(tmp_path / "report"),
                 "--json", str(out_json))
    assert result.exit_code == 0, result.output
    assert "5 articles" in result.output
    assert f"report: {tmp_path / 'report'}" in result.output
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data["schema"] == "newsdiff.comparison/1"
    assert (tmp_path / "report" / "comparison.json").read_text(encoding="utf-8") == \
        out_json.read_text(encoding="utf-8")
    texts = {d["id"]: d["text"] for d in data["documents"]}
    spans = []

    def collect(node):
        if isinstance(node, dict):
            if {"doc", "start", "end", "text"} <= node.keys():
                spans.append(node)
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(data)
    assert len(spans) > 100
    for span in spans:
        assert texts[span["doc"]][span["start"]:span["end"]] == span["text"]
    for match in data["matches"]:
        for op in match["ops"]:
            assert texts[match["a"]["doc"]][op["a_start"]:op["a_end"]] == op["a_text"]
            assert texts[match["b"]["doc"]][op["b_start"]:op["b_end"]] == op["b_text"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "binary file (a PNG image), not text"),
        (seed_text("002").encode()[:900] + b"\xc3\x28" + seed_text("002").encode()[900:],
         "invalid UTF-8 at byte 900"),
    ],
)
def test_a_bad_file_stops_the_run_with_one_line_and_nothing_written(
        tmp_path: Path, content: bytes, problem: str) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text(seed_text("001"), encoding="utf-8")
    (corpus / "bad.txt").write_bytes(content)
    out = tmp_path / "report"
    result = run("compare", str(corpus), "--out", str(out), "--json", str(tmp_path / "o.json"))
    assert result.exit_code == 2
    assert result.output == f"Error: {corpus / 'bad.txt'}: {problem}" + (
        ", not text\n" if problem.startswith("binary") and not problem.endswith("text")
        else "\n")
    assert not out.exists() and not (tmp_path / "o.json").exists()


def test_skip_bad_reports_the_bad_file_and_compares_the_rest(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(seed_text("001"), encoding="utf-8")
    (corpus / "b.txt").write_text(seed_text("002"), encoding="utf-8")
    (corpus / "empty.txt").write_bytes(b"")
    result = run("compare", str(corpus), "--out", str(tmp_path / "r"), "--skip-bad")
    assert result.exit_code == 0
    assert f"skipped: {corpus / 'empty.txt'}: empty file" in result.output
    assert "2 articles" in result.output


def test_missing_path_empty_folder_and_unreadable_file(tmp_path: Path) -> None:
    result = run("compare", str(tmp_path / "nope"), "--out", str(tmp_path / "r"))
    assert (result.exit_code, result.output) == (
        2, f"Error: {tmp_path / 'nope'}: no such file or folder\n")
    (tmp_path / "empty").mkdir()
    result = run("compare", str(tmp_path / "empty"), "--out", str(tmp_path / "r"))
    assert result.exit_code == 2
    assert "no articles found" in result.output
    if os.geteuid() != 0:  # root reads anything; the permission check needs a normal user
        locked = tmp_path / "locked.txt"
        locked.write_text(seed_text("001"), encoding="utf-8")
        locked.chmod(0)
        result = run("compare", str(locked), "--out", str(tmp_path / "r"))
        assert (result.exit_code, result.output) == (
            2, f"Error: {locked}: permission denied\n")


def test_out_pointing_at_a_file_or_a_foreign_folder_is_refused(seeds_dir: Path,
                                                               tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("mine", encoding="utf-8")
    result = run("compare", str(seeds_dir), "--out", str(target))
    assert result.exit_code == 2 and "is a file, not a folder" in result.output
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.docx").write_text("precious", encoding="utf-8")
    result = run("compare", str(seeds_dir), "--out", str(folder))
    assert result.exit_code == 2 and "holds files newsdiff did not write" in result.output
    assert (folder / "thesis.docx").read_text(encoding="utf-8") == "precious"


def test_a_second_run_replaces_the_report_without_stale_files(seeds_dir: Path,
                                                              tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert run("compare", str(seeds_dir), "--out", str(out)).exit_code == 0
    (out / "stale.html").write_text("old", encoding="utf-8")
    assert run("compare", str(seeds_dir), "--out", str(out)).exit_code == 0
    assert not (out / "stale.html").exists()
    assert (out / "comparison.json").exists()


def test_settings_come_from_newsdiff_toml_and_options_override_them(seeds_dir: Path,
                                                                    tmp_path: Path) -> None:
    (tmp_path / "newsdiff.toml").write_text("shingle_size = 4\nnum_perm = 64\n",
                                            encoding="utf-8")
    out = tmp_path / "o.json"
    assert run("compare", str(seeds_dir), "--out", str(tmp_path / "r"), "--json", str(out),
               "--num-perm", "96", cwd=tmp_path).exit_code == 0
    settings = json.loads(out.read_text(encoding="utf-8"))["settings"]
    assert (settings["shingle_size"], settings["num_perm"]) == (4, 96)
    (tmp_path / "newsdiff.toml").write_text("shingle_size = 0\n", encoding="utf-8")
    result = run("compare", str(seeds_dir), "--out", str(tmp_path / "r"), cwd=tmp_path)
    assert result.exit_code == 2
    assert "shingle_size=0: must be an integer from 1 to 8" in result.output


def test_settings_from_pyproject_tool_table(seeds_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.newsdiff]\nmatch_min_words = 8\n",
                                             encoding="utf-8")
    out = tmp_path / "o.json"
    assert run("compare", str(seeds_dir), "--out", str(tmp_path / "r"), "--json", str(out),
               cwd=tmp_path).exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8"))["settings"]["match_min_words"] == 8


def test_version_and_python_dash_m() -> None:
    result = run("--version")
    assert result.exit_code == 0 and result.output.startswith("newsdiff, version ")
    proc = subprocess.run([sys.executable, "-m", "newsdiff", "--help"], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0 and "compare" in proc.stdout


def test_report_rerenders_from_saved_json(seeds_dir: Path, tmp_path: Path) -> None:
    assert run("compare", str(seeds_dir), "--out", str(tmp_path / "a")).exit_code == 0
    result = run("report", str(tmp_path / "a" / "comparison.json"), "--out",
                 str(tmp_path / "b"))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "a").rglob("*")) == \
        sorted(p.name for p in (tmp_path / "b").rglob("*"))
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "other/1"}', encoding="utf-8")
    result = run("report", str(bad), "--out", str(tmp_path / "c"))
    assert result.exit_code == 2 and "not a newsdiff comparison" in result.output


def test_json_never_overwrites_an_input_article(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    article = corpus / "a.txt"
    article.write_text(seed_text("001"), encoding="utf-8")
    (corpus / "b.txt").write_text(seed_text("002"), encoding="utf-8")
    result = run("compare", str(corpus), "--out", str(tmp_path / "r"), "--json", str(article))
    assert (result.exit_code, result.output) == (
        2, f"Error: {article}: is one of the articles being compared; give another file for "
           "--json\n")
    assert article.read_text(encoding="utf-8") == seed_text("001")


def test_a_worker_killed_for_lack_of_memory_is_one_line_and_exit_3(
        seeds_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the system kills a worker (as its out-of-memory killer does, with SIGKILL),
    `compare` says so on one line with a way out, exits 3 (not 1, which a script reads as
    "check found a duplicate"), and writes nothing."""
    import signal

    compare = sys.modules["newsdiff.compare"]  # (the package exports a function of that name)

    def killed(*args: object) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(compare, "find_duplicates", killed)  # run in a forked worker
    result = run("compare", str(seeds_dir), "--out", str(tmp_path / "report"),
                 "--json", str(tmp_path / "out.json"), "-q", "--workers", "2")
    assert result.exit_code == 3, result.output
    assert result.output.splitlines() == [
        "Error: a worker process was killed by signal 9 (SIGKILL) before it finished; the "
        "system kills the largest process when memory runs out: try --workers 1, or fewer "
        "articles at a time"]
    assert sorted(p.name for p in tmp_path.iterdir()) == []
