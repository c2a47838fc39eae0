"""Lesson progress per session: bounded, expiring, first answer stands."""

from __future__ import annotations

from app.lessons import ProgressStore


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_first_answer_stands() -> None:
    store = ProgressStore()
    first = store.answer("s1", "simple-get", "no", True)
    again = store.answer("s1", "simple-get", "yes", False)
    assert again == first and store.get("s1", "simple-get") == first


def test_sessions_do_not_see_each_other() -> None:
    store = ProgressStore()
    store.answer("s1", "simple-get", "no", True)
    assert store.get("s2", "simple-get") is None
    assert store.answers("s2") == {}
    assert len(store) == 1  # reading does not create


def test_sessions_are_bounded_least_recently_used_first_out() -> None:
    store = ProgressStore(max_sessions=2)
    store.answer("a", "x", "yes", True)
    store.answer("b", "x", "yes", True)
    store.get("a", "x")  # a is used again: b is now the oldest
    store.answer("c", "x", "yes", True)
    assert len(store) == 2
    assert store.get("b", "x") is None and store.get("a", "x") is not None


def test_answers_per_session_are_bounded() -> None:
    store = ProgressStore(lessons_per_session=3)
    for slug in "abcde":
        store.answer("s", slug, "yes", True)
    assert list(store.answers("s")) == ["c", "d", "e"]


def test_idle_sessions_expire() -> None:
    clock = Clock()
    store = ProgressStore(session_ttl=10, clock=clock)
    store.answer("s", "x", "yes", True)
    clock.now = 9
    assert store.get("s", "x") is not None
    clock.now = 30
    assert store.get("s", "x") is None and len(store) == 0


def test_a_run_is_noted_only_after_answering() -> None:
    store = ProgressStore()
    assert store.saw_run("s", "x", "run1") is None
    store.answer("s", "x", "yes", False)
    noted = store.saw_run("s", "x", "run1")
    assert noted is not None and noted.run_id == "run1" and noted.correct is False
    assert noted.to_json() == {"slug": "x", "choice": "yes", "correct": False, "run_id": "run1"}
