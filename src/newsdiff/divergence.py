"""Divergences between aligned statements (being written: see issue 4)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .model import Divergence, Document, Match, Thread


def find_divergences(matches: Sequence[Match], threads: Sequence[Thread],
                     docs: Mapping[str, Document]) -> list[Divergence]:
    """Comparable facts that differ between the two sides of each match."""
    return []
