"""The command line: each command parses options, calls one library function, prints."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from . import model
from .compare import compare, newsdiff_version
from .config import load_settings
from .errors import EXIT_USAGE, NewsdiffError
from .output import replace_folder_atomic, write_text_atomic


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
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _settings(config: Path | None, **options: Any):  # type: ignore[no-untyped-def]
    return load_settings(config=config, overrides=options)


@click.group(cls=NewsdiffGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(newsdiff_version(), "--version", prog_name="newsdiff")
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
    metadata = {k: v for k, v in (("title", title), ("source", source),
                                  ("published", published)) if v}
    result = compare(paths, settings=settings, skip_bad=skip_bad, metadata=metadata,
                     progress=_progress(quiet))
    text = model.dumps(result)
    index = write_report(result, out, text)
    if json_path is not None:
        write_text_atomic(json_path, text)
    for warning in result.warnings:
        click.echo(f"skipped: {warning}", err=True)
    if not quiet:
        click.echo(summary(result))
        if json_path is not None:
            click.echo(f"wrote {json_path}")
    click.echo(f"report: {index}")


def write_report(result: model.Comparison, out: Path, json_text: str | None = None) -> Path:
    """Render the report and swap it into `out` with comparison.json; return index.html."""
    from .report import render

    files: dict[str, str | bytes] = dict(render(result))
    files["comparison.json"] = json_text if json_text is not None else model.dumps(result)
    replace_folder_atomic(out, files)
    return out / ("index.html" if "index.html" in files else "comparison.json")


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
    return "\n".join(lines)


def main() -> None:
    """Console entry point."""
    cli(prog_name="newsdiff")


__all__ = ["cli", "main"]
