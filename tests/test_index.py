"""The persistent index, `check` and `add`, on SQLite and on a real Redis server."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from newsdiff.cli import cli
from newsdiff.compare import analyze
from newsdiff.config import Settings
from newsdiff.corpus import read_corpus, text_article
from newsdiff.errors import IndexStoreError
from newsdiff.facts import facts_from_json
from newsdiff.index import StoredFacts, build_index, record_document
from newsdiff.signatures import shingle_hashes
from newsdiff.store import FORMAT, DocRecord, open_store, pack_facts, stored_facts

from conftest import SEEDS, seed_text

DATA = Path(__file__).parent / "data"
NEWSDIFF = [sys.executable, "-m", "newsdiff"]


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory):
    """A real redis-server on a free loopback port, with its own folder; stopped after."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (CI installs it with apt-get)")
    folder = tmp_path_factory.mktemp("redis")
    port = _free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir",
                             str(folder), "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("redis-server did not start")
    yield port
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture()
def redis_url(redis_server: int, request: pytest.FixtureRequest) -> str:
    """A Redis index URL with a prefix of this test's own."""
    return f"redis://127.0.0.1:{redis_server}/0?prefix=t-{abs(hash(request.node.name))}"


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, list[str]]:
    """A copy of the seeds and the --index options that select a backend for it."""
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    if request.param == "sqlite":
        return corpus, []
    return corpus, ["--index", request.getfixturevalue("redis_url")]


def test_check_a_seed_copy_says_duplicate_and_exits_1(backend, tmp_path: Path) -> None:
    corpus, index = backend
    assert run("index", "build", str(corpus), *index).exit_code == 0
    copy = tmp_path / "copy.txt"
    copy.write_text(seed_text("002"), encoding="utf-8")
    result = run("check", str(copy), "--corpus", str(corpus), *index, "--format", "json")
    assert result.exit_code == 1, result.output
    (res,) = json.loads(result.output)["results"]
    assert res["verdict"] == "duplicate"
    assert res["duplicates"][0]["doc"] == "002_7e4fc252ac36b584.txt"
    assert res["duplicates"][0]["jaccard"] == 1.0
    assert res["fails"] == ["duplicate"]


def test_check_a_new_article_that_rephrases_two_seed_statements(backend) -> None:
    corpus, index = backend
    assert run("index", "build", str(corpus), *index).exit_code == 0
    result = run("check", str(DATA / "new_article.txt"), "--corpus", str(corpus), *index,
                 "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["schema"] == "newsdiff.check/1"
    (res,) = doc["results"]
    assert res["verdict"] == "overlap"
    repeated = {r["sentence"]["text"][:40]: r for r in res["repeated"]}
    dispute = repeated["Tokyo and Moscow have still not settled "]
    plan = repeated["Officials said progress on an eight-poin"]
    assert dispute["earliest"]["doc"] == "003_c7b829f5c48603c9.txt"
    assert dispute["earliest"]["published"] == "2013-10-07"
    assert dispute["earliest"]["source"] == "Kyodo"
    assert "002_7e4fc252ac36b584.txt" in {m["doc"] for m in dispute["matches"]}
    assert plan["earliest"]["doc"] == "002_7e4fc252ac36b584.txt"
    assert len(res["repeated"]) == 2
    assert [s["text"][:20] for s in res["new"]] == ["Fishing crews from N", "The agency plans to "]
    text = run("check", str(DATA / "new_article.txt"), "--corpus", str(corpus), *index)
    lines = text.output.splitlines()
    assert lines[0] == (f"{DATA / 'new_article.txt'}: OVERLAP — 2 of 4 statements repeated, "
                        "2 new, 0 divergence(s)")
    assert lines[1].startswith("  repeats 003_c7b829f5c48603c9.txt (2013-10-07, near-verbatim)")
    assert lines[2].startswith("  repeats 002_7e4fc252ac36b584.txt (2016-11-19, verbatim)")


def test_check_compares_with_the_facts_the_index_stored(tmp_path: Path) -> None:
    """An edited reprint of 002 (a "90-minute" meeting, not "70-minute"): the divergence
    comes from the indexed article's stored facts and equals what finding them afresh
    gives."""
    from newsdiff.divergence import find_divergences
    from newsdiff.index import check_article
    from newsdiff.precheck import read_new_article

    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    store = open_store(f"sqlite:///{tmp_path / 'i.sqlite'}", create=True)
    settings = Settings()
    build_index(corpus, store, settings)
    edited = tmp_path / "reprint.txt"
    edited.write_text(seed_text("002").replace("70-minute", "90-minute"), encoding="utf-8")
    result = check_article(read_new_article(str(edited), settings), store, settings)
    (number,) = [d for d in result.divergences if d.kind == "number"]
    assert (number.a.span.doc, number.a.value, number.b.value) == (
        "002_7e4fc252ac36b584.txt", "70-minute", "90-minute")
    matches = [m for r in result.repeats for m in r.matches]
    docs = {**result.corpus_docs, result.document.id: result.document}
    afresh = find_divergences(matches, [], docs)
    assert list(result.divergences) == afresh
    store.close()


def test_records_keep_text_spans_and_shingles_byte_for_byte(tmp_path: Path) -> None:
    settings = Settings()
    store = open_store(f"sqlite:///{tmp_path / 'index.sqlite'}", create=True)
    build_index(SEEDS, store, settings)
    raws, _ = read_corpus([SEEDS], 1 << 24)
    (item,) = [a for a in analyze(raws, settings) if a.doc.id.startswith("003")]
    (seed,) = [raw for raw in raws if raw.id == item.doc.id]
    (rec,) = store.get([seed.id])
    assert rec.text == seed.text  # curly quotes and dashes included
    assert rec.sentences == tuple((s.start, s.end) for s in item.doc.sentences)
    assert rec.boilerplate == tuple((b.span.start, b.span.end, b.reason)
                                    for b in item.doc.boilerplate)
    assert np.array_equal(np.frombuffer(rec.shingles, dtype="<u4"),
                          shingle_hashes(item.body_norms, settings.shingle_size))
    facts = store.facts([seed.id])[seed.id]
    assert len(facts) == len(rec.sentences) and any(f != "[]" for f in facts)
    # A check reads records as Documents whose sentences become Spans when asked for.
    sentences = record_document(rec).sentences
    assert len(sentences) == len(item.doc.sentences)
    assert tuple(sentences) == item.doc.sentences == sentences
    assert (sentences[-1], sentences[2:5]) == (item.doc.sentences[-1], item.doc.sentences[2:5])
    # ... and the stored facts of the sentences it asks for, parsed when asked for.
    last = len(rec.sentences) - 1
    stored = StoredFacts(store, [(seed.id, 0), (seed.id, last), (seed.id, last + 1)])
    assert stored[(seed.id, last)] == facts_from_json(facts[last])
    assert (seed.id, last + 1) not in stored and (seed.id, 1) not in stored  # found afresh
    assert list(stored) == [(seed.id, 0), (seed.id, last)]
    blob = rec.pack()
    assert DocRecord.unpack(blob, rec.minhash) == rec
    for damaged in (blob[:-1], blob + b"x", b"NDR4", b"zlib?" + blob[5:]):
        with pytest.raises(ValueError):
            DocRecord.unpack(damaged, rec.minhash)
    assert DocRecord.unpack_facts(pack_facts([])) == ()
    # Stored facts are compressed sentence by sentence (to under a third of their JSON)
    # and inflated when read; bytes changed since they were written are a clear error
    # when the document's facts are read.
    packed = pack_facts(list(facts))
    assert len(packed) * 3 < sum(len(f.encode("utf-8")) for f in facts)
    lazy = stored_facts(seed.id, packed, "idx")
    assert len(lazy) == len(facts) and lazy[-1] == facts[-1] and lazy[:2] == tuple(facts[:2])
    corrupt = f"idx: corrupt index \\(the facts of {seed.id}\\)"
    flipped = packed[:-2] + bytes([packed[-2] ^ 0x55]) + packed[-1:]
    for damaged in (packed[:-1], packed + b"x", flipped):
        with pytest.raises(IndexStoreError, match=corrupt):
            stored_facts(seed.id, damaged, "idx")
    # A sentence whose compressed bytes do not inflate (written so, behind a valid CRC) is
    # an error when that sentence is read; the others still read.
    body = bytearray(packed[8:])
    body[-1] ^= 0xFF  # the last sentence's deflate stream
    relabeled = packed[:4] + struct.pack("<I", zlib.crc32(bytes(body))) + bytes(body)
    lazy = stored_facts(seed.id, relabeled, "idx")
    assert lazy[0] == facts[0]
    with pytest.raises(IndexStoreError, match=corrupt):
        lazy[-1]
    with pytest.raises(ValueError):  # as `index verify` reads them: all at once
        DocRecord.unpack_facts(relabeled)
    store.close()


def test_verify_names_a_document_whose_stored_facts_are_damaged(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    assert run("index", "build", str(corpus)).exit_code == 0
    db = sqlite3.connect(corpus / ".newsdiff" / "index.sqlite")
    db.execute("UPDATE docs SET facts = ? WHERE id = ?", (b"NDF5 damaged",
                                                        "004_ca3b18b3347b43dc.txt"))
    db.execute("UPDATE docs SET facts = ? WHERE id = ?", (pack_facts(["[]"]),
                                                        "003_c7b829f5c48603c9.txt"))
    db.commit()
    db.close()
    result = run("index", "verify", "--corpus", str(corpus))
    assert result.exit_code == 2
    assert "004_ca3b18b3347b43dc.txt: damaged record" in result.output
    assert "003_c7b829f5c48603c9.txt: facts of 1 sentences stored for " in result.output
    # a check that needs the damaged facts says so in one line
    check = run("check", str(SEEDS / "004_ca3b18b3347b43dc.txt"), "--corpus", str(corpus))
    assert check.exit_code == 2
    assert check.output.strip().endswith("corrupt index (the facts of "
                                         "004_ca3b18b3347b43dc.txt)")


def test_fail_on_overlap_turns_the_overlap_into_exit_1(backend) -> None:
    corpus, index = backend
    run("index", "build", str(corpus), *index)
    result = run("check", str(DATA / "new_article.txt"), "--corpus", str(corpus), *index,
                 "--fail-on", "overlap")
    assert result.exit_code == 1
    assert "fails on: overlap" in result.output
    bad = run("check", str(DATA / "new_article.txt"), "--corpus", str(corpus), *index,
              "--fail-on", "typos")
    assert bad.exit_code == 2 and "'typos' is not one of" in bad.output


def test_both_backends_give_identical_check_results(tmp_path: Path, redis_url: str) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    outputs = []
    for index in ([], ["--index", redis_url]):
        assert run("index", "build", str(corpus), *index).exit_code == 0
        result = run("check", str(DATA / "new_article.txt"),
                     str(SEEDS / "001_3ed4bf90ac3744bf.txt"), "--corpus", str(corpus), *index,
                     "--format", "json")
        body = json.loads(result.output)
        body.pop("index")
        outputs.append(body)
    assert outputs[0] == outputs[1]


def test_redis_reads_bucket_sets_as_sqlite_does_and_skips_stock_phrase_sets(
        tmp_path: Path, redis_url: str) -> None:
    """Redis sends the members of the sets a lookup reads as one reply of a script: the
    entries are SQLite's, and a set of more than HOT_BUCKET entries is left out when asked."""
    from newsdiff import store_redis
    from newsdiff.index import _learned_repeats, ensure_compatible, sketch
    from newsdiff.precheck import read_new_article
    from newsdiff.store import HOT_BUCKET, rank_votes

    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    settings = Settings()
    stores = [open_store(f"sqlite:///{tmp_path / 'i.sqlite'}", create=True),
              open_store(redis_url, create=True)]
    for store in stores:
        build_index(corpus, store, settings)
    sqlite_store, redis_store = stores
    copy = tmp_path / "copy.txt"  # shares document bands with a seed, as the new one doesn't
    copy.write_text(seed_text("002"), encoding="utf-8")
    keys: set[int] = set()
    for path in (DATA / "new_article.txt", copy):
        raw = read_new_article(str(path), settings)
        (item,) = analyze([raw], settings, repeats=_learned_repeats(sqlite_store, raw))
        sk = sketch(item, settings, ensure_compatible(sqlite_store, settings),
                    for_storage=False)
        keys |= {k for k, _ in sk.buckets} | set(sk.doc_keys)  # sentences', document's
        # the votes, counted in arrays, are those counted from the entries as SQLite does
        votes = redis_store.sentence_votes(sk.sentence_keys, 10, 2)
        queries = [(k, s) for k, s in sk.buckets if s >= 0]
        assert votes and votes == sqlite_store.sentence_votes(sk.sentence_keys, 10, 2)
        assert votes == rank_votes(redis_store.lookup([k for k, _ in queries], skip_hot=True),
                                   queries, 10, 2)
        assert redis_store.sentence_votes(sk.sentence_keys, 3, 1, "002_7e4fc252ac36b584.txt") \
            == rank_votes(redis_store.lookup([k for k, _ in queries], skip_hot=True), queries,
                          3, 1, "002_7e4fc252ac36b584.txt")
    for options in ({}, {"skip_hot": True}, {"bands_only": True}):
        found = sorted(redis_store.lookup(sorted(keys), **options))
        assert found and found == sorted(sqlite_store.lookup(sorted(keys), **options))
    assert {s for _, _, s in redis_store.lookup(sorted(keys), bands_only=True)} == {-1}
    assert redis_store.lookup([]) == [] and redis_store.lookup([12345]) == []
    # one of the sentence buckets becomes a stock phrase: HOT_BUCKET + 1 entries (sentences
    # of an indexed document)
    key, doc_id, _ = next(e for e in redis_store.lookup(sorted(keys)) if e[2] >= 0)
    number = int(redis_store.r.hget(redis_store._k("doc", doc_id), "num"))
    redis_store.r.sadd(redis_store._b(key), *(store_redis._member(number, s)
                                              for s in range(HOT_BUCKET + 1)))
    assert redis_store.r.scard(redis_store._b(key)) > HOT_BUCKET
    everything = redis_store.lookup(sorted(keys))
    assert sorted(s for k, _, s in everything if k == key)[-1] == HOT_BUCKET
    skipped = redis_store.lookup(sorted(keys), skip_hot=True)
    assert key not in {k for k, _, _ in skipped}
    assert sorted(skipped) == sorted(e for e in everything if e[0] != key)
    # `verify` asks the server whether each of a document's entries is there
    assert redis_store.verify() == []
    pairs, _, number = redis_store._stored(doc_id)
    redis_store.r.srem(redis_store._b(pairs[0][0]), store_redis._member(number, pairs[0][1]))
    assert redis_store.verify() == [f"{doc_id}: {len(pairs) - 1} of {len(pairs)} bucket "
                                    "entries stored"]
    for store in stores:
        store.close()


def test_redis_buckets_hold_integers_an_older_layout_is_refused_and_a_rebuild_clears_it(
        tmp_path: Path, redis_url: str) -> None:
    from newsdiff import store_redis

    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    assert run("index", "build", str(corpus), "--index", redis_url).exit_code == 0
    store = open_store(redis_url)
    r, prefix = store.r, store.prefix.encode()
    buckets = list(r.scan_iter(match=prefix + b"b:*", count=10_000))
    assert buckets and all(len(k) == len(prefix) + 2 + 8 for k in buckets)
    # sets of integers: kept by Redis as arrays (only sets of over 512 would not be)
    assert {r.object("encoding", k) for k in buckets} == {b"intset"}
    docs = store.documents()
    names = {int(n): d.decode() for n, d in r.hgetall(prefix + b"num").items()}
    assert sorted(names.values()) == sorted(docs)
    seen = set()
    for k in buckets:
        for member in r.smembers(k):
            number, sent = store_redis._entry(int(member))
            seen.add(names[number])
            assert -1 <= sent < len(record_document(store.get([names[number]])[0]).sentences)
    assert seen == set(docs)
    # One document as the older layout wrote it ("ID<US>SENT" members in sets named by the
    # key in digits, no number), and no layout mark: refused until rebuilt.
    old = sorted(docs)[0]
    pairs, _, number = store._stored(old)
    for key, sent in pairs:
        r.srem(store._b(key), store_redis._member(number, sent))
        r.sadd(store._k("b", key), f"{old}{store_redis.SEP}{sent}")
    r.hdel(store._k("doc", old), "num")
    r.hdel(store._k("num"), number)
    r.delete(store._k("layout"))
    copy = tmp_path / "copy.txt"
    copy.write_text(seed_text("002"), encoding="utf-8")
    refused = run("check", str(copy), "--index", redis_url)
    assert refused.exit_code == 2 and "older layout" in refused.output
    assert "older layout" in run("index", "build", str(corpus), "--index", redis_url).output
    assert run("index", "build", str(corpus), "--index", redis_url, "--rebuild").exit_code == 0
    assert not any(r.exists(store._k("b", key)) for key, _ in pairs)
    assert run("index", "verify", "--index", redis_url).exit_code == 0
    assert run("check", str(copy), "--index", redis_url).exit_code == 1
    # removing every document leaves no bucket behind
    for doc_id in store.documents():
        store.remove(doc_id)
    assert not list(r.scan_iter(match=prefix + b"b:*", count=10_000))
    assert not r.hlen(store._k("num"))


def test_check_reads_standard_input(backend) -> None:
    corpus, index = backend
    run("index", "build", str(corpus), *index)
    result = run("check", "-", "--corpus", str(corpus), *index, "--format", "json",
                 input=seed_text("004"))
    assert result.exit_code == 1
    assert json.loads(result.output)["results"][0]["verdict"] == "duplicate"


def test_incremental_build_skips_unchanged_reindexes_changed_removes_deleted(
        tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    assert "5 added, 0 updated, 0 removed, 0 unchanged" in run("index", "build",
                                                               str(corpus)).output
    assert "0 added, 0 updated, 0 removed, 5 unchanged" in run("index", "build",
                                                               str(corpus)).output
    (corpus / "000_2cca2ade25163128.txt").unlink()
    path = corpus / "002_7e4fc252ac36b584.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nA late paragraph was added.\n",
                    encoding="utf-8")
    shutil.copy(DATA / "new_article.txt", corpus / "new.txt")
    assert "1 added, 1 updated, 1 removed, 3 unchanged" in run("index", "build",
                                                               str(corpus)).output
    store = open_store(f"sqlite:///{corpus / '.newsdiff' / 'index.sqlite'}")
    assert sorted(store.documents()) == ["001_3ed4bf90ac3744bf.txt", "002_7e4fc252ac36b584.txt",
                                         "003_c7b829f5c48603c9.txt", "004_ca3b18b3347b43dc.txt",
                                         "new.txt"]
    store.close()


def test_querying_with_other_settings_is_a_clear_error(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    run("index", "build", str(corpus))
    (tmp_path / "other.toml").write_text("shingle_size = 5\n", encoding="utf-8")
    result = run("check", str(DATA / "new_article.txt"), "--corpus", str(corpus),
                 "--config", str(tmp_path / "other.toml"))
    assert result.exit_code == 2
    assert "index built with other settings: shingle_size=3 (now 5)" in result.output


def test_bad_indexes_and_urls_are_one_line_errors(tmp_path: Path) -> None:
    article = str(DATA / "new_article.txt")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database at all" * 100)
    r = run("check", article, "--index", f"sqlite:///{junk}")
    assert r.exit_code == 2 and r.output.startswith(f"Error: {junk}: not a newsdiff index")
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE customers (name TEXT)")
    r = run("check", article, "--index", f"sqlite:///{foreign}")
    assert (r.exit_code, r.output) == (
        2, f"Error: {foreign}: a SQLite file, but not a newsdiff index\n")
    r = run("check", article, "--index", f"sqlite:///{tmp_path / 'missing.sqlite'}")
    assert r.exit_code == 2 and "no index here" in r.output
    r = run("check", article, "--index", "ftp://example/index")
    assert r.exit_code == 2 and "unknown index URL" in r.output
    r = run("check", article, "--index", f"redis://127.0.0.1:{_free_port()}/0")
    assert r.exit_code == 2 and "cannot reach Redis" in r.output
    r = run("check", article)
    assert r.exit_code == 2 and "give --corpus DIR or --index URL" in r.output


def test_an_index_from_another_format_version_is_refused(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    run("index", "build", str(corpus))
    path = corpus / ".newsdiff" / "index.sqlite"
    with sqlite3.connect(path) as db:
        (value,), = db.execute("SELECT value FROM meta WHERE name = 'settings'")
        meta = json.loads(value)
        meta["format"] = "newsdiff.index/0"
        db.execute("UPDATE meta SET value = ? WHERE name = 'settings'", (json.dumps(meta),))
    r = run("check", str(DATA / "new_article.txt"), "--corpus", str(corpus))
    assert r.exit_code == 2
    assert f"index format 'newsdiff.index/0' is not '{FORMAT}'" in r.output


def test_add_copies_records_and_indexes_and_refuses_duplicates(backend, tmp_path: Path) -> None:
    corpus, index = backend
    run("index", "build", str(corpus), *index)
    result = run("add", str(DATA / "new_article.txt"), "--corpus", str(corpus), *index,
                 "--source", "Kyodo", "--published", "2016-12-08")
    assert result.exit_code == 0, result.output
    assert (corpus / "new_article.txt").read_bytes() == (DATA / "new_article.txt").read_bytes()
    manifest = (corpus / "manifest.toml").read_text(encoding="utf-8")
    assert '[articles."new_article.txt"]\nsource = "Kyodo"\npublished = 2016-12-08' in manifest
    assert manifest.startswith("# newsdiff sidecar manifest")  # comments kept
    copy = tmp_path / "copy_of_001.txt"
    copy.write_text(seed_text("001"), encoding="utf-8")
    refused = run("add", str(copy), "--corpus", str(corpus), *index)
    assert refused.exit_code == 1 and "refused" in refused.output
    assert not (corpus / "copy_of_001.txt").exists()
    forced = run("add", str(copy), "--corpus", str(corpus), *index, "--force")
    assert forced.exit_code == 0 and (corpus / "copy_of_001.txt").exists()
    again = run("add", str(DATA / "new_article.txt"), "--corpus", str(corpus), *index)
    assert again.exit_code == 2 and "already has an article of that name" in again.output
    check = run("check", str(DATA / "new_article.txt"), "--corpus", str(corpus), *index,
                "--format", "json")
    assert json.loads(check.output)["results"][0]["duplicates"][0]["doc"] == "new_article.txt"


def test_a_failed_add_leaves_folder_manifest_and_index_unchanged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import newsdiff.precheck as precheck

    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    run("index", "build", str(corpus))
    before_manifest = (corpus / "manifest.toml").read_bytes()
    before_files = sorted(p.name for p in corpus.iterdir())

    def failing(*args, **kwargs):
        raise IndexStoreError("simulated index failure")

    monkeypatch.setattr(precheck, "index_document", failing)
    result = run("add", str(DATA / "new_article.txt"), "--corpus", str(corpus))
    assert (result.exit_code, result.output) == (2, "Error: simulated index failure\n")
    assert (corpus / "manifest.toml").read_bytes() == before_manifest
    assert sorted(p.name for p in corpus.iterdir()) == before_files
    store = open_store(f"sqlite:///{corpus / '.newsdiff' / 'index.sqlite'}")
    assert "new_article.txt" not in store.documents()
    store.close()


def _recombined_articles(n: int, seed: int) -> list[str]:
    """Articles made of real seed paragraphs, recombined (deterministic)."""
    rng = random.Random(seed)
    paragraphs = [p for f in sorted(SEEDS.glob("*.txt"))
                  for p in f.read_text(encoding="utf-8").split("\n\n") if len(p) > 150]
    return ["\n\n".join(rng.sample(paragraphs, 6)) + "\n" for _ in range(n)]


@pytest.mark.parametrize("use_redis", [False, True], ids=["sqlite", "redis"])
def test_four_concurrent_adds_each_land_exactly_once(tmp_path: Path, use_redis: bool,
                                                     request: pytest.FixtureRequest) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    index = ["--index", request.getfixturevalue("redis_url")] if use_redis else []
    assert run("index", "build", str(corpus), *index).exit_code == 0
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    names = []
    for k, text in enumerate(_recombined_articles(8, 11)):
        name = f"wire_{k}.txt"
        (incoming / name).write_text(text, encoding="utf-8")
        names.append(name)
    procs = [subprocess.Popen(NEWSDIFF + ["add", *(str(incoming / n) for n in names[i::4]),
                                          "--corpus", str(corpus), "--force", *index],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(4)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, (out, err)
    for name in names:
        assert (corpus / name).read_bytes() == (incoming / name).read_bytes()
    manifest = (corpus / "manifest.toml").read_text(encoding="utf-8")
    for name in names:
        assert manifest.count(f'[articles."{name}"]') == 1
    url = index[1] if index else f"sqlite:///{corpus / '.newsdiff' / 'index.sqlite'}"
    store = open_store(url)
    docs = store.documents()
    store.close()
    assert sorted(docs) == sorted([*names, *(p.name for p in SEEDS.glob("*.txt"))])
    assert run("index", "verify", *index, "--corpus", str(corpus)).exit_code == 0


def test_a_build_killed_halfway_leaves_a_sound_index_that_the_next_build_completes(
        tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for k, text in enumerate(_recombined_articles(400, 5)):
        (corpus / f"a{k:04d}.txt").write_text(text, encoding="utf-8")
    db = corpus / ".newsdiff" / "index.sqlite"
    proc = subprocess.Popen(NEWSDIFF + ["index", "build", str(corpus), "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    indexed = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=1) as conn:
                    (indexed,), = conn.execute("SELECT COUNT(*) FROM docs")
            except sqlite3.OperationalError:
                indexed = 0
            if indexed >= 20:
                break
        time.sleep(0.05)
    assert proc.poll() is None, "the build finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    verify = run("index", "verify", "--corpus", str(corpus))
    assert verify.exit_code == 0, verify.output
    store = open_store(f"sqlite:///{db}")
    partial = len(store.documents())
    store.close()
    assert 20 <= partial < 400
    result = run("index", "build", str(corpus), "-q")
    assert result.exit_code == 0
    assert f"{400 - partial} added, 0 updated, 0 removed, {partial} unchanged" in result.output
    assert run("index", "verify", "--corpus", str(corpus)).exit_code == 0


def test_build_index_api_reports_what_it_did(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """build_index says what it added; it and check_article run with the cycle collector
    paused (seen from the build's progress calls and from the check's analysis) and turn
    it back on after."""
    import gc

    from newsdiff import index
    from newsdiff.precheck import read_new_article

    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    store = open_store(f"sqlite:///{tmp_path / 'i.sqlite'}", create=True)
    seen: list[bool] = []
    report = build_index(corpus, store, Settings(),
                         progress=lambda *_: seen.append(gc.isenabled()))
    assert len(report.added) == 5 and report.unchanged == 0
    assert len(seen) == 5 and not any(seen) and gc.isenabled()
    segment = index.segment_article  # a check's analysis begins with it
    seen.clear()
    monkeypatch.setattr(index, "segment_article", lambda *a, **k: (
        seen.append(gc.isenabled()), segment(*a, **k))[1])
    found = index.check_article(read_new_article(str(SEEDS / "002_7e4fc252ac36b584.txt"),
                                                 Settings()), store, Settings())
    assert found.verdict == "duplicate" and seen == [False] and gc.isenabled()
    assert store.verify() == []
    # a record and its facts in few pages: the page size is set before the file exists
    from newsdiff.store_sqlite import PAGE_BYTES

    assert store.db.execute("PRAGMA page_size").fetchone()[0] == PAGE_BYTES > 4096
    store.close()


def test_sqlite_ranks_sentence_votes_as_the_shared_python_ranking_does(tmp_path: Path) -> None:
    """SQLite counts and ranks shared buckets in SQL; Redis ranks the fetched entries with
    `rank_votes`. On the seed index, for the buckets of the new article, both agree."""
    from newsdiff.compare import analyze
    from newsdiff.index import _learned_repeats, ensure_compatible, sketch
    from newsdiff.precheck import read_new_article
    from newsdiff.store import rank_votes

    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    store = open_store(f"sqlite:///{tmp_path / 'i.sqlite'}", create=True)
    settings = Settings()
    build_index(corpus, store, settings)
    bands = ensure_compatible(store, settings)
    raw = read_new_article(str(DATA / "new_article.txt"), settings)
    (item,) = analyze([raw], settings, repeats=_learned_repeats(store, raw))
    sk = sketch(item, settings, bands, for_storage=False)
    queries = [(k, s) for k, s in sk.buckets if s >= 0]
    entries = store.lookup([k for k, _ in queries], skip_hot=True)
    assert "002_7e4fc252ac36b584.txt" in {doc for doc, *_ in store.sentence_votes(queries, 10)}
    # a check passes the sketch's array, where a pair found by two windows comes twice
    assert len(sk.sentence_keys) > len(queries)
    assert store.sentence_votes(sk.sentence_keys, 10, 2) == store.sentence_votes(queries, 10, 2)
    for per_sentence, least, exclude in ((10, 1, ""), (1, 1, ""), (10, 3, ""),
                                         (3, 2, "002_7e4fc252ac36b584.txt")):
        in_sql = store.sentence_votes(queries, per_sentence, least, exclude)
        assert in_sql == rank_votes(entries, queries, per_sentence, least, exclude)
        assert all(n >= least for *_, n in in_sql)
        assert in_sql and all(doc != exclude for doc, *_ in in_sql)
        per_new = {mine for _, _, mine, _ in in_sql}
        assert all(sum(1 for *_, m, _ in in_sql if m == mine) <= per_sentence
                   for mine in per_new)
    store.close()


def test_the_key_file_counts_what_the_table_holds_after_adds_changes_and_removals(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bulk build writes the key file; documents written one by one afterwards are
    counted in SQLite, removed ones are not counted, and the next bulk build folds them all
    into a new key file. At every step the votes equal the Python ranking of the table's
    own entries."""
    from newsdiff.index import _learned_repeats, ensure_compatible, index_document, sketch
    from newsdiff.precheck import read_new_article
    from newsdiff.store import rank_votes

    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    # a lightly edited copy, sharing fewer buckets with the reprint than 002 itself
    (corpus / "002-edited.txt").write_text(" ".join(
        w if k % 7 else w.upper() + "x" for k, w in enumerate(seed_text("002").split(" "))),
        encoding="utf-8")
    path = tmp_path / "i.sqlite"
    store = open_store(f"sqlite:///{path}", create=True)
    settings = Settings()
    build_index(corpus, store, settings)
    bands = ensure_compatible(store, settings)
    reprint = tmp_path / "reprint.txt"
    reprint.write_text(seed_text("002").replace("70-minute", "90-minute"), encoding="utf-8")
    raw = read_new_article(str(reprint), settings)
    (item,) = analyze([raw], settings, repeats=_learned_repeats(store, raw))
    queries = [(k, s) for k, s in sketch(item, settings, bands, for_storage=False).buckets
               if s >= 0]
    sentence_entries = ("SELECT COUNT(*) FROM buckets WHERE sent >= 0 AND key NOT IN "
                        "(SELECT key FROM hot)")

    def voters() -> set[str]:
        entries = store.lookup([k for k, _ in queries], skip_hot=True)
        for per_sentence, least in ((10, 2), (1, 1), (3, 3)):
            assert store.sentence_votes(queries, per_sentence, least) == rank_votes(
                entries, queries, per_sentence, least)
        return {doc for doc, *_ in store.sentence_votes(queries, 10, 2)}

    assert store.stats()["key_file_entries"] == store.db.execute(sentence_entries).fetchone()[0]
    assert "002_7e4fc252ac36b584.txt" in voters()
    store.remove("002_7e4fc252ac36b584.txt")  # in the key file: no longer counted, and
    # the edited copy takes its place
    found = voters()
    assert "002_7e4fc252ac36b584.txt" not in found and "002-edited.txt" in found
    index_document(raw, store, settings)  # after the key file: counted in SQLite
    assert raw.id in voters()
    # a sentence of 002 repeated in 70 articles added one by one: its window buckets become
    # stock phrases, which the key file still holds and a check must now leave out
    stock = seed_text("002")[item.doc.sentences[3].start:item.doc.sentences[3].end]
    for k in range(70):
        index_document(text_article(f"stock{k}.txt", f"{stock}\n\nBulletin {k}.\n"), store,
                       settings)
    assert store.db.execute("SELECT value FROM meta WHERE name = 'hot_version'").fetchone()
    assert "002_7e4fc252ac36b584.txt" not in voters()  # removed above; the counts agree
    # a build that adds little writes a new key file once many documents came one by one
    from newsdiff import store_sqlite

    monkeypatch.setattr(store_sqlite, "KEYFILE_REFRESH_MIN", 50)
    assert store.stats()["key_file_entries"] != store.db.execute(sentence_entries).fetchone()[0]
    store.bulk(False)  # what every build ends with
    assert store.stats()["key_file_entries"] == store.db.execute(sentence_entries).fetchone()[0]
    assert raw.id in voters()
    for k in range(8):  # more new files than indexed ones: a bulk build, a new key file
        (corpus / f"extra{k}.txt").write_text(
            seed_text(f"00{k % 5}").replace(" the ", f" the {k} ", 3), encoding="utf-8")
    build_index(corpus, store, settings)  # 002 indexed again, the reprint (not in the
    # corpus folder) removed
    assert store.stats()["key_file_entries"] == store.db.execute(sentence_entries).fetchone()[0]
    found = voters()
    assert "002_7e4fc252ac36b584.txt" in found and raw.id not in found
    assert store.verify() == []
    # a key file other than the one listed (a build killed before listing it) is not used
    from newsdiff import keyfile

    listed = path.with_name("i.sqlite.keys")
    token = keyfile.read(listed).token
    store.db.execute("UPDATE meta SET value = json_set(value, '$.token', 'other') "
                     "WHERE name = 'keyfile'")
    assert "002_7e4fc252ac36b584.txt" in voters() and store.verify() == []
    store.db.execute("UPDATE meta SET value = json_set(value, '$.token', ?) "
                     "WHERE name = 'keyfile'", (token,))
    listed.write_bytes(listed.read_bytes()[:-4])  # damaged: counted in SQLite, reported
    store.close()
    store = open_store(f"sqlite:///{path}")
    assert "002_7e4fc252ac36b584.txt" in voters()
    assert store.verify() == [f"{listed}: damaged key file: truncated key file "
                              "(`newsdiff index build` writes a new one)"]
    build_index(tmp_path / "corpus", store, Settings())  # nothing to index: a new key file
    assert store.verify() == [] and store.stats()["key_file_entries"] > 0
    store.close()


def test_the_key_file_names_documents_and_serves_their_band_entries(tmp_path: Path) -> None:
    """The key file keeps each document's id by rowid and the document-band entries, so a
    check finds its duplicate candidates and names them without a seek into SQLite's
    tables; documents added or removed after it are accounted for. A key file of another
    layout is not used, `index verify` says so, and the next build writes a new one."""
    from newsdiff import keyfile
    from newsdiff.index import _learned_repeats, ensure_compatible, index_document, sketch
    from newsdiff.precheck import read_new_article
    from newsdiff.store import rank_votes

    names = [(7, "b.txt"), (2, "dépêche-ü.txt"), (40, "a/c.html")]
    empty = np.zeros(0, dtype=np.int64)
    keyfile.write(tmp_path / "k", "t", 40, 3, (empty, empty, empty), (empty, empty), names)
    found = keyfile.read(tmp_path / "k")
    assert found.names([40, 2, 3, 99, 7]) == {2: "dépêche-ü.txt", 7: "b.txt", 40: "a/c.html"}
    assert found.names([]) == {} and found.names([1]) == {}

    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    path = tmp_path / "i.sqlite"
    store = open_store(f"sqlite:///{path}", create=True)
    settings = Settings()
    build_index(corpus, store, settings)
    bands = ensure_compatible(store, settings)
    listed = path.with_name("i.sqlite.keys")
    kf = keyfile.read(listed)
    assert kf.names(range(1, 9)) == dict(store.db.execute("SELECT rowid, id FROM docs"))
    in_sql = ("SELECT b.key, d.id, b.sent FROM buckets b JOIN docs d ON d.rowid = b.doc "
              "WHERE b.sent < 0 ORDER BY b.key, d.id")
    assert store.stats()["key_file_band_entries"] == len(store.db.execute(in_sql).fetchall())

    def bands_of(name: str) -> list[int]:
        raw = read_new_article(str(corpus / name) if (corpus / name).exists() else name,
                               settings)
        (item,) = analyze([raw], settings, repeats=_learned_repeats(store, raw))
        return [k for k, s in sketch(item, settings, bands, for_storage=False).buckets
                if s < 0]

    def agree(keys: list[int]) -> set[str]:
        expected = [e for e in store.db.execute(in_sql).fetchall() if e[0] in set(keys)]
        assert sorted(store.lookup(keys, bands_only=True)) == expected
        return {doc for _, doc, _ in expected}

    seed = sorted(corpus.glob("002*"))[0].name
    assert seed in agree(bands_of(seed))
    reprint = tmp_path / "reprint.txt"  # written after the key file: found in SQLite
    reprint.write_text(seed_text("002").replace("70-minute", "90-minute"), encoding="utf-8")
    added = read_new_article(str(reprint), settings)
    index_document(added, store, settings)
    assert {seed, added.id} <= agree(bands_of(str(reprint)))
    store.remove(seed)  # in the key file, and removed: no longer found
    assert seed not in agree(bands_of(str(reprint)))

    # a key file of another layout (the second: no document bands) is not used
    raw = read_new_article(str(DATA / "new_article.txt"), settings)
    (item,) = analyze([raw], settings, repeats=_learned_repeats(store, raw))
    queries = [(k, s) for k, s in sketch(item, settings, bands, for_storage=False).buckets
               if s >= 0]
    votes = store.sentence_votes(queries, 10, 2)
    assert votes and votes == rank_votes(store.lookup([k for k, _ in queries], skip_hot=True),
                                         queries, 10, 2)
    listed.write_bytes(b"NDK2" + listed.read_bytes()[4:])
    store.close()
    store = open_store(f"sqlite:///{path}")
    assert store.stats()["key_file_entries"] == 0  # not used ...
    assert store.sentence_votes(queries, 10, 2) == votes  # ... counted in SQLite instead
    assert store.verify() == [f"{listed}: damaged key file: not a newsdiff key file of this "
                              "version (`newsdiff index build` writes a new one)"]
    build_index(corpus, store, settings)  # 002 back, the reprint gone, and a new key file
    assert store.verify() == [] and store.stats()["key_file_entries"] > 0
    assert keyfile.read(listed).token != kf.token
    votes = store.sentence_votes(queries, 10, 2)
    assert seed in {doc for doc, *_ in votes} and votes == rank_votes(
        store.lookup([k for k, _ in queries], skip_hot=True), queries, 10, 2)
    store.close()


def test_pre_commit_hook_is_declared() -> None:
    import yaml

    hooks = yaml.safe_load((Path(__file__).parent.parent / ".pre-commit-hooks.yaml")
                           .read_text(encoding="utf-8"))
    (hook,) = [h for h in hooks if h["id"] == "newsdiff-check"]
    assert hook["entry"].startswith("newsdiff check")
    assert hook["language"] == "python"


def _mapped_kb(path: Path) -> tuple[int, int]:
    """(size, resident) in kB of this process's mapping of `path` (from /proc/self/smaps)."""
    size = rss = 0
    inside = False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and len(fields) >= 5 and ":" in fields[3]:
            inside = len(fields) >= 6 and fields[5] == str(path)
        elif inside and fields[0] == "Size:":
            size += int(fields[1])
        elif inside and fields[0] == "Rss:":
            rss += int(fields[1])
    return size, rss


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs Linux's smaps")
def test_a_process_making_several_checks_maps_in_the_whole_key_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`KeyFile.map_in` makes every page of the key file resident in the mapping (a check's
    searches then take no page faults); a store starts it in a thread at its second
    check, not its first (a single `newsdiff check` does not pay for it)."""
    import threading

    from newsdiff import keyfile
    from newsdiff.index import check_article, ensure_compatible
    from newsdiff.precheck import read_new_article

    keys = np.arange(0, 3_000_000, 15, dtype=np.int64)  # 200,000 rows: 3.2 MB
    zeros = np.zeros(len(keys), dtype=np.int32)
    keyfile.write(tmp_path / "k", "t", 1, 1, (keys, zeros, zeros), (keys[:0], zeros[:0]), [])
    kf = keyfile.read(tmp_path / "k")
    size, before = _mapped_kb(tmp_path / "k")
    assert size >= 3000 and before < size / 4
    kf.map_in()
    assert _mapped_kb(tmp_path / "k") == (size, size)

    calls: list[str] = []
    real_map_in = keyfile.KeyFile.map_in

    def map_in(self: keyfile.KeyFile) -> None:
        calls.append(threading.current_thread().name)
        real_map_in(self)

    monkeypatch.setattr(keyfile.KeyFile, "map_in", map_in)
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    path = tmp_path / "i.sqlite"
    build_index(corpus, open_store(f"sqlite:///{path}", create=True), Settings())
    store = open_store(f"sqlite:///{path}")
    settings = Settings()
    bands = ensure_compatible(store, settings)
    raw = read_new_article(str(sorted(SEEDS.glob("*.txt"))[0]), settings)
    check_article(raw, store, settings, bands)
    assert calls == []
    for _ in range(2):
        check_article(raw, store, settings, bands)
        for thread in threading.enumerate():
            if thread.name == "newsdiff-map-in":
                thread.join(30)
        assert calls == ["newsdiff-map-in"]  # once, beside the checks
    store.close()


def test_the_key_file_finds_every_key_where_a_search_of_the_whole_column_does(
        tmp_path: Path) -> None:
    """`Table.find` searches only the block after a key's sampled key; its first rows and
    counts are those of a binary search of the whole sorted column, for the keys the seed
    index holds, for keys between and beyond them, and for runs that cross blocks."""
    from newsdiff import keyfile

    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    path = tmp_path / "i.sqlite"
    build_index(corpus, open_store(f"sqlite:///{path}", create=True), Settings())
    table = keyfile.read(path.with_name("i.sqlite.keys")).sentences
    column = table.rows["key"]
    assert len(column) > 4 * keyfile.SAMPLE  # several blocks
    # runs of 1 to 9 rows, so that some cross the sampled keys' block edges
    runs = np.random.default_rng(3).integers(1, 10, len(column))
    long_keys = np.repeat(column, runs)
    keyfile.write(tmp_path / "k", "t", 1, 1, (long_keys, np.zeros_like(long_keys, np.int32),
                                              np.zeros_like(long_keys, np.int32)),
                  (column[:0], np.zeros(0, np.int32)), [])
    long_table = keyfile.read(tmp_path / "k").sentences
    extremes = np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max], dtype=np.int64)
    for t in (table, long_table):
        col = t.rows["key"]
        for keys in (col, col - 1, col + 1, t.sample, extremes):
            keys = np.sort(keys)
            first, count = t.find(keys)
            assert first.tolist() == np.searchsorted(col, keys, side="left").tolist()
            assert count.tolist() == (np.searchsorted(col, keys, side="right")
                                      - np.searchsorted(col, keys, side="left")).tolist()


def test_a_helper_finds_the_new_facts_of_a_check_as_the_check_would(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From a process's second check on, a forked helper finds the new article's facts while
    the index is searched: the results are those of a check without it, the check's own
    process finds none of the new article's facts (and tests fewer indexed sentences), and
    when the helper dies the check finds them itself."""
    from newsdiff import divergence, index, workers
    from newsdiff.index import check_article, ensure_compatible
    from newsdiff.precheck import read_new_article

    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    store = open_store(f"sqlite:///{tmp_path / 'i.sqlite'}", create=True)
    build_index(corpus, store, Settings())
    bands = ensure_compatible(store, Settings())
    reprint = tmp_path / "reprint.txt"
    reprint.write_text(seed_text("002").replace("70-minute", "90-minute"), encoding="utf-8")
    raws = [read_new_article(str(p), Settings()) for p in (reprint, DATA / "new_article.txt")]

    def outcome(settings: Settings) -> list[tuple]:
        got = [check_article(raw, store, settings, bands) for raw in raws]
        return [(r.verdict, r.duplicates, r.repeats, r.new, r.divergences) for r in got]

    expected = outcome(Settings(workers=1))
    assert any(divergences for *_, divergences in expected)
    new_docs = [check_article(raw, store, Settings(workers=1), bands).document
                for raw in raws]
    new_texts = {doc.text for doc in new_docs}
    stored = {s.text for rec in store.get(sorted(store.documents()))
              for s in record_document(rec).sentences}
    new_sentences = {s.text for doc in new_docs for s in doc.sentences} - stored
    found = index.sentence_facts(new_docs[1].text, [
        (s.start, s.end) for s in new_docs[1].sentences], new_docs[1].published)
    assert [h for _, h in found] == [divergence.may_hold_outside_facts(s.text)
                                     for s in new_docs[1].sentences]
    assert {True, False} <= {h for _, h in found}

    monkeypatch.setattr(index, "_checks_made", 1)  # not this process's first check
    helper = workers.helper()
    assert helper is not None
    # What this process finds facts in, and asks `may_hold_outside_facts` about (the
    # helper was forked before these patches, which it does not see).
    texts_here: list[str] = []
    asked_here: list[str] = []
    real, holds = divergence.extract_facts, divergence.may_hold_outside_facts
    for module in (divergence, index):
        monkeypatch.setattr(module, "extract_facts",
                            lambda text, *a: texts_here.append(text) or real(text, *a))
        monkeypatch.setattr(module, "may_hold_outside_facts",
                            lambda text: asked_here.append(text) or holds(text))
    assert outcome(Settings(workers=1)) == expected  # without a helper: found here
    assert new_texts & set(texts_here) and asked_here
    asked_alone = list(asked_here)
    texts_here.clear()
    asked_here.clear()
    assert outcome(Settings(workers=2)) == expected
    assert not new_texts & set(texts_here)
    assert not new_sentences & set(asked_here)
    # a match whose new side the helper found to hold a number, say, needs no test of the
    # indexed side
    assert len(asked_here) < len(asked_alone)
    assert workers.helper() is helper and not helper.broken
    with pytest.raises(ValueError):
        helper.call(int, "seventy")()  # what the call raised, raised here
    dropped = helper.call(int, "1")  # a result not asked for is read before the next call's
    assert helper.call(int, "2")() == 2
    assert dropped() == 1  # ... and made here when asked for after all
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # another thread's calls are made in that thread
        assert pool.submit(lambda: helper.call(os.getpid)()).result() == os.getpid()
    assert helper.call(os.getpid)() == helper._proc.pid
    with workers.background(workers.helper, (), 2) as in_daemon:  # may not fork: none
        assert in_daemon() is None
    os.kill(helper._proc.pid, signal.SIGKILL)
    helper._proc.join()
    texts_here.clear()
    asked_here.clear()
    assert outcome(Settings(workers=2)) == expected
    assert helper.broken and new_texts <= set(texts_here)
    assert new_sentences & set(asked_here)
