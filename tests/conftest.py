"""Every test that starts a real browser carries the ``browser`` marker.

``pytest -m "not browser"`` is the fast lane: everything but the real browsers. Tests marked by
hand keep their marks; a test that asks for a browser fixture, or lives in tests/e2e, is marked
here too, so a new one cannot slip into the fast lane.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.redis_server import RedisServer

# Fixtures that start a real browser: the harness (tests/harness) and Playwright's pages
# (tests/e2e). "browser" is left out: elsewhere it is a parameter naming an engine.
BROWSER_FIXTURES = frozenset({"harness", "browser_harness", "firefox", "webkit", "context", "page"})
END_TO_END = Path(__file__).resolve().parent / "e2e"


def browser_fixtures(item: pytest.Item) -> set[str]:
    """The browser fixtures a test uses (a parameter of the same name, like a lesson's
    ``page`` origin, is no fixture)."""
    names = set(getattr(item, "fixturenames", ()))
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        names -= set(callspec.params)
    return names & BROWSER_FIXTURES


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if browser_fixtures(item) or item.path.is_relative_to(END_TO_END):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One real Redis server for the whole run (each test uses a key prefix of its own)."""
    with RedisServer() as server:
        yield server
