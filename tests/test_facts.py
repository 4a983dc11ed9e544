"""Facts in a statement: numbers, dates, names, negation and stance, on the seeds' text."""

from __future__ import annotations

import dataclasses
import re

import pytest

from newsdiff.facts import (
    FACT_KINDS,
    dates,
    entities,
    extract_facts,
    facts_from_json,
    facts_json,
    fold_aliases,
    negations,
    numbers,
    same_entity,
    stances,
)

from conftest import seed_text

S000 = seed_text("000")
S002 = seed_text("002")
S003 = seed_text("003")
S004 = seed_text("004")


def by_text(facts, text):
    """The one fact written exactly as `text`."""
    (fact,) = [f for f in facts if f.text == text]
    return fact


def test_every_fact_span_is_the_document_text():
    for text, published in ((S000, "2016-11-07"), (S004, "2019-01-04")):
        for fact in extract_facts(text, published=published):
            assert text[fact.start:fact.end] == fact.text


def test_facts_survive_the_index_encoding_unchanged():
    kinds = set()
    for text, published in ((S000, "2016-11-07"), (S002, "2016-11-19"), (S003, "2013-10-07"),
                            (S004, "2019-01-04")):
        facts = extract_facts(text, published=published)
        decoded = facts_from_json(facts_json(facts))
        assert decoded == facts
        # made without __init__: the same fields, hashes and immutability as the originals
        assert [vars(f) for f in decoded] == [vars(f) for f in facts]
        assert [hash(f) for f in decoded] == [hash(f) for f in facts]
        kinds |= {f.kind for f in facts}
    assert kinds == set(FACT_KINDS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        decoded[0].value = 1.0  # type: ignore[misc]
    for damaged in ('[{"kind":"number","start":1,"end":2,"text":"x"}]',  # no normalized
                    '[{"kind":"number","start":1,"end":2,"text":"x","normalized":"x",'
                    '"colour":"red"}]', '[["number",1,2]]'):
        with pytest.raises(TypeError, match="not a stored fact"):
            facts_from_json(damaged)


def test_numbers_in_digits_and_words_with_counted_noun():
    found = numbers(S002)
    years = by_text(found, "70 years")
    assert (years.value, years.unit, years.comparator) == (70.0, "year", "")
    minutes = by_text(found, "70-minute")
    assert (minutes.value, minutes.unit) == (70.0, "minute")
    islands = [f for f in numbers(S004) if f.unit == "island"]
    assert [(f.text, f.value, f.modifiers) for f in islands] == [
        ("two smaller islands", 2.0, ("smaller",))]


def test_ordinals_in_words_and_digits():
    (summit,) = [f for f in numbers(S004) if f.unit == "summit"]
    assert (summit.text, summit.value, summit.ordinal) == ("25th summit", 25.0, True)
    third = by_text(numbers(seed_text("001")), "third meeting")
    assert (third.value, third.ordinal, third.normalized) == (3.0, True, "3rd meeting")
    fourth = [f for f in numbers(S003) if f.value == 4.0]
    assert fourth and fourth[0].ordinal and fourth[0].unit == ""  # "their fourth over ..."


def test_comparator_belongs_to_the_number():
    more = by_text(numbers(S004), "more than 70 years")
    assert (more.value, more.comparator, more.normalized) == (70.0, ">", "> 70 year")
    text = "at least 5 people died and about 40 were hurt; nearly 1000 troops stayed"
    got = {f.value: f.comparator for f in numbers(text)}
    assert got == {5.0: ">=", 40.0: "~", 1000.0: "~<"}


def test_words_and_digits_give_the_same_value():
    assert numbers("four islands")[0].value == numbers("4 islands")[0].value == 4.0
    assert numbers("US$ 27.5 billion")[0].value == 27.5e9
    assert numbers("$374m in profit")[0].value == 374e6


def test_times_scores_and_years_are_not_counts():
    text = "docked at 12:05 EDT after a 4-2 win in 2006"
    assert numbers(text) == []
    assert [f.normalized for f in dates(text)] == ["2006"]


def test_one_of_and_no_one_are_not_numbers():
    assert numbers("one of the world's largest contingents; no one was arrested") == []


def test_dates_are_normalised_against_the_article_date():
    found = dates(S000, published="2016-11-07")
    assert by_text(found, "Dec. 15").normalized == "2016-12-15"
    nov = by_text(found, "Nov. 19-20")
    assert (nov.lo, nov.hi, nov.grain) == ("2016-11-19", "2016-11-20", "days")
    assert by_text(found, "next month").normalized == "2016-12"
    monday = [f for f in found if f.text == "Monday"][0]
    assert monday.normalized == "2016-11-07"  # "sources said Monday", published that Monday
    tuesday = by_text(found, "Tuesday")
    assert tuesday.normalized == "2016-11-08"  # "is to meet Tuesday": ahead, not behind
    mays = [f for f in found if f.text == "May"]
    assert {f.normalized for f in mays} == {"2016-05"}


def test_date_range_with_and_and_bare_years():
    found = dates(seed_text("001"), published="2016-12-03")
    both = by_text(found, "Dec. 15 and 16")
    assert both.normalized == "2016-12-15/2016-12-16"
    assert by_text(dates(S003, published="2013-10-07"), "1945").grain == "year"


def test_weekdays_and_dates_without_an_article_date_stay_as_written():
    found = dates("Abe spoke on Friday; the summit is on Dec. 15 and 16.")
    assert [(f.text, f.normalized) for f in found] == [
        ("Friday", "friday"), ("Dec. 15 and 16", "12-15/16")]


def test_names_with_titles_kept_apart():
    found = entities(S000)
    kishida = by_text(found, "Foreign Minister Fumio Kishida")
    assert (kishida.name, kishida.title, kishida.etype) == ("Fumio Kishida", "Foreign Minister",
                                                            "person")
    morgulov = by_text(found, "Russian Deputy Foreign Minister Igor Morgulov")
    assert morgulov.name == "Igor Morgulov"
    # "Abe and Putin" are two people, an organisation keeps its "and"
    assert {"Abe", "Putin"} <= {f.name for f in found}
    assert "Japan Russia Intergovernmental Committee on Trade and Economic Issues" in {
        f.name for f in found}


def test_sentence_initial_common_words_are_not_names():
    names = {f.name for f in entities(S003)}
    assert "Tensions" not in names and "Efforts" not in names
    assert "St Petersburg" in names


def test_aliases_fold_surname_and_acronym():
    facts = entities(S002) + entities("the International Space Station (ISS) and the ISS")
    aliases = fold_aliases(facts)
    assert aliases["Abe"] == "Shinzo Abe"
    assert aliases["ISS"] == "International Space Station"
    abe = [f for f in facts if f.text == "Abe"][0]
    full = by_text(facts, "Prime Minister Shinzo Abe")
    assert same_entity(abe, full, aliases)
    lima = by_text(facts, "Lima")
    assert not same_entity(abe, lima, aliases)


def test_negators():
    found = negations(S000 + " " + S002 + " Bill No. 5 passed.")
    assert [f.normalized for f in found] == ["not", "not", "not", "failed to"]
    assert [f.text for f in negations("It didn’t help; nor did she plan to stop.")] == [
        "n’t", "nor"]


def test_stance_words_with_polarity():
    found = stances(S000 + " " + S004)
    assert [(f.text, f.polarity) for f in found] == [
        ("reluctant", -1), ("willing", 1), ("agreed", 1), ("agreed", 1), ("agree", 1),
        ("keen", 1), ("rejected", -1), ("agreed", 1), ("agreed", 1), ("opposed", -1)]
    assert stances("the state-backed office") == []


def test_sentence_initial_negators_are_not_names():
    text = "Nor did Putin plan to visit Tokyo. Neither was the treaty signed."
    assert [f.name for f in entities(text)] == ["Putin", "Tokyo"]
    assert [f.normalized for f in negations(text)] == ["nor", "neither"]


def test_against_states_a_vote_even_in_brackets():
    text = "Most voters vote (against) the treaty; the fight against corruption goes on."
    assert [f.text for f in stances(text)] == ["against"]


def test_skipping_patterns_a_sentence_cannot_match_never_changes_the_facts(
        monkeypatch) -> None:
    """Each pattern is run only over sentences holding a word (or digit) its matches need;
    with every pattern run over every sentence, the facts are the same: on the seed
    articles, and on sentences made of every trigger word, in odd cases, and with the
    letters IGNORECASE matches with ASCII ones ("ſix" is "six" to a case-blind pattern)."""
    from newsdiff import facts
    from newsdiff.facts import STANCES, extract_facts, may_hold_outside_facts

    texts = [seed_text(f"00{k}") for k in range(5)] + [". ".join(parts) + "." for parts in (
        ["He did NOT go", "nor did she", "they failed to act", "Fails to act",
         "were unable to leave", "it cannot wait", "no one came", "nobody", "nothing",
         "none", "neither", "Never again", "without it", "rather than that",
         "instead of this", "They stopped talking", "it ceased trading", "it ceases trading",
         "they halted mining", "it halts mining", "stop smoking", "they quit smoking",
         "It won’t", "we DON'T", "No"],
        [f"They {w} it" for w in STANCES] + [f"THEY {w.upper()} IT" for w in STANCES],
        ["Twenty-first", "Seventy-five", "a dozen", "ſix ships", "ſeventy-ſeven ſhips",
         "the ſecond one", "K℃ Kelvin", "İstanbul", "ınto", "4,500 km", "$3bn", "12%",
         "1,234.5 tonnes", "Three", "hundredth"],
        ["On Jan. 5 and Sept 3, 2004", "in May", "the 1990s", "next week", "TODAY",
         "Yesterday", "last MONTH", "on Tuesday", "21 August 1945", "the 16th of November",
         "June 2003", "this ſeptember"],
        ["Nothing here to see", "", "ſ"])]
    sentences = [(t, m.start(), m.end()) for t in texts
                 for m in re.finditer(r"[^.;!?]+[.;!?]?", t)] + [
        (t, 0, len(t)) for t in texts]
    quick = [extract_facts(t, s, e, "2005-05-18") for t, s, e in sentences]
    holds = [may_hold_outside_facts(t[s:e]) for t, s, e in sentences]
    everything = facts._Seen(facts._MONTH_WORDS | facts._WEEKDAY_WORDS, None, True, "n't")
    monkeypatch.setattr(facts, "_seen", lambda *a: everything)
    assert [extract_facts(t, s, e, "2005-05-18") for t, s, e in sentences] == quick
    assert [may_hold_outside_facts(t[s:e]) for t, s, e in sentences] == holds
    assert sum(map(len, quick)) > 200 and any(holds) and not all(holds)
    kinds = {f.kind for fs in quick for f in fs}
    assert kinds == {"number", "date", "entity", "negation", "stance"}
