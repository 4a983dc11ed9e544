"""`newsdiff check` and `newsdiff add`: the pre-check before an article joins a corpus,
its JSON (``newsdiff.check/1``) and text forms, and the atomic add."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .compare import newsdiff_version
from .config import Settings
from .corpus import (
    ARTICLE_SUFFIXES,
    MANIFEST_NAME,
    RawArticle,
    decode,
    discover,
    display_name,
    load_manifest,
    open_regular,
    read_article,
)
from .errors import InputError, NewsdiffError, printable
from .index import (
    CheckResult,
    build_index,
    check_article,
    ensure_compatible,
    index_document,
)
from .model import CHECK_SCHEMA, Span, dumps, to_jsonable
from .store import IndexStore
from .store_redis import redact_url

FAIL_ON = ("duplicate", "overlap", "divergence")
STDIN = "-"


def read_new_article(name: str, settings: Settings, options: dict[str, str] | None = None,
                     stdin: bytes | None = None) -> RawArticle:
    """A new article from a file, or from standard input when `name` is "-".

    Raises:
        InputError: unreadable, empty, binary or undecodable input.
    """
    max_bytes = int(settings.max_file_mb * 1024 * 1024)
    if name == STDIN:
        data = stdin if stdin is not None else sys.stdin.buffer.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise InputError("<stdin>", f"input too large (over {max_bytes:,} bytes)")
        text, encoding = decode(data, "<stdin>")
        if not text.strip():
            raise InputError("<stdin>", "empty article (no text)")
        meta = {k: v for k, v in (options or {}).items() if v}
        if meta.get("published"):
            from .corpus import normalize_date

            meta["published"] = normalize_date(meta["published"], "<stdin>")
        return RawArticle("<stdin>", "<stdin>", text, "txt", encoding,
                          hashlib.sha256(data).hexdigest(), meta)
    path = Path(name)
    if path.is_dir():
        raise InputError(display_name(name), "is a folder; give article files to check")
    return read_article(path, display_name(name), max_bytes, load_manifest(path.parent),
                        options)


def failures(result: CheckResult, fail_on: Sequence[str]) -> list[str]:
    """Which of the `fail_on` conditions this result meets."""
    met = {"duplicate": result.verdict == "duplicate",
           "overlap": result.verdict in ("duplicate", "overlap") and bool(result.repeats),
           "divergence": bool(result.divergences)}
    return [name for name in fail_on if met[name]]


def _span(span: Span) -> dict[str, Any]:
    return to_jsonable(span)


def _doc_ref(result: CheckResult, doc_id: str) -> dict[str, Any]:
    doc = result.corpus_docs[doc_id]
    return {"doc": doc_id, "title": doc.title, "source": doc.source,
            "published": doc.published}


def result_dict(result: CheckResult, fail_on: Sequence[str]) -> dict[str, Any]:
    """One checked article as plain JSON values."""
    doc = result.document
    return {
        "file": doc.path,
        "id": doc.id,
        "sha256": doc.sha256,
        "verdict": result.verdict,
        "fails": failures(result, fail_on),
        "sentences": len(doc.sentences),
        "duplicates": [{**_doc_ref(result, d.a), "jaccard": d.jaccard,
                        "containment": d.containment, "kind": d.kind}
                       for d in result.duplicates],
        "repeated": [{"sentence": _span(r.sentence),
                      "earliest": _doc_ref(result, r.matches[0].a.doc),
                      "matches": [{**_doc_ref(result, m.a.doc), "passage": _span(m.a),
                                   "new_passage": _span(m.b), "score": m.score,
                                   "kind": m.kind} for m in r.matches]}
                     for r in result.repeats],
        "new": [_span(s) for s in result.new],
        "divergences": [to_jsonable(v) for v in result.divergences],
    }


def check_json(results: Sequence[CheckResult], fail_on: Sequence[str], index_url: str) -> str:
    """The ``newsdiff.check/1`` document for a check run."""
    body = {"schema": CHECK_SCHEMA, "version": newsdiff_version(), "index": redact_url(index_url),
            "fail_on": list(fail_on), "results": [result_dict(r, fail_on) for r in results]}
    return dumps(body)


def _short(text: str, limit: int = 110) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_text(results: Sequence[CheckResult], fail_on: Sequence[str]) -> str:
    """A human summary of a check run."""
    lines = []
    for r in results:
        doc = r.document
        n = len(doc.sentences)
        lines.append(f"{doc.path}: {r.verdict.upper()} — {len(r.repeats)} of {n} statements "
                     f"repeated, {len(r.new)} new, {len(r.divergences)} divergence(s)")
        for d in r.duplicates:
            ref = r.corpus_docs[d.a]
            lines.append(f"  {d.kind} of {d.a} ({ref.published or 'undated'}): Jaccard "
                         f"{d.jaccard:.2f}, containment {d.containment:.2f}")
        for rep in r.repeats[:20]:
            first = rep.matches[0]
            ref = r.corpus_docs[first.a.doc]
            more = f" (+{len(rep.matches) - 1} more)" if len(rep.matches) > 1 else ""
            lines.append(f"  repeats {first.a.doc} ({ref.published or 'undated'}, "
                         f"{first.kind}){more}: {_short(first.b.text)}")
        if len(r.repeats) > 20:
            lines.append(f"  … {len(r.repeats) - 20} more repeated statements")
        for v in r.divergences:
            lines.append(f"  diverges ({v.kind}): {v.explanation}")
        met = failures(r, fail_on)
        if met:
            lines.append(f"  fails on: {', '.join(met)}")
    # Article text and file names reach a terminal: no escape sequence gets through.
    return "\n".join(printable(line) for line in lines) + "\n"


def check_files(names: Sequence[str], store: IndexStore, settings: Settings,
                options: dict[str, str] | None = None) -> list[CheckResult]:
    """Check every named article (read all first, so a bad one stops the run early)."""
    bands = ensure_compatible(store, settings)
    raws = [read_new_article(name, settings, options) for name in names]
    return [check_article(raw, store, settings, bands) for raw in raws]


@contextlib.contextmanager
def corpus_lock(corpus: Path) -> Iterator[None]:
    """An exclusive lock on a corpus folder, so concurrent `add`s take turns."""
    lock_dir = corpus / ".newsdiff"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / "lock", "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


_TOML_UNSAFE = re.compile("[\x00-\x1f\x7f\"\\\\]")


def _toml_string(value: str) -> str:
    """A TOML basic string: quotes, backslashes and every control character escaped (TOML
    allows none of them raw, DEL included)."""
    return '"' + _TOML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", value) + '"'


def manifest_entry(name: str, meta: dict[str, str]) -> str:
    """A manifest table for one article (TOML)."""
    lines = [f"\n[articles.{_toml_string(name)}]"]
    for key in ("source", "published", "title"):
        value = meta.get(key)
        if value:
            lines.append(f"{key} = {value}" if key == "published"
                         else f"{key} = {_toml_string(value)}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class AddOutcome:
    """What `newsdiff add` did with one article."""

    result: CheckResult
    added: bool
    target: Path | None
    reason: str = ""


def add_articles(names: Sequence[str], corpus: Path, store: IndexStore, settings: Settings,
                 force: bool = False, options: dict[str, str] | None = None
                 ) -> list[AddOutcome]:
    """Check each article, refuse duplicates unless `force`, then copy it into `corpus`,
    record its metadata in the manifest and index it, as one step: when any part fails,
    the folder, the manifest and the index are left as they were.

    Raises:
        NewsdiffError: bad input, a name already in the corpus, or an index failure.
    """
    outcomes = []
    with corpus_lock(corpus):
        load_manifest(corpus)  # a manifest we cannot read is never appended to
        if store.read_meta() is None and discover([corpus]):
            _index_first(corpus, store, settings)
        bands = ensure_compatible(store, settings, create=True)
        for name in names:
            target_name = "stdin.txt" if name == STDIN else _target_name(name)
            raw = read_new_article(name, settings, options)
            target = corpus / target_name
            if target.exists() or target_name in store.documents():
                raise NewsdiffError(f"{target}: the corpus already has an article of that "
                                    "name; rename the new one")
            raw = RawArticle(target_name, str(target), raw.text, raw.format, raw.encoding,
                             raw.sha256, raw.meta, raw.front_matter_end)
            result = check_article(raw, store, settings, bands)
            if result.verdict == "duplicate" and not force:
                outcomes.append(AddOutcome(result, False, None,
                                           "near-duplicate (use --force to add it anyway)"))
                continue
            _add_one(name, raw, target, corpus, store, settings)
            outcomes.append(AddOutcome(result, True, target))
    return outcomes


def _index_first(corpus: Path, store: IndexStore, settings: Settings) -> None:
    """Index the articles already in a corpus before the first add, so the new article is
    checked against them (not against an empty index)."""
    try:
        build_index(corpus, store, settings)
    except InputError as exc:
        raise InputError(exc.path, f"{exc.problem} (found while indexing {corpus} before "
                                   "the first add; fix or remove the file, or run `newsdiff "
                                   "index build --skip-bad`)") from None


def _target_name(name: str) -> str:
    """The file name an added article gets in the corpus.

    Raises:
        InputError: a name the corpus could not hold as an article (other suffixes and
            hidden files are not read from a corpus folder; names that are not UTF-8 cannot
            be recorded in the manifest).
    """
    base = Path(name).name
    shown = display_name(name)
    if display_name(base) != base:
        raise InputError(shown, "file name is not valid UTF-8; rename the file first")
    if base.startswith(".") or Path(base).suffix.lower() not in ARTICLE_SUFFIXES:
        kinds = ", ".join(sorted(ARTICLE_SUFFIXES))
        raise InputError(shown, f"a corpus article must be a visible file named {kinds}; "
                                "rename the file first")
    return base


def _copy_checked(name: str, target: Path, sha256: str) -> None:
    """Copy the file that was checked; refuse when it changed since it was read."""
    digest = hashlib.sha256()
    with open_regular(Path(name)) as src, open(target, "wb") as dst:
        for block in iter(lambda: src.read(1 << 20), b""):
            digest.update(block)
            dst.write(block)
    if digest.hexdigest() != sha256:
        raise InputError(display_name(name), "changed while it was being added; try again")


def _add_one(name: str, raw: RawArticle, target: Path, corpus: Path, store: IndexStore,
             settings: Settings) -> None:
    manifest = corpus / MANIFEST_NAME
    old_manifest = manifest.read_bytes() if manifest.exists() else None
    tmp_target = target.with_name(f".{target.name}.adding")
    tmp_manifest = manifest.with_name(f".{MANIFEST_NAME}.adding")
    try:
        if name == STDIN:
            tmp_target.write_text(raw.text, encoding="utf-8")
        else:
            _copy_checked(name, tmp_target, raw.sha256)
        meta = {k: v for k, v in raw.meta.items() if k in ("source", "published", "title")}
        text = (old_manifest or b"").decode("utf-8") + manifest_entry(target.name, meta)
        tmp_manifest.write_text(text, encoding="utf-8")
        load_manifest_text_check(tmp_manifest)
        os.replace(tmp_target, target)
        os.replace(tmp_manifest, manifest)
        index_document(raw, store, settings)
    except BaseException:
        for leftover in (tmp_target, tmp_manifest):
            leftover.unlink(missing_ok=True)
        if target.exists() and not tmp_target.exists():
            target.unlink(missing_ok=True)
        if old_manifest is None:
            manifest.unlink(missing_ok=True)
        else:
            manifest.write_bytes(old_manifest)
        with contextlib.suppress(Exception):
            store.remove(raw.id)
        raise


def load_manifest_text_check(path: Path) -> None:
    """Parse a freshly written manifest once, so a broken one is never swapped in."""
    from .corpus import tomllib

    try:
        tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise NewsdiffError(f"{path}: the manifest would not be valid TOML: {exc}") from None
