"""Real-browser fixtures: the playground on free ports and headless Chromium via Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.web.server import BackgroundServer
from tests.helpers import headless_chromium

# The repository is cloned with shared/ beside it: <parent>/main and <parent>/shared.
REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO.parent / "shared" / "vectors"
VENDOR = REPO / "static" / "vendor" / "htmx.min.js"


@pytest.fixture(scope="package")
def live() -> Iterator[BackgroundServer]:
    assert VENDOR.is_file(), "htmx is missing: run ./dev test (it installs static/vendor)"
    with BackgroundServer() as server:
        yield server


# A workshop's LAN name for the playground's machine: Chromium resolves it to loopback.
LAN_NAME = "laptop.local"


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    # Package scope: Playwright's sync API keeps an event loop running in this thread, which
    # other tests' asyncio.run() must not meet.
    with headless_chromium(f"--host-resolver-rules=MAP {LAN_NAME} 127.0.0.1") as launched:
        yield launched


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browsing context: no cookies or caches from other tests."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any) -> Any:
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page
