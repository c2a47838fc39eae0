"""app/shared/sessions.py and app/runs/sessions.py: the session store's interface behaves the
same in memory and on a real Redis server (every test runs against both), and the Redis one is
shared by several processes without losing a leg."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from app.cors import Scenario, predict
from app.runs.errors import BadRequest
from app.runs.sessions import MemorySessions, SessionStore
from app.runs.store import (
    SESSION_OVERHEAD,
    BrowserResult,
    Budgets,
    Exchange,
    RecordedRequest,
    RecordedResponse,
    RunStore,
    new_id,
)
from app.shared import RedisUnavailable, SharedState, connect
from app.shared.sessions import RedisSessions
from tests.redis_server import RedisServer, unique_prefix

Body = Callable[[SessionStore], Awaitable[None]]
Runner = Callable[..., None]


@pytest.fixture(params=["memory", "redis"])
def with_store(request: pytest.FixtureRequest) -> Runner:
    """``with_store(body, **limits)`` runs ``body(store)`` with a new store of that backend."""
    backend = request.param
    server: RedisServer | None = (
        request.getfixturevalue("redis_server") if backend == "redis" else None
    )

    def run(body: Body, **limits: Any) -> None:
        async def main() -> None:
            if server is None:
                await body(MemorySessions(RunStore(**limits)))
                return
            shared = connect(server.url, unique_prefix())
            try:
                await body(RedisSessions(shared, **limits))
            finally:
                await shared.close()

        asyncio.run(main())

    return run


async def add(store: SessionStore, session_id: str | None = None, **options: Any) -> str:
    session = await store.session(session_id or new_id(), create=True)
    assert session is not None
    scenario = Scenario()
    run = await store.add_run(
        session, scenario, predict(scenario), run_id=new_id(), target="t", **options
    )
    return run.id


def leg(run_id: str, header: str = "") -> Exchange:
    headers = (("Origin", "http://localhost:8000"), ("X-Pad", header))
    return Exchange(
        "actual",
        RecordedRequest("GET", f"/r/{run_id}", headers, 0),
        RecordedResponse(200, (), 0),
        at=time.time(),
    )


def result(body: str = "ok") -> BrowserResult:
    return BrowserResult("allowed", 200, (), (), body, None, "test", "chromium")


def test_sessions_start_only_when_asked_and_ids_are_checked(with_store: Runner) -> None:
    async def body(store: SessionStore) -> None:
        assert await store.session(new_id()) is None
        assert await store.session("not valid!", create=True) is None
        made = await store.new_session()
        found = await store.session(made.id)
        assert found is not None and found.id == made.id and not found.runs
        assert await store.unused_count() == 1 and await store.session_count() == 1

    with_store(body)


def test_a_session_keeps_its_newest_runs(with_store: Runner) -> None:
    async def body(store: SessionStore) -> None:
        sid = new_id()
        ids = [await add(store, sid) for _ in range(5)]
        kept = [await store.run(i) is not None for i in ids]
        assert kept == [False, False, True, True, True]
        assert [await store.target(i) is not None for i in ids] == kept
        session = await store.session(sid)
        assert session is not None and list(session.runs) == ids[2:]

    with_store(body, runs_per_session=3)


def test_the_least_recently_used_session_leaves_first(with_store: Runner) -> None:
    async def body(store: SessionStore) -> None:
        a, b = new_id(), new_id()
        run_a = await add(store, a)
        await add(store, b)
        await store.session(a)  # a is used again; b is now the oldest
        await add(store, new_id())
        assert await store.session(b) is None and await store.session(a) is not None
        assert await store.run(run_a) is not None and await store.session_count() == 2

    with_store(body, max_sessions=2)


def test_unused_sessions_make_room_only_for_each_other(with_store: Runner) -> None:
    async def body(store: SessionStore) -> None:
        used = new_id()
        run_id = await add(store, used)
        waiting = [await store.new_session() for _ in range(5)]
        assert await store.session(used) is not None and await store.run(run_id) is not None
        assert await store.session(waiting[0].id) is None
        assert await store.unused_count() == 3 and await store.session_count() == 4

    with_store(body, max_sessions=3, max_unused_sessions=3)


def test_legs_are_kept_up_to_the_limit_then_counted(with_store: Runner) -> None:
    async def body(store: SessionStore) -> None:
        run = await store.run(await add(store))
        assert run is not None
        kept = [await store.record(run, leg(run.id), published=n) for n in (11, 12, 13)]
        assert kept == [True, True, False]
        assert len(run.exchanges) == 2 and run.exchanges_dropped == 1 and run.published == 13
        again = await store.run(run.id)
        assert again is not None and len(again.exchanges) == 2 and again.published == 13
        assert again.exchanges_dropped == 1

    with_store(body, exchanges_per_run=2)


def test_a_result_is_kept_once_and_bounded(with_store: Runner) -> None:
    async def body(store: SessionStore) -> None:
        run = await store.run(await add(store))
        assert run is not None
        with pytest.raises(BadRequest) as large:
            await store.finish(run, result("x" * 5000), ())
        assert large.value.status == 413
        await store.finish(run, result(), ("a difference",), published=7)
        assert run.browser_result == result() and run.published == 7
        with pytest.raises(BadRequest) as twice:
            await store.finish(run, result(), ())
        assert twice.value.status == 409
        again = await store.run(run.id)
        assert again is not None and again.differences == ("a difference",)

    with_store(body, budgets=Budgets(result=4096))


def test_a_session_over_its_budget_lets_its_oldest_runs_go(with_store: Runner) -> None:
    async def body(store: SessionStore) -> None:
        sid = new_id()
        ids = [await add(store, sid) for _ in range(6)]
        run = await store.run(ids[-1])
        assert run is not None
        for _ in range(4):  # large legs grow the newest run
            await store.record(run, leg(run.id, "x" * 2000))
        session = await store.session(sid)
        assert session is not None and ids[-1] in session.runs
        assert 0 < len(session.runs) < 6 and session.size <= 24 * 1024

    with_store(body, budgets=Budgets(session=24 * 1024))


def test_the_store_budget_lets_whole_sessions_go(with_store: Runner) -> None:
    async def body(store: SessionStore) -> None:
        sessions = [new_id() for _ in range(8)]
        for sid in sessions:
            await add(store, sid)
        kept = [await store.session(sid) is not None for sid in sessions]
        assert kept[-1] and not all(kept) and kept == sorted(kept)  # the oldest went

    with_store(body, budgets=Budgets(store=20 * 1024))


def test_idle_sessions_expire(with_store: Runner) -> None:
    async def body(store: SessionStore) -> None:
        run_id = await add(store)
        assert await store.run(run_id) is not None
        await asyncio.sleep(1.3)
        assert await store.run(run_id) is None and await store.session_count() == 0

    with_store(body, session_ttl=1.0)


def test_a_reused_url_answers_with_its_newest_run(with_store: Runner) -> None:
    async def body(store: SessionStore) -> None:
        sid = new_id()
        first = await add(store, sid)
        again = await add(store, sid, url_id=first)
        newest = await store.target(first)
        assert newest is not None and newest.id == again
        own = await store.run(first)
        assert own is not None and own.id == first
        assert await store.target(again) is None  # its own id is no URL
        await add(store, sid)  # the first run leaves; the URL stays with the newer one
        newest = await store.target(first)
        assert newest is not None and newest.id == again

    with_store(body, runs_per_session=2)


# --- several processes on one Redis --------------------------------------------------------------


@asynccontextmanager
async def two_processes(server: RedisServer) -> AsyncIterator[tuple[SharedState, SharedState]]:
    """Two clients of one Redis under one prefix, as two serving processes hold them."""
    prefix = unique_prefix()
    one, two = connect(server.url, prefix), connect(server.url, prefix)
    try:
        yield one, two
    finally:
        await one.close()
        await two.close()


def test_two_processes_share_sessions_and_lose_no_leg(redis_server: RedisServer) -> None:
    async def main() -> None:
        async with two_processes(redis_server) as (one, two):
            a, b = RedisSessions(one), RedisSessions(two)
            run_id = await add(a)
            seen = await b.run(run_id)
            assert seen is not None and seen.id == run_id
            copies = [await a.run(run_id), await b.run(run_id)]
            assert all(copies)
            await asyncio.gather(
                *(
                    (a if n % 2 else b).record(copies[n % 2], leg(run_id, str(n)))  # type: ignore[arg-type]
                    for n in range(12)
                )
            )
            final = await a.run(run_id)
            assert final is not None and len(final.exchanges) == 12
            assert sorted(e.request.headers[1][1] for e in final.exchanges) == sorted(
                str(n) for n in range(12)
            )

    asyncio.run(main())


def test_a_leg_is_recorded_while_another_process_holds_the_session(
    redis_server: RedisServer,
) -> None:
    """Legs go in without the session's lock: one process changing the session (a result, a
    new run) does not hold up the legs another process receives."""

    async def main() -> None:
        async with two_processes(redis_server) as (one, two):
            a, b = RedisSessions(one), RedisSessions(two)
            run = await a.run(await add(a))
            assert run is not None
            async with one.locked("s", run.session_id):
                kept = await asyncio.wait_for(b.record(run, leg(run.id), published=5), 1.0)
            assert kept and run.published == 5 and len(run.exchanges) == 1

    asyncio.run(main())


def test_legs_from_two_processes_each_get_their_own_version_and_every_byte_is_counted(
    redis_server: RedisServer,
) -> None:
    """Each leg's event carries a version the page has not seen (it applies a leg only if
    newer); a leg's bytes count in its session and in the store until its run leaves."""

    async def main() -> None:
        budgets = Budgets(session=24 * 1024)
        async with two_processes(redis_server) as (one, two):
            a, b = RedisSessions(one, budgets=budgets), RedisSessions(two, budgets=budgets)
            sid = new_id()
            ids = [await add(a, sid) for _ in range(4)]
            copies = [await a.run(ids[-1]), await b.run(ids[-1])]

            async def record(n: int) -> int:
                store, run = (a, copies[0]) if n % 2 else (b, copies[1])
                assert run is not None
                await store.record(run, leg(run.id, "x" * 1500))
                return run.version

            versions = await asyncio.gather(*(record(n) for n in range(10)))
            assert sorted(versions) == list(range(1, 11))
            final = await a.run(ids[-1])
            assert final is not None and len(final.exchanges) == 10 and final.version == 10
            # Older runs made room; what is counted is what is kept.
            session = await a.session(sid)
            assert session is not None and ids[-1] in session.runs and len(session.runs) < 4
            kept = sum(run.size for run in session.runs.values())
            counted = await one.client.hgetall(one.key("sizes"))
            sizes = {name.decode(): int(value) for name, value in counted.items()}
            assert sizes[sid] == session.size
            assert session.size - kept == SESSION_OVERHEAD
            assert int(await one.client.get(one.key("bytes"))) == sum(sizes.values())

    asyncio.run(main())


def test_redis_away_is_a_clear_error_and_back_is_recovered() -> None:
    with RedisServer() as server:

        async def main() -> None:
            shared = connect(server.url, unique_prefix())
            store = RedisSessions(shared)
            try:
                run_id = await add(store)
                server.stop()
                started = time.monotonic()
                with pytest.raises(RedisUnavailable) as away:
                    await store.run(run_id)
                assert time.monotonic() - started < 5
                assert f"Redis at 127.0.0.1:{server.port}/0" in str(away.value)
                assert "not answering" in str(away.value)
                server.start()  # empty again (no persistence), and answering
                assert await store.run(run_id) is None
                assert await store.run(await add(store)) is not None
            finally:
                await shared.close()

        asyncio.run(main())
