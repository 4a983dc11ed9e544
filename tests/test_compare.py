"""Near-duplicate documents (MinHash + LSH, confirmed exactly) and the compare pipeline."""

from __future__ import annotations

import importlib
import random
import re
from pathlib import Path

import pytest

from newsdiff.compare import compare

from conftest import SEEDS, seed_text

compare_module = importlib.import_module("newsdiff.compare")


def _edit_words(text: str, share: float, seed: int) -> str:
    """Replace `share` of the words of `text` with other words (deterministically)."""
    rng = random.Random(seed)
    tokens = re.split(r"(\s+)", text)
    word_positions = [i for i, t in enumerate(tokens) if t.strip()]
    for i in rng.sample(word_positions, int(len(word_positions) * share)):
        tokens[i] = rng.choice(["reportedly", "officials", "Tuesday", "western", "broad"])
    return "".join(tokens)


def _write(folder: Path, **articles: str) -> Path:
    folder.mkdir(exist_ok=True)
    for name, text in articles.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


def _pairs(result):
    return {(d.a, d.b): d for d in result.duplicates}


def test_the_seeds_are_not_duplicates_of_each_other(seed_comparison) -> None:
    assert seed_comparison.duplicates == ()
    assert seed_comparison.clusters == ()


def test_an_article_with_five_percent_of_words_changed_is_a_near_duplicate(
        tmp_path: Path) -> None:
    original = seed_text("001")
    folder = _write(tmp_path / "c", original=original, edited=_edit_words(original, 0.05, 7),
                    other=seed_text("003"))
    pairs = _pairs(compare([folder]))
    assert set(pairs) == {("edited.txt", "original.txt")}
    dup = pairs[("edited.txt", "original.txt")]
    assert dup.kind == "near-duplicate"
    assert 0.5 <= dup.jaccard < 1.0


def test_a_truncated_copy_is_a_duplicate_by_containment(tmp_path: Path) -> None:
    original = seed_text("001")
    paragraphs = original.split("\n\n")
    truncated = "\n\n".join(paragraphs[: len(paragraphs) * 2 // 5])
    folder = _write(tmp_path / "c", original=original, truncated=truncated,
                    other=seed_text("002"))
    (dup,) = compare([folder]).duplicates
    assert dup.kind == "contained"
    assert dup.containment >= 0.95
    assert dup.jaccard < 0.5


def test_a_copy_with_another_header_and_footer_is_an_exact_duplicate(tmp_path: Path) -> None:
    original = seed_text("002")
    body = original.replace("• Kyodo\n", "").rsplit("In a time of both", 1)[0]
    rewrapped = ("WORLD NEWS\n\nBy Staff Writers\n\n" + body +
                 "\n\nPhoto: Reuters / Kim Kyung-Hoon\n\nSHARE THIS\n")
    folder = _write(tmp_path / "c", original=original, rewrapped=rewrapped,
                    other=seed_text("000"))
    result = compare([folder])
    (dup,) = result.duplicates
    assert (dup.a, dup.b, dup.kind, dup.jaccard) == ("original.txt", "rewrapped.txt",
                                                    "exact", 1.0)
    (cluster,) = result.clusters
    assert cluster.docs == ("original.txt", "rewrapped.txt")


def test_clusters_join_chains_of_duplicates(tmp_path: Path) -> None:
    original = seed_text("001")
    folder = _write(tmp_path / "c", a=original, b=_edit_words(original, 0.04, 1),
                    c=_edit_words(original, 0.04, 2), d=seed_text("003"))
    result = compare([folder])
    assert [c.docs for c in result.clusters] == [("a.txt", "b.txt", "c.txt")]


def test_only_lsh_candidates_are_aligned_never_all_sentence_pairs(
        seeds_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real_align = compare_module.align

    def counting_align(*args, **kwargs):
        calls.append(1)
        return real_align(*args, **kwargs)

    monkeypatch.setattr(compare_module, "align", counting_align)
    result = compare([seeds_dir])
    n = [len(d.sentences) for d in result.documents]
    all_pairs = sum(n[i] * n[j] for i in range(len(n)) for j in range(i + 1, len(n)))
    assert 0 < len(calls) < all_pairs / 5
    assert len(result.matches) > 0


def test_the_word_arrays_count_what_the_words_say() -> None:
    """The stages that count over every word read them as arrays (`Columns`): corpus
    stopwords, the sentences that get windows, and the words candidate sentences share
    are those that counting word by word gives, on the seeds and edited copies of them."""
    from collections import Counter

    from newsdiff.compare import (
        analyze,
        columns_of,
        corpus_stopwords,
        sentence_candidates,
        shared_words,
        window_keys,
        without_stopwords,
    )
    from newsdiff.config import Settings, make_settings
    from newsdiff.corpus import text_article
    from newsdiff.tokens import FUNCTION_WORDS, word_key

    # a low share, so that this small corpus has stopwords ("said", "the"... are
    # function words, never counted)
    settings = make_settings({"stopword_share": 0.04, "stopword_min_sentences": 3},
                             base=Settings(workers=1))
    rng = random.Random(5)
    texts = [seed_text(p) for p in ("000", "001", "002", "003", "004")]
    edited = [" ".join(w for w in t.split(" ") if rng.random() > 0.05) for t in texts]
    # a word said many times in few sentences counts once per sentence
    edited.append("Trading notes\n\n" + " ".join(
        ["Brokers sold shares, bought shares, lent shares and swapped shares for shares "
         "of other shares on the exchange floor."] * 2))
    items = analyze([text_article(f"d{k}", t) for k, t in enumerate(texts + edited)],
                    settings)
    columns = columns_of(items)
    sentences = [ws for item in items for ws in item.sentence_words]
    words = [w for ws in sentences for w in ws]
    assert [columns.vocab[i] for i in columns.ids.tolist()] == [w.key for w in words]
    assert columns.common.tolist() == [w.common for w in words]
    assert columns.sizes.tolist() == [len(ws) for ws in sentences]

    df = Counter(k for ws in sentences for k in {w.key for w in ws if w.common})
    limit = max(0.04 * len(sentences), 3)
    stop = corpus_stopwords(columns, settings)
    assert stop == {k for k, c in df.items() if c > limit} and len(stop) >= 3
    share = word_key("shares")
    assert share not in stop and sum(w.key == share for w in words) > limit

    plain = columns.without(stop)
    found, ((_, by_words), (_, by_common)) = window_keys(plain, settings)
    assert found.tolist() == [[d, s] for d, item in enumerate(items)
                              for s, ws in enumerate(item.sentence_words)
                              if len(ws) >= settings.match_min_words]
    # runs of words need a content word; sets of common words, three of them
    assert set(by_words.tolist()) == {k for k, (d, s) in enumerate(found.tolist()) if any(
        w.norm not in FUNCTION_WORDS for w in items[d].sentence_words[s])}
    assert set(by_common.tolist()) == {k for k, (d, s) in enumerate(found.tolist()) if sum(
        w.common for w in without_stopwords(items[d].sentence_words[s], stop)) >= 3}
    pairs = sentence_candidates(plain, settings)
    n_shared, n_common = shared_words(plain, pairs)
    assert len(pairs) > 100

    def keys(d: int, s: int, common: bool) -> set[str]:
        ws = without_stopwords(items[d].sentence_words[s], stop)
        return {w.key for w in ws if w.common or not common}

    assert n_shared.tolist() == [len(keys(a, s, False) & keys(b, t, False))
                                 for a, s, b, t in pairs.tolist()]
    assert n_common.tolist() == [len(keys(a, s, True) & keys(b, t, True))
                                 for a, s, b, t in pairs.tolist()]
    assert 0 < n_common.max() < n_shared.max()


def test_same_input_gives_the_same_json(seeds_dir: Path) -> None:
    from newsdiff.model import dumps

    assert dumps(compare([seeds_dir])) == dumps(compare([seeds_dir]))


def test_json_round_trips_through_the_model(seed_comparison) -> None:
    from newsdiff.model import dumps, loads

    text = dumps(seed_comparison)
    assert loads(text) == seed_comparison
    assert dumps(loads(text)) == text


@pytest.mark.parametrize("size", [4, 8])
def test_articles_shorter_than_a_shingle_are_compared_whole(size: int) -> None:
    """A two-word article with shingles of up to eight words: one shingle of all its words
    (a shingle size above the words once made the hashing fail)."""
    from newsdiff.compare import compare_texts
    from newsdiff.config import Settings, make_settings

    settings = make_settings({"shingle_size": size}, base=Settings())
    result = compare_texts([("a", "Talks resumed.", "2020-01-01"),
                            ("b", "Talks resumed.", "2020-01-02"),
                            ("c", seed_text("001"), None)], settings=settings)
    assert [(d.a, d.b, d.kind) for d in result.duplicates] == [("a", "b", "exact")]


def test_shared_shingles_are_counted_exactly_for_every_candidate() -> None:
    """`shared_counts` (a check's exact Jaccard of up to fifty candidates) finds what a set
    intersection finds, on the seeds' shingles: each seed against all, a copy of one, a
    half of one, an empty set, and sets that share only their low bits with it."""
    import numpy as np

    from newsdiff.signatures import shared_counts, shingle_hashes
    from newsdiff.tokens import words

    sets = [shingle_hashes([w.key for w in words(p.read_text(encoding="utf-8"))], 4)
            for p in sorted(SEEDS.glob("*.txt"))]
    for mine in sets:
        # members that pass the low-bit test but are not in `mine`
        lookalikes = np.unique((mine ^ np.uint32(1 << 20))[:50])
        others = [*sets, mine[::2], np.zeros(0, dtype=np.uint32), lookalikes]
        want = [len(np.intersect1d(mine, theirs)) for theirs in others]
        assert shared_counts(mine, others).tolist() == want
        assert want[-4:-1] != [0, 0, 0] and want[-1] == 0 and want[-2] == 0
    assert shared_counts(np.zeros(0, dtype=np.uint32), sets).tolist() == [0] * len(sets)


def test_a_shingle_size_the_hashing_cannot_make_is_refused() -> None:
    from newsdiff.config import Settings, make_settings
    from newsdiff.errors import NewsdiffError

    with pytest.raises(NewsdiffError, match="shingle_size=9: must be an integer from 1 to 8"):
        make_settings({"shingle_size": 9}, base=Settings())


def test_an_article_segmented_then_tokenised_is_the_article_analysed() -> None:
    """A check segments the new article, hands its sentences to its helper, then finds
    their words: the same document and words as `analyze`, furniture learned from an
    index's repeats included."""
    from collections import Counter

    from newsdiff import boilerplate as bp
    from newsdiff.compare import analyze, segment_article, with_words
    from newsdiff.config import Settings
    from newsdiff.corpus import read_corpus

    settings = Settings()
    raws, _ = read_corpus([SEEDS], 1 << 20)
    for raw in raws:
        foot = bp.edge_lines(raw.text, raw.front_matter_end)[-1]
        for repeats in (None, Counter({bp.line_key(foot.text): 2})):
            (want,) = analyze([raw], settings, repeats=repeats)
            assert with_words(segment_article(raw, settings, repeats)) == want
    # the learned repeat does make a difference somewhere
    assert any(analyze([r], settings)[0].doc.boilerplate != analyze(
        [r], settings, repeats=Counter({bp.line_key(bp.edge_lines(
            r.text, r.front_matter_end)[-1].text): 2}))[0].doc.boilerplate for r in raws)


def test_analysis_on_two_workers_is_the_analysis_in_one_process() -> None:
    """Furniture and sentences are found by forked workers (chunks of 200 articles), the
    words in the parent: the same documents and words as analysing in one process."""
    from newsdiff.compare import analyze
    from newsdiff.config import Settings, make_settings
    from newsdiff.corpus import text_article

    texts = [seed_text(k) for k in ("000", "001", "002", "003", "004")]
    raws = [text_article(f"a{k:03d}", texts[k % 5] + f"\n\nShare this story #{k % 7}",
                         f"2020-01-{k % 28 + 1:02d}") for k in range(420)]
    one = analyze(raws, make_settings({"workers": 1}, base=Settings()))
    two = analyze(raws, make_settings({"workers": 2}, base=Settings()))
    assert one == two
    assert all(a.doc.word_count == sum(map(len, a.sentence_words)) > 0 for a in two)


def _chunk_words(k: range) -> list[int]:
    return [len(seed_text(f"00{i % 5}").split()) for i in k]


def test_forked_workers_give_results_in_order_and_leave_collection_as_it_was() -> None:
    """parallel_imap yields each chunk's result in chunk order, the same as one process;
    the objects it froze out of garbage collection for the stage are thawed after it, and
    a caller's own frozen objects stay frozen."""
    import gc

    from newsdiff import workers

    chunks = workers.chunked(23, 4)
    alone = workers.parallel_map(_chunk_words, chunks, 1)
    assert alone == [_chunk_words(c) for c in chunks] and len(alone) == 6
    assert gc.get_freeze_count() == 0
    assert list(workers.parallel_imap(_chunk_words, chunks, 2)) == alone
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert workers.parallel_map(_chunk_words, chunks, 2) == alone
        assert gc.get_freeze_count() >= frozen > 0
    finally:
        gc.unfreeze()



def test_compare_and_its_report_run_with_the_cycle_collector_paused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """compare() and the report pause Python's cycle collector while they build their
    objects (seen from `progress`, which every stage calls, and from each article page's
    data), turn it back on after them, and leave a caller's own pause alone."""
    import gc

    from newsdiff import report, workers

    seen: list[bool] = []
    assert gc.isenabled()
    result = compare([SEEDS], progress=lambda *_: seen.append(gc.isenabled()))
    assert seen and not any(seen) and gc.isenabled()
    built = report.article_page
    seen.clear()
    monkeypatch.setattr(report, "article_page",
                        lambda *a: (seen.append(gc.isenabled()), built(*a))[1])
    assert "index.html" in report.write_pages(tmp_path, result)
    assert len(seen) == 5 and not any(seen) and gc.isenabled()
    with workers.cycles_paused():
        assert not gc.isenabled()
        with workers.cycles_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer block decides
    assert gc.isenabled()
    gc.disable()
    try:
        with workers.cycles_paused():
            pass
        compare([SEEDS])
        assert not gc.isenabled()  # paused by the caller: left paused
    finally:
        gc.enable()


def _seed_duplicates(texts: list[str]) -> list:
    from newsdiff.compare import analyze, find_duplicates
    from newsdiff.config import Settings
    from newsdiff.corpus import text_article

    raws = [text_article(f"a{k}", t, "2020-01-01") for k, t in enumerate(texts)]
    return find_duplicates(analyze(raws, Settings()), Settings())


_KILLED_WORKER = """
import os, signal, sys, time
from newsdiff import workers

def chunk(k):
    if k == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.05)
    return k * k

assert workers.parallel_map(chunk, [0, 1, 2, 4, 5], 2) == [0, 1, 4, 16, 25]
try:
    workers.parallel_map(chunk, list(range(8)), 2)
except Exception as exc:
    print(type(exc).__name__, exc)
import multiprocessing
print("left", len(multiprocessing.active_children()))
try:
    workers.parallel_map(int, ["1", "x", "3", "4"], 2)
except ValueError as exc:
    print("raised", exc, "left", len(multiprocessing.active_children()))
results = workers.parallel_imap(chunk, list(range(8)), 2)
print("first", next(results))
results.close()  # the caller wants no more
print("left", len(multiprocessing.active_children()))
"""


def test_a_killed_worker_is_an_error_not_a_wait_for_ever() -> None:
    """A worker killed while it holds a chunk (the system's out-of-memory killer sends
    SIGKILL) ends the stage with a WorkerDied naming the signal, and the other worker is
    stopped; a `multiprocessing.Pool` would wait for that chunk for ever. So are the
    workers when a chunk raises (the error is raised here) and when the caller stops
    reading. (In a process of its own, with a time limit, so that a regression cannot
    hang the suite.)"""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", _KILLED_WORKER], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "WorkerDied a worker process was killed by signal 9 (SIGKILL) before it finished; "
        "the system kills the largest process when memory runs out: try --workers 1, or "
        "fewer articles at a time", "left 0",
        "raised invalid literal for int() with base 10: 'x' left 0", "first 0", "left 0"]


def _bad_input() -> None:
    from newsdiff.errors import InputError

    raise InputError("a.txt", "empty article")


def test_background_stage_gives_its_result_or_its_error_and_is_stopped_when_left() -> None:
    """workers.background runs a stage in a forked process: its result is the one found in
    this process, an error it raises is raised here, and a stage whose result is never
    asked for is stopped when the block ends."""
    import multiprocessing
    import os
    import time

    from newsdiff import workers
    from newsdiff.errors import InputError, WorkerDied

    texts = [seed_text("000"), seed_text("001"), _edit_words(seed_text("000"), 0.05, 1)]
    here = _seed_duplicates(texts)
    assert [(d.a, d.b, d.kind) for d in here] == [("a0", "a2", "near-duplicate")]
    for n in (1, 2):
        with workers.background(_seed_duplicates, (texts,), n) as result:
            assert result() == here
            assert result() == here  # asked again: kept
    with workers.background(int, ("twelve",), 2) as result, pytest.raises(
            ValueError, match="twelve") as raised:
        result()
    # where it was raised in the worker comes with it (what a multiprocessing.Pool gave)
    assert isinstance(raised.value.__cause__, workers.WorkerTraceback)
    assert "in _answer" in str(raised.value.__cause__)
    with workers.background(_bad_input, (), 2) as result, pytest.raises(
            InputError, match="^a.txt: empty article") as raised:
        result()
    assert (raised.value.path, raised.value.problem) == ("a.txt", "empty article")
    with workers.background(os._exit, (3,), 2) as result, pytest.raises(
            WorkerDied, match="a worker process ended with exit code 3 before it finished"):
        result()
    with workers.background(time.sleep, (60,), 2):
        (child,) = multiprocessing.active_children()
        pid = child.pid
        os.kill(pid, 0)  # running
    with pytest.raises(ProcessLookupError):  # stopped and reaped
        os.kill(pid, 0)


def test_compare_lets_go_of_the_words_once_the_sentences_are_aligned(monkeypatch) -> None:
    """The analysed articles (their word objects: 630 MB at 10,000 benchmark articles) are
    let go after the alignment, in the parent, while the near-duplicates are still being
    found in the background from its own copy; the results are those of one process."""
    import gc
    import weakref

    module = importlib.import_module("newsdiff.compare")
    analysed: list[weakref.ref] = []
    alive_later: list[int] = []
    find_matches, find_divergences = module.find_matches, module.find_divergences

    def watched_matches(items, *args, **kwargs):  # type: ignore[no-untyped-def]
        analysed.extend(weakref.ref(a) for a in items)
        return find_matches(items, *args, **kwargs)

    def watched_divergences(*args, **kwargs):  # type: ignore[no-untyped-def]
        gc.collect()
        alive_later.append(sum(ref() is not None for ref in analysed))
        return find_divergences(*args, **kwargs)

    monkeypatch.setattr(module, "find_matches", watched_matches)
    monkeypatch.setattr(module, "find_divergences", watched_divergences)
    together = compare([SEEDS], workers=2)
    assert len(analysed) == 5 and alive_later == [0]
    alone = compare([SEEDS], workers=1)
    assert together.duplicates == alone.duplicates and together.matches == alone.matches
    assert together.threads == alone.threads and together.divergences == alone.divergences


def test_background_stage_keeps_no_reference_to_its_arguments() -> None:
    """The forked child has the arguments; the parent may let go of what they hold while
    the stage runs (what let `compare` free the words in the block above)."""
    import gc
    import multiprocessing
    import weakref

    from newsdiff import workers

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")

    class Held:
        words = ["x"] * 1000

    held = Held()
    ref = weakref.ref(held)
    with workers.background(len, (held.words,), 2) as result:
        args = (held,)
        with workers.background(id, args, 2) as ident:
            del held, args
            gc.collect()
            assert ref() is None
            assert isinstance(ident(), int)
        assert result() == 1000


def test_free_heap_memory_is_handed_back_before_forking() -> None:
    """`release_free_memory` returns to the system what the C allocator keeps of freed
    blocks (glibc keeps them in its heap; a forked worker would count them again)."""
    import sys

    from newsdiff import workers

    if not sys.platform.startswith("linux") or workers._malloc_trim() is None:
        pytest.skip("glibc's malloc_trim only")

    def rss_mb() -> float:
        with open("/proc/self/status") as status:
            line = next(x for x in status if x.startswith("VmRSS"))
        return int(line.split()[1]) / 1024

    blocks = [bytearray(64 * 1024) for _ in range(3000)]  # under glibc's mmap threshold
    pin = bytearray(64 * 1024)  # keeps the top of the heap from being trimmed on free
    for block in blocks:
        block[::4096] = b"x" * len(block[::4096])  # touch every page
    del blocks
    before = rss_mb()
    workers.release_free_memory()
    after = rss_mb()
    assert before - after > 100, (before, after)
    del pin


def test_matches_and_threads_survive_pickling_between_processes() -> None:
    """Spans, edit operations, matches and thread members have no dict of their own
    (slots) and pickle as their field values: what the aligners send back is what they
    found."""
    import copy
    import pickle

    result = compare([SEEDS], workers=1)
    assert result.matches and result.threads
    for objects in (result.matches, result.threads):
        assert pickle.loads(pickle.dumps(objects, protocol=pickle.HIGHEST_PROTOCOL)) == objects
        assert copy.deepcopy(objects) == objects
    first = result.matches[0]
    assert not hasattr(first, "__dict__") and not hasattr(first.a, "__dict__")
    assert not hasattr(first.ops[0], "__dict__")
    assert not hasattr(result.threads[0].members[0], "__dict__")
