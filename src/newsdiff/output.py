"""Writing results atomically: a temporary name beside the target, then a rename."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .errors import NewsdiffError

MARKER = ".newsdiff-output"  # written into every folder newsdiff owns


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file and a rename.

    Raises:
        NewsdiffError: the folder cannot be written or `path` is a folder.
    """
    path = Path(path)
    if path.is_dir():
        raise NewsdiffError(f"{path}: is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise NewsdiffError(f"{path}: cannot write: {exc.strerror or exc}") from None


def check_output_folder(out: Path) -> None:
    """Refuse an output folder that holds things newsdiff did not write.

    Raises:
        NewsdiffError: `out` is a file, or a non-empty folder without newsdiff's marker.
    """
    if out.exists() and not out.is_dir():
        raise NewsdiffError(f"{out}: is a file, not a folder; give a folder for --out")
    if out.is_dir() and not (out / MARKER).exists():
        foreign = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
        if foreign:
            raise NewsdiffError(
                f"{out}: folder holds files newsdiff did not write ({foreign[0]}, ...); "
                "choose an empty or new folder for --out"
            )


def replace_folder_atomic(out: Path, files: dict[str, str | bytes]) -> None:
    """Write `files` (relative name → content) as the whole content of folder `out`.

    The files are written into a temporary sibling folder which then takes the place of
    `out`, so a failure leaves the previous folder as it was and no stale file lingers.

    Raises:
        NewsdiffError: `out` is not ours to replace, or cannot be written.
    """
    out = Path(out)
    check_output_folder(out)
    parent = out.parent if str(out.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent))
        tmp.chmod(0o755)
    except OSError as exc:
        raise NewsdiffError(f"{out}: cannot write: {exc.strerror or exc}") from None
    try:
        for name, content in sorted(files.items()):
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8", newline="\n")
        (tmp / MARKER).write_text("This folder is written by newsdiff and replaced on "
                                  "every run.\n", encoding="utf-8")
        # Keep dotfiles the user put there (.gitkeep and the like).
        if out.is_dir():
            for keep in out.iterdir():
                if keep.name.startswith(".") and keep.name != MARKER and keep.is_file():
                    shutil.copy2(keep, tmp / keep.name)
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise NewsdiffError(f"{out}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
