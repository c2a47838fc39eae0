"""The two origins over real HTTP: JSON API shapes, the recording target, escaping, CSP,
session isolation, share links and validation messages (never a 500)."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import socket
import threading
from html import unescape
from html.parser import HTMLParser

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.web.app import create_app
from app.web.config import Settings
from app.web.server import BackgroundServer
from tests.web.conftest import new_session

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def create_run(client: httpx.Client, live: BackgroundServer, scenario: dict, **params: str) -> dict:
    response = client.post(f"{live.site_url}/api/runs", json=scenario, params=params)
    assert response.status_code == 201, response.text
    return response.json()


def share(scenario: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(scenario).encode()).decode().rstrip("=")


# --- JSON API --------------------------------------------------------------------------------


def test_explain_returns_the_prediction_format(
    client: httpx.Client, live: BackgroundServer
) -> None:
    scenario = {"id": "put", "request": {"method": "PUT", "headers": [["X-Token", "1"]]}}
    response = client.post(f"{live.site_url}/api/explain", json=scenario)
    assert response.status_code == 200
    prediction = response.json()
    assert prediction["id"] == "put" and prediction["preflight"] is True
    for key in ("preflight_reasons", "preflight_request", "actual_request_sent", "outcome",
                "blocked_by", "readable_headers", "steps"):  # fmt: skip
        assert key in prediction


def test_explain_takes_an_array_and_keeps_order(
    client: httpx.Client, live: BackgroundServer
) -> None:
    docs = [{"id": "a"}, {"id": "b", "request": {"method": "TRACE"}}]
    response = client.post(f"{live.site_url}/api/explain", json=docs)
    assert [p["id"] for p in response.json()] == ["a", "b"]
    assert response.json()[1]["outcome"] == "error"


def chain(site: str) -> dict:
    """A PUT that a 307 sends to another host, which allows it (a whole fetch of v2)."""
    allow = [["Access-Control-Allow-Origin", "*"], ["Access-Control-Allow-Methods", "PUT"]]
    return {
        "id": "chain",
        "origin": site,
        "url": "http://127.0.0.1:9/a",
        "request": {"method": "PUT", "body": "x", "redirect": "follow"},
        "preflight_response": {"status": 204, "headers": allow},
        "response": {"status": 307, "headers": [["Location", "http://localhost:9/b"],
                                                ["Access-Control-Allow-Origin", "*"]]},
        "hops": [{"url": "http://localhost:9/b", "preflight_response": {"headers": allow},
                  "response": {"headers": [["Access-Control-Allow-Origin", "*"]]}}],
    }  # fmt: skip


def cached_pair() -> dict:
    """Two PUTs one second apart: the first preflight's answer is cached for 60 seconds."""
    allow = [["Access-Control-Allow-Origin", "*"], ["Access-Control-Allow-Methods", "PUT"],
             ["Access-Control-Max-Age", "60"]]  # fmt: skip
    fetch = {"request": {"method": "PUT"}, "preflight_response": {"headers": allow},
             "response": {"headers": [["Access-Control-Allow-Origin", "*"]]}}  # fmt: skip
    return {"id": "pair", "sequence": [{"at": 0, "scenario": fetch}, {"at": 1, "scenario": fetch}]}


def test_explain_follows_a_whole_fetch_leg_by_leg(
    client: httpx.Client, live: BackgroundServer
) -> None:
    for browser in ("chromium", "firefox", "webkit"):
        response = client.post(
            f"{live.site_url}/api/explain", json=chain(live.site_url), params={"browser": browser}
        )
        assert response.status_code == 200, response.text
        prediction = response.json()
        assert prediction["outcome"] == "allowed" and prediction["redirected"] is True
        assert prediction["response_url"] == "http://localhost:9/b"
        kinds = [(leg["kind"], leg["url"]) for leg in prediction["legs"]]
        first, then = "http://127.0.0.1:9/a", "http://localhost:9/b"
        assert kinds == [("preflight", first), ("actual", first),
                         ("preflight", then), ("actual", then)]  # fmt: skip


def test_explain_predicts_a_sequence_with_its_preflight_cache(
    client: httpx.Client, live: BackgroundServer
) -> None:
    response = client.post(f"{live.site_url}/api/explain", json=cached_pair())
    assert response.status_code == 200, response.text
    fetches = response.json()["sequence"]
    assert [f["preflight"] for f in fetches] == [True, False]
    assert fetches[1]["preflight_cache"] is not None
    both = client.post(f"{live.site_url}/api/explain", json=[cached_pair(), {"id": "one"}])
    assert [("sequence" in p) for p in both.json()] == [True, False]


def test_explain_names_the_field_of_a_bad_hop_or_fetch(
    client: httpx.Client, live: BackgroundServer
) -> None:
    bad_hop = chain(live.site_url)
    bad_hop["hops"][0]["response"]["headers"] = [["X-A", "a\r\nb"]]
    error = client.post(f"{live.site_url}/api/explain", json=bad_hop).json()["error"]
    assert error["field"] == "hops[0].response.headers[0].value", error
    bad_fetch = cached_pair()
    bad_fetch["sequence"][1]["scenario"] = {"request": {"headers": [["X Bad", "1"]]}}
    response = client.post(f"{live.site_url}/api/explain", json=bad_fetch)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "sequence[1].scenario.request.headers[0].name"


def test_a_run_is_one_fetch_and_says_so(client: httpx.Client, live: BackgroundServer) -> None:
    for doc, field in ((cached_pair(), "sequence"), (chain(live.site_url), "hops")):
        response = client.post(f"{live.site_url}/api/runs", json=doc)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["field"] == field and "/api/explain" in error["message"]


@pytest.mark.parametrize(
    ("scenario", "field", "words"),
    [
        ({"request": {"headers": [["X Bad", "1"]]}}, "request.headers[0].name", "token"),
        ({"request": {"headers": [["X-A", "a\r\nb"]]}}, "request.headers[0].value", "(CR)"),
        ({"request": {"headers": [["X-A", "a\u0000b"]]}}, "request.headers[0].value", "NUL"),
        ({"request": {"headers": [["X-A", "a\u0007b"]]}}, "request.headers[0].value", "control"),
        ({"request": {"headers": [["X-A", "日本"]]}}, "request.headers[0].value", "Latin-1"),
        ({"request": {"headers": [["X-A", "v"]] * 40}}, "request.headers", "too many"),
        ({"request": {"headers": [["X-A", "v" * 5000]]}}, "request.headers[0].value", "too long"),
        ({"request": {"body": "b" * 70000}}, "request.body", "too large"),
        ({"response": {"headers": [["X-A", "a\nb"]]}}, "response.headers[0].value", "(LF)"),
        ({"response": {"status": 1000}}, "response.status", "200 to 599"),
        ({"reqest": {"method": "PUT"}}, "reqest", "unknown key 'reqest' (did you mean 'request'?)"),
        ({"preflight_respnse": {}}, "preflight_respnse", "did you mean 'preflight_response'?"),
        ({"response": {"header": []}}, "response.header", "did you mean 'headers'?"),
        ({"origin": "localhost:8000"}, "origin", "did you mean 'http://localhost:8000'?"),
        ({"origin": "http://localhost:8000/"}, "origin", "has a path"),
    ],
)  # fmt: skip
def test_bad_input_is_a_422_naming_the_field(
    client: httpx.Client, live: BackgroundServer, scenario: dict, field: str, words: str
) -> None:
    for path in ("/api/explain", "/api/runs"):
        response = client.post(f"{live.site_url}{path}", json=scenario)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["field"] == field and words in error["message"]


def test_malformed_and_oversized_bodies_are_4xx(
    client: httpx.Client, live: BackgroundServer
) -> None:
    url = f"{live.site_url}/api/explain"
    assert client.post(url, content=b"{nope").status_code == 400
    assert client.post(url, content=b"\xff\xfe").status_code == 400
    assert client.post(url, content=b"[" * 100000 + b"]" * 100000).status_code in (400, 413)
    assert client.post(url, content=b"x" * (2 * 1024 * 1024)).status_code == 413
    assert client.post(url, json=[{}] * 201).status_code == 413
    assert client.post(url, json={}, params={"browser": "netscape"}).status_code == 400


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    doc=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
            st.sampled_from(["request", "response", "preflight_response", "headers", "method",
                             "status", "body", "credentials", "mode", "id", "origin", "url",
                             "redirect", "hops", "sequence", "at", "scenario"]),
            inner, max_size=5),
        max_leaves=12,
    )
)  # fmt: skip
def test_no_document_makes_a_500(live: BackgroundServer, doc: object) -> None:
    with httpx.Client(timeout=10) as client:
        for path in ("/api/explain", "/api/runs"):
            response = client.post(f"{live.site_url}{path}", json=doc)
            assert response.status_code < 500, response.text


def test_run_json_shape_and_the_target_answers_exactly(
    client: httpx.Client, live: BackgroundServer
) -> None:
    scenario = {
        "request": {"method": "PUT", "headers": [["X-Token", "abc"]], "body": "hello"},
        "preflight_response": {"status": 204, "headers": [
            ["Access-Control-Allow-Origin", "*"], ["Access-Control-Allow-Headers", "x-token"]]},
        "response": {"status": 201, "headers": [["Access-Control-Allow-Origin", "*"],
                                                ["Access-Control-Allow-Origin", "*"],
                                                ["X-Request-Id", "42"]]},
    }  # fmt: skip
    created = create_run(client, live, scenario)
    assert set(created) >= {"run_id", "session", "target", "run", "prediction"}
    target = created["target"]
    assert target.startswith(live.api_url + "/r/")
    preflight = client.request("OPTIONS", target, headers={
        "Origin": live.site_url, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "x-token"})  # fmt: skip
    assert preflight.status_code == 204 and preflight.content == b""
    assert preflight.headers.raw == [(b"Access-Control-Allow-Origin", b"*"),
                                     (b"Access-Control-Allow-Headers", b"x-token")]  # fmt: skip
    actual = client.put(
        target, content=b"hello", headers={"Origin": live.site_url, "X-Token": "abc"}
    )
    assert actual.status_code == 201
    names = [name for name, _ in actual.headers.raw]
    assert names == [b"Access-Control-Allow-Origin", b"Access-Control-Allow-Origin",
                     b"X-Request-Id", b"Content-Length"]  # fmt: skip
    run = client.get(f"{live.site_url}{created['run']}").json()
    assert set(run) >= {"scenario", "prediction", "exchanges", "browser_result", "agreement"}
    kinds = [e["kind"] for e in run["exchanges"]]
    assert kinds == ["preflight", "actual"]
    received = run["exchanges"][1]["request"]
    assert received["method"] == "PUT" and received["body_size"] == 5
    assert ["x-token", "abc"] in received["headers"]
    assert run["exchanges"][1]["response"]["status"] == 201
    assert run["browser_result"] is None and run["agreement"] is None
    assert run["observed"]["preflight_request"] == {
        "access-control-request-method": "PUT",
        "access-control-request-headers": "x-token",
    }


def test_lowercase_methods_reach_the_target_unchanged(
    client: httpx.Client, live: BackgroundServer
) -> None:
    created = create_run(client, live, {"request": {"method": "patch"}})
    path = created["target"].removeprefix(live.api_url)
    with socket.create_connection(("127.0.0.1", live.settings.api_port), timeout=5) as sock:
        sock.sendall(f"patch {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode())
        assert sock.recv(100).startswith(b"HTTP/1.1 200 ")
    run = client.get(f"{live.site_url}{created['run']}").json()
    assert run["exchanges"][0]["request"]["method"] == "patch"


def test_no_body_on_204_and_unknown_runs_are_404(
    client: httpx.Client, live: BackgroundServer
) -> None:
    created = create_run(client, live, {"response": {"status": 204}})
    response = client.get(created["target"])
    assert response.status_code == 204 and "content-length" not in response.headers
    assert client.get(f"{live.api_url}/r/unknownrunid0000000").status_code == 404
    missing = client.get(f"{live.site_url}/api/runs/unknownrunid0000000")
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "run"


def test_browser_result_is_compared_with_the_prediction(
    client: httpx.Client, live: BackgroundServer
) -> None:
    created = create_run(
        client, live, {"response": {"headers": [["Access-Control-Allow-Origin", "*"]]}}
    )
    client.get(created["target"], headers={"Origin": live.site_url})
    url = f"{live.site_url}/runs/{created['run_id']}/result"
    bad = client.post(url, json={"outcome": "fine"})
    assert bad.status_code == 422
    answer = client.post(url, json={"outcome": "allowed", "status": 200, "headers": [],
                                    "body": "", "error": None},
                         headers={"User-Agent": "Mozilla/5.0 Firefox/153.0"})  # fmt: skip
    assert answer.status_code == 200 and "card" in answer.json()
    run = client.get(f"{live.site_url}{created['run']}").json()
    assert run["browser_result"]["outcome"] == "allowed"
    assert run["browser_result"]["browser"] == "Firefox 153"
    assert isinstance(run["agreement"], bool)
    assert client.post(url, json={"outcome": "allowed"}).status_code == 409


# --- pages: escaping, CSP, sessions ------------------------------------------------------------


class ScriptFinder(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would refuse, as the browser parses it."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = [name for name, _ in attrs]
        if tag in ("script", "svg", "img") and (tag != "script" or "src" not in names):
            self.found.append(tag)
        self.found += [name for name in names if name.startswith("on") or name == "style"]


def inline_scripts(html: str) -> list[str]:
    finder = ScriptFinder()
    finder.feed(html)
    return finder.found


def test_both_origins_send_a_csp_without_inline_scripts(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    for url in (f"{live.site_url}/sessions/{sid}", f"{live.api_url}/console/{sid}",
                f"{live.api_url}/", f"{live.site_url}/api"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200
        csp = response.headers["content-security-policy"]
        assert (
            "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        )
        assert inline_scripts(response.text) == []


def test_hostile_header_text_is_escaped_everywhere(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    scenario = {"id": HOSTILE, "request": {"headers": [["X-Evil", HOSTILE]]},
                "response": {"headers": [["X-Evil", HOSTILE]]}}  # fmt: skip
    created = create_run(client, live, scenario, session=sid)
    client.get(created["target"], headers={"X-Evil": HOSTILE, "X-Other": '"><svg onload=x>'})
    client.post(f"{live.site_url}/runs/{created['run_id']}/result",
                json={"outcome": "allowed", "status": 200, "headers": [["x-evil", HOSTILE]],
                      "body": HOSTILE, "error": None})  # fmt: skip
    pages = [
        client.get(f"{live.site_url}/sessions/{sid}").text,
        client.get(f"{live.site_url}/runs/{created['run_id']}").text,
        client.get(f"{live.api_url}/console/{sid}").text,
        client.get(f"{live.site_url}/sessions/{sid}", params={"s": share(scenario)}).text,
    ]
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html and "<svg" not in html
        assert inline_scripts(html) == []
    assert "&lt;script&gt;alert" in pages[0]


def test_a_learner_never_sees_another_sessions_runs(
    client: httpx.Client, live: BackgroundServer
) -> None:
    mine, theirs = new_session(client, live), new_session(client, live)
    created = create_run(client, live, {"id": "secret-run"}, session=theirs)
    client.get(created["target"])
    for url in (f"{live.site_url}/sessions/{mine}", f"{live.api_url}/console/{mine}"):
        assert created["run_id"] not in client.get(url).text
    assert created["run_id"] in client.get(f"{live.site_url}/sessions/{theirs}").text
    # Nor its live events: my stream stays silent while their run is answered.
    got: list[str] = []

    def listen() -> None:
        with (
            httpx.Client(timeout=3) as c,
            c.stream("GET", f"{live.site_url}/sessions/{mine}/events") as s,
        ):
            try:
                for line in s.iter_lines():
                    got.append(line)
            except httpx.ReadTimeout:
                pass

    thread = threading.Thread(target=listen)
    thread.start()
    other = create_run(client, live, {}, session=theirs)
    for _ in range(3):
        client.get(other["target"])
    thread.join()
    assert not any(other["run_id"] in line for line in got)
    assert any(line.startswith(": connected") for line in got)


def test_the_session_stream_delivers_each_leg_live(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    created = create_run(client, live, {}, session=sid)
    lines: list[str] = []
    ready = threading.Event()

    def listen() -> None:
        with (
            httpx.Client(timeout=5) as c,
            c.stream("GET", f"{live.site_url}/sessions/{sid}/events") as s,
        ):
            for line in s.iter_lines():
                lines.append(line)
                ready.set()
                if created["run_id"] in line:
                    return

    thread = threading.Thread(target=listen)
    thread.start()
    assert ready.wait(5)
    client.get(created["target"])
    thread.join(5)
    leg = next(line for line in lines if created["run_id"] in line)
    assert 'data-run-id="' + created["run_id"] in leg and "event: leg" in lines


def test_index_starts_a_session_and_keeps_the_share_link(
    client: httpx.Client, live: BackgroundServer
) -> None:
    response = client.get(f"{live.site_url}/?s=abc&run=1", follow_redirects=False)
    assert response.status_code == 303
    assert re.fullmatch(r"/sessions/[A-Za-z0-9_-]{22}\?s=abc&run=1", response.headers["location"])


def test_share_links_restore_the_composer(client: httpx.Client, live: BackgroundServer) -> None:
    sid = new_session(client, live)
    scenario = {"request": {"method": "DELETE", "headers": [["X-Token", "t1"]]},
                "response": {"status": 418}}  # fmt: skip
    html = client.get(f"{live.site_url}/sessions/{sid}", params={"s": share(scenario)}).text
    assert 'name="method" list="methods" value="DELETE"' in html
    assert '>X-Token</textarea>' in html  # a header name: a text area that wraps
    assert 'value="t1"' in html and 'value="418"' in html


def test_share_links_carry_whole_fetches_and_sequences(
    client: httpx.Client, live: BackgroundServer
) -> None:
    from app.cors import FetchSequence, Scenario
    from app.runs.share import decode_share, encode_share

    whole = Scenario.from_json(chain(live.site_url), default_origin="http://x.test", default_url="http://y.test/")
    assert Scenario.from_json(
        decode_share(encode_share(whole)), default_origin="http://x.test", default_url="http://y.test/"
    ) == whole
    sequence = FetchSequence.from_json(cached_pair(), default_origin="http://x.test", default_url="http://y.test/")
    assert FetchSequence.from_json(
        decode_share(encode_share(sequence)), default_origin="http://x.test", default_url="http://y.test/"
    ) == sequence
    sid = new_session(client, live)
    for doc in (chain(live.site_url), cached_pair()):
        page = client.get(f"{live.site_url}/sessions/{sid}", params={"s": share(doc)})
        assert page.status_code == 200 and "/api/explain" in page.text


def test_bad_share_links_say_why_next_to_the_field(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    broken = client.get(f"{live.site_url}/sessions/{sid}", params={"s": "%%%"})
    assert broken.status_code == 400 and "not a base64url scenario" in broken.text
    bad = {"request": {"headers": [["X-A", "a\r\nb"]]}}
    page = client.get(f"{live.site_url}/sessions/{sid}", params={"s": share(bad)})
    assert page.status_code == 400
    slot = re.search(r'id="m-f-request-headers-0-value"[^>]*>([^<]*)<', page.text)
    assert slot and "carriage return" in slot.group(1)


def share_link_of(html: str) -> str:
    found = re.search(r'id="share-link" href="([^"]+)"', html)
    assert found, "no share link"
    return found.group(1).replace("&amp;", "&")


def allowed_origins(html: str) -> list[str]:
    """The Access-Control-Allow-Origin values the composer's answer rows hold."""
    rows = re.findall(
        r'<textarea class="name"[^>]*>([^<]*)</textarea>\s*<label[^>]*>[^<]*</label>\s*'
        r'<input class="value"[^>]*value="([^"]*)"',
        html,
    )
    return [value for name, value in rows if name == "Access-Control-Allow-Origin"]


def test_a_share_link_keeps_its_experiment_under_another_host_name(
    client: httpx.Client, live: BackgroundServer
) -> None:
    """Made on localhost with the cross-site target and Firefox's engine, opened on
    127.0.0.1: Allow-Origin is the new page's origin, the target and engine are kept."""
    site = live.settings.site_port
    sid = new_session(client, live)
    made = client.get(
        f"http://localhost:{site}/sessions/{sid}", params={"target": "cross", "engine": "firefox"}
    )
    assert made.status_code == 200
    assert allowed_origins(made.text) == [f"http://localhost:{site}"] * 2
    link = share_link_of(made.text)
    assert "target=cross" in link and "engine=firefox" in link
    encoded = link.split("s=")[1].split("&")[0]
    assert b'"{page-origin}"' in base64.urlsafe_b64decode(encoded + "==")

    opened = client.get(f"http://127.0.0.1:{site}{link}", follow_redirects=True)
    assert opened.status_code == 200
    html = opened.text
    assert allowed_origins(html) == [f"http://127.0.0.1:{site}"] * 2
    assert re.search(r'<option value="cross" selected>', html)
    assert '<option value="firefox" selected>' in html
    assert "(engine profile: firefox)" in html
    assert share_link_of(html) == link.replace(f"/sessions/{sid}", "/")  # same link again

    # The live fragment's link says the same for what the form holds.
    form = {
        "method": "GET",
        "rs_name": "Access-Control-Allow-Origin",
        "rs_value": f"http://127.0.0.1:{site}",
        "target": "cross",
        "engine": "webkit",
    }
    fragment = client.post(f"http://127.0.0.1:{site}/sessions/{sid}/explain", data=form)
    again = client.get(
        f"http://localhost:{site}{share_link_of(fragment.text)}", follow_redirects=True
    )
    assert allowed_origins(again.text) == [f"http://localhost:{site}"]
    assert '<option value="webkit" selected>' in again.text


def test_a_link_with_a_literal_origin_keeps_it(
    client: httpx.Client, live: BackgroundServer
) -> None:
    """Links made before the placeholder, or on purpose, say exactly what they say."""
    sid = new_session(client, live)
    scenario = {"response": {"headers": [["Access-Control-Allow-Origin", "http://a.example"]]}}
    html = client.get(f"{live.site_url}/sessions/{sid}", params={"s": share(scenario)}).text
    assert allowed_origins(html) == ["http://a.example"]


@pytest.mark.parametrize(
    ("doc", "words"),
    [({"reqest": {"method": "PUT"}}, "reqest: unknown key 'reqest' (did you mean 'request'?)"),
     ({"origin": "localhost:8000"}, "origin: 'localhost:8000' has no scheme")],
)  # fmt: skip
def test_share_links_with_an_unknown_key_or_a_bad_origin_say_so(
    client: httpx.Client, live: BackgroundServer, doc: dict, words: str
) -> None:
    sid = new_session(client, live)
    page = client.get(f"{live.site_url}/sessions/{sid}", params={"s": share(doc)})
    assert page.status_code == 400
    assert words in unescape(page.text)


def test_the_composer_fragment_and_send_share_one_message(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    form = {"method": "GET", "rq_name": "X Bad", "rq_value": "1", "rs_status": "200"}
    fragment = client.post(f"{live.site_url}/sessions/{sid}/explain", data=form)
    assert fragment.status_code == 200
    assert 'data-field="f-request-headers-0-name"' in fragment.text and "token" in fragment.text
    send = client.post(f"{live.site_url}/sessions/{sid}/runs", data=form)
    assert send.status_code == 422
    assert send.json()["error"]["field"] == "request.headers[0].name"
    good = client.post(f"{live.site_url}/sessions/{sid}/runs", data={**form, "rq_name": "X-Ok"})
    assert good.status_code == 201
    assert set(good.json()) >= {"run_id", "target", "init", "card"}
    assert good.json()["init"]["headers"] == [["X-Ok", "1"]]


def test_the_api_origin_follows_the_pages_host(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    site_port = live.settings.site_port
    api_port = live.settings.api_port
    page = client.get(f"http://127.0.0.1:{site_port}/sessions/{sid}").text
    assert f"API origin: <code>http://127.0.0.1:{api_port}</code>" in page
    page = client.get(f"http://localhost:{site_port}/sessions/{sid}").text
    assert f"API origin: <code>http://localhost:{api_port}</code>" in page
    # Any other name that reaches the playground is the page's own (tests/web/test_origins.py).
    lan = client.get(
        f"http://127.0.0.1:{site_port}/sessions/{sid}", headers={"Host": f"pc-7.lan:{site_port}"}
    )
    assert f"API origin: <code>http://pc-7.lan:{api_port}</code>" in lan.text


def test_sessions_and_streams_are_bounded() -> None:
    with (
        BackgroundServer(max_unused_sessions=3, subscribers_per_topic=1) as live,
        httpx.Client() as c,
    ):
        sids = [new_session(c, live) for _ in range(5)]
        assert live.call(live.playground.store.session_count()) == 3
        with c.stream("GET", f"{live.site_url}/sessions/{sids[-1]}/events") as first:
            assert first.status_code == 200
            second = c.get(f"{live.site_url}/sessions/{sids[-1]}/events")
            assert second.status_code == 429


def test_the_cross_site_target_uses_the_other_loopback_name(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    form = {"method": "GET", "target": "cross"}
    created = client.post(
        f"http://localhost:{live.settings.site_port}/sessions/{sid}/runs", data=form
    )
    assert created.status_code == 201
    assert created.json()["target"].startswith(f"http://127.0.0.1:{live.settings.api_port}/r/")


def test_the_api_page_and_openapi_document_the_json_api(
    client: httpx.Client, live: BackgroundServer
) -> None:
    page = client.get(f"{live.site_url}/api").text
    for path in ("/api/explain", "/api/runs", "/api/runs/{run_id}", "/r/{run_id}"):
        assert f"<code>{path}</code>" in page
    schema = client.get(f"{live.site_url}/openapi.json").json()
    assert {"/api/explain", "/api/runs", "/api/runs/{run_id}"} <= set(schema["paths"])


def test_the_cross_site_target_is_offered_only_on_loopback_names() -> None:
    """From a workshop's LAN address, "the other host name" would be each attendee's own
    computer: the composer offers the cross-site target only on localhost and 127.0.0.1."""
    async def composer(host: str) -> str:
        pg = create_app(Settings(host="192.0.2.7"))
        transport = httpx.ASGITransport(app=pg)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{host}:8000") as c:
            started = await c.get("/", follow_redirects=True)
            return started.text

    assert "(other host name: cross-site)" in asyncio.run(composer("localhost"))
    lan = asyncio.run(composer("192.0.2.7"))
    assert "(other host name: cross-site)" not in lan
    assert "open this page from localhost or 127.0.0.1" in lan
