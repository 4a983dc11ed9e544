"""Benchmark runner: compare and check on generated corpora with planted relations.

For each size N it writes (or reuses) a corpus from ``make_corpus.py``, then measures in
subprocesses, on the same files:

- ``newsdiff compare`` (dedup, statement matching, threads, divergences and the report):
  wall time, peak RSS, articles per second;
- the baseline a user would script with datasketch alone (``baseline.py``), and the ratio;
- recall and precision of the planted near-duplicates, recall of the planted reused
  sentences;
- ``newsdiff index build`` (articles per second) and ``check`` latency: p50/p95 in-process
  over 50 articles, the p50 of its index search alone, and the wall time of one
  ``newsdiff check`` command (start-up included, with Python's bytecode cache on, as a
  user's Python has it).

Usage:
    python benchmarks/run.py                 # N = 1,000 and 10,000; check against 10,000
    python benchmarks/run.py --large         # also check against a 100,000-article index
    python benchmarks/run.py --sizes --redis # check against a 10,000-article Redis index
    python benchmarks/run.py --sizes --check-size 100000 --redis-only   # Redis at 100,000
    python benchmarks/run.py --sizes --check-size 100000 --reuse-index --cold
                                             # checks with the page cache emptied first
    python benchmarks/run.py --sizes 200 --check-size 200   # the smoke run of the tests
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import make_corpus  # noqa: E402

PYTHON = sys.executable
# Commands run as a user's Python runs them, caching compiled bytecode: a sandbox may turn
# that off (PYTHONDONTWRITEBYTECODE), and then every start-up of newsdiff compiles its
# modules again (0.09 s of a 0.5 s `newsdiff check`).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


# Runs a command and writes its peak RSS (kB) as the last line of stderr. The command is
# started from this small process, not from the runner: a process forked from the runner
# counts the runner's memory at the fork in its peak (2.4 GB once the 10,000-article
# comparison has been scored), whatever the command itself uses after exec.
_PEAK = ("import os, subprocess, sys\n"
         "p = subprocess.Popen(sys.argv[1:])\n"
         "_, status, usage = os.wait4(p.pid, 0)\n"
         "sys.stderr.write(f'\\npeak_rss_kb={usage.ru_maxrss}\\n')\n"
         "sys.exit(os.waitstatus_to_exitcode(status))")


def timed(cmd: list[str]) -> tuple[float, int, str]:
    """Run a command; return (wall seconds, peak RSS in MB, stdout)."""
    start = time.perf_counter()
    proc = subprocess.run([PYTHON, "-c", _PEAK, *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - start
    err, _, peak = proc.stderr.rpartition("\npeak_rss_kb=")
    if proc.returncode not in (0, 1) or not peak.strip().isdigit():
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    return wall, int(peak) // 1024, proc.stdout


def corpus(n: int, root: Path, seed: int = 7) -> tuple[Path, dict]:
    """The corpus of size n under `root`, generated once."""
    folder = root / f"corpus-{n}-{seed}"
    truth_path = folder / "truth.json"
    if truth_path.exists():
        return folder, json.loads(truth_path.read_text(encoding="utf-8"))
    return folder, make_corpus.make(folder, n, seed)


def evaluate(comparison: dict, truth: dict) -> dict[str, float]:
    """Near-duplicate precision/recall and reused-sentence recall against the truth."""
    true_pairs = {tuple(sorted((a, b))) for c in truth["clusters"] for i, a in enumerate(c)
                  for b in c[i + 1:]}
    found = {tuple(sorted((d["a"], d["b"]))) for d in comparison["duplicates"]}
    hit = len(found & true_pairs)
    texts = {d["id"]: d["text"] for d in comparison["documents"]}
    spans: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for m in comparison["matches"]:
        for x, y in ((m["a"], m["b"]), (m["b"], m["a"])):
            spans.setdefault((x["doc"], y["doc"]), []).append((y["start"], y["end"]))
    reused_hit = 0
    for r in truth["reused"]:
        at = texts[r["dst"]].find(r["dst_text"])
        end = at + len(r["dst_text"])
        if any(s < end and at < e for s, e in spans.get((r["src"], r["dst"]), ())):
            reused_hit += 1
    planted = {tuple(sorted((r["src"], r["dst"]))) for r in truth["reused"]}
    outside = sum(1 for m in comparison["matches"]
                  if tuple(sorted((m["a"]["doc"], m["b"]["doc"]))) not in true_pairs | planted)
    return {
        "dup_precision": hit / len(found) if found else 1.0,
        "dup_recall": hit / len(true_pairs) if true_pairs else 1.0,
        "reuse_recall": reused_hit / len(truth["reused"]) if truth["reused"] else 1.0,
        "matches": len(comparison["matches"]),
        "matches_outside_planted": outside,
    }


def bench_compare(n: int, root: Path) -> dict[str, float]:
    """Compare and baseline on an n-article corpus."""
    folder, truth = corpus(n, root)
    out = root / f"report-{n}"
    wall, rss, _ = timed([PYTHON, "-m", "newsdiff", "compare", str(folder), "--out", str(out),
                          "-q"])
    base_wall, base_rss, _ = timed([PYTHON, str(HERE / "baseline.py"), str(folder)])
    comparison = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    return {"n": n, "wall": wall, "rss": rss, "rate": n / wall, "base_wall": base_wall,
            "base_rss": base_rss, "ratio": wall / base_wall, **evaluate(comparison, truth)}


@contextlib.contextmanager
def redis_server(folder: Path) -> Iterator[int]:
    """A redis-server of our own on a free loopback port (Debian package `redis-server`)."""
    import socket

    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir",
                             str(folder), "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = redis.Redis(port=port)
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def bench_check(n: int, root: Path, samples: int = 50, reuse_index: bool = False,
                backend: str = "sqlite", seed: int = 3, cold: bool = False
                ) -> dict[str, Any]:
    """Index build rate and check latency against an n-article index (`reuse_index`: query
    the SQLite index a previous run built, without timing a build; `backend`: "sqlite" or
    "redis", a server of our own started for the run; `seed`: of the articles checked;
    `cold`: the system's page cache emptied before the index is opened, see
    `drop_page_cache`)."""
    if backend == "redis":
        with redis_server(root / "redis") as port:
            return _bench_check(n, root, samples, False,
                                f"redis://127.0.0.1:{port}/0?prefix=bench{n}", seed, cold)
    return _bench_check(n, root, samples, reuse_index, None, seed, cold)


def drop_page_cache() -> str:
    """Empty the system's page cache, so that every page of the index a check reads comes
    from the disk, as on a machine that has not read it since it started: the worst case,
    where otherwise the figures depend on what earlier runs left in memory. Linux, as root
    only; returns why it could not ("" when it did)."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("1\n", encoding="ascii")
    except OSError as exc:
        return exc.strerror or str(exc)
    return ""


def bench_check_apart(n: int, root: Path, samples: int, reuse_index: bool, backend: str,
                      seed: int = 3, cold: bool = False) -> dict[str, Any]:
    """`bench_check` in an interpreter of its own: the runner's process holds what scoring
    the comparisons left behind (at 10,000 articles, a 300 MB JSON parsed and dropped),
    and checks made in it took 3-6 ms longer (alternated: 26.0 and 28.0 against 23.3 and
    21.5 ms p50 at 10,000)."""
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import run; "
            "print(json.dumps(run.bench_check(int(sys.argv[2]), run.Path(sys.argv[3]), "
            "int(sys.argv[4]), sys.argv[5] == '1', sys.argv[6], int(sys.argv[7]), "
            "sys.argv[8] == '1')))")
    done = subprocess.run([PYTHON, "-c", code, str(HERE), str(n), str(root), str(samples),
                           "1" if reuse_index else "0", backend, str(seed),
                           "1" if cold else "0"],
                          check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.splitlines()[-1])


# the checking thread's own reads (the thread that maps the key file in, see
# `KeyFile.map_in`, reads beside it)
RUSAGE = getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF)


def _bench_check(n: int, root: Path, samples: int, reuse_index: bool, redis_url: str | None,
                 seed: int = 3, cold: bool = False) -> dict[str, Any]:
    from newsdiff.config import Settings
    from newsdiff.index import check_article, ensure_compatible, find_candidates
    from newsdiff.precheck import read_new_article
    from newsdiff.store import open_store

    folder, _ = corpus(n, root)
    db = root / f"index-{n}.sqlite"
    url = redis_url or f"sqlite:///{db.resolve()}"
    build_wall = build_rss = float("nan")
    if redis_url or not (reuse_index and db.exists()):
        for suffix in ("", "-wal", "-shm"):
            if not redis_url:
                Path(f"{db}{suffix}").unlink(missing_ok=True)
        build_wall, build_rss, _ = timed([PYTHON, "-m", "newsdiff", "index", "build",
                                          str(folder), "--index", url, "-q"])
    # Other articles, other records: a run with a seed of its own finds none of what it
    # reads in the page cache because an earlier run read it.
    new_dir = root / (f"new-{n}" if seed == 3 else f"new-{n}-s{seed}")
    new_dir.mkdir(exist_ok=True)
    rng = random.Random(seed)
    names = sorted(p.name for p in folder.glob("*.txt"))
    chain = make_corpus.Chain(make_corpus.training_sentences())
    paths = []
    for k in range(samples):
        if k % 3 == 0:  # a near-duplicate of an indexed article
            text = make_corpus.edit_words((folder / rng.choice(names)).read_text(
                encoding="utf-8"), 0.05, rng)
        else:  # a new article
            text = make_corpus.render(make_corpus.original(chain, rng), "• Kyodo", "SHARE")
        path = new_dir / f"new{k:03d}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    del chain  # the generator's ~600,000 objects are not part of what a check costs
    gc.collect()
    settings = Settings()
    not_emptied = drop_page_cache() if cold else ""
    store = open_store(url)
    raws = [read_new_article(str(p), settings) for p in paths]
    bands = ensure_compatible(store, settings)  # once per process, as `newsdiff check` does
    check_article(raws[0], store, settings, bands)  # warm the caches once
    times, read_kb = [], []
    for raw in raws:
        blocks = resource.getrusage(RUSAGE).ru_inblock
        start = time.perf_counter()
        check_article(raw, store, settings, bands)
        times.append((time.perf_counter() - start) * 1000)
        read_kb.append((resource.getrusage(RUSAGE).ru_inblock - blocks) / 2)
    # The index search alone (`find_candidates`: the article analysed and sketched, its
    # buckets looked up, the candidates' records read), the same articles again: what is
    # left of a check is confirming and explaining (alignment, near-duplicate figures,
    # divergences). Their pages are now in memory, cold or not.
    searches = []
    for raw in raws:
        start = time.perf_counter()
        find_candidates(raw, store, settings, bands)
        searches.append((time.perf_counter() - start) * 1000)
    store.close()
    timed([PYTHON, "-m", "newsdiff", "--version"])  # the bytecode, compiled once
    cli_wall, _, _ = timed([PYTHON, "-m", "newsdiff", "check", str(paths[1]), "--index", url])
    times.sort()
    server_mb = float("nan")
    if redis_url:
        import redis

        server_mb = redis.Redis.from_url(url.split("?")[0]).info("memory")["used_memory"] / 2**20
    return {"n": n, "backend": "redis" if redis_url else "sqlite", "build_wall": build_wall,
            "server_mb": server_mb,
            "build_rate": n / build_wall, "build_rss": build_rss, "p50": statistics.median(times),
            "search_p50": statistics.median(searches),
            "p95": times[int(len(times) * 0.95) - 1], "cli_wall": cli_wall,
            "read_kb": statistics.mean(read_kb), "cold": cold and not not_emptied,
            "not_emptied": not_emptied}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--check-size", type=int, default=10000)
    parser.add_argument("--large", action="store_true",
                        help="also measure check against a 100,000-article index")
    parser.add_argument("--samples", type=int, default=50,
                        help="articles checked to measure check latency")
    parser.add_argument("--root", type=Path, default=HERE / "out")
    parser.add_argument("--reuse-index", action="store_true",
                        help="measure check against indexes a previous run built")
    parser.add_argument("--check-seed", type=int, default=3,
                        help="seed of the articles checked (another seed: other articles, "
                             "whose index pages no earlier run has read)")
    parser.add_argument("--cold", action="store_true",
                        help="empty the system's page cache before each index is opened "
                             "(Linux, as root): every page a check reads then comes from "
                             "the disk")
    parser.add_argument("--redis", action="store_true",
                        help="measure check against a Redis index too (at --check-size)")
    parser.add_argument("--redis-only", action="store_true",
                        help="measure check against a Redis index only (at --check-size)")
    args = parser.parse_args()
    args.root.mkdir(parents=True, exist_ok=True)
    print(f"{'N':>7} {'wall s':>7} {'RSS MB':>7} {'art/s':>7} {'base s':>7} {'ratio':>6} "
          f"{'dup P':>6} {'dup R':>6} {'reuse R':>7} {'matches':>8} {'outside':>8}")
    rows = []
    for n in args.sizes:
        r = bench_compare(n, args.root)
        rows.append(r)
        print(f"{r['n']:>7} {r['wall']:>7.1f} {r['rss']:>7} {r['rate']:>7.0f} "
              f"{r['base_wall']:>7.1f} {r['ratio']:>6.2f} {r['dup_precision']:>6.3f} "
              f"{r['dup_recall']:>6.3f} {r['reuse_recall']:>7.3f} {r['matches']:>8} "
              f"{r['matches_outside_planted']:>8}", flush=True)
    if len(rows) >= 2:
        growth = (rows[-1]["wall"] / rows[-1]["n"]) / (rows[0]["wall"] / rows[0]["n"]) - 1
        print(f"time per article from N={rows[0]['n']} to N={rows[-1]['n']}: "
              f"{growth:+.0%}")
    check_sizes = [args.check_size] + ([100_000] if args.large else [])
    print(f"\n{'index N':>8} {'backend':>8} {'build s':>8} {'art/s':>7} {'RSS MB':>7} "
          f"{'check p50 ms':>13} {'p95 ms':>7} {'CLI s':>6} {'disk KB':>8} {'search ms':>10}")
    runs = ([] if args.redis_only else [(n, "sqlite") for n in check_sizes]) + (
        [(args.check_size, "redis")] if args.redis or args.redis_only else [])
    notes = []
    for n, backend in runs:
        c = bench_check_apart(n, args.root, args.samples, args.reuse_index, backend,
                              args.check_seed, args.cold)
        print(f"{c['n']:>8} {c['backend']:>8} {c['build_wall']:>8.1f} {c['build_rate']:>7.0f} "
              f"{c['build_rss']:>7} {c['p50']:>13.1f} {c['p95']:>7.1f} {c['cli_wall']:>6.2f} "
              f"{c['read_kb']:>8.0f} {c['search_p50']:>10.1f}", flush=True)
        if args.cold:
            notes.append(f"(the page cache was emptied before the {backend} index of {n:,} "
                         "articles was opened)" if c["cold"] else
                         f"(--cold: could not empty the page cache: {c['not_emptied']}; "
                         f"the {backend} figures are not cold)")
        if backend == "redis":
            notes.append(f"(the Redis server held {c['server_mb']:,.0f} MB after building the "
                         f"index of {n:,} articles: {c['server_mb'] * 1024 / n:,.1f} KB an "
                         "article)")
    if notes:
        print("\n".join(notes))
    print("(disk KB: what a check read from the disk, on average, not from the page cache: "
          "the index's pages it needed that the system had not kept)")
    print("(search ms: p50 of the index search alone, the part of a check up to the "
          "candidates' records, timed again over the same articles: the rest of a check "
          "aligns, measures and compares them)")
    print(f"\nthis machine now: {reference_loop():.3f} s for a fixed pure-Python loop (the "
          "figures above move with it)")


def reference_loop(n: int = 10_000_000) -> float:
    """Seconds for a fixed loop of Python additions, the best of three: how fast this
    machine runs Python right now. A shared machine's speed drifts by half within an hour,
    and a check (pure Python for the most part) drifts with it."""
    best = float("inf")
    for _ in range(3):
        start, total = time.perf_counter(), 0
        for i in range(n):
            total += i
        best = min(best, time.perf_counter() - start)
    return best


if __name__ == "__main__":
    main()
