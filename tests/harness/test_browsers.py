"""The harness in each real browser, beyond the shared sample: what every driver must do alike.

Each test runs in Chromium (Playwright), Firefox (WebDriver BiDi) and WebKitGTK (WebDriver on
a private Xvfb display); what differs between them (the executable's name, the words of a
TypeError) is data below. What only one browser does is in its own module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from app.harness import (
    BrowserUnavailable,
    Harness,
    find_chromium,
    find_firefox,
    find_webkit_webdriver,
    observe,
)

from .conftest import BROWSERS, PAGE, scenario


@dataclass(frozen=True)
class Browser:
    """What the tests expect of one browser."""

    find: Callable[[], str | None]
    executable: str
    product: str
    # Dot-separated parts of the version, e.g. Chromium 156.0.8078.108, Firefox 153.7.0.
    version_parts: int
    # What the message names when the executable (named ``executable``) is missing.
    install_hint: str
    # fetch()'s TypeError for a GET with a body.
    body_error: str


EXPECTED: dict[str, Browser] = {
    "chromium": Browser(
        find=find_chromium,
        executable="chromium",
        product="Chromium",
        version_parts=4,
        install_hint="CHROMIUM_PATH",
        body_error="TypeError: Failed to execute 'fetch' on 'Window': "
        "Request with GET/HEAD method cannot have body.",
    ),
    "firefox": Browser(
        find=find_firefox,
        executable="firefox",
        product="Firefox",
        version_parts=3,
        install_hint="firefox-esr",
        body_error="TypeError: Window.fetch: HEAD or GET Request cannot have a body.",
    ),
    "webkit": Browser(
        find=find_webkit_webdriver,
        executable="WebKitWebDriver",
        product="WebKitGTK",
        version_parts=3,
        install_hint="webkit2gtk-driver",
        body_error="TypeError: Request has method 'GET' and cannot have a body",
    ),
}

each_browser = pytest.mark.parametrize("browser", BROWSERS)


@each_browser
def test_missing_browser_is_reported_clearly(browser: str) -> None:
    expected = EXPECTED[browser]
    with pytest.raises(BrowserUnavailable, match=expected.install_hint):
        Harness(browser, executable_path=f"/nonexistent/{expected.executable}").start()


@pytest.mark.browser
@each_browser
def test_debian_browser_is_found_and_named_with_its_version(
    browser: str, browser_harness: Harness
) -> None:
    expected = EXPECTED[browser]
    assert expected.find() is not None
    product, version = browser_harness.version.split()
    assert product == expected.product
    assert len(version.split(".")) == expected.version_parts


@pytest.mark.browser
@each_browser
def test_each_run_gets_fresh_paths_so_the_preflight_cache_hides_nothing(
    browser_harness: Harness,
) -> None:
    first = browser_harness.observe([scenario(), scenario()])
    second = browser_harness.observe([scenario()])
    assert [o["preflight"] for o in first + second] == [True, True, True]
    assert all(o["outcome"] == "allowed" for o in first + second)


@pytest.mark.browser
@each_browser
def test_cookies_carry_within_one_run_but_not_into_the_next(browser_harness: Harness) -> None:
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
    first, second = browser_harness.observe([setter, setter])
    (third,) = browser_harness.observe([setter])
    assert "cookie" not in first["actual_request_headers"]
    assert "cookie" in second["actual_request_headers"]
    assert "cookie" not in third["actual_request_headers"]


@pytest.mark.browser
@each_browser
def test_rejected_before_sending_is_an_error(browser: str, browser_harness: Harness) -> None:
    (obs,) = browser_harness.observe([scenario(request={"method": "GET", "body": "x"})])
    assert obs == {
        "preflight": False,
        "actual_request_sent": False,
        "outcome": "error",
        "error": EXPECTED[browser].body_error,
        "console": [],
    }


@pytest.mark.browser
@each_browser
def test_exchanges_show_raw_requests_with_origins_mapped_back(browser_harness: Harness) -> None:
    (obs,) = browser_harness.observe([scenario()], exchanges=True)
    preflight, actual = obs["exchanges"]
    assert (preflight["kind"], preflight["method"]) == ("preflight", "OPTIONS")
    assert ["Origin", PAGE] in preflight["headers"]
    assert ["Access-Control-Request-Headers", "x-a"] in preflight["headers"]
    assert preflight["response"]["status"] == 204
    assert ["Access-Control-Allow-Origin", PAGE] in preflight["response"]["headers"]
    assert (actual["kind"], actual["method"], actual["path"]) == ("actual", "PUT", "/t/x")
    assert ["X-A", "1"] in actual["headers"]


@pytest.mark.browser
@each_browser
def test_module_level_observe_drives_one_shared_browser(browser: str) -> None:
    (obs,) = observe([scenario()], browser)
    assert (obs["outcome"], obs["readable_headers"]) == ("allowed", [])
