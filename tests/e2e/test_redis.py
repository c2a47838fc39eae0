"""A page in real Chromium on a playground whose Redis goes away and comes back: the page's
event stream ends, the browser's own reconnection meets a 503 (on which an EventSource gives up
for good), and the page opens the stream again by itself once Redis answers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.web.server import BackgroundServer
from tests.redis_server import RedisServer, unique_prefix

pytestmark = pytest.mark.browser


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with RedisServer(persistent=True) as server:
        yield server


def test_a_page_gets_its_stream_back_after_redis_was_away(
    page: Any, redis: RedisServer
) -> None:
    options = {"redis_url": redis.url, "redis_prefix": unique_prefix()}
    with BackgroundServer(**options) as live:
        page.goto(f"{live.site_url}/")
        page.wait_for_selector("#prediction .prediction-body")
        session = page.url.split("/sessions/")[1].split("?")[0]
        refused = []
        page.on(
            "response",
            lambda answer: refused.append(answer.url)
            if "/events" in answer.url and answer.status == 503 else None,
        )
        page.wait_for_timeout(500)  # the page's stream is open
        redis.stop()  # it keeps what it held on disk
        deadline = time.monotonic() + 15
        while not refused:  # the stream ended, and the browser's reconnection got a 503
            assert time.monotonic() < deadline, "the page's stream was never refused"
            page.wait_for_timeout(200)
        redis.start()
        for _ in range(100):
            if httpx.get(f"{live.site_url}/api/health").status_code == 200:
                break
            time.sleep(0.1)
        created = httpx.post(
            f"{live.site_url}/api/runs", json={}, params={"session": session}, timeout=10
        )
        assert created.status_code == 201, created.text
        run_id = created.json()["run_id"]
        httpx.get(created.json()["target"], timeout=10)
        # Live, through the stream the page opened again by itself (within its next retry).
        page.wait_for_selector(f"#run-{run_id}", timeout=20_000)
        assert page.errors == []
