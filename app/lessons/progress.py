"""Per-session lesson progress, bounded like the run store: a fixed number of sessions (least
recently used out first), idle ones expire, and each keeps one answer per lesson."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from app.runs.lru import ExpiringLRU

DEFAULT_MAX_SESSIONS = 1000
DEFAULT_SESSION_TTL = 6 * 3600.0
DEFAULT_LESSONS_PER_SESSION = 64


@dataclass(frozen=True)
class Answer:
    """The learner's answer to one lesson's question, given before sending."""

    slug: str
    choice: str
    correct: bool
    # The latest run of this lesson the learner saw explained, if any.
    run_id: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "slug": self.slug,
            "choice": self.choice,
            "correct": self.correct,
            "run_id": self.run_id,
        }


class ProgressStore:
    """Answers by session id and lesson slug. The first answer to a lesson is the one kept."""

    def __init__(
        self,
        *,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        lessons_per_session: int = DEFAULT_LESSONS_PER_SESSION,
        session_ttl: float = DEFAULT_SESSION_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_sessions = max_sessions
        self.lessons_per_session = lessons_per_session
        self._sessions: ExpiringLRU[dict[str, Answer]] = ExpiringLRU(
            capacity=max_sessions, ttl=session_ttl, clock=clock
        )

    def __len__(self) -> int:
        return len(self._sessions)

    def answers(self, session_id: str) -> dict[str, Answer]:
        """This session's answers by slug (a copy)."""
        return dict(self._get(session_id, create=False) or {})

    def get(self, session_id: str, slug: str) -> Answer | None:
        found = self._get(session_id, create=False)
        return None if found is None else found.get(slug)

    def answer(self, session_id: str, slug: str, choice: str, correct: bool) -> Answer:
        """Keep the learner's answer; an earlier answer to the same lesson stands."""
        answers = self._get(session_id, create=True)
        assert answers is not None
        existing = answers.get(slug)
        if existing is not None:
            return existing
        if len(answers) >= self.lessons_per_session:
            answers.pop(next(iter(answers)))
        answers[slug] = Answer(slug, choice, correct)
        return answers[slug]

    def saw_run(self, session_id: str, slug: str, run_id: str) -> Answer | None:
        """Note the run whose explanation the learner saw (only after answering)."""
        answers = self._get(session_id, create=False)
        if answers is None or slug not in answers:
            return None
        answers[slug] = replace(answers[slug], run_id=run_id)
        return answers[slug]

    def _get(self, session_id: str, *, create: bool) -> dict[str, Answer] | None:
        found = self._sessions.get(session_id)
        if found is None and create:
            found = self._sessions.put(session_id, {})
        return found


class ProgressBook(Protocol):
    """Lesson progress as the web layer sees it: every call awaited, so a store shared by
    several processes stands in for the in-memory one."""

    async def answers(self, session_id: str) -> dict[str, Answer]: ...

    async def get(self, session_id: str, slug: str) -> Answer | None: ...

    async def answer(self, session_id: str, slug: str, choice: str, correct: bool) -> Answer: ...

    async def saw_run(self, session_id: str, slug: str, run_id: str) -> Answer | None: ...


class MemoryProgress:
    """The embedded default: one process's :class:`ProgressStore`."""

    def __init__(self, memory: ProgressStore) -> None:
        self.memory = memory

    async def answers(self, session_id: str) -> dict[str, Answer]:
        return self.memory.answers(session_id)

    async def get(self, session_id: str, slug: str) -> Answer | None:
        return self.memory.get(session_id, slug)

    async def answer(self, session_id: str, slug: str, choice: str, correct: bool) -> Answer:
        return self.memory.answer(session_id, slug, choice, correct)

    async def saw_run(self, session_id: str, slug: str, run_id: str) -> Answer | None:
        return self.memory.saw_run(session_id, slug, run_id)
