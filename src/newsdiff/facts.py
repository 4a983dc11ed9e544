"""Comparable facts in a statement, each with character offsets into the document text.

Five kinds: ``number`` (digits or words, with comparator and counted noun or unit),
``date`` (calendar dates, ranges, years, weekdays and relative expressions, normalised
against the article's publication date where it allows), ``entity`` (capitalised names
with their titles), ``negation`` (negators such as "not", "never", "failed to") and
``stance`` (verbs and adjectives of agreement or refusal). Extraction is rule-based and
deterministic: the divergence stage only compares facts that stand in the same aligned
slot, so what matters most here is that a fact's value, unit and span are right.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import MISSING, dataclass, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from .tokens import FUNCTION_WORDS

FACT_KINDS = ("number", "date", "entity", "negation", "stance")


@dataclass(frozen=True)
class Fact:
    """One fact found in a text: what kind, where, as written and normalised.

    Only the fields of its kind are filled: numbers have ``value``, ``unit`` (the counted
    noun or unit, singular, lower case; "" when none follows), ``modifiers`` (words between
    the number and that noun), ``comparator`` ("", ">", ">=", "<", "<=", "~", "avg") and
    ``ordinal``; dates have ``grain`` ("day", "days", "month", "year", "decade", "weekday",
    "week", "relative") and, when the publication date allows, ``lo``/``hi`` ISO dates;
    entities have ``name`` (title stripped, aliases folded by `fold_aliases`), ``title``
    and ``etype`` ("person", "org", "place" or "name"); stances have ``polarity`` (+1 agree
    or accept, -1 refuse or reject).
    """

    kind: str
    start: int
    end: int
    text: str
    normalized: str
    value: float | None = None
    unit: str = ""
    modifiers: tuple[str, ...] = ()
    comparator: str = ""
    ordinal: bool = False
    grain: str = ""
    lo: str = ""
    hi: str = ""
    name: str = ""
    title: str = ""
    etype: str = ""
    polarity: int = 0
    attributive: bool = False
    core: tuple[int, int] = (-1, -1)

    def __post_init__(self) -> None:
        if self.core == (-1, -1):
            object.__setattr__(self, "core", (self.start, self.end))


def _fields(fact: Fact) -> dict[str, object]:
    return {f.name: getattr(fact, f.name) for f in fields(Fact)}


_DEFAULTS: dict[str, object] = {f.name: f.default for f in fields(Fact)}
_REQUIRED = frozenset(f.name for f in fields(Fact) if f.default is MISSING)


# --- small word lists -------------------------------------------------------------------

CARDINALS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "dozen": 12,
}
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17,
    "eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30, "fortieth": 40,
    "fiftieth": 50, "hundredth": 100,
}
MULTIPLIERS = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9,
               "trillion": 1e12, "m": 1e6, "bn": 1e9, "k": 1e3}
# Phrases before a number that qualify it, longest first, with their normal form.
COMPARATORS = (
    ("no more than", "<="), ("no fewer than", ">="), ("no less than", ">="),
    ("more than", ">"), ("greater than", ">"), ("in excess of", ">"), ("upwards of", ">"),
    ("fewer than", "<"), ("less than", "<"), ("under", "<"), ("below", "<"),
    ("at least", ">="), ("at most", "<="), ("up to", "<="), ("as many as", "<="),
    ("an average of", "avg"), ("on average", "avg"), ("average", "avg"),
    ("about", "~"), ("around", "~"), ("roughly", "~"), ("approximately", "~"),
    ("nearly", "~<"), ("almost", "~<"), ("some", "~"), ("an estimated", "~"),
    ("estimated", "~"), ("over", ">"), ("above", ">"), ("just over", ">"),
)
_COMPARATOR_WORDS = {p for phrase, _ in COMPARATORS for p in phrase.split()}
COMPARATOR_TEXT = {"": "", ">": "more than", ">=": "at least", "<": "less than",
                   "<=": "at most", "~": "about", "~<": "nearly", "avg": "an average of"}

MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11,
    "nov": 11, "december": 12, "dec": 12,
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

NEGATORS = {
    "not": "not", "n't": "not", "never": "never", "no": "no", "none": "none",
    "nor": "nor", "neither": "neither", "nobody": "nobody", "nothing": "nothing",
    "cannot": "not", "without": "without", "no longer": "no longer", "no one": "no one",
    "failed to": "failed to", "fails to": "failed to", "fail to": "failed to",
    "unable to": "unable to", "rather than": "rather than", "instead of": "instead of",
    "stopped": "stopped", "stop": "stopped", "stops": "stopped", "ceased": "stopped",
    "ceases": "stopped", "halted": "stopped", "halts": "stopped", "quit": "stopped",
}
# Stance verbs and adjectives: +1 agree/accept/approve, -1 refuse/reject/oppose.
STANCES = {
    "agree": 1, "agreed": 1, "agrees": 1, "accept": 1, "accepted": 1, "accepts": 1,
    "approve": 1, "approved": 1, "approves": 1, "willing": 1, "keen": 1, "eager": 1,
    "ready": 1, "support": 1, "supported": 1, "supports": 1, "endorsed": 1, "endorse": 1,
    "welcomed": 1, "welcome": 1, "backed": 1, "consented": 1, "favour": 1, "favor": 1,
    "refuse": -1, "refused": -1, "refuses": -1, "reject": -1, "rejected": -1,
    "rejects": -1, "reluctant": -1, "unwilling": -1, "declined": -1, "decline": -1,
    "declines": -1, "opposed": -1, "oppose": -1, "opposes": -1, "vetoed": -1,
    "denied": -1, "deny": -1, "denies": -1, "resisted": -1, "hesitant": -1,
    "dismissed": -1, "against": -1,
}

# Title words that may precede a name: "Foreign Minister", "Russian President", "Dr.".
TITLE_WORDS = frozenset(
    """prime minister president vice deputy first foreign defense defence finance trade
    economy secretary general secretary-general chancellor premier king queen prince
    princess pope emperor governor mayor senator sen rep representative ambassador
    chief justice judge minister ministers chairman chairwoman chair director spokesman
    spokeswoman mr mrs ms dr prof professor capt captain gen lt col colonel sgt
    commander admiral sir lord lady dame cardinal bishop father sheikh councilman
    leader gov sec former late acting interior home state""".split()
)
NATIONALITIES = frozenset(
    """russian japanese chinese american british french german italian indian korean
    north south u.s us ukrainian peruvian indonesian syrian iranian iraqi israeli
    palestinian egyptian turkish spanish canadian australian mexican brazilian
    australian dutch swedish polish greek cuban salvadoran""".split()
)
ORG_WORDS = frozenset(
    """committee organization organisation ministry agency council group corp corporation
    inc ltd co company bank university party union association institute commission
    forum office department court parliament assembly congress senate army navy
    police government board fund federation league club times news tass kyodo
    reuters station society foundation""".split()
)
PLACE_WORDS = frozenset(
    """prefecture province city state island islands sea ocean river mountain mountains
    region county district republic kingdom street bay strait peninsula capital""".split()
)
_NAME_CONNECTORS = frozenset({"of", "de", "da", "van", "von", "al", "bin", "la", "le",
                              "du", "der", "and", "on", "for", "the"})
# Connectors allowed inside any name; "and", "on", "for", "the" only inside an
# organisation's name ("Committee on Trade and Economic Issues"), so that "Abe and Putin"
# stays two people.
_INNER_CONNECTORS = frozenset({"of", "de", "da", "van", "von", "al", "bin", "la", "le",
                               "du", "der"})
# Capitalised words that start sentences but are not names.
_NOT_NAMES = frozenset(
    """a an the but and or so yet if when while after before since during as at in on
    for from to by with without of about over under this that these those there here it
    its his her their our your my we they he she i you who whom whose which what where
    why how also however meanwhile although though because despite among according
    ahead speaking asked earlier later last next both all some many most more no not
    never none each every one two three four five six seven eight nine ten other such
    than then even only just still already once mr mrs ms dr nor neither nobody nothing
    whether unless""".split()
) | set(WEEKDAYS) | {"today", "yesterday", "tomorrow", "tonight"}

_WORD_RE = re.compile(r"[^\W_]+(?:['’.][^\W_]+)*(?:'s|’s)?")
_DIGITS = re.compile(
    r"(?<![\w.,$£€])(?P<cur>(?:US|U\.S\.|A|C|HK)?\$\s?|£|€)?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?P<suf>st|nd|rd|th|bn|m|k|%)?(?![\w])"
)
_NUMBER_WORD = re.compile(
    r"(?<![\w-])(?P<w>(?:" + "|".join(sorted(CARDINALS, key=len, reverse=True)) + r")"
    r"(?:-(?:" + "|".join(sorted(CARDINALS, key=len, reverse=True)) + r"))?|"
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)-)?(?:"
    + "|".join(sorted(ORDINALS, key=len, reverse=True)) + r"))(?![\w])",
    re.I,
)


# Which patterns can match a text at all: each case-blind pattern below needs one of a few
# words (as a whole \w+ run), and the number patterns a digit, so a sentence holding none
# is not searched. IGNORECASE matches four non-ASCII letters with ASCII ones ("ſ" with
# "s", "K" with "k"): in a text holding one, every case-blind pattern is run.
_RUN = re.compile(r"\w+")
_DIGIT = re.compile(r"\d")
_FOLDS_TO_ASCII = re.compile("[\u0130\u0131\u017f\u212a]")


class _Seen(NamedTuple):
    """The words of a text as written and lower-cased (None: see _FOLDS_TO_ASCII), whether
    it holds a digit, and the text lower-cased."""

    written: frozenset[str]
    lower: frozenset[str] | None
    digit: bool
    text: str

    def any_of(self, words: frozenset[str]) -> bool:
        """Whether a case-blind pattern that needs one of `words` may match."""
        return self.lower is None or not self.lower.isdisjoint(words)


def _seen(text: str, start: int = 0, end: int | None = None) -> _Seen:
    end = len(text) if end is None else end
    runs = _RUN.findall(text, start, end)
    folds = _FOLDS_TO_ASCII.search(text, start, end) is not None
    return _Seen(frozenset(runs), None if folds else frozenset(r.lower() for r in runs),
                 _DIGIT.search(text, start, end) is not None, text[start:end].lower())


_NUMBER_WORDS = frozenset(CARDINALS) | frozenset(ORDINALS)  # a match ends with one


def singular(word: str) -> str:
    """A plural English noun made singular, roughly ("islands" -> "island")."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith(("ches", "shes", "sses", "xes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def _parse_digits(num: str) -> float:
    return float(num.replace(",", ""))


def _word_value(word: str) -> tuple[float, bool] | None:
    """(value, ordinal) of a number written in words ("seventy-five", "25th", "third")."""
    w = word.lower()
    if w in CARDINALS:
        return float(CARDINALS[w]), False
    if w in ORDINALS:
        return float(ORDINALS[w]), True
    if "-" in w:
        head, _, tail = w.partition("-")
        if head in CARDINALS and tail in CARDINALS:
            return float(CARDINALS[head] + CARDINALS[tail]), False
        if head in CARDINALS and tail in ORDINALS:
            return float(CARDINALS[head] + ORDINALS[tail]), True
    return None


def format_number(value: float) -> str:
    """A number as plain digits (no trailing .0; thousands not separated)."""
    if value == int(value):
        return str(int(value))
    return f"{value:g}"


def _words_after(text: str, pos: int, limit: int = 4) -> list[re.Match[str]]:
    """Up to `limit` words following `pos` within the same clause (stops at punctuation
    other than a hyphen or apostrophe)."""
    out = []
    i = pos
    while len(out) < limit:
        m = _WORD_RE.search(text, i)
        if m is None:
            break
        gap = text[i:m.start()]
        if gap.strip(" \t-–") or "\n\n" in gap:
            break
        out.append(m)
        i = m.end()
    return out


def _words_before(text: str, pos: int, limit: int = 4) -> list[re.Match[str]]:
    """Up to `limit` words before `pos` in the same clause, nearest last."""
    start = max(0, pos - 80)
    ms = list(_WORD_RE.finditer(text, start, pos))
    out: list[re.Match[str]] = []
    cursor = pos
    for m in reversed(ms):
        gap = text[m.end():cursor]
        if gap.strip(" \t-–") or len(out) >= limit:
            break
        out.append(m)
        cursor = m.start()
    return list(reversed(out))


def _unit_after(text: str, pos: int) -> tuple[str, tuple[str, ...], int]:
    """(counted noun, modifiers, end offset) after a number ending at `pos`."""
    if pos < len(text) and text[pos] == "-":  # "70-minute", "27-year-old"
        m = _WORD_RE.match(text, pos + 1)
        if m and m.group().isalpha():
            return singular(m.group()), (), m.end()
    collected: list[re.Match[str]] = []
    for m in _words_after(text, pos, 4):
        w = m.group().lower()
        if w in ("per", "percent") or (w == "cent" and collected and
                                        collected[-1].group().lower() == "per"):
            if w == "per":
                collected.append(m)
                continue
            return "%", (), m.end()
        if (w in FUNCTION_WORDS or not w[0].isalpha() or w in MULTIPLIERS
                or w in MONTHS or w in WEEKDAYS):
            break
        collected.append(m)
        # a noun phrase usually ends at a plural or after two words
        if singular(w) != w or len(collected) == 3:
            break
    collected = [m for m in collected if m.group().lower() != "per"]
    if not collected:
        return "", (), pos
    head = collected[-1]
    mods = tuple(m.group().lower() for m in collected[:-1])
    return singular(head.group()), mods, head.end()


_COMPARATOR_TABLE = tuple((phrase, norm, len(phrase.split())) for phrase, norm in COMPARATORS)
_COMPARATOR_WORDS = max(n for _, _, n in _COMPARATOR_TABLE)


def _comparator_before(text: str, pos: int) -> tuple[str, int]:
    """(comparator, start offset) of a qualifying phrase just before `pos`."""
    before = _words_before(text, pos, _COMPARATOR_WORDS)
    if not before:
        return "", pos
    lows = [m.group().lower() for m in before]
    tails = {n: " ".join(lows[-n:]) for n in range(1, len(lows) + 1)}
    for phrase, norm, n in _COMPARATOR_TABLE:
        if tails.get(n) == phrase:
            return norm, before[-n].start()
    return "", pos


def _is_year(text: str, m: re.Match[str]) -> bool:
    """True when a bare four-digit number is a year ("in 1945", "the 2018 World Cup")."""
    if m.group("cur") or m.group("suf") or "," in m.group("num") or "." in m.group("num"):
        return False
    n = int(m.group("num"))
    if not 1000 <= n <= 2100 or len(m.group("num")) != 4:
        return False
    prev = _words_before(text, m.start(), 1)
    if prev and prev[-1].group().lower() in {"in", "since", "from", "until", "of", "by",
                                             "before", "after", "during", "the", "early",
                                             "late", "mid", "year", "between", "and", "to"}:
        return True
    nxt = _words_after(text, m.end(), 1)
    if nxt and nxt[0].group().lower().endswith("s") and nxt[0].group()[0].islower():
        return n >= 1900 and nxt[0].group().lower() not in {"people", "troops", "soldiers",
                                                            "members", "workers", "units"}
    return n >= 1500


def numbers(text: str, start: int = 0, end: int | None = None,
            skip: Sequence[tuple[int, int]] = ()) -> list[Fact]:
    """Numbers in ``text[start:end]`` (digits or words) with comparator and counted noun;
    spans in `skip` (dates) are left out, and so are times, scores and four-digit years."""
    end = len(text) if end is None else end
    return _numbers(text, start, end, skip, _seen(text, start, end))


def _numbers(text: str, start: int, end: int, skip: Sequence[tuple[int, int]],
             seen: _Seen) -> list[Fact]:
    found: list[Fact] = []
    taken = list(skip)

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in taken)

    for m in _DIGITS.finditer(text, start, end) if seen.digit else ():
        s, e = m.start(), m.end()
        if not free(s, e) or _is_year(text, m):
            continue
        after = text[e:e + 6]
        if re.match(r"[:.]\d|\s?(?:GMT|EDT|EST|UTC|a\.m|p\.m|am\b|pm\b|hrs)", after) or \
                re.match(r"-\d", after) or (s > 0 and text[s - 1] in "-:/"):
            continue  # times, scores and ranges such as "4-2", "50-50", "12:05"
        value = _parse_digits(m.group("num"))
        suf = (m.group("suf") or "").lower()
        ordinal = suf in ("st", "nd", "rd", "th")
        unit = ""
        mods: tuple[str, ...] = ()
        u_end = e
        if suf in ("m", "bn", "k"):
            value *= MULTIPLIERS[suf]
        nxt = _words_after(text, e, 1)
        if nxt and nxt[0].group().lower() in MULTIPLIERS and not suf:
            value *= MULTIPLIERS[nxt[0].group().lower()]
            u_end = nxt[0].end()
        if suf == "%":
            unit = "%"
        elif m.group("cur"):
            unit = "$" if "$" in m.group("cur") else m.group("cur").strip()
            noun, mods, n_end = _unit_after(text, u_end)
            if noun in ("pound", "euro", "dollar", "yen", "ruble", "rouble"):
                unit, u_end = noun, n_end
        else:
            unit, mods, u_end2 = _unit_after(text, u_end)
            if unit in ("pound", "euro", "dollar", "yen", "ruble", "rouble", "%") or unit:
                u_end = u_end2
        comp, c_start = _comparator_before(text, s)
        found.append(_number_fact(text, s, e, value, unit, mods, comp, c_start, ordinal))
        taken.append((s, e))
    for m in _NUMBER_WORD.finditer(text, start, end) if seen.any_of(_NUMBER_WORDS) else ():
        s, e = m.start(), m.end()
        if not free(s, e):
            continue
        parsed = _word_value(m.group("w"))
        if parsed is None:
            continue
        value, ordinal = parsed
        w = m.group("w")
        if w[0].isupper() and s > 0 and not _sentence_start(text, s):
            continue  # "First Deputy Prime Minister", "Group of Twenty"
        nxt = _words_after(text, e, 1)
        if nxt and nxt[0].group().lower() in MULTIPLIERS:
            value *= MULTIPLIERS[nxt[0].group().lower()]
            unit, mods, _ = _unit_after(text, nxt[0].end())
        else:
            unit, mods, _ = _unit_after(text, e)
        lw = w.lower()
        prev = _words_before(text, s, 1)
        prev_w = prev[-1].group().lower() if prev else ""
        if lw == "one" and (not unit or prev_w in ("no", "any", "every", "each", "the")):
            continue  # "one of", "no one", "the one"
        if lw in ("first", "second") and not unit:
            continue  # "first" as an adverb, "second" as a verb or time unit
        comp, c_start = _comparator_before(text, s)
        found.append(_number_fact(text, s, e, value, unit, mods, comp, c_start, ordinal))
        taken.append((s, e))
    found.sort(key=lambda f: f.start)
    return found


def _number_fact(text: str, s: int, e: int, value: float, unit: str,
                 mods: tuple[str, ...], comp: str, c_start: int, ordinal: bool) -> Fact:
    """A number Fact whose span runs from its comparator to its counted noun."""
    span_end = e
    if unit and unit != "%":
        # span through the counted noun, so "70 years" or "70-minute" reads as written
        after = _unit_end(text, e, unit)
        span_end = after if after > e else e
    elif unit == "%":
        after = _unit_end(text, e, "%")
        span_end = max(after, e)
    head = format_number(value) + (_ordinal_suffix(value) if ordinal else "")
    norm = " ".join(x for x in (comp, head, " ".join(mods), unit) if x)
    # "25-member bloc", "70-minute meeting": the number describes the noun that follows
    attributive = e < len(text) and text[e] == "-" and bool(unit)
    return Fact("number", c_start, span_end, text[c_start:span_end], norm, value=value,
                unit=unit, modifiers=mods, comparator=comp, ordinal=ordinal,
                attributive=attributive, core=(s, e))


def _ordinal_suffix(value: float) -> str:
    n = int(value)
    if n % 100 in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def _unit_end(text: str, pos: int, unit: str) -> int:
    """End offset of the counted noun `unit` within a few words after `pos`."""
    if unit == "%":
        if pos < len(text) and text[pos - 1] == "%":
            return pos
        for m in _words_after(text, pos, 3):
            if m.group().lower() in ("cent", "percent"):
                return m.end()
        return pos
    if pos < len(text) and text[pos] == "-":
        m = _WORD_RE.match(text, pos + 1)
        if m and singular(m.group()) == unit:
            return m.end()
    for m in _words_after(text, pos, 5):
        if singular(m.group()) == unit:
            return m.end()
    return pos


def _sentence_start(text: str, pos: int) -> bool:
    """True when `pos` begins a sentence or a quotation."""
    before = text[max(0, pos - 3):pos].rstrip(" \t")
    return not before or before[-1] in ".!?\n“\"‘'(•"


# --- dates ------------------------------------------------------------------------------

_MONTH_RE = (r"(?:January|February|March|April|May|June|July|August|September|October|"
             r"November|December|Jan\.|Feb\.|Mar\.|Apr\.|Jun\.|Jul\.|Aug\.|Sept\.|Sep\.|"
             r"Oct\.|Nov\.|Dec\.|Jan|Feb|Aug|Sept|Oct|Nov|Dec)")
_DAY_RE = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR_RE = r"(?:1[0-9]{3}|20[0-9]{2}|2100)"
_DATE_PATTERNS = (
    # Dec. 15 and 16 / Nov. 19-20 / May 17, 2005 / Dec. 15
    ("md", re.compile(
        rf"\b(?P<month>{_MONTH_RE})\s+(?P<day>{_DAY_RE})"
        rf"(?:\s*(?:-|–|and|to|through)\s*(?P<day2>{_DAY_RE}))?"
        rf"(?:,?\s+(?P<year>{_YEAR_RE}))?(?![\w-])")),
    # 21 August 1945 / the 16th of November
    ("dm", re.compile(
        rf"\b(?P<day>{_DAY_RE})(?:\s+of)?\s+(?P<month>{_MONTH_RE})"
        rf"(?:,?\s+(?P<year>{_YEAR_RE}))?(?![\w-])")),
    # June 2003 / August of 1799
    ("my", re.compile(rf"\b(?P<month>{_MONTH_RE})\s+(?:of\s+)?(?P<year>{_YEAR_RE})\b")),
    # in May / since September / last month's "early December"
    ("m", re.compile(
        rf"\b(?:in|since|until|from|by|during|of|last|next|this|early|late|mid|"
        rf"before|after|through|till)\s(?P<month>{_MONTH_RE})(?![\w-])")),
    ("decade", re.compile(r"\b(?:the\s+)?(?P<year>1[0-9]{2}0|20[0-9]0)s\b")),
    ("weekday", re.compile(r"\b(?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|"
                           r"Saturday|Sunday)\b")),
    ("relative", re.compile(
        r"\b(?P<rel>(?:(?:later|earlier|early|late)\s+)?(?:next|last|this|past)\s+"
        r"(?P<unit>week|month|year)|today|yesterday|tomorrow|tonight)\b", re.I)),
)
_MONTH_WORDS = frozenset(re.findall(r"[A-Z][a-z]+", _MONTH_RE))  # as written: "Sept"
_WEEKDAY_WORDS = frozenset(d.capitalize() for d in WEEKDAYS)
_RELATIVE_WORDS = frozenset({"week", "month", "year", "today", "yesterday", "tomorrow",
                             "tonight"})
# What a text must hold for each date pattern to match in it (see `_Seen`)
_DATE_NEEDS = {
    "md": lambda seen: not seen.written.isdisjoint(_MONTH_WORDS),
    "dm": lambda seen: not seen.written.isdisjoint(_MONTH_WORDS),
    "my": lambda seen: not seen.written.isdisjoint(_MONTH_WORDS),
    "m": lambda seen: not seen.written.isdisjoint(_MONTH_WORDS),
    "decade": lambda seen: seen.digit,
    "weekday": lambda seen: not seen.written.isdisjoint(_WEEKDAY_WORDS),
    "relative": lambda seen: seen.any_of(_RELATIVE_WORDS),
}
_FUTURE_CUES = frozenset({"will", "'ll", "scheduled", "due", "planned", "plans", "next",
                          "until", "expected", "shall", "upcoming"})


def publication_date(published: str | None) -> dt.date | None:
    """The publication date as a date, or None when absent or unparseable."""
    if not published:
        return None
    try:
        return dt.date.fromisoformat(str(published)[:10])
    except ValueError:
        return None


def _month_num(token: str) -> int:
    return MONTHS[token.lower().rstrip(".")]


@lru_cache(maxsize=4096)
def _calendar(month: int, day: int, year: int) -> dt.date | None:
    """A calendar date, or None for one that does not exist ("Feb. 30")."""
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _nearest_year(month: int, day: int, base: dt.date) -> dt.date | None:
    """The date with this month and day nearest to `base` (a story names dates close
    to its own)."""
    options = [d for y in (base.year - 1, base.year, base.year + 1)
               if (d := _calendar(month, day, y)) is not None]
    return min(options, key=lambda d: abs((d - base).days)) if options else None


def _add_months(d: dt.date, n: int) -> dt.date:
    m = d.month - 1 + n
    return dt.date(d.year + m // 12, m % 12 + 1, 1)


def _month_end(d: dt.date) -> dt.date:
    return _add_months(d, 1) - dt.timedelta(days=1)


def _future(text: str, pos: int, window: int = 4) -> bool:
    """True when the words before `pos` point ahead ("will meet Tuesday", "is to meet")."""
    before = [m.group().lower().replace("’", "'") for m in _words_before(text, pos, window)]
    if any(w in _FUTURE_CUES for w in before):
        return True
    # "is to meet Tuesday", "are set to sign"
    pairs = zip(before, before[1:], strict=False)
    return any(x in ("is", "are", "set") and y == "to" for x, y in pairs)


def dates(text: str, start: int = 0, end: int | None = None,
          published: str | None = None) -> list[Fact]:
    """Dates, date ranges, years, weekdays and relative dates in ``text[start:end]``,
    with ISO ``lo``/``hi`` filled where the text or the publication date fixes them."""
    end = len(text) if end is None else end
    return _dates(text, start, end, published, _seen(text, start, end))


def _dates(text: str, start: int, end: int, published: str | None, seen: _Seen
           ) -> list[Fact]:
    base = publication_date(published)
    found: list[Fact] = []

    def free(s: int, e: int) -> bool:
        return all(e <= f.start or s >= f.end for f in found)

    for kind, pattern in _DATE_PATTERNS:
        if not _DATE_NEEDS[kind](seen):
            continue
        for m in pattern.finditer(text, start, end):
            s, e = (m.start("month"), m.end()) if kind == "m" else (m.start(), m.end())
            if not free(s, e):
                continue
            fact = _date_fact(kind, m, text, base)
            if fact is not None:
                found.append(fact)
    for m in _DIGITS.finditer(text, start, end) if seen.digit else ():  # bare years
        if free(m.start(), m.end()) and _is_year(text, m):
            y = int(m.group("num"))
            found.append(Fact("date", m.start(), m.end(), m.group(), str(y), grain="year",
                              lo=f"{y:04d}-01-01", hi=f"{y:04d}-12-31"))
    found.sort(key=lambda f: f.start)
    return found


def _date_fact(kind: str, m: re.Match[str], text: str, base: dt.date | None) -> Fact | None:
    """One date Fact from a pattern match (None when it is not a real date)."""
    s, e = (m.start("month"), m.end()) if kind == "m" else (m.start(), m.end())
    written = text[s:e]
    if kind in ("md", "dm", "my", "m"):
        month = _month_num(m.group("month"))
        if m.group("month") == "May" and kind == "m" and not _words_before(text, s, 1):
            return None
        year = int(m.group("year")) if m.groupdict().get("year") else None
        if kind in ("md", "dm"):
            day = int(re.sub(r"\D", "", m.group("day")))
            day2 = m.groupdict().get("day2")
            d2 = int(re.sub(r"\D", "", day2)) if day2 else None
            if year is not None:
                lo = _calendar(month, day, year)
            elif base is not None:
                lo = _nearest_year(month, day, base)
            else:
                lo = None
            hi = _calendar(month, d2, lo.year) if (lo and d2) else lo
            md = f"{month:02d}-{day:02d}" + (f"/{d2:02d}" if d2 else "")
            if lo is None:
                if _calendar(month, day, year or 2000) is None:
                    return None
                norm = (f"{year:04d}-" if year else "") + md
                return Fact("date", s, e, written, norm, grain="days" if d2 else "day")
            norm = lo.isoformat() + (f"/{hi.isoformat()}" if hi and hi != lo else "")
            return Fact("date", s, e, written, norm, grain="days" if d2 else "day",
                        lo=lo.isoformat(), hi=(hi or lo).isoformat())
        if year is None and base is not None:
            # a bare month: the latest one up to the story's month, or the next one when
            # the words before point ahead ("will meet in December")
            if _future(text, s, 6):
                year = base.year if month >= base.month else base.year + 1
            else:
                year = base.year if month <= base.month else base.year - 1
        if year is None:
            return Fact("date", s, e, written, f"--{month:02d}", grain="month")
        first = dt.date(year, month, 1)
        return Fact("date", s, e, written, f"{year:04d}-{month:02d}", grain="month",
                    lo=first.isoformat(), hi=_month_end(first).isoformat())
    if kind == "decade":
        y = int(m.group("year"))
        return Fact("date", s, e, written, f"{y}s", grain="decade", lo=f"{y:04d}-01-01",
                    hi=f"{y + 9:04d}-12-31")
    if kind == "weekday":
        wd = WEEKDAYS.index(m.group("weekday").lower())
        if base is None:
            return Fact("date", s, e, written, m.group("weekday").lower(), grain="weekday")
        if _future(text, s):
            d = base + dt.timedelta(days=(wd - base.weekday()) % 7)
        else:
            d = base - dt.timedelta(days=(base.weekday() - wd) % 7)
        return Fact("date", s, e, written, d.isoformat(), grain="weekday", lo=d.isoformat(),
                    hi=d.isoformat())
    rel = m.group("rel").lower()
    if base is None:
        return Fact("date", s, e, written, " ".join(rel.split()), grain="relative")
    if rel in ("today", "tonight", "yesterday", "tomorrow"):
        d = base + dt.timedelta(days={"yesterday": -1, "tomorrow": 1}.get(rel, 0))
        return Fact("date", s, e, written, d.isoformat(), grain="day", lo=d.isoformat(),
                    hi=d.isoformat())
    unit = m.group("unit").lower()
    step = -1 if re.search(r"\b(?:last|past)\b", rel) else (1 if "next" in rel else 0)
    if unit == "month":
        first = _add_months(base.replace(day=1), step)
        return Fact("date", s, e, written, f"{first.year:04d}-{first.month:02d}",
                    grain="month", lo=first.isoformat(), hi=_month_end(first).isoformat())
    if unit == "year":
        y = base.year + step
        return Fact("date", s, e, written, str(y), grain="year", lo=f"{y:04d}-01-01",
                    hi=f"{y:04d}-12-31")
    monday = base - dt.timedelta(days=base.weekday()) + dt.timedelta(weeks=step)
    return Fact("date", s, e, written, f"week of {monday.isoformat()}", grain="week",
                lo=monday.isoformat(), hi=(monday + dt.timedelta(days=6)).isoformat())


# --- entities ---------------------------------------------------------------------------

_CAP_WORD = re.compile(r"(?:[A-Z][\w’'.]*|[A-Z]\.)(?:-[\w’'.]+)*")


def _strip_possessive(word: str) -> str:
    return re.sub(r"['’]s$", "", word).rstrip(".") if not re.fullmatch(
        r"(?:[A-Z]\.)+", word) else word.replace(".", "")


def entities(text: str, start: int = 0, end: int | None = None) -> list[Fact]:
    """Named people, places and organisations: runs of capitalised words (with "of",
    "de", "bin"... inside), titles such as "Foreign Minister" kept apart from the name."""
    end = len(text) if end is None else end
    tokens = list(_WORD_RE.finditer(text, start, end))
    found: list[Fact] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        word = tok.group()
        if not _is_cap(word) or (_sentence_start(text, tok.start()) and
                                 word.lower() in _NOT_NAMES and not _title(word)):
            i += 1
            continue
        j = i + 1
        while j < len(tokens):
            gap = text[tokens[j - 1].end():tokens[j].start()]
            if gap == ". " and (tokens[j - 1].group() in _ABBREVIATIONS or re.fullmatch(
                    r"[A-Z](?:\.[A-Z])*", tokens[j - 1].group())):
                gap = " "  # "St. Petersburg", "Mr. Bush"
            if gap not in (" ", "-") and gap != " -":
                break
            w = tokens[j].group()
            if _is_cap(w):
                j += 1
                continue
            if (w.lower() in _NAME_CONNECTORS and j + 1 < len(tokens)
                    and (w.lower() in _INNER_CONNECTORS or any(
                        t.group().lower() in ORG_WORDS for t in tokens[i:j]))
                    and _is_cap(tokens[j + 1].group())
                    and text[tokens[j].end():tokens[j + 1].start()] == " "):
                j += 1
                continue
            break
        run = tokens[i:j]
        # drop trailing connectors and a leading lone sentence-initial "The"
        while run and run[-1].group().lower() in _NAME_CONNECTORS:
            run = run[:-1]
        if run and run[0].group() == "The":
            run = run[1:]
        i = j
        if not run:
            continue
        if len(run) == 1 and _sentence_start(text, run[0].start()) and \
                _common_word(text, run[0].group()):
            continue
        fact = _entity_fact(text, run)
        if fact is not None:
            found.append(fact)
    return found


_ABBREVIATIONS = frozenset({"St", "Mr", "Mrs", "Ms", "Dr", "Gen", "Capt", "Lt", "Col",
                            "Sgt", "Gov", "Sen", "Rep", "Prof", "Jr", "Sr", "Ft", "Mt"})
_NOUN_SUFFIXES = ("tion", "sion", "ment", "ness", "ity", "ers", "ings", "ions", "ts", "ance",
                  "ence", "ism")


_WORD_RUN = re.compile(r"[\w-]+")


@lru_cache(maxsize=64)
def _word_runs(text: str) -> frozenset[str]:
    """The maximal runs of word characters and hyphens in `text` (one scan per document,
    not one per capitalised word)."""
    return frozenset(_WORD_RUN.findall(text))


def _common_word(text: str, word: str) -> bool:
    """True for a sentence-initial capitalised word that is an ordinary word: it appears
    in lower case elsewhere, looks like a common noun, or is a pronoun contraction."""
    low = word.lower()
    if low.startswith(("i'", "i’")) or low in ("i", "others", "source"):
        return True
    if _WORD_RUN.fullmatch(low):
        if low in _word_runs(text):
            return True
    elif re.search(rf"(?<![\w-]){re.escape(low)}(?![\w-])", text):
        return True
    return low.endswith(_NOUN_SUFFIXES) and not word.isupper()


def _is_cap(word: str) -> bool:
    return bool(word) and word[0].isupper() and word.upper() != word.lower() and \
        word.lower() not in MONTHS and word.lower().rstrip(".") not in MONTHS and \
        word.lower() not in WEEKDAYS


def _title(word: str) -> bool:
    return word.lower().rstrip(".") in TITLE_WORDS


def _entity_fact(text: str, run: Sequence[re.Match[str]]) -> Fact | None:
    """An entity Fact from a run of capitalised tokens: title words first, then the name."""
    words = [t.group() for t in run]
    k = 0
    if {w.lower() for w in words} & ORG_WORDS:
        k = len(words)  # "Russian Foreign Ministry" is a name, not a title and a name
    while k < len(words) - 1 and (_title(words[k]) or (
            words[k].lower().rstrip("'s’") in NATIONALITIES and _title(words[k + 1]))):
        k += 1
    if k == len(words):
        k = 0
    title = " ".join(words[:k])
    name_words = [_strip_possessive(w) for w in words[k:]]
    if len(name_words) == 1 and name_words[0].lower() in _NOT_NAMES:
        return None
    if len(words) == 1 and _title(words[0]):
        return None
    name = " ".join(name_words)
    lower = {w.lower() for w in name_words}
    if lower & ORG_WORDS:
        etype = "org"
    elif lower & PLACE_WORDS:
        etype = "place"
    elif title and any(w.lower().rstrip(".") in TITLE_WORDS - {"former", "late", "acting"}
                       for w in words[:k]):
        etype = "person"
    else:
        etype = "name"
    s, e = run[0].start(), run[-1].end()
    span_text = text[s:e]
    if span_text.endswith(("'s", "’s")):
        e -= 2
        span_text = text[s:e]
    return Fact("entity", s, e, span_text, name, name=name, title=title, etype=etype)


def _initials(name: str) -> str:
    return "".join(w[0] for w in name.split() if w[0].isupper() and w.lower() not in
                   _NAME_CONNECTORS)


def alias_key(name: str) -> str:
    """A comparison key for a name: case, dots and possessives folded ("U.S." = "US")."""
    return re.sub(r"[.’']", "", name).lower()


def fold_aliases(facts: Iterable[Fact]) -> dict[str, str]:
    """Map each entity name to the fullest name it abbreviates among `facts`: a surname
    to the full name ("Abe" -> "Shinzo Abe") when only one full name ends with it, and
    an acronym to the name whose initials it spells ("ISS" -> "International Space
    Station")."""
    names = sorted({f.name for f in facts if f.kind == "entity" and f.name})
    keys = {alias_key(n): n for n in names}
    by_surname: dict[str, list[str]] = {}
    by_initials: dict[str, list[str]] = {}
    for m in names:  # indexes, so each short name is resolved in one look-up
        if len(m.split()) > 1:
            by_surname.setdefault(alias_key(m.split()[-1]), []).append(m)
            by_initials.setdefault(_initials(m).lower(), []).append(m)
    out: dict[str, str] = {}
    for n in names:
        if len(n.split()) == 1:
            longer = by_surname.get(alias_key(n), [])
            if len(longer) == 1:
                out[n] = longer[0]
                continue
            spelled = by_initials.get(alias_key(n), [])
            if len(spelled) == 1:
                out[n] = spelled[0]
                continue
        out[n] = keys.get(alias_key(n), n)
    return out


def same_entity(a: Fact, b: Fact, aliases: Mapping[str, str] | None = None) -> bool:
    """True when two entity facts name the same thing (aliases and spelling folded)."""
    aliases = aliases or {}
    ka = alias_key(aliases.get(a.name, a.name))
    kb = alias_key(aliases.get(b.name, b.name))
    if ka == kb:
        return True
    pa, pb = ka.split(), kb.split()
    # "Abe" vs "Shinzo Abe" inside one pair of statements
    if len(pa) == 1 and pb and pa[0] == pb[-1]:
        return True
    if len(pb) == 1 and pa and pb[0] == pa[-1]:
        return True
    return _initials(a.name).lower() == kb or _initials(b.name).lower() == ka


# --- negation and stance ----------------------------------------------------------------

_NEGATION_RE = re.compile(
    r"\b(?:no\s+longer|no\s+one|fail(?:ed|s)?\s+to|unable\s+to|cannot|not|never|no|none|"
    r"nor|neither|nobody|nothing|without|rather\s+than|instead\s+of|"
    r"(?:stop(?:ped|s)?|ceas(?:ed|es)|halt(?:ed|s)|quit)(?=\s+\w+ing\b))\b|n['’]t\b", re.I)
_STANCE_RE = re.compile(r"\b(?:" + "|".join(sorted(STANCES, key=len, reverse=True))
                        + r")\b", re.I)


# the words one of which a match of _NEGATION_RE starts with, but for "n't"
_NEGATION_WORDS = frozenset("""no fail failed fails unable cannot not never none nor neither
    nobody nothing without rather instead stop stopped stops ceased ceases halted halts
    quit""".split())
_STANCE_WORDS = frozenset(STANCES)


def _may_negate(seen: _Seen) -> bool:
    return seen.any_of(_NEGATION_WORDS) or "n't" in seen.text or "n’t" in seen.text


def may_hold_outside_facts(text: str) -> bool:
    """True when `text` holds a negator, a stance word or a number: the facts that can
    differ next to a passage two statements share word for word ("More than 40 people
    were hurt" / "40 people were hurt"). A cheap test, run before `extract_facts`."""
    seen = _seen(text)
    return ((_may_negate(seen) and _NEGATION_RE.search(text) is not None)
            or (seen.any_of(_STANCE_WORDS) and _STANCE_RE.search(text) is not None)
            or (seen.digit and _DIGITS.search(text) is not None)
            or (seen.any_of(_NUMBER_WORDS) and _NUMBER_WORD.search(text) is not None))


def negations(text: str, start: int = 0, end: int | None = None) -> list[Fact]:
    """Negators ("not", "n't", "never", "no", "failed to"...) in ``text[start:end]``."""
    end = len(text) if end is None else end
    return _negations(text, start, end, _seen(text, start, end))


def _negations(text: str, start: int, end: int, seen: _Seen) -> list[Fact]:
    out = []
    for m in _NEGATION_RE.finditer(text, start, end) if _may_negate(seen) else ():
        if re.match(r"\.\s?\d", text[m.end():m.end() + 3]):
            continue  # "No. 1"
        word = " ".join(m.group().lower().replace("’", "'").split())
        norm = NEGATORS.get(word, "not" if word.endswith("n't") else word)
        if word.endswith("n't"):
            norm = "not"
        out.append(Fact("negation", m.start(), m.end(), m.group(), norm, polarity=-1))
    return out


def stances(text: str, start: int = 0, end: int | None = None) -> list[Fact]:
    """Stance words ("agreed", "refused", "reluctant", "willing", "rejected"...)."""
    end = len(text) if end is None else end
    return _stances(text, start, end, _seen(text, start, end))


def _stances(text: str, start: int, end: int, seen: _Seen) -> list[Fact]:
    out = []
    for m in _STANCE_RE.finditer(text, start, end) if seen.any_of(_STANCE_WORDS) else ():
        word = m.group().lower()
        if m.start() > 0 and text[m.start() - 1] == "-":
            continue  # "state-backed"
        if not _states_position(text, m, word):
            continue
        out.append(Fact("stance", m.start(), m.end(), m.group(), _stance_lemma(word),
                        polarity=STANCES[word]))
    return out


_VOTE_WORDS = frozenset({"vote", "voted", "votes", "voting", "is", "are", "was", "were"})


def _states_position(text: str, m: re.Match[str], word: str) -> bool:
    """True when a stance word states a position: "against" only after a vote or a copula
    ("voted against"), and "ready", "welcome", "support", "favour" only before "to"."""
    if word == "against":
        # "voted against", "vote (against)"
        before = re.search(r"([^\W\d_]+)\W{0,3}$", text[max(0, m.start() - 30):m.start()])
        return bool(before) and before.group(1).lower() in _VOTE_WORDS and \
            not re.search(r"[.,;:!?]", before.group()[len(before.group(1)):])
    if word in ("ready", "welcome", "support", "favour", "favor"):
        return bool(re.match(r"\s+to\b", text[m.end():m.end() + 4]))
    return True


def _stance_lemma(word: str) -> str:
    """The base form of a stance word ("agreed" -> "agree")."""
    for suffix, repl in (("ied", "y"), ("ies", "y"), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and (base := word[: -len(suffix)] + repl) in STANCES:
            return base
        if word.endswith(suffix) and (base := word[: -len(suffix)] + repl + "e") in STANCES:
            return base
    return word


# --- everything ---------------------------------------------------------------------------

def extract_facts(text: str, start: int = 0, end: int | None = None,
                  published: str | None = None) -> list[Fact]:
    """All facts in ``text[start:end]``, sorted by offset; dates before numbers so that
    "Dec. 15" is one date rather than a number."""
    end = len(text) if end is None else end
    seen = _seen(text, start, end)
    ds = _dates(text, start, end, published, seen)
    ns = _numbers(text, start, end, [(d.start, d.end) for d in ds], seen)
    es = entities(text, start, end)
    # a date inside a name ("May" in "May Day") stays a date; a name that is a date goes
    es = [x for x in es if all(x.end <= d.start or x.start >= d.end for d in ds)
          or len(x.name.split()) > 1]
    out = ds + ns + es + _negations(text, start, end, seen) + _stances(text, start, end, seen)
    out.sort(key=lambda f: (f.start, FACT_KINDS.index(f.kind), f.end))
    return out


def facts_json(facts: Sequence[Fact]) -> str:
    """The facts as compact JSON (fields left at their defaults are left out), for the
    index, which stores each sentence's facts so that `check` need not find them again."""
    return json.dumps([{k: v for k, v in _fields(f).items() if v != _DEFAULTS[k]
                        and (k != "core" or v != (f.start, f.end))}
                       for f in facts], ensure_ascii=False, separators=(",", ":"))


def facts_from_json(text: str) -> list[Fact]:
    """The facts `facts_json` wrote (made without `Fact.__init__`, which sets each of the
    nineteen frozen fields one call at a time: a check reads some 200 stored facts).

    Raises:
        ValueError: text that is not JSON.
        TypeError: JSON that is not a list of facts.
    """
    out = []
    for found in json.loads(text):
        if not isinstance(found, dict) or not _REQUIRED <= found.keys() <= _DEFAULTS.keys():
            raise TypeError(f"not a stored fact: {found!r:.80}")
        values = {**_DEFAULTS, **found}
        values["modifiers"], values["core"] = tuple(values["modifiers"]), tuple(values["core"])
        if values["core"] == (-1, -1):
            values["core"] = (values["start"], values["end"])
        fact = object.__new__(Fact)
        fact.__dict__.update(values)  # what __init__ would set, field for field
        out.append(fact)
    return out


@lru_cache(maxsize=1)
def rules_signature() -> str:
    """A digest of the code that finds facts (this module and the words it counts in): an
    index that stores facts found by other rules must be rebuilt, not trusted."""
    from . import tokens

    digest = hashlib.sha256()
    for module in (__file__, tokens.__file__):
        digest.update(Path(module).read_bytes())
    return digest.hexdigest()[:16]


def with_aliases(facts: Sequence[Fact], aliases: Mapping[str, str]) -> list[Fact]:
    """The facts with entity names replaced by the full names they abbreviate."""
    return [replace(f, name=aliases.get(f.name, f.name), normalized=aliases.get(f.name, f.name))
            if f.kind == "entity" else f for f in facts]


def describe(fact: Fact) -> str:
    """A short human description of a fact's value, as written."""
    return fact.text


__all__ = [
    "FACT_KINDS",
    "Fact",
    "alias_key",
    "dates",
    "describe",
    "entities",
    "extract_facts",
    "facts_from_json",
    "facts_json",
    "fold_aliases",
    "may_hold_outside_facts",
    "format_number",
    "negations",
    "numbers",
    "rules_signature",
    "same_entity",
    "singular",
    "stances",
    "with_aliases",
]
