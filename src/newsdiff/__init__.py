"""newsdiff: compare news articles.

Near-duplicate articles, recurring statements matched across articles even when reworded,
how each recurring statement evolved over time, and where statements diverge.
"""

from .compare import compare, newsdiff_version
from .config import Settings
from .errors import NewsdiffError
from .model import Comparison, Divergence, Document, Duplicate, Match, Span, Thread

__version__ = newsdiff_version()

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
