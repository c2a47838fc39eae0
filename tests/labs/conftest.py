"""Lab runs built and recorded without a server: a run store, the origins of a page on
localhost, and legs as the API origin would record them."""

from __future__ import annotations

from app.cors import predict
from app.labs.registry import LabRun
from app.runs.origins import OriginPair
from app.runs.store import (
    BrowserResult,
    Exchange,
    ExchangeKind,
    Header,
    RecordedRequest,
    RecordedResponse,
    Run,
    RunStore,
    Session,
)

PAIR = OriginPair.of("localhost", 8000, 8001)  # page http://localhost:8000


def new_session() -> tuple[RunStore, Session]:
    store = RunStore()
    return store, store.new_session()


def stored(store: RunStore, session: Session, new: LabRun) -> Run:
    """Keep a lab's run as the web layer does."""
    return store.add_run(
        session,
        new.scenario,
        predict(new.scenario),
        run_id=new.id,
        target=new.scenario.url,
        hops=new.hops,
        url_id=new.url_id,
    )


def record(
    store: RunStore,
    run: Run,
    kind: ExchangeKind,
    *,
    at: float = 1.0,
    method: str = "GET",
    path: str = "/r/x",
    headers: tuple[Header, ...] = (),
    body_size: int = 0,
    status: int = 200,
    response_headers: tuple[Header, ...] = (),
) -> None:
    request = RecordedRequest(method, path, headers, body_size)
    store.record(run, Exchange(kind, request, RecordedResponse(status, response_headers, 0), at))


def settle(run: Run, outcome: str) -> None:
    """What the page's fetch() got."""
    run.browser_result = BrowserResult(outcome, None, (), (), None, None, "", "")
