"""The harness in real WebKitGTK (WebDriver on a private Xvfb display), beyond the sample."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.cors.scenario import Scenario
from app.harness import (
    BLOCKED_BY_REPORTING,
    BrowserUnavailable,
    Harness,
    compare,
    observe,
    shared_harness,
)
from app.harness.webkit import find_webkit_webdriver

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


@pytest.fixture(scope="module")
def webkit() -> Harness:
    """The process-wide WebKit harness (shared with the truth tests: one launch)."""
    return shared_harness("webkit")


def live_processes_in_group(pgid: int) -> list[str]:
    """Processes of a process group that still run (zombies wait for init, they run nothing)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, fields = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :]
        state, _ppid, group = fields.split()[:3]
        if int(group) == pgid and state != "Z":
            found.append(f"{stat.parent.name} {name}")
    return found


# -- without a browser -------------------------------------------------------------------------


def test_blocked_by_is_compared_as_far_as_each_browser_reports_it() -> None:
    assert BLOCKED_BY_REPORTING == {"chromium": "always", "firefox": "named", "webkit": "never"}
    predicted = {
        "preflight": False,
        "actual_request_sent": True,
        "outcome": "blocked",
        "blocked_by": "MissingAllowOriginHeader",
    }
    observed = {**predicted, "blocked_by": None}
    assert compare(predicted, observed, browser="webkit") == []
    assert [d.field for d in compare(predicted, observed, browser="chromium")] == ["blocked_by"]
    # What WebKit does report is still compared.
    (found,) = compare(predicted, {**observed, "outcome": "allowed"}, browser="webkit")
    assert (found.field, found.observed) == ("outcome", "allowed")
    with pytest.raises(ValueError, match="unknown browser"):
        compare(predicted, observed, browser="lynx")


def test_missing_webkit_driver_is_reported_clearly() -> None:
    with pytest.raises(BrowserUnavailable, match="webkit2gtk-driver"):
        Harness("webkit", executable_path="/nonexistent/WebKitWebDriver").start()


# -- real WebKitGTK ----------------------------------------------------------------------------


@pytest.mark.browser
def test_debian_webkit_is_found_and_named_with_its_version(webkit: Harness) -> None:
    assert find_webkit_webdriver() is not None
    product, version = webkit.version.split()
    assert product == "WebKitGTK"
    assert len(version.split(".")) == 3


@pytest.mark.browser
def test_each_run_gets_fresh_paths_so_the_preflight_cache_hides_nothing(webkit: Harness) -> None:
    first = webkit.observe([scenario(), scenario()])
    second = webkit.observe([scenario()])
    assert [o["preflight"] for o in first + second] == [True, True, True]
    assert all(o["outcome"] == "allowed" for o in first + second)


@pytest.mark.browser
def test_cookies_carry_within_one_run_but_not_into_the_next(webkit: Harness) -> None:
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
    first, second = webkit.observe([setter, setter])
    (third,) = webkit.observe([setter])
    assert "cookie" not in first["actual_request_headers"]
    assert "cookie" in second["actual_request_headers"]
    assert "cookie" not in third["actual_request_headers"]


@pytest.mark.browser
def test_blocked_is_seen_from_the_target_without_a_check_name(webkit: Harness) -> None:
    page = "http://127.0.0.1:9000"
    mismatch = scenario(
        origin=page,
        request={"method": "GET", "headers": []},
        response={"status": 200, "headers": [["Access-Control-Allow-Origin", PAGE]]},
    )
    allowed = scenario(
        origin=page,
        request={"method": "GET", "headers": []},
        response={"status": 200, "headers": [["Access-Control-Allow-Origin", page]]},
    )
    blocked, ok = webkit.observe([mismatch, allowed])
    assert blocked == {
        "preflight": False,
        "actual_request_sent": True,
        "actual_request_headers": blocked["actual_request_headers"],
        "outcome": "blocked",
        "error": "TypeError: Load failed",
        "blocked_by": None,
        "failed_parameter": None,
        "console": [],
    }
    assert (ok["outcome"], ok["status"]) == ("allowed", 200)


@pytest.mark.browser
def test_rejected_before_sending_is_an_error(webkit: Harness) -> None:
    (obs,) = webkit.observe([scenario(request={"method": "GET", "body": "x"})])
    assert obs == {
        "preflight": False,
        "actual_request_sent": False,
        "outcome": "error",
        "error": "TypeError: Request has method 'GET' and cannot have a body",
        "console": [],
    }


@pytest.mark.browser
def test_pages_of_two_origins_in_one_run(webkit: Harness) -> None:
    other = "http://127.0.0.1:9000"
    get = {"method": "GET", "headers": []}
    first, second = webkit.observe(
        [
            scenario(
                request=get,
                response={"status": 200, "headers": [["Access-Control-Allow-Origin", PAGE]]},
            ),
            scenario(
                origin=other,
                request=get,
                response={"status": 200, "headers": [["Access-Control-Allow-Origin", other]]},
            ),
        ],
        exchanges=True,
    )
    assert (first["outcome"], second["outcome"]) == ("allowed", "allowed")
    assert ["Origin", PAGE] in first["exchanges"][0]["headers"]
    assert ["Origin", other] in second["exchanges"][0]["headers"]


@pytest.mark.browser
def test_module_level_observe_drives_webkit() -> None:
    (obs,) = observe([scenario()], "webkit")
    assert (obs["outcome"], obs["readable_headers"]) == ("allowed", [])


@pytest.mark.browser
def test_closing_leaves_no_driver_browser_or_display_behind() -> None:
    harness = Harness("webkit").start()
    driver: Any = harness._driver
    groups = [driver._driver_process.pid, driver._xvfb.pid]
    (obs,) = harness.observe([scenario()])
    assert obs["outcome"] == "allowed"
    harness.close()
    assert [live_processes_in_group(g) for g in groups] == [[], []]
