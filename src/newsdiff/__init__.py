"""newsdiff: compare news articles.

Near-duplicate articles, recurring statements matched across articles even when reworded,
how each recurring statement evolved over time, and where statements diverge.
"""

from .compare import compare, newsdiff_version
from .config import Settings
from .errors import NewsdiffError
from .model import Comparison, Divergence, Document, Duplicate, Match, Span, Thread


def __getattr__(name: str) -> str:
    # The version is read from the installed metadata only when asked for: importing
    # importlib.metadata costs a `newsdiff check` more than a tenth of its start-up.
    if name == "__version__":
        return newsdiff_version()
    raise AttributeError(f"module 'newsdiff' has no attribute {name!r}")


__all__ = [
    "Comparison",
    "Divergence",
    "Document",
    "Duplicate",
    "Match",
    "NewsdiffError",
    "Settings",
    "Span",
    "Thread",
    "__version__",
    "compare",
]
