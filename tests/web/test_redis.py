"""Serving on Redis (``serve --redis``, ``--workers``): several processes serve one
playground, and Redis going away is a clear 503 that the playground recovers from by itself.
Each test starts its own real redis-server (stopping it must not touch other tests)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from app.web.server import BackgroundServer
from tests.redis_server import RedisServer, unique_prefix
from tests.streams import EventReader, serving_processes

SCENARIO = {
    "request": {"method": "PUT", "headers": [["Content-Type", "application/json"]]},
    "preflight_response": {
        "status": 204,
        "headers": [
            ["Access-Control-Allow-Origin", "{page-origin}"],
            ["Access-Control-Allow-Methods", "PUT"],
            ["Access-Control-Allow-Headers", "Content-Type"],
        ],
    },
    "response": {"status": 200, "headers": [["Access-Control-Allow-Origin", "{page-origin}"]]},
}


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


def new_run(client: httpx.Client, site: str, session: str | None = None) -> dict[str, str]:
    query = f"?session={session}" if session else ""
    doc = json.loads(json.dumps(SCENARIO).replace("{page-origin}", site))
    answer = client.post(f"{site}/api/runs{query}", json=doc)
    assert answer.status_code == 201, answer.text
    found: dict[str, str] = answer.json()
    return found


def test_redis_away_is_a_503_naming_it_and_back_is_recovered(redis: RedisServer) -> None:
    options = {"redis_url": redis.url, "redis_prefix": unique_prefix()}
    with BackgroundServer(**options) as live, httpx.Client(timeout=10) as client:
        site = live.site_url
        run = new_run(client, site)
        assert client.get(f"{site}/api/health").json()["store"] == "redis"
        redis.stop()
        started = time.monotonic()
        checks = [
            client.get(f"{site}/api/health"),
            client.get(f"{site}/api/runs/{run['run_id']}"),
            client.get(f"{site}/", follow_redirects=False, headers={"Accept": "text/html"}),
            client.put(run["target"], headers={"Origin": site}),
            client.post(f"{site}/api/runs", json=SCENARIO),
        ]
        assert time.monotonic() - started < 20
        where = f"Redis at 127.0.0.1:{redis.port}/0"
        for answer in checks:
            assert answer.status_code == 503, (answer.request.url, answer.status_code)
            assert where in answer.text and "not answering" in answer.text
        assert checks[0].json()["error"]["field"] == "redis"
        assert "<html" in checks[2].text.lower()  # a page for a browser
        redis.start()  # back (empty: this one keeps nothing on disk)
        for _ in range(50):
            if client.get(f"{site}/api/health").status_code == 200:
                break
            time.sleep(0.1)
        again = new_run(client, site)
        assert client.put(again["target"], headers={"Origin": site}).status_code == 200
        state = client.get(f"{site}/api/runs/{again['run_id']}").json()
        assert [leg["kind"] for leg in state["exchanges"]] == ["actual"]


def test_open_streams_end_cleanly_when_redis_goes_away(redis: RedisServer) -> None:
    options = {"redis_url": redis.url, "redis_prefix": unique_prefix()}
    with BackgroundServer(**options) as live, httpx.Client(timeout=10) as client:
        session = client.get(f"{live.site_url}/", follow_redirects=False).headers["location"]
        sid = session.split("/sessions/")[1].split("?")[0]
        stream = EventReader(f"{live.site_url}/sessions/{sid}/events", timeout=20)
        time.sleep(0.5)
        assert not stream.ended.is_set()
        redis.stop()
        assert stream.ended.wait(10), "the stream stayed open after Redis went away"


def start_workers(redis: RedisServer, *extra: str) -> tuple[subprocess.Popen[str], str, str]:
    command = [
        sys.executable, "-m", "app.cli", "serve", "--host", "localhost",
        "--site-port", "0", "--api-port", "0", "--attacker-port", "0",
        "--redis", redis.url, *extra,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "Press Ctrl-C" in line:
            break
    text = "".join(lines)
    site = re.search(r"site origin \(the page\): +(\S+)", text)
    api = re.search(r"API origin \(the target\): +(\S+)", text)
    assert site and api, text
    return process, site.group(1), api.group(1)


def test_two_workers_serve_one_playground(redis: RedisServer) -> None:
    process, site, _api = start_workers(redis, "--workers", "2")
    try:
        processes = serving_processes(site, 60)  # new connections: the kernel shares them out
        assert len(processes) == 2, "one process answered every connection"
        with httpx.Client(timeout=10) as client:
            page = client.get(f"{site}/", follow_redirects=False).headers["location"]
        sid = page.split("/sessions/")[1].split("?")[0]
        stream = EventReader(
            f"{site}/sessions/{sid}/events", lambda events: [n for n, _ in events].count("leg") >= 8
        )
        assert stream.ready.wait(10)
        served = set()
        for _ in range(4):  # each on new connections, so both processes record legs
            with httpx.Client(timeout=10) as client:
                run = new_run(client, site, sid)
                preflight = client.options(
                    run["target"],
                    headers={
                        "Origin": site,
                        "Access-Control-Request-Method": "PUT",
                        "Access-Control-Request-Headers": "content-type",
                    },
                )
                assert preflight.status_code == 204
            with httpx.Client(timeout=10) as client:
                actual = client.put(run["target"], headers={"Origin": site}, json={})
                assert actual.status_code == 200
                served.add(client.get(f"{site}/api/health").json()["process"])
        stream.join(15)
        legs = stream.names().count("leg")
        assert legs == 8, stream.names()  # every leg, whichever process recorded it
        with httpx.Client(timeout=10) as client:
            state = client.get(f"{site}/api/runs/{run['run_id']}").json()
        assert [leg["kind"] for leg in state["exchanges"]] == ["preflight", "actual"]
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert "CORS playground stopped." in output


def test_workers_need_redis_and_redis_must_answer_at_start() -> None:
    command = [sys.executable, "-m", "app.cli", "serve", "--site-port", "0", "--api-port", "0"]
    alone = subprocess.run([*command, "--workers", "2"], capture_output=True, text=True, timeout=30)
    assert alone.returncode == 2 and "--workers needs --redis" in alone.stderr
    nobody = RedisServer()  # a free port with nothing on it
    away = subprocess.run(
        [*command, "--redis", nobody.url], capture_output=True, text=True, timeout=30
    )
    assert away.returncode == 1
    assert f"Redis at 127.0.0.1:{nobody.port}/0" in away.stdout + away.stderr


def test_a_room_across_two_workers_counts_every_answer(redis: RedisServer) -> None:
    """The host's stream on one process hears every attendee, whichever process took their
    join and answer: the tally counts all of them, each once."""
    process, site, _api = start_workers(redis, "--workers", "2")
    attendees = 12
    try:
        with httpx.Client(timeout=10) as client:
            room = client.post(f"{site}/api/rooms", json={"title": "Across"}).json()

        def tallies(events: list[tuple[str, str]]) -> list[dict[str, object]]:
            return [json.loads(data)["tally"] for name, data in events if name == "answer"]

        stream = EventReader(
            f"{site}{room['host_events']}",
            lambda events: any(t["answered"] == attendees for t in tallies(events)),
        )
        assert stream.ready.wait(10)
        joined, served = [], set()
        for number in range(attendees):  # each on a new connection
            with httpx.Client(timeout=10) as client:
                answer = client.post(
                    f"{site}/api/rooms/join", json={"code": room["code"], "name": f"A{number}"}
                )
                assert answer.status_code == 201, answer.text
                joined.append(answer.json())
                served.add(client.get(f"{site}/api/health").json()["process"])
        with httpx.Client(timeout=10) as client:
            asked = client.post(
                f"{site}{room['host_api']}/questions",
                json={"source": "classic", "classic": "custom-header"},
            )
            assert asked.status_code == 201, asked.text
        for who in joined:
            with httpx.Client(timeout=10) as client:
                answered = client.post(
                    f"{site}/api/rooms/attendee/{who['session']}/answer",
                    json={"question": 1, "choice": "none"},
                )
                assert answered.status_code == 200, answered.text
                served.add(client.get(f"{site}/api/health").json()["process"])
        stream.join(20)
        assert len(served) == 2, "one process served every attendee"
        assert [t["answered"] for t in tallies(stream.events)] == list(range(1, attendees + 1))
        with httpx.Client(timeout=10) as client:
            state = client.get(f"{site}{room['host_api']}").json()
        assert len(state["attendees"]) == attendees
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
