"""A workshop room in real browsers: an instructor's host page and projector view (Chromium),
two attendees in Chromium browsing contexts of their own, one in Firefox and one in WebKitGTK
(the harness).
They join, the host asks, each answers where they are, the host page's tallies move live,
the host reveals, every attendee's own browser sends the scenario, and the host page shows
what the room's browsers did, grouped by engine; then the export and the close.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.attack.view import attack_id
from app.harness import shared_harness
from app.web.events import runs_topic
from app.web.server import BackgroundServer

pytestmark = pytest.mark.browser

HOSTILE_NAME = "<img src=x onerror=document.title=1>Ada"

# The Firefox and WebKit attendees, on the playground page of a session already in the room:
# wait for the question in the banner, answer it, then wait until this browser has sent the
# scenario and the banner shows what it did.
FIREFOX_ATTENDEE = """async () => {
  const wait = async (test, ms) => {
    const end = Date.now() + ms;
    let found;
    while (!(found = test())) {
      if (Date.now() > end) return null;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return found;
  };
  const banner = document.getElementById("room-banner");
  if (!banner) return {error: "no banner"};
  const button = await wait(
    () => banner.querySelector('button.choice[data-choice="allow-headers"]'), 60000);
  if (!button) return {error: "no question", text: banner.textContent};
  button.click();
  const result = await wait(() => banner.querySelector(".your-result"), 90000);
  return {
    outcome: result ? result.dataset.outcome : null,
    text: banner.textContent.replace(/\\s+/g, " "),
    bars: [...banner.querySelectorAll("ol.bars li")].map(
      (li) => [li.dataset.choice, li.querySelector(".count").textContent]),
    cards: document.querySelectorAll("#runs .run[data-state='done']").length,
    agent: navigator.userAgent,
  };
}"""


@pytest.fixture
def contexts(browser: Any) -> Iterator[list[Any]]:
    """Three browsing contexts of their own: the instructor and two attendees."""
    made = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(3)]
    for ctx in made:
        ctx.set_default_timeout(20_000)
    yield made
    for ctx in made:
        ctx.close()


def watched(context: Any) -> Any:
    """A page that records its script errors, CSP refusals and event stream requests (the
    console's CORS errors are the lesson, not a fault)."""
    page = context.new_page()
    page.errors = []
    page.streams = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on(
        "console",
        lambda message: page.errors.append(message.text)
        if "Content Security Policy" in message.text
        else None,
    )
    page.on(
        "request",
        lambda request: page.streams.append(request.url) if "/events" in request.url else None,
    )
    return page


def join_in_chromium(page: Any, live: BackgroundServer, code: str, name: str) -> str:
    page.goto(f"{live.site_url}/join")
    page.fill("#join-code", code.lower())
    page.fill("#join-name", name)
    page.click("button[type=submit]")
    page.wait_for_selector("#room-banner")
    page.wait_for_selector("#prediction .prediction-body")
    return str(page.url.split("/sessions/")[1].split("?")[0])


def test_a_room_in_real_browsers(contexts: list[Any], live: BackgroundServer) -> None:
    instructor, ada_ctx, cyd_ctx = contexts
    host = watched(instructor)
    host.goto(f"{live.site_url}/rooms")
    host.fill("#room-title", "CORS in the real world")
    host.click("button[type=submit]")
    host.wait_for_selector("#join-code")
    code = host.text_content("#join-code").strip()
    assert "/rooms/host/" in host.url
    host_key = host.url.rsplit("/", 1)[1]
    assert host.locator("#join-warning").is_visible()  # the playground listens on localhost
    assert host.locator("img.qr").evaluate("img => img.complete && img.naturalWidth > 0")

    projector = watched(instructor)
    projector.goto(live.site_url + host.get_attribute("#room .room-links a[target]", "href"))
    projector.wait_for_selector("#join-code")
    assert host_key not in projector.url and host_key not in projector.content()
    # Large type, high contrast: read from the back of the room.
    size = "(s) => parseFloat(getComputedStyle(document.querySelector(s)).fontSize)"
    assert projector.evaluate(size, "#join-code") >= 1.5 * host.evaluate(size, "#join-code")
    assert projector.evaluate(size, "#room") >= 1.5 * host.evaluate(size, "#room")
    assert projector.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(0, 0, 0)"

    # Two attendees join in Chromium, one of them with a name that is markup.
    ada = watched(ada_ctx)
    ada_sid = join_in_chromium(ada, live, code, HOSTILE_NAME)
    cyd = watched(cyd_ctx)
    join_in_chromium(cyd, live, code, "Cyd")
    ada.fill("#f-request-method", "DELETE")  # what Ada is composing stays as it is

    # The Firefox and WebKit attendees: joined through the API, their pages opened by the
    # harness, each in a thread of its own.
    def attendee_in(browser: str, name: str) -> tuple[str, dict[str, Any], threading.Thread]:
        joined = httpx.post(f"{live.site_url}/api/rooms/join", json={"code": code, "name": name})
        sid = joined.json()["session"]
        seen: dict[str, Any] = {}

        def run() -> None:
            try:
                seen.update(shared_harness(browser).visit(
                    f"{live.site_url}/sessions/{sid}", FIREFOX_ATTENDEE, timeout=150
                ))  # fmt: skip
            except Exception as exc:  # reported below
                seen["error"] = repr(exc)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return sid, seen, thread

    bob_sid, bob, firefox = attendee_in("firefox", "Bob")
    _, wes, webkit = attendee_in("webkit", "Wes")

    host.wait_for_selector("#attendees tr[data-attendee='4']")
    name_cell = host.locator("#attendees tr[data-attendee='1'] .name")
    assert name_cell.text_content() == HOSTILE_NAME
    assert host.locator("#attendees img").count() == 0

    # Ask a classic misconfiguration; each attendee answers in the banner where they are.
    host.check("#src-classic")
    host.select_option("#ask-classic", "custom-header")
    host.click("#ask")
    host.wait_for_selector("#question[data-number='1']")
    for page, choice in ((ada, "allow-headers"), (cyd, "none")):
        page.click(f"#room-banner button.choice[data-choice='{choice}']")
        page.wait_for_selector(f"#room-banner button.choice[data-choice='{choice}'][aria-pressed]")
    host.wait_for_selector("#tally .answered[data-answered='4']", timeout=90_000)
    counts = {
        li.get_attribute("data-choice"): li.locator(".count").text_content()
        for li in host.locator("#tally ol.bars li").all()
    }
    assert counts["allow-headers"] == "3" and counts["none"] == "1", counts
    assert "3 answered" not in projector.text_content("#tally")  # the projector: 4 answered
    projector.wait_for_selector("#tally .answered[data-answered='4']")
    assert projector.locator("#tally ol.bars").count() == 0  # no split before the reveal

    # Reveal: every attendee's own browser sends the scenario; results grouped by engine.
    host.click("#reveal")
    host.wait_for_selector(
        "#results li[data-engine='chromium'][data-outcome='blocked'][data-count='2']"
    )
    for engine in ("firefox", "webkit"):
        host.wait_for_selector(
            f"#results li[data-engine='{engine}'][data-outcome='blocked'][data-count='1']",
            timeout=90_000,
        )
    for engine in ("chromium", "firefox", "webkit"):
        group = host.locator(f"#results li[data-engine='{engine}']")
        assert group.get_attribute("data-matched") == group.get_attribute("data-count")
    host.wait_for_selector("#explanation .fix-it")  # the playground's own why and fix
    assert host.locator("#tally p.expected").get_attribute("data-expected") == "allow-headers"
    for thread, seen in ((firefox, bob), (webkit, wes)):
        thread.join(120)
        assert seen.get("outcome") == "blocked", seen
        assert seen["cards"] == 1 and ["allow-headers", "3"] in seen["bars"], seen
    assert "Firefox" in host.text_content("#attendees tr[data-attendee='3'] .browser")
    assert "Safari" in host.text_content("#attendees tr[data-attendee='4'] .browser") or (
        "WebKit" in host.text_content("#attendees tr[data-attendee='4'] .browser")
    )
    assert host.locator("#attendees tr[data-attendee='4']").get_attribute("data-engine") == "webkit"

    # Lesson progress comes live: Bob answers a lesson, the host's grid shows that cell.
    lesson = f"{live.site_url}/sessions/{bob_sid}/lessons/simple-get/answer"
    assert httpx.post(lesson, data={"choice": "no"}).status_code == 303
    host.wait_for_selector(
        "#progress tr[data-attendee='3'] td[data-lesson='simple-get'][data-answer='right']"
    )

    # Ada: her run's card arrived on her page, her composer kept what she typed, the room's
    # tallies are hers to see, the other attendees' names never.
    ada.wait_for_selector("#runs .run[data-state='done']")
    ada.wait_for_selector("#room-banner .your-result[data-outcome='blocked']")
    assert ada.input_value("#f-request-method") == "DELETE"
    assert ada.locator("#room-banner ol.bars li").count() == 7
    assert "Cyd" not in ada.content() and "Bob" not in ada.content()
    # One event stream for everything on an attendee's page.
    assert len({url.split("?")[0] for url in ada.streams}) == 1, ada.streams
    assert live.playground.bus.subscriber_count(runs_topic(ada_sid)) == 1
    projector.wait_for_selector("#results li[data-engine='chromium'][data-count='2']")
    assert "Cyd" not in projector.content()

    # The room console: what the API origin received from the room.
    host.wait_for_selector("#console .console-question[data-question='1']")
    host.wait_for_selector("#console .console-question[data-question='1']:has-text('×4')")
    assert "preflight ×4" in host.text_content("#console")

    # Export, then close: the attendees see it; their sessions keep working.
    with host.expect_download() as download:
        host.click("#export-csv")
    with open(download.value.path(), encoding="utf-8") as exported:
        rows = list(csv.DictReader(io.StringIO(exported.read())))
    assert [(r["name"], r["answer"], r["outcome"]) for r in rows] == [
        (HOSTILE_NAME, "allow-headers", "blocked"),
        ("Cyd", "none", "blocked"),
        ("Bob", "allow-headers", "blocked"),
        ("Wes", "allow-headers", "blocked"),
    ]
    host.click("#close-room")
    host.click("#close-room")
    cyd.wait_for_selector("#room-banner[data-state='closed']")
    assert "closed" in cyd.text_content("#room-banner .room-status")
    assert httpx.get(f"{live.site_url}/sessions/{bob_sid}").status_code == 200

    for page in (host, projector, ada, cyd):
        assert page.errors == [], page.errors
    assert host.title() != "1" and ada.title() != "1"


def test_an_attack_question_runs_the_attack_in_the_attendee_s_browser(
    contexts: list[Any], live: BackgroundServer
) -> None:
    """The instructor asks an attack question; the attendee answers in the banner; on the
    reveal their own Chromium logs in to the victim API and the attacker's page (a frame of
    the attacker's origin) attacks from it; the host page shows what the victim API and the
    attacker's log recorded. Then the trusted null: the sandboxed frame's read is allowed by
    CORS, but this Chromium (as Incognito: third-party cookies blocked) keeps the login cookie
    back, and the room says it was a cookie policy, not CORS."""
    instructor, ada_ctx, _ = contexts
    host = watched(instructor)
    host.goto(f"{live.site_url}/rooms")
    host.fill("#room-title", "The attacker's view")
    host.click("button[type=submit]")
    host.wait_for_selector("#join-code")
    code = host.text_content("#join-code").strip()
    host_api = live.site_url + "/api/rooms/host/" + host.url.rsplit("/", 1)[1]
    ada = watched(ada_ctx)
    ada_sid = join_in_chromium(ada, live, code, "Ada")
    host.wait_for_selector("#attendees tr[data-attendee='1'][data-connected='yes']")
    attacker = live.settings.attacker_url

    def ask(key: str, number: int) -> None:
        host.check("#src-attack")
        host.select_option("#ask-attack", key)
        host.click("#ask")
        host.wait_for_selector(f"#question[data-number='{number}']")
        assert "Will the attacker's page read the secret?" in host.text_content("#question")
        banner = f"#room-banner[data-question='{number}']"
        ada.wait_for_selector(f"{banner} button.choice[data-choice='yes']")
        assert f"The attacker's page at {attacker}" in ada.text_content("#room-banner") or (
            "sandboxed frame" in ada.text_content("#room-banner")
        )
        ada.click("#room-banner button.choice[data-choice='yes']")
        host.wait_for_selector("#tally .answered[data-answered='1']")
        host.click("#reveal")

    ask("reflect-page", 1)
    ada.wait_for_selector("#room-banner .your-result[data-verdict='stolen']", timeout=30_000)
    frame = ada.frame_locator("#room-banner .room-attack iframe")
    assert frame.locator("#attacker").get_attribute("data-stolen") == "1"
    host.wait_for_selector(
        "#results table.attack-groups tr[data-engine='chromium'][data-stolen='1'][data-matched='1']"
    )
    host.wait_for_selector("#explanation .secure-fix[data-status='stops']")
    assert "stolen" in host.text_content("#attendees tr[data-attendee='1'] .result")

    # What the victim API and the attacker's log recorded, the room's JSON and the server's own.
    row = httpx.get(host_api).json()["attendees"][0]["result"]
    assert row["verdict"] == "stolen" and row["stolen"] is True and row["agreement"] is True
    assert row["recorded"] == {
        "origin": attacker, "login_cookies": ["cross-site", "same-site"], "status": 200,
        "secret_in_attackers_log": True,
    }  # fmt: skip
    lab = live.call(live.playground.attacks.get(attack_id(ada_sid)))
    assert lab is not None
    report = lab.reported(row["run_id"])
    assert report is not None and report.stolen and lab.secret in (report.read or "")
    run = live.call(live.playground.store.run(row["run_id"]))
    assert run is not None and run.actuals[0].request.header("origin") == attacker
    assert lab.cookies_carried(run.actuals[0].request.header("cookie"))

    ask("null-sandbox", 2)
    ada.wait_for_selector("#room-banner .your-result[data-verdict='no-cookie']", timeout=30_000)
    assert "not thanks to CORS" in ada.text_content("#room-banner .your-result")
    groups = "#results table.attack-groups"
    host.wait_for_selector(f"{groups} tr[data-engine='chromium'][data-cookie='1']")
    assert "a cookie policy (not CORS)" in host.text_content("#results .findings")
    row = httpx.get(host_api).json()["attendees"][0]["result"]
    assert row["recorded"]["origin"] == "null" and row["recorded"]["login_cookies"] == []
    assert row["outcome"] == "allowed" and row["stolen"] is False

    exported = list(csv.DictReader(io.StringIO(httpx.get(host_api + "/results.csv").text)))
    assert [(r["question"], r["secret_stolen"], r["attack_verdict"]) for r in exported] == [
        ("1", "yes", "stolen"),
        ("2", "no", "no-cookie"),
    ]
    for page in (host, ada):
        assert page.errors == [], page.errors
