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
from typing import Any, Protocol, TypeVar

from app.cors.scenario import Scenario
from app.harness.chromium import ChromiumDriver
from app.harness.driver import FetchResult, FetchSpec
from app.harness.errors import HarnessError
from app.harness.observation import build_observation
from app.harness.rewrite import PreparedScenario, RewriteError, prepare
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
        if self._loop is None:
            self.start()
        prepared = self.prepare(scenarios)
        observations: list[dict[str, Any]] = []
        with self._lock:
            session = self._call(self._driver.new_session(), START_TIMEOUT)
            try:
                for start in range(0, len(prepared), BATCH_SIZE):
                    batch = prepared[start : start + BATCH_SIZE]
                    observations.extend(
                        self._call(self._observe_batch(session, batch, exchanges), BATCH_TIMEOUT)
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
        token = secrets.token_hex(6)
        prepared = []
        for index, scenario in enumerate(scenarios):
            try:
                prepared.append(
                    prepare(
                        scenario,
                        f"{token}-{index:06d}",
                        self.page_port,
                        self.target_port,
                        PATH_PREFIX,
                    )
                )
            except RewriteError as exc:
                name = scenario.id if scenario.id is not None else f"#{index}"
                raise HarnessError(f"scenario {name}: {exc}") from exc
        return prepared

    async def _observe_batch(
        self, session: BrowserSession, batch: list[PreparedScenario], exchanges: bool
    ) -> list[dict[str, Any]]:
        for item in batch:
            self._server.register(item.key, item.preflight_response, item.response)
        try:
            by_page: dict[str, list[int]] = {}
            for index, item in enumerate(batch):
                by_page.setdefault(item.page_origin, []).append(index)
            observations: list[dict[str, Any]] = [{} for _ in batch]
            for page_origin, indexes in by_page.items():
                specs = [_spec(batch[i]) for i in indexes]
                results = await session.run(page_origin, specs)
                for i, result in zip(indexes, results, strict=True):
                    item = batch[i]
                    records = self._server.records(item.key)
                    self._driver.classify(result, records)
                    observations[i] = build_observation(item, result, records, exchanges=exchanges)
            return observations
        finally:
            for item in batch:
                self._server.unregister(item.key)

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


def _spec(item: PreparedScenario) -> FetchSpec:
    return FetchSpec(
        key=item.key,
        url=item.url,
        method=item.request.method,
        headers=item.request.headers,
        credentials=item.request.credentials,
        mode=item.request.mode,
        body=item.request.body,
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
