"""The HTML report (being written: see issue 3)."""

from __future__ import annotations

from .model import Comparison


def render(comparison: Comparison) -> dict[str, str]:
    """Every page of the report, as relative file name → HTML text."""
    return {}
