"""The playground page in real Firefox and WebKit: a share link that sends on opening, watched
until its run card is done, and the run the API recorded.

Chromium drives the page in test_playground.py (Playwright); Firefox (WebDriver BiDi) and
WebKitGTK (WebDriver) open it here through the harness's ``visit()``.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import httpx
import pytest

from app.harness import shared_harness
from app.web.server import BackgroundServer

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("browser", ["firefox", "webkit"])]

# What a newcomer sees once the run is done (polling, bounded); null fields if it never is.
WATCH_RUN = """async () => {
  const deadline = Date.now() + 15000;
  let card = null;
  while (!(card = document.querySelector("#runs [data-run-id][data-state='done']"))) {
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const text = (selector, root = document) => {
    const found = root.querySelector(selector);
    return found ? found.textContent.trim().replace(/\\s+/g, " ") : null;
  };
  const profile = text("#prediction .profile");
  if (!card) return {state: null, status: text("#send-status"), profile};
  const agreement = card.querySelector(".agreement");
  return {
    run_id: card.dataset.runId,
    state: card.dataset.state,
    agreement: agreement ? agreement.dataset.agreement : null,
    agreement_text: agreement ? agreement.textContent.trim().replace(/\\s+/g, " ") : null,
    legs: [...card.querySelectorAll(".legs .exchange")].map((leg) => leg.dataset.kind),
    actual_pending: text(".legs .pending[data-leg='actual']", card),
    profile,
    address: location.pathname + location.search,
  };
}"""

# The browser each engine profile stands for, as the agreement names it (from the User-Agent).
BROWSER_NAME = {"firefox": r"Firefox \d+", "webkit": r"(Safari|WebKit\w*) [\d.]+"}


def share_link(live: BackgroundServer, *, allow_headers: bool) -> str:
    """``/?s=…&run=1`` for a PUT with X-Token from the site origin to the API origin; its
    preflight allows the header only with ``allow_headers``."""
    origin = live.site_url
    allowed = [["Access-Control-Allow-Origin", origin], ["Access-Control-Allow-Methods", "PUT"]]
    if allow_headers:
        allowed.append(["Access-Control-Allow-Headers", "X-Token"])
    doc: dict[str, Any] = {
        "request": {
            "method": "PUT",
            "headers": [["X-Token", "abc"]],
            "credentials": "same-origin",
            "mode": "cors",
            "body": '{"a": 1}',
        },
        "preflight_response": {"status": 204, "headers": allowed},
        "response": {
            "status": 200,
            "headers": [["Access-Control-Allow-Origin", origin], ["Content-Type", "text/plain"]],
        },
    }
    raw = json.dumps(doc, separators=(",", ":")).encode()
    encoded = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return f"{live.site_url}/?s={encoded}&run=1"


def watch(browser: str, live: BackgroundServer, *, allow_headers: bool) -> dict[str, Any]:
    """Open the share link in ``browser``; what its page shows once the run is done."""
    seen: dict[str, Any] = shared_harness(browser).visit(
        share_link(live, allow_headers=allow_headers), WATCH_RUN, timeout=25
    )
    assert seen["state"] == "done", seen
    assert "run=1" not in seen["address"]  # sent once: a reload does not send again
    assert seen["profile"] == f"(engine profile: {browser})", seen
    assert re.search(BROWSER_NAME[browser], seen["agreement_text"]), seen
    return seen


def recorded(live: BackgroundServer, run_id: str) -> dict[str, Any]:
    run: dict[str, Any] = httpx.get(f"{live.site_url}/api/runs/{run_id}").json()
    return run


def test_a_preflighted_put_that_the_server_allows(browser: str, live: BackgroundServer) -> None:
    seen = watch(browser, live, allow_headers=True)
    assert seen["agreement"] == "yes", seen
    assert seen["legs"] == ["preflight", "actual"], seen
    assert seen["actual_pending"] is None

    run = recorded(live, seen["run_id"])
    assert [(e["kind"], e["request"]["method"]) for e in run["exchanges"]] == [
        ("preflight", "OPTIONS"),
        ("actual", "PUT"),
    ]
    assert run["agreement"] is True, run["differences"]
    assert run["prediction"]["browser"] == browser
    assert run["browser_result"]["outcome"] == "allowed"
    sent = run["exchanges"][1]["request"]["headers"]
    assert ["x-token", "abc"] in [[name.lower(), value] for name, value in sent]


def test_a_request_blocked_at_the_preflight(browser: str, live: BackgroundServer) -> None:
    seen = watch(browser, live, allow_headers=False)
    assert seen["agreement"] == "yes", seen
    assert seen["legs"] == ["preflight"], seen
    assert seen["actual_pending"] == "The actual request never reached the API origin."

    run = recorded(live, seen["run_id"])
    assert [(e["kind"], e["request"]["method"]) for e in run["exchanges"]] == [
        ("preflight", "OPTIONS")
    ]
    assert run["agreement"] is True, run["differences"]
    assert run["prediction"]["browser"] == browser
    assert run["browser_result"]["outcome"] == "blocked"


# The redirects lab, predicted first: a PUT-like request (X-Lab) redirected to the other host
# name, each hop preflighted; what the card reveals once fetch() settled.
LAB_REDIRECT = """async () => {
  const pick = (id) => { document.getElementById(id).checked = true; };
  pick("rd-cross");
  pick("rd-header");
  document.getElementById("rd-allow").value = "null";
  pick("guess_outcome-resolves");
  pick("guess_origin-null");
  document.getElementById("lab-send").click();
  const deadline = Date.now() + 15000;
  let reveal = null;
  while (!(reveal = document.querySelector(".redirect-run .reveal"))) {
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const status = document.getElementById("lab-status").textContent;
  if (!reveal) return {status};
  const card = reveal.closest(".redirect-run");
  const agrees = card.querySelector("[data-agrees]");
  return {
    run_id: card.dataset.runId,
    agrees: agrees ? agrees.dataset.agrees : null,
    yours: [...card.querySelectorAll("tr.yours")].map((row) => row.dataset.engine),
    values: Object.fromEntries([...card.querySelectorAll("tr[data-engine]")].map((row) => [
      row.dataset.engine,
      [...row.querySelectorAll("td[data-value]")].map((td) => td.dataset.value),
    ])),
    legs: [...card.querySelectorAll(".chain .leg")].map(
      (leg) => [leg.dataset.kind, leg.dataset.originHeader]),
    partings: card.querySelector(".partings") ? card.querySelector(".partings").textContent : "",
  };
}"""

# What each engine does there (the engine's answers, which the real browser must match).
LAB_EXPECTED = {
    "firefox": (["rejects", "page"], ["preflight", "actual", "preflight"], ["page"] * 3),
    "webkit": (["resolves", "null"], ["preflight", "actual", "preflight", "actual"],
               ["page", "page", "null", "null"]),
}  # fmt: skip


def test_the_redirects_lab_reveals_what_this_browser_does(
    browser: str, live: BackgroundServer
) -> None:
    labs = httpx.get(f"{live.site_url}/labs", follow_redirects=False).headers["location"]
    seen: dict[str, Any] = shared_harness(browser).visit(
        f"{live.site_url}{labs}/redirects", LAB_REDIRECT, timeout=25
    )
    assert "run_id" in seen, seen
    values, kinds, origins = LAB_EXPECTED[browser]
    page = {"page": live.site_url, "null": "null"}
    assert seen["legs"] == [[k, page[o]] for k, o in zip(kinds, origins, strict=True)], seen
    assert seen["yours"] == [browser] and seen["values"][browser] == values, seen
    assert seen["agrees"] == "yes", seen
    assert seen["values"]["chromium"] == ["resolves", "null"]
    assert ("Chromium" if browser == "firefox" else "Firefox") in seen["partings"], seen
