"""Smoke runs of the benchmark scripts, so they cannot rot (figures printed, not asserted:
the targets are measured by `benchmarks/run.py` on a quiet machine)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def test_make_corpus_plants_relations_deterministically(tmp_path: Path) -> None:
    for name in ("a", "b"):
        subprocess.run([sys.executable, str(BENCH / "make_corpus.py"), str(tmp_path / name),
                        "-n", "60", "--seed", "3"], check=True, capture_output=True)
    truth = json.loads((tmp_path / "a" / "truth.json").read_text(encoding="utf-8"))
    assert truth == json.loads((tmp_path / "b" / "truth.json").read_text(encoding="utf-8"))
    files = sorted((tmp_path / "a").glob("*.txt"))
    assert len(files) == 60
    assert all((tmp_path / "b" / f.name).read_bytes() == f.read_bytes() for f in files)
    truncated = {c["dst"] for c in truth["copies"] if c["kind"] == "truncated"}
    words = [len(f.read_text(encoding="utf-8").split()) for f in files
             if f.name not in truncated]
    assert min(words) >= 300 and max(words) <= 1300  # 300-1,200 words, plus a reworded few
    assert truth["clusters"] and truth["reused"]
    assert {c["kind"].split()[0] for c in truth["copies"]} <= {"exact", "edited", "truncated"}


def test_benchmark_runner_smoke_run_prints_its_table(tmp_path: Path) -> None:
    redis = ["--redis"] if shutil.which("redis-server") else []  # CI installs it
    proc = subprocess.run([sys.executable, str(BENCH / "run.py"), "--sizes", "200",
                           "--check-size", "200", "--samples", "5", "--root", str(tmp_path),
                           "--check-seed", "5", "--cold", *redis],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    print(proc.stdout)
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:3] == ["N", "wall", "s"]
    row = lines[1].split()
    assert row[0] == "200" and len(row) == 11
    dup_precision, dup_recall, reuse_recall = map(float, row[6:9])
    assert 0 <= dup_precision <= 1 and 0 <= dup_recall <= 1 and 0 <= reuse_recall <= 1
    check_rows = [line.split() for line in lines[2:] if line.strip().startswith("200 ")]
    assert [r[1] for r in check_rows] == ["sqlite"] + (["redis"] if redis else [])
    # p50 latency, what a check read from the disk (KB, on average), and the p50 of the
    # index search alone, a part of a check
    assert all(len(r) == 10 and float(r[5]) > 0 and float(r[8]) >= 0
               and 0 < float(r[9]) < float(r[5]) for r in check_rows)
    # what the Redis server holds (MB, then KB an article)
    held = [line.split() for line in lines if line.startswith("(the Redis server held ")]
    assert len(held) == len(redis) and all(float(h[4].replace(",", "")) > 0 for h in held)
    # --cold: the page cache emptied before each index was opened, or why it was not
    emptied = [line for line in lines if line.startswith("(the page cache was emptied ")]
    not_emptied = [line for line in lines if line.startswith("(--cold: could not empty ")]
    assert len(emptied) + len(not_emptied) == len(check_rows)
    assert not emptied or "the sqlite index of 200 articles" in emptied[0]
    # the articles of another seed, apart from the usual ones
    assert len(list((tmp_path / "new-200-s5").glob("*.txt"))) == 5
    assert not (tmp_path / "new-200").exists()
    (speed,) = [line for line in lines if line.startswith("this machine now: ")]
    assert float(speed.split()[3]) > 0


def test_stage_timings_smoke_run_names_every_stage() -> None:
    seeds = BENCH.parent / "seeds"
    proc = subprocess.run([sys.executable, str(BENCH / "stages.py"), str(seeds), "--workers",
                           "1"], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    print(proc.stdout)
    stages = [line.split("  ")[0].strip() for line in proc.stdout.splitlines()[1:]]
    assert stages == ["read", "analysis", "near-duplicates", "recurring statements", "threads",
                      "divergences", "JSON", "report pages", "total"]
    assert "5 articles" in proc.stdout and "11 passages" in proc.stdout
