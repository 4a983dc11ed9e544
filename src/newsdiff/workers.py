"""Spreading a stage over the machine's cores with forked worker processes.

Workers are forked, so they read what the stage put in module state before the fork (the
documents, the settings) without pickling it; only their results travel back.
"""

from __future__ import annotations

import functools
import gc
import multiprocessing as mp
import multiprocessing.connection as mp_connection
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pickle import PicklingError
from typing import Any, TypeVar

from .errors import WorkerDied

T = TypeVar("T")


def worker_count(configured: int = 0) -> int:
    """The processes a stage may use: `configured`, or up to two (0 means automatic)."""
    return configured or min(2, os.cpu_count() or 1)


def parallel_map(func: Callable, chunks: Sequence, workers: int) -> list:  # type: ignore[type-arg]
    """`func` over `chunks`, in order; on `workers` forked processes when there is more
    than one chunk (and the platform can fork)."""
    return list(parallel_imap(func, chunks, workers))


def release_free_memory() -> None:
    """Give the memory the C allocator holds free back to the system (glibc's
    `malloc_trim`; nothing elsewhere), before forking: a worker starts with its parent's
    resident pages. numpy's temporary arrays leave freed memory inside the heap, where
    glibc keeps it: at 10,000 benchmark articles, 190 MB after the candidate search, which
    the parent and each worker forked for the alignments then counted as their own. It
    takes under 10 ms."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    import ctypes

    if not sys.platform.startswith("linux"):
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim  # the process's own C library
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None
    return trim


def parallel_imap(func: Callable, chunks: Sequence, workers: int) -> Iterator:  # type: ignore[type-arg]
    """`parallel_map`, each result yielded in order as soon as it is done, so that the
    caller can work on it while the workers go on.

    Raises:
        WorkerDied: a worker ended before answering (killed, most often by the system
            when memory runs out); the others are stopped.
    """
    if workers < 2 or len(chunks) < 2 or "fork" not in mp.get_all_start_methods():
        yield from (func(c) for c in chunks)
        return
    # Whatever exists at the fork is left out of garbage collections until the stage ends:
    # here, where a collection would otherwise scan the whole corpus again as results
    # arrive, and in the workers, where it would also copy the pages it touches.
    # (A caller that froze objects itself keeps them frozen.)
    ours = gc.get_freeze_count() == 0
    gc.freeze()
    release_free_memory()
    pool: dict[Any, Any] = {}  # each worker's end of the pipe -> its process
    finished = False
    try:
        for _ in range(min(workers, len(chunks))):
            conn, child = mp.Pipe()
            proc = mp.get_context("fork").Process(
                target=_pool_main, args=(func, chunks, child, [*pool, conn]), daemon=True)
            proc.start()
            child.close()
            pool[conn] = proc
        # (A multiprocessing.Pool replaces a worker that is killed and waits for ever for
        # the chunk it held.)
        ended = {proc.sentinel: conn for conn, proc in pool.items()}  # ready when it ends
        sent, done = 0, {}
        for conn in pool:  # a chunk each, then the next to whichever answers first
            conn.send(sent)
            sent += 1
        for k in range(len(chunks)):
            while k not in done:
                for ready in mp_connection.wait([*pool, *ended]):
                    if ready in ended:
                        if ended[ready].poll():
                            continue  # it answered first: that is read (its pipe is ready)
                        raise _died(pool[ended[ready]])
                    try:
                        at, status, value = ready.recv()
                    except (EOFError, OSError):
                        raise _died(pool[ready]) from None
                    if status == "error":
                        raise _raised(value)
                    done[at] = value
                    if sent < len(chunks):
                        ready.send(sent)
                        sent += 1
            yield done.pop(k)
        finished = True
    finally:
        for conn, proc in pool.items():
            conn.close()  # an idle worker ends when its pipe closes
            if not finished:  # (an error, or the caller stopped early) the rest is not wanted
                proc.terminate()
            proc.join()
        if ours:
            gc.unfreeze()


def _pool_main(func: Callable[..., object], chunks: Sequence[Any], conn: Any,
               parent_ends: list[Any]) -> None:
    for end in parent_ends:  # so that the parent closing its ends is seen here as the end
        end.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's; then its end closes
    while True:
        try:
            k = conn.recv()
            _answer(conn, func, (chunks[k],), (k,))
        except (EOFError, OSError):  # the caller is done, or gone
            return


def _died(proc: Any) -> WorkerDied:
    """The error for a worker process that ended without answering."""
    proc.join(timeout=5)
    code = proc.exitcode
    if code is not None and code < 0:
        how = f"was killed by signal {-code} ({signal.Signals(-code).name})"
    else:
        how = f"ended with exit code {code}"
    hint = ("; the system kills the largest process when memory runs out: try --workers 1, "
            "or fewer articles at a time" if code == -signal.SIGKILL else "")
    return WorkerDied(f"a worker process {how} before it finished{hint}")


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


def background(func: Callable[..., T], args: tuple[Any, ...], workers: int
               ) -> AbstractContextManager[Callable[[], T]]:
    """Run ``func(*args)`` in a forked process while the caller goes on; yields a function
    that waits for its result (and raises what it raised). The arguments are not pickled
    (the child has them from the fork), only the result is, and the parent keeps no
    reference to them once the child has started. With fewer than two `workers` the call
    is made when its result is first asked for. A stage whose work does not depend on
    the next ones fills the core that the serial parts of those leave idle. The process
    is stopped if the block is left before its result is taken. It is a daemon, which may
    not start processes of its own: `func` must not use a pool."""
    # (a generator's context manager keeps its arguments for as long as the block runs:
    # it is given them in a list that it empties)
    return _background(func, [args], workers)


@contextmanager
def _background(func: Callable[..., T], given: list[tuple[Any, ...]], workers: int
                ) -> Iterator[Callable[[], T]]:
    args = given.pop()
    got: list[T] = []

    def once(fetch: Callable[[], T]) -> Callable[[], T]:
        def result() -> T:
            if not got:
                got.append(fetch())
            return got[0]
        return result

    if workers < 2 or "fork" not in mp.get_all_start_methods():
        yield once(functools.partial(func, *args))
        return
    release_free_memory()
    receive, send = mp.Pipe(duplex=False)
    proc = mp.get_context("fork").Process(target=_background_main, args=(func, args, send),
                                          daemon=True)
    proc.start()
    send.close()
    del args  # the child has them: what they hold is the caller's to let go of

    def fetch() -> T:
        try:
            status, value = receive.recv()
        except EOFError:  # it ended without a word
            status, value = "died", None
        proc.join()
        if status == "died":
            raise _died(proc)
        if status == "error":
            raise _raised(value)
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
    _answer(send, func, args)
    send.close()


def _answer(conn: Any, func: Callable[..., object], args: tuple[Any, ...],
            tag: tuple[Any, ...] = ()) -> None:
    """Send (*tag, "ok", ``func(*args)``) on `conn`, or (*tag, "error", what it raised) for
    the caller to raise (raises OSError or EOFError when the caller is gone)."""
    try:
        outcome: tuple[str, object] = ("ok", func(*args))
    except BaseException as exc:
        # where it was raised, which pickling an exception leaves out (its attributes go)
        exc.worker_traceback = "".join(traceback.format_exception(exc))  # type: ignore[attr-defined]
        outcome = ("error", exc)
    try:
        conn.send((*tag, *outcome))
    except (EOFError, OSError):
        raise
    except Exception as exc:  # an unpicklable result or error
        conn.send((*tag, "error", RuntimeError(f"{type(exc).__name__}: {exc}")))


class WorkerTraceback(Exception):
    """Where an error a worker process sent back was raised: its traceback there, as
    text (the cause of the error raised here, as a multiprocessing.Pool gives it)."""

    def __str__(self) -> str:
        return "\n" + str(self.args[0])


def _raised(exc: BaseException) -> BaseException:
    """An error a worker sent back, to raise here, with its traceback there as its cause."""
    text = getattr(exc, "worker_traceback", None)
    if text:
        exc.__cause__ = WorkerTraceback(text)
    return exc


class Helper:
    """A forked process kept for work that can run beside the caller's, one call at a time:
    the caller hands it a call, goes on, and takes the result when it needs it. Forking
    once per call would cost more than such work (a check's new facts: 5 ms; the pages a
    fork makes the parent copy: 13 ms). The function runs as it was when the helper was
    forked. A helper that dies or cannot take the arguments leaves the call to the
    caller, made when its result is asked for, so a result never depends on it; so do
    calls from another thread or process than the one that started it (one pipe, one
    conversation)."""

    def __init__(self) -> None:
        self.owner = (os.getpid(), threading.get_ident())
        self._conn, child = mp.Pipe()
        self._proc = mp.get_context("fork").Process(target=_helper_main,
                                                    args=(child, self._conn), daemon=True)
        self._proc.start()
        child.close()
        self._sent = self._read = 0  # calls sent, results read
        self.broken = False

    def call(self, func: Callable[..., T], *args: Any) -> Callable[[], T]:
        """Start ``func(*args)`` in the helper; returns what waits for its result (and
        raises what it raised)."""
        def here() -> T:
            return func(*args)

        if self.broken or (os.getpid(), threading.get_ident()) != self.owner:
            return here
        try:
            while self._read < self._sent:  # results no caller asked for come first
                self._conn.recv()
                self._read += 1
            self._conn.send((func, args))
        except (OSError, EOFError, ValueError, AttributeError, TypeError, PicklingError):
            self.broken = True  # dead, or the call cannot be pickled
            return here
        ticket = self._sent
        self._sent += 1
        got: list[T] = []

        def result() -> T:
            if not got and self._read > ticket:  # read and dropped by a later call
                got.append(here())
            if got:
                return got[0]
            try:
                status, value = self._conn.recv()
            except (OSError, EOFError):
                self.broken = True
                got.append(here())
                return got[0]
            self._read += 1
            if status == "error":
                raise _raised(value)
            got.append(value)
            return value

        return result

    def close(self) -> None:
        """Stop the helper (it also ends when this process does)."""
        self.broken = True
        self._conn.close()
        self._proc.join(timeout=5)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join()


_HELPERS: dict[int, Helper] = {}  # by the process that started it


def helper() -> Helper | None:
    """This process's helper, started when first asked for; None where processes cannot
    be forked or the helper has stopped working."""
    if "fork" not in mp.get_all_start_methods() or mp.current_process().daemon:
        return None  # (a daemonic process may not start one)
    found = _HELPERS.get(os.getpid())
    if found is None:
        try:
            found = _HELPERS[os.getpid()] = Helper()
        except OSError:
            return None
    return None if found.broken else found


def stop_helper() -> None:
    """Stop this process's helper; the next `helper()` starts another (with the code as it
    is then)."""
    found = _HELPERS.pop(os.getpid(), None)
    if found is not None:
        found.close()


def _helper_main(conn: Any, parent_end: Any) -> None:
    parent_end.close()  # so that the parent's end closing is seen here as the end
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's; then its end closes
    gc.freeze()  # what came from the parent is never collected here: no pages copied for it
    while True:
        try:
            _answer(conn, *conn.recv())
        except (EOFError, OSError):  # the caller is gone
            return


def chunked(n: int, size: int) -> list[range]:
    """0..n-1 in consecutive ranges of `size`."""
    return [range(k, min(k + size, n)) for k in range(0, n, size)]
