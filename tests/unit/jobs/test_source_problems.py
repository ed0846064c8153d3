"""Parts of a source that could not be read, as kept on the job row: bounded, once per page."""

from __future__ import annotations

from shared.jobs.source_problems import MAX_KEPT, MAX_MESSAGE_CHARS, JobProblem, SourceProblems


def problem(n: int, message: str = "HTTP 404") -> JobProblem:
    return JobProblem("SourceLinkBroken", f"https://x.example/{n}/catalog.json", message)


def test_a_page_is_counted_once_however_often_it_is_delivered() -> None:
    recorded = SourceProblems().add(0, [problem(1), problem(2)])
    assert recorded.add(0, [problem(1), problem(2)]) == recorded
    later = recorded.add(3, [problem(3)])
    assert later.count == 3
    assert [p.url for p in later.first] == [p.url for p in (problem(1), problem(2), problem(3))]
    # A redriven earlier page adds nothing either.
    assert later.add(1, [problem(9)]) == later


def test_a_page_without_problems_changes_nothing() -> None:
    recorded = SourceProblems().add(0, [problem(1)])
    assert recorded.add(5, []) == recorded


def test_the_first_few_are_kept_and_all_are_counted() -> None:
    recorded = SourceProblems()
    for page in range(10):
        recorded = recorded.add(page, [problem(page * 10 + n, "x" * 5000) for n in range(10)])
    assert recorded.count == 100
    assert len(recorded.first) == MAX_KEPT
    assert all(len(p.message) == MAX_MESSAGE_CHARS for p in recorded.first)
    # What the job row stores stays far below a Table property's 32 K characters.
    assert len(recorded.to_json()) < 16_000


def test_json_round_trip() -> None:
    recorded = SourceProblems().add(2, [problem(1), JobProblem("SourceLinkUnavailable", None, "m")])
    assert SourceProblems.from_json(recorded.to_json()) == recorded
    assert SourceProblems.from_json(None) == SourceProblems()
    assert SourceProblems.from_json("") == SourceProblems()
