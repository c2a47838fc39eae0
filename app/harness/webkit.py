"""Drive WebKitGTK through WebDriver (Selenium and ``WebKitWebDriver``) on a private Xvfb display.

WebKitGTK's automation browser (MiniBrowser) has no headless mode, so the harness starts its
own ``Xvfb`` (which picks a free display number itself, ``-displayfd``) unless Xvfb is missing
and a display is already there. ``WebKitWebDriver`` (env ``WEBKIT_WEBDRIVER_PATH`` first, then
``PATH``) runs on a loopback port; every observe() call is a new WebDriver session, which is a
new automation browser with an ephemeral website data store: no cookies or caches carried over.

WebDriver gives no console messages and no network events, so WebKit observations have
``blocked_by`` null and ``console`` empty: that a fetch was blocked, and on which request, still
comes from what the target saw. Selenium is blocking; its calls run on worker threads, each
bounded twice (Selenium's own HTTP timeout and an asyncio deadline).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from app.harness.driver import (
    BATCH_DEADLINE,
    FETCH_ALL_JS,
    FetchResult,
    FetchSpec,
    batch_deadline,
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

T = TypeVar("T")

LAUNCH_TIMEOUT = 30.0
SESSION_TIMEOUT = 30.0
COMMAND_TIMEOUT = 15.0
CLOSE_TIMEOUT = 10.0
NAVIGATION_TIMEOUT = 10.0
CONCURRENCY = 1
XVFB_SCREEN = "1280x800x24"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")

# Runs in the page; WebDriver waits for the returned promise (JSON text in, JSON text out).
EXECUTE_JS = f"return ({FETCH_ALL_JS.strip()})(JSON.parse(arguments[0])).then(JSON.stringify);"

# Where the window is after a navigation, and the first words of its page.
LOADED_JS = "return [location.href, (document.body ? document.body.innerText : '').slice(0, 200)];"


def find_webkit_webdriver() -> str | None:
    """WebKitGTK's driver: env WEBKIT_WEBDRIVER_PATH, else ``WebKitWebDriver`` on PATH."""
    return find_executable("WEBKIT_WEBDRIVER_PATH", "WebKitWebDriver")


INSTALL_HINT = (
    "Install it (Debian: apt-get install webkit2gtk-driver xvfb) or point "
    "WEBKIT_WEBDRIVER_PATH at WebKitWebDriver."
)


class WebKitDriver:
    """WebKitWebDriver on a private X display; each session is a fresh automation browser."""

    name = "webkit"

    def __init__(self, executable_path: str | None = None, concurrency: int = CONCURRENCY) -> None:
        self.executable_path = (
            executable_path if executable_path is not None else find_webkit_webdriver()
        )
        self.concurrency = concurrency
        self._xvfb: asyncio.subprocess.Process | None = None
        self._driver_process: asyncio.subprocess.Process | None = None
        self._url = ""
        self._display = ""
        self._version = ""

    @property
    def version(self) -> str:
        return f"WebKitGTK {self._version}" if self._version else "WebKitGTK"

    async def start(self) -> None:
        """Start the display and the driver, and learn the version from a first session."""
        if not self.executable_path:
            raise BrowserUnavailable(f"cannot find WebKitWebDriver. {INSTALL_HINT}")
        executable = self.executable_path
        await launch(
            self._first_start(executable),
            self.close,
            lambda detail, exc: (
                f"cannot launch WebKitGTK ({executable}): "
                f"{(detail.strip() or type(exc).__name__).splitlines()[0]}. {INSTALL_HINT}"
            ),
        )

    async def _first_start(self, executable: str) -> None:
        await asyncio.wait_for(self._launch(executable), LAUNCH_TIMEOUT)
        session = await self.new_session()
        await session.close()

    async def _launch(self, executable: str) -> None:
        env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARIABLES}
        xvfb = shutil.which("Xvfb")
        if xvfb is not None:
            self._display = await self._start_xvfb(xvfb)
        elif os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
            self._display = os.environ.get("DISPLAY", "")
        else:
            raise BrowserUnavailable("no X display and no Xvfb to make one")
        if self._display:
            env["DISPLAY"] = self._display
        if self._xvfb is not None:
            env.pop("WAYLAND_DISPLAY", None)  # draw on the private display, not the desktop
        port = _free_port()
        # Its own process group: closing ends the browsers too.
        self._driver_process = await start_process_group(
            executable, f"--port={port}", "--host=local", env=env
        )
        self._url = f"http://127.0.0.1:{port}"
        while True:
            if self._driver_process.returncode is not None:
                raise BrowserUnavailable(
                    f"WebKitWebDriver exited with status {self._driver_process.returncode}"
                )
            try:
                _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 1.0)
            except (OSError, TimeoutError):
                await asyncio.sleep(0.05)
                continue
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            return

    async def _start_xvfb(self, xvfb: str) -> str:
        """Start Xvfb on the first free display number; ``:N`` once it accepts clients."""
        read_fd, write_fd = os.pipe()
        try:
            self._xvfb = await start_process_group(
                xvfb,
                "-displayfd",
                str(write_fd),
                "-nolisten",
                "tcp",
                "-screen",
                "0",
                XVFB_SCREEN,
                pass_fds=(write_fd,),
            )
        finally:
            os.close(write_fd)
        os.set_blocking(read_fd, False)
        text = b""
        try:
            while not text.endswith(b"\n"):
                if self._xvfb.returncode is not None:
                    raise BrowserUnavailable(f"Xvfb exited with status {self._xvfb.returncode}")
                try:
                    chunk = os.read(read_fd, 32)
                except BlockingIOError:
                    await asyncio.sleep(0.02)
                    continue
                if not chunk:
                    raise BrowserUnavailable("Xvfb did not report a display number")
                text += chunk
        finally:
            os.close(read_fd)
        return ":" + text.decode("ascii").strip()

    async def close(self) -> None:
        """Stop the driver (and with it every browser it started), then the display."""
        if self._driver_process is not None:
            await stop_process_group(self._driver_process)
            self._driver_process = None
        if self._xvfb is not None:
            await stop_process_group(self._xvfb)
            self._xvfb = None

    async def new_session(self) -> WebKitSession:
        """A new WebDriver session: a fresh automation browser, nothing carried over."""
        if self._driver_process is None:
            raise BrowserUnavailable("the browser is not running")
        remote = await _blocking(lambda: _new_remote(self._url), SESSION_TIMEOUT)
        capabilities = remote.capabilities or {}
        self._version = str(capabilities.get("browserVersion", self._version))
        return WebKitSession(remote, self.concurrency)

    def classify(self, result: FetchResult, records: Sequence[RecordedRequest]) -> None:
        """Nothing to name: WebKit reports no console messages through WebDriver."""


def _new_remote(url: str) -> Any:
    from selenium import webdriver
    from selenium.webdriver.common.proxy import Proxy, ProxyType
    from selenium.webdriver.remote.client_config import ClientConfig
    from selenium.webdriver.remote.remote_connection import RemoteConnection
    from selenium.webdriver.webkitgtk.options import Options

    options = Options()
    options.proxy = Proxy({"proxyType": ProxyType.DIRECT})
    config = ClientConfig(
        remote_server_addr=url,
        timeout=int(BATCH_DEADLINE + 10),
        proxy=Proxy({"proxyType": ProxyType.DIRECT}),
    )
    connection = RemoteConnection(client_config=config)
    remote = webdriver.Remote(command_executor=connection, options=options)
    remote.set_page_load_timeout(NAVIGATION_TIMEOUT)
    return remote


class WebKitSession:
    """One automation browser; its one window goes to each page origin in turn."""

    def __init__(self, remote: Any, concurrency: int) -> None:
        self._remote = remote
        self.concurrency = concurrency
        self._origin: str | None = None

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await _blocking(self._remote.quit, CLOSE_TIMEOUT)

    async def run(self, page_origin: str, specs: list[FetchSpec]) -> list[FetchResult]:
        """Run fetch() calls from the page at ``page_origin``; results in ``specs`` order."""
        if not specs:
            return []
        if self._origin != page_origin:
            await _blocking(lambda: self._remote.get(page_origin + "/"), NAVIGATION_TIMEOUT + 5)
            self._origin = page_origin
        deadline = batch_deadline(specs, self.concurrency)
        argument = json.dumps(fetch_argument(specs, self.concurrency))

        def execute() -> Any:
            self._remote.set_script_timeout(deadline)
            return self._remote.execute_script(EXECUTE_JS, argument)

        return fetch_results(json.loads(await _blocking(execute, deadline + 5)))

    async def visit(self, url: str, script: str, timeout: float) -> Any:
        """Open ``url`` in the window, wait for its load, call ``script`` (a JavaScript function
        expression) there and return its value (through JSON); bounded by ``timeout``."""
        deadline = time.monotonic() + timeout
        self._origin = None  # the window leaves the harness's page
        await _blocking(lambda: self._remote.get(url), NAVIGATION_TIMEOUT + 5)
        # WebDriver reports no failed load: WebKit shows its error page at about:blank instead.
        where, text = await _blocking(
            lambda: self._remote.execute_script(LOADED_JS), COMMAND_TIMEOUT
        )
        if where == "about:blank" and url != "about:blank":
            raise HarnessError(f"the page did not load: {text.strip() or 'no page'}")
        remaining = max(deadline - time.monotonic(), 0.1)

        def execute() -> Any:
            self._remote.set_script_timeout(remaining)
            return self._remote.execute_script(f"return ({visit_js(script)})();")

        return json.loads(await _blocking(execute, remaining + 5))


async def _blocking(call: Callable[[], T], timeout: float) -> T:
    """Run a blocking Selenium call on a worker thread, bounded; its failure a HarnessError."""
    from selenium.common.exceptions import WebDriverException

    try:
        return await asyncio.wait_for(asyncio.to_thread(call), timeout)
    except WebDriverException as exc:
        message = (exc.msg or type(exc).__name__).strip().splitlines()[0]
        raise HarnessError(f"WebKitGTK: {message}") from exc


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
