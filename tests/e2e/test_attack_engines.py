"""The attack lab in real Firefox and WebKit, where their cookie policies allow it: one click
logs in on the victim API and opens the attacker's page, whose script runs the attack; what the
victim API recorded and the attacker's log decide. A second visit to the lab reads its verdict
as that browser sees it.

Both browsers keep cross-site requests away from the login cookie (Firefox partitions it,
WebKit blocks third-party cookies and keeps no Secure cookie over http), so the attacker here is
another port of the same host name, where even the ``SameSite=Lax`` cookie goes. A sandboxed
frame on that page is another matter: Firefox keeps the cookie from it, WebKit sends its
``SameSite=Lax`` cookie along, so there the trusted ``null`` gives the account away too.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from app.harness import shared_harness
from app.web.server import BackgroundServer
from tests.e2e.test_attack import recorded

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("browser", ["firefox", "webkit"])]

# Whether the browser sends the login cookie with a sandboxed frame's request on a page of the
# same site (what each browser did, checked below).
SANDBOX_COOKIE = {"firefox": False, "webkit": True}

WATCH_ATTACKER = """async () => {
  const deadline = Date.now() + 20000;
  const done = "#attacker[data-state='done'], #attacker[data-state='failed']";
  let root = null;
  while (!(root = document.querySelector(done))) {
    if (Date.now() > deadline) return {state: null, url: location.href};
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    state: root.dataset.state,
    url: location.href,
    attempts: [...document.querySelectorAll("#attempts li")].map((li) => ({
      attempt: li.dataset.attempt, state: li.dataset.state, stolen: li.dataset.stolen || null,
    })),
    log: document.getElementById("attacker-log").innerText,
  };
}"""

WATCH_LAB = """async () => {
  const deadline = Date.now() + 15000;
  const settled = "#attack-live[data-verdict]:not([data-verdict='pending'])";
  let live = null;
  while (!(live = document.querySelector(settled))) {
    if (Date.now() > deadline) return {verdict: null};
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const button = document.getElementById("site-check");
  let site = null;
  if (button && live.dataset.loggedIn === "yes") {
    button.click();
    while (Date.now() < deadline) {
      const now = document.getElementById("attack-live");
      if (!["none", "pending"].includes(now.dataset.site)) { site = now.dataset.site; break; }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const now = document.getElementById("attack-live");
  return {
    verdict: now.dataset.verdict,
    attempts: Object.fromEntries(
      [...now.querySelectorAll(".why .attempt")].map((a) => [a.dataset.attempt, a.dataset.verdict])
    ),
    why: now.querySelector(".why").innerText,
    site,
  };
}"""


def new_attack(live: BackgroundServer, case: str) -> tuple[str, str]:
    """A lab session with ``case`` picked (over HTTP, as the form posts it): its lab URL and
    the attack's id."""
    with httpx.Client(timeout=10, follow_redirects=True) as client:
        page = client.get(f"{live.site_url}/attack")
        lab = str(page.url)
        found = re.search(r'data-events="/sessions/([^/"]+)/events"', page.text)
        assert found, page.text[:500]
        chosen = client.post(f"{lab}/policy", data={"case": case, "where": "same"})
        assert chosen.status_code == 200, chosen.text
    return lab, found.group(1)


def one_click(browser: str, live: BackgroundServer, attack_id: str) -> dict[str, Any]:
    """Log in on the victim API and go on to the attacker's page, in one fresh session."""
    url = f"{live.api_url}/victim/{attack_id}/login?go=attacker"
    seen: dict[str, Any] = shared_harness(browser).visit(url, WATCH_ATTACKER, timeout=40)
    assert seen["state"] == "done", seen
    assert seen["url"].startswith(f"{live.settings.attacker_url}/a/{attack_id}")
    return seen


def lab_as_seen(browser: str, live: BackgroundServer, attack_id: str) -> dict[str, Any]:
    """The lab page after logging in again (back to the lab), as this browser shows it; its
    own site reads the account once."""
    url = f"{live.api_url}/victim/{attack_id}/login?go=lab"
    seen: dict[str, Any] = shared_harness(browser).visit(url, WATCH_LAB, timeout=40)
    return seen


@pytest.mark.parametrize("case", ["reflect", "prefix", "suffix", "allow-list"])
def test_the_attack_and_its_fix(browser: str, case: str, live: BackgroundServer) -> None:
    # Reflection also trusts the sandboxed frame's null; prefix and suffix checks do not.
    stolen_by = {"page"} if case != "allow-list" else set()
    if case == "reflect" and SANDBOX_COOKIE[browser]:
        stolen_by.add("sandbox")
    lab, attack_id = new_attack(live, case)
    seen = one_click(browser, live, attack_id)
    found = recorded(live, attack_id)
    assert found["page"]["origin"] == live.settings.attacker_url
    assert found["page"]["carried"]  # the same-site cookie goes along in every browser
    assert {key for key, item in found.items() if item["stolen"]} == stolen_by
    assert {a["attempt"] for a in seen["attempts"] if a["stolen"] == "yes"} == stolen_by
    assert bool(found["sandbox"]["carried"]) == SANDBOX_COOKIE[browser]
    secret = live.call(live.playground.attacks.get(attack_id)).secret  # type: ignore[union-attr]
    assert (secret in seen["log"]) == bool(stolen_by)
    view = lab_as_seen(browser, live, attack_id)
    assert view["verdict"] == ("stolen" if stolen_by else "refused"), view
    assert view["site"] == "works", view
    if not stolen_by:
        return
    # The fix, then the same attack again.
    with httpx.Client(timeout=10) as client:
        assert client.post(f"{lab}/fix").status_code == 303
    one_click(browser, live, attack_id)
    found = recorded(live, attack_id)
    assert found["page"]["carried"] and found["page"]["outcome"] == "blocked"
    assert not any(item["stolen"] for item in found.values())
    view = lab_as_seen(browser, live, attack_id)
    assert view["verdict"] == "refused" and view["site"] == "works", view


def test_star_without_credentials_lets_nothing_secret_through(
    browser: str, live: BackgroundServer
) -> None:
    _, attack_id = new_attack(live, "wildcard")
    one_click(browser, live, attack_id)
    found = recorded(live, attack_id)
    assert found["page"]["carried"] and found["page"]["outcome"] == "blocked"
    assert found["anonymous"]["outcome"] == "allowed" and found["anonymous"]["status"] == 401
    assert not any(item["stolen"] for item in found.values())
    view = lab_as_seen(browser, live, attack_id)
    assert view["verdict"] == "refused" and view["attempts"]["anonymous"] == "anonymous", view
    assert view["site"] == "broken", view


def test_a_trusted_null_and_the_sandboxed_frame(browser: str, live: BackgroundServer) -> None:
    lab, attack_id = new_attack(live, "null")
    one_click(browser, live, attack_id)
    found = recorded(live, attack_id)
    assert found["sandbox"]["origin"] == "null" and found["sandbox"]["outcome"] == "allowed"
    assert found["page"]["outcome"] == "blocked"  # the attacker's own origin is not trusted
    view = lab_as_seen(browser, live, attack_id)
    if SANDBOX_COOKIE[browser]:
        # WebKit sends the same-site cookie from the frame: the account is gone.
        assert found["sandbox"]["carried"] == ("same-site",) and found["sandbox"]["stolen"]
        assert view["verdict"] == "stolen", view
        with httpx.Client(timeout=10) as client:
            assert client.post(f"{lab}/fix").status_code == 303
        one_click(browser, live, attack_id)
        assert recorded(live, attack_id)["sandbox"]["outcome"] == "blocked"
        assert lab_as_seen(browser, live, attack_id)["verdict"] == "refused"
        return
    # Firefox keeps the cookie from it: CORS allowed the read, and the lab says the cookie
    # policy, not CORS, saved the account.
    assert not found["sandbox"]["carried"] and not found["sandbox"]["stolen"]
    assert view["verdict"] == "cookie" and view["attempts"]["sandbox"] == "no-cookie", view
    assert "Total Cookie Protection" in view["why"] and "not thanks to CORS" in view["why"]
