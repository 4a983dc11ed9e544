"""Atomic outputs: a report is replaced whole or not at all, whatever happens to the run,
and newsdiff never writes over files it did not write."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsdiff import output
from newsdiff.cli import cli

from conftest import SEEDS, seed_text

EXIT_OK, EXIT_USAGE = 0, 2


def run(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.output, result.exception)
    return result


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (relative name → bytes)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(parent: Path, name: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir()
                  if p.name.startswith(f".{name}.") and p.name != name)


@pytest.fixture()
def previous(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """A report of the seeds in tmp/r, and its files."""
    out = tmp_path / "r"
    assert run("compare", str(SEEDS), "--out", str(out), "-q").exit_code == EXIT_OK
    return out, tree(out)


@pytest.fixture()
def other_corpus(tmp_path: Path) -> Path:
    """Two seed articles: a comparison whose report differs from the seeds' one."""
    corpus = tmp_path / "other"
    corpus.mkdir()
    for prefix in ("001", "002"):
        (corpus / f"{prefix}.txt").write_text(seed_text(prefix), encoding="utf-8")
    return corpus


# A compare that stops for good after writing a few report files, and says so in a file.
SLOW_WRITER = """
import os, sys, time
from newsdiff import output
from newsdiff.cli import main
real, count = output._write, [0]
def write(target, content):
    real(target, content)
    count[0] += 1
    if count[0] == 3:
        open(os.environ["PAUSED"], "w").close()
        time.sleep(120)
output._write = write
sys.argv[0] = "newsdiff"
main()
"""


def test_a_compare_killed_mid_report_leaves_the_previous_report_intact(
        previous: tuple[Path, dict[str, bytes]], other_corpus: Path, tmp_path: Path) -> None:
    out, before = previous
    paused = tmp_path / "paused"
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, "compare", str(other_corpus),
                             "--out", str(out), "-q"],
                            env={**os.environ, "PAUSED": str(paused)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not paused.exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the report was never written"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert tree(out) == before  # byte for byte the previous report
    assert leftovers(tmp_path, "r")  # the killed run's half-written folder is beside it
    # The next run replaces the report and clears what the killed run left.
    assert run("compare", str(other_corpus), "--out", str(out), "-q").exit_code == EXIT_OK
    assert tree(out) != before and "comparison.json" in tree(out)
    assert leftovers(tmp_path, "r") == []


# the fourth file written (a page), or comparison.json (written by a process of its own
# while the pages are rendered)
@pytest.mark.parametrize("failing", ["fourth file", "comparison.json"])
def test_a_write_failure_mid_report_leaves_the_previous_report_and_no_debris(
        failing: str, previous: tuple[Path, dict[str, bytes]], other_corpus: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    out, before = previous
    real = output._write
    calls = []

    def full_disk(target: Path, content: str | bytes | Iterable[bytes]) -> None:
        calls.append(target)
        if (target.name == failing if failing.endswith(".json") else len(calls) == 4):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(target, content)

    monkeypatch.setattr(output, "_write", full_disk)
    result = run("compare", str(other_corpus), "--out", str(out), "-q")
    assert result.exit_code == EXIT_USAGE
    assert result.stderr == f"Error: {out}: cannot write: No space left on device\n"
    assert tree(out) == before
    assert leftovers(out.parent, "r") == []


def test_when_the_swap_fails_halfway_the_previous_report_is_put_back(
        previous: tuple[Path, dict[str, bytes]], other_corpus: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    out, before = previous
    monkeypatch.setattr(output, "_exchange", lambda a, b: False)  # no renameat2 here
    real = os.replace
    calls = []

    def second_rename_fails(src, dst):  # type: ignore[no-untyped-def]
        calls.append((src, dst))
        if len(calls) == 2:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(src, dst)

    monkeypatch.setattr(output.os, "replace", second_rename_fails)
    result = run("compare", str(other_corpus), "--out", str(out), "-q")
    assert result.exit_code == EXIT_USAGE
    assert result.stderr == f"Error: {out}: cannot write: Input/output error\n"
    assert tree(out) == before
    assert leftovers(out.parent, "r") == []


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_run_killed_between_two_renames_is_repaired_by_the_next_run(
        previous: tuple[Path, dict[str, bytes]], other_corpus: Path) -> None:
    out, before = previous
    # What the two-rename fallback leaves when killed between its renames.
    aside = out.with_name(f".{out.name}.old-{_dead_pid()}")
    os.replace(out, aside)
    assert not out.exists()
    assert run("compare", str(other_corpus), "--out", str(out), "-q").exit_code == EXIT_OK
    assert "comparison.json" in tree(out) and tree(out) != before
    assert leftovers(out.parent, "r") == []


def test_the_swap_is_one_step_where_the_kernel_offers_it(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a", encoding="utf-8")
    (b / "y").write_text("b", encoding="utf-8")
    if not output._exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not available on this system")
    assert [p.name for p in a.iterdir()] == ["y"] and [p.name for p in b.iterdir()] == ["x"]


# ---------------------------------------------------------------- whose folder is it


def test_out_at_a_file_or_a_folder_of_someone_elses_files_is_refused(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("mine", encoding="utf-8")
    result = run("compare", str(SEEDS), "--out", str(notes))
    assert result.exit_code == EXIT_USAGE
    assert result.stderr == (f"Error: {notes}: is a file, not a folder; give a folder for "
                             "--out\n")
    assert notes.read_text(encoding="utf-8") == "mine"
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)  # only hidden things, but a folder of them
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    result = run("compare", str(SEEDS), "--out", str(repo))
    assert result.exit_code == EXIT_USAGE
    assert result.stderr == (f"Error: {repo}: folder holds files newsdiff did not write "
                             "(.git, ...); choose an empty or new folder for --out\n")
    assert (repo / ".git" / "HEAD").read_text(encoding="utf-8") == "ref: refs/heads/main\n"


def test_a_fresh_folder_with_a_gitkeep_is_used_and_hidden_things_in_ours_are_kept(
        tmp_path: Path) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    (out / ".gitkeep").write_text("", encoding="utf-8")
    assert run("compare", str(SEEDS), "--out", str(out), "-q").exit_code == EXIT_OK
    (out / ".htaccess").write_text("Require all granted\n", encoding="utf-8")
    (out / ".git").mkdir()
    (out / ".git" / "HEAD").write_text("ref\n", encoding="utf-8")
    (out / "stale.html").write_text("old", encoding="utf-8")
    assert run("compare", str(SEEDS), "--out", str(out), "-q").exit_code == EXIT_OK
    assert (out / ".gitkeep").exists() and (out / ".htaccess").exists()
    assert (out / ".git" / "HEAD").read_text(encoding="utf-8") == "ref\n"
    assert not (out / "stale.html").exists()


def test_out_through_a_symbolic_link_updates_the_linked_folder(tmp_path: Path) -> None:
    real_out = tmp_path / "www" / "report"
    assert run("compare", str(SEEDS), "--out", str(real_out), "-q").exit_code == EXIT_OK
    link = tmp_path / "latest"
    link.symlink_to(real_out)
    (real_out / "stale.html").write_text("old", encoding="utf-8")
    assert run("compare", str(SEEDS), "--out", str(link), "-q").exit_code == EXIT_OK
    assert link.is_symlink() and not (real_out / "stale.html").exists()
    assert (real_out / "comparison.json").is_file()


def test_a_report_kept_inside_the_corpus_is_not_read_back_as_articles(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for prefix in ("001", "002"):
        (corpus / f"{prefix}.txt").write_text(seed_text(prefix), encoding="utf-8")
    for _ in range(2):
        result = run("compare", str(corpus), "--out", str(corpus / "reports"))
        assert result.exit_code == EXIT_OK
        assert result.stdout.startswith("2 articles,")


def test_written_files_get_ordinary_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        json_path = tmp_path / "out.json"
        assert run("compare", str(SEEDS), "--out", str(tmp_path / "r"), "--json",
                   str(json_path), "-q").exit_code == EXIT_OK
        assert stat.S_IMODE(json_path.stat().st_mode) == 0o644  # not mkstemp's 0600
        assert stat.S_IMODE((tmp_path / "r").stat().st_mode) == 0o755
        json_path.chmod(0o640)  # a mode the user chose is kept
        assert run("compare", str(SEEDS), "--out", str(tmp_path / "r"), "--json",
                   str(json_path), "-q").exit_code == EXIT_OK
        assert stat.S_IMODE(json_path.stat().st_mode) == 0o640
    finally:
        os.umask(old)


def test_json_at_a_folder_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    (tmp_path / "j").mkdir()
    result = run("compare", str(SEEDS), "--out", str(tmp_path / "r"), "--json",
                 str(tmp_path / "j"), "-q")
    assert result.exit_code == EXIT_USAGE
    assert result.stderr == f"Error: {tmp_path / 'j'}: is a folder; give a file name\n"
    assert not (tmp_path / "r").exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.docx").write_text("precious", encoding="utf-8")
    result = run("compare", str(SEEDS), "--out", str(tmp_path / "mine"), "--json",
                 str(tmp_path / "o.json"), "-q")
    assert result.exit_code == EXIT_USAGE and not (tmp_path / "o.json").exists()
