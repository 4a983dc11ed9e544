"""Words with their character offsets, the unit every later stage counts in."""

from __future__ import annotations

import re
from typing import NamedTuple

# Letters/digits, with inner apostrophes and dots kept ("it's", "U.S"); hyphens split, so
# "post-World War II" aligns with "World War II".
_WORD = re.compile(r"[^\W_]+(?:['’.][^\W_]+)*")

FUNCTION_WORDS = frozenset(
    """a an the and or but nor so yet for of in on at to by from with about as into onto
    over under after before since until than that this these those there here it its it's
    is are was were be been being has have had do does did will would shall should can
    could may might must not no he she they them their his her we our you your i me my
    which who whom whose what when where why how also said says say told while if then
    all any some such only very more most other each both between through during against
    up down out off again further once per via among""".split()
)


class Word(NamedTuple):
    """A word: its normalised form and where it stands in the text."""

    norm: str
    start: int
    end: int


def normalize(word: str) -> str:
    """Lower-case a word and fold typographic apostrophes."""
    return word.lower().replace("’", "'")


def words(text: str, start: int = 0, end: int | None = None) -> list[Word]:
    """The words of ``text[start:end]`` with offsets into `text`."""
    end = len(text) if end is None else end
    return [Word(normalize(m.group()), m.start(), m.end())
            for m in _WORD.finditer(text, start, end)]


def is_content(norm: str) -> bool:
    """True for a word that carries meaning on its own (not a function word)."""
    return norm not in FUNCTION_WORDS
