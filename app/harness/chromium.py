"""Drive headless Chromium through Playwright: run fetch() calls in a page, collect what it saw.

Debian's ``chromium`` is used where it exists (env ``CHROMIUM_PATH`` first, then ``chromium``
on ``PATH``); elsewhere Playwright's own downloaded build. Playwright is never asked to
download anything. DevTools (``Network.loadingFailed`` → ``corsErrorStatus``) names the CORS
check that failed; console messages are the browser's own words for the learner.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from app.harness.driver import (
    CONTROL_PATH,
    FETCH_ALL_JS,
    FetchResult,
    FetchSpec,
    batch_deadline,
    collect_console,
    fetch_argument,
    fetch_results,
    find_executable,
    visit_js,
)
from app.harness.errors import BrowserUnavailable

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
LAUNCH_TIMEOUT_MS = 30_000
NAVIGATION_TIMEOUT_MS = 10_000
# fetch() calls in flight at once in one page. One at a time is as fast as 4 to 32 in flight
# (measured: 150 scenarios in about 0.9 s, 650 in about 3.5 s, on 2 cores) and deterministic:
# cookies set by one scenario's response reach exactly the later ones, as in the truth files.
CONCURRENCY = 1
# After the page has its answers, DevTools events may still be on their way.
SETTLE_TIMEOUT = 3.0
SETTLE_POLL = 0.01


def find_chromium() -> str | None:
    """Chromium's executable: env CHROMIUM_PATH, else ``chromium`` on PATH, else None.

    None means: let Playwright use its own downloaded build (``playwright install chromium``).
    """
    return find_executable("CHROMIUM_PATH", "chromium")


@dataclass
class _Watch:
    """DevTools and console events, collected by key while a batch runs."""

    url_to_key: dict[str, str]
    keys: frozenset[str] = frozenset()
    request_keys: dict[str, str] = field(default_factory=dict)  # requestId -> watch key
    # A sequence's fetch under way (from the page's control request): key -> fetch number.
    current: dict[str, int] = field(default_factory=dict)
    sent: set[str] = field(default_factory=set)
    failed: dict[str, tuple[str | None, str | None, str | None]] = field(default_factory=dict)
    console: dict[str, list[str]] = field(default_factory=dict)


class ChromiumDriver:
    """One headless Chromium; each batch runs in a fresh context (no cookies, no caches)."""

    def __init__(self, executable_path: str | None = None, concurrency: int = CONCURRENCY) -> None:
        self.executable_path = executable_path if executable_path is not None else find_chromium()
        self.concurrency = concurrency
        self._playwright: Any = None
        self._browser: Any = None

    @property
    def version(self) -> str:
        return f"Chromium {self._browser.version}" if self._browser else "Chromium"

    async def start(self) -> None:
        """Launch the browser; raise BrowserUnavailable with an install hint when it cannot."""
        try:
            from playwright.async_api import async_playwright
        except ImportError as exc:  # pragma: no cover - playwright is a dependency
            raise BrowserUnavailable("the playwright package is not installed") from exc
        self._playwright = await async_playwright().start()
        options: dict[str, Any] = {
            "headless": True,
            "args": list(CHROMIUM_ARGS),
            "timeout": LAUNCH_TIMEOUT_MS,
        }
        if self.executable_path:
            options["executable_path"] = self.executable_path
        try:
            self._browser = await self._playwright.chromium.launch(**options)
        except Exception as exc:
            await self.close()
            where = self.executable_path or "Playwright's own Chromium build"
            raise BrowserUnavailable(
                f"cannot launch Chromium ({where}): {str(exc).splitlines()[0]}. Install it "
                "(Debian: apt-get install chromium; elsewhere: python -m playwright install "
                "chromium) or point CHROMIUM_PATH at the executable."
            ) from exc

    async def close(self) -> None:
        if self._browser is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._browser.close(), 10)
            self._browser = None
        if self._playwright is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._playwright.stop(), 10)
            self._playwright = None

    async def new_session(self) -> ChromiumSession:
        """A fresh browser context: no cookies, no HTTP or preflight cache from earlier runs."""
        if self._browser is None:
            raise BrowserUnavailable("the browser is not running")
        return ChromiumSession(await self._browser.new_context(), self.concurrency)

    def classify(self, result: FetchResult, records: object) -> None:
        """Nothing to add: DevTools already named the failed check while the batch ran."""

    async def run(self, page_origin: str, specs: list[FetchSpec]) -> list[FetchResult]:
        """Run fetch() calls in a fresh context from a page at ``page_origin``."""
        session = await self.new_session()
        try:
            return await session.run(page_origin, specs)
        finally:
            await session.close()


@dataclass
class _PageState:
    page: Any
    watch: _Watch


class ChromiumSession:
    """One browser context, one page per page origin; batches run one after another in it.

    Cookies set by one scenario's response reach later ones, as in a real browsing session.
    """

    def __init__(self, context: Any, concurrency: int) -> None:
        self._context = context
        self.concurrency = concurrency
        self._pages: dict[str, _PageState] = {}

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._context.close(), 10)

    async def _page(self, page_origin: str) -> _PageState:
        state = self._pages.get(page_origin)
        if state is not None:
            return state
        page = await self._context.new_page()
        page.set_default_timeout(NAVIGATION_TIMEOUT_MS)
        state = _PageState(page, _Watch(url_to_key={}))
        page.on("console", lambda message: _on_console(state.watch, message.text))
        cdp = await self._context.new_cdp_session(page)
        cdp.on("Network.requestWillBeSent", lambda event: _on_request(state.watch, event))
        cdp.on("Network.loadingFailed", lambda event: _on_failed(state.watch, event))
        await cdp.send("Network.enable")
        await page.goto(page_origin + "/", wait_until="load")
        self._pages[page_origin] = state
        return state

    async def visit(self, url: str, script: str, timeout: float) -> Any:
        """Open ``url`` in a new tab, wait for its load event, call ``script`` (a JavaScript
        function expression) there and return its value (through JSON); bounded by ``timeout``."""
        deadline = time.monotonic() + timeout
        page = await self._context.new_page()
        try:
            await page.goto(url, wait_until="load", timeout=timeout * 1000)
            remaining = max(deadline - time.monotonic(), 0.1)
            return json.loads(await asyncio.wait_for(page.evaluate(visit_js(script)), remaining))
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(page.close(), 10)

    async def run(self, page_origin: str, specs: list[FetchSpec]) -> list[FetchResult]:
        """Run fetch() calls from the page at ``page_origin``; results in ``specs`` order."""
        if not specs:
            return []
        state = await self._page(page_origin)
        watch = _Watch(
            url_to_key={u: s.key for s in specs for u in (s.url, *s.urls)},
            keys=frozenset(s.key for s in specs),
        )
        state.watch = watch
        raw = await asyncio.wait_for(
            state.page.evaluate(FETCH_ALL_JS, fetch_argument(specs, self.concurrency)),
            batch_deadline(specs, self.concurrency),
        )
        results = fetch_results(raw)
        await _settle(watch, specs, results)
        for spec, result in zip(specs, results, strict=True):
            cors_error, failed_parameter, net_error = watch.failed.get(
                spec.watch_key, (None, None, None)
            )
            result.cors_error = cors_error
            result.failed_parameter = failed_parameter
            result.net_error = net_error
            result.console = _console_for(watch, specs, spec)
        return results


def _console_for(watch: _Watch, specs: list[FetchSpec], spec: FetchSpec) -> list[str]:
    """The console messages of one fetch: a sequence's go to its one failed fetch, if any."""
    messages = watch.console.get(spec.key, [])
    if spec.index is None or not messages:
        return messages
    failed = [s for s in specs if s.key == spec.key and s.watch_key in watch.failed]
    return messages if failed == [spec] else []


async def _settle(watch: _Watch, specs: list[FetchSpec], results: list[FetchResult]) -> None:
    """Wait (bounded) for the DevTools failure and console message of each failed fetch."""

    def missing() -> bool:
        for spec, result in zip(specs, results, strict=True):
            if result.ok:
                continue
            key = spec.watch_key
            went_out = key in watch.sent or (
                result.error is not None and "Failed to fetch" in result.error
            )
            if went_out and key not in watch.failed:
                return True
            if watch.failed.get(key, (None,))[0] and spec.key not in watch.console:
                return True
        return False

    deadline = time.monotonic() + SETTLE_TIMEOUT
    while missing() and time.monotonic() < deadline:
        await asyncio.sleep(SETTLE_POLL)


def _on_request(watch: _Watch, event: dict[str, Any]) -> None:
    url = event.get("request", {}).get("url", "")
    path, _, query = url.partition("://")[2].partition("/")[2].partition("?")
    if "/" + path == CONTROL_PATH:
        fields = dict(part.partition("=")[::2] for part in query.split("&") if part)
        if fields.get("fetch", "").isdigit():
            watch.current[unquote(fields.get("key", ""))] = int(fields["fetch"])
        return
    key = watch.url_to_key.get(url)
    if key is not None:
        if key in watch.current:
            key = f"{key}#{watch.current[key]}"
        watch.request_keys.setdefault(event.get("requestId", ""), key)
        watch.sent.add(key)


def _on_failed(watch: _Watch, event: dict[str, Any]) -> None:
    key = watch.request_keys.get(event.get("requestId", ""))
    if key is None:
        return
    status = event.get("corsErrorStatus") or {}
    entry = (status.get("corsError"), status.get("failedParameter"), event.get("errorText"))
    # The fetch's own failure names the CORS check; keep it over a bare network error.
    if key not in watch.failed or (entry[0] and not watch.failed[key][0]):
        watch.failed[key] = entry


def _on_console(watch: _Watch, text: str) -> None:
    collect_console(watch.console, watch.keys, text)
