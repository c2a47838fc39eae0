"""Workshop rooms over HTTP (app/web/site/rooms.py, app/web/room_events.py): the JSON API
from creating a room to its exports, the live streams of the host and the attendees (one
stream per attendee page, catching up when it resumes), every host route refused without the
host key, each limit refused with a sentence, and nothing an attendee types rendered raw."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import queue
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from starlette.routing import Route

from app.rooms import RoomLimits
from app.web import room_events
from app.web.config import Settings
from app.web.events import PING_SECONDS, runs_topic
from app.web.room_events import host_topic
from app.web.server import BackgroundServer
from app.web.site.rooms import _room_stream, join_origin, qr_svg
from app.web.state import Playground
from tests.web.conftest import BACKENDS, backend_options, new_session
from tests.web.test_lessons import form_fields

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 "
    "Safari/537.36"
)
HOSTILE_NAME = '<img src=x onerror="alert(1)">=1+2'


@pytest.fixture(scope="module", params=BACKENDS)
def live(request: pytest.FixtureRequest) -> Iterator[BackgroundServer]:
    # Each test makes its own rooms: more than a playground holds by default.
    options = backend_options(request)
    with BackgroundServer(room_limits=RoomLimits(rooms=500), **options) as server:
        yield server


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=20) as c:
        yield c


class Stream:
    """A server-sent event stream read in a thread over a plain socket (so ``close()`` ends
    it at once, as a browser closing its EventSource does): its events as dicts, in order."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.events: queue.Queue[dict[str, str]] = queue.Queue()
        self.seen: list[dict[str, str]] = []
        parts = urlsplit(url)
        self._sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", "Accept: text/event-stream"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self._file = self._sock.makefile("rb")
        self.status = int(self._file.readline().split()[1])
        while self._file.readline() not in (b"\r\n", b""):
            pass
        assert self.status == 200, self.status
        self._sock.settimeout(None)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _chunks(self) -> Iterator[bytes]:
        while True:
            size = int(self._file.readline().strip() or b"0", 16)
            if size == 0:
                return
            yield self._file.read(size)
            self._file.readline()

    def _run(self) -> None:
        buffer = b""
        fields: dict[str, str] = {}
        try:
            for chunk in self._chunks():
                buffer += chunk
                while b"\n" in buffer:
                    raw, buffer = buffer.split(b"\n", 1)
                    line = raw.decode().rstrip("\r")
                    if line:
                        name, _, value = line.partition(": ")
                        if name:
                            joined = fields.get(name, "") + ("\n" if name in fields else "")
                            fields[name] = joined + value
                        continue
                    fields.pop("retry", None)
                    if fields:
                        self.events.put(fields)
                    fields = {}
        except (OSError, ValueError):
            return

    def until(
        self, wanted: Callable[[dict[str, str]], bool], timeout: float = 10
    ) -> dict[str, str]:
        """The next event for which ``wanted`` holds (events before it are passed over)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no such event on {self.url}: {self.seen[-5:]}")
            try:
                event = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(event)
            if wanted(event):
                return event

    def close(self) -> None:
        """End the stream (the server sees the connection close)."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._thread.join(5)


def named(
    name: str, test: Callable[[Any], bool] = lambda _: True
) -> Callable[[dict[str, str]], bool]:
    def wanted(event: dict[str, str]) -> bool:
        return event.get("event") == name and "data" in event and test(json.loads(event["data"]))

    return wanted


def create_room(
    client: httpx.Client, live: BackgroundServer, title: str = "CORS 101"
) -> dict[str, Any]:
    answer = client.post(f"{live.site_url}/api/rooms", json={"title": title})
    assert answer.status_code == 201, answer.text
    room: dict[str, Any] = answer.json()
    return room


def join(
    client: httpx.Client, live: BackgroundServer, code: str, name: str = "", agent: str = CHROME
) -> dict[str, Any]:
    answer = client.post(
        f"{live.site_url}/api/rooms/join", json={"code": code, "name": name},
        headers={"user-agent": agent},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    joined: dict[str, Any] = answer.json()
    return joined


def host(live: BackgroundServer, room: dict[str, Any]) -> str:
    return f"{live.site_url}{room['host_api']}"


def ask(
    client: httpx.Client, live: BackgroundServer, room: dict[str, Any], **doc: Any
) -> dict[str, Any]:
    answer = client.post(
        f"{host(live, room)}/questions",
        json=doc or {"source": "classic", "classic": "custom-header"},
    )
    assert answer.status_code == 201, answer.text
    asked: dict[str, Any] = answer.json()
    return asked


def attendee_api(live: BackgroundServer, joined: dict[str, Any]) -> str:
    return f"{live.site_url}{joined['api']}"


def send_and_report(
    client: httpx.Client,
    live: BackgroundServer,
    joined: dict[str, Any],
    number: int,
    agent: str,
    outcome: str,
) -> dict[str, Any]:
    """What an attendee's page does after the reveal: create the run, let the API origin see
    its legs as a browser would send them, report what JavaScript got."""
    sent = client.post(
        f"{attendee_api(live, joined)}/send",
        json={"question": number},
        headers={"user-agent": agent},
    )
    assert sent.status_code == 201, sent.text
    run = sent.json()
    client.options(run["target"], headers={
        "Origin": live.site_url, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "x-api-key",
    })  # fmt: skip
    result = {
        "outcome": outcome,
        "status": None,
        "headers": [],
        "body": None,
        "error": "TypeError: Failed to fetch",
    }
    reported = client.post(
        f"{live.site_url}{run['result']}", json=result, headers={"user-agent": agent}
    )
    assert reported.status_code == 200, reported.text
    return dict(run)


# --- the whole flow ---------------------------------------------------------------------------


def test_a_room_from_creation_to_export(client: httpx.Client, live: BackgroundServer) -> None:
    room = create_room(client, live)
    assert room["join_url"].endswith(f"/join/{room['code']}")
    assert room["host_key"] not in room["view_page"] and room["host_key"] not in room["join_url"]
    hosting = Stream(f"{live.site_url}{room['host_events']}")
    snapshot = hosting.until(named("snapshot"))
    assert json.loads(snapshot["data"])["attendees"] == []

    ada = join(client, live, room["code"].lower(), "Ada", CHROME)
    bob = join(client, live, room["code"], "", FIREFOX)
    cyd = join(client, live, room["code"], "Cyd", CHROME)
    assert (ada["attendee"], bob["name"]) == (1, "Attendee 2")
    hosting.until(named("attendee", lambda row: row["number"] == 3 and row["name"] == "Cyd"))

    # Ada's page holds her session's one stream: the room comes on it, and she is online.
    ada_stream = Stream(f"{live.site_url}{ada['events']}")
    first = ada_stream.until(named("room"))
    assert json.loads(first["data"])["you"]["name"] == "Ada"
    hosting.until(named("attendee", lambda row: row["number"] == 1 and row["connected"]))

    question = ask(client, live, room)
    assert question["number"] == 1 and question["state"] == "asking"
    pushed = ada_stream.until(named("room", lambda doc: doc.get("question") is not None))
    shown = json.loads(pushed["data"])["question"]
    assert shown["prompt"] == "Which check fails?" and "reveal" not in shown

    for who, choice in ((ada, "allow-headers"), (bob, "allow-headers"), (cyd, "none")):
        answered = client.post(
            f"{attendee_api(live, who)}/answer", json={"question": 1, "choice": choice}
        )
        assert answered.status_code == 200, answered.text
        assert answered.json()["you"]["answer"] == choice
    tally = hosting.until(named("answer", lambda doc: doc["tally"]["answered"] == 3))
    counts = {c["value"]: c["count"] for c in json.loads(tally["data"])["tally"]["counts"]}
    assert counts["allow-headers"] == 2 and counts["none"] == 1
    again = client.post(f"{attendee_api(live, ada)}/answer", json={"question": 1, "choice": "none"})
    assert again.status_code == 409 and "already answered" in again.text

    revealed = client.post(f"{host(live, room)}/questions/1/reveal")
    assert revealed.status_code == 200
    assert revealed.json()["reveal"]["expected"] == "allow-headers"
    after = ada_stream.until(
        named("room", lambda doc: (doc.get("question") or {}).get("state") == "revealed")
    )
    reveal = json.loads(after["data"])["question"]["reveal"]
    assert reveal["tally"]["answered"] == 3 and "Ada" not in after["data"]

    send_and_report(client, live, ada, 1, CHROME, "blocked")
    send_and_report(client, live, bob, 1, FIREFOX, "blocked")
    send_and_report(client, live, cyd, 1, CHROME, "allowed")  # a browser that disagrees
    result = hosting.until(named("result", lambda doc: doc["results"] == 3))
    groups = {(g["engine"], g["outcome"]): g for g in json.loads(result["data"])["groups"]}
    assert groups[("chromium", "blocked")]["count"] == 1
    assert groups[("firefox", "blocked")]["matched"] == 1
    assert groups[("chromium", "allowed")]["matched"] == 0
    findings = " ".join(json.loads(result["data"])["findings"])
    assert "1 of 3 browsers did not do what the engine predicts" in findings
    twice = client.post(f"{attendee_api(live, ada)}/send", json={"question": 1})
    assert twice.status_code == 409

    state = client.get(host(live, room)).json()
    rows = {a["number"]: a for a in state["attendees"]}
    assert rows[2]["browser"] == "Firefox 140" and rows[2]["engine"] == "firefox"
    assert rows[3]["result"]["agreement"] is False and rows[3]["answer"]["correct"] is False

    console = client.get(f"{host(live, room)}/console").json()["questions"][0]
    assert console["runs"] == 3 and console["legs"] == {"preflight": 3}
    assert console["origins"] == {live.site_url: 3}
    assert (
        client.get(f"{host(live, room)}/console", params={"attendee": 2}).json()["questions"][0][
            "runs"
        ]
        == 1
    )

    exported = client.get(f"{host(live, room)}/results").json()
    assert [q["expected"] for q in exported["questions"]] == ["allow-headers"]
    by_number = {a["number"]: a for a in exported["attendees"]}
    assert by_number[1]["answers"] == [{"question": 1, "choice": "allow-headers", "correct": True}]
    assert by_number[2]["results"][0]["outcome"] == "blocked"
    assert set(by_number[1]["progress"]) == set(exported["lessons"])
    table = list(csv.DictReader(io.StringIO(client.get(f"{host(live, room)}/results.csv").text)))
    assert [(r["attendee"], r["answer"], r["correct"], r["outcome"]) for r in table] == [
        ("1", "allow-headers", "yes", "blocked"),
        ("2", "allow-headers", "yes", "blocked"),
        ("3", "none", "no", "allowed"),
    ]

    closed = client.post(f"{host(live, room)}/close")
    assert closed.json() == {"state": "closed"}
    ada_stream.until(named("room", lambda doc: "room" in doc and doc["room"]["state"] == "closed"))
    assert client.get(f"{live.site_url}{ada['page']}").status_code == 200  # her session works
    late = client.post(f"{live.site_url}/api/rooms/join", json={"code": room["code"]})
    assert late.status_code == 404 or "closed" in late.text
    hosting.close()
    ada_stream.close()


def test_a_lesson_question_uses_the_lessons_own_question(
    client: httpx.Client, live: BackgroundServer
) -> None:
    room = create_room(client, live)
    asked = ask(client, live, room, source="lesson", lesson="custom-header")
    assert asked["kind"] == "lesson" and asked["lesson"] == "custom-header"
    lessons = client.get(f"{live.site_url}/api/lessons").json()["lessons"]
    lesson = next(item for item in lessons if item["slug"] == "custom-header")
    assert [c["value"] for c in asked["choices"]] == [
        c["value"] for c in lesson["question"]["choices"]
    ]
    revealed = client.post(f"{host(live, room)}/questions/1/reveal").json()
    assert revealed["reveal"]["expected"] == lesson["question"]["answer"]
    other = ask(client, live, room, source="lesson", lesson="custom-header", kind="preflight")
    assert other["prompt"] == "Will the browser send a preflight?"


def test_a_question_from_the_composers_share_link(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    page = client.get(f"{live.site_url}/sessions/{sid}").text
    link = page.split('id="share-link" href="')[1].split('"')[0].replace("&amp;", "&")
    room = create_room(client, live)
    asked = ask(client, live, room, source="composer", share=live.site_url + link, kind="readable")
    assert asked["scenario"]["request"]["method"] == "PUT"
    assert ["Access-Control-Allow-Origin", "{page-origin}"] in asked["scenario"]["response"][
        "headers"
    ]
    refused = client.post(
        f"{host(live, room)}/questions", json={"source": "composer", "share": "nope"}
    )
    assert refused.status_code == 400 and "share" in refused.json()["error"]["field"] + refused.text


def test_an_attendee_on_another_host_name_sends_from_their_own_origin(
    client: httpx.Client, live: BackgroundServer
) -> None:
    room = create_room(client, live)
    port = live.settings.site_port
    joined = client.post(
        f"http://127.0.0.1:{port}/api/rooms/join",
        json={"code": room["code"]},
        headers={"host": f"127.0.0.1:{port}"},
    ).json()
    ask(client, live, room)
    client.post(f"{host(live, room)}/questions/1/reveal")
    sent = client.post(f"http://127.0.0.1:{port}{joined['api']}/send", json={"question": 1})
    run = client.get(f"{live.site_url}/api/runs/{sent.json()['run_id']}").json()
    assert run["scenario"]["origin"] == f"http://127.0.0.1:{port}"
    assert ["Access-Control-Allow-Origin", f"http://127.0.0.1:{port}"] in run["scenario"][
        "response"
    ]["headers"]


# --- streams -----------------------------------------------------------------------------------


def test_an_attendee_page_holds_one_stream_that_catches_up(
    client: httpx.Client, live: BackgroundServer
) -> None:
    """The room's events travel on the session's stream (and on the streams of its labs'
    sessions); a stream that resumes gets what it missed, or the room as it is when the
    bounded buffer no longer holds it all."""
    room = create_room(client, live)
    ada = join(client, live, room["code"], "Ada")
    pg: Playground = live.playground
    events = f"{live.site_url}{ada['events']}"
    stream = Stream(events)
    ready = stream.until(lambda e: e.get("event") == "ready")
    assert pg.bus.subscriber_count(runs_topic(ada["session"])) == 1
    stream.close()
    mark = ready["id"]

    ask(client, live, room)  # meanwhile, the page hidden: its stream closed
    resumed = Stream(events, {"Last-Event-ID": mark})
    caught = resumed.until(named("room", lambda doc: doc.get("question") is not None))
    assert int(caught["id"]) > int(mark)
    resumed.close()

    # The buffer keeps the room's last events only: past it, the stream gets a snapshot.
    for _ in range(pg.settings.room_limits.attendee_replay // 2 + 2):  # two room events each
        number = ask(client, live, room)["number"]
        client.post(f"{host(live, room)}/questions/{number}/reveal")
    behind = Stream(f"{events}?since={mark}")
    snapshot = behind.until(named("room"))
    doc = json.loads(snapshot["data"])
    assert doc["you"]["name"] == "Ada" and doc["question"]["number"] == len(
        client.get(host(live, room)).json()["questions"]
    )
    behind.close()

    # A lab page's stream (the lab's own session) carries the room too.
    lab_page = client.get(f"{live.site_url}/sessions/{ada['session']}/labs/cache").text
    lab_events = next(
        part.split('"')[0]
        for part in lab_page.split('data-events="')[1:]
        if part.split('"')[0] != ada["events"]
    )
    lab = Stream(f"{live.site_url}{lab_events}")
    assert json.loads(lab.until(named("room"))["data"])["you"]["name"] == "Ada"
    lab.close()


def test_the_host_stream_replays_what_it_missed(
    client: httpx.Client, live: BackgroundServer
) -> None:
    room = create_room(client, live)
    first = Stream(f"{live.site_url}{room['host_events']}")
    mark = first.until(lambda e: e.get("event") == "ready")["id"]
    first.close()
    join(client, live, room["code"], "Ada")
    join(client, live, room["code"], "Bob")
    resumed = Stream(f"{live.site_url}{room['host_events']}?since={mark}")
    names = [
        json.loads(resumed.until(named("attendee", lambda r, n=n: r["number"] == n))["data"])[
            "name"
        ]
        for n in (1, 2)
    ]
    assert names == ["Ada", "Bob"]
    assert not any(e.get("event") == "snapshot" for e in resumed.seen)
    resumed.close()


def test_the_projector_stream_shows_no_name_and_no_split_before_the_reveal(
    client: httpx.Client, live: BackgroundServer
) -> None:
    room = create_room(client, live)
    view = Stream(f"{live.site_url}{room['view_page']}/events")
    view.until(named("snapshot"))
    ada = join(client, live, room["code"], "Ada Lovelace")
    ask(client, live, room)
    client.post(f"{attendee_api(live, ada)}/answer", json={"question": 1, "choice": "none"})
    tally = view.until(named("tally", lambda doc: doc["answered"] == 1))
    assert "counts" not in json.loads(tally["data"])
    client.post(f"{host(live, room)}/questions/1/reveal")
    shown = view.until(named("question", lambda doc: doc["state"] == "revealed"))
    assert json.loads(shown["data"])["tally"]["counts"]
    assert all("Ada" not in e.get("data", "") for e in view.seen)
    page = client.get(f"{live.site_url}{room['view_page']}").text
    assert room["host_key"] not in page
    view.close()


# --- keys: every host route needs the host key ---------------------------------------------------


def host_routes(live: BackgroundServer) -> list[tuple[str, str]]:
    site = live.app.site.app

    def walk(routes: list[Any]) -> Iterator[Any]:
        for route in routes:
            yield route
            included = getattr(route, "original_router", None)
            if included is not None:
                yield from walk(included.routes)

    found = []
    for route in walk(site.routes):  # type: ignore[attr-defined]
        if isinstance(route, Route) and "{host_key}" in route.path:
            for method in sorted((route.methods or set()) - {"HEAD"}):
                found.append((method, route.path))
    return found


def test_every_host_route_refuses_a_missing_guessed_or_other_key(
    client: httpx.Client, live: BackgroundServer
) -> None:
    routes = host_routes(live)
    assert len(routes) >= 11, routes
    mine, other = create_room(client, live, "mine"), create_room(client, live, "other")
    ask(client, live, mine)  # mine has question 1; other has none
    join(client, live, mine["code"], "Ada")
    before = client.get(host(live, mine)).json()
    view_key = mine["view_page"].rsplit("/", 1)[1]
    for method, path in routes:
        for key, expected in (
            ("", {404, 405}),  # no key at all
            ("A" * 22, {404}),  # a guessed key
            (mine["code"], {404}),  # the join code
            (view_key, {404}),  # the projector's key
            (other["host_key"], {404}),  # another room's key: its question 1 does not exist
        ):
            if key == other["host_key"] and "{number}" not in path:
                continue  # the other room's own routes: they act on the other room
            url = live.site_url + path.replace("{host_key}", key).replace("{number}", "1")
            answer = client.request(
                method, url, json={"source": "classic", "classic": "custom-header"}
            )
            assert answer.status_code in expected, (method, path, key, answer.status_code)
    after = client.get(host(live, mine)).json()
    assert after["questions"] == before["questions"] and after["room"] == before["room"]


def test_a_join_code_only_joins(client: httpx.Client, live: BackgroundServer) -> None:
    room = create_room(client, live)
    site = live.site_url
    assert client.get(f"{site}/api/rooms/host/{room['code']}").status_code == 404
    assert client.get(f"{site}/rooms/view/{room['code']}").status_code == 404
    assert client.get(f"{site}/api/rooms/attendee/{room['code']}").status_code in (404, 422)
    not_in = new_session(client, live)
    assert (
        client.post(
            f"{site}/api/rooms/attendee/{not_in}/answer", json={"question": 1, "choice": "yes"}
        ).status_code
        == 404
    )


# --- limits ------------------------------------------------------------------------------------


def refusal(answer: httpx.Response, status: int, words: str) -> None:
    assert answer.status_code == status, answer.text
    assert words in answer.json()["error"]["message"], answer.text


def test_every_limit_is_refused_with_a_sentence() -> None:
    limits = RoomLimits(rooms=2, attendees=3, questions=2, name_length=10, title_length=12)
    with BackgroundServer(room_limits=limits) as live, httpx.Client(timeout=10) as client:
        site = live.site_url
        refusal(client.post(f"{site}/api/rooms", json={"title": "x" * 13}), 422, "at most 12")
        room = create_room(client, live, "a")
        create_room(client, live, "b")
        refusal(client.post(f"{site}/api/rooms", json={"title": "c"}), 429, "holds 2 rooms")
        refusal(
            client.post(f"{site}/api/rooms/join", json={"code": room["code"], "name": "x" * 11}),
            422,
            "at most 10",
        )
        for name in ("a", "b", "c"):
            join(client, live, room["code"], name)
        refusal(client.post(f"{site}/api/rooms/join", json={"code": room["code"]}), 409, "full")
        ask(client, live, room)
        ask(client, live, room)
        refusal(
            client.post(
                f"{host(live, room)}/questions",
                json={"source": "classic", "classic": "custom-header"},
            ),
            409,
            "limit",
        )
        # The same refusals on the pages: a sentence on the join form, never a 500.
        page = client.post(f"{site}/join", data={"code": room["code"], "name": "Zed"})
        assert page.status_code == 409 and "this room is full" in page.text.lower()
        bad = client.post(f"{site}/join", data={"code": "NOPE42", "name": "Zed"})
        assert bad.status_code == 404 and "no open room has this code" in bad.text.lower()
        assert client.post(f"{site}/rooms", data={"title": "y"}).status_code == 429


def test_a_room_holds_five_hundred_attendees(client: httpx.Client, live: BackgroundServer) -> None:
    room = create_room(client, live)
    limit = live.settings.room_limits.attendees
    assert limit >= 500
    for _ in range(limit):
        answer = client.post(f"{live.site_url}/api/rooms/join", json={"code": room["code"]})
        assert answer.status_code == 201, answer.text
    refusal(
        client.post(f"{live.site_url}/api/rooms/join", json={"code": room["code"]}), 409, "full"
    )


def test_an_idle_room_is_forgotten() -> None:
    with (
        BackgroundServer(room_limits=RoomLimits(idle_expiry=0.3)) as live,
        httpx.Client() as client,
    ):
        room = create_room(client, live)
        assert client.get(host(live, room)).status_code == 200
        time.sleep(0.6)
        refusal(client.get(host(live, room)), 404, "no room has this key")


# --- what attendees type -----------------------------------------------------------------------


def test_names_are_escaped_everywhere_they_appear(
    client: httpx.Client, live: BackgroundServer
) -> None:
    room = create_room(client, live, "<b>Title</b>")
    joined = join(client, live, room["code"], HOSTILE_NAME)
    ask(client, live, room)
    pages = [
        client.get(f"{live.site_url}{room['host_page']}").text,
        client.get(f"{live.site_url}{joined['page']}").text,
        client.get(f"{live.site_url}/sessions/{joined['session']}/lessons").text,
        client.get(f"{live.site_url}{room['view_page']}").text,
        client.get(f"{live.site_url}/join/{room['code']}").text,
    ]
    for page in pages:
        assert "<img src=x" not in page and "<b>Title</b>" not in page
    assert "&lt;b&gt;Title&lt;/b&gt;" in pages[0]
    table = client.get(f"{host(live, room)}/results.csv").text
    name = next(csv.DictReader(io.StringIO(table)))["name"]
    assert name == HOSTILE_NAME  # no formula start: kept as typed
    formula = join(client, live, room["code"], "=HYPERLINK(1)")
    rows = list(csv.DictReader(io.StringIO(client.get(f"{host(live, room)}/results.csv").text)))
    assert rows[formula["attendee"] - 1]["name"] == "'=HYPERLINK(1)"


@pytest.mark.parametrize(
    "name, words",
    [
        ("a\u202eb", "U+202E"),
        ("a\x07b", "U+0007"),
        (7, "must be a string"),
        ("x" * 41, "at most 40"),
    ],
    ids=["bidi override", "control character", "not text", "too long"],
)
def test_a_name_that_is_not_one_line_of_text_is_refused(
    client: httpx.Client, live: BackgroundServer, name: object, words: str
) -> None:
    room = create_room(client, live)
    refusal(
        client.post(f"{live.site_url}/api/rooms/join", json={"code": room["code"], "name": name}),
        422,
        words,
    )


# --- pages -------------------------------------------------------------------------------------


def test_joining_from_the_form_opens_the_playground_with_the_banner(
    client: httpx.Client, live: BackgroundServer
) -> None:
    room = create_room(client, live)
    form = client.get(f"{live.site_url}/join/{room['code']}")
    assert form.status_code == 200 and "CORS 101" in form.text
    joined = client.post(f"{live.site_url}/join", data={"code": room["code"], "name": "Ada"})
    assert joined.status_code == 303
    page = client.get(live.site_url + joined.headers["location"])
    assert 'id="room-banner"' in page.text and "/static/js/room-banner.js" in page.text
    # An existing session joins too, keeping its runs.
    sid = new_session(client, live)
    client.post(f"{live.site_url}/api/runs", params={"session": sid}, json={})
    again = client.post(f"{live.site_url}/join", data={"code": room["code"], "session": sid})
    assert again.headers["location"] == f"/sessions/{sid}"
    created = client.post(f"{live.site_url}/rooms", data={"title": "From the form"})
    assert created.status_code == 303 and created.headers["location"].startswith("/rooms/host/")


def test_the_qr_code_is_drawn_here_for_the_join_link(
    client: httpx.Client, live: BackgroundServer
) -> None:
    room = create_room(client, live)
    answer = client.get(f"{live.site_url}/join/{room['code']}/qr.svg")
    assert answer.headers["content-type"] == "image/svg+xml"
    assert answer.content == qr_svg(room["join_url"])
    assert b"<script" not in answer.content and b"http" not in answer.content.split(b">", 1)[1]
    assert client.get(f"{live.site_url}/join/NOPE99/qr.svg").status_code == 404


def test_the_host_page_says_when_attendees_cannot_reach_the_join_link(
    client: httpx.Client, live: BackgroundServer
) -> None:
    room = create_room(client, live)
    page = client.get(f"{live.site_url}{room['host_page']}").text
    assert 'id="join-warning"' in page and "--host 0.0.0.0" in page


@pytest.mark.parametrize(
    "host, page_host, expected, warned",
    [
        ("localhost", "localhost", "http://localhost:8000", True),
        ("127.0.0.1", "127.0.0.1", "http://127.0.0.1:8000", True),
        ("192.168.1.5", "192.168.1.5", "http://192.168.1.5:8000", False),
        ("laptop.local", "laptop.local", "http://laptop.local:8000", False),
        ("0.0.0.0", "192.168.1.5", "http://192.168.1.5:8000", False),
    ],
)
def test_the_join_link_uses_the_address_the_playground_listens_on(
    host: str, page_host: str, expected: str, warned: bool
) -> None:
    pg = Playground(Settings(host=host))
    base, warning = join_origin(pg, pg.origins(page_host))
    assert base == expected and (warning is not None) == warned


def test_room_routes_are_on_the_api_page(client: httpx.Client, live: BackgroundServer) -> None:
    page = client.get(f"{live.site_url}/api").text
    for path in (
        "/api/rooms",
        "/api/rooms/join",
        "/api/rooms/host/{host_key}/questions",
        "/api/rooms/attendee/{session_id}/answer",
        "/api/rooms/host/{host_key}/results.csv",
    ):
        assert f"<code>{path}</code>" in page, path
    assert 'id="rooms"' in page


def test_the_host_sees_who_is_online(client: httpx.Client, live: BackgroundServer) -> None:
    room = create_room(client, live)
    ada = join(client, live, room["code"], "Ada")
    pg: Playground = live.playground
    found = live.call(pg.rooms.by_code(room["code"]))
    assert found is not None and pg.bus.subscriber_count(host_topic(found.id)) == 0
    stream = Stream(f"{live.site_url}{ada['events']}")
    stream.until(named("room"))
    assert client.get(host(live, room)).json()["attendees"][0]["connected"] is True
    stream.close()


def test_the_host_sees_an_attendee_go_away_when_their_last_stream_closes(
    client: httpx.Client, live: BackgroundServer
) -> None:
    """Presence follows the streams themselves: the host's stream hears that an attendee is
    away as soon as their last page's stream ends, well before the stream's next ping (which
    would otherwise be the first write to notice a closed connection)."""
    room = create_room(client, live)
    hosting = Stream(f"{live.site_url}{room['host_events']}")
    hosting.until(named("snapshot"))
    ada = join(client, live, room["code"], "Ada")
    online = lambda row: row["number"] == 1 and row["connected"]  # noqa: E731
    away = lambda row: row["number"] == 1 and not row["connected"]  # noqa: E731
    first = Stream(f"{live.site_url}{ada['events']}")
    first.until(named("room"))
    hosting.until(named("attendee", online))
    second = Stream(f"{live.site_url}{ada['events']}")  # a second tab
    second.until(named("room"))
    first.close()
    assert client.get(host(live, room)).json()["attendees"][0]["connected"] is True
    second.close()
    hosting.until(named("attendee", away), timeout=PING_SECONDS / 3)
    assert client.get(host(live, room)).json()["attendees"][0]["connected"] is False
    # The attack lab's page holds a stream of its own (the lab's session): it counts too.
    lab = client.get(f"{live.site_url}/sessions/{ada['session']}/attack").text
    found = re.search(r'id="attack"[^>]*?data-events="(/sessions/[^/"]+/events)"', lab, re.S)
    assert found and ada["session"] not in found.group(1)
    lab_stream = Stream(live.site_url + found.group(1))
    lab_stream.until(named("room"))  # the room's events reach the lab's page too
    hosting.until(named("attendee", online))
    lab_stream.close()
    hosting.until(named("attendee", away), timeout=PING_SECONDS / 3)
    hosting.close()


def test_lesson_progress_reaches_the_host_live(
    client: httpx.Client, live: BackgroundServer
) -> None:
    """An attendee's lesson answer and send each reach the host's stream as that one cell."""
    room = create_room(client, live)
    hosting = Stream(f"{live.site_url}{room['host_events']}")
    hosting.until(named("snapshot"))
    ada = join(client, live, room["code"], "Ada")
    lesson = f"{live.site_url}/sessions/{ada['session']}/lessons/simple-get"
    assert client.post(f"{lesson}/answer", data={"choice": "yes"}).status_code in (200, 303)
    cell = hosting.until(named("progress"))
    assert json.loads(cell["data"]) == {
        "attendee": 1, "lesson": "simple-get", "answer": "wrong", "sent": False,
    }  # fmt: skip
    fields = form_fields(client.get(lesson).text)
    sent = client.post(f"{live.site_url}/sessions/{ada['session']}/runs", content=urlencode(fields),
                       headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert sent.status_code == 201, sent.text
    cell = hosting.until(named("progress"))
    assert json.loads(cell["data"])["sent"] is True
    # The grid the page draws on opening says the same.
    grid = client.get(f"{host(live, room)}/progress").json()
    slugs = [item["slug"] for item in grid["lessons"]]
    assert grid["attendees"][0]["cells"][slugs.index("simple-get")] == {
        "answer": "wrong", "sent": True,
    }  # fmt: skip
    # A session in no room sends nothing to any host.
    other = new_session(client, live)
    elsewhere = f"{live.site_url}/sessions/{other}/lessons/simple-get/answer"
    client.post(elsewhere, data={"choice": "no"})
    client.post(f"{host(live, room)}/close")
    before = len(hosting.seen)
    hosting.until(named("room"))
    assert [e.get("event") for e in hosting.seen[before:]] == ["room"]
    hosting.close()


def test_a_host_stream_that_fell_behind_gets_the_room_as_it_is() -> None:
    """The bus drops events for a stream whose queue is full; the host's stream then sends a
    snapshot instead of going on without them, and nothing older after it."""
    async def scenario() -> list[tuple[str | None, str]]:
        pg = Playground(Settings(room_limits=RoomLimits(host_replay=4)))
        room = await pg.rooms.create("r")
        sub = pg.bus.subscribe(host_topic(room.id), 4)
        stream = _room_stream(pg, room, sub, None, view=False)
        seen: list[tuple[str | None, str]] = []
        async for event in stream:
            seen.append((event.event, event.raw_data or ""))
            if event.event == "ready":
                for number in range(10):  # the page reads nothing meanwhile: its queue overflows
                    await pg.rooms.join(room, f"session-{number:02d}-" + "x" * 12, f"A{number}")
                    room_events.publish(pg)
                assert sub.dropped > 0
            elif event.event == "snapshot" and len([e for e in seen if e[0] == "snapshot"]) == 2:
                pg.bus.close()
        return seen

    seen = asyncio.run(scenario())
    snapshots = [json.loads(data) for name, data in seen if name == "snapshot"]
    assert len(snapshots) == 2 and len(snapshots[1]["attendees"]) == 10
    after = seen[[name for name, _ in seen].index("snapshot", 2) + 1 :]
    assert all(name != "attendee" for name, _ in after), after


def test_each_attendee_action_out_of_turn_is_refused_with_a_sentence(
    client: httpx.Client, live: BackgroundServer
) -> None:
    room = create_room(client, live)
    ada = join(client, live, room["code"], "Ada")
    api = attendee_api(live, ada)
    refusal(client.post(f"{api}/answer", json={"question": 1, "choice": "yes"}), 404,
            "no question 1")  # fmt: skip
    ask(client, live, room)
    refusal(client.post(f"{api}/answer", json={"question": "one", "choice": "yes"}), 422,
            "question number")  # fmt: skip
    refusal(client.post(f"{api}/answer", json={"question": 1, "choice": "maybe"}), 422,
            "choice must be one of")  # fmt: skip
    refusal(client.post(f"{api}/send", json={"question": 1}), 409, "not revealed yet")
    refusal(client.post(f"{host(live, room)}/questions/2/reveal"), 404, "no question 2")
    ask(client, live, room)
    refusal(client.post(f"{api}/answer", json={"question": 1, "choice": "none"}), 409,
            "answers to this question are closed")  # fmt: skip
    refusal(client.post(f"{host(live, room)}/questions/1/reveal"), 409, "current question")
    client.post(f"{host(live, room)}/questions/2/reveal")
    sent = client.post(f"{api}/send", json={"question": 2}).json()
    other = create_api_run_id(client, live, ada["session"])
    refusal(client.post(f"{api}/results/{other}", json={"outcome": "allowed"}), 404,
            "no such run of this room")  # fmt: skip
    reported = {"outcome": "blocked", "status": None, "headers": [], "body": None, "error": "x"}
    assert client.post(f"{live.site_url}{sent['result']}", json=reported).status_code == 200
    refusal(client.post(f"{live.site_url}{sent['result']}", json=reported), 409, "already")
    bob = join(client, live, room["code"], "Bob")
    refusal(client.post(f"{attendee_api(live, bob)}/results/{sent['run_id']}", json=reported),
            404, "no such run")  # fmt: skip
    other_room = create_room(client, live)
    refusal(client.post(f"{live.site_url}/api/rooms/join",
                        json={"code": other_room["code"], "session": ada["session"]}),
            409, "already in the room")  # fmt: skip
    refusal(client.post(f"{live.site_url}/api/rooms/join", json={"code": 5}), 422, "code")
    left = client.post(f"{api}/leave")
    assert left.json() == {"left": True}
    refusal(client.get(api), 404, "in no room")


def create_api_run_id(client: httpx.Client, live: BackgroundServer, session: str) -> str:
    """A run of the session that is not the room's."""
    created = client.post(f"{live.site_url}/api/runs", params={"session": session}, json={})
    return str(created.json()["run_id"])


# --- an attack as a room question --------------------------------------------------------------


READABLE = {"cache-control", "content-language", "content-length", "content-type", "expires",
            "last-modified", "pragma"}  # fmt: skip


def run_attack(
    client: httpx.Client,
    live: BackgroundServer,
    sent: dict[str, Any],
    agent: str,
    *,
    cookie: bool = True,
) -> dict[str, Any]:
    """What an attendee's browser does with an attack question's frame: log in to the victim
    API (its cookie kept unless ``cookie`` is False, as a browser's cookie rules may do), open
    the attacker's page for the round, send its attempt to the victim API with the attempt's
    Origin, and report what the script could read to the attacker's log."""
    login = client.get(sent["attack"]["frame"], headers={"user-agent": agent})
    assert login.status_code == 303, login.text
    page_url = login.headers["location"]
    assert page_url.startswith(live.settings.attacker_url) and "?round=" in page_url
    client.cookies.clear()  # the cookie goes only where this attendee's browser sends it
    jar = {}
    for line in login.headers.get_list("set-cookie"):
        name, _, rest = line.partition("=")
        jar[name] = rest.split(";")[0]
    page = client.get(page_url, headers={"user-agent": agent})
    assert page.status_code == 200
    found = re.search(r'data-round="([^"]+)"', page.text)
    assert found, page.text[:400]
    attacker = live.settings.attacker_url
    (attempt,) = client.get(attacker + found.group(1)).json()["attempts"]
    assert attempt["run_id"] == sent["run_id"]
    headers = {"origin": "null" if attempt["sandboxed"] else attacker, "user-agent": agent}
    if cookie:
        headers["cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
    answer = client.get(attempt["url"], headers=headers)
    allowed = answer.headers.get("access-control-allow-origin") == headers["origin"]
    report = {
        "run_id": attempt["run_id"],
        "outcome": "allowed" if allowed else "blocked",
        "status": answer.status_code if allowed else None,
        # What fetch() lets a script read: the CORS-safelisted response headers.
        "headers": [[k, v] for k, v in answer.headers.items() if k in READABLE] if allowed else [],
        "body": answer.text if allowed else None,
        "error": None if allowed else "TypeError: Failed to fetch",
    }
    reported = client.post(
        f"{page_url.split('?')[0]}/report", json=report, headers={"user-agent": agent}
    )
    assert reported.status_code == 200, reported.text
    return dict(reported.json())


def test_an_attack_question_runs_the_attack_in_each_attendee_s_browser(
    client: httpx.Client, live: BackgroundServer
) -> None:
    room = create_room(client, live)
    hosting = Stream(f"{live.site_url}{room['host_events']}")
    hosting.until(named("snapshot"))
    ada = join(client, live, room["code"], "Ada", CHROME)
    bob = join(client, live, room["code"], "Bob", FIREFOX)
    ada_stream = Stream(f"{live.site_url}{ada['events']}")
    ada_stream.until(named("room"))

    # Only the host key asks.
    doc = {"source": "attack", "attack": "reflect-page"}
    for key in ("A" * 22, room["code"]):
        url = f"{live.site_url}/api/rooms/host/{key}/questions"
        assert client.post(url, json=doc).status_code == 404
    refusal(client.post(f"{host(live, room)}/questions", json={"source": "attack"}), 422,
            "attack: choose one of reflect-page, null-sandbox")  # fmt: skip
    refusal(client.post(f"{host(live, room)}/questions", json={**doc, "kind": "preflight"}), 422,
            "kind: an attack asks")  # fmt: skip
    asked = ask(client, live, room, **doc)
    assert asked["kind"] == "attack" and asked["attack"] == "reflect-page"
    assert asked["prompt"] == "Will the attacker's page read the secret?"
    assert asked["scenario"]["origin"] == "{attacker-origin}"
    assert ["Access-Control-Allow-Origin", "{attacker-origin}"] in (
        asked["scenario"]["response"]["headers"]
    )
    pushed = ada_stream.until(named("room", lambda d: (d.get("question") or {}).get("attack")))
    assert "reveal" not in json.loads(pushed["data"])["question"]

    for who, choice in ((ada, "yes"), (bob, "no")):
        answered = client.post(
            f"{attendee_api(live, who)}/answer", json={"question": 1, "choice": choice}
        )
        assert answered.status_code == 200, answered.text
    revealed = client.post(f"{host(live, room)}/questions/1/reveal").json()
    engines = ("chromium", "firefox", "webkit", "spec")
    assert revealed["reveal"]["answers"] == dict.fromkeys(engines, "yes")
    assert "secret" in revealed["reveal"]["why"]

    # Ada's browser: logged in, the attacker's page reads her account and its log gets the secret.
    sent = client.post(f"{attendee_api(live, ada)}/send", json={"question": 1},
                       headers={"user-agent": CHROME}).json()  # fmt: skip
    assert sent["attack"]["frame"].startswith(f"{live.api_url}/victim/")
    # The attack's run is the attacker's to report, never the attendee page's.
    refusal(client.post(f"{attendee_api(live, ada)}/results/{sent['run_id']}",
                        json={"outcome": "allowed"}), 404, "no such run")  # fmt: skip
    assert run_attack(client, live, sent, CHROME)["stolen"] is True
    result = hosting.until(named("result", lambda d: d["attendee"] == 1))
    (chromium,) = json.loads(result["data"])["attack_groups"]
    assert (chromium["engine"], chromium["stolen"], chromium["matched"]) == ("chromium", 1, 1)
    mine = ada_stream.until(named("room", lambda d: ((d.get("you") or {}).get("result") or {})))
    assert json.loads(mine["data"])["you"]["result"]["verdict"] == "stolen"

    # Bob's browser keeps the login cookie back: CORS lets the script read, nothing secret.
    sent = client.post(f"{attendee_api(live, bob)}/send", json={"question": 1},
                       headers={"user-agent": FIREFOX}).json()  # fmt: skip
    assert run_attack(client, live, sent, FIREFOX, cookie=False)["stolen"] is False
    result = hosting.until(named("result", lambda d: d["attendee"] == 2))
    groups = {g["engine"]: g for g in json.loads(result["data"])["attack_groups"]}
    assert (groups["firefox"]["cookie"], groups["firefox"]["stolen"]) == (1, 0)
    assert "a cookie policy (not CORS)" in " ".join(json.loads(result["data"])["findings"])

    # The host's JSON: what the victim API recorded and what the attacker's log got.
    state = client.get(host(live, room)).json()
    rows = {a["number"]: a["result"] for a in state["attendees"]}
    attacker = live.settings.attacker_url
    assert rows[1]["recorded"]["origin"] == attacker and rows[1]["recorded"]["login_cookies"]
    assert rows[1]["recorded"]["status"] == 200 and rows[1]["recorded"]["secret_in_attackers_log"]
    assert rows[2]["verdict"] == "no-cookie" and rows[2]["recorded"]["status"] == 401
    assert "not thanks to CORS" in rows[2]["reason"]
    console = client.get(f"{host(live, room)}/console").json()["questions"][0]
    assert console["origins"] == {attacker: 2} and console["legs"] == {"actual": 2}

    # The explanation: the policy judged and the fix with a security goal (host key only).
    explained = client.get(f"{live.site_url}/rooms/host/{room['host_key']}/questions/1/explanation")
    assert explained.status_code == 200
    assert 'data-status="stops"' in explained.text and "exactly" in explained.text
    assert f"<code>{live.site_url}</code>" in explained.text
    wrong = f"{live.site_url}/rooms/host/{'A' * 22}/questions/1/explanation"
    assert client.get(wrong).status_code == 404

    # The exports carry it.
    exported = client.get(f"{host(live, room)}/results").json()
    assert exported["questions"][0]["attack"] == "reflect-page"
    assert exported["questions"][0]["attack_groups"][0]["stolen"] == 1
    by_number = {a["number"]: a for a in exported["attendees"]}
    assert by_number[1]["results"][0]["stolen"] is True
    table = list(csv.DictReader(io.StringIO(client.get(f"{host(live, room)}/results.csv").text)))
    assert [(r["name"], r["secret_stolen"], r["attack_verdict"]) for r in table] == [
        ("Ada", "yes", "stolen"),
        ("Bob", "no", "no-cookie"),
    ]
    hosting.close()
    ada_stream.close()


def test_an_attack_question_on_the_trusted_null_and_a_refused_read(
    client: httpx.Client, live: BackgroundServer
) -> None:
    room = create_room(client, live)
    ada = join(client, live, room["code"], "Ada", CHROME)
    asked = ask(client, live, room, source="attack", attack="allow-list-page")
    assert asked["choices"] == [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}]
    client.post(f"{attendee_api(live, ada)}/answer", json={"question": 1, "choice": "no"})
    client.post(f"{host(live, room)}/questions/1/reveal")
    sent = client.post(f"{attendee_api(live, ada)}/send", json={"question": 1},
                       headers={"user-agent": CHROME}).json()  # fmt: skip
    assert run_attack(client, live, sent, CHROME)["stolen"] is False
    row = client.get(host(live, room)).json()["attendees"][0]
    assert row["answer"]["correct"] is True
    assert row["result"]["verdict"] == "refused" and row["result"]["agreement"] is True
    assert row["result"]["recorded"]["login_cookies"]  # CORS never stopped the request
    # The trusted null: a sandboxed frame's request.
    asked = ask(client, live, room, source="attack", attack="null-sandbox")
    assert asked["scenario"]["origin"] == "null"
    client.post(f"{host(live, room)}/questions/2/reveal")
    sent = client.post(f"{attendee_api(live, ada)}/send", json={"question": 2},
                       headers={"user-agent": CHROME}).json()  # fmt: skip
    assert run_attack(client, live, sent, CHROME)["stolen"] is True
    assert client.get(host(live, room)).json()["attendees"][0]["result"]["recorded"][
        "origin"] == "null"  # fmt: skip
