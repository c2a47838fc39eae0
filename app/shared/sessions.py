"""Sessions and runs on Redis: the ``SessionStore`` of ``app.runs.sessions`` for several
processes, with the in-memory store's bounds.

Keys (under the playground's prefix), each expiring ``session_ttl`` after the session was last
used:

- ``s:<session>``: the session (its runs' ids, URL ids and sizes, its size, whether in use);
- ``r:<run>``: one run (scenario, prediction, legs, result);
- ``t:<url id>``: the run answering at ``/r/<url id>``;
- ``used`` and ``unused``: the sessions of each pool by last use (sorted sets), so the least
  recently used leave first; ``sizes`` and ``bytes``: each session in use's size and their sum,
  bounded by the store's budget.

A session's changes happen under its lock, so two processes recording legs of one run never
lose one. Sizes are the in-memory store's estimates (``footprint``), so the same budgets hold.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from app.cors import Prediction, Scenario, ServerResponse
from app.runs.sessions import start_run
from app.runs.store import (
    DEFAULT_EXCHANGES_PER_RUN,
    DEFAULT_MAX_SESSIONS,
    DEFAULT_MAX_UNUSED_SESSIONS,
    DEFAULT_RUNS_PER_SESSION,
    DEFAULT_SESSION_TTL,
    SESSION_OVERHEAD,
    BrowserResult,
    Budgets,
    Exchange,
    Run,
    Session,
    add_leg,
    is_valid_id,
    leg_to_keep,
    new_id,
    new_run,
    result_size,
    set_result,
)
from app.shared.connection import SharedState, dumps, loads, text

T = TypeVar("T")


@dataclass
class StoredSession:
    """What ``s:<session>`` holds: the session without its runs."""

    last_seen: float
    size: int = SESSION_OVERHEAD
    used: bool = False
    # [run id, URL id, size], oldest first.
    runs: list[list[Any]] = field(default_factory=list)


class RedisSessions:
    """Sessions and runs shared by every process on one Redis."""

    def __init__(
        self,
        shared: SharedState,
        *,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        max_unused_sessions: int = DEFAULT_MAX_UNUSED_SESSIONS,
        runs_per_session: int = DEFAULT_RUNS_PER_SESSION,
        exchanges_per_run: int = DEFAULT_EXCHANGES_PER_RUN,
        session_ttl: float = DEFAULT_SESSION_TTL,
        budgets: Budgets | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.shared = shared
        self.redis = shared.client
        self.max_sessions = max_sessions
        self.max_unused_sessions = max_unused_sessions
        self.runs_per_session = runs_per_session
        self.exchanges_per_run = exchanges_per_run
        self.session_ttl = session_ttl
        self.ttl_ms = int(session_ttl * 1000)
        self.budgets = budgets or Budgets()
        self.clock = clock

    # --- keys and failures -----------------------------------------------------------------

    def _s(self, session_id: str) -> str:
        return self.shared.key("s", session_id)

    def _r(self, run_id: str) -> str:
        return self.shared.key("r", run_id)

    def _t(self, url_id: str) -> str:
        return self.shared.key("t", url_id)

    @property
    def _used(self) -> str:
        return self.shared.key("used")

    @property
    def _unused(self) -> str:
        return self.shared.key("unused")

    @property
    def _sizes(self) -> str:
        return self.shared.key("sizes")

    @property
    def _bytes(self) -> str:
        return self.shared.key("bytes")


    # --- reading ---------------------------------------------------------------------------

    async def _load(self, session_id: str) -> StoredSession | None:
        found: StoredSession | None = loads(await self.redis.get(self._s(session_id)))
        return found

    async def _save(self, session_id: str, stored: StoredSession) -> None:
        await self.redis.set(self._s(session_id), dumps(stored), px=self.ttl_ms)

    async def _runs(self, stored: StoredSession) -> OrderedDict[str, Run]:
        runs: OrderedDict[str, Run] = OrderedDict()
        if not stored.runs:
            return runs
        values = await self.redis.mget([self._r(rid) for rid, _, _ in stored.runs])
        for (rid, _, _), value in zip(stored.runs, values, strict=True):
            run: Run | None = loads(value)
            if run is not None:
                runs[rid] = run
        return runs

    async def new_session(self) -> Session:
        found = await self.session(new_id(), create=True)
        assert found is not None
        return found

    async def session(self, session_id: str, *, create: bool = False) -> Session | None:
        return await self.shared.call(lambda: self._session(session_id, create))

    async def _session(self, session_id: str, create: bool) -> Session | None:
        if not is_valid_id(session_id):
            return None
        now = self.clock()
        stored = await self._load(session_id)
        if stored is None:
            if not create:
                return None
            stored = StoredSession(now)
            await self._save(session_id, stored)
            await self.redis.zadd(self._unused, {session_id: now})
            await self._trim_unused()
            return Session(session_id, now, size=stored.size)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(self._used if stored.used else self._unused, {session_id: now})
            pipe.pexpire(self._s(session_id), self.ttl_ms)
            for rid, url_id, _ in stored.runs:
                pipe.pexpire(self._r(rid), self.ttl_ms)
                pipe.pexpire(self._t(url_id), self.ttl_ms)
            await pipe.execute()
        return Session(session_id, now, await self._runs(stored), size=stored.size)

    async def run(self, run_id: str) -> Run | None:
        return await self.shared.call(lambda: self._run(run_id))

    async def _run(self, run_id: str) -> Run | None:
        run: Run | None = loads(await self.redis.get(self._r(run_id)))
        if run is None or not await self.redis.exists(self._s(run.session_id)):
            return None
        return run

    async def target(self, url_id: str) -> Run | None:
        async def work() -> Run | None:
            run_id = await self.redis.get(self._t(url_id))
            return None if run_id is None else await self._run(text(run_id))

        return await self.shared.call(work)

    async def unused_count(self) -> int:
        await self.shared.call(self._purge)
        return int(await self.shared.call(lambda: self.redis.zcard(self._unused)))

    async def session_count(self) -> int:
        await self.shared.call(self._purge)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zcard(self._used)
            pipe.zcard(self._unused)
            used, unused = await self.shared.call(pipe.execute)
        return int(used) + int(unused)

    async def size(self) -> int:
        """The estimated bytes of the sessions in use (the in-memory store's ``size``)."""
        return int(await self.shared.call(lambda: self.redis.get(self._bytes)) or 0)

    # --- changing ----------------------------------------------------------------------------

    async def mark_used(self, session: Session) -> None:
        async def work() -> None:
            async with self.shared.locked("s", session.id):
                stored = await self._load(session.id) or StoredSession(self.clock())
                if not stored.used:
                    await self._use(session.id, stored)
                    await self._save(session.id, stored)

        await self.shared.call(work)

    async def _use(self, session_id: str, stored: StoredSession) -> None:
        """Move the session to the pool in use (its bytes counted), making room first."""
        await self._make_room(stored.size, keep=session_id, adding=True)
        stored.used = True
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self._unused, session_id)
            pipe.zadd(self._used, {session_id: self.clock()})
            pipe.hset(self._sizes, session_id, stored.size)
            pipe.incrby(self._bytes, stored.size)
            await pipe.execute()

    async def _count(self, session_id: str, stored: StoredSession, change: int) -> None:
        stored.size += change
        if stored.used:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hincrby(self._sizes, session_id, change)
                pipe.incrby(self._bytes, change)
                await pipe.execute()

    async def add_run(
        self,
        session: Session,
        scenario: Scenario,
        prediction: Prediction,
        *,
        run_id: str,
        target: str,
        notes: tuple[str, ...] = (),
        hops: tuple[ServerResponse, ...] = (),
        url_id: str = "",
        guess: tuple[tuple[str, str], ...] = (),
    ) -> Run:
        run = new_run(
            self.budgets, session.id, scenario, prediction,
            run_id=run_id, target=target, notes=notes, hops=hops, url_id=url_id, guess=guess,
        )  # fmt: skip

        async def work() -> None:
            async with self.shared.locked("s", session.id):
                stored = await self._load(session.id) or StoredSession(self.clock())
                if not stored.used:
                    await self._use(session.id, stored)
                while len(stored.runs) >= self.runs_per_session:
                    await self._drop_oldest_run(session.id, stored)
                await self._grow(session.id, stored, run.size, keep=None)
                stored.runs.append([run.id, run.url_id, run.size])
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.set(self._r(run.id), dumps(run), px=self.ttl_ms)
                    pipe.set(self._t(run.url_id), run.id, px=self.ttl_ms)
                    pipe.set(self._s(session.id), dumps(stored), px=self.ttl_ms)
                    await pipe.execute()
                kept = {rid for rid, _, _ in stored.runs}
                for gone in [rid for rid in session.runs if rid not in kept]:
                    del session.runs[gone]
                session.runs[run.id] = run
                session.size = stored.size

        await self.shared.call(work)
        return run

    async def start_run(
        self,
        session: Session,
        scenario: Scenario,
        target_origin: str,
        browser: str,
        notes: tuple[str, ...] = (),
    ) -> Run:
        return await start_run(self, session, scenario, target_origin, browser, notes)

    async def record(self, run: Run, exchange: Exchange, *, published: int = 0) -> bool:
        async def work() -> bool:
            async with self.shared.locked("s", run.session_id):
                fresh, stored, total = await self._read_run(run)
                if fresh is None:  # gone meanwhile: the leg is only counted
                    leg_to_keep(run, exchange, self.budgets, self.exchanges_per_run)
                    return False
                fitted = leg_to_keep(fresh, exchange, self.budgets, self.exchanges_per_run)
                if fitted is not None:
                    await self._grow_run(fresh, stored, total, fitted[1])
                    add_leg(fresh, *fitted)
                fresh.published = published or fresh.published
                await self._write_run(fresh, stored, fitted[1] if fitted else 0)
                run.__dict__.update(fresh.__dict__)
                return fitted is not None

        return await self.shared.call(work)

    async def finish(
        self,
        run: Run,
        result: BrowserResult,
        differences: tuple[str, ...],
        *,
        published: int = 0,
    ) -> None:
        async def work() -> None:
            async with self.shared.locked("s", run.session_id):
                found, stored, total = await self._read_run(run)
                fresh = found or run
                size = result_size(fresh, result, differences, self.budgets)
                await self._grow_run(fresh, stored, total, size)
                set_result(fresh, result, differences, size)
                fresh.published = published or fresh.published
                await self._write_run(fresh, stored, size)
                run.__dict__.update(fresh.__dict__)

        await self.shared.call(work)

    async def _read_run(self, run: Run) -> tuple[Run | None, StoredSession | None, int]:
        """The run and its session as Redis holds them, and the bytes in use (one trip)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(self._r(run.id))
            pipe.get(self._s(run.session_id))
            pipe.get(self._bytes)
            fresh, stored, total = await pipe.execute()
        return loads(fresh), loads(stored), int(total or 0)

    async def _write_run(self, run: Run, stored: StoredSession | None, grown: int) -> None:
        """Keep the run, and its session's count of ``grown`` more bytes (one trip)."""
        entry = None if stored is None else next((e for e in stored.runs if e[0] == run.id), None)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._r(run.id), dumps(run), px=self.ttl_ms)
            if stored is not None and entry is not None and grown:
                pipe.set(self._s(run.session_id), dumps(stored), px=self.ttl_ms)
                if stored.used:
                    pipe.hincrby(self._sizes, run.session_id, grown)
                    pipe.incrby(self._bytes, grown)
            await pipe.execute()

    # --- room --------------------------------------------------------------------------------

    async def _grow_run(
        self, run: Run, stored: StoredSession | None, total: int, size: int
    ) -> None:
        """Make room for ``size`` more bytes of ``run`` in its session (if it still keeps the
        run): its oldest other runs, then other sessions, when a budget would be passed; the
        caller counts the bytes (``_write_run``). Called holding the session's lock."""
        entry = None if stored is None else next((e for e in stored.runs if e[0] == run.id), None)
        if stored is None or entry is None:
            return
        while stored.size + size > self.budgets.session:
            if not await self._drop_oldest_run(run.session_id, stored, keep=run.id):
                break
        if stored.used and total + size > self.budgets.store:
            await self._make_room(size, keep=run.session_id)
        stored.size += size
        entry[2] += size

    async def _grow(
        self, session_id: str, stored: StoredSession, size: int, *, keep: str | None
    ) -> None:
        """Make room for ``size`` more bytes in the session (its oldest runs but ``keep``
        first, then other sessions), then count them."""
        while stored.size + size > self.budgets.session:
            if not await self._drop_oldest_run(session_id, stored, keep=keep):
                break
        await self._make_room(size, keep=session_id)
        await self._count(session_id, stored, size)

    async def _drop_oldest_run(
        self, session_id: str, stored: StoredSession, keep: str | None = None
    ) -> bool:
        oldest = next((e for e in stored.runs if e[0] != keep), None)
        if oldest is None:
            return False
        stored.runs.remove(oldest)
        await self._forget_run(oldest[0], oldest[1])
        await self._count(session_id, stored, -oldest[2])
        return True

    async def _forget_run(self, run_id: str, url_id: str) -> None:
        await self.redis.delete(self._r(run_id))
        # The URL goes only if this run still answers there (a newer one may use it).
        if await self.redis.get(self._t(url_id)) == run_id.encode():
            await self.redis.delete(self._t(url_id))

    async def _make_room(self, size: int, *, keep: str | None, adding: bool = False) -> None:
        """Let the least recently used sessions in use (but ``keep``) go until ``size`` more
        bytes fit the store's budget (and, ``adding`` one, a session more fits the count)."""
        await self._purge()
        while True:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.zcard(self._used)
                pipe.get(self._bytes)
                pipe.zrange(self._used, 0, 1)
                count, total, oldest = await pipe.execute()
            room = self.max_sessions - (1 if adding else 0)
            over = int(total or 0) + size > self.budgets.store or int(count) > room
            candidates = [text(sid) for sid in oldest if text(sid) != keep]
            if not over or not candidates:
                return
            await self._forget_session(candidates[0])

    async def _trim_unused(self) -> None:
        await self._purge()
        extra = int(await self.redis.zcard(self._unused)) - self.max_unused_sessions
        if extra > 0:
            popped: list[Any] = await self.redis.zpopmin(self._unused, extra)
            for sid, _ in popped:
                stored = await self._load(text(sid))
                if stored is not None and not stored.used:
                    await self.redis.delete(self._s(text(sid)))

    async def _purge(self) -> None:
        """Forget the sessions idle past the TTL from both pools (their keys expired)."""
        horizon = self.clock() - self.session_ttl
        await self.redis.zremrangebyscore(self._unused, "-inf", horizon)
        for sid in await self.redis.zrangebyscore(self._used, "-inf", horizon):
            await self._forget_session(text(sid))

    async def _forget_session(self, session_id: str) -> None:
        stored = await self._load(session_id)
        for rid, url_id, _ in stored.runs if stored is not None else ():
            await self._forget_run(rid, url_id)
        size = await self.redis.hget(self._sizes, session_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._s(session_id))
            pipe.zrem(self._used, session_id)
            pipe.zrem(self._unused, session_id)
            pipe.hdel(self._sizes, session_id)
            pipe.decrby(self._bytes, int(size or 0))
            await pipe.execute()
