"""Drive headless Firefox over WebDriver BiDi: run fetch() calls in a page, collect what it saw.

No geckodriver and no Playwright: Firefox has its own WebDriver BiDi agent. The harness starts
``firefox-esr --headless --remote-debugging-port 0 --profile <fresh dir>`` (env ``FIREFOX_PATH``
first, then ``firefox-esr`` or ``firefox`` on ``PATH``), reads the port Firefox chose from
``<profile>/WebDriverBiDiServer.json`` and speaks the protocol over one websocket. Every
observe() call is a fresh user context (its own cookies); each page origin gets a tab in it.

Firefox has no DevTools CORS error names. It reports a failed CORS check as a console message,
"Cross-Origin Request Blocked: … (Reason: …)", which BiDi delivers as ``log.entryAdded``. The
message is kept as the browser's own words; ``classify_reason`` maps its reason to the
Chromium-style ``blocked_by`` name where the failed check is the same one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.harness.driver import (
    FETCH_ALL_JS,
    FetchResult,
    FetchSpec,
    batch_deadline,
    collect_console,
    fetch_argument,
    fetch_results,
    find_executable,
    launch,
    start_process_group,
    stop_process_group,
    visit_js,
)
from app.harness.errors import BrowserUnavailable, HarnessError
from app.harness.target import RecordedRequest

LAUNCH_TIMEOUT = 30.0
COMMAND_TIMEOUT = 15.0
CLOSE_TIMEOUT = 10.0
NAVIGATION_TIMEOUT = 10.0
# One fetch at a time, as for Chromium: deterministic, and cookies reach exactly the later ones.
CONCURRENCY = 1
# After the page has its answers, console messages may still be on their way: wait (bounded)
# for one message per fetch that failed on the network, then until none came for SETTLE_QUIET.
SETTLE_TIMEOUT = 3.0
SETTLE_QUIET = 0.15
SETTLE_POLL = 0.01
MAX_MESSAGE_BYTES = 16 * 1024 * 1024

# Preferences for a quiet, deterministic browser: no update checks, telemetry, captive-portal
# or connectivity probes, remote settings, experiments, safe-browsing downloads, prefetching or
# speculative connections; no proxy; nothing on the network but what a scenario asks for.
USER_PREFS: dict[str, bool | int | str] = {
    "app.normandy.enabled": False,
    "app.shield.optoutstudies.enabled": False,
    "app.update.auto": False,
    "app.update.checkInstallTime": False,
    "app.update.disabledForTesting": True,
    "app.update.enabled": False,
    "browser.aboutwelcome.enabled": False,
    "browser.discovery.enabled": False,
    "browser.newtabpage.activity-stream.feeds.section.topstories": False,
    "browser.newtabpage.activity-stream.feeds.snippets": False,
    "browser.newtabpage.activity-stream.feeds.telemetry": False,
    "browser.newtabpage.activity-stream.telemetry": False,
    "browser.newtabpage.enabled": False,
    "browser.ping-centre.telemetry": False,
    "browser.safebrowsing.blockedURIs.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.safebrowsing.downloads.remote.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.provider.google.updateURL": "",
    "browser.safebrowsing.provider.google4.updateURL": "",
    "browser.safebrowsing.provider.mozilla.updateURL": "",
    "browser.search.geoip.url": "",
    "browser.search.update": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage": "about:blank",
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.startup.page": 0,
    "browser.tabs.warnOnClose": False,
    "browser.topsites.contile.enabled": False,
    "browser.urlbar.suggest.quicksuggest.sponsored": False,
    "captivedetect.canonicalURL": "",
    "datareporting.healthreport.uploadEnabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "dom.ipc.reportProcessHangs": False,
    "extensions.blocklist.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "extensions.systemAddon.update.enabled": False,
    "extensions.update.enabled": False,
    "geo.provider.network.url": "",
    "media.gmp-manager.url": "",
    "messaging-system.rsexperimentloader.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "network.dns.disablePrefetch": True,
    "network.http.speculative-parallel-limit": 0,
    "network.predictor.enabled": False,
    "network.prefetch-next": False,
    "network.proxy.type": 0,
    "network.trr.mode": 5,
    "services.settings.server": "data:,",
    "toolkit.telemetry.archive.enabled": False,
    "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.server": "",
    "toolkit.telemetry.unified": False,
    "toolkit.telemetry.updatePing.enabled": False,
}

# Runs in the page: the shared fetch loop, taking and giving JSON text (no BiDi value trees).
CALL_JS = f"async (json) => JSON.stringify(await ({FETCH_ALL_JS.strip()})(JSON.parse(json)))"

_REASON = re.compile(r"\(Reason: (.*?)\)(?:\. Status code: (.*?))?\.?\s*$", re.DOTALL)
# The value a reason quotes: the ACAO value that did not match, the header or token named. The
# value itself may hold quotes, so the match runs to the words that follow it.
_PARAMETER = re.compile(
    r"does not match ‘(.*)’$|^(?:header|missing token|invalid token) ‘(.*)’ "
    r"(?:is not allowed according to|in CORS header)",
    re.DOTALL,
)


def find_firefox() -> str | None:
    """Firefox's executable: env FIREFOX_PATH, else ``firefox-esr`` or ``firefox`` on PATH."""
    return find_executable("FIREFOX_PATH", "firefox-esr", "firefox")


def user_js(prefs: dict[str, bool | int | str] = USER_PREFS) -> str:
    """The profile's user.js text for these preferences."""
    return "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in prefs.items())


# -- Firefox's reasons as Chromium-style check names -------------------------------------------

# (pattern on the reason text, name when the check failed on the actual response, name when it
# failed on the preflight). A None name: Firefox does not say which check, so neither do we.
_REASONS: tuple[tuple[re.Pattern[str], str | None, str | None], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), actual, preflight)
    for pattern, actual, preflight in (
        (
            r"^CORS header .Access-Control-Allow-Origin. missing",
            "MissingAllowOriginHeader",
            "PreflightMissingAllowOriginHeader",
        ),
        (
            r"^Multiple CORS header .Access-Control-Allow-Origin. not allowed",
            "MultipleAllowOriginValues",
            "PreflightMultipleAllowOriginValues",
        ),
        (
            r"^CORS header .Access-Control-Allow-Origin. does not match",
            "AllowOriginMismatch",
            "PreflightAllowOriginMismatch",
        ),
        (
            r"^Credential is not supported if the CORS header .Access-Control-Allow-Origin. is",
            "WildcardOriginNotAllowed",
            "PreflightWildcardOriginNotAllowed",
        ),
        (
            r"^expected .true. in CORS header .Access-Control-Allow-Credentials.",
            "InvalidAllowCredentials",
            "PreflightInvalidAllowCredentials",
        ),
        (r"^CORS preflight response did not succeed", None, "PreflightInvalidStatus"),
        (
            r"^Did not find method in CORS header .Access-Control-Allow-Methods.",
            None,
            "MethodDisallowedByPreflightResponse",
        ),
        (
            r"^header .*is not allowed according to header .Access-Control-Allow-Headers.",
            None,
            "HeaderDisallowedByPreflightResponse",
        ),
        (
            r"^missing token .* in CORS header .Access-Control-Allow-Headers.",
            None,
            "HeaderDisallowedByPreflightResponse",
        ),
        (
            r"^invalid token .* in CORS header .Access-Control-Allow-Methods.",
            None,
            "InvalidAllowMethodsPreflightResponse",
        ),
        (
            r"^invalid token .* in CORS header .Access-Control-Allow-Headers.",
            None,
            "InvalidAllowHeadersPreflightResponse",
        ),
        (r"^CORS request external redirect not allowed", None, "PreflightDisallowedRedirect"),
    )
)


def console_reason(message: str) -> str | None:
    """The ``(Reason: …)`` text of a Firefox "Cross-Origin Request Blocked" message, or None."""
    if not message.startswith("Cross-Origin Request Blocked"):
        return None
    match = _REASON.search(message)
    return match.group(1) if match else None


def classify_reason(reason: str, *, preflight_stage: bool) -> tuple[str | None, str | None]:
    """A Firefox reason as (Chromium-style ``blocked_by``, failed parameter), or (None, None).

    ``preflight_stage``: the check failed on the preflight's response (a preflight was sent and
    the actual request was not). Firefox uses the same words for both stages; Chromium names
    the preflight's with a ``Preflight`` prefix. A reason only the preflight can give (a status,
    method or header not allowed) is named only when the stage agrees.
    """
    for pattern, actual, preflight in _REASONS:
        if pattern.search(reason):
            name = preflight if preflight_stage else actual
            if name is None:
                return None, None
            found = _PARAMETER.search(reason)
            parameter = None if found is None else next(g for g in found.groups() if g is not None)
            return name, parameter
    return None, None


def classify(
    messages: Sequence[str], records: Sequence[RecordedRequest]
) -> tuple[str | None, str | None]:
    """``blocked_by`` and failed parameter for a blocked fetch, from its console messages.

    The first message that names a check decides ("CORS request did not succeed", which
    follows a failed preflight, names none). The stage comes from what the target saw: the
    check failed on a preflight's answer when the last request to arrive was a preflight (a
    whole fetch may have sent actual requests before, at earlier URLs).
    """
    preflight_stage = bool(records) and records[-1].kind == "preflight"
    for message in messages:
        reason = console_reason(message)
        if reason is None:
            continue
        name, parameter = classify_reason(reason, preflight_stage=preflight_stage)
        if name is not None:
            return name, parameter
    return None, None


# -- the BiDi connection -----------------------------------------------------------------------


class BidiError(HarnessError):
    """A BiDi command failed (the browser's error and message) or did not answer in time."""


class BidiConnection:
    """One websocket to Firefox's BiDi agent: commands with bounded waits, events to a callback."""

    def __init__(self, ws: Any, on_event: Callable[[str, dict[str, Any]], None]) -> None:
        self._ws = ws
        self._on_event = on_event
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read(), name="firefox-bidi-reader")
        self._closed: BaseException | None = None

    @classmethod
    async def open(
        cls, url: str, on_event: Callable[[str, dict[str, Any]], None], timeout: float
    ) -> BidiConnection:
        from websockets.asyncio.client import connect

        ws = await connect(
            url,
            open_timeout=timeout,
            close_timeout=CLOSE_TIMEOUT,
            max_size=MAX_MESSAGE_BYTES,
            ping_interval=None,
            proxy=None,
        )
        return cls(ws, on_event)

    async def send(
        self, method: str, params: dict[str, Any], timeout: float = COMMAND_TIMEOUT
    ) -> dict[str, Any]:
        if self._closed is not None:
            raise BidiError(f"the BiDi connection is closed ({self._closed})")
        command_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[command_id] = future
        try:
            await asyncio.wait_for(
                self._ws.send(json.dumps({"id": command_id, "method": method, "params": params})),
                timeout,
            )
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise BidiError(f"{method}: no answer within {timeout:.0f}s") from None
        finally:
            self._pending.pop(command_id, None)

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                message = json.loads(raw)
                command_id = message.get("id")
                if command_id is None:
                    if message.get("type") == "event":
                        self._on_event(message.get("method", ""), message.get("params") or {})
                    continue
                future = self._pending.get(command_id)
                if future is None or future.done():
                    continue
                if message.get("type") == "error":
                    future.set_exception(
                        BidiError(f"{message.get('error')}: {message.get('message')}")
                    )
                else:
                    future.set_result(message.get("result") or {})
        except Exception as exc:  # the socket closed or broke: fail whatever waits
            self._closed = exc
        finally:
            if self._closed is None:
                self._closed = BidiError("closed by the browser")
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(BidiError(f"the BiDi connection closed ({self._closed})"))

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._ws.close(), CLOSE_TIMEOUT)
        self._reader.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(self._reader, CLOSE_TIMEOUT)


# -- the driver --------------------------------------------------------------------------------


@dataclass
class _Console:
    """Console messages collected by key while a batch runs, and when the last one came."""

    keys: frozenset[str]
    messages: dict[str, list[str]]
    last: float


class FirefoxDriver:
    """One headless Firefox on a fresh profile; each session is a fresh user context."""

    name = "firefox"

    def __init__(self, executable_path: str | None = None, concurrency: int = CONCURRENCY) -> None:
        self.executable_path = executable_path if executable_path is not None else find_firefox()
        self.concurrency = concurrency
        self._process: asyncio.subprocess.Process | None = None
        self._profile: str | None = None
        self._bidi: BidiConnection | None = None
        self._version = ""
        self._console: _Console | None = None

    @property
    def version(self) -> str:
        return f"Firefox {self._version}" if self._version else "Firefox"

    async def start(self) -> None:
        """Launch Firefox and open a BiDi session; BrowserUnavailable with a hint if it cannot."""
        if not self.executable_path:
            raise BrowserUnavailable(
                "cannot find Firefox: install it (Debian: apt-get install firefox-esr) or point "
                "FIREFOX_PATH at the executable."
            )
        executable = self.executable_path
        await launch(
            asyncio.wait_for(self._launch(executable), LAUNCH_TIMEOUT),
            self.close,
            lambda detail, exc: (
                f"cannot launch Firefox ({executable}): {detail.splitlines()[0]}. "
                "Install it (Debian: apt-get install firefox-esr) or point FIREFOX_PATH at the "
                "executable."
            ),
        )

    async def _launch(self, executable: str) -> None:
        profile = tempfile.mkdtemp(prefix="cors-harness-firefox-")
        self._profile = profile
        Path(profile, "user.js").write_text(user_js(), encoding="utf-8")
        env = dict(os.environ)
        env.update(
            MOZ_CRASHREPORTER_DISABLE="1",
            MOZ_DISABLE_AUTO_SAFE_MODE="1",
            MOZ_HEADLESS="1",
        )
        # Its own process group: closing ends every child too.
        self._process = await start_process_group(
            executable,
            "--headless",
            "--no-remote",
            "--remote-debugging-port",
            "0",
            "--profile",
            profile,
            "about:blank",
            env=env,
        )
        port = await self._bidi_port(Path(profile, "WebDriverBiDiServer.json"))
        self._bidi = await BidiConnection.open(
            f"ws://127.0.0.1:{port}/session", self._on_event, COMMAND_TIMEOUT
        )
        result = await self._bidi.send("session.new", {"capabilities": {}})
        capabilities = result.get("capabilities") or {}
        self._version = str(capabilities.get("browserVersion", ""))
        await self._bidi.send("session.subscribe", {"events": ["log.entryAdded"]})

    async def _bidi_port(self, path: Path) -> int:
        while True:
            if self._process is not None and self._process.returncode is not None:
                raise BrowserUnavailable(f"Firefox exited with status {self._process.returncode}")
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                port = int(json.loads(path.read_text(encoding="utf-8"))["ws_port"])
                if port > 0:
                    return port
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        """End the BiDi session, stop Firefox and its children, delete the profile."""
        if self._bidi is not None:
            with contextlib.suppress(Exception):
                await self._bidi.send("session.end", {}, CLOSE_TIMEOUT)
            await self._bidi.close()
            self._bidi = None
        if self._process is not None:
            await stop_process_group(self._process)
            self._process = None
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    def _on_event(self, method: str, params: dict[str, Any]) -> None:
        console = self._console
        if method != "log.entryAdded" or console is None:
            return
        if collect_console(console.messages, console.keys, str(params.get("text") or "")):
            console.last = time.monotonic()

    @property
    def bidi(self) -> BidiConnection:
        if self._bidi is None:
            raise BrowserUnavailable("the browser is not running")
        return self._bidi

    async def new_session(self) -> FirefoxSession:
        """A fresh user context: no cookies or storage from earlier sessions."""
        result = await self.bidi.send("browser.createUserContext", {})
        return FirefoxSession(self, str(result["userContext"]))

    def classify(self, result: FetchResult, records: Sequence[RecordedRequest]) -> None:
        """Name the failed check of a blocked fetch from Firefox's console message."""
        if not result.ok and records:
            result.cors_error, result.failed_parameter = classify(result.console, records)

    async def _run(self, context: str, specs: list[FetchSpec]) -> list[FetchResult]:
        console = _Console(keys=frozenset(s.key for s in specs), messages={}, last=time.monotonic())
        self._console = console
        try:
            argument = json.dumps(fetch_argument(specs, self.concurrency))
            answer = await self.bidi.send(
                "script.callFunction",
                {
                    "functionDeclaration": CALL_JS,
                    "arguments": [{"type": "string", "value": argument}],
                    "target": {"context": context},
                    "awaitPromise": True,
                    "resultOwnership": "none",
                },
                batch_deadline(specs, self.concurrency),
            )
            if answer.get("type") != "success":
                details = answer.get("exceptionDetails") or {}
                raise BidiError(f"the page's fetch loop failed: {details.get('text')}")
            results = fetch_results(json.loads(answer["result"]["value"]))
            await _settle(console, specs, results)
            for spec, result in zip(specs, results, strict=True):
                messages = list(console.messages.get(spec.key, []))
                if spec.index is not None:
                    # A sequence's messages go to its one failed fetch, if it has one.
                    failed = [
                        s for s, r in zip(specs, results, strict=True)
                        if s.key == spec.key and not r.ok
                    ]  # fmt: skip
                    messages = messages if failed == [spec] else []
                result.console = messages
            return results
        finally:
            self._console = None


async def _settle(console: _Console, specs: list[FetchSpec], results: list[FetchResult]) -> None:
    """Wait (bounded) for the console messages of fetches that failed on the network."""
    waiting = [
        spec.key
        for spec, result in zip(specs, results, strict=True)
        if not result.ok and result.error is not None and "NetworkError" in result.error
    ]
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while time.monotonic() < deadline:
        now = time.monotonic()
        if all(k in console.messages for k in waiting) and now - console.last >= SETTLE_QUIET:
            return
        await asyncio.sleep(SETTLE_POLL)


class FirefoxSession:
    """One user context, one tab per page origin; batches run one after another in it."""

    def __init__(self, driver: FirefoxDriver, user_context: str) -> None:
        self._driver = driver
        self._user_context = user_context
        self._tabs: dict[str, str] = {}

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._driver.bidi.send(
                "browser.removeUserContext", {"userContext": self._user_context}, CLOSE_TIMEOUT
            )

    async def _tab(self, page_origin: str) -> str:
        context = self._tabs.get(page_origin)
        if context is not None:
            return context
        bidi = self._driver.bidi
        created = await bidi.send(
            "browsingContext.create", {"type": "tab", "userContext": self._user_context}
        )
        context = str(created["context"])
        await bidi.send(
            "browsingContext.navigate",
            {"context": context, "url": page_origin + "/", "wait": "complete"},
            NAVIGATION_TIMEOUT,
        )
        self._tabs[page_origin] = context
        return context

    async def run(self, page_origin: str, specs: list[FetchSpec]) -> list[FetchResult]:
        """Run fetch() calls from the page at ``page_origin``; results in ``specs`` order."""
        if not specs:
            return []
        return await self._driver._run(await self._tab(page_origin), specs)

    async def visit(self, url: str, script: str, timeout: float) -> Any:
        """Open ``url`` in a new tab, wait until it is complete, call ``script`` (a JavaScript
        function expression) there and return its value (through JSON); bounded by ``timeout``."""
        deadline = time.monotonic() + timeout
        bidi = self._driver.bidi
        created = await bidi.send(
            "browsingContext.create", {"type": "tab", "userContext": self._user_context}
        )
        context = str(created["context"])
        await bidi.send(
            "browsingContext.navigate",
            {"context": context, "url": url, "wait": "complete"},
            timeout,
        )
        answer = await bidi.send(
            "script.callFunction",
            {
                "functionDeclaration": visit_js(script),
                "arguments": [],
                "target": {"context": context},
                "awaitPromise": True,
                "resultOwnership": "none",
            },
            max(deadline - time.monotonic(), 0.1),
        )
        if answer.get("type") != "success":
            details = answer.get("exceptionDetails") or {}
            raise BidiError(f"the page's script failed: {details.get('text')}")
        return json.loads(answer["result"]["value"])
