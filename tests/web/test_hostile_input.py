"""Hostile input, class by class: every kind of bad input found stays here.

Each class is sent to every route that reads a body (or a query) over real HTTP, on kept-alive
connections. Whatever arrives, the playground answers with a status below 500 and a message a
learner can read, never resets a connection, and nothing it accepted makes a page
unrenderable afterwards. ``HOSTILE_COUNT`` sets the size of the generated run (10,000 or more
by hand: ``HOSTILE_COUNT=10000 pytest tests/web/test_hostile_input.py``).
"""

from __future__ import annotations

import json
import os
import random
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest

from app.rooms import RoomLimits
from app.runs.store import EXCHANGE_BUDGET, new_id
from app.web.events import console_topic, runs_topic
from app.web.server import BackgroundServer
from tests.web.conftest import BACKENDS, backend_options, new_session

HOSTILE_COUNT = int(os.environ.get("HOSTILE_COUNT", "2000"))
SURROGATE = "a\ud800"


@dataclass
class Target:
    """A route that reads a body: where it is and how it is posted."""

    name: str
    url: str
    kind: str  # "json" or "form"


@pytest.fixture(scope="module", params=BACKENDS)
def live(request: pytest.FixtureRequest) -> Iterator[BackgroundServer]:
    # Rooms: a hostile input may create one (a title is enough); let them all fit.
    options = backend_options(request)
    with BackgroundServer(room_limits=RoomLimits(rooms=5000), **options) as server:
        yield server


@pytest.fixture(scope="module")
def client(live: BackgroundServer) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=20) as c:
        yield c


def create_api_run(client: httpx.Client, live: BackgroundServer) -> dict[str, str]:
    answer = client.post(f"{live.site_url}/api/runs", json={"request": {"method": "GET"}})
    assert answer.status_code == 201, answer.text
    created: dict[str, str] = answer.json()
    return created


def room_targets(client: httpx.Client, site: str) -> list[Target]:
    """A room's routes that read a body: its host's (a question asked and revealed) and an
    attendee's (a run sent, waiting for its result)."""
    room = client.post(f"{site}/api/rooms", json={"title": "hostile"}).json()
    host = f"{site}{room['host_api']}"
    joined = client.post(f"{site}/api/rooms/join", json={"code": room["code"]}).json()
    attendee = f"{site}{joined['api']}"
    client.post(f"{host}/questions", json={"source": "classic", "classic": "custom-header"})
    client.post(f"{host}/questions/1/reveal")
    sent = client.post(f"{attendee}/send", json={"question": 1}).json()
    return [
        Target("create a room", f"{site}/api/rooms", "json"),
        Target("create a room (form)", f"{site}/rooms", "form"),
        Target("join a room", f"{site}/api/rooms/join", "json"),
        Target("join a room (form)", f"{site}/join", "form"),
        Target("ask the room", f"{host}/questions", "json"),
        Target("answer in a room", f"{attendee}/answer", "json"),
        Target("send in a room", f"{attendee}/send", "json"),
        Target("a room run's result", f"{site}{sent['result']}", "json"),
    ]


@pytest.fixture(scope="module")
def targets(client: httpx.Client, live: BackgroundServer) -> list[Target]:
    sid = new_session(client, live)
    run = create_api_run(client, live)
    site = live.site_url
    return [
        *room_targets(client, site),
        Target("explain", f"{site}/api/explain", "json"),
        Target("api runs", f"{site}/api/runs", "json"),
        Target("result", f"{site}/runs/{run['run_id']}/result", "json"),
        Target("composer explain", f"{site}/sessions/{sid}/explain", "form"),
        Target("composer runs", f"{site}/sessions/{sid}/runs", "form"),
        Target("lab cache", f"{site}/sessions/{sid}/labs/cache/runs", "form"),
        Target("lab redirects", f"{site}/sessions/{sid}/labs/redirects/runs", "form"),
        Target("lab cookies", f"{site}/sessions/{sid}/labs/cookies/runs", "form"),
        Target("lesson answer", f"{site}/sessions/{sid}/lessons/simple-get/answer", "form"),
        Target("explain a console error", f"{site}/sessions/{sid}/troubleshoot/console", "form"),
        Target("import a HAR", f"{site}/sessions/{sid}/troubleshoot/har", "json"),
        Target("check a server (off)", f"{site}/sessions/{sid}/troubleshoot/check", "form"),
        *attack_targets(client, live, sid),
    ]


def attack_targets(client: httpx.Client, live: BackgroundServer, sid: str) -> list[Target]:
    """The attack lab's routes that read a body: the site's, and the attacker origin's."""
    aid = attack_of(client, live, sid)
    site, attacker = live.site_url, live.settings.attacker_url
    return [
        Target("attack policy", f"{site}/sessions/{sid}/attack/policy", "form"),
        Target("attack fix", f"{site}/sessions/{sid}/attack/fix", "form"),
        Target("attack site check", f"{site}/sessions/{sid}/attack/site-check", "form"),
        Target("attacker's round", f"{attacker}/a/{aid}/rounds", "form"),
        Target("attacker's report", f"{attacker}/a/{aid}/report", "json"),
        Target(
            "attack lesson answer",
            f"{site}/sessions/{sid}/attack/lessons/attack-null/answer",
            "form",
        ),
    ]


def attack_of(client: httpx.Client, live: BackgroundServer, sid: str) -> str:
    """The attack id of a session's attack lab (the lab page makes it)."""
    page = client.get(f"{live.site_url}/sessions/{sid}/attack")
    assert page.status_code == 200, page.text[:300]
    found = re.search(r'data-events="/sessions/([^/"]+)/events"', page.text)
    assert found is not None
    return found.group(1)


def readable(response: httpx.Response) -> str:
    """The message a learner reads in a refusal (JSON error, page or text)."""
    if response.headers.get("content-type", "").startswith("application/json"):
        doc = response.json()
        if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
            return str(doc["error"].get("message", ""))
        if isinstance(doc, dict) and doc.get("errors"):
            return str(doc["errors"][0].get("message", ""))
        return ""
    return response.text.strip()


def assert_answered_well(response: httpx.Response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        assert len(readable(response)) > 5, f"{what}: a {response.status_code} without a message"


def post_raw(client: httpx.Client, target: Target, body: bytes) -> httpx.Response:
    kind = "application/json" if target.kind == "json" else "application/x-www-form-urlencoded"
    return client.post(target.url, content=body, headers={"content-type": kind})


# --- classes of bad input ---------------------------------------------------------------------

# Each class: (name, body for a JSON route, body for a form route).
CLASSES: list[tuple[str, bytes, bytes]] = [
    (
        "lone surrogate escape in a response header",
        json.dumps({"response": {"headers": [["X-A", SURROGATE]]}}).encode(),
        b"rs_name=X-A&rs_value=a%ED%A0%80",
    ),
    (
        "lone surrogate escape in the body",
        json.dumps(
            {"request": {"body": SURROGATE}, "outcome": "error", "error": SURROGATE}
        ).encode(),
        b"has_body=1&body=%ED%A0%80",
    ),
    (
        "raw surrogate bytes ED A0 80",
        b'{"request": {"method": "GET", "body": "\xed\xa0\x80"}}',
        b"method=\xed\xa0\x80",
    ),
    ("a lone surrogate as a key", b'{"\\ud800": 1}', b"%ED%A0%80=1"),
    (
        "an integer over 4,300 digits",
        b'{"response": {"status": ' + b"9" * 5000 + b"}, \"status\": " + b"9" * 5000 + b"}",
        b"rs_status=" + b"9" * 5000,
    ),
    ("a float that overflows", b'{"response": {"status": 1e999}}', b"rs_status=1e999"),
    ("thousands of form fields", b"{}", b"&".join(b"rq_name=a" for _ in range(5000))),
    ("deep nesting", b"[" * 100_000 + b"]" * 100_000, b"a=" + b"%5B" * 50_000),
    ("not UTF-8", b'{"a": "\xff\xfe"}', b"method=%FF%FE&\xff=\xfe"),
    ("not JSON at all", b"\x00\x01\x02 hello", b"\x00\x01\x02"),
    ("JSON of the wrong shape", b'[[[["x"]]]]', b"method=GET&method=PUT&method="),
    ("null bytes", json.dumps({"request": {"method": "GE\x00T"}}).encode(), b"method=GE%00T"),
    ("an empty body", b"", b""),
    (
        "a misspelt key",
        json.dumps({"reqest": {"method": "PUT"}, "preflight_respnse": {}}).encode(),
        b"reqest=PUT&preflight_respnse=1",
    ),
    (
        "an origin that is not a serialized origin",
        json.dumps({"origin": "localhost:8000", "request": {"method": "GET"}}).encode(),
        b"origin=localhost%3A8000",
    ),
    (
        "control characters in names",
        b'{"request": {"headers": [["X\\r\\nY", "1"]]}}',
        b"rq_name=X%0D%0AY&rq_value=1",
    ),
    # whole fetches and sequences (v2)
    (
        "more hops than the redirect limit",
        json.dumps(
            {
                "response": {"status": 302, "headers": [["Location", "http://h.test/0"]]},
                "hops": [
                    {
                        "url": f"http://h.test/{n}",
                        "response": {
                            "status": 302,
                            "headers": [["Location", f"http://h.test/{n + 1}"]],
                        },
                    }
                    for n in range(21)
                ],
            }
        ).encode(),
        b"hops=" + b"21" * 30 + b"&redirect=follow",
    ),
    (
        "a Location that names no hop",
        json.dumps(
            {
                "response": {"status": 307, "headers": [["Location", "http://elsewhere.test/"]]},
                "hops": [{"url": "http://h.test/1"}],
            }
        ).encode(),
        b"redirect=%00&status=307&location=http://elsewhere.test/",
    ),
    (
        "a sequence of more fetches than allowed",
        json.dumps({"sequence": [{"at": n, "scenario": {}} for n in range(21)]}).encode(),
        b"series=" + b"9" * 40,
    ),
    (
        "a sequence whose clock goes backwards, negative or to infinity",
        b'{"sequence": [{"at": 5, "scenario": {}}, {"at": 1, "scenario": {}},'
        b' {"at": -1, "scenario": {}}, {"at": 1e999, "scenario": {}}]}',
        b"series=-1&series=1e999",
    ),
    (
        "a sequence inside a sequence",
        json.dumps({"sequence": [{"at": 0, "scenario": {"sequence": [{"at": 0}]}}]}).encode(),
        b"series=%5B%5B%5B",
    ),
    (
        "a redirect mode that is not one",
        json.dumps({"request": {"redirect": "follow\u0000"}, "hops": "many"}).encode(),
        b"redirect=sideways",
    ),
]

V2_REFUSALS = [
    (CLASSES[-6][1], "hops"),
    (CLASSES[-5][1], "response.headers"),
    (CLASSES[-4][1], "sequence"),
    (CLASSES[-3][1], "sequence[1].at"),
    (CLASSES[-2][1], "sequence[0].scenario"),
    (CLASSES[-1][1], "request.redirect"),
]


@pytest.mark.parametrize("name, json_body, form_body", CLASSES, ids=[c[0] for c in CLASSES])
def test_each_class_gets_a_clear_refusal_on_every_route(
    client: httpx.Client, targets: list[Target], name: str, json_body: bytes, form_body: bytes
) -> None:
    for target in targets:
        body = json_body if target.kind == "json" else form_body
        assert_answered_well(post_raw(client, target, body), f"{name} -> {target.name}")


@pytest.mark.parametrize("body, field", V2_REFUSALS)
def test_bad_whole_fetches_and_sequences_are_refused_naming_the_field(
    client: httpx.Client, live: BackgroundServer, body: bytes, field: str
) -> None:
    answer = client.post(f"{live.site_url}/api/explain", content=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"].startswith(field), answer.text


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"response": {"headers": [["X-A", SURROGATE]]}}).encode(),
        # JSON also arrives in UTF-16 and UTF-32, where the surrogate is raw code units.
        '{"response": {"headers": [["X-A", "a\ud800"]]}}'.encode("utf-16-le", "surrogatepass"),
        '{"response": {"headers": [["X-A", "a\ud800"]]}}'.encode("utf-32-be", "surrogatepass"),
        b'{"response": {"headers": [["X-A", "a\xed\xa0\x80"]]}}',
    ],
    ids=["escape", "utf-16", "utf-32", "utf-8 bytes"],
)
def test_a_lone_surrogate_is_refused_naming_the_field(
    client: httpx.Client, live: BackgroundServer, body: bytes
) -> None:
    answer = client.post(f"{live.site_url}/api/runs", content=body)
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "response.headers[0][1]"
    assert "lone surrogate" in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    ("doc", "field", "words"),
    [({"reqest": {"method": "PUT"}}, "reqest", "unknown key 'reqest' (did you mean 'request'?)"),
     ({"request": {"metod": "PUT"}}, "request.metod", "(did you mean 'method'?)"),
     ({"origin": "localhost:8000"}, "origin", "(did you mean 'http://localhost:8000'?)"),
     ({"origin": "javascript:alert(1)"}, "origin", "not http or https")],
)  # fmt: skip
def test_unknown_keys_and_bad_origins_are_refused_naming_the_field(
    client: httpx.Client, live: BackgroundServer, doc: dict[str, object], field: str, words: str
) -> None:
    for path in ("/api/explain", "/api/runs"):
        answer = client.post(f"{live.site_url}{path}", json=doc)
        assert answer.status_code == 422, (path, answer.text)
        error = answer.json()["error"]
        assert error["field"] == field and words in error["message"], (path, error)
    many = client.post(f"{live.site_url}/api/explain", json=[{}, {**doc, "browser": "firefox"}])
    assert many.status_code == 422 and many.json()["error"]["field"] == f"[1].{field}"


def test_nothing_accepted_poisons_a_session(client: httpx.Client, live: BackgroundServer) -> None:
    """Whatever a stranger posts for a run, its session's pages and the run stay readable."""
    run = create_api_run(client, live)
    posted = client.post(
        f"{live.site_url}/runs/{run['run_id']}/result",
        content=json.dumps({"outcome": "error", "error": SURROGATE}).encode(),
    )
    assert posted.status_code == 422
    body = client.post(
        f"{live.site_url}/api/runs?session={run['session']}",
        content=json.dumps({"request": {"method": "POST", "body": SURROGATE}}).encode(),
    )
    assert body.status_code == 422
    pages = (f"/sessions/{run['session']}", f"/api/runs/{run['run_id']}", f"/runs/{run['run_id']}")
    for path in pages:
        assert client.get(live.site_url + path).status_code == 200, path


ROOM_NAMES: list[tuple[str, bytes, bytes]] = [
    ("lone surrogate escape", b'{"code": "%s", "name": "a\\ud800"}', b"code=%s&name=a%%ED%%A0%%80"),
    ("null byte", b'{"code": "%s", "name": "a\\u0000b"}', b"code=%s&name=a%%00b"),
    ("bidi override", b'{"code": "%s", "name": "\\u202eadmin"}', b"code=%s&name=%%E2%%80%%AEadmin"),
    ("markup", b'{"code": "%s", "name": "<script>x</script>"}', b"code=%s&name=%%3Cscript%%3E"),
    ("ten thousand characters", b'{"code": "%s", "name": "' + b"x" * 10_000 + b'"}',
     b"code=%s&name=" + b"x" * 10_000),
    ("a name that is a number", b'{"code": "%s", "name": 12}', b"code=%s&name=12"),
    ("a code of the wrong shape", b'{"code": ["%s"], "name": "a"}', b"code=%s%%00&name=a"),
]


@pytest.mark.parametrize("label, json_body, form_body", ROOM_NAMES, ids=[n[0] for n in ROOM_NAMES])
def test_nothing_an_attendee_types_poisons_a_room(
    client: httpx.Client, live: BackgroundServer, label: str, json_body: bytes, form_body: bytes
) -> None:
    """Whatever an attendee types as a name, joining answers with a reason or keeps it as
    text, and the room's pages and exports stay readable."""
    site = live.site_url
    room = client.post(f"{site}/api/rooms", json={"title": label}).json()
    code = room["code"].encode()
    for url, body, kind in (
        (f"{site}/api/rooms/join", json_body.replace(b"%s", code), "application/json"),
        (f"{site}/join", form_body.replace(b"%s", code).replace(b"%%", b"%"),
         "application/x-www-form-urlencoded"),
    ):
        answer = client.post(url, content=body, headers={"content-type": kind})
        assert_answered_well(answer, f"{label} to {url}")
    host = f"{site}{room['host_api']}"
    pages = (room["host_page"], room["view_page"], room["host_api"],
             f"{room['host_api']}/results", f"{room['host_api']}/results.csv",
             f"{room['host_api']}/progress")
    for path in pages:
        assert client.get(site + path).status_code == 200, path
    for attendee in client.get(host).json()["attendees"]:
        assert "<script>" not in client.get(site + room["host_page"]).text
        assert all(ord(c) >= 32 and c != "\u202e" for c in attendee["name"]), attendee


def test_a_server_error_closes_its_connection_cleanly(live: BackgroundServer) -> None:
    """A 500 says Connection: close, so the browser's next request opens a new connection
    instead of being reset on the one the server is about to drop."""

    async def fail() -> None:
        raise RuntimeError("a deliberate failure for this test")

    live.app.site.app.add_api_route("/__fail", fail, methods=["GET"])  # type: ignore[attr-defined]
    with httpx.Client(timeout=10) as c:
        for _ in range(3):
            failed = c.get(f"{live.site_url}/__fail")
            assert failed.status_code == 500
            assert failed.headers.get("connection") == "close"
            assert c.get(f"{live.site_url}/api").status_code == 200


# --- requests whose length can be read two ways (raw sockets) --------------------------------
#
# A request with both Content-Length and Transfer-Encoding, or with a header folded onto the
# next line (obs-fold), hides whatever follows its chunked body from anything that reads the
# length the other way (a proxy, a logger): RFC 9112 section 6.1 says refuse it or close the
# connection. Each variant carries a second request, ``?smuggled=1``, after a chunked body.

CHUNKED = b"0\r\n\r\n"
# Framing header lines; {n} is the Content-Length that covers the chunked body and what follows.
CL, TE = "Content-Length: {n}\r\n", "Transfer-Encoding: chunked\r\n"
AMBIGUOUS: list[tuple[str, str]] = [
    ("Content-Length then Transfer-Encoding", CL + TE),
    ("Transfer-Encoding then Content-Length", TE + CL),
    ("Transfer-Encoding in capitals", CL + "Transfer-Encoding: CHUNKED\r\n"),
    ("Content-Length and a folded Transfer-Encoding", CL + "Transfer-Encoding:\r\n chunked\r\n"),
    ("a folded Transfer-Encoding alone", "Transfer-Encoding:\r\n\tchunked\r\n"),
    ("a folded header before Transfer-Encoding", "X-A: 1\r\n 2\r\n" + TE),
]


def ambiguous_request(method: str, path: str, framing: str, hidden: bytes) -> bytes:
    """A request with a chunked body and ``hidden`` after it, framed by ``framing``."""
    lines = framing.format(n=len(CHUNKED) + len(hidden))
    head = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n{lines}\r\n"
    return head.encode() + CHUNKED + hidden


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (fails after 10 s)."""
    sock.settimeout(10)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def assert_one_refusal_then_closed(port: int, request: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request)
        received = read_until_closed(sock)
    assert received.count(b"HTTP/1.1 ") == 1, received
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), received
    assert b"\r\nconnection: close" in head.lower(), received
    assert b"Content-Length and Transfer-Encoding" in body or b"folding" in body, body


@pytest.mark.parametrize("framing", [a[1] for a in AMBIGUOUS], ids=[a[0] for a in AMBIGUOUS])
def test_a_request_of_ambiguous_length_to_the_target_is_refused_and_not_recorded(
    client: httpx.Client, live: BackgroundServer, framing: str
) -> None:
    run = create_api_run(client, live)
    path = f"/r/{run['run_id']}"
    bus = live.playground.bus
    topics = (runs_topic(run["session"]), console_topic(run["session"]))
    subscriptions = [bus.subscribe(topic) for topic in topics]  # what the page and console get
    try:
        hidden = f"GET {path}?smuggled=1 HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()
        request = ambiguous_request("POST", path, framing, hidden)
        assert_one_refusal_then_closed(live.settings.api_port, request)
        assert client.get(f"{live.site_url}/api/runs/{run['run_id']}").json()["exchanges"] == []
        assert all(sub.queue.empty() for sub in subscriptions)
        # A well-formed request to the same run is recorded and published.
        assert client.get(f"{live.api_url}{path}").status_code == 200
        exchanges = client.get(f"{live.site_url}/api/runs/{run['run_id']}").json()["exchanges"]
        assert [e["request"]["path"] for e in exchanges] == [path]
        assert not any(sub.queue.empty() for sub in subscriptions)
    finally:
        for sub in subscriptions:
            bus.unsubscribe(sub)


@pytest.mark.parametrize("framing", [a[1] for a in AMBIGUOUS], ids=[a[0] for a in AMBIGUOUS])
def test_a_request_of_ambiguous_length_to_the_site_is_refused(
    live: BackgroundServer, framing: str
) -> None:
    sessions = live.call(live.playground.store.session_count())
    hidden = b"POST /api/runs HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}"
    assert_one_refusal_then_closed(
        live.settings.site_port, ambiguous_request("POST", "/api/explain", framing, hidden)
    )
    # the hidden request created no run
    assert live.call(live.playground.store.session_count()) == sessions


# --- invented ids -----------------------------------------------------------------------------


def test_an_invented_session_id_is_refused_and_creates_nothing(
    client: httpx.Client, live: BackgroundServer
) -> None:
    """Only the routes that start a session create one (``/``, ``/lessons``, a lesson's link,
    ``/labs``, ``POST /api/runs`` without a session): a well-formed id nobody was given is a
    404 everywhere else, so a stranger's requests cannot fill the store with sessions."""
    invented = new_id()
    site, api = live.site_url, live.api_url
    store = live.playground.store
    before = live.call(store.session_count())
    routes = [
        ("GET", f"{site}/sessions/{invented}"),
        ("GET", f"{site}/sessions/{invented}?s=e30"),
        ("GET", f"{site}/sessions/{invented}/lessons"),
        ("GET", f"{site}/sessions/{invented}/lessons/simple-get"),
        ("GET", f"{site}/sessions/{invented}/events"),
        ("GET", f"{api}/console/{invented}"),
        ("GET", f"{api}/console/{invented}/events"),
        ("POST", f"{site}/sessions/{invented}/explain"),
        ("POST", f"{site}/sessions/{invented}/runs"),
        ("POST", f"{site}/sessions/{invented}/lessons/simple-get/answer"),
        ("POST", f"{site}/sessions/{invented}/runs/{new_id()}/result"),
        ("POST", f"{site}/api/runs?session={invented}"),
    ]
    for method, url in routes:
        form = {"method": "GET", "choice": "yes"} if method == "POST" else None
        with client.stream(method, url, data=form, timeout=5) as answer:
            assert answer.status_code == 404, (method, url, answer.status_code)
            answer.read()
            assert "expired or never existed" in readable(answer), (method, url)
    assert live.call(store.session_count()) == before
    assert live.call(store.session(invented)) is None
    page = client.get(f"{site}/sessions/{invented}", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert "This session expired or never existed" in page.text
    assert '<a href="/">Start the playground</a>' in page.text


def test_a_flood_of_new_sessions_never_evicts_a_session_in_use() -> None:
    """Sessions that never did anything make room for each other, not for sessions in use."""
    with BackgroundServer(max_unused_sessions=5) as live, httpx.Client(timeout=10) as c:
        sid, learner = new_session(c, live), new_session(c, live)
        created = c.post(f"{live.site_url}/sessions/{sid}/runs", data={"method": "GET"})
        assert created.status_code == 201
        lesson = f"{live.site_url}/sessions/{learner}/lessons/simple-get"
        assert c.post(f"{lesson}/answer", data={"choice": "no"}).status_code == 303
        for _ in range(30):
            new_session(c, live)
        page = c.get(f"{live.site_url}/sessions/{sid}")
        assert page.status_code == 200 and created.json()["run_id"] in page.text
        assert c.get(lesson).status_code == 200
        assert live.call(live.playground.store.unused_count()) == 5


def test_a_request_with_thousands_of_headers_is_kept_cut_down_with_a_note(
    client: httpx.Client, live: BackgroundServer
) -> None:
    """Small on the wire (h11 allows a 16 KB head), large in memory: the leg is answered and
    kept within its budget, the headers CORS is decided on first, and the card says so."""
    run = create_api_run(client, live)
    headers = [("Origin", live.site_url), *((f"X-{i}", "") for i in range(1500))]
    answer = client.get(run["target"], headers=headers)
    assert answer.status_code == 200
    stored = live.call(live.playground.store.run(run["run_id"]))
    assert stored is not None and stored.exchanges_size <= EXCHANGE_BUDGET
    leg = client.get(f"{live.site_url}/api/runs/{run['run_id']}").json()["exchanges"][0]
    assert ["origin", live.site_url] in leg["request"]["headers"]
    assert "headers left out" in leg["note"]
    pages = (f"{live.site_url}/runs/{run['run_id']}", f"{live.api_url}/console/{run['session']}")
    for page in pages:
        assert "headers left out" in client.get(page).text


# HTTP Archives that are not what they claim, uploaded as a form's file or as the body.
HAR_CLASSES: list[tuple[str, bytes]] = [
    ("an archive that is not JSON", b"{\"log\": {\"entries\": [}"),
    ("an archive without a log", b'{"entries": []}'),
    ("an archive whose entries are not a list", b'{"log": {"entries": "many"}}'),
    ("entries of every wrong shape", json.dumps({"log": {"entries": [
        None, 1, "x", [], {"request": None}, {"request": {"url": 5}},
        {"request": {"method": "GET", "url": "http://a.test/", "headers": [None, 1]},
         "response": {"status": 10**30, "headers": {"a": 1}}},
    ]}}).encode()),
    ("an archive nested deeply", b'{"log": {"entries": ' + b"[" * 50_000 + b"]" * 50_000 + b"}}"),
    (
        "an archive of a lone surrogate",
        b'{"log": {"entries": [], "creator": {"name": "\\ud800"}}}',
    ),
    (
        "an archive past the size limit",
        b'{"log": {"entries": [], "pad": "' + b"x" * (9 << 20) + b'"}}',
    ),
    ("an archive of too many entries", json.dumps({"log": {"entries": [{}] * 6000}}).encode()),
]


@pytest.mark.parametrize("name, data", HAR_CLASSES, ids=[c[0] for c in HAR_CLASSES])
def test_each_bad_archive_gets_a_clear_refusal(
    client: httpx.Client, live: BackgroundServer, name: str, data: bytes
) -> None:
    sid = new_session(client, live)
    url = f"{live.site_url}/sessions/{sid}/troubleshoot/har"
    as_body = client.post(url, content=data, headers={"content-type": "application/json"})
    as_file = client.post(url, files={"har": ("upload.har", data, "application/octet-stream")})
    for answer in (as_body, as_file):
        assert_answered_well(answer, name)
        assert answer.status_code in (200, 400, 413), (name, answer.status_code)


def test_a_multipart_form_that_is_not_one_is_refused(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    url = f"{live.site_url}/sessions/{sid}/troubleshoot/har"
    for content_type, body in (
        ("multipart/form-data", b"--x\r\n"),
        ("multipart/form-data; boundary=x", b"garbage without parts"),
        (
            "multipart/form-data; boundary=x",
            b"--x\r\nContent-Disposition: form-data\r\n\r\n1\r\n--x--",
        ),
    ):
        answer = client.post(url, content=body, headers={"content-type": content_type})
        assert_answered_well(answer, content_type)
        assert answer.status_code == 400


# Host headers a browser never sends: each origin, the recording target included, refuses them
# with a 400 that says why (the page would otherwise claim an origin that is not a host).
BAD_HOSTS: list[bytes] = [
    b"a b",
    b"laptop.local:99999",
    b"laptop.local:",
    b"laptop.local:http",
    b"[::1",
    b"[::1]x",
    b"[not-ipv6]:80",
    b"::1",
    b"300.1.1.1",
    b"1.2.3",
    b"<script>alert(1)</script>",
    b"user@laptop.local",
    b"laptop.local/path",
    b"x" * 64 + b".local",
    b"a." * 130 + b"b",
    "évil.example".encode(),
    b"a..b",
    b"",
]


def raw_get(port: int, path: str, host_lines: list[bytes]) -> tuple[int, bytes]:
    """Status and body of one GET with exactly these Host header lines, on a new connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        head = b"GET " + path.encode() + b" HTTP/1.1\r\n"
        head += b"".join(b"Host: " + h + b"\r\n" for h in host_lines)
        conn.sendall(head + b"Connection: close\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    return status, answer.partition(b"\r\n\r\n")[2]


def test_malformed_host_headers_are_refused_on_both_origins(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    run = create_api_run(client, live)
    site, api = live.settings.site_port, live.settings.api_port
    places = [
        (site, f"/sessions/{sid}"),
        (site, f"/sessions/{sid}/events"),
        (api, f"/console/{sid}"),
        (api, f"/r/{run['run_id']}"),
    ]
    for port, path in places:
        for host in BAD_HOSTS:
            status, body = raw_get(port, path, [host])
            assert status == 400, (host, path, status, body[:200])
            assert b"Host" in body, (host, path, body[:200])
        good = f"localhost:{port}".encode()
        assert raw_get(port, path, [good, b"laptop.local"])[0] == 400, path  # two Host lines
        assert raw_get(port, path.replace("/events", ""), [good])[0] == 200, path


def test_a_share_link_with_an_unknown_target_or_engine_says_so(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    for params in ({"target": "far", "engine": "x"}, {"target": "\u0000", "engine": "<b>"}):
        page = client.get(f"{live.site_url}/sessions/{sid}", params={**params, "run": "1"})
        assert page.status_code == 400
        assert "target must be one of same, cross; engine must be one of" in page.text
        assert 'data-autorun=""' in page.text  # a refused link sends nothing


# Where a reopened event stream resumes: ?since= is refused when it is not an event id;
# Last-Event-ID, which the browser sends back as it got it, is ignored then (a new stream).
BAD_SINCE = ["-1", "abc", "1e3", "9" * 16, "9" * 5000, "", "0x10", "1.5", "\u0661"]


def test_a_malformed_resume_point_is_refused_naming_since(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    for url in (f"{live.site_url}/sessions/{sid}/events", f"{live.api_url}/console/{sid}/events"):
        for since in BAD_SINCE:
            answer = client.get(url, params={"since": since})
            assert answer.status_code == 422, (url, since)
            assert readable(answer).startswith("since: "), answer.text
        for last in ("abc", "-1", "9" * 5000, "1 2"):
            with client.stream("GET", url, headers={"Last-Event-ID": last}) as stream:
                assert stream.status_code == 200, (url, last)


# --- generated hostile documents -------------------------------------------------------------


def _hostile_strings(rng: random.Random) -> str:
    pieces = [
        "\ud800",
        "\udfff",
        "\x00",
        "\r\n",
        "é",
        "𝄞",
        "<script>",
        "%",
        "\\",
        '"',
        "A" * rng.choice((0, 1, 127, 128, 129, 2049, 70_000)),
        str(rng.getrandbits(64)),
    ]
    return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 4)))


def _hostile_value(rng: random.Random, depth: int = 0) -> object:
    choice = rng.randint(0, 9 if depth < 3 else 5)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice((True, False))
    if choice == 2:
        return rng.choice((0, -1, 2**63, 10**400, 1.5, float("1e308")))
    if choice <= 5:
        return _hostile_strings(rng)
    if choice <= 7:
        return [_hostile_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = ["request", "response", "preflight_response", "headers", "status", "method", "body",
            "credentials", "mode", "origin", "url", "outcome", "error", "browser", "id", "run_id",
            "redirect", "hops", "sequence", "at", "scenario"]
    return {rng.choice(keys): _hostile_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def _hostile_form(rng: random.Random) -> bytes:
    names = ["method", "rq_name", "rq_value", "pf_name", "pf_value", "rs_name", "rs_value",
             "pf_status", "rs_status", "body", "has_body", "credentials", "mode", "target",
             "engine", "series", "status", "destination", "allow", "choice", "action", "samesite",
             "case", "rule", "allowed", "trusted", "where", "row_name", "row_value"]
    fields = []
    for _ in range(rng.randint(0, 12)):
        text = _hostile_strings(rng)
        if rng.random() < 0.2:  # raw bytes, not percent-encoded
            value = text.encode("utf-8", "surrogatepass").replace(b"&", b"%26")
        else:
            value = quote(text, safe="", errors="surrogatepass").encode()
        fields.append(rng.choice(names).encode() + b"=" + value)
    return b"&".join(fields)


def generated_inputs(count: int, seed: int = 9) -> Iterator[tuple[int, Callable[[Target], bytes]]]:
    rng = random.Random(seed)
    for index in range(count):
        doc = _hostile_value(rng)
        form = _hostile_form(rng)
        raw = json.dumps(doc).encode()

        def body(target: Target, raw: bytes = raw, form: bytes = form) -> bytes:
            return raw if target.kind == "json" else form

        yield index, body


def test_generated_hostile_inputs_never_get_a_server_error_or_a_reset(
    client: httpx.Client, targets: list[Target]
) -> None:
    for index, body in generated_inputs(HOSTILE_COUNT):
        target = targets[index % len(targets)]
        try:
            response = post_raw(client, target, body(target))
        except httpx.TransportError as exc:  # a reset or a dropped connection
            pytest.fail(f"input {index} to {target.name}: {exc!r}")
        assert_answered_well(response, f"input {index} to {target.name}")


# --- the attack lab -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "field"),
    [({"case": "everything"}, "case"),
     ({"case": "custom", "rule": "yes"}, "rule"),
     ({"case": "custom", "rule": "list", "allowed": "http://a.example/path"}, "allowed"),
     ({"case": "custom", "rule": "list", "allowed": "null " * 9}, "allowed"),
     ({"case": "custom", "rule": "prefix", "trusted": ""}, "trusted"),
     ({"case": "custom", "rule": "suffix", "trusted": "a\u0000"}, "trusted"),
     ({"case": "custom", "rule": "any", "row_name": "X A", "row_value": "1"}, "rows[0].name"),
     ({"case": "custom", "rule": "any", "row_name": "X-A", "row_value": "a\rb"}, "rows[0].value"),
     ({"case": "custom", "rule": "any", "row_name": ["X-A", "X-B"], "row_value": "1"}, "rows"),
     ({"case": "reflect", "where": "elsewhere"}, "where")],
)  # fmt: skip
def test_a_bad_attack_policy_is_refused_naming_the_field(
    client: httpx.Client, live: BackgroundServer, form: dict[str, object], field: str
) -> None:
    sid = new_session(client, live)
    attack_of(client, live, sid)
    answer = client.post(
        f"{live.site_url}/sessions/{sid}/attack/policy",
        data=form,
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field, answer.text


def test_the_attacker_s_report_refuses_what_is_not_one_of_its_attempts(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    aid = attack_of(client, live, sid)
    other = attack_of(client, live, new_session(client, live))
    attacker = live.settings.attacker_url
    mine = client.post(f"{attacker}/a/{aid}/rounds").json()["attempts"][0]["run_id"]
    theirs = client.post(f"{attacker}/a/{other}/rounds").json()["attempts"][0]["run_id"]
    report = f"{attacker}/a/{aid}/report"
    good = {"outcome": "blocked", "status": None, "headers": [], "body": None, "error": "x"}
    for run_id in (theirs, 12, None, SURROGATE, "x" * 5000):
        raw = json.dumps({**good, "run_id": run_id}).encode()
        answer = client.post(report, content=raw, headers={"content-type": "application/json"})
        assert answer.status_code in (404, 422), (run_id, answer.text)
        assert_answered_well(answer, str(run_id)[:20])
    assert client.post(report, json={**good, "run_id": mine}).status_code == 200
    twice = client.post(report, json={**good, "run_id": mine})
    assert twice.status_code == 409 and "already" in readable(twice)
    assert client.post(report, json={**good, "run_id": mine, "outcome": "stolen"}).status_code in (
        409,
        422,
    )
    # Nothing it refused reached the attacker's log.
    found = live.call(live.playground.attacks.get(aid))
    assert found is not None and [entry.run_id for entry in found.log] == [mine]


def test_a_bad_attack_question_or_round_is_refused_naming_it(
    client: httpx.Client, live: BackgroundServer
) -> None:
    """A room's attack question names one of the attacks; a round made for it is a number of
    that attack's (on the victim's login, the attacker's page and its round)."""
    site = live.site_url
    room = client.post(f"{site}/api/rooms", json={"title": "hostile"}).json()
    for value in ("x", 5, None, SURROGATE, "reflect-page\n", ["reflect-page"], "x" * 5000):
        raw = json.dumps({"source": "attack", "attack": value}).encode()
        answer = client.post(f"{site}{room['host_api']}/questions", content=raw,
                             headers={"content-type": "application/json"})  # fmt: skip
        assert answer.status_code == 422, (value, answer.text)
        assert_answered_well(answer, str(value)[:20])
        assert answer.json()["error"]["field"] == "attack", answer.text
    aid = attack_of(client, live, new_session(client, live))
    api, attacker = live.api_url, live.settings.attacker_url
    for value, status in (("abc", 422), ("1.5", 422), ("", 422), ("-1", 404), ("7", 404),
                          ("9" * 40, 404), ("%ED%A0%80", 422)):  # fmt: skip
        sent = value if value.startswith("%") else quote(value)  # a lone surrogate's bytes
        for url in (f"{attacker}/a/{aid}?round={sent}", f"{attacker}/a/{aid}/rounds/{sent}",
                    f"{api}/victim/{aid}/login?go=attacker&round={sent}"):  # fmt: skip
            if value == "" and "/rounds/" in url:
                continue  # that is the rounds list's own address
            answer = client.get(url, follow_redirects=False)
            assert answer.status_code == status, (url, answer.status_code)
            assert_answered_well(answer, url)
    assert live.call(live.playground.attacks.get(aid)).rounds_started == 0  # type: ignore[union-attr]


def test_an_invented_attack_id_is_refused_on_every_origin_and_creates_nothing(
    client: httpx.Client, live: BackgroundServer
) -> None:
    invented = new_id()
    api, attacker = live.api_url, live.settings.attacker_url
    pg = live.playground
    before = (live.call(pg.store.session_count()), live.call(pg.attacks.count()))
    routes = [
        ("GET", f"{api}/victim/{invented}/login"),
        ("GET", f"{api}/victim/{invented}/logout"),
        ("GET", f"{api}/victim/{invented}/account/{new_id()}"),
        ("OPTIONS", f"{api}/victim/{invented}/account/{new_id()}"),
        ("GET", f"{attacker}/a/{invented}"),
        ("GET", f"{attacker}/a/{invented}/log"),
        ("GET", f"{attacker}/a/{invented}/frame/{new_id()}"),
        ("POST", f"{attacker}/a/{invented}/rounds"),
        ("GET", f"{attacker}/a/{invented}/rounds/1"),
        ("GET", f"{attacker}/a/{invented}?round=1"),
        ("POST", f"{attacker}/a/{invented}/report"),
        ("GET", f"{live.site_url}/sessions/{invented}/attack"),
        ("POST", f"{live.site_url}/sessions/{invented}/attack/fix"),
    ]
    for method, url in routes:
        answer = client.request(method, url, follow_redirects=False)
        assert answer.status_code == 404, (method, url, answer.status_code)
        assert "expired or never existed" in readable(answer), (method, url)
    after = (live.call(pg.store.session_count()), live.call(pg.attacks.count()))
    assert after == before


def test_malformed_host_headers_are_refused_on_the_attacker_s_origin(
    client: httpx.Client, live: BackgroundServer
) -> None:
    aid = attack_of(client, live, new_session(client, live))
    port = live.settings.attacker_port
    for host in BAD_HOSTS:
        status, body = raw_get(port, f"/a/{aid}", [host])
        assert status == 400 and b"Host" in body, (host, status)
    assert raw_get(port, f"/a/{aid}", [f"localhost:{port}".encode()])[0] == 200
