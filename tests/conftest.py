"""Shared fixtures: the seed corpus and helpers to build small corpora from real text."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from newsdiff.compare import compare
from newsdiff.model import Comparison

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED_DATA = ROOT.parent / "shared" / "data"


def seed_text(prefix: str) -> str:
    """The text of the seed article whose file name starts with `prefix` ("004")."""
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _no_helper_outlives_its_test():
    """A check's helper process (see `workers.Helper`) runs the code as it was when it was
    forked: one started in a test that patched newsdiff must not serve the next test."""
    yield
    from newsdiff import workers

    workers.stop_helper()


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return SEEDS


@pytest.fixture(scope="session")
def seed_comparison() -> Comparison:
    """The seeds compared once with default settings (shared by many tests)."""
    return compare([SEEDS])


@pytest.fixture(scope="session")
def generated_comparison(tmp_path_factory: pytest.TempPathFactory) -> Comparison:
    """Sixty articles of the benchmark generator (recombined real news text, with copies
    and reused sentences planted), compared: hundreds of matches in many threads."""
    folder = tmp_path_factory.mktemp("generated") / "corpus"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_corpus.py"), str(folder),
                    "-n", "60", "--seed", "3"], check=True, capture_output=True)
    return compare([folder])


@pytest.fixture()
def seeds_copy(tmp_path: Path) -> Path:
    """A writable copy of the seed folder (articles and manifest)."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target
