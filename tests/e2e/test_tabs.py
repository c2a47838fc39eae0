"""Many tabs of the playground in one real Chromium: browsers allow six HTTP/1.1 connections
per host name, and each page's live event stream holds one. Pages hold their streams only
while they are visible, so any number of tabs load, and a tab shown again catches up.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.harness.chromium import CHROMIUM_ARGS, find_chromium
from app.web.server import BackgroundServer

pytestmark = pytest.mark.browser

TABS = 8


def devtools_address(profile: Path, process: subprocess.Popen[bytes], timeout: float) -> str:
    """The browser's DevTools WebSocket, from the file Chromium writes once it listens."""
    active = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Chromium exited with {process.returncode}")
        lines = active.read_text().split() if active.is_file() else []
        if len(lines) == 2:
            return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        time.sleep(0.05)
    raise RuntimeError("Chromium did not open its DevTools port")


@pytest.fixture(scope="module")
def tabs(browser: Any) -> Iterator[Any]:
    """The browsing context of a Chromium whose tabs are hidden behind the one in front, as
    a person's are. Playwright keeps every page it opens visible, so this Chromium is started
    apart and attached to without Playwright's page defaults."""
    executable = find_chromium() or browser.browser_type.executable_path
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        command = [executable, "--headless", *CHROMIUM_ARGS, "--remote-debugging-port=0"]
        process = subprocess.Popen(
            [*command, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            address = devtools_address(Path(profile), process, timeout=30)
            attached = browser.browser_type.connect_over_cdp(address, no_defaults=True)
            context = attached.contexts[0]
            context.set_default_timeout(10_000)
            yield context
            attached.close()
        finally:
            process.terminate()
            process.wait(10)


def session_of(page: Any) -> str:
    return str(page.url.split("/sessions/")[1].split("?")[0])


def run_from_outside(live: BackgroundServer, session: str) -> str:
    """A run of ``session`` created and answered through the JSON API, not by the page: its
    card reaches the page only through the page's event stream."""
    created = httpx.post(f"{live.site_url}/api/runs", json={}, params={"session": session})
    assert created.status_code == 201
    httpx.get(created.json()["target"])
    return str(created.json()["run_id"])


def test_any_number_of_tabs_load_and_a_tab_shown_again_catches_up(
    tabs: Any, live: BackgroundServer
) -> None:
    pages = []
    for _ in range(TABS):
        page = tabs.new_page()  # a new tab in front; the others are hidden behind it
        page.goto(f"{live.site_url}/")
        page.wait_for_selector("#prediction .prediction-body")
        page.click("[data-show-console]")  # its server console too, on the API origin
        page.frame_locator("#console-frame").locator("#console-log").wait_for(state="attached")
        pages.append(page)
    front = pages[-1]
    assert [p.evaluate("document.visibilityState") for p in pages] == ["hidden"] * 7 + ["visible"]

    front.click("#send")
    card = front.wait_for_selector("#runs .run[data-state='done'] .js-outcome")
    assert card.get_attribute("data-outcome") == "allowed"
    outside = run_from_outside(live, session_of(front))
    front.wait_for_selector(f"#run-{outside}")  # live, through the front tab's stream
    console = front.frame_locator("#console-frame")
    console.locator(f".console-entry[data-run-id='{outside}']").wait_for()

    # The first tab was hidden while its session got a run; shown again, it catches up.
    first = pages[0]
    missed = run_from_outside(live, session_of(first))
    first.bring_to_front()
    assert first.evaluate("document.visibilityState") == "visible"
    first.wait_for_selector(f"#run-{missed}")
    entry = first.frame_locator("#console-frame").locator(f".console-entry[data-run-id='{missed}']")
    entry.wait_for()
    assert entry.count() == 1
