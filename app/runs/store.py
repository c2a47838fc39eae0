"""Sessions and runs in memory: bounded, expiring, isolated by unguessable ids.

A session is an id in the page URL (not a cookie: cookies are shared across the ports of one
host and would leak into the credentials lessons). Each session keeps its most recent runs; the
store keeps the most recently used sessions and forgets idle ones.

Memory is bounded in bytes as well as in counts. Every stored part is measured once, when it is
stored, by ``footprint()``; the budgets below bound a scenario, a recorded leg, a run's legs, a
browser result, a session and the whole store. Sessions that never did anything (no run, no
answer) wait in a pool of their own, so new visitors never push out sessions in use.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from app.cors import Prediction, Scenario, ServerResponse, predict
from app.runs.errors import BadRequest
from app.runs.lru import ExpiringLRU

ExchangeKind = Literal["preflight", "actual"]
Header = tuple[str, str]

ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")

DEFAULT_MAX_SESSIONS = 1000
DEFAULT_RUNS_PER_SESSION = 50
DEFAULT_EXCHANGES_PER_RUN = 16
DEFAULT_SESSION_TTL = 6 * 3600.0
# Sessions nobody has used yet (no run, no answer) are kept apart, in a pool of this size: a
# workshop opening the page all at once fits, and a flood of new ids evicts only its own kind.
DEFAULT_MAX_UNUSED_SESSIONS = 1000
# Follow-up answers a run may declare (redirect hops); browsers follow at most 20 redirects.
MAX_HOPS = 4

# Byte budgets, in bytes as footprint() estimates them (each string's and container's own size;
# with the overheads below, at least the memory they take).
KIB = 1024
MIB = 1024 * KIB
#: A run's scenario, prediction, notes and hops; every scenario validation accepts fits.
SCENARIO_BUDGET = 512 * KIB
#: One recorded leg; a larger one is cut down (long header values shortened, then headers left
#: out), with a note saying so.
EXCHANGE_BUDGET = 48 * KIB
#: All recorded legs of one run; past it (or past the count) a leg is answered but not kept.
EXCHANGES_BUDGET = 256 * KIB
#: What the page's script reported after fetch() settled.
RESULT_BUDGET = 64 * KIB
#: A run's and a session's own objects and index entries, added to what they hold.
RUN_OVERHEAD = 2 * KIB
SESSION_OVERHEAD = 2 * KIB
#: The largest run: everything above at its budget.
RUN_BUDGET = RUN_OVERHEAD + SCENARIO_BUDGET + EXCHANGES_BUDGET + RESULT_BUDGET
#: One session's runs; past it the session's oldest runs go first.
SESSION_BUDGET = 4 * MIB
#: Every session's runs together; past it the least recently used sessions go first.
STORE_BUDGET = 768 * MIB
# A shortened header value keeps this many characters (and "...").
KEPT_VALUE_CHARS = 256
# Request headers a shortened leg keeps first: what CORS is decided on.
ESSENTIAL_HEADERS = frozenset(
    {"origin", "access-control-request-method", "access-control-request-headers", "host"}
)


@dataclass(frozen=True)
class Budgets:
    """The byte budgets of one store (the defaults are the constants above)."""

    scenario: int = SCENARIO_BUDGET
    exchange: int = EXCHANGE_BUDGET
    exchanges: int = EXCHANGES_BUDGET
    result: int = RESULT_BUDGET
    session: int = SESSION_BUDGET
    store: int = STORE_BUDGET

    @property
    def run(self) -> int:
        """The largest run these budgets allow."""
        return RUN_OVERHEAD + self.scenario + self.exchanges + self.result


def worst_case_bytes(
    max_sessions: int = DEFAULT_MAX_SESSIONS,
    max_unused_sessions: int = DEFAULT_MAX_UNUSED_SESSIONS,
    budgets: Budgets | None = None,
) -> int:
    """The most a store with these limits holds, by footprint(): its sessions in use, each at
    most its budget and together at most the store's, and the unused sessions' own objects."""
    budgets = budgets or Budgets()
    in_use = min(budgets.store, max_sessions * (SESSION_OVERHEAD + budgets.session))
    return in_use + max_unused_sessions * SESSION_OVERHEAD


def footprint(value: object) -> int:
    """Estimated bytes ``value`` keeps alive: the own size (``sys.getsizeof``) of every string,
    tuple, list, dict and dataclass in it, a part shared by two places counted twice (numbers
    count nothing: the fixed overheads above cover them). Cheap and deterministic, and with those
    overheads at least the memory a run takes (a test measures it)."""
    if isinstance(value, str):
        return sys.getsizeof(value)
    if isinstance(value, (tuple, list)):
        return sys.getsizeof(value) + sum(footprint(item) for item in value)
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(footprint(k) + footprint(v) for k, v in value.items())
    names = _field_names(type(value))
    if names is not None:
        own = sys.getsizeof(value) + sys.getsizeof(getattr(value, "__dict__", ()))
        return own + sum(footprint(getattr(value, name)) for name in names)
    return 0


# The fields of each dataclass footprint() has met (a handful of classes).
_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def _field_names(cls: type) -> tuple[str, ...] | None:
    """The fields of a dataclass (None for any other class), looked up once per class."""
    try:
        return _FIELD_NAMES[cls]
    except KeyError:
        names = None
        if dataclasses.is_dataclass(cls):
            names = tuple(f.name for f in dataclasses.fields(cls))
        _FIELD_NAMES[cls] = names
        return names


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
    seq: int = 0  # the event id the server console got it with
    run_id: str = ""
    # Set when the leg was larger than the store keeps and was cut down: what was left out.
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "request": self.request.to_json(),
            "response": self.response.to_json(),
            "received_at": self.at,
            "note": self.note or None,
        }


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _fit_headers(
    headers: tuple[Header, ...], allowance: int
) -> tuple[tuple[Header, ...], int, int]:
    """``headers`` cut down to ``allowance`` bytes (by footprint): the longest values shortened
    first, then headers left out, the last and the least essential first. Returns the headers
    kept (in their order), how many values were shortened and how many headers were left out."""
    rows = list(headers)
    total = footprint(tuple(rows))
    shortened = 0
    for index in sorted(range(len(rows)), key=lambda i: -len(rows[i][1])):
        if total <= allowance:
            break
        name, value = rows[index]
        if len(value) <= KEPT_VALUE_CHARS:
            break
        cut = value[:KEPT_VALUE_CHARS] + "..."
        total -= footprint(value) - footprint(cut)
        rows[index] = (name, cut)
        shortened += 1
    kept = [True] * len(rows)
    order = sorted(range(len(rows)), key=lambda i: (rows[i][0].lower() in ESSENTIAL_HEADERS, -i))
    left_out = 0
    for index in order:
        if total <= allowance:
            break
        kept[index] = False
        total -= footprint(rows[index]) + 8  # the row and its slot in the tuple
        left_out += 1
    return tuple(r for r, keep in zip(rows, kept, strict=True) if keep), shortened, left_out


def fit_exchange(exchange: Exchange, budget: int) -> tuple[Exchange, int]:
    """The exchange as the store keeps it, and its footprint: unchanged when it fits
    ``budget``, else its request headers (then its path) cut down, with a note."""
    size = footprint(exchange)
    if size <= budget:
        return exchange, size
    request = exchange.request
    rest = size - footprint(request.headers)
    note_room = 512
    headers, shortened, left_out = _fit_headers(request.headers, budget - rest - note_room)
    path = request.path
    if rest + footprint(headers) + note_room > budget and len(path) > KEPT_VALUE_CHARS:
        path = path[:KEPT_VALUE_CHARS] + "..."
    parts = []
    if shortened:
        parts.append(f"{_plural(shortened, 'header value')} shortened")
    if left_out:
        parts.append(f"{_plural(left_out, 'header')} left out")
    if path != request.path:
        parts.append("the path shortened")
    note = (
        f"This request was larger than the playground keeps of one request "
        f"({budget // KIB} KiB): {', '.join(parts) or 'kept as it was'}."
    )
    kept = replace(exchange, request=replace(request, path=path, headers=headers), note=note)
    return kept, footprint(kept)


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
    # Estimated bytes (footprint) the run holds, in all and in its recorded legs.
    size: int = 0
    exchanges_size: int = 0
    browser_result: BrowserResult | None = None
    differences: tuple[str, ...] = ()
    version: int = 0
    # The event id its latest change was published with (0: never), so a page's stream that
    # resumes after missing events gets the runs changed since.
    published: int = 0
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


def fresh_run(
    scenario: Scenario, target_origin: str, browser: str
) -> tuple[str, str, Scenario, Prediction]:
    """A new run's id, its URL on ``target_origin``, its scenario aimed there and the
    prediction for ``browser``."""
    run_id = new_id()
    target = f"{target_origin}/r/{run_id}"
    scenario = replace(scenario, url=target)
    return run_id, target, scenario, predict(scenario, browser=browser)


def new_run(
    budgets: Budgets,
    session_id: str,
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
    """A run to keep, its size counted (refused with 413 when its scenario is larger than
    the scenario budget)."""
    if len(hops) > MAX_HOPS:
        raise ValueError(f"at most {MAX_HOPS} hops per run")
    fixed = footprint((scenario, prediction, notes, hops, target))
    if fixed > budgets.scenario:
        raise BadRequest(
            413,
            f"this scenario is too large to keep ({fixed // KIB} KiB in memory); "
            f"at most {budgets.scenario // KIB} KiB",
            "scenario",
        )
    run = Run(
        run_id, session_id, scenario, prediction, target, notes,
        hops=hops, url_id=url_id, guess=guess,
    )  # fmt: skip
    run.size = RUN_OVERHEAD + fixed
    return run


def leg_to_keep(
    run: Run, exchange: Exchange, budgets: Budgets, exchanges_per_run: int
) -> tuple[Exchange, int] | None:
    """The leg as the run would keep it (cut down to the leg budget) and its size, or None
    when the run already holds its maximum in count or in bytes (the leg is then counted)."""
    run.touch()
    if len(run.exchanges) >= exchanges_per_run:
        run.exchanges_dropped += 1
        return None
    kept, size = fit_exchange(exchange, budgets.exchange)
    if run.exchanges_size + size > budgets.exchanges:
        run.exchanges_dropped += 1
        return None
    return kept, size


def add_leg(run: Run, kept: Exchange, size: int) -> None:
    run.exchanges.append(kept)
    run.exchanges_size += size
    run.size += size


def result_size(
    run: Run, result: BrowserResult, differences: tuple[str, ...], budgets: Budgets
) -> int:
    """What keeping this result takes (409 when the run has one, 413 past the budget)."""
    if run.browser_result is not None:
        raise BadRequest(409, "this run already has its result", "run")
    size = footprint((result, differences))
    if size > budgets.result:
        raise BadRequest(
            413,
            f"the result is too large to keep ({size // KIB} KiB in memory); "
            f"at most {budgets.result // KIB} KiB",
        )
    return size


def set_result(run: Run, result: BrowserResult, differences: tuple[str, ...], size: int) -> None:
    run.browser_result = result
    run.differences = differences
    run.size += size
    run.touch()


@dataclass(eq=False)
class Session:
    id: str
    last_seen: float
    runs: OrderedDict[str, Run] = field(default_factory=OrderedDict)
    # Estimated bytes (footprint) of the session's runs and its own objects.
    size: int = SESSION_OVERHEAD


class RunStore:
    """Sessions (least recently used first out, idle ones expire) and their bounded runs.

    Sessions in use (with a run or an answer) and unused ones live in two pools of their own;
    a session moves to the first on its first use. Runs are bounded in count and in bytes per
    session, and the store in bytes: past a budget the oldest runs of the session, then the
    least recently used other sessions, make room.
    """

    def __init__(
        self,
        *,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        max_unused_sessions: int = DEFAULT_MAX_UNUSED_SESSIONS,
        runs_per_session: int = DEFAULT_RUNS_PER_SESSION,
        exchanges_per_run: int = DEFAULT_EXCHANGES_PER_RUN,
        session_ttl: float = DEFAULT_SESSION_TTL,
        budgets: Budgets | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_sessions = max_sessions
        self.runs_per_session = runs_per_session
        self.exchanges_per_run = exchanges_per_run
        self.session_ttl = session_ttl
        self.budgets = budgets or Budgets()
        self.clock = clock
        self._sessions: ExpiringLRU[Session] = ExpiringLRU(
            capacity=max_sessions,
            ttl=session_ttl,
            clock=clock,
            on_evict=lambda _id, session: self._forget_session(session),
        )
        self._unused: ExpiringLRU[Session] = ExpiringLRU(
            capacity=max_unused_sessions, ttl=session_ttl, clock=clock
        )
        self._runs: dict[str, Run] = {}
        self._targets: dict[str, Run] = {}  # URL id -> the newest run answering there
        self.size = 0  # footprint of the sessions in use

    def __len__(self) -> int:
        return len(self._sessions) + len(self._unused)

    @property
    def run_count(self) -> int:
        return len(self._runs)

    @property
    def unused_count(self) -> int:
        return len(self._unused)

    def new_session(self) -> Session:
        return self.session(new_id(), create=True)  # type: ignore[return-value]

    def session(self, session_id: str, *, create: bool = False) -> Session | None:
        """The live session with this id (refreshed), created on demand when asked to (only
        the routes that start a session ask)."""
        found = self._sessions.get(session_id) or self._unused.get(session_id)
        if found is not None:
            found.last_seen = self.clock()
            return found
        if not create or not is_valid_id(session_id):
            return None
        return self._unused.put(session_id, Session(session_id, self.clock()))

    def mark_used(self, session: Session) -> None:
        """The session did something (a run, an answer): from now on it is in use (also when
        it left the unused pool while the request was under way)."""
        if session.id in self._sessions:
            return
        self._unused.remove(session.id)
        self._make_room(session.size, keep=None)
        self._sessions.put(session.id, session)
        self.size += session.size

    def is_used(self, session: Session) -> bool:
        return session.id in self._sessions

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
        """Keep a new run; with ``url_id`` it answers at that earlier run's URL from now on.

        Refused (413) when its scenario is larger than the scenario budget."""
        run = new_run(
            self.budgets, session.id, scenario, prediction,
            run_id=run_id, target=target, notes=notes, hops=hops, url_id=url_id, guess=guess,
        )  # fmt: skip
        self.mark_used(session)
        while len(session.runs) >= self.runs_per_session:
            self._drop_oldest_run(session)
        self._grow(session, run.size, keep=None)
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
        run_id, target, scenario, prediction = fresh_run(scenario, target_origin, browser)
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
        """Keep a leg of the run (cut down to the leg budget, with a note); False when the run
        already holds its maximum, in count or in bytes (the leg is then only counted)."""
        fitted = leg_to_keep(run, exchange, self.budgets, self.exchanges_per_run)
        if fitted is None:
            return False
        session = self._owner(run)
        if session is not None:
            self._grow(session, fitted[1], keep=run)
        add_leg(run, *fitted)
        return True

    def finish(self, run: Run, result: BrowserResult, differences: tuple[str, ...]) -> None:
        """Keep what the page's script reported and how it differs from the prediction
        (refused with 409 when it already has one, with 413 past the result budget)."""
        size = result_size(run, result, differences, self.budgets)
        session = self._owner(run)
        if session is not None:
            self._grow(session, size, keep=run)
        set_result(run, result, differences, size)

    # --- room ---------------------------------------------------------------------------------

    def _owner(self, run: Run) -> Session | None:
        """The run's session, if the run is still kept in it."""
        session = self._sessions.get(run.session_id)
        return session if session is not None and session.runs.get(run.id) is run else None

    def _grow(self, session: Session, size: int, *, keep: Run | None) -> None:
        """Make room for ``size`` more bytes in ``session`` (its oldest runs but ``keep`` go
        first, then other sessions), then count them."""
        while session.size + size > self.budgets.session:
            if not self._drop_oldest_run(session, keep=keep):
                break
        self._make_room(size, keep=session)
        session.size += size
        self.size += size

    def _make_room(self, size: int, *, keep: Session | None) -> None:
        """Let the least recently used sessions in use (but ``keep``) go until ``size`` more
        bytes fit in the store's budget."""
        while self.size + size > self.budgets.store:
            oldest = next((s for s in self._sessions if keep is None or s != keep.id), None)
            if oldest is None:
                return
            self._sessions.remove(oldest)

    def _drop_oldest_run(self, session: Session, keep: Run | None = None) -> bool:
        oldest = next((r for r in session.runs.values() if r is not keep), None)
        if oldest is None:
            return False
        del session.runs[oldest.id]
        self._forget(oldest)
        session.size -= oldest.size
        if self.is_used(session):
            self.size -= oldest.size
        return True

    def _forget_session(self, session: Session) -> None:
        for run in session.runs.values():
            self._forget(run)
        session.runs.clear()
        self.size -= session.size
        session.size = SESSION_OVERHEAD

    def _forget(self, run: Run) -> None:
        self._runs.pop(run.id, None)
        if self._targets.get(run.url_id) is run:
            del self._targets[run.url_id]
