"""A live playground on free loopback ports, shared by the web tests of a module: every web
test runs twice, with the in-memory stores and with Redis (a real redis-server)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.web.server import BackgroundServer
from tests.redis_server import RedisServer, unique_prefix

BACKENDS = ["memory", "redis"]


def backend_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The Settings of a playground on the backend a fixture's parameter names."""
    if request.param != "redis":
        return {}
    redis: RedisServer = request.getfixturevalue("redis_server")
    return {"redis_url": redis.url, "redis_prefix": unique_prefix()}


@pytest.fixture(scope="module", params=BACKENDS)
def live(request: pytest.FixtureRequest) -> Iterator[BackgroundServer]:
    with BackgroundServer(**backend_options(request)) as server:
        yield server


@pytest.fixture
def client(live: BackgroundServer) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def new_session(client: httpx.Client, live: BackgroundServer) -> str:
    response = client.get(f"{live.site_url}/", follow_redirects=False)
    assert response.status_code == 303
    return response.headers["location"].split("/sessions/")[1].split("?")[0]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> dict[str, Any]:
    """A test that starts its own playground runs it on each backend: these are the options."""
    return backend_options(request)
