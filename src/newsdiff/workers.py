"""Spreading a stage over the machine's cores with forked worker processes.

Workers are forked, so they read what the stage put in module state before the fork (the
documents, the settings) without pickling it; only their results travel back.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


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


@contextmanager
def cycles_paused() -> Iterator[None]:
    """Python's cycle collector paused for a block that builds millions of objects living
    to its end (words, spans, matches, pages' data): every full collection scans them all
    again, and at 10,000 articles `compare` spent 28 of its 157 s in collections. The work
    makes almost no cyclic garbage (1,364 objects at 1,000 articles, found by a collection
    after a paused run), which the next collection after the block takes. Workers forked
    inside the block inherit the pause. Nested blocks leave it to the outermost."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@contextmanager
def background(func: Callable[..., T], args: tuple[Any, ...], workers: int
               ) -> Iterator[Callable[[], T]]:
    """Run ``func(*args)`` in a forked process while the caller goes on; yields a function
    that waits for its result (and raises what it raised). The arguments are not pickled
    (the child has them from the fork), only the result is. With fewer than two `workers`
    the call is made when its result is first asked for. A stage whose work does not
    depend on the next ones fills the core that the serial parts of those leave idle.
    The process is stopped if the block is left before its result is taken. It is a
    daemon, which may not start processes of its own: `func` must not use a pool."""
    got: list[T] = []

    def once(fetch: Callable[[], T]) -> Callable[[], T]:
        def result() -> T:
            if not got:
                got.append(fetch())
            return got[0]
        return result

    if workers < 2 or "fork" not in mp.get_all_start_methods():
        yield once(lambda: func(*args))
        return
    receive, send = mp.Pipe(duplex=False)
    proc = mp.get_context("fork").Process(target=_background_main, args=(func, args, send),
                                          daemon=True)
    proc.start()
    send.close()

    def fetch() -> T:
        try:
            status, value = receive.recv()
        except EOFError:  # it ended without a word
            status, value = "died", None
        proc.join()
        if status == "died":
            raise RuntimeError(f"a background worker died (exit code {proc.exitcode})")
        if status == "error":
            raise value
        return value

    try:
        yield once(fetch)
    finally:
        if proc.is_alive():
            proc.terminate()
            proc.join()
        receive.close()


def _background_main(func: Callable[..., object], args: tuple[Any, ...], send: Any) -> None:
    gc.freeze()  # what came from the parent is never collected here: no pages copied for it
    try:
        outcome: tuple[str, object] = ("ok", func(*args))
    except BaseException as exc:  # handed to the parent, which raises it
        outcome = ("error", exc)
    try:
        send.send(outcome)
    except Exception as exc:  # an unpicklable result or error
        send.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
    send.close()


def chunked(n: int, size: int) -> list[range]:
    """0..n-1 in consecutive ranges of `size`."""
    return [range(k, min(k + size, n)) for k in range(0, n, size)]
