"""Finding article files, decoding their bytes, and gathering their metadata.

Metadata precedence, highest first: options given on the command line, the sidecar
manifest (``manifest.toml`` in the article's folder), front matter, HTML metadata.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import re
import stat
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from .errors import InputError

MANIFEST_NAME = "manifest.toml"
OUTPUT_MARKER = ".newsdiff-output"  # output.MARKER: a report folder newsdiff wrote
MAX_META_CHARS = 1000  # titles and sources longer than this are not metadata
MAX_MANIFEST_BYTES = 10 * 1024 * 1024
# Publication dates outside these years are typing mistakes ("0216-11-07"), not news.
FIRST_YEAR, LAST_YEAR = 1600, 2200
ARTICLE_SUFFIXES = {".txt": "txt", ".md": "md", ".markdown": "md", ".html": "html",
                    ".htm": "html"}
META_KEYS = ("title", "source", "published")

# Signatures of common binary formats (checked before any decoding is attempted).
_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive",
    b"\x1f\x8b": "a gzip archive",
    b"GIF8": "a GIF image",
    b"\xff\xd8\xff": "a JPEG image",
    b"\x7fELF": "an executable",
}
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_FRONT_MATTER = re.compile(r"\A(?:\ufeff)?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_FILE_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"),
               (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"))


@dataclass(frozen=True)
class RawArticle:
    """An article's text as decoded, before any analysis."""

    id: str
    path: str
    text: str
    format: str
    encoding: str
    sha256: str
    meta: dict[str, str] = field(default_factory=dict)
    front_matter_end: int = 0  # the text before this offset is front matter


def discover(paths: Iterable[str | os.PathLike[str]]) -> list[tuple[Path, str]]:
    """Expand files and folders into (path, id) pairs, sorted by id.

    Folders are walked recursively; hidden entries, the manifest and files with other
    suffixes are skipped. Ids are paths relative to the folder given (or the file name),
    prefixed with the folder's name when several inputs are given and two would collide.

    Raises:
        InputError: a path does not exist or cannot be listed.
    """
    found: list[tuple[Path, str]] = []
    for raw in paths:
        root = Path(raw)
        try:
            st = root.stat()
        except FileNotFoundError:
            problem = "no such file or folder"
            if root.is_symlink():
                problem = f"broken symbolic link (to {display_name(os.readlink(root))})"
            raise InputError(display_name(str(raw)), problem) from None
        except OSError as exc:
            problem = ("symbolic link loop" if exc.errno == errno.ELOOP
                       else f"cannot access: {exc.strerror or exc}")
            raise InputError(display_name(str(raw)), problem) from None
        if stat.S_ISDIR(st.st_mode):
            for path in _walk(root):
                found.append((path, display_name(path.relative_to(root).as_posix())))
        else:
            found.append((root, display_name(root.name)))
    ids = [i for _, i in found]
    if len(set(ids)) != len(ids):
        # Collisions between inputs: fall back to paths relative to their common folder.
        resolved = [p.resolve() for p, _ in found]
        common = Path(os.path.commonpath([str(p.parent) for p in resolved]))
        found = [(p, display_name(r.relative_to(common).as_posix()))
                 for (p, _), r in zip(found, resolved, strict=True)]
        seen: set[str] = set()
        unique = []
        for p, i in found:
            if i not in seen:  # the same file named twice is read once
                seen.add(i)
                unique.append((p, i))
        found = unique
    return sorted(found, key=lambda pair: pair[1])


def _walk(root: Path) -> Iterator[Path]:
    def onerror(exc: OSError) -> None:
        raise InputError(str(exc.filename or root), f"cannot list folder: {exc.strerror}")

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror, followlinks=False):
        # Hidden folders, and report folders newsdiff wrote (a report kept inside the
        # corpus must not be read back as articles on the next run).
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                             and not os.path.lexists(os.path.join(dirpath, d, OUTPUT_MARKER)))
        for name in sorted(filenames):
            if name.startswith(".") or name == MANIFEST_NAME:
                continue
            if Path(name).suffix.lower() in ARTICLE_SUFFIXES:
                yield Path(dirpath) / name


def display_name(name: str) -> str:
    """A file name as text that can be written as UTF-8: bytes that are not UTF-8 (which
    os.fsdecode keeps as lone surrogates) become backslash escapes ("caf\\xe9.txt")."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def open_regular(path: Path) -> BinaryIO:
    """Open a regular file for reading, refusing named pipes, devices and sockets before
    a read could block or never end.

    Raises:
        OSError: the file cannot be opened or is not a regular file (EINVAL, with the kind
            of file in `strerror`).
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((what for test, what in _FILE_KINDS if test(mode)), "a special file")
            raise OSError(errno.EINVAL, f"{kind}, not a regular file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_problem(path: Path, exc: OSError) -> str:
    """What went wrong opening or reading an article file, in a few words."""
    if isinstance(exc, FileNotFoundError):
        if path.is_symlink():
            return f"broken symbolic link (to {display_name(os.readlink(path))})"
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    return f"cannot read: {exc.strerror or exc}"


def decode(data: bytes, path: str) -> tuple[str, str]:
    """Decode article bytes; return (text, encoding name).

    UTF-8 (with or without BOM) and UTF-16 with a BOM are taken as they are; anything else
    is handed to charset-normalizer. Binary data and bytes that are mostly UTF-8 but broken
    are refused rather than turned into mojibake.

    Raises:
        InputError: empty, binary or undecodable data.
    """
    if not data:
        raise InputError(path, "empty file")
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data[3:], "utf-8", path), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = "utf-16-le" if data.startswith(b"\xff\xfe") else "utf-16-be"
        return _strict(data[2:], codec, path), "utf-16"
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise InputError(path, f"binary file ({what}), not text")
    if b"\x00" in data:
        utf16 = _utf16_without_bom(data)
        if utf16 is not None:
            return utf16
        raise InputError(path, f"binary file (NUL byte at offset {data.index(0)}), not text")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        # Mostly well-formed UTF-8 with a few broken bytes is damage, not another encoding.
        n_valid = len(_UTF8_MULTIBYTE.findall(data))
        n_bad = data.decode("utf-8", "replace").count("\ufffd")
        if n_valid > n_bad:
            raise InputError(path, f"invalid UTF-8 at byte {exc.start}") from None
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.chaos > 0.3:
        raise InputError(path, "cannot determine the text encoding")
    return str(best), best.encoding


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """(text, codec) when `data` reads as UTF-16 without a byte-order mark: NUL in every
    other byte of mostly-Latin text (Windows "Unicode" text saved without a BOM)."""
    if len(data) < 4 or len(data) % 2:
        return None
    half = len(data) // 2
    for codec, zeros, other in (("utf-16-le", data[1::2], data[0::2]),
                                ("utf-16-be", data[0::2], data[1::2])):
        if zeros.count(0) >= 0.6 * half and other.count(0) == 0:
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                return None
            if all(c.isprintable() or c in "\n\r\t" for c in text):
                return text, codec
    return None


def _strict(data: bytes, codec: str, path: str) -> str:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise InputError(path, f"invalid {codec.upper()} at byte {exc.start}") from None
    if "\x00" in text:
        raise InputError(path, "binary file (NUL character in text), not text")
    return text


def read_article(path: Path, doc_id: str, max_bytes: int,
                 manifest: dict[str, dict[str, str]] | None = None,
                 options: dict[str, str] | None = None) -> RawArticle:
    """Read, decode and extract one article with its metadata.

    Raises:
        InputError: the file cannot be read, is too large, empty, binary or undecodable.
    """
    label = display_name(str(path))
    try:
        with open_regular(path) as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                # Refused before reading, so a huge file costs no memory.
                raise InputError(label, f"file too large ({size:,} bytes; the limit is "
                                        f"{max_bytes:,}, see max_file_mb)")
            data = handle.read(max_bytes + 1)
    except InputError:
        raise
    except OSError as exc:
        raise InputError(label, read_problem(path, exc)) from None
    if len(data) > max_bytes:
        raise InputError(label, f"file too large (over {max_bytes:,} bytes, see max_file_mb)")
    text, encoding = decode(data, label)
    fmt = ARTICLE_SUFFIXES.get(path.suffix.lower(), "txt")
    meta: dict[str, str] = {}
    front_end = 0
    if fmt == "html":
        text, meta = extract_html(text, label)
    else:
        front_end, meta = front_matter(text, label)
    if not text[front_end:].strip():
        raise InputError(label, "empty article (no text" +
                         (" after HTML extraction)" if fmt == "html" else ")"))
    for source in (manifest or {}).get(doc_id.rsplit("/", 1)[-1], {}), options or {}:
        meta.update({k: v for k, v in source.items() if v})
    if meta.get("published"):
        meta["published"] = normalize_date(meta["published"], label)
    return RawArticle(
        id=doc_id,
        path=label,
        text=text,
        format=fmt,
        encoding=encoding,
        sha256=hashlib.sha256(data).hexdigest(),
        meta=meta,
        front_matter_end=front_end,
    )


def text_article(doc_id: str, text: str, published: str | None = None,
                 **meta: str) -> RawArticle:
    """An article from text in memory (for the Python API, evaluations and tests)."""
    values = {k: v for k, v in meta.items() if v}
    if published:
        values["published"] = normalize_date(published, doc_id)
    return RawArticle(id=doc_id, path=doc_id, text=text, format="txt", encoding="utf-8",
                      sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), meta=values)


def extract_html(html: str, label: str) -> tuple[str, dict[str, str]]:
    """Main text and metadata of an HTML page (trafilatura); paragraphs split by blank lines."""
    import trafilatura

    try:
        result = trafilatura.bare_extraction(
            html, with_metadata=True, include_comments=False, include_tables=False,
            include_images=False, include_links=False,
        )
    except Exception as exc:  # trafilatura raises assorted lxml errors on broken markup
        raise InputError(label, f"cannot extract text from HTML: {exc}") from None
    if result is None:
        raise InputError(label, "no article text found in HTML")
    data = result.as_dict() if hasattr(result, "as_dict") else dict(result)
    lines = [line.strip() for line in (data.get("text") or "").splitlines()]
    text = "\n\n".join(line for line in lines if line)
    meta = {}
    for ours, theirs in (("title", "title"), ("published", "date"), ("source", "sitename")):
        value = data.get(theirs)
        if isinstance(value, str) and value.strip():
            # A page's own metadata is taken as far as it is plausible, not refused.
            meta[ours] = _CONTROL.sub(" ", value.strip())[:MAX_META_CHARS]
    return text + "\n" if text else "", meta


def front_matter(text: str, label: str) -> tuple[int, dict[str, str]]:
    """(end offset, metadata) of YAML front matter at the top of a Markdown or text file."""
    found = _FRONT_MATTER.match(text)
    if not found:
        return 0, {}
    import yaml

    try:
        data = yaml.safe_load(found.group(1))
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0]
        raise InputError(label, f"invalid front matter: {first}") from None
    if not isinstance(data, dict):
        return 0, {}
    meta = {}
    aliases = {"title": "title", "source": "source", "publisher": "source",
               "published": "published", "date": "published"}
    for key, value in data.items():
        ours = aliases.get(str(key).lower())
        if not ours or value is None or ours in meta:
            continue
        # Only plain values: a list or mapping here is not a title, and turning one made
        # of YAML aliases into text could take exponential time and memory.
        if isinstance(value, bool) or not isinstance(value, (str, int, float, dt.date)):
            raise InputError(label, f"front matter {key}: must be a single value, not "
                                    f"{type(value).__name__}")
        text = value.isoformat() if isinstance(value, dt.date) else str(value)
        meta[ours] = text if ours == "published" else meta_text(text, label,
                                                                f"front matter {key}")
    return found.end(), meta


def meta_text(value: str, label: str, what: str) -> str:
    """A title or source checked for plausibility: one line of at most MAX_META_CHARS.

    Raises:
        InputError: too long, or holding control characters.
    """
    if len(value) > MAX_META_CHARS:
        raise InputError(label, f"{what}: longer than {MAX_META_CHARS} characters")
    if _CONTROL.search(value):
        raise InputError(label, f"{what}: holds control characters")
    return value


def normalize_date(value: Any, label: str) -> str:
    """An ISO date (YYYY-MM-DD) from a date, a datetime, or text naming an absolute date
    ("2016-11-19", "2016-11-19T10:00:00Z", "19 Nov 2016"; never "yesterday", which would
    make the result depend on the day it runs).

    Raises:
        InputError: not a date, or a year outside FIRST_YEAR..LAST_YEAR.
    """
    if isinstance(value, dt.datetime):
        date = value.date()
    elif isinstance(value, dt.date):
        date = value
    else:
        text = str(value).strip()
        shown = text if len(text) <= 60 else text[:57] + "..."
        date = _parse_date(text) if len(text) <= 100 else None
        if date is None:
            raise InputError(label, f"cannot read the publication date {shown!r}")
    if not FIRST_YEAR <= date.year <= LAST_YEAR:
        raise InputError(label, f"publication date {date.isoformat()} is not plausible (the "
                                f"year must be from {FIRST_YEAR} to {LAST_YEAR})")
    return date.isoformat()


def _parse_date(text: str) -> dt.date | None:
    for parse in (dt.date.fromisoformat, dt.datetime.fromisoformat):
        try:
            found = parse(text)
        except ValueError:
            continue
        return found.date() if isinstance(found, dt.datetime) else found
    import dateparser

    parsed = dateparser.parse(text, settings={"STRICT_PARSING": True,
                                              "REQUIRE_PARTS": ["day", "month", "year"],
                                              "PARSERS": ["custom-formats", "absolute-time"]})
    return parsed.date() if parsed is not None else None


def load_manifest(folder: Path) -> dict[str, dict[str, str]]:
    """Metadata per file name from ``manifest.toml`` in `folder` ({} when there is none).

    The manifest is a TOML file with one table per article::

        [articles."000_2cca2ade25163128.txt"]
        source = "Kyodo"
        published = 2016-11-07
        title = "..."

    Raises:
        InputError: the manifest is not valid TOML or holds values of the wrong kind.
    """
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return {}
    label = display_name(str(path))
    try:
        with open_regular(path) as handle:
            raw = handle.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise InputError(label, f"cannot read manifest: {exc.strerror or exc}") from None
    if len(raw) > MAX_MANIFEST_BYTES:
        raise InputError(label, f"manifest larger than {MAX_MANIFEST_BYTES:,} bytes")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(label, f"manifest is not UTF-8 (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(label, f"invalid TOML: {exc}") from None
    path = Path(label)
    articles = data.get("articles", {})
    if not isinstance(articles, dict):
        raise InputError(str(path), "[articles] must be a table of tables")
    out: dict[str, dict[str, str]] = {}
    for name, entry in articles.items():
        if not isinstance(entry, dict):
            raise InputError(str(path), f"articles.{name!r} must be a table")
        meta: dict[str, str] = {}
        for key, value in entry.items():
            if key not in META_KEYS and key != "note":
                raise InputError(str(path), f"articles.{name!r}: unknown key {key!r}")
            if key == "published":
                if not isinstance(value, (dt.date, str)):
                    raise InputError(str(path), f"articles.{name!r}: published must be a date")
                meta[key] = normalize_date(value, str(path))
            elif key in META_KEYS:
                if not isinstance(value, str):
                    raise InputError(str(path), f"articles.{name!r}: {key} must be a string "
                                                f"of at most {MAX_META_CHARS} characters")
                meta[key] = meta_text(value, str(path), f"articles.{name!r}: {key}")
        out[name] = meta
    return out


def read_corpus(paths: Iterable[str | os.PathLike[str]], max_bytes: int,
                options: dict[str, str] | None = None,
                skip_bad: bool = False) -> tuple[list[RawArticle], list[str]]:
    """Read every article under `paths`; return (articles, problems skipped).

    Raises:
        InputError: a bad file (unless `skip_bad`), or no article at all.
    """
    paths = list(paths)
    found = discover(paths)
    manifests: dict[Path, dict[str, dict[str, str]]] = {}
    articles: list[RawArticle] = []
    problems: list[str] = []
    for path, doc_id in found:
        folder = path.parent
        if folder not in manifests:
            manifests[folder] = load_manifest(folder)
        try:
            articles.append(read_article(path, doc_id, max_bytes, manifests[folder], options))
        except InputError as exc:
            if not skip_bad:
                raise
            problems.append(str(exc))
    if not articles:
        where = ", ".join(str(p) for p in paths) or "(no path)"
        # The skipped files are never listed when the run stops here: name the first.
        detail = (f" ({len(problems)} skipped as bad, the first {problems[0]})" if problems
                  else "")
        raise InputError(where, f"no articles found (.txt, .md or .html){detail}")
    return articles, problems
