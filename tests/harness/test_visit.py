"""Harness.visit(): open a page in each real browser and bring back what a script found there."""

from __future__ import annotations

import socket
import time

import pytest

from app.harness import Harness, HarnessError

from .conftest import BROWSERS

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("browser", BROWSERS)]

# Waits (polling) for something the page does after load, then reports on the page.
WAIT_AND_REPORT = """async () => {
  setTimeout(() => { document.title = "ready"; }, 50);
  while (document.title !== "ready") await new Promise((r) => setTimeout(r, 10));
  return {title: document.title, origin: location.origin, state: document.readyState,
          nothing: undefined, list: [1, "two", null, true]};
}"""


def test_a_script_runs_in_the_loaded_page_and_its_value_comes_back(
    browser_harness: Harness,
) -> None:
    origin = f"http://localhost:{browser_harness.page_port}"
    found = browser_harness.visit(f"{origin}/", WAIT_AND_REPORT, timeout=10)
    assert found == {
        "title": "ready",
        "origin": origin,
        "state": "complete",
        "list": [1, "two", None, True],
    }
    assert browser_harness.visit(f"{origin}/", "() => undefined", timeout=10) is None


def test_a_script_that_throws_is_a_harness_error(browser_harness: Harness) -> None:
    url = f"http://localhost:{browser_harness.page_port}/"
    with pytest.raises(HarnessError, match="no such thing"):
        browser_harness.visit(url, "async () => { throw new Error('no such thing'); }", timeout=10)


def test_a_page_that_does_not_load_is_a_harness_error(browser_harness: Harness) -> None:
    with socket.socket() as sock:  # a port nobody listens on once this is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(HarnessError, match=f"localhost:{port}"):
        browser_harness.visit(f"http://localhost:{port}/", "() => location.href", timeout=10)


def test_a_script_that_never_answers_is_stopped_at_the_timeout(browser_harness: Harness) -> None:
    url = f"http://localhost:{browser_harness.page_port}/"
    started = time.monotonic()
    with pytest.raises(HarnessError):
        browser_harness.visit(url, "() => new Promise(() => {})", timeout=1.5)
    assert time.monotonic() - started < 8
    # The browser is still usable afterwards.
    assert browser_harness.visit(url, "() => 1 + 1", timeout=10) == 2
