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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest

from app.web.server import BackgroundServer
from tests.web.conftest import new_session

HOSTILE_COUNT = int(os.environ.get("HOSTILE_COUNT", "1500"))
SURROGATE = "a\ud800"


@dataclass
class Target:
    """A route that reads a body: where it is and how it is posted."""

    name: str
    url: str
    kind: str  # "json" or "form"


@pytest.fixture(scope="module")
def live() -> Iterator[BackgroundServer]:
    with BackgroundServer() as server:
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


@pytest.fixture(scope="module")
def targets(client: httpx.Client, live: BackgroundServer) -> list[Target]:
    sid = new_session(client, live)
    run = create_api_run(client, live)
    site = live.site_url
    return [
        Target("explain", f"{site}/api/explain", "json"),
        Target("api runs", f"{site}/api/runs", "json"),
        Target("result", f"{site}/runs/{run['run_id']}/result", "json"),
        Target("composer explain", f"{site}/sessions/{sid}/explain", "form"),
        Target("composer runs", f"{site}/sessions/{sid}/runs", "form"),
        Target("lab cache", f"{site}/sessions/{sid}/labs/cache/runs", "form"),
        Target("lab redirects", f"{site}/sessions/{sid}/labs/redirects/runs", "form"),
        Target("lab cookies", f"{site}/sessions/{sid}/labs/cookies/runs", "form"),
        Target("lesson answer", f"{site}/sessions/{sid}/lessons/simple-get/answer", "form"),
    ]


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


def test_a_lone_surrogate_is_refused_naming_the_field(
    client: httpx.Client, live: BackgroundServer
) -> None:
    doc = {"response": {"headers": [["X-A", SURROGATE]]}}
    answer = client.post(f"{live.site_url}/api/runs", content=json.dumps(doc).encode())
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "response.headers[0][1]"
    assert "lone surrogate" in answer.json()["error"]["message"]


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
            "credentials", "mode", "origin", "url", "outcome", "error", "browser", "id",
            "redirect", "hops", "sequence", "at", "scenario"]
    return {rng.choice(keys): _hostile_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def _hostile_form(rng: random.Random) -> bytes:
    names = ["method", "rq_name", "rq_value", "pf_name", "pf_value", "rs_name", "rs_value",
             "pf_status", "rs_status", "body", "has_body", "credentials", "mode", "target",
             "engine", "series", "status", "destination", "allow", "choice", "action", "samesite"]
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
