"""The playground opened as a workshop's attendees open it: under the LAN name of the machine it
runs on (Chromium resolves the name to loopback), in real Chromium."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from app.web.server import BackgroundServer
from tests.e2e.conftest import LAN_NAME

pytestmark = pytest.mark.browser


def test_a_page_under_a_lan_name_is_that_origin_and_its_default_run_is_allowed(
    page: Any, live: BackgroundServer
) -> None:
    """Opened as http://laptop.local:<port>/, the page names its own origin, pre-fills it as
    Allow-Origin, the default run is allowed and the framed server console loads; the console
    has no error (no ignored Cross-Origin-Opener-Policy on a plain-http LAN origin)."""
    messages: list[str] = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    site = f"http://{LAN_NAME}:{live.settings.site_port}"
    api = f"http://{LAN_NAME}:{live.settings.api_port}"
    page.goto(f"{site}/")
    page.wait_for_selector("#prediction .prediction-body")
    assert " ".join(page.text_content(".origins").split()) == (
        f"This page: {site} → API origin: {api}"
    )
    page.click("#send")
    card = page.wait_for_selector("#runs .run[data-state='done'] .js-outcome")
    assert card.get_attribute("data-outcome") == "allowed", card.text_content()
    agreement = page.get_attribute("#runs .run .agreement", "data-agreement")
    assert agreement == "yes"

    page.click("[data-show-console]")
    entry = page.frame_locator("#console-frame").locator(".console-entry").first
    entry.wait_for()
    assert page.errors == []
    assert [m for m in messages if m.startswith("error")] == [], messages
    assert not [m for m in messages if "Cross-Origin-Opener-Policy" in m], messages


def test_a_share_link_made_on_localhost_runs_allowed_under_the_lan_name(
    page: Any, live: BackgroundServer
) -> None:
    """The link carries the page's origin as a placeholder: opened under another name, its
    Allow-Origin is that page's origin, and the run it sends on opening is allowed."""
    made = httpx.get(f"{live.site_url}/", params={"engine": "spec"}, follow_redirects=True)
    link = re.search(r'id="share-run-link" href="([^"]+)"', made.text)
    assert link
    page.goto(f"http://{LAN_NAME}:{live.settings.site_port}" + link.group(1).replace("&amp;", "&"))
    outcome = page.wait_for_selector("#runs .run[data-state='done'] .js-outcome")
    assert outcome.get_attribute("data-outcome") == "allowed", outcome.text_content()
    assert page.input_value("#f-engine") == "spec"
    assert "run=1" not in page.url
