"""Determinism: the same inputs and settings give byte-identical JSON and HTML, whatever
the process (hash seed), the order the files are named or listed in, or the number of
worker processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hostile import hostile_files
from newsdiff import model
from newsdiff.report import render

from conftest import SEEDS

# Seeds plus files that exercise decoding, HTML extraction and odd names.
EXTRA = ("latin1.txt", "utf16.txt", "crlf.txt", "page.html", "raw.md", "ünïcødé 東京.md",
         "quote'\"s.txt", "-leading-dash.txt")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("determinism") / "corpus"
    shutil.copytree(SEEDS, folder)
    files = hostile_files(with_long_line=False)
    for name in EXTRA:
        (folder / name).write_bytes(files[name])
    return folder


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def newsdiff(*args: str, cwd: Path, hash_seed: str = "0") -> None:
    """Run the CLI in a fresh process with the given string-hash seed."""
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    proc = subprocess.run([sys.executable, "-m", "newsdiff", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr


def test_two_runs_in_different_processes_give_byte_identical_json_and_html(
        corpus: Path, tmp_path: Path) -> None:
    newsdiff("compare", str(corpus), "--out", "r1", "--json", "1.json", "-q", cwd=tmp_path,
             hash_seed="1")
    newsdiff("compare", str(corpus), "--out", "r2", "--json", "2.json", "-q", cwd=tmp_path,
             hash_seed="2")
    first, second = tree(tmp_path / "r1"), tree(tmp_path / "r2")
    assert sorted(first) == sorted(second)
    assert len([n for n in first if n.endswith(".html")]) > 10
    for name in first:
        assert first[name] == second[name], name
    assert (tmp_path / "1.json").read_bytes() == (tmp_path / "2.json").read_bytes()
    data = json.loads((tmp_path / "1.json").read_text(encoding="utf-8"))
    assert len(data["documents"]) == 5 + len(EXTRA) and data["matches"]


def test_files_named_in_another_order_give_the_same_bytes(corpus: Path,
                                                          tmp_path: Path) -> None:
    names = sorted(p.name for p in corpus.iterdir() if p.name != "manifest.toml")
    forward = [f"corpus/{n}" for n in names]
    backward = forward[::-1]
    shutil.copytree(corpus, tmp_path / "corpus")
    newsdiff("compare", "--out", "a", "--json", "a.json", "-q", "--", *forward, cwd=tmp_path)
    newsdiff("compare", "--out", "b", "--json", "b.json", "-q", "--", *backward,
             cwd=tmp_path, hash_seed="3")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_a_folder_whose_files_were_created_in_another_order_gives_the_same_bytes(
        corpus: Path, tmp_path: Path) -> None:
    work = tmp_path / "corpus"
    shutil.copytree(corpus, work)
    newsdiff("compare", "corpus", "--out", "a", "--json", "a.json", "-q", cwd=tmp_path)
    contents = {p.name: p.read_bytes() for p in work.iterdir()}
    for p in work.iterdir():
        p.chmod(0o644)
        p.unlink()
    for name in sorted(contents, reverse=True):  # new inodes, another listing order
        (work / name).write_bytes(contents[name])
    newsdiff("compare", "corpus", "--out", "b", "--json", "b.json", "-q", cwd=tmp_path)
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_worker_processes_do_not_change_the_findings(corpus: Path, tmp_path: Path) -> None:
    results = {}
    for workers in (1, 2):
        (tmp_path / f"w{workers}.toml").write_text(f"workers = {workers}\n",
                                                   encoding="utf-8")
        newsdiff("compare", str(corpus), "--config", f"w{workers}.toml", "--out",
                 f"r{workers}", "--json", f"{workers}.json", "-q", cwd=tmp_path)
        data = json.loads((tmp_path / f"{workers}.json").read_text(encoding="utf-8"))
        assert data["settings"].pop("workers") == workers
        results[workers] = data
    assert results[1] == results[2]


def test_the_report_is_a_function_of_the_json_alone(corpus: Path, tmp_path: Path) -> None:
    newsdiff("compare", str(corpus), "--out", "r", "-q", cwd=tmp_path)
    written = tree(tmp_path / "r")
    loaded = model.loads(written["comparison.json"].decode("utf-8"))
    for name, content in render(loaded).items():
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        assert written[name] == data, name
