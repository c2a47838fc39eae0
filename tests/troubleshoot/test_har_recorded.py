"""HAR archives recorded for real: headless Chromium (Playwright's ``record_har_path``) sends
the playground's own runs, allowed and blocked, and the archive it writes is read back into
scenarios, predicted as Chromium, with cookies and Authorization masked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli import main
from app.troubleshoot.har import read_har
from app.web.server import BackgroundServer
from tests.helpers import headless_chromium

pytestmark = pytest.mark.browser

SITE = "SITE"
RUNS: list[dict[str, Any]] = [
    {  # 0: a simple GET, allowed, with a header the page reads
        "request": {"method": "GET"},
        "response": {
            "headers": [
                ["Access-Control-Allow-Origin", "*"],
                ["Access-Control-Expose-Headers", "X-A"],
                ["X-A", "1"],
            ]
        },
    },
    {  # 1: a simple GET without Access-Control-Allow-Origin: blocked
        "request": {"method": "GET"},
        "response": {"headers": []},
    },
    {  # 2: a credentialed PUT with a custom header and Authorization, allowed
        "request": {
            "method": "PUT",
            "headers": [["X-Token", "s3cret-token"], ["Authorization", "Bearer SECRETBEARER"]],
            "credentials": "include",
        },
        "preflight_response": {
            "status": 204,
            "headers": [
                ["Access-Control-Allow-Origin", SITE],
                ["Access-Control-Allow-Methods", "PUT"],
                ["Access-Control-Allow-Headers", "x-token, authorization"],
                ["Access-Control-Allow-Credentials", "true"],
            ],
        },
        "response": {
            "headers": [
                ["Access-Control-Allow-Origin", SITE],
                ["Access-Control-Allow-Credentials", "true"],
            ]
        },
    },
    {  # 3: a DELETE whose preflight is answered 404: blocked before the request
        "request": {"method": "DELETE", "headers": [["X-Token", "1"]]},
        "preflight_response": {"status": 404, "headers": []},
    },
]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, BackgroundServer]]:
    path = tmp_path_factory.mktemp("har") / "playground.har"
    with BackgroundServer() as live, headless_chromium() as browser:
        site = live.site_url
        context = browser.new_context(record_har_path=str(path))
        context.add_cookies([{"name": "session", "value": "COOKIEVALUE", "url": live.api_url}])
        page = context.new_page()
        with httpx.Client(timeout=10) as client:
            sid = client.get(f"{site}/", follow_redirects=False).headers["location"]
            page.goto(site + sid)
            for doc in RUNS:
                scenario = json.loads(json.dumps(doc).replace(SITE, site))
                created = client.post(f"{site}/api/runs", json=scenario).json()
                request = scenario["request"]
                init = {
                    "method": request["method"],
                    "headers": request.get("headers", []),
                    "credentials": request.get("credentials", "same-origin"),
                }
                page.evaluate(
                    "async ([url, init]) => { try { await fetch(url, init) } catch (e) {} }",
                    [created["target"], init],
                )
        context.close()
        yield path, live


def test_every_cross_origin_request_is_listed_with_its_outcome(
    recorded: tuple[Path, BackgroundServer],
) -> None:
    path, live = recorded
    report = read_har(path.read_bytes())
    assert report.browser == "chromium"
    targets = [item for item in report.items if "/r/" in item.url]
    assert [item.method for item in targets] == ["GET", "GET", "PUT", "DELETE"]
    assert all(item.page_origin == live.site_url for item in targets)
    allowed, blocked, credentialed, refused = targets
    assert allowed.outcome == "allowed" and allowed.kind == "simple"
    assert "x-a" in allowed.prediction.readable_headers
    assert blocked.outcome == "failed" and not blocked.answered
    assert blocked.recorded_error and "net::" in blocked.recorded_error
    assert credentialed.outcome == "allowed" and credentialed.kind == "preflight"
    assert credentialed.scenario.request.credentials == "include"
    assert refused.outcome == "failed" and refused.kind == "preflight"
    # The playground's own pages and event stream are same-origin: not listed.
    assert all(item.url.startswith(live.api_url) for item in report.items)


def test_cookies_and_authorization_are_masked(recorded: tuple[Path, BackgroundServer]) -> None:
    path, _ = recorded
    raw = path.read_text("utf-8")
    assert "SECRETBEARER" in raw and "COOKIEVALUE" in raw  # the archive itself has them
    report = read_har(raw)
    kept = json.dumps([item.scenario.to_json() for item in report.items])
    kept += json.dumps([item.prediction.to_json() for item in report.items])
    assert "SECRETBEARER" not in kept and "COOKIEVALUE" not in kept
    put = next(item for item in report.items if item.method == "PUT")
    assert ("Authorization", "Bearer [masked]") in put.scenario.request.headers


def test_the_har_command_lists_them_and_exits_1(
    recorded: tuple[Path, BackgroundServer], capsys: pytest.CaptureFixture[str]
) -> None:
    path, live = recorded
    status = main(["har", str(path), "--playground", live.site_url])
    out = capsys.readouterr().out
    assert status == 1
    assert "predicted as Chromium" in out
    assert out.count("open: " + live.site_url + "/?s=") == 4
    assert "SECRETBEARER" not in out and "COOKIEVALUE" not in out
    status = main(["har", str(path), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert [r["outcome"] for r in doc["requests"]] == ["allowed", "failed", "allowed", "failed"]


def test_each_listed_request_opens_in_the_playground(
    recorded: tuple[Path, BackgroundServer], capsys: pytest.CaptureFixture[str]
) -> None:
    path, live = recorded
    main(["har", str(path), "--json", "--playground", live.site_url])
    doc = json.loads(capsys.readouterr().out)
    with httpx.Client(timeout=10, follow_redirects=True) as client:
        for request in doc["requests"]:
            page = client.get(request["share"])
            assert page.status_code == 200, request["share"]


def test_the_page_lists_an_uploaded_archive(recorded: tuple[Path, BackgroundServer]) -> None:
    path, live = recorded
    with httpx.Client(timeout=20, follow_redirects=True) as client:
        start = client.get(f"{live.site_url}/troubleshoot")
        upload = client.post(
            str(start.url) + "/har",
            files={"har": ("playground.har", path.read_bytes(), "application/json")},
        )
        assert upload.status_code == 200
        assert upload.text.count('data-outcome="allowed"') == 2
        assert upload.text.count('data-outcome="failed"') == 2
        assert "SECRETBEARER" not in upload.text and "COOKIEVALUE" not in upload.text
        assert upload.text.count('class="open-scenario"') == 4
