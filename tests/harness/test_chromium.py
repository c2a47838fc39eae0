"""The harness in real Chromium, beyond the shared sample: hosts, odd requests, the default.

What every browser must do alike (fresh paths, cookies, exchanges, …) is in test_browsers.py.
"""

from __future__ import annotations

import pytest

from app.harness import Harness, observe

from .conftest import PAGE, TARGET, scenario, simple_get


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
    allowed, mismatch = simple_get(page, origin=page), simple_get(PAGE, origin=page)
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
def test_module_level_observe_uses_one_shared_chromium_by_default() -> None:
    (obs,) = observe([scenario()])
    assert obs["outcome"] == "allowed"
