"""The command line: each command parses options, calls one library function, prints."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from . import model
from .compare import compare
from .config import load_settings
from .errors import EXIT_FAIL, EXIT_USAGE, NewsdiffError, printable
from .output import check_output_folder, copy_atomic, folder_atomic, write_file


class UserError(click.ClickException):
    """A NewsdiffError on its way to the terminal: one line on stderr, its exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class NewsdiffGroup(click.Group):
    """Turns every NewsdiffError raised by a command into a one-line error."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsdiffError as exc:
            raise UserError(str(exc), exc.exit_code) from None


def _progress(quiet: bool):  # type: ignore[no-untyped-def]
    """A progress callback that draws on stderr when it is a terminal."""
    if quiet or not sys.stderr.isatty():
        return None
    state: dict[str, Any] = {}

    def report(stage: str, done: int, total: int) -> None:
        if total < 2000:
            return
        click.echo(f"\r{stage}: {done:,}/{total:,}", nl=done >= total, err=True)
        state[stage] = done

    return report


def settings_options(func):  # type: ignore[no-untyped-def]
    """Options shared by the commands that analyse text."""
    decorators = [
        click.option("--config", type=click.Path(dir_okay=False, path_type=Path),
                     help="Settings file (default: ./newsdiff.toml or [tool.newsdiff] in "
                          "./pyproject.toml)."),
        click.option("--shingle-size", type=int, help="Words per document shingle."),
        click.option("--num-perm", type=int, help="MinHash permutations."),
        click.option("--dup-jaccard", type=float,
                     help="Jaccard at or above which two articles are near-duplicates."),
        click.option("--dup-containment", type=float,
                     help="Containment at or above which an article is a (truncated) copy."),
        click.option("--match-min-words", type=int,
                     help="Equal words a recurring passage must share."),
        click.option("--workers", type=int,
                     help="Processes for the heavy stages (0: one per core, at most 2; 1: "
                          "none, and the least memory)."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _settings(config: Path | None, **options: Any):  # type: ignore[no-untyped-def]
    return load_settings(config=config, overrides=options)


@click.group(cls=NewsdiffGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(None, "--version", package_name="newsdiff", prog_name="newsdiff")
def cli() -> None:
    """Compare news articles: near-duplicates, recurring statements, how they evolved, and
    where they diverge."""


@cli.command("compare")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("reports"),
              show_default=True, help="Folder for the report and comparison.json.")
@click.option("--json", "json_path", type=click.Path(path_type=Path),
              help="Also write the comparison JSON to this file.")
@click.option("--skip-bad", is_flag=True,
              help="Report and skip unreadable files instead of stopping.")
@click.option("--title", help="Title for every article (overrides the manifest).")
@click.option("--source", help="Source for every article (overrides the manifest).")
@click.option("--published", help="Publication date for every article (YYYY-MM-DD).")
@click.option("-q", "--quiet", is_flag=True, help="No progress or summary.")
@settings_options
def compare_cmd(paths: tuple[Path, ...], out: Path, json_path: Path | None, skip_bad: bool,
                title: str | None, source: str | None, published: str | None, quiet: bool,
                config: Path | None, **options: Any) -> None:
    """Compare the articles in PATHS (files or folders of .txt, .md, .html).

    Writes OUT/comparison.json (schema newsdiff.comparison/1) and prints a summary.

    Example:

        newsdiff compare seeds/ --json out.json
    """
    settings = _settings(config, **options)
    check_output_folder(out)  # refuse a bad --out or --json before the work, not after
    if json_path is not None and json_path.is_dir():
        raise NewsdiffError(f"{json_path}: is a folder; give a file name")
    if json_path is not None and json_path.is_file():
        from .corpus import discover

        target = json_path.resolve()
        if any(p.resolve() == target for p, _ in discover(paths)):
            raise NewsdiffError(f"{json_path}: is one of the articles being compared; give "
                                "another file for --json")
    metadata = {k: v for k, v in (("title", title), ("source", source),
                                  ("published", published)) if v}
    result = compare(paths, settings=settings, skip_bad=skip_bad, metadata=metadata,
                     progress=_progress(quiet))
    index = write_report(result, out)
    if json_path is not None:  # a copy of the report's: its bytes are not kept meanwhile
        copy_atomic(out / "comparison.json", json_path)
    for warning in result.warnings:
        click.echo(f"skipped: {warning}", err=True)
    if not quiet:
        click.echo(summary(result))
        if json_path is not None:
            click.echo(f"wrote {json_path}")
    click.echo(f"report: {index}")


def write_report(result: model.Comparison, out: Path, json_text: str | bytes | None = None
                 ) -> Path:
    """Render the report and swap it into `out` with comparison.json; return index.html."""
    from .report import write_pages
    from .workers import background, cycles_paused, worker_count

    configured = result.settings.get("workers", 0)
    workers = worker_count(configured if isinstance(configured, int) else 0)
    # A process of its own writes the JSON (570 MB at 10,000 articles, 3 s) while this one
    # works out, alone, what the pages need (7-9 s): its bytes are never held here, nor
    # there all at once.
    with (folder_atomic(out) as folder, cycles_paused(),
          background(_write_json, (folder, result, json_text), workers) as json_written):
        pages = write_pages(folder, result, workers)
        json_written()
    return out / ("index.html" if "index.html" in pages else "comparison.json")


def _write_json(folder: Path, result: model.Comparison, json_text: str | bytes | None
                ) -> None:
    write_file(folder, "comparison.json",
               json_text if json_text is not None else model.json_chunks(result))


@cli.command("report")
@click.argument("comparison", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("reports"),
              show_default=True, help="Folder for the report.")
def report_cmd(comparison: Path, out: Path) -> None:
    """Re-render the HTML report from a saved comparison.json.

    Example:

        newsdiff report reports/comparison.json --out /tmp/report
    """
    try:
        text = comparison.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NewsdiffError(f"{comparison}: cannot read: {getattr(exc, 'strerror', exc)}"
                            ) from None
    try:
        result = model.loads(text)
    except (ValueError, KeyError, TypeError) as exc:
        raise NewsdiffError(f"{comparison}: not a newsdiff comparison: {exc}") from None
    click.echo(f"report: {write_report(result, out, text)}")


def summary(result: model.Comparison) -> str:
    """A few lines that say what a comparison found."""
    docs = len(result.documents)
    lines = [
        f"{docs} article{'s' * (docs != 1)}, "
        f"{len(result.duplicates)} near-duplicate pair(s) in {len(result.clusters)} "
        f"cluster(s), {len(result.matches)} recurring passage(s) in "
        f"{len(result.threads)} thread(s), {len(result.divergences)} divergence(s)"
    ]
    for thread in result.threads[:5]:
        span = (f"{thread.first_published[:4]}–{thread.last_published[:4]}"
                if thread.first_published and thread.last_published else "undated")
        n_docs = len({m.doc for m in thread.members})
        lines.append(f"  {thread.id}: {n_docs} articles, {span}: {thread.label}")
    return "\n".join(printable(line) for line in lines)  # labels are article text


def _store_url(corpus: Path | None, index: str | None) -> str:
    from .store import default_url

    if index:
        return index
    if corpus is None:
        raise click.UsageError("give --corpus DIR or --index URL")
    return default_url(corpus)


def _open(url: str, create: bool = False):  # type: ignore[no-untyped-def]
    from .store import open_store

    return open_store(url, create=create)


def index_options(func):  # type: ignore[no-untyped-def]
    """--corpus and --index, shared by check, add and the index commands."""
    func = click.option("--index", "index_url", metavar="URL",
                        help="Index URL: sqlite:///PATH or redis://HOST:PORT/DB[?prefix=NAME] "
                             "(default: CORPUS/.newsdiff/index.sqlite).")(func)
    return click.option("--corpus", type=click.Path(file_okay=False, path_type=Path),
                        help="The corpus folder the index belongs to.")(func)


def _fail_on(value: str) -> tuple[str, ...]:
    from .precheck import FAIL_ON

    names = tuple(v.strip() for v in value.split(",") if v.strip())
    bad = [n for n in names if n not in FAIL_ON]
    if bad:
        raise click.BadParameter(f"{bad[0]!r} is not one of {', '.join(FAIL_ON)}",
                                 param_hint="--fail-on")
    return names


@cli.command("check")
@click.argument("files", nargs=-1, required=True)
@index_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format (json: schema newsdiff.check/1).")
@click.option("--fail-on", default="duplicate", show_default=True,
              help="Comma-separated conditions that exit 1: duplicate, overlap, divergence.")
@click.option("--title", help="Title of the new article.")
@click.option("--source", help="Source of the new article.")
@click.option("--published", help="Publication date of the new article (YYYY-MM-DD).")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path),
              help="Settings file.")
def check_cmd(files: tuple[str, ...], corpus: Path | None, index_url: str | None, fmt: str,
              fail_on: str, title: str | None, source: str | None, published: str | None,
              config: Path | None) -> None:
    """Pre-check new articles (FILES, or - for standard input) against a corpus index:
    duplicate, overlap or novel; what repeats, what is new, what contradicts.

    Exit codes: 0 nothing in --fail-on was found, 1 something was, 2 usage or input error.

    Example:

        newsdiff check new.txt --corpus seeds/ --fail-on duplicate,divergence
    """
    from .precheck import check_files, check_json, check_text, failures

    conditions = _fail_on(fail_on)
    settings = load_settings(config=config)
    url = _store_url(corpus, index_url)
    from .store import sqlite_path

    if corpus is not None and index_url is None and not sqlite_path(url).exists():
        click.echo(f"indexing {corpus} (first check) ...", err=True)
        _build(corpus, url, settings, rebuild=False, skip_bad=False, quiet=True)
    store = _open(url)
    try:
        options = {k: v for k, v in (("title", title), ("source", source),
                                     ("published", published)) if v}
        results = check_files(files, store, settings, options)
    finally:
        store.close()
    click.echo(check_json(results, conditions, url) if fmt == "json"
               else check_text(results, conditions), nl=False)
    if any(failures(r, conditions) for r in results):
        raise SystemExit(EXIT_FAIL)


@cli.command("add")
@click.argument("files", nargs=-1, required=True)
@click.option("--corpus", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The corpus folder to add to.")
@click.option("--index", "index_url", metavar="URL", help="Index URL (default: the corpus's "
              "SQLite index).")
@click.option("--force", is_flag=True, help="Add near-duplicates too.")
@click.option("--title", help="Title of the new article.")
@click.option("--source", help="Source of the new article.")
@click.option("--published", help="Publication date (YYYY-MM-DD).")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path),
              help="Settings file.")
def add_cmd(files: tuple[str, ...], corpus: Path, index_url: str | None, force: bool,
            title: str | None, source: str | None, published: str | None,
            config: Path | None) -> None:
    """Check FILES, then copy them into the corpus, record their metadata in its manifest
    and index them, as one step per article. A near-duplicate is refused (exit 1) unless
    --force.

    Example:

        newsdiff add new.txt --corpus seeds/ --source Kyodo --published 2016-12-05
    """
    from .precheck import add_articles

    if not corpus.is_dir():
        raise NewsdiffError(f"{corpus}: no such corpus folder")
    settings = load_settings(config=config)
    url = _store_url(corpus, index_url)
    store = _open(url, create=True)
    try:
        options = {k: v for k, v in (("title", title), ("source", source),
                                     ("published", published)) if v}
        outcomes = add_articles(files, corpus, store, settings, force=force, options=options)
    finally:
        store.close()
    refused = False
    for o in outcomes:
        if o.added:
            click.echo(printable(f"added {o.target} ({o.result.verdict}, "
                                 f"{len(o.result.repeats)} repeated statement(s))"))
        else:
            refused = True
            click.echo(printable(f"refused {o.result.document.path}: {o.reason}"))
    if refused:
        raise SystemExit(EXIT_FAIL)


@cli.group("index", cls=NewsdiffGroup)
def index_group() -> None:
    """Build and inspect the persistent index behind check and add."""


def _build(corpus: Path, url: str, settings, rebuild: bool, skip_bad: bool,  # type: ignore[no-untyped-def]
           quiet: bool):
    from .index import build_index

    if not corpus.is_dir():
        raise NewsdiffError(f"{corpus}: no such corpus folder")
    store = _open(url, create=True)
    try:
        return build_index(corpus, store, settings, rebuild=rebuild, skip_bad=skip_bad,
                           progress=_progress(quiet))
    finally:
        store.close()


@index_group.command("build")
@click.argument("corpus", type=click.Path(file_okay=False, path_type=Path))
@click.option("--index", "index_url", metavar="URL", help="Index URL (default: "
              "CORPUS/.newsdiff/index.sqlite).")
@click.option("--rebuild", is_flag=True, help="Drop everything and index from scratch.")
@click.option("--skip-bad", is_flag=True, help="Report and skip unreadable files.")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path),
              help="Settings file.")
@click.option("-q", "--quiet", is_flag=True, help="No progress.")
def index_build_cmd(corpus: Path, index_url: str | None, rebuild: bool, skip_bad: bool,
                    config: Path | None, quiet: bool) -> None:
    """Index CORPUS incrementally: new and changed files are indexed, unchanged ones
    (same sha256) skipped, deleted ones removed.

    Example:

        newsdiff index build seeds/ --index redis://localhost:6379/0?prefix=seeds
    """
    settings = load_settings(config=config)
    url = _store_url(corpus, index_url)
    report = _build(corpus, url, settings, rebuild, skip_bad, quiet)
    for problem in report.skipped:
        click.echo(f"skipped: {problem}", err=True)
    click.echo(f"{url}: {len(report.added)} added, {len(report.updated)} updated, "
               f"{len(report.removed)} removed, {report.unchanged} unchanged")


@index_group.command("stats")
@index_options
def index_stats_cmd(corpus: Path | None, index_url: str | None) -> None:
    """Print what an index holds.

    Example:

        newsdiff index stats --corpus seeds/
    """
    store = _open(_store_url(corpus, index_url))
    try:
        meta = store.read_meta() or {}
        stats = store.stats()
    finally:
        store.close()
    for key, value in {**stats, **{f"setting.{k}": v for k, v in sorted(meta.items())}}.items():
        click.echo(f"{key}: {value}")


@index_group.command("verify")
@index_options
def index_verify_cmd(corpus: Path | None, index_url: str | None) -> None:
    """Check an index for damage; exit 2 with the problems when it is not sound.

    Example:

        newsdiff index verify --corpus seeds/
    """
    url = _store_url(corpus, index_url)
    store = _open(url)
    try:
        problems = store.verify()
        n = store.stats()["documents"]
    finally:
        store.close()
    if problems:
        for problem in problems[:50]:
            click.echo(printable(problem), err=True)
        raise NewsdiffError(f"{url}: {len(problems)} problem(s) found")
    click.echo(f"{url}: sound ({n} documents)")


def main() -> None:
    """Console entry point."""
    cli(prog_name="newsdiff")


__all__ = ["cli", "main"]
