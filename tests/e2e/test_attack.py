"""The attack lab end to end in real Chromium: the lab's own controls pick the policy and log
in, the attacker's page (a third origin) really runs the exploit in the browser, and every
expectation is checked against what the victim API recorded (each leg's Origin and Cookie) and
what the attacker's log holds (what the browser let its script read).

Chromium runs two ways: in a fresh browsing context (as Incognito: third-party cookies blocked)
and with an ordinary profile (third-party cookies allowed, Chrome's default outside Incognito).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.attack import Attack
from app.harness.chromium import CHROMIUM_ARGS, find_chromium
from app.web.server import BackgroundServer
from tests.e2e.conftest import LAN_NAME

pytestmark = pytest.mark.browser


@pytest.fixture
def ordinary(browser: Any) -> Iterator[Any]:
    """A Chromium profile as a person's everyday one: third-party cookies allowed."""
    with tempfile.TemporaryDirectory(prefix="attack-profile-") as folder:
        (Path(folder) / "Default").mkdir()
        preferences = {"profile": {"cookie_controls_mode": 0, "block_third_party_cookies": False}}
        (Path(folder) / "Default" / "Preferences").write_text(json.dumps(preferences))
        options: dict[str, Any] = {"headless": True, "args": list(CHROMIUM_ARGS)}
        if find_chromium():
            options["executable_path"] = find_chromium()
        context = browser.browser_type.launch_persistent_context(folder, **options)
        context.set_default_timeout(10_000)
        yield context
        context.close()


def watched(page: Any) -> Any:
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


def open_lab(page: Any, site: str) -> str:
    """Open the attack lab in a new session; return the attack's id."""
    page.goto(f"{site}/attack")
    page.wait_for_selector("#attack-live")
    events = page.locator("#attack").get_attribute("data-events")
    return str(events.split("/sessions/")[1].split("/")[0])


def choose(page: Any, case: str, where: str = "same") -> None:
    page.check(f"#case-{case}")
    page.check(f"#where-{where}")
    page.click("#policy-apply")
    page.wait_for_url("**/attack#steps")
    page.wait_for_selector("#attack-live")


def log_in(page: Any) -> None:
    page.click("#login")
    page.wait_for_url("**/attack")
    page.wait_for_selector("#attack-live[data-logged-in='yes']")


def attack(page: Any, context: Any, link: str = "#visit") -> Any:
    """Open the attacker's page from the lab; return it once its script is done, and wait
    for the lab to show the round."""
    rounds = int(page.locator("#attack-live").get_attribute("data-rounds"))
    with context.expect_page() as opened:
        page.click(link)
    attacker = watched(opened.value)
    attacker.wait_for_selector("#attacker[data-state='done']", timeout=20_000)
    page.bring_to_front()
    page.wait_for_selector(
        f"#attack-live[data-rounds='{rounds + 1}']:not([data-verdict='pending'])",
        timeout=15_000,
    )
    return attacker


def the_attack(live: BackgroundServer, attack_id: str) -> Attack:
    found = live.call(live.playground.attacks.get(attack_id))
    assert found is not None
    return found


def recorded(live: BackgroundServer, attack_id: str) -> dict[str, dict[str, Any]]:
    """The latest round, per attempt: the leg the victim API recorded (its Origin, whether it
    carried a login cookie, what it answered), and the attacker's log entry."""
    found = the_attack(live, attack_id)
    latest = found.rounds[-1]
    out: dict[str, dict[str, Any]] = {}
    for key, run_id in latest.runs.items():
        run = live.call(live.playground.store.run(run_id))
        assert run is not None
        legs = run.actuals
        report = found.reported(run_id)
        out[key] = {
            "arrived": bool(legs),
            "origin": legs[0].request.header("origin") if legs else None,
            "carried": found.cookies_carried(legs[0].request.header("cookie")) if legs else (),
            "status": legs[0].response.status if legs else None,
            "outcome": None if report is None else report.outcome,
            "stolen": report is not None and report.stolen,
            "read": None if report is None else report.read,
        }
    return out


def verdict(page: Any) -> str:
    return str(page.locator("#attack-live").get_attribute("data-verdict"))


def attempt_verdict(page: Any, attempt: str) -> str:
    return str(
        page.locator(f".why .attempt[data-attempt='{attempt}']").get_attribute("data-verdict")
    )


def check_site(page: Any) -> str:
    page.click("#site-check")
    page.wait_for_selector("#attack-live:not([data-site='none']):not([data-site='pending'])")
    return str(page.locator("#attack-live").get_attribute("data-site"))


def test_reflection_hands_over_the_secret_and_the_fix_stops_the_replay(
    page: Any, context: Any, live: BackgroundServer
) -> None:
    watched(page)
    attack_id = open_lab(page, live.site_url)
    choose(page, "reflect")
    log_in(page)
    attacker = attack(page, context)
    secret = the_attack(live, attack_id).secret
    seen = recorded(live, attack_id)
    attacker_origin = live.settings.attacker_url
    assert seen["page"]["origin"] == attacker_origin
    assert seen["page"]["carried"]  # the login cookie went along
    assert seen["page"]["status"] == 200 and seen["page"]["stolen"]
    assert secret in seen["page"]["read"]
    # Without cookies the API cannot tell who asks: readable, but nothing secret.
    assert seen["anonymous"]["outcome"] == "allowed" and seen["anonymous"]["status"] == 401
    assert not seen["anonymous"]["stolen"] and not seen["anonymous"]["carried"]
    # The attacker's page, the lab's log and its verdict say the same.
    assert "with your secret in it" in attacker.locator("#attempts").inner_text()
    assert secret in attacker.locator("#attacker-log").inner_text()
    assert verdict(page) == "stolen"
    assert secret in page.locator(".attacker-log").inner_text()
    assert attempt_verdict(page, "page") == "stolen"
    why = page.locator(".why .attempt[data-attempt='page'] table.engines")
    assert why.locator("tr[data-outcome='allowed']").count() == 3  # every engine lets it read
    console = page.locator(".victim-console").inner_text()
    assert f"Origin: {attacker_origin}" in console and "your login cookie" in console
    # Fix it: the smallest change, then replay the same attack.
    assert "moves the problem" in page.locator("table.alternatives").inner_text()
    assert page.locator(".configs .config").count() == 6
    page.click("#apply-fix")
    page.wait_for_url("**/attack#fix")
    assert "allows exactly" in page.locator(".current").inner_text()
    replay = attack(page, context, "#replay")
    seen = recorded(live, attack_id)
    assert seen["page"]["origin"] == attacker_origin and seen["page"]["carried"]
    assert seen["page"]["outcome"] == "blocked" and not seen["page"]["stolen"]
    assert seen["sandbox"]["outcome"] == "blocked"
    assert verdict(page) == "refused"
    assert "refused to let this script read" in replay.locator("#attempts").inner_text()
    # The legitimate site keeps working.
    assert check_site(page) == "works"
    assert page.errors == [] and attacker.errors == [] and replay.errors == []


@pytest.mark.parametrize("case", ["prefix", "suffix"])
def test_prefix_and_suffix_checks_trust_the_attacker_s_origin(
    case: str, page: Any, context: Any, live: BackgroundServer
) -> None:
    watched(page)
    attack_id = open_lab(page, live.site_url)
    choose(page, case)
    log_in(page)
    attack(page, context)
    seen = recorded(live, attack_id)
    assert seen["page"]["origin"] == live.settings.attacker_url
    assert seen["page"]["stolen"] and seen["page"]["carried"]
    # The sandboxed frame's Origin: null passes neither check.
    assert seen["sandbox"]["origin"] == "null" and seen["sandbox"]["outcome"] == "blocked"
    assert verdict(page) == "stolen"
    production = "trusted.example.attacker.example" if case == "prefix" else "attackertrusted"
    assert production in page.locator(".fix .assessment").inner_text() or production in (
        page.locator(".attack-policy").inner_text()
    )
    page.click("#apply-fix")
    page.wait_for_url("**/attack#fix")
    attack(page, context, "#replay")
    assert recorded(live, attack_id)["page"]["outcome"] == "blocked"
    assert verdict(page) == "refused"
    assert page.errors == []


def test_wildcard_without_credentials_gives_away_nothing_secret(
    page: Any, context: Any, live: BackgroundServer
) -> None:
    watched(page)
    attack_id = open_lab(page, live.site_url)
    choose(page, "wildcard")
    log_in(page)
    attack(page, context)
    seen = recorded(live, attack_id)
    # With cookies: the request goes out and the cookie with it, but * never covers a
    # credentialed read. Without: readable, and the API answers as to a stranger.
    assert seen["page"]["carried"] and seen["page"]["outcome"] == "blocked"
    assert seen["anonymous"]["outcome"] == "allowed" and seen["anonymous"]["status"] == 401
    assert not any(item["stolen"] for item in seen.values())
    assert verdict(page) == "refused"
    assert attempt_verdict(page, "anonymous") == "anonymous"
    assert "nothing secret" in page.locator(".why").inner_text()
    # Your own site cannot read with cookies under * either: it is broken too.
    assert check_site(page) == "broken"
    assert page.errors == []


def test_an_exact_allow_list_refuses_the_attack_and_serves_the_site(
    page: Any, context: Any, live: BackgroundServer
) -> None:
    watched(page)
    attack_id = open_lab(page, live.site_url)
    choose(page, "allow-list")
    log_in(page)
    attack(page, context)
    seen = recorded(live, attack_id)
    assert all(item["outcome"] == "blocked" for key, item in seen.items() if key != "anonymous")
    assert seen["page"]["carried"]  # CORS never stopped the request, only the read
    assert not any(item["stolen"] for item in seen.values())
    assert verdict(page) == "refused"
    assert page.locator("#apply-fix").count() == 0  # nothing to fix
    assert check_site(page) == "works"
    assert page.errors == []


def test_trusted_null_from_a_sandboxed_frame(
    page: Any, context: Any, ordinary: Any, live: BackgroundServer
) -> None:
    # In Incognito-like Chromium the sandboxed frame is third-party for cookies: the read is
    # allowed by CORS, but no cookie goes, and the lab says it was not CORS.
    watched(page)
    attack_id = open_lab(page, live.site_url)
    choose(page, "null")
    log_in(page)
    attack(page, context)
    seen = recorded(live, attack_id)
    assert seen["sandbox"]["origin"] == "null"
    assert seen["sandbox"]["outcome"] == "allowed" and not seen["sandbox"]["carried"]
    assert seen["page"]["outcome"] == "blocked"
    assert verdict(page) == "cookie"
    assert attempt_verdict(page, "sandbox") == "no-cookie"
    assert "not thanks to CORS" in page.locator(".why").inner_text()
    # With an everyday profile the cookie goes along, and the frame reads the account.
    lab = watched(ordinary.new_page())
    attack_id = open_lab(lab, live.site_url)
    choose(lab, "null")
    log_in(lab)
    attack(lab, ordinary)
    seen = recorded(live, attack_id)
    assert seen["sandbox"]["origin"] == "null" and seen["sandbox"]["carried"] == ("cross-site",)
    assert seen["sandbox"]["stolen"]
    assert verdict(lab) == "stolen"
    lab.click("#apply-fix")
    lab.wait_for_url("**/attack#fix")
    attack(lab, ordinary, "#replay")
    assert recorded(live, attack_id)["sandbox"]["outcome"] == "blocked"
    assert verdict(lab) == "refused"
    assert page.errors == [] and lab.errors == []


def test_a_cross_site_attacker_meets_third_party_cookie_rules(
    page: Any, context: Any, ordinary: Any, live: BackgroundServer
) -> None:
    watched(page)
    attack_id = open_lab(page, live.site_url)
    choose(page, "reflect", where="cross")
    log_in(page)
    attack(page, context)
    seen = recorded(live, attack_id)
    cross = live.settings.attacker_url.replace("localhost", "127.0.0.1")
    assert seen["page"]["origin"] == cross and not seen["page"]["carried"]
    assert seen["page"]["outcome"] == "allowed" and not seen["page"]["stolen"]
    assert verdict(page) == "cookie"
    assert "Incognito" in page.locator(".why").inner_text()
    # An everyday profile sends the SameSite=None cookie to the other site.
    lab = watched(ordinary.new_page())
    attack_id = open_lab(lab, live.site_url)
    choose(lab, "reflect", where="cross")
    log_in(lab)
    attack(lab, ordinary, "#one-click")
    seen = recorded(live, attack_id)
    assert seen["page"]["carried"] == ("cross-site",) and seen["page"]["stolen"]
    assert verdict(lab) == "stolen"
    assert page.errors == [] and lab.errors == []


def test_on_a_lan_name_the_attacker_is_another_port_of_the_same_name(
    page: Any, context: Any, live: BackgroundServer
) -> None:
    site = live.site_url.replace("localhost", LAN_NAME)
    watched(page)
    attack_id = open_lab(page, site)
    assert page.locator("#where-cross").count() == 0
    choose(page, "reflect")
    log_in(page)
    attack(page, context, "#visit")
    seen = recorded(live, attack_id)
    # No Secure cookie on plain http away from loopback: the same-site Lax cookie goes along.
    assert seen["page"]["origin"] == live.settings.attacker_url.replace("localhost", LAN_NAME)
    assert seen["page"]["carried"] == ("same-site",) and seen["page"]["stolen"]
    assert page.errors == []


def test_an_attack_lesson_from_the_question_to_the_failed_replay(
    page: Any, context: Any, live: BackgroundServer
) -> None:
    watched(page)
    page.goto(f"{live.site_url}/attack/lessons")
    page.get_by_role("link", name="The attacker's page and a reflected origin").click()
    page.wait_for_selector("#lesson-question")
    page.check("#choice-1")  # yes
    page.click("#answer")
    page.wait_for_selector("#steps")
    assert page.locator(".judgement").get_attribute("data-right") == "yes"
    attack_id = str(page.locator("#attack").get_attribute("data-events")).split("/")[2]
    attack(page, context, "#one-click")
    assert recorded(live, attack_id)["page"]["stolen"]
    assert verdict(page) == "stolen"
    page.click("#apply-fix")
    page.wait_for_url("**/attack/lessons/attack-reflect#fix")
    attack(page, context, "#replay")
    assert recorded(live, attack_id)["page"]["outcome"] == "blocked"
    assert verdict(page) == "refused"
    page.get_by_role("link", name="A sandboxed frame and the trusted null →").click()
    page.wait_for_selector("#lesson-question")
    assert page.errors == []
