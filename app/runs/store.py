"""Sessions and runs in memory: bounded, expiring, isolated by unguessable ids.

A session is an id in the page URL (not a cookie: cookies are shared across the ports of one
host and would leak into the credentials lessons). Each session keeps its most recent runs; the
store keeps the most recently used sessions and forgets idle ones.
"""

from __future__ import annotations

import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from app.cors import Prediction, Scenario, ServerResponse, predict
from app.runs.lru import ExpiringLRU

ExchangeKind = Literal["preflight", "actual"]
Header = tuple[str, str]

ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")

DEFAULT_MAX_SESSIONS = 1000
DEFAULT_RUNS_PER_SESSION = 50
DEFAULT_EXCHANGES_PER_RUN = 16
DEFAULT_SESSION_TTL = 6 * 3600.0
# Follow-up answers a run may declare (redirect hops); browsers follow at most 20 redirects.
MAX_HOPS = 4


def new_id() -> str:
    """An unguessable URL-safe id (128 bits)."""
    return secrets.token_urlsafe(16)


def is_valid_id(value: str) -> bool:
    return ID_PATTERN.fullmatch(value) is not None


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the API origin received it."""

    method: str
    path: str
    headers: tuple[Header, ...]
    body_size: int

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "headers": [list(h) for h in self.headers],
            "body_size": self.body_size,
        }


@dataclass(frozen=True)
class RecordedResponse:
    """A response as the API origin sent it (status, every header, body size)."""

    status: int
    headers: tuple[Header, ...]
    body_size: int

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "headers": [list(h) for h in self.headers],
            "body_size": self.body_size,
        }


@dataclass(frozen=True)
class Exchange:
    """One leg of a run: what arrived at the API origin and what it answered."""

    kind: ExchangeKind
    request: RecordedRequest
    response: RecordedResponse
    at: float
    seq: int = 0
    run_id: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "request": self.request.to_json(),
            "response": self.response.to_json(),
            "received_at": self.at,
        }


def legs(exchanges: Sequence[Exchange], kind: ExchangeKind) -> list[Exchange]:
    """The exchanges of one kind, in the order they arrived."""
    return [e for e in exchanges if e.kind == kind]


@dataclass(frozen=True)
class BrowserResult:
    """What the page's JavaScript got from ``fetch()``."""

    outcome: str
    status: int | None
    readable_headers: tuple[str, ...]
    headers: tuple[Header, ...]
    body: str | None
    error: str | None
    user_agent: str
    browser: str

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "status": self.status,
            "readable_headers": list(self.readable_headers),
            "headers": [list(h) for h in self.headers],
            "body": self.body,
            "error": self.error,
            "browser": self.browser,
            "user_agent": self.user_agent,
        }


@dataclass(eq=False)
class Run:
    """One send of a scenario: its prediction, the recorded legs and the browser's result."""

    id: str
    session_id: str
    scenario: Scenario
    prediction: Prediction
    target: str
    notes: tuple[str, ...] = ()
    created: float = field(default_factory=time.time)
    exchanges: list[Exchange] = field(default_factory=list)
    exchanges_dropped: int = 0
    browser_result: BrowserResult | None = None
    differences: tuple[str, ...] = ()
    version: int = 0
    # Answers for the follow-up URLs ``/r/<url_id>/1``, ``/2``...: a redirect in ``response``
    # (or in a hop) points the browser at the next one, and each is recorded as its own leg.
    hops: tuple[ServerResponse, ...] = ()
    # The id in the run's URL: its own id, or an earlier run's when a lab reuses a URL on
    # purpose (the preflight cache is keyed by URL).
    url_id: str = ""
    # A predict-first lab's answers, given before the send: (question, answer) pairs.
    guess: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        self.url_id = self.url_id or self.id

    @property
    def state(self) -> str:
        return "running" if self.browser_result is None else "done"

    @property
    def agreement(self) -> bool | None:
        return None if self.browser_result is None else not self.differences

    def touch(self) -> None:
        self.version += 1

    @property
    def fetch_init(self) -> dict[str, Any]:
        """The second argument of the page's ``fetch()``: exactly the scenario's request."""
        request = self.scenario.request
        return {
            "method": request.method,
            "headers": [list(h) for h in request.headers],
            "credentials": request.credentials,
            "mode": request.mode,
            "body": request.body,
            "redirect": request.redirect,
        }

    @property
    def preflights(self) -> list[Exchange]:
        """The preflight legs that reached the API origin, in order."""
        return legs(self.exchanges, "preflight")

    @property
    def actuals(self) -> list[Exchange]:
        """The actual-request legs (redirect hops included) that reached the API origin."""
        return legs(self.exchanges, "actual")


@dataclass(eq=False)
class Session:
    id: str
    last_seen: float
    runs: OrderedDict[str, Run] = field(default_factory=OrderedDict)
    console_seq: int = 0


class RunStore:
    """Sessions (least recently used first out, idle ones expire) and their bounded runs."""

    def __init__(
        self,
        *,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        runs_per_session: int = DEFAULT_RUNS_PER_SESSION,
        exchanges_per_run: int = DEFAULT_EXCHANGES_PER_RUN,
        session_ttl: float = DEFAULT_SESSION_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_sessions = max_sessions
        self.runs_per_session = runs_per_session
        self.exchanges_per_run = exchanges_per_run
        self.session_ttl = session_ttl
        self.clock = clock
        self._sessions: ExpiringLRU[Session] = ExpiringLRU(
            capacity=max_sessions,
            ttl=session_ttl,
            clock=clock,
            on_evict=lambda _id, session: self._forget_runs(session),
        )
        self._runs: dict[str, Run] = {}
        self._targets: dict[str, Run] = {}  # URL id -> the newest run answering there

    def __len__(self) -> int:
        return len(self._sessions)

    @property
    def run_count(self) -> int:
        return len(self._runs)

    def new_session(self) -> Session:
        return self.session(new_id(), create=True)  # type: ignore[return-value]

    def session(self, session_id: str, *, create: bool = False) -> Session | None:
        """The live session with this id (refreshed), created on demand when asked to."""
        found = self._sessions.get(session_id)
        if found is not None:
            found.last_seen = self.clock()
            return found
        if not create or not is_valid_id(session_id):
            return None
        return self._sessions.put(session_id, Session(session_id, self.clock()))

    def add_run(
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
        """Keep a new run; with ``url_id`` it answers at that earlier run's URL from now on."""
        if len(hops) > MAX_HOPS:
            raise ValueError(f"at most {MAX_HOPS} hops per run")
        run = Run(
            run_id, session.id, scenario, prediction, target, notes,
            hops=hops, url_id=url_id, guess=guess,
        )  # fmt: skip
        while len(session.runs) >= self.runs_per_session:
            _, oldest = session.runs.popitem(last=False)
            self._forget(oldest)
        session.runs[run.id] = run
        self._runs[run.id] = run
        self._targets[run.url_id] = run
        return run

    def start_run(
        self,
        session: Session,
        scenario: Scenario,
        target_origin: str,
        browser: str,
        notes: tuple[str, ...] = (),
    ) -> Run:
        """A new run of ``scenario`` at its own URL on ``target_origin``, with the prediction
        for ``browser``."""
        run_id = new_id()
        target = f"{target_origin}/r/{run_id}"
        scenario = replace(scenario, url=target)
        prediction = predict(scenario, browser=browser)
        return self.add_run(
            session, scenario, prediction, run_id=run_id, target=target, notes=notes
        )

    def run(self, run_id: str) -> Run | None:
        run = self._runs.get(run_id)
        if run is None:
            return None
        if self.session(run.session_id) is None:  # expired meanwhile
            return None
        return run

    def target(self, url_id: str) -> Run | None:
        """The run answering at ``/r/<url_id>``: the newest one that uses this URL."""
        run = self._targets.get(url_id)
        return None if run is None else self.run(run.id)

    def record(self, run: Run, exchange: Exchange) -> bool:
        """Keep a leg of the run; False when the run already holds its maximum."""
        run.touch()
        if len(run.exchanges) >= self.exchanges_per_run:
            run.exchanges_dropped += 1
            return False
        run.exchanges.append(exchange)
        return True

    def _forget_runs(self, session: Session) -> None:
        for run in session.runs.values():
            self._forget(run)
        session.runs.clear()

    def _forget(self, run: Run) -> None:
        self._runs.pop(run.id, None)
        if self._targets.get(run.url_id) is run:
            del self._targets[run.url_id]
