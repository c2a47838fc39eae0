"""The harness in real WebKitGTK (WebDriver on a private Xvfb display), beyond the sample.

What every browser must do alike (fresh paths, cookies, exchanges, …) is in test_browsers.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.harness import BLOCKED_BY_REPORTING, Harness, compare, shared_harness

from .conftest import PAGE, processes_left_in_groups, scenario, simple_get


@pytest.fixture(scope="module")
def webkit() -> Harness:
    """The process-wide WebKit harness (shared with the truth tests: one launch)."""
    return shared_harness("webkit")


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


# -- real WebKitGTK ----------------------------------------------------------------------------


@pytest.mark.browser
def test_blocked_is_seen_from_the_target_without_a_check_name(webkit: Harness) -> None:
    page = "http://127.0.0.1:9000"
    mismatch, allowed = simple_get(PAGE, origin=page), simple_get(page, origin=page)
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
def test_pages_of_two_origins_in_one_run(webkit: Harness) -> None:
    other = "http://127.0.0.1:9000"
    first, second = webkit.observe(
        [simple_get(PAGE), simple_get(other, origin=other)], exchanges=True
    )
    assert (first["outcome"], second["outcome"]) == ("allowed", "allowed")
    assert ["Origin", PAGE] in first["exchanges"][0]["headers"]
    assert ["Origin", other] in second["exchanges"][0]["headers"]


@pytest.mark.browser
def test_closing_leaves_no_driver_browser_or_display_behind() -> None:
    harness = Harness("webkit").start()
    driver: Any = harness._driver
    groups = [driver._driver_process.pid, driver._xvfb.pid]
    (obs,) = harness.observe([scenario()])
    assert obs["outcome"] == "allowed"
    harness.close()
    assert processes_left_in_groups(groups) == [[], []]
