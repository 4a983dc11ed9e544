"""Spreading a stage over the machine's cores with forked worker processes.

Workers are forked, so they read what the stage put in module state before the fork (the
documents, the settings) without pickling it; only their results travel back.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
from collections.abc import Callable, Iterator, Sequence


def worker_count(configured: int = 0) -> int:
    """The processes a stage may use: `configured`, or up to two (0 means automatic)."""
    return configured or min(2, os.cpu_count() or 1)


def parallel_map(func: Callable, chunks: Sequence, workers: int) -> list:  # type: ignore[type-arg]
    """`func` over `chunks`, in order; on `workers` forked processes when there is more
    than one chunk (and the platform can fork)."""
    return list(parallel_imap(func, chunks, workers))


def parallel_imap(func: Callable, chunks: Sequence, workers: int) -> Iterator:  # type: ignore[type-arg]
    """`parallel_map`, each result yielded in order as soon as it is done, so that the
    caller can work on it while the workers go on."""
    if workers < 2 or len(chunks) < 2 or "fork" not in mp.get_all_start_methods():
        yield from (func(c) for c in chunks)
        return
    # Whatever exists at the fork is left out of garbage collections until the stage ends:
    # here, where a collection would otherwise scan the whole corpus again as results
    # arrive, and in the workers, where it would also copy the pages it touches.
    # (A caller that froze objects itself keeps them frozen.)
    ours = gc.get_freeze_count() == 0
    gc.freeze()
    try:
        with mp.get_context("fork").Pool(min(workers, len(chunks))) as pool:
            yield from pool.imap(func, chunks, chunksize=1)
    finally:
        if ours:
            gc.unfreeze()


def chunked(n: int, size: int) -> list[range]:
    """0..n-1 in consecutive ranges of `size`."""
    return [range(k, min(k + size, n)) for k in range(0, n, size)]
