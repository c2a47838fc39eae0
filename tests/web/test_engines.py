"""Predictions for the learner's own engine, and the other engines side by side."""

from __future__ import annotations

import httpx
import pytest

from app.runs.agreement import browser_from_user_agent
from app.web.server import BackgroundServer
from tests.web.conftest import new_session

FIREFOX_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0"
CHROME_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0"
USER_AGENT_GET = {"method": "GET", "rq_name": "User-Agent", "rq_value": "x", "rs_status": "200"}


def test_explain_takes_a_browser_field_per_scenario(
    client: httpx.Client, live: BackgroundServer
) -> None:
    docs = [
        {"id": "c", "request": {"headers": [["User-Agent", "x"]]}},
        {"id": "f", "browser": "firefox", "request": {"headers": [["User-Agent", "x"]]}},
    ]
    chromium, firefox = client.post(f"{live.site_url}/api/explain", json=docs).json()
    assert (chromium["browser"], chromium["preflight"]) == ("chromium", False)
    assert (firefox["browser"], firefox["preflight"]) == ("firefox", True)
    bad = client.post(f"{live.site_url}/api/explain", json={"browser": "netscape"})
    assert bad.status_code == 400 and "netscape" in bad.text


def test_the_prediction_is_for_the_learners_own_browser(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    url = f"{live.site_url}/sessions/{sid}/explain"
    firefox = client.post(url, data=USER_AGENT_GET, headers={"user-agent": FIREFOX_UA}).text
    assert "engine profile: firefox" in firefox
    chrome = client.post(url, data=USER_AGENT_GET, headers={"user-agent": CHROME_UA}).text
    assert "engine profile: chromium" in chrome
    assert "Firefox would send a preflight here; Chromium does not" in chrome
    assert "Chromium silently drops a User-Agent header" in chrome


def test_the_engine_selector_overrides_the_user_agent(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    page = client.get(f"{live.site_url}/sessions/{sid}", headers={"user-agent": FIREFOX_UA}).text
    assert 'name="engine"' in page and "your browser (Firefox 153)" in page
    chosen = client.post(
        f"{live.site_url}/sessions/{sid}/explain",
        data={**USER_AGENT_GET, "engine": "webkit"},
        headers={"user-agent": FIREFOX_UA},
    ).text
    assert "engine profile: webkit" in chosen
    assert "Chromium would send no preflight here; WebKit does" in chosen


def test_when_all_engines_agree_the_page_says_so(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    same = client.post(
        f"{live.site_url}/sessions/{sid}/explain", data={"method": "GET", "rs_status": "200"}
    ).text
    assert "all do the same here" in same


@pytest.mark.parametrize(
    ("user_agent", "label", "profile"),
    [
        (CHROME_UA, "Chrome 156", "chromium"),
        (FIREFOX_UA, "Firefox 153", "firefox"),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/60.5 Safari/605.1.15",
            "WebKit 605.1.15",
            "webkit",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/18.1 Safari/605.1.15",
            "Safari 18.1",
            "webkit",
        ),
        ("curl/8.0", "an unrecognised browser", "spec"),
    ],
)
def test_browsers_are_named_from_the_user_agent(user_agent: str, label: str, profile: str) -> None:
    browser = browser_from_user_agent(user_agent)
    assert (browser.label, browser.profile) == (label, profile)
