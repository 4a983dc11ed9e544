"""Where `newsdiff compare` spends its time: wall and CPU seconds of each pipeline stage.

Runs the stages that ``compare.compare_documents`` and ``cli.write_report`` chain (reading
and analysis, near-duplicates, recurring statements, threads, divergences, JSON, report
pages) one after the other on a corpus folder, with the same settings and workers as
``newsdiff compare``, and prints a line per stage: its wall and CPU seconds, the resident
memory after it and the peak so far, and the size of what it produced. The
report is written, as `newsdiff compare` writes it (by the workers), into a temporary
folder that is then removed.

Usage: python benchmarks/stages.py CORPUS_DIR [--workers N]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from newsdiff import model, workers
from newsdiff.compare import (
    analyze,
    clusters_of,
    find_duplicates,
    find_matches,
    newsdiff_version,
)
from newsdiff.config import Settings, load_settings
from newsdiff.corpus import read_corpus
from newsdiff.divergence import find_divergences
from newsdiff.report import write_pages
from newsdiff.threads import build_threads, doc_order_key


def timed(rows: list[tuple[str, float, float, str]], name: str, func: Callable[[], Any],
          size: Callable[[Any], str]) -> Any:
    """Run one stage, record its wall and CPU seconds (this process and its workers)."""
    wall, cpu = time.perf_counter(), _cpu()
    result = func()
    rows.append((name, time.perf_counter() - wall, _cpu() - cpu, size(result)))
    print(f"{name:<22} {rows[-1][1]:>8.1f} {rows[-1][2]:>8.1f} {_rss_mb():>7} {_peak_mb():>7}"
          f"  {rows[-1][3]}", flush=True)
    return result


def _rss_mb() -> int:
    """This process's resident memory now (MB)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() // (1 << 20)


def _peak_mb() -> int:
    """The largest resident memory of this process, or of any worker it waited for (MB)."""
    return max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF,
                                                             resource.RUSAGE_CHILDREN)) // 1024


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv: Iterable[str] | None = None) -> int:
    """Command line entry: time each stage on one corpus and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--workers", type=int, default=None,
                        help="processes for the heavy stages (default: the settings')")
    args = parser.parse_args(list(argv) if argv is not None else None)
    overrides = {"workers": args.workers} if args.workers is not None else {}
    settings = load_settings(overrides=overrides)
    n_workers = workers.worker_count(settings.workers)
    with workers.cycles_paused():  # as `compare` and its report run
        _stages(settings, args.corpus, n_workers)
    return 0


def _stages(settings: Settings, corpus: Path, n_workers: int) -> None:
    """Run and time the stages on `corpus`, printing a row for each and the total."""
    rows: list[tuple[str, float, float, str]] = []
    print(f"{'stage':<22} {'wall s':>8} {'cpu s':>8} {'RSS MB':>7} {'peak MB':>7}  output "
          f"({n_workers} worker(s))")
    max_bytes = int(settings.max_file_mb * 1024 * 1024)
    raws, _ = timed(rows, "read", lambda: read_corpus([corpus], max_bytes, None, False),
                    lambda r: f"{len(r[0])} articles")
    items = timed(rows, "analysis", lambda: sorted(analyze(raws, settings),
                                                     key=lambda a: doc_order_key(a.doc)),
                  lambda r: f"{sum(len(a.doc.sentences) for a in r)} sentences")
    docs = {a.doc.id: a.doc for a in items}
    duplicates = timed(rows, "near-duplicates", lambda: find_duplicates(items, settings),
                       lambda r: f"{len(r)} pairs")
    matches = timed(rows, "recurring statements", lambda: find_matches(items, settings),
                    lambda r: f"{len(r)} passages")
    threads = timed(rows, "threads", lambda: build_threads(matches, docs),
                    lambda r: f"{len(r)} threads")
    tokens = {(a.doc.id, k): ws for a in items for k, ws in enumerate(a.sentence_words)}
    divergences = timed(rows, "divergences", lambda: find_divergences(
        matches, threads, docs, n_workers, known_words=tokens),
        lambda r: f"{len(r)} divergences")
    order = {a.doc.id: k for k, a in enumerate(items)}
    comparison = model.Comparison(
        settings=settings.as_dict(), documents=tuple(a.doc for a in items),
        duplicates=tuple(duplicates), clusters=tuple(clusters_of(duplicates, order)),
        matches=tuple(matches), threads=tuple(threads), divergences=tuple(divergences),
        version=newsdiff_version())
    timed(rows, "JSON", lambda: model.dumps(comparison),
          lambda r: f"{len(r.encode('utf-8')) / 1e6:.1f} MB")
    with tempfile.TemporaryDirectory(prefix="newsdiff-stages-") as tmp:
        folder = Path(tmp)
        timed(rows, "report pages", lambda: write_pages(folder, comparison, n_workers),
              lambda r: f"{len(r)} files, "
                        f"{sum((folder / n).stat().st_size for n in r) / 1e6:.1f} MB")
    print(f"{'total':<22} {sum(r[1] for r in rows):>8.1f} {sum(r[2] for r in rows):>8.1f}"
          f" {_rss_mb():>7} {_peak_mb():>7}")


if __name__ == "__main__":
    sys.exit(main())
