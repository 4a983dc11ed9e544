"""Threads: recurring statements across the timeline, members in date order."""

from __future__ import annotations


def test_island_dispute_thread_runs_from_2013_to_2019_in_date_order(seed_comparison) -> None:
    thread = next(t for t in seed_comparison.threads
                  if any("has prevented the two countries" in m.passage.text
                         for m in t.members))
    assert (thread.first_published, thread.last_published) == ("2013-10-07", "2019-01-04")
    dates = [m.published for m in thread.members]
    assert dates == sorted(dates)
    assert {m.doc[:3] for m in thread.members} == {"000", "001", "002", "003", "004"}
    assert thread.members[0].doc.startswith("003")
    assert thread.label.startswith("dispute that has prevented the two countries")
    for member in thread.members:
        doc = seed_comparison.document(member.doc)
        assert member.sentence.start <= member.passage.start < member.passage.end
        assert member.passage.end <= member.sentence.end
        assert doc.text[member.passage.start:member.passage.end] == member.passage.text


def test_eight_point_plan_thread_is_separate(seed_comparison) -> None:
    plan = [t for t in seed_comparison.threads
            if any("eight-point" in m.passage.text for m in t.members)]
    assert len(plan) == 1
    assert all("dispute" not in m.passage.text for m in plan[0].members)
    assert {m.doc[:3] for m in plan[0].members} == {"001", "002"}


def test_threads_reference_existing_matches_only(seed_comparison) -> None:
    ids = {m.id for m in seed_comparison.matches}
    in_threads = [mid for t in seed_comparison.threads for mid in t.matches]
    assert sorted(in_threads, key=lambda x: int(x[1:])) == sorted(ids, key=lambda x: int(x[1:]))
