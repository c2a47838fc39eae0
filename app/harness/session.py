"""The harness session: target server plus real browser, on a private event-loop thread.

The browser is Chromium (Playwright), Firefox (WebDriver BiDi) or WebKitGTK (WebDriver, under
a private Xvfb display); each driver gives the same ``FetchResult`` per fetch.

``Harness`` is blocking and thread-safe to call, so tests, the CLI and a running web app (which
already has an event loop) can all use it. Start it once, observe many times::

    with Harness("chromium") as harness:
        observations = harness.observe(scenarios)

``shared_harness(browser)`` keeps one started harness per browser for the whole process (for a
pytest session: call ``observe()`` as often as you like, the browser starts once).

``visit(url, script)`` opens any page (the playground itself, say) in the same browser and
returns what a script run in it found: end-to-end checks of a page in every engine.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import secrets
import threading
from collections.abc import Coroutine, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from app.cors.scenario import (
    REDIRECT_STATUSES,
    FetchSequence,
    RequestInit,
    Scenario,
    SequenceItem,
    ServerResponse,
)
from app.harness.chromium import ChromiumDriver
from app.harness.driver import SEQUENCE_CONCURRENCY, FetchResult, FetchSpec
from app.harness.errors import HarnessError
from app.harness.observation import build_observation, preflight_cache
from app.harness.rewrite import (
    LOOPBACK_HOSTS,
    OriginMap,
    PreparedScenario,
    PreparedSite,
    RewriteError,
    prepare,
    prepare_fetch,
)
from app.harness.target import PATH_PREFIX, RecordedRequest, TargetServer

T = TypeVar("T")

SUPPORTED_BROWSERS = ("chromium", "firefox", "webkit")
BATCH_SIZE = 256
START_TIMEOUT = 60.0
# Per batch: navigation, BATCH_SIZE fetches (FETCH_TIMEOUT each, 16 in flight), settling.
BATCH_TIMEOUT = 180.0
CLOSE_TIMEOUT = 30.0
# A visit() by default: navigation, then the page's own script (it may wait for the page).
VISIT_TIMEOUT = 30.0


class BrowserSession(Protocol):
    """One fresh browsing session (own cookies and caches) in a started browser."""

    async def run(self, page_origin: str, specs: list[FetchSpec]) -> list[FetchResult]: ...

    async def visit(self, url: str, script: str, timeout: float) -> Any: ...

    async def close(self) -> None: ...


class BrowserDriver(Protocol):
    """A real browser the harness drives: Chromium, Firefox or WebKit."""

    @property
    def version(self) -> str: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def new_session(self) -> BrowserSession: ...

    def classify(self, result: FetchResult, records: Sequence[RecordedRequest]) -> None:
        """Fill in ``result.cors_error`` / ``failed_parameter`` where the driver names them
        only once it knows what the target saw (Firefox: the stage of a console reason)."""


def make_driver(browser: str, executable_path: str | None = None) -> BrowserDriver:
    """The driver for a supported browser name (HarnessError for any other)."""
    if browser == "chromium":
        return ChromiumDriver(executable_path)
    if browser == "firefox":
        from app.harness.firefox import FirefoxDriver

        return FirefoxDriver(executable_path)
    if browser == "webkit":
        from app.harness.webkit import WebKitDriver

        return WebKitDriver(executable_path)
    raise HarnessError(
        f"unknown browser {browser!r}: the harness drives {', '.join(SUPPORTED_BROWSERS)}"
    )


class Harness:
    """A started target server and browser; ``observe()`` runs scenarios and reports back."""

    def __init__(self, browser: str = "chromium", *, executable_path: str | None = None) -> None:
        self.browser = browser
        self._driver = make_driver(browser, executable_path)
        self._server = TargetServer()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        # What warming each origin up gave (Firefox), as the shared truth files record it.
        self.warmup: list[dict[str, Any]] = []

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Harness:
        """Start the loop thread, the target server and the browser (BrowserUnavailable if not)."""
        if self._loop is not None:
            return self
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="cors-harness", daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            self._call(self._start(), START_TIMEOUT)
        except BaseException:
            self.close()
            raise
        return self

    async def _start(self) -> None:
        await self._server.start()
        await self._driver.start()

    def close(self) -> None:
        """Close the browser and the server and stop the loop thread. Idempotent."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            if loop.is_running():
                self._call(self._close(), CLOSE_TIMEOUT)
        except Exception:
            pass
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(CLOSE_TIMEOUT)
            if not thread.is_alive():
                loop.close()
            self._loop = self._thread = None

    async def _close(self) -> None:
        await self._driver.close()
        await self._server.close()

    def __enter__(self) -> Harness:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def version(self) -> str:
        """The browser's product and version, e.g. ``Chromium 156.0.8078.108``,
        ``Firefox 153.7.0``, ``WebKitGTK 2.50.6``."""
        return self._driver.version

    @property
    def page_port(self) -> int:
        return self._server.page_port

    @property
    def target_port(self) -> int:
        return self._server.target_port

    # -- observing -----------------------------------------------------------------------------

    def observe(
        self, scenarios: Sequence[Scenario], *, exchanges: bool = False
    ) -> list[dict[str, Any]]:
        """Run each scenario in the real browser; one observation per scenario, in order.

        One call is one fresh browsing session (cookies carry from scenario to scenario, as
        in a browser; nothing carries over from an earlier call). With ``exchanges``, each
        observation also lists the raw requests the target received.
        """
        return self.observe_documents(scenarios, exchanges=exchanges, whole=False)

    def observe_documents(
        self,
        documents: Sequence[Scenario | FetchSequence],
        *,
        exchanges: bool = False,
        whole: bool | None = True,
    ) -> list[dict[str, Any]]:
        """Run scenarios (whole fetches: every redirect followed across origins) and sequences
        (fetches over time from one page); one observation per document, in order.

        A sequence's observation is ``{"sequence": [observation, ...], "warmup": ...}``, each
        fetch's with ``preflight_cache`` and ``started_s``. One call is one fresh browsing
        session. Firefox's first answers to preflights sent to an origin are not cached
        (see ``WARMUP``), so each origin is warmed up before the first fetch. Without
        ``whole``, a scenario's observation has the v1 shape (the shared v1 truth files'); with
        ``whole`` None, only a scenario that is a whole fetch (``is_whole_fetch``) is observed
        as one.
        """
        if self._loop is None:
            self.start()
        jobs = self.jobs(documents)
        observations: list[dict[str, Any]] = []
        with self._lock:
            session = self._call(self._driver.new_session(), START_TIMEOUT)
            warmed: set[str] = set()
            try:
                for batch in _batches(jobs):
                    pages = {j.items[0].page_origin for j in batch}
                    if self.browser in WARMUP_BROWSERS and pages - warmed:
                        warm = [w for p in sorted(pages - warmed) for w in self._warmup_jobs(p)]
                        done = self._call(
                            self._observe_batch(session, warm, False, True), _timeout(warm)
                        )
                        self.warmup.extend(
                            {"id": j.key, "preflight_cache": [f["preflight_cache"]
                                                              for f in o["sequence"]]}
                            for j, o in zip(warm, done, strict=True)
                        )  # fmt: skip
                        warmed |= pages
                    observations.extend(
                        self._call(
                            self._observe_batch(session, batch, exchanges, whole), _timeout(batch)
                        )
                    )
            finally:
                with contextlib.suppress(HarnessError):
                    self._call(session.close(), CLOSE_TIMEOUT)
        return observations

    def visit(self, url: str, script: str, timeout: float = VISIT_TIMEOUT) -> Any:
        """Open ``url`` in the real browser, wait for its load event, call ``script`` in the
        page and return what it resolves to.

        ``script`` is a JavaScript function expression (``async () => …``) whose value is
        JSON-able; it may wait for the page (poll, await events). The whole visit, navigation
        and script, is bounded by ``timeout`` seconds (HarnessError past it, or when the page
        or the script fails). One call is one fresh browsing session, as for ``observe()``.
        """
        if self._loop is None:
            self.start()
        with self._lock:
            return self._call(self._visit(url, script, timeout), timeout + CLOSE_TIMEOUT)

    async def _visit(self, url: str, script: str, timeout: float) -> Any:
        session = await asyncio.wait_for(self._driver.new_session(), START_TIMEOUT)
        try:
            return await asyncio.wait_for(session.visit(url, script, timeout), timeout)
        except TimeoutError:
            raise HarnessError(f"{self.version}: {url} took longer than {timeout:g}s") from None
        except Exception as exc:
            text = (str(exc).strip() or type(exc).__name__).splitlines()[0]
            raise HarnessError(f"{self.version}: {url}: {text}") from exc
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(session.close(), CLOSE_TIMEOUT)

    def prepare(self, scenarios: Sequence[Scenario]) -> list[PreparedScenario]:
        """Rewrite scenarios onto this harness's ports, each with a fresh unguessable key."""
        return [job.items[0] for job in self.jobs(scenarios)]

    def jobs(self, documents: Sequence[Scenario | FetchSequence]) -> list[_Job]:
        """Each document rewritten onto this harness's ports with a fresh unguessable key: a
        one-URL scenario at ``/t/<key>``, a whole fetch's URLs and a sequence's fetches under
        ``/t/<key>/``."""
        token = secrets.token_hex(6)
        jobs = []
        for index, document in enumerate(documents):
            key = f"{token}-{index:06d}"
            try:
                if isinstance(document, FetchSequence):
                    # One origin map for every fetch: the same URL is the same URL throughout.
                    every = [url for i in document.items for url, _, _ in i.scenario.answer_sites()]
                    items = [
                        prepare_fetch(
                            item.scenario, key, self._server.ports, PATH_PREFIX, also=every
                        )
                        for item in document.items
                    ]
                    jobs.append(_Job(key, items, document))
                elif document.hops:
                    items = [prepare_fetch(document, key, self._server.ports, PATH_PREFIX)]
                    jobs.append(_Job(key, items, None))
                else:
                    item = prepare(document, key, self.page_port, self.target_port, PATH_PREFIX)
                    jobs.append(_Job(key, [item], None))
            except RewriteError as exc:
                name = document.id if document.id is not None else f"#{index}"
                raise HarnessError(f"scenario {name}: {exc}") from exc
        return jobs

    def _warmup_jobs(self, page_origin: str) -> list[_Job]:
        """One sequence per other origin: ``WARMUP`` preflighted fetches of the same URL."""
        token = secrets.token_hex(6)
        jobs = []
        for host in LOOPBACK_HOSTS:
            for port in self._server.ports:
                origin = f"http://{host}:{port}"
                if origin == page_origin:
                    continue
                key = f"{token}-warm-{host}-{port}"
                allow = (
                    ("Access-Control-Allow-Origin", page_origin),
                    ("Access-Control-Allow-Methods", "PUT"),
                    ("Access-Control-Allow-Headers", "x-warm"),
                    ("Access-Control-Max-Age", "60"),
                )
                target = f"{PATH_PREFIX}{key}/w"
                site = PreparedSite(
                    declared=f"{origin}{target}",
                    url=f"{origin}{target}",
                    host=host,
                    port=port,
                    target=target,
                    preflight_response=ServerResponse(204, allow),
                    response=ServerResponse(200, allow[:1]),
                )
                scenario = Scenario(
                    origin=page_origin,
                    url=site.url,
                    request=RequestInit("PUT", (("X-Warm", "1"),)),
                    id=key,
                )
                item = PreparedScenario(
                    scenario=scenario,
                    key=key,
                    url=site.url,
                    page_origin=page_origin,
                    request=scenario.request,
                    preflight_response=site.preflight_response,
                    response=site.response,
                    origins=OriginMap(()),
                    sites=(site,),
                )
                sequence = FetchSequence(
                    tuple(SequenceItem(0.05 * i, scenario) for i in range(WARMUP))
                )
                jobs.append(_Job(key, [item] * WARMUP, sequence))
        return jobs

    async def _observe_batch(
        self, session: BrowserSession, batch: list[_Job], exchanges: bool, whole: bool | None
    ) -> list[dict[str, Any]]:
        for job in batch:
            first = job.items[0]
            if first.sites:
                self._server.register_fetches(job.key, [item.sites for item in job.items])
            else:
                self._server.register(job.key, first.preflight_response, first.response)
        try:
            by_page: dict[str, list[int]] = {}
            for index, job in enumerate(batch):
                by_page.setdefault(job.items[0].page_origin, []).append(index)
            observations: list[dict[str, Any]] = [{} for _ in batch]
            for page_origin, indexes in by_page.items():
                specs = [spec for i in indexes for spec in batch[i].specs()]
                results = iter(await session.run(page_origin, specs))
                for i in indexes:
                    observations[i] = self._observation(
                        batch[i], [next(results) for _ in batch[i].items], exchanges, whole
                    )
            return observations
        finally:
            for job in batch:
                self._server.unregister(job.key)

    def _observation(
        self, job: _Job, results: list[FetchResult], exchanges: bool, whole: bool | None
    ) -> dict[str, Any]:
        records = self._server.records(job.key)
        if job.sequence is None:
            self._driver.classify(results[0], records)
            first = job.items[0]
            return build_observation(
                first,
                results[0],
                records,
                exchanges=exchanges,
                whole=is_whole_fetch(first.scenario) if whole is None else whole,
            )
        fetches = []
        for index, (item, result) in enumerate(zip(job.items, results, strict=True)):
            mine = [r for r in records if r.fetch == index]
            self._driver.classify(result, mine)
            observation = build_observation(item, result, mine, exchanges=exchanges, whole=True)
            observation["preflight_cache"] = preflight_cache(
                item.scenario, observation, self.browser
            )
            observation["at"] = job.sequence.items[index].at
            observation["started_s"] = result.started
            fetches.append(observation)
        return {"sequence": fetches}

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        if self._loop is None:
            coro.close()
            raise HarnessError("the harness is not started")
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise HarnessError(f"the browser did not finish within {timeout:.0f}s") from None


# Firefox ESR 153 did not cache the answers to the first three preflights sent to each
# 127.0.0.1:port origin of a browser session: before its first sequence, each origin gets
# this many preflighted fetches.
WARMUP = 6
WARMUP_BROWSERS = frozenset({"firefox"})


@dataclass
class _Job:
    """One document as the page runs it: a scenario (one fetch) or a sequence's fetches, all
    under one key."""

    key: str
    items: list[PreparedScenario]
    sequence: FetchSequence | None

    @property
    def duration(self) -> float:
        return self.sequence.items[-1].at if self.sequence is not None else 0.0

    def specs(self) -> list[FetchSpec]:
        if self.sequence is None:
            return [_spec(self.items[0])]
        return [
            _spec(item, index, entry.at)
            for index, (item, entry) in enumerate(zip(self.items, self.sequence.items, strict=True))
        ]


def is_whole_fetch(scenario: Scenario) -> bool:
    """Whether a scenario is about more than its first answer: it has hops, a redirect mode
    other than follow, or its answer is a redirect."""
    return bool(
        scenario.hops
        or scenario.request.redirect != "follow"
        or scenario.response.status in REDIRECT_STATUSES
    )


def _batches(jobs: list[_Job]) -> list[list[_Job]]:
    """Jobs in file order, in batches of at most BATCH_SIZE fetches; sequences never share a
    batch with single fetches, whose preflights would crowd their answers out of a browser's
    preflight cache (Firefox keeps 100) while their timelines wait."""
    batches: list[list[_Job]] = []
    current: list[_Job] = []
    fetches = 0
    for job in jobs:
        size = len(job.items)
        kind_changes = bool(current) and (current[-1].sequence is None) != (job.sequence is None)
        if current and (fetches + size > BATCH_SIZE or kind_changes):
            batches.append(current)
            current, fetches = [], 0
        current.append(job)
        fetches += size
    if current:
        batches.append(current)
    return batches


def _timeout(batch: list[_Job]) -> float:
    """A batch's bound: BATCH_TIMEOUT plus its sequences' timelines (a few side by side)."""
    total = sum(job.duration for job in batch)
    return (
        BATCH_TIMEOUT
        + total / SEQUENCE_CONCURRENCY
        + max((job.duration for job in batch), default=0.0)
    )


def _spec(item: PreparedScenario, index: int | None = None, at: float = 0.0) -> FetchSpec:
    return FetchSpec(
        key=item.key,
        url=item.url,
        method=item.request.method,
        headers=item.request.headers,
        credentials=item.request.credentials,
        mode=item.request.mode,
        body=item.request.body,
        redirect=item.request.redirect,
        urls=tuple(f"http://{s.host}:{s.port}{s.target}" for s in item.sites),
        index=index,
        at=at,
    )


_shared: dict[str, Harness] = {}
_shared_lock = threading.Lock()


def shared_harness(browser: str = "chromium") -> Harness:
    """One started harness per browser for the whole process, closed at exit."""
    with _shared_lock:
        harness = _shared.get(browser)
        if harness is None:
            harness = Harness(browser).start()
            _shared[browser] = harness
        return harness


def close_shared() -> None:
    """Close every shared harness (also runs at interpreter exit)."""
    with _shared_lock:
        for harness in _shared.values():
            harness.close()
        _shared.clear()


atexit.register(close_shared)

__all__ = [
    "SUPPORTED_BROWSERS",
    "BrowserDriver",
    "BrowserSession",
    "Harness",
    "close_shared",
    "make_driver",
    "shared_harness",
]
