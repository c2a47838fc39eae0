"""Helpers that several test packages share (not fixtures: each package keeps its own scope)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def headless_chromium() -> Iterator[Any]:
    """Headless Chromium through Playwright's sync API, launched as the harness launches it.

    Playwright's sync API keeps an event loop running in this thread while it is open, which
    other tests' asyncio.run() must not meet: wrap it in a fixture whose scope ends with the
    tests that use it.
    """
    from playwright.sync_api import sync_playwright

    from app.harness.chromium import CHROMIUM_ARGS, find_chromium

    options: dict[str, Any] = {"headless": True, "args": list(CHROMIUM_ARGS)}
    executable = find_chromium()
    if executable:
        options["executable_path"] = executable
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(**options)
        yield launched
        launched.close()
