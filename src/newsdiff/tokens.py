"""Words with their character offsets, the unit every later stage counts in."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

# Letters/digits, with inner apostrophes and dots kept ("it's", "U.S"); hyphens split, so
# "post-World War II" aligns with "World War II".
_WORD = re.compile(r"[^\W_]+(?:['’.][^\W_]+)*")
_WORD_SPLIT = re.compile(f"({_WORD.pattern})")

FUNCTION_WORDS = frozenset(
    """a an the and or but nor so yet for of in on at to by from with about as into onto
    over under after before since until than that this these those there here it its
    it's is are was were be been being has have had do does did will would shall should
    can could may might must not no he she they them their his her we our you your i me
    my which who whom whose what when where why how also said says say told while if
    then all any some such only very more most other each both between through during
    against up down out off again further once per via among""".split()
)

_NUMBERS = {w: str(n) for n, w in enumerate(
    """zero one two three four five six seven eight nine ten eleven
    twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty""".split()
)}
_NUMBERS.update({"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60",
                 "seventy": "70", "eighty": "80", "ninety": "90", "hundred": "100"})
_NUMERIC = re.compile(r"\d[\d.,]*$").match
_ROMAN = {"ii": "2", "iii": "3", "iv": "4", "vi": "6", "vii": "7", "viii": "8", "ix": "9",
          "xi": "11", "xii": "12"}


class Word(NamedTuple):
    """A word: lower-cased form, comparison key, where it stands in the text, and whether
    it is a common content word: written in lower case, not a function word, not a number
    (the words that carry a statement, as opposed to names, titles and figures)."""

    norm: str
    key: str
    start: int
    end: int
    common: bool = False


def normalize(word: str) -> str:
    """Lower-case a word and fold typographic apostrophes."""
    return word.lower().replace("’", "'")


@lru_cache(maxsize=200_000)
def word_key(norm: str) -> str:
    """The form two words are compared by: numbers as digits ("two", "II", "2"), and a
    light suffix stripping so that "signing"/"signed"/"sign" or "islands"/"island" align."""
    if norm in _NUMBERS:
        return _NUMBERS[norm]
    if norm in _ROMAN:
        return _ROMAN[norm]
    w = norm[:-2] if norm.endswith("'s") else norm
    if len(w) > 4 and not w[-1].isdigit():
        if w.endswith("ies"):
            w = w[:-3] + "y"
        elif w.endswith("ing") and len(w) > 5:
            w = w[:-3]
        elif w.endswith("ed"):
            w = w[:-2]
        elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
            w = w[:-1]
        if len(w) > 4 and w.endswith("e"):
            w = w[:-1]
    return w


def words(text: str, start: int = 0, end: int | None = None) -> list[Word]:
    """The words of ``text[start:end]`` with offsets into `text`."""
    end = len(text) if end is None else end
    # Splitting on the pattern gives gap, word, gap, ... strings, and the offsets follow
    # from their lengths: no match object per word (a tenth faster than finditer).
    pieces = _WORD_SPLIT.split(text[start:end])
    new, token = tuple.__new__, _token  # Word(...) costs twice as much per word
    # Offsets are taken from one table of int objects, not made anew for each word: a
    # word then holds no int of its own (64 of its 200 bytes; at 10,000 articles, 450 MB).
    at = _OFFSETS if end < len(_OFFSETS) else range(end + 1)
    out = []
    pos = start + len(pieces[0])
    for k in range(1, len(pieces), 2):
        raw = pieces[k]
        norm, key, common = token(raw)
        stop = pos + len(raw)
        out.append(new(Word, (norm, key, at[pos], at[stop], common)))
        pos = stop + len(pieces[k + 1])
    return out


_OFFSETS = tuple(range(1 << 16))


@lru_cache(maxsize=500_000)
def _token(raw: str) -> tuple[str, str, bool]:
    norm = normalize(raw)
    key = word_key(norm)
    return norm, key, raw[0].islower() and norm not in FUNCTION_WORDS and not _NUMERIC(key)


def is_content(norm: str) -> bool:
    """True for a word that carries meaning on its own (not a function word)."""
    return norm not in FUNCTION_WORDS


def is_number(word: Word) -> bool:
    """True for a number, in digits or in words ("70", "1,000", "two", "II")."""
    return bool(_NUMERIC(word.key))

