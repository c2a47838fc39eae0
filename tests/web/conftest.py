"""A live playground on free loopback ports, shared by the web tests of a module."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from app.web.server import BackgroundServer


@pytest.fixture(scope="module")
def live() -> Iterator[BackgroundServer]:
    with BackgroundServer() as server:
        yield server


@pytest.fixture
def client(live: BackgroundServer) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def new_session(client: httpx.Client, live: BackgroundServer) -> str:
    response = client.get(f"{live.site_url}/", follow_redirects=False)
    assert response.status_code == 303
    return response.headers["location"].split("/sessions/")[1].split("?")[0]
