"""The session store as the web layer sees it: every call is awaited, so a store shared by
several processes (``app.shared``, on Redis) stands in for the in-memory one unchanged.

A store hands out ``Session`` and ``Run`` objects to read; they change only through the
store's methods (``record``, ``finish``...), which update the object passed in as well as what
the store keeps. A shared store hands out copies, so two objects for one run are never
compared by identity: compare ids.
"""

from __future__ import annotations

from typing import Protocol

from app.cors import Prediction, Scenario, ServerResponse
from app.runs.store import BrowserResult, Exchange, Run, RunStore, Session, fresh_run


class SessionStore(Protocol):
    """Sessions and their runs, bounded and expiring (see ``app.runs.store``)."""

    async def new_session(self) -> Session: ...

    async def session(self, session_id: str, *, create: bool = False) -> Session | None:
        """The live session with this id (refreshed), created when asked to."""
        ...

    async def mark_used(self, session: Session) -> None: ...

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
    ) -> Run: ...

    async def start_run(
        self,
        session: Session,
        scenario: Scenario,
        target_origin: str,
        browser: str,
        notes: tuple[str, ...] = (),
    ) -> Run: ...

    async def run(self, run_id: str) -> Run | None: ...

    async def target(self, url_id: str) -> Run | None:
        """The run answering at ``/r/<url_id>``."""
        ...

    async def record(self, run: Run, exchange: Exchange, *, published: int = 0) -> bool:
        """Keep a leg (False when the run holds its maximum); ``published``: the event id the
        change goes out with."""
        ...

    async def finish(
        self,
        run: Run,
        result: BrowserResult,
        differences: tuple[str, ...],
        *,
        published: int = 0,
    ) -> None:
        """Keep the browser's result (409 when the run already has one)."""
        ...

    async def unused_count(self) -> int: ...

    async def session_count(self) -> int:
        """Sessions kept, in use or not."""
        ...


async def start_run(
    store: SessionStore,
    session: Session,
    scenario: Scenario,
    target_origin: str,
    browser: str,
    notes: tuple[str, ...] = (),
) -> Run:
    """A new run of ``scenario`` at its own URL on ``target_origin``, with the prediction for
    ``browser`` (the same for every store)."""
    run_id, target, scenario, prediction = fresh_run(scenario, target_origin, browser)
    return await store.add_run(
        session, scenario, prediction, run_id=run_id, target=target, notes=notes
    )


class MemorySessions:
    """The embedded default: one process's :class:`RunStore`."""

    def __init__(self, memory: RunStore) -> None:
        self.memory = memory

    async def new_session(self) -> Session:
        return self.memory.new_session()

    async def session(self, session_id: str, *, create: bool = False) -> Session | None:
        return self.memory.session(session_id, create=create)

    async def mark_used(self, session: Session) -> None:
        self.memory.mark_used(session)

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
        return self.memory.add_run(
            session, scenario, prediction,
            run_id=run_id, target=target, notes=notes, hops=hops, url_id=url_id, guess=guess,
        )  # fmt: skip

    async def start_run(
        self,
        session: Session,
        scenario: Scenario,
        target_origin: str,
        browser: str,
        notes: tuple[str, ...] = (),
    ) -> Run:
        return await start_run(self, session, scenario, target_origin, browser, notes)

    async def run(self, run_id: str) -> Run | None:
        return self.memory.run(run_id)

    async def target(self, url_id: str) -> Run | None:
        return self.memory.target(url_id)

    async def record(self, run: Run, exchange: Exchange, *, published: int = 0) -> bool:
        kept = self.memory.record(run, exchange)
        run.published = published or run.published
        return kept

    async def finish(
        self,
        run: Run,
        result: BrowserResult,
        differences: tuple[str, ...],
        *,
        published: int = 0,
    ) -> None:
        self.memory.finish(run, result, differences)
        run.published = published or run.published

    async def unused_count(self) -> int:
        return self.memory.unused_count

    async def session_count(self) -> int:
        return len(self.memory)
