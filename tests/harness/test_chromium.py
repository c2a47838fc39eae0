"""The harness in real Chromium, beyond the shared sample: caching, hosts, odd requests."""

from __future__ import annotations

from typing import Any

import pytest

from app.cors.scenario import Scenario
from app.harness import BrowserUnavailable, Harness, observe
from app.harness.chromium import find_chromium

PAGE = "http://localhost:8701"
TARGET = "http://localhost:8702"


def scenario(**overrides: Any) -> Scenario:
    doc: dict[str, Any] = {
        "id": "t",
        "origin": PAGE,
        "url": f"{TARGET}/t/x",
        "request": {"method": "PUT", "headers": [["X-A", "1"]]},
        "preflight_response": {
            "status": 204,
            "headers": [
                ["Access-Control-Allow-Origin", PAGE],
                ["Access-Control-Allow-Methods", "PUT"],
                ["Access-Control-Allow-Headers", "X-A"],
                ["Access-Control-Max-Age", "600"],
            ],
        },
        "response": {
            "status": 200,
            "headers": [["Access-Control-Allow-Origin", PAGE], ["X-Secret", "1"]],
        },
    }
    doc.update(overrides)
    return Scenario.from_json(doc)


@pytest.mark.browser
def test_each_run_gets_fresh_paths_so_the_preflight_cache_hides_nothing(
    harness: Harness,
) -> None:
    first = harness.observe([scenario(), scenario()])
    second = harness.observe([scenario()])
    assert [o["preflight"] for o in first + second] == [True, True, True]
    assert all(o["outcome"] == "allowed" for o in first + second)


@pytest.mark.browser
def test_duplicate_request_headers_are_sent_and_named_once_in_the_preflight(
    harness: Harness,
) -> None:
    (obs,) = harness.observe(
        [scenario(request={"method": "PUT", "headers": [["X-A", "1"], ["x-a", "2"]]})]
    )
    assert obs["preflight_request"] == {
        "access-control-request-method": "PUT",
        "access-control-request-headers": "x-a",
    }
    assert "x-a" in obs["actual_request_headers"]


@pytest.mark.browser
def test_host_names_are_kept_and_reported_values_mapped_back(harness: Harness) -> None:
    page = "http://127.0.0.1:9000"
    allowed = scenario(
        origin=page,
        request={"method": "GET", "headers": []},
        response={"status": 200, "headers": [["Access-Control-Allow-Origin", page]]},
    )
    mismatch = scenario(
        origin=page,
        request={"method": "GET", "headers": []},
        response={"status": 200, "headers": [["Access-Control-Allow-Origin", PAGE]]},
    )
    ok, blocked = harness.observe([allowed, mismatch])
    assert ok["outcome"] == "allowed"
    assert blocked["outcome"] == "blocked"
    assert blocked["blocked_by"] == "AllowOriginMismatch"
    assert blocked["failed_parameter"] == PAGE
    assert blocked["console"] == [
        f"Access to fetch at '{TARGET}/t/x' from origin '{page}' has been blocked by CORS "
        f"policy: The 'Access-Control-Allow-Origin' header has a value '{PAGE}' that is not "
        "equal to the supplied origin. Have the server send the header with a valid value."
    ]


@pytest.mark.browser
def test_same_origin_request_reads_every_header(harness: Harness) -> None:
    (obs,) = harness.observe(
        [
            scenario(
                url=f"{PAGE}/api",
                request={"method": "GET", "headers": []},
                response={"status": 200, "headers": [["X-Secret", "1"], ["Set-Cookie", "a=b"]]},
            )
        ]
    )
    assert obs["outcome"] == "allowed"
    assert obs["preflight"] is False
    assert obs["readable_headers"] == ["x-secret"]  # Set-Cookie is never readable
    assert "origin" not in obs["actual_request_headers"]  # same-origin GET: no Origin header


@pytest.mark.browser
def test_rejected_before_sending_is_an_error(harness: Harness) -> None:
    (obs,) = harness.observe([scenario(request={"method": "GET", "body": "x"})])
    assert obs == {
        "preflight": False,
        "actual_request_sent": False,
        "outcome": "error",
        "error": "TypeError: Failed to execute 'fetch' on 'Window': "
        "Request with GET/HEAD method cannot have body.",
        "console": [],
    }


@pytest.mark.browser
def test_declared_status_without_content_reaches_javascript(harness: Harness) -> None:
    (obs,) = harness.observe(
        [
            scenario(
                request={"method": "GET", "headers": []},
                response={"status": 204, "headers": [["Access-Control-Allow-Origin", "*"]]},
            )
        ]
    )
    assert (obs["outcome"], obs["status"]) == ("allowed", 204)


@pytest.mark.browser
def test_cookies_carry_within_one_run_but_not_into_the_next(harness: Harness) -> None:
    setter = scenario(
        request={"method": "GET", "headers": [], "credentials": "include"},
        response={
            "status": 200,
            "headers": [
                ["Access-Control-Allow-Origin", PAGE],
                ["Access-Control-Allow-Credentials", "true"],
                ["Set-Cookie", "harness=1"],
            ],
        },
    )
    first, second = harness.observe([setter, setter])
    (third,) = harness.observe([setter])
    assert "cookie" not in first["actual_request_headers"]
    assert "cookie" in second["actual_request_headers"]
    assert "cookie" not in third["actual_request_headers"]


@pytest.mark.browser
def test_exchanges_show_raw_requests_with_origins_mapped_back(harness: Harness) -> None:
    (obs,) = harness.observe([scenario()], exchanges=True)
    preflight, actual = obs["exchanges"]
    assert (preflight["kind"], preflight["method"]) == ("preflight", "OPTIONS")
    assert ["Origin", PAGE] in preflight["headers"]
    assert ["Access-Control-Request-Headers", "x-a"] in preflight["headers"]
    assert preflight["response"]["status"] == 204
    assert ["Access-Control-Allow-Origin", PAGE] in preflight["response"]["headers"]
    assert (actual["kind"], actual["method"], actual["path"]) == ("actual", "PUT", "/t/x")
    assert ["X-A", "1"] in actual["headers"]


@pytest.mark.browser
def test_module_level_observe_uses_one_shared_browser() -> None:
    (obs,) = observe([scenario()])
    assert obs["outcome"] == "allowed"


@pytest.mark.browser
def test_debian_chromium_is_found_here() -> None:
    assert find_chromium() is not None


def test_missing_browser_is_reported_clearly() -> None:
    with pytest.raises(BrowserUnavailable, match="CHROMIUM_PATH"):
        Harness("chromium", executable_path="/nonexistent/chromium").start()
