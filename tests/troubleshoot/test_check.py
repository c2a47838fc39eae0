"""``cors-playground check`` against real servers on loopback: Starlette's CORSMiddleware in
several configurations and the playground's own API origin. What is sent is what the engine
says a browser sends; what comes back is predicted; exit status 0 / 1 / 2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.cli import main
from app.cors import Scenario, predict
from app.troubleshoot.probe import USER_AGENT, CheckRequest, plan
from app.web.server import BackgroundServer
from tests.troubleshoot.servers import Servers, cors_servers


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    with cors_servers() as started:
        yield started


@pytest.fixture(scope="module")
def playground() -> Iterator[BackgroundServer]:
    with BackgroundServer() as live:
        yield live


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def check_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    status, out, _ = run(capsys, "check", "--json", *argv)
    return status, json.loads(out)


def test_an_allowed_simple_get_exits_0(servers: Servers, capsys) -> None:
    status, out, _ = run(capsys, "check", servers.url("strict"), "--origin", servers.page)
    assert status == 0, out
    assert "Preflight: no" in out
    assert out.count(": allowed;") == 3


def test_another_origin_is_blocked_with_the_check_console_and_fix(servers: Servers, capsys) -> None:
    status, out, _ = run(
        capsys,
        "check",
        servers.url("strict"),
        "--origin",
        "http://evil.test",
        "--browser",
        "chromium",
    )
    assert status == 1
    assert "BLOCKED (MissingAllowOriginHeader)" in out
    assert "console: Access to fetch at" in out
    assert "Add Access-Control-Allow-Origin: http://evil.test to the response." in out
    assert "FastAPI / Starlette CORSMiddleware" in out and "--- nginx" in out
    assert "Open it in the playground: http://localhost:8000/?s=" in out


def test_a_preflighted_put_sends_the_engines_preflight(servers: Servers, capsys) -> None:
    before = len(servers.seen("strict"))
    status, doc = check_json(
        capsys,
        servers.url("strict"),
        "--origin",
        servers.page,
        "-X",
        "PUT",
        "-H",
        "X-Token: 1",
        "--browser",
        "firefox",
    )
    assert status == 0
    result = doc["results"][0]
    assert [e["kind"] for e in result["exchanges"]] == ["preflight", "actual"]
    sent = dict(result["exchanges"][0]["headers"])
    assert sent["Access-Control-Request-Method"] == "PUT"
    assert sent["Access-Control-Request-Headers"] == "x-token"
    assert sent["Origin"] == servers.page
    seen = servers.seen("strict")[before:]
    assert [m for m, _ in seen] == ["PUT"]  # Starlette answers OPTIONS itself
    received = dict(seen[0][1])
    assert received["x-token"] == "1" and received["origin"] == servers.page
    assert result["predictions"]["firefox"]["outcome"] == "allowed"


def test_each_browser_group_sends_what_its_profile_builds() -> None:
    request = CheckRequest(
        "http://127.0.0.1:9/x", "http://a.test", "PUT", (("X-A", "1"), ("X-A", "2"))
    )
    probes = plan(request, ["chromium", "firefox", "webkit"])
    by_browser = {b: p for p in probes for b in p.browsers}
    planning = request.scenario()
    for browser, probe in by_browser.items():
        expected = predict(planning, browser).preflight_request
        assert expected is not None and probe.preflight is not None
        assert probe.preflight[: len(expected.headers)] == expected.headers
        assert probe.preflight[-1] == ("User-Agent", USER_AGENT)
    # Firefox names the header once per entry: its own probe.
    assert (
        dict(by_browser["firefox"].preflight or ())["Access-Control-Request-Headers"] == "x-a,x-a"
    )
    assert len(probes) == 2


def test_a_failing_preflight_stops_before_the_request(servers: Servers, capsys) -> None:
    before = len(servers.seen("strict"))
    status, out, _ = run(
        capsys,
        "check",
        servers.url("strict"),
        "--origin",
        servers.page,
        "-X",
        "DELETE",
    )
    assert status == 1
    assert "< 400 Bad Request" in out
    assert "Actual request: not sent" in out
    assert servers.seen("strict")[before:] == []  # no DELETE reached the application
    assert "PreflightInvalidStatus" in out or "MethodDisallowedByPreflightResponse" in out


def test_the_wildcard_fails_with_credentials(servers: Servers, capsys) -> None:
    status, doc = check_json(
        capsys,
        servers.url("wildcard"),
        "--origin",
        servers.page,
        "--credentials",
        "include",
    )
    assert status == 1
    predictions = doc["results"][0]["predictions"]
    assert {p["blocked_by"] for p in predictions.values()} == {"WildcardOriginNotAllowed"}


def test_credentials_allowed_and_exposed(servers: Servers, capsys) -> None:
    status, doc = check_json(
        capsys,
        servers.url("credentials"),
        "--origin",
        servers.page,
        "--credentials",
        "include",
        "-X",
        "PATCH",
        "-H",
        "Authorization: Bearer TOPSECRET9",
        "--cookie",
        "s=COOKIE9",
    )
    assert status == 0
    result = doc["results"][0]
    assert "x-secret" in result["predictions"]["chromium"]["readable_headers"]
    preflight, actual = result["exchanges"]
    # Credentials: never on the preflight; masked in the output; sent only when given.
    assert not {n.lower() for n, _ in preflight["headers"]} & {"cookie", "authorization"}
    assert dict(actual["headers"])["Authorization"] == "Bearer [masked]"
    assert dict(actual["headers"])["Cookie"] == "s=[masked]"
    assert "TOPSECRET9" not in json.dumps(doc) and "COOKIE9" not in json.dumps(doc)


def test_no_cookie_or_authorization_unless_given(servers: Servers, capsys) -> None:
    before = len(servers.seen("credentials"))
    status, _ = check_json(
        capsys, servers.url("credentials"), "--origin", servers.page, "--credentials", "include"
    )
    assert status == 0
    for _, headers in servers.seen("credentials")[before:]:
        assert not {n.lower() for n, _ in headers} & {"cookie", "authorization"}


def test_a_server_without_cors_blocks_everywhere(servers: Servers, capsys) -> None:
    status, doc = check_json(capsys, servers.url("none"), "--origin", servers.page)
    assert status == 1
    result = doc["results"][0]
    assert {p["blocked_by"] for p in result["predictions"].values()} == {"MissingAllowOriginHeader"}
    # The scenario is the documented format and carries the real answer.
    scenario = Scenario.from_json(result["scenario"])
    assert scenario.response.status == 200
    assert ("x-secret", "42") in scenario.response.headers


def test_the_share_link_opens_in_the_playground(
    servers: Servers, playground: BackgroundServer, capsys
) -> None:
    _, doc = check_json(
        capsys,
        servers.url("strict"),
        "--origin",
        servers.page,
        "-X",
        "PUT",
        "-H",
        "X-Token: 1",
        "--playground",
        playground.site_url,
    )
    share = doc["results"][0]["share"]
    assert share.startswith(playground.site_url + "/?s=")
    with httpx.Client(timeout=10, follow_redirects=True) as client:
        page = client.get(share)
    assert page.status_code == 200
    assert "Fix before sending" not in page.text


def test_the_playgrounds_own_api_origin(playground: BackgroundServer, capsys) -> None:
    """A run's target answers as its scenario says; check reads the same verdict back."""
    doc = {
        "request": {"method": "PUT", "headers": [["X-Token", "1"]]},
        "preflight_response": {
            "status": 204,
            "headers": [
                ["Access-Control-Allow-Origin", playground.site_url],
                ["Access-Control-Allow-Methods", "PUT"],
            ],
        },
        "response": {"status": 200, "headers": [["Access-Control-Allow-Origin", "*"]]},
    }
    with httpx.Client(timeout=10) as client:
        created = client.post(f"{playground.site_url}/api/runs", json=doc).json()
    status, out = check_json(
        capsys,
        created["target"],
        "--origin",
        playground.site_url,
        "-X",
        "PUT",
        "-H",
        "X-Token: 1",
        "--browser",
        "chromium",
    )
    assert status == 1
    prediction = out["results"][0]["predictions"]["chromium"]
    assert prediction["blocked_by"] == created["prediction"]["blocked_by"]
    assert prediction["blocked_by"] == "HeaderDisallowedByPreflightResponse"
    with httpx.Client(timeout=10) as client:
        run = client.get(f"{playground.site_url}{created['run']}").json()
    kinds = [e["kind"] for e in run["exchanges"]]
    assert kinds == ["preflight"]


def test_an_unreachable_server_exits_2_with_the_reason(capsys) -> None:
    with __import__("socket").socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    status, _, err = run(capsys, "check", f"http://127.0.0.1:{port}/", "--origin", "http://a.test")
    assert status == 2
    assert "cannot connect" in err


def test_a_timeout_exits_2(servers: Servers, capsys) -> None:
    status, _, err = run(
        capsys,
        "check",
        servers.url("wildcard", "/slow"),
        "--origin",
        servers.page,
        "--timeout",
        "0.5",
    )
    assert status == 2
    assert "no answer within 0.5 seconds" in err


def test_only_the_start_of_a_large_body_is_read(servers: Servers, capsys) -> None:
    status, doc = check_json(capsys, servers.url("wildcard", "/big"), "--origin", servers.page)
    assert status == 0
    response = doc["results"][0]["exchanges"][0]["response"]
    assert response["body_truncated"] is True and response["body_bytes"] == 64 * 1024


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ftp://x/", "--origin", "http://a.test"], "absolute http:// or https:// URL"),
        (["http://x/", "--origin", "http://a.test/"], "did you mean http://a.test?"),
        (["http://x/", "--origin", "a.test"], "scheme://host[:port]"),
        (["http://x/", "--origin", "http://a.test", "-H", "nocolon"], "'Name: value'"),
        (["http://x/", "--origin", "http://a.test", "-X", "BAD METHOD"], "not an HTTP method"),
        (["http://x/", "--origin", "http://a.test", "--cookie", "a=1"], "--credentials include"),
        (["http://x/", "--origin", "http://a.test", "--timeout", "0"], "timeout"),
    ],
    ids=["scheme", "slash", "origin", "header", "method", "cookie", "timeout"],
)
def test_bad_input_exits_2_with_a_reason(capsys, argv: list[str], message: str) -> None:
    status, out, err = run(capsys, "check", *argv)
    assert status == 2
    assert message in err and out == ""


def test_fetch_refusing_the_call_sends_nothing(servers: Servers, capsys) -> None:
    before = len(servers.received)
    status, out, _ = run(
        capsys, "check", servers.url("wildcard"), "--origin", servers.page, "-X", "TRACE"
    )
    assert status == 1
    assert "fetch() refuses this call" in out
    assert len(servers.received) == before
