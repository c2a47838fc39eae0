"""Each lab end to end in real Chromium: the page's own controls send the requests, and every
expectation is checked against what the API origin recorded of what the browser sent."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.cors import PROFILES
from app.web.server import BackgroundServer

pytestmark = pytest.mark.browser

# Past the modelled expiry before sending again: the browser stores the preflight a few
# milliseconds after the API origin recorded it.
EXPIRY_MARGIN_MS = 400
# Short enough for a fast test, long enough for a second send on a busy machine.
MAX_AGE = 3


def open_lab(page: Any, site: str, lab: str, session: str | None = None) -> str:
    """Open a lab through the Labs link; return the session id."""
    if session is None:
        page.goto(f"{site}/labs")
        session = page.url.split("/sessions/")[1].split("/")[0]
        page.get_by_role(
            "link",
            name={
                "cache": "The preflight cache",
                "redirects": "Redirects",
                "cookies": "Credentials and cookies",
            }[lab],
        ).first.click()
        page.wait_for_url(f"**/labs/{lab}")
    else:
        page.goto(f"{site}/sessions/{session}/labs/{lab}")
    page.wait_for_selector("#lab")
    return session


def recorded(live: BackgroundServer, run_id: str) -> list[dict[str, Any]]:
    """The legs the API origin recorded for a run, from the JSON API; the cookies from the
    store itself (the JSON API shows them redacted to anyone holding the run id)."""
    doc = httpx.get(f"{live.site_url}/api/runs/{run_id}", timeout=10).json()
    run = live.call(live.playground.store.run(run_id))
    assert run is not None and len(run.exchanges) == len(doc["exchanges"])
    return [exchange.to_json() for exchange in run.exchanges]


def header(leg: dict[str, Any], name: str) -> str | None:
    return next((v for k, v in leg["request"]["headers"] if k.lower() == name.lower()), None)


def settled(page: Any, selector: str) -> Any:
    """The element once fetch() has settled and its result is on the card."""
    page.locator(f"{selector} .lab-result:not([data-outcome='pending'])").first.wait_for()
    page.wait_for_selector("#lab[aria-busy='false']")
    return page.locator(selector).first


# --- the preflight cache -----------------------------------------------------------------------


def answer(page: Any, **values: str) -> None:
    """Predict first: answer the lab's questions (``guess_<name>=<value>``)."""
    for name, value in values.items():
        page.check(f"#guess_{name}-{value}")


def cache_send(page: Any, number: int) -> Any:
    send = settled(page, f"li.send[data-send='{number}']")
    return send


def send_again(page: Any, number: int, guess: str = "no") -> Any:
    answer(page, preflight=guess)
    page.locator(".cache-series").first.get_by_role("button", name="Send again to this URL").click()
    return cache_send(page, number)


def at(live: BackgroundServer, send: Any) -> float:
    return float(recorded(live, send.get_attribute("data-run-id"))[0]["received_at"])


def kinds(live: BackgroundServer, send: Any) -> list[str]:
    return [leg["kind"] for leg in recorded(live, send.get_attribute("data-run-id"))]


def test_cache_max_age_seconds_hit_then_expiry(page: Any, live: BackgroundServer) -> None:
    open_lab(page, live.site_url, "cache")
    page.check("#ma-seconds")
    page.fill("#ma-value", str(MAX_AGE))
    answer(page, preflight="yes")
    page.click("#lab-new")
    first = cache_send(page, 1)
    assert kinds(live, first) == ["preflight", "actual"]
    second = send_again(page, 2)
    elapsed = at(live, second) - at(live, first)
    assert elapsed < MAX_AGE, f"send 2 came {elapsed:.1f} s after send 1: too slow to test"
    assert kinds(live, second) == ["actual"]  # the browser skipped the preflight
    assert second.get_attribute("data-observed") == "hit"
    # Predicted first: the reveal scores the answer and agrees with Chromium's prediction.
    assert second.locator(".reveal").get_attribute("data-right") == "1"
    assert second.locator("[data-agrees='yes']").count() == 1
    # The keyboard stays on the button that sent.
    assert page.evaluate("document.activeElement.dataset.labSeries") is not None
    assert "Cache hit" in second.inner_text()
    series = page.locator(".cache-series").first
    assert f"keeps it {MAX_AGE} s" in series.inner_text()
    # The countdown runs out in the page; then the browser preflights again.
    countdown = series.locator(".countdown[data-cache='expired']")
    countdown.wait_for(timeout=5000)
    assert countdown.inner_text().startswith("Expired: the preflight of send ")
    assert "Send again before then" not in countdown.inner_text()
    page.wait_for_timeout(EXPIRY_MARGIN_MS)
    third = send_again(page, 3)
    assert kinds(live, third) == ["preflight", "actual"]
    assert "expired" in third.inner_text()
    # All three went to one URL.
    targets = {
        httpx.get(f"{live.site_url}/api/runs/{s.get_attribute('data-run-id')}").json()["target"]
        for s in (first, second, third)
    }
    assert len(targets) == 1
    assert page.errors == []


def test_cache_max_age_zero_always_preflights_and_absent_uses_the_default(
    page: Any, live: BackgroundServer
) -> None:
    open_lab(page, live.site_url, "cache")
    page.check("#ma-zero")
    answer(page, preflight="yes")
    page.click("#lab-new")
    assert kinds(live, cache_send(page, 1)) == ["preflight", "actual"]
    again = send_again(page, 2)
    assert kinds(live, again) == ["preflight", "actual"]
    assert "Max-Age 0" in again.inner_text()
    # Absent: the default, for Chromium as its profile records it.
    page.check("#ma-absent")
    answer(page, preflight="yes")
    page.click("#lab-new")
    page.locator(".cache-series").nth(1).wait_for()  # the new URL's card is on top
    assert kinds(live, cache_send(page, 1)) == ["preflight", "actual"]
    hit = send_again(page, 2)
    assert kinds(live, hit) == ["actual"]
    default = PROFILES["chromium"].max_age_default
    assert f"keeps it {default} s" in page.locator(".cache-series").first.inner_text()
    assert page.errors == []


def test_cache_entries_remember_credentials(page: Any, live: BackgroundServer) -> None:
    open_lab(page, live.site_url, "cache")
    page.check("#ma-seconds")
    page.fill("#ma-value", "60")
    page.select_option("#cache-credentials", "omit")
    answer(page, preflight="yes")
    page.click("#lab-new")
    assert kinds(live, cache_send(page, 1)) == ["preflight", "actual"]
    page.select_option("#cache-credentials", "include")
    with_credentials = send_again(page, 2)
    assert kinds(live, with_credentials) == ["preflight", "actual"]
    assert "without credentials" in with_credentials.inner_text()
    page.select_option("#cache-credentials", "omit")
    covered = send_again(page, 3)
    assert kinds(live, covered) == ["actual"]
    assert page.errors == []


# --- redirects ------------------------------------------------------------------------------


def redirect(page: Any, live: BackgroundServer, **choices: str) -> tuple[Any, list[Any]]:
    """Send one redirect run through the form; its card and the recorded legs."""
    count = page.locator(".redirect-run").count()
    page.select_option("#rd-method", choices.get("method", "GET"))
    page.select_option("#rd-status", choices.get("status", "307"))
    page.check(
        {"cross": "#rd-cross", "same": "#rd-same", "cross-back": "#rd-back"}[
            choices.get("destination", "cross")
        ]
    )
    page.select_option("#rd-allow", choices.get("allow", "null"))
    page.set_checked("#rd-preflight", choices.get("preflight") == "1")
    page.set_checked("#rd-header", choices.get("header") == "1")
    answer(page, outcome=choices.get("guess_outcome", "resolves"),
           origin=choices.get("guess_origin", "null"))  # fmt: skip
    page.click("#lab-send")
    page.locator(".redirect-run").nth(count).wait_for()
    card = settled(page, ".redirect-run")
    return card, recorded(live, card.get_attribute("data-run-id"))


def outcome(card: Any) -> str:
    return str(card.locator(".lab-result").get_attribute("data-outcome"))


def test_redirects_across_origins_send_origin_null(page: Any, live: BackgroundServer) -> None:
    open_lab(page, live.site_url, "redirects")
    card, legs = redirect(page, live, destination="cross", allow="null")
    assert [header(leg, "origin") for leg in legs] == [live.site_url, "null"]
    assert header(legs[1], "host") == live.api_url.replace("localhost", "127.0.0.1")[7:]
    assert outcome(card) == "allowed"
    assert "tainted origin flag" in card.inner_text()
    # The same hop answered with the page's origin: the browser blocks at that hop.
    card, legs = redirect(page, live, destination="cross", allow="page")
    assert [header(leg, "origin") for leg in legs] == [live.site_url, "null"]
    assert outcome(card) == "blocked"
    assert "fails the CORS check for Origin: null" in card.inner_text()
    # Within one origin the Origin stays; there and back, it stays null.
    card, legs = redirect(page, live, destination="same", allow="page")
    assert [header(leg, "origin") for leg in legs] == [live.site_url, live.site_url]
    assert outcome(card) == "allowed"
    card, legs = redirect(page, live, destination="cross-back", allow="*")
    assert [header(leg, "origin") for leg in legs] == [live.site_url, "null", "null"]
    assert header(legs[2], "host") == live.api_url[7:]  # back on the first origin
    assert outcome(card) == "allowed"
    assert page.errors == []


def test_redirects_rewrite_post_on_301_302_303_and_keep_it_on_307_308(
    page: Any, live: BackgroundServer
) -> None:
    open_lab(page, live.site_url, "redirects")
    seen = {}
    for status in ("301", "302", "303", "307", "308"):
        _, legs = redirect(
            page, live, method="POST", status=status, destination="same", allow="page"
        )
        seen[status] = [(leg["request"]["method"], leg["request"]["body_size"] > 0) for leg in legs]
    assert seen["301"] == seen["302"] == seen["303"] == [("POST", True), ("GET", False)]
    assert seen["307"] == seen["308"] == [("POST", True), ("POST", True)]
    card, legs = redirect(page, live, method="HEAD", status="303", destination="same", allow="page")
    assert [leg["request"]["method"] for leg in legs] == ["HEAD", "HEAD"]
    assert "It arrived as HEAD again" in card.inner_text()
    assert page.errors == []


def test_a_redirected_preflight_is_refused(page: Any, live: BackgroundServer) -> None:
    open_lab(page, live.site_url, "redirects")
    card, legs = redirect(page, live, preflight="1", status="307")
    assert [(leg["kind"], leg["response"]["status"]) for leg in legs] == [("preflight", 307)]
    assert outcome(card) == "blocked"
    assert "never redirected" in card.inner_text()
    assert page.errors == []


def test_a_redirect_send_waits_for_a_prediction_then_reveals_each_engines_answer(
    page: Any, live: BackgroundServer
) -> None:
    open_lab(page, live.site_url, "redirects")
    page.check("#rd-cross")
    page.check("#rd-header")
    page.click("#lab-send")  # no answer yet: nothing is sent
    assert page.locator("#lab-status").inner_text().startswith("Predict first: What will fetch()")
    assert page.evaluate("document.activeElement.id") == "guess_outcome-resolves"
    assert page.locator(".redirect-run").count() == 0
    card, legs = redirect(
        page, live, destination="cross", allow="null", header="1",
        guess_outcome="resolves", guess_origin="page",
    )  # fmt: skip
    # A preflight at each hop, the second one with Origin: null (Chromium).
    assert [(leg["kind"], header(leg, "origin")) for leg in legs] == [
        ("preflight", live.site_url), ("actual", live.site_url),
        ("preflight", "null"), ("actual", "null"),
    ]  # fmt: skip
    reveal = card.locator(".reveal")
    assert reveal.get_attribute("data-right") == "1" and reveal.get_attribute("data-of") == "2"
    assert card.locator("[data-agrees='yes']").count() == 1
    firefox = card.locator("tr[data-engine='firefox'] td").first
    assert firefox.get_attribute("data-value") == "rejects"
    assert "Firefox" in card.locator(".partings").inner_text()
    # Every leg of the chain in the sequence diagram; the answers are cleared for the next send.
    assert card.locator(".lab-sequence .seq-row[data-kind='request']").count() == 4
    assert not page.is_checked("#guess_outcome-resolves")
    assert page.errors == []


# --- credentials and cookies --------------------------------------------------------------------


def cookie_step(page: Any, live: BackgroundServer, form: str, **choices: str) -> tuple[Any, Any]:
    """Submit the set or send form; the card and the recorded legs by kind."""
    count = page.locator(".cookie-run").count()
    prefix = "set" if form == "set" else "send"
    for name, value in choices.items():
        if name == "preflight":
            page.set_checked("#send-preflight", value == "1")
        else:
            page.select_option(f"#{prefix}-{name}", value)
    page.click("#lab-set-send" if form == "set" else "#lab-check-send")
    page.locator(".cookie-run").nth(count).wait_for()
    card = settled(page, ".cookie-run")
    legs = {leg["kind"]: leg for leg in recorded(live, card.get_attribute("data-run-id"))}
    return card, legs


def test_cookies_same_site_come_back_only_with_include_and_never_on_the_preflight(
    page: Any, live: BackgroundServer
) -> None:
    open_lab(page, live.site_url, "cookies")
    # A Set-Cookie answered to credentials "same-origin" is ignored by the browser.
    cookie_step(page, live, "set", samesite="unset", credentials="same-origin", target="same")
    card, legs = cookie_step(page, live, "send", credentials="include", target="same")
    assert header(legs["actual"], "cookie") is None
    # With include it is stored, and comes back only with include.
    setter, _ = cookie_step(page, live, "set", samesite="unset", credentials="include")
    value = setter.get_attribute("data-run-id")[:10]
    came_back = {}
    for credentials in ("omit", "same-origin", "include"):
        card, legs = cookie_step(page, live, "send", credentials=credentials, preflight="1")
        assert card.get_attribute("data-relation") == "same-site"
        assert header(legs["preflight"], "cookie") is None  # a preflight never carries it
        came_back[credentials] = header(legs["actual"], "cookie")
    assert came_back["omit"] is None and came_back["same-origin"] is None
    assert came_back["include"] is not None and f"={value}" in came_back["include"]
    assert "preflight carried no Cookie" in card.inner_text()
    assert f"set by run {value}" in card.inner_text()
    assert page.errors == []


def test_cookies_cross_site_pair(page: Any, context: Any, live: BackgroundServer) -> None:
    # A SameSite=Lax cookie for localhost, set while localhost was the page's site.
    session = open_lab(page, live.site_url, "cookies")
    cookie_step(page, live, "set", samesite="lax", credentials="include", target="same")
    card, legs = cookie_step(page, live, "send", credentials="include", target="same")
    assert header(legs["actual"], "cookie") is not None
    # The same session from 127.0.0.1: the API on localhost is now cross-site.
    other = context.new_page()
    other.errors = []
    other.on("pageerror", lambda error: other.errors.append(str(error)))
    open_lab(other, live.site_url.replace("localhost", "127.0.0.1"), "cookies", session)
    card, legs = cookie_step(other, live, "send", credentials="include", target="cross")
    assert card.get_attribute("data-relation") == "cross-site"
    assert header(legs["actual"], "cookie") is None  # Lax stays home
    assert "cross-site" in card.inner_text()
    # A Partitioned cookie set from this top-level site comes back here, and only with include.
    cookie_step(other, live, "set", samesite="partitioned", credentials="include", target="cross")
    sent = {}
    for credentials in ("omit", "same-origin", "include"):
        card, legs = cookie_step(other, live, "send", credentials=credentials, target="cross")
        assert header(legs["preflight"], "cookie") is None
        sent[credentials] = header(legs["actual"], "cookie")
    assert sent["omit"] is None and sent["same-origin"] is None
    assert sent["include"] is not None
    assert "Partitioned" in card.inner_text()
    assert other.errors == [] and page.errors == []


def test_a_second_window_on_the_lab_fills_in_live(
    page: Any, context: Any, live: BackgroundServer
) -> None:
    session = open_lab(page, live.site_url, "redirects")
    watcher = context.new_page()
    watcher.errors = []
    watcher.on("pageerror", lambda error: watcher.errors.append(str(error)))
    open_lab(watcher, live.site_url, "redirects", session)
    watcher.wait_for_timeout(200)  # its event stream is open
    page.bring_to_front()
    card, legs = redirect(page, live, destination="cross", allow="null")
    run_id = card.get_attribute("data-run-id")
    # Only the event stream tells the second window: it never sent anything itself.
    live_card = watcher.locator(f".redirect-run[data-run-id='{run_id}']")
    live_card.locator(".lab-result[data-outcome='allowed']").wait_for()
    assert live_card.locator(".leg").count() == len(legs) == 2
    assert watcher.errors == []
