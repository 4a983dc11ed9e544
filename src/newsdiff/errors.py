"""The one exception family for errors a user can cause, and the exit codes."""

from __future__ import annotations

import re

EXIT_OK = 0
EXIT_FAIL = 1  # `check` found what --fail-on names
EXIT_USAGE = 2  # usage or input error
EXIT_ABORTED = 3  # a worker process ended before it finished (killed for lack of memory?)

# Characters that would break a one-line message or cannot be written as UTF-8: control
# characters, line and paragraph separators, and the lone surrogates that stand for the
# undecodable bytes of a file name (os.fsdecode's surrogateescape).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte of a file name
        return f"\\x{code - 0xDC00:02x}"
    return _ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: str) -> str:
    """`text` on one line and encodable as UTF-8: control characters, line separators and
    undecodable file-name bytes written as backslash escapes ("a\\nb", "caf\\xe9")."""
    return _UNPRINTABLE.sub(_escape, text)


class NewsdiffError(Exception):
    """An error a user can cause or meet; the CLI prints it as one line and exits with its
    `exit_code` (2: input or usage)."""

    exit_code = EXIT_USAGE

    def __str__(self) -> str:
        # A file name may hold a newline or bytes that are not UTF-8; the message must
        # still be one printable line.
        return printable(super().__str__())


class InputError(NewsdiffError):
    """A file or folder that cannot be read as an article."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem

    def __reduce__(self) -> tuple:  # type: ignore[type-arg]
        # as a worker process sends it back (an exception is rebuilt from its args)
        return type(self), (self.path, self.problem), self.__dict__


class ConfigError(NewsdiffError):
    """A setting with an absurd or ill-typed value."""


class IndexStoreError(NewsdiffError):
    """A persistent index that cannot be used (corrupt, foreign, incompatible, unreachable)."""


class WorkerDied(NewsdiffError):
    """A worker process ended before it answered: killed (most often by the system when
    memory runs out) or exited. Nothing was written; the run can be made again."""

    exit_code = EXIT_ABORTED
