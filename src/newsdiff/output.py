"""Writing results atomically: a temporary name beside the target, then a rename.

A report folder is written whole into a temporary sibling, then swapped with the old one
in one step (Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere two renames, undone on
failure and repaired by the next run), so a run killed at any moment leaves either the
previous report or the new one at ``--out``, never a mixture and never nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import NewsdiffError

MARKER = ".newsdiff-output"  # written into every folder newsdiff owns
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _real(path: Path) -> Path:
    """The path a symbolic link points to (so the link's target is updated, not the link
    replaced by a plain file or folder)."""
    return path.resolve() if path.is_symlink() else path


def copy_atomic(source: Path, path: Path) -> None:
    """Copy the file `source` to `path` (streamed, not read whole) through a temporary
    file and a rename.

    Raises:
        NewsdiffError: `source` cannot be read, the folder cannot be written, or `path`
            is a folder.
    """
    def copy(handle: BinaryIO) -> None:
        try:
            with open(source, "rb") as src:
                shutil.copyfileobj(src, handle, 1 << 20)
        except OSError as exc:
            raise NewsdiffError(f"{source}: cannot read: {exc.strerror or exc}") from None

    _atomic(Path(path), copy)


def _atomic(path: Path, write: Callable[[BinaryIO], object]) -> None:
    path = _real(path)
    if path.is_dir():
        raise NewsdiffError(f"{path}: is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # mkstemp makes the file private (0600); give it the mode a plain write would.
        mode = path.stat().st_mode & 0o7777 if path.is_file() else 0o666 & ~_umask()
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            os.fchmod(fd, mode)
            with os.fdopen(fd, "wb") as handle:
                write(handle)
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

    A folder without newsdiff's marker is taken only when it is empty or holds nothing but
    hidden files (a `.gitkeep`); a hidden folder such as `.git` makes it the user's.

    Raises:
        NewsdiffError: `out` is a file, or a non-empty folder without newsdiff's marker.
    """
    out = _real(Path(out))
    if out.exists() and not out.is_dir():
        raise NewsdiffError(f"{out}: is a file, not a folder; give a folder for --out")
    if out.is_dir() and not (out / MARKER).exists():
        try:
            entries = sorted(out.iterdir())
        except OSError as exc:
            raise NewsdiffError(f"{out}: cannot list: {exc.strerror or exc}") from None
        foreign = [p.name for p in entries
                   if not p.name.startswith(".") or p.is_symlink() or not p.is_file()]
        if foreign:
            raise NewsdiffError(
                f"{out}: folder holds files newsdiff did not write ({foreign[0]}, ...); "
                "choose an empty or new folder for --out"
            )


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2); False where that is not available.

    Raises:
        OSError: the swap failed for another reason.
    """
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b),
                 _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # an old kernel, or a file system that cannot exchange
    raise OSError(err, os.strerror(err), str(b))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_leftovers(out: Path) -> None:
    """Remove what a killed run left beside `out` (its temporary folder, or the previous
    report moved aside), restoring the previous report when `out` itself is missing."""
    parent = out.parent
    pattern = re.compile(rf"\.{re.escape(out.name)}\.(?:(\d+)\..+\.tmp|old-(\d+))")
    try:
        siblings = sorted(parent.iterdir())
    except OSError:
        return
    for entry in siblings:
        found = pattern.fullmatch(entry.name)
        if not found or entry.is_symlink() or not entry.is_dir():
            continue
        pid = int(found.group(1) or found.group(2))
        if pid == os.getpid() or _pid_alive(pid):
            continue  # another run is writing
        if found.group(2) and not out.exists() and (entry / MARKER).exists():
            with contextlib.suppress(OSError):
                os.replace(entry, out)  # killed between the two renames: put it back
                continue
        shutil.rmtree(entry, ignore_errors=True)


def _keep_hidden(out: Path, tmp: Path) -> None:
    """Copy the hidden entries a user put into our folder (.gitkeep, .htaccess, .git)."""
    for keep in sorted(out.iterdir()):
        if not keep.name.startswith(".") or keep.name == MARKER:
            continue
        target = tmp / keep.name
        if keep.is_symlink():
            os.symlink(os.readlink(keep), target)
        elif keep.is_dir():
            shutil.copytree(keep, target, symlinks=True)
        else:
            shutil.copy2(keep, target)


@contextlib.contextmanager
def folder_atomic(out: Path) -> Iterator[Path]:
    """A temporary sibling folder to write the whole content of folder `out` into; on
    leaving the block it takes the place of `out`, so a failure leaves the previous folder
    as it was and no stale file lingers.

    Raises:
        NewsdiffError: `out` is not ours to replace, or cannot be written (an OSError in
            the block included).
    """
    out = _real(Path(out))
    check_output_folder(out)
    parent = out.parent if str(out.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        _clean_leftovers(out)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".tmp",
                                    dir=parent))
        tmp.chmod(0o777 & ~_umask())
    except OSError as exc:
        raise NewsdiffError(f"{out}: cannot write: {exc.strerror or exc}") from None
    try:
        yield tmp
        (tmp / MARKER).write_text("This folder is written by newsdiff and replaced on "
                                  "every run.\n", encoding="utf-8")
        if out.is_dir():
            _keep_hidden(out, tmp)
        _swap_in(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise NewsdiffError(f"{out}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_file(folder: Path, name: str, content: str | bytes | Iterable[bytes]) -> None:
    """Write one file of a folder being built (text in UTF-8 with "\\n" line ends, or
    bytes given whole or in pieces), making its subfolders."""
    target = folder / name
    try:
        _write(target, content)
    except FileNotFoundError:  # the first file of its folder (asking first costs more)
        target.parent.mkdir(parents=True, exist_ok=True)
        _write(target, content)


def _write(target: Path, content: str | bytes | Iterable[bytes]) -> None:
    # os.open and os.write, without a Python file object: half the cost of write_text for
    # the 33,000 small files of a report of 10,000 articles
    if isinstance(content, str):
        content = content.encode("utf-8")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        for piece in (content,) if isinstance(content, bytes) else content:
            data = memoryview(piece)
            while data:
                data = data[os.write(fd, data):]
    finally:
        os.close(fd)


def _swap_in(tmp: Path, out: Path) -> None:
    """Put the finished folder `tmp` at `out`; the previous `out` is removed after."""
    if not out.exists():
        os.replace(tmp, out)
        return
    if _exchange(tmp, out):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the previous report
        return
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    os.replace(out, old)
    try:
        os.replace(tmp, out)
    except BaseException:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
