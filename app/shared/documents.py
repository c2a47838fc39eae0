"""Small documents on Redis, bounded like the in-memory ``ExpiringLRU``: lesson progress per
session and each learner's attack.

A kind of document keeps at most ``capacity`` of them (the least recently used leave first,
tracked in a sorted set) and each expires ``ttl`` seconds after its last use (a Redis TTL).
Changes happen under the document's lock (``editing``), so two processes never lose each
other's change.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from typing import Any, Generic, TypeVar

from app.attack.policy import Policy
from app.attack.stage import Stage
from app.attack.store import DEFAULT_MAX_ATTACKS, DEFAULT_TTL, Attack, new_secret
from app.lessons.progress import (
    DEFAULT_LESSONS_PER_SESSION,
    DEFAULT_MAX_SESSIONS,
    DEFAULT_SESSION_TTL,
    Answer,
)
from app.shared.connection import FAILURES, RedisUnavailable, SharedState, dumps, loads, text

V = TypeVar("V")
T = TypeVar("T")


class Documents(Generic[V]):
    """Documents of one ``kind`` by id."""

    def __init__(
        self,
        shared: SharedState,
        kind: str,
        *,
        capacity: int,
        ttl: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.shared = shared
        self.redis = shared.client
        self.kind = kind
        self.capacity = capacity
        self.ttl = ttl
        self.ttl_ms = int(ttl * 1000)
        self.clock = clock

    def _key(self, doc_id: str) -> str:
        return self.shared.key(self.kind, doc_id)

    @property
    def _index(self) -> str:
        return self.shared.key(self.kind + "-used")


    async def get(self, doc_id: str) -> V | None:
        """The live document (marked as just used)."""

        async def work() -> V | None:
            found: V | None = loads(await self.redis.get(self._key(doc_id)))
            if found is not None:
                async with self.redis.pipeline(transaction=False) as pipe:
                    pipe.pexpire(self._key(doc_id), self.ttl_ms)
                    pipe.zadd(self._index, {doc_id: self.clock()})
                    await pipe.execute()
            return found

        return await self.shared.call(work)

    async def _put(self, doc_id: str, value: V) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key(doc_id), dumps(value), px=self.ttl_ms)
            pipe.zadd(self._index, {doc_id: self.clock()})
            await pipe.execute()
        await self._trim()

    async def _trim(self) -> None:
        """Forget the expired, then the least recently used past the capacity."""
        await self.redis.zremrangebyscore(self._index, "-inf", self.clock() - self.ttl)
        extra = int(await self.redis.zcard(self._index)) - self.capacity
        if extra > 0:
            popped: list[Any] = await self.redis.zpopmin(self._index, extra)
            await self.redis.delete(*(self._key(text(doc_id)) for doc_id, _ in popped))

    @asynccontextmanager
    async def editing(
        self, doc_id: str, make: Callable[[], V] | None = None
    ) -> AsyncIterator[V | None]:
        """The document for the block, kept as it is when the block ends; made by ``make``
        when there is none (None without ``make``)."""
        try:
            async with self.shared.locked(self.kind, doc_id):
                found: V | None = loads(await self.redis.get(self._key(doc_id)))
                if found is None and make is not None:
                    found = make()
                yield found
                if found is not None:
                    await self._put(doc_id, found)
        except FAILURES as error:
            raise RedisUnavailable(self.shared.where, error) from error

    async def count(self) -> int:
        async def work() -> int:
            await self.redis.zremrangebyscore(self._index, "-inf", self.clock() - self.ttl)
            return int(await self.redis.zcard(self._index))

        return await self.shared.call(work)


class RedisProgress:
    """Lesson progress (``ProgressBook``) shared by every process."""

    def __init__(
        self,
        shared: SharedState,
        *,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        lessons_per_session: int = DEFAULT_LESSONS_PER_SESSION,
        session_ttl: float = DEFAULT_SESSION_TTL,
    ) -> None:
        self.docs: Documents[dict[str, Answer]] = Documents(
            shared, "progress", capacity=max_sessions, ttl=session_ttl
        )
        self.lessons_per_session = lessons_per_session

    async def answers(self, session_id: str) -> dict[str, Answer]:
        return dict(await self.docs.get(session_id) or {})

    async def get(self, session_id: str, slug: str) -> Answer | None:
        return (await self.answers(session_id)).get(slug)

    async def answer(self, session_id: str, slug: str, choice: str, correct: bool) -> Answer:
        async with self.docs.editing(session_id, dict) as answers:
            assert answers is not None
            existing = answers.get(slug)
            if existing is not None:
                return existing
            if len(answers) >= self.lessons_per_session:
                answers.pop(next(iter(answers)))
            answers[slug] = Answer(slug, choice, correct)
            return answers[slug]

    async def saw_run(self, session_id: str, slug: str, run_id: str) -> Answer | None:
        async with self.docs.editing(session_id) as answers:
            if answers is None or slug not in answers:
                return None
            answers[slug] = replace(answers[slug], run_id=run_id)
            return answers[slug]


class RedisAttacks:
    """Attacks (``AttackBook``) shared by every process."""

    def __init__(
        self,
        shared: SharedState,
        *,
        max_attacks: int = DEFAULT_MAX_ATTACKS,
        ttl: float = DEFAULT_TTL,
    ) -> None:
        self.docs: Documents[Attack] = Documents(shared, "attack", capacity=max_attacks, ttl=ttl)

    async def get(self, attack_id: str) -> Attack | None:
        return await self.docs.get(attack_id)

    async def start(self, attack_id: str, stage: Stage, policy: Policy, case: str | None) -> Attack:
        def make() -> Attack:
            return Attack(attack_id, new_secret(), stage, policy, case)

        async with self.docs.editing(attack_id, make) as attack:
            assert attack is not None
            return attack

    def editing(self, attack_id: str) -> AbstractAsyncContextManager[Attack | None]:
        return self.docs.editing(attack_id)

    async def count(self) -> int:
        return await self.docs.count()
