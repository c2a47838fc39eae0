"""Sessions and runs on Redis: the ``SessionStore`` of ``app.runs.sessions`` for several
processes, with the in-memory store's bounds.

Keys (under the playground's prefix), each expiring ``session_ttl`` after the session was last
used:

- ``s:<session>``: the session (its runs' ids, URL ids and sizes, its size, whether in use);
- ``r:<run>``: one run (scenario, prediction, result) without its legs and counters;
- ``x:<run>`` and ``k:<run>``: the run's legs, oldest first, and its counters (legs kept and
  their bytes, legs dropped, version, the id of its latest event);
- ``t:<url id>``: the run answering at ``/r/<url id>`` and its session;
- ``used`` and ``unused``: the sessions of each pool by last use (sorted sets), so the least
  recently used leave first; ``sizes`` and ``bytes``: each session in use's size (its legs
  included) and their sum, bounded by the store's budget.

A leg is recorded by one script, atomically and without the session's lock: two processes
recording legs of one run never lose one nor wait for each other. Only a leg that needs room
(its session or the store over budget) takes the lock, to let older runs or sessions go first,
as every other change of a session does. Sizes are the in-memory store's estimates
(``footprint``), so the same budgets hold.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
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
    fit_exchange,
    is_valid_id,
    new_id,
    new_run,
    result_size,
    set_result,
)
from app.shared.connection import SharedState, dumps, loads, text

T = TypeVar("T")

# Record one leg (KEYS: the run, its legs, its counters, sizes, bytes; ARGV: the leg, its
# size, the legs a run keeps, their byte budget, the session's and the store's budgets, the
# session, the event id, the TTL in ms, "1" to skip the session's and the store's budgets).
# Answers [outcome, legs kept, their bytes, legs dropped, version, event id]: outcome is
# "kept", "dropped" (the run holds its maximum: only counted), "gone" (no such run) or "room"
# (the session or the store is over budget: nothing changed).
APPEND = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'gone'} end
local counters = KEYS[3]
local size = tonumber(ARGV[2])
local kept = tonumber(redis.call('HGET', counters, 'n') or '0')
local bytes = tonumber(redis.call('HGET', counters, 'b') or '0')
local outcome = 'kept'
if kept >= tonumber(ARGV[3]) or bytes + size > tonumber(ARGV[4]) then
  outcome = 'dropped'
  redis.call('HINCRBY', counters, 'd', 1)
else
  local used = redis.call('HGET', KEYS[4], ARGV[7])
  if ARGV[10] ~= '1' and used then
    local total = tonumber(redis.call('GET', KEYS[5]) or '0')
    if tonumber(used) + size > tonumber(ARGV[5]) or total + size > tonumber(ARGV[6]) then
      return {'room'}
    end
  end
  redis.call('RPUSH', KEYS[2], ARGV[1])
  redis.call('HINCRBY', counters, 'n', 1)
  redis.call('HINCRBY', counters, 'b', size)
  if used then
    redis.call('HINCRBY', KEYS[4], ARGV[7], size)
    redis.call('INCRBY', KEYS[5], size)
  end
  redis.call('PEXPIRE', KEYS[2], ARGV[9])
end
redis.call('HINCRBY', counters, 'v', 1)
if tonumber(ARGV[8]) > tonumber(redis.call('HGET', counters, 'p') or '0') then
  redis.call('HSET', counters, 'p', ARGV[8])
end
redis.call('PEXPIRE', counters, ARGV[9])
local now = redis.call('HMGET', counters, 'n', 'b', 'd', 'v', 'p')
return {outcome, now[1] or '0', now[2] or '0', now[3] or '0', now[4], now[5] or '0'}
"""

# A change of the run other than a leg (KEYS: its counters; ARGV: the event id, the TTL in ms).
BUMP = """
redis.call('HINCRBY', KEYS[1], 'v', 1)
if tonumber(ARGV[1]) > tonumber(redis.call('HGET', KEYS[1], 'p') or '0') then
  redis.call('HSET', KEYS[1], 'p', ARGV[1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
"""

# The run answering at a URL, if its session lives (KEYS: the URL's key; ARGV: the prefix):
# [run, legs, counters] in one round trip.
LOOKUP = """
local found = redis.call('GET', KEYS[1])
if not found then return false end
local run, session = string.match(found, '^(%S+) (%S+)$')
if not run or redis.call('EXISTS', ARGV[1] .. 's:' .. session) == 0 then return false end
local doc = redis.call('GET', ARGV[1] .. 'r:' .. run)
if not doc then return false end
return {doc, redis.call('LRANGE', ARGV[1] .. 'x:' .. run, 0, -1),
        redis.call('HGETALL', ARGV[1] .. 'k:' .. run)}
"""


@dataclass(frozen=True)
class Counters:
    """What ``k:<run>`` holds: the run's legs kept and their bytes, its legs dropped, its
    version and the id of the event of its latest change."""

    kept: int = 0
    bytes: int = 0
    dropped: int = 0
    version: int = 0
    published: int = 0

    @classmethod
    def from_hash(cls, found: dict[Any, Any] | Sequence[Any]) -> Counters:
        """From HGETALL's answer (a dict, or a flat list of names and values from a script)."""
        if not isinstance(found, dict):
            found = dict(zip(found[::2], found[1::2], strict=True))
        values = {text(name): int(value) for name, value in found.items()}
        return cls(*(values.get(name, 0) for name in ("n", "b", "d", "v", "p")))


def assemble(doc: Run, legs: Sequence[bytes], counters: Counters) -> Run:
    """The whole run: its document with its legs and counters."""
    return replace(
        doc,
        exchanges=[loads(leg) for leg in legs],
        exchanges_size=counters.bytes,
        exchanges_dropped=counters.dropped,
        version=counters.version,
        published=counters.published,
        size=doc.size + counters.bytes,
    )


def document(run: Run) -> Run:
    """What ``r:<run>`` keeps of a run: all but its legs and counters."""
    return replace(
        run,
        exchanges=[],
        exchanges_size=0,
        exchanges_dropped=0,
        version=0,
        published=0,
        size=run.size - run.exchanges_size,
    )


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
        self._append = self.redis.register_script(APPEND)
        self._bump = self.redis.register_script(BUMP)
        self._lookup = self.redis.register_script(LOOKUP)

    # --- keys and failures -----------------------------------------------------------------

    def _s(self, session_id: str) -> str:
        return self.shared.key("s", session_id)

    def _r(self, run_id: str) -> str:
        return self.shared.key("r", run_id)

    def _x(self, run_id: str) -> str:
        return self.shared.key("x", run_id)

    def _k(self, run_id: str) -> str:
        return self.shared.key("k", run_id)

    def _t(self, url_id: str) -> str:
        return self.shared.key("t", url_id)

    def _run_keys(self, run_id: str) -> tuple[str, str, str]:
        return self._r(run_id), self._x(run_id), self._k(run_id)

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
        async with self.redis.pipeline(transaction=False) as pipe:
            for rid, _, _ in stored.runs:
                self._read(pipe, rid)
            found = await pipe.execute()
        for index, (rid, _, _) in enumerate(stored.runs):
            run = self._whole(*found[3 * index : 3 * index + 3])
            if run is not None:
                runs[rid] = run
        return runs

    def _read(self, pipe: Any, run_id: str) -> None:
        """Queue the reads of a run (document, legs, counters) on ``pipe``."""
        pipe.get(self._r(run_id))
        pipe.lrange(self._x(run_id), 0, -1)
        pipe.hgetall(self._k(run_id))

    @staticmethod
    def _whole(doc: Any, legs: Sequence[bytes], counters: Any) -> Run | None:
        found: Run | None = loads(doc)
        return None if found is None else assemble(found, legs, Counters.from_hash(counters))

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
                for key in (*self._run_keys(rid), self._t(url_id)):
                    pipe.pexpire(key, self.ttl_ms)
            pipe.hget(self._sizes, session_id)
            size = (await pipe.execute())[-1]
        # A session in use counts its legs in ``sizes`` (recorded without its lock).
        total = int(size) if stored.used and size is not None else stored.size
        return Session(session_id, now, await self._runs(stored), size=total)

    async def run(self, run_id: str) -> Run | None:
        return await self.shared.call(lambda: self._run(run_id))

    async def _run(self, run_id: str) -> Run | None:
        async with self.redis.pipeline(transaction=False) as pipe:
            self._read(pipe, run_id)
            run = self._whole(*await pipe.execute())
        if run is None or not await self.redis.exists(self._s(run.session_id)):
            return None
        return run

    async def target(self, url_id: str) -> Run | None:
        """The run at ``/r/<url_id>`` in one round trip (the hot path of every leg)."""
        found = await self.shared.call(
            lambda: self._lookup(keys=[self._t(url_id)], args=[self.shared.prefix])
        )
        return None if not found else self._whole(*found)

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

    async def _count(
        self, session_id: str, stored: StoredSession, change: int, *, legs: int = 0
    ) -> None:
        """Count ``change`` more bytes of the session's own (``legs``: of legs, which only
        ``sizes`` counts)."""
        stored.size += change
        if stored.used and (change or legs):
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hincrby(self._sizes, session_id, change + legs)
                pipe.incrby(self._bytes, change + legs)
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
                    pipe.set(self._r(run.id), dumps(document(run)), px=self.ttl_ms)
                    pipe.delete(self._x(run.id), self._k(run.id))
                    pipe.set(self._t(run.url_id), f"{run.id} {session.id}", px=self.ttl_ms)
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
        kept, size = fit_exchange(exchange, self.budgets.exchange)
        leg = dumps(kept)

        async def append(force: bool) -> list[Any]:
            answer: list[Any] = await self._append(
                keys=[*self._run_keys(run.id), self._sizes, self._bytes],
                args=[
                    leg, size, self.exchanges_per_run, self.budgets.exchanges,
                    self.budgets.session, self.budgets.store, run.session_id, published,
                    self.ttl_ms, "1" if force else "0",
                ],
            )  # fmt: skip
            return answer

        async def work() -> list[Any]:
            answer = await append(False)
            if text(answer[0]) != "room":
                return answer
            # Over a budget: older runs, then other sessions, go first (under the lock).
            async with self.shared.locked("s", run.session_id):
                stored = await self._load(run.session_id)
                if stored is not None and self._entry(stored, run.id) is not None:
                    await self._room_for(run.session_id, stored, size, keep=run.id)
                    await self._save(run.session_id, stored)
                return await append(True)

        answer = await self.shared.call(work)
        outcome = text(answer[0])
        if outcome == "gone":  # the run left meanwhile: the leg is only counted
            run.exchanges_dropped += 1
            run.touch()
            return False
        counters = Counters(*(int(value) for value in answer[1:]))
        if outcome == "kept":
            run.exchanges.append(kept)
            run.size += counters.bytes - run.exchanges_size
        run.exchanges_size = counters.bytes
        run.exchanges_dropped = counters.dropped
        run.version = counters.version
        run.published = counters.published
        return outcome == "kept"

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
                async with self.redis.pipeline(transaction=False) as pipe:
                    self._read(pipe, run.id)
                    pipe.get(self._s(run.session_id))
                    doc, legs, counters, stored_value = await pipe.execute()
                found = self._whole(doc, legs, counters)
                fresh = found or run
                size = result_size(fresh, result, differences, self.budgets)
                stored: StoredSession | None = loads(stored_value)
                entry = self._entry(stored, run.id)
                if stored is not None and entry is not None:
                    await self._room_for(run.session_id, stored, size, keep=run.id)
                    entry[2] += size
                set_result(fresh, result, differences, size)
                async with self.redis.pipeline(transaction=True) as pipe:
                    if found is not None:  # a run that left stays gone
                        pipe.set(self._r(run.id), dumps(document(fresh)), px=self.ttl_ms)
                    if stored is not None and entry is not None:
                        stored.size += size
                        pipe.set(self._s(run.session_id), dumps(stored), px=self.ttl_ms)
                        if stored.used:
                            pipe.hincrby(self._sizes, run.session_id, size)
                            pipe.incrby(self._bytes, size)
                    await pipe.execute()
                if found is not None:
                    await self._bump(keys=[self._k(run.id)], args=[published, self.ttl_ms])
                    fresh.published = max(fresh.published, published)
                run.__dict__.update(fresh.__dict__)

        await self.shared.call(work)

    @staticmethod
    def _entry(stored: StoredSession | None, run_id: str) -> list[Any] | None:
        """The run's entry in its session (None once it left)."""
        return None if stored is None else next((e for e in stored.runs if e[0] == run_id), None)

    # --- room --------------------------------------------------------------------------------

    async def _session_size(self, session_id: str, stored: StoredSession) -> int:
        """The session's bytes: for one in use, as ``sizes`` counts them (its legs too)."""
        if not stored.used:
            return stored.size
        return int(await self.redis.hget(self._sizes, session_id) or stored.size)

    async def _room_for(
        self, session_id: str, stored: StoredSession, size: int, *, keep: str | None
    ) -> None:
        """Make room for ``size`` more bytes in the session: its oldest runs but ``keep``
        first, then other sessions, when a budget would be passed. Called holding the
        session's lock; the caller counts the bytes."""
        while await self._session_size(session_id, stored) + size > self.budgets.session:
            if not await self._drop_oldest_run(session_id, stored, keep=keep):
                break
        if stored.used:
            await self._make_room(size, keep=session_id)

    async def _grow(
        self, session_id: str, stored: StoredSession, size: int, *, keep: str | None
    ) -> None:
        """Make room for ``size`` more bytes in the session, then count them."""
        await self._room_for(session_id, stored, size, keep=keep)
        await self._count(session_id, stored, size)

    async def _drop_oldest_run(
        self, session_id: str, stored: StoredSession, keep: str | None = None
    ) -> bool:
        oldest = next((e for e in stored.runs if e[0] != keep), None)
        if oldest is None:
            return False
        stored.runs.remove(oldest)
        legs = await self._forget_run(oldest[0], oldest[1])
        await self._count(session_id, stored, -oldest[2], legs=-legs)
        return True

    async def _forget_run(self, run_id: str, url_id: str) -> int:
        """Delete the run (its legs' bytes, read in the same step, are the answer)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hget(self._k(run_id), "b")
            pipe.delete(*self._run_keys(run_id))
            legs, _ = await pipe.execute()
        # The URL goes only if this run still answers there (a newer one may use it).
        if text(await self.redis.get(self._t(url_id)) or "").split(" ")[0] == run_id:
            await self.redis.delete(self._t(url_id))
        return int(legs or 0)

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
