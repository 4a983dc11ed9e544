"""The one exception family for errors a user can cause, and the exit codes."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAIL = 1  # `check` found what --fail-on names
EXIT_USAGE = 2  # usage or input error


class NewsdiffError(Exception):
    """An error caused by input or usage; the CLI prints it as one line and exits 2."""

    exit_code = EXIT_USAGE


class InputError(NewsdiffError):
    """A file or folder that cannot be read as an article."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class ConfigError(NewsdiffError):
    """A setting with an absurd or ill-typed value."""


class IndexStoreError(NewsdiffError):
    """A persistent index that cannot be used (corrupt, foreign, incompatible, unreachable)."""
