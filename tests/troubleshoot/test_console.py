"""Console messages read back: every message the engine can produce for the three browsers
parses to the check that produced it, and the scenario built from it fails that check again.

Chromium's and Firefox's messages come from the templates checked against the real browsers
(``tests/fix/console-truth.json``); WebKit's from its source's wording (app/troubleshoot/
console.py). Targets are then moved to awkward URLs and origins (IPv6 literals, ports, paths,
quotes) to check that the reader does not depend on plain ones.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from app.cors import Scenario, predict
from app.fix.messages import BLOCKED_BY_NAMES, chromium_console, firefox_console
from app.generate import edge_cases, generate
from app.troubleshoot.console import NOT_KNOWN, parse_console, reproduce, webkit_console

TRUTH = Path(__file__).parents[1] / "fix" / "console-truth.json"
RENDER = {"chromium": chromium_console, "firefox": firefox_console, "webkit": webkit_console}
TARGETS = {
    "plain": ("http://localhost:8701", "http://localhost:8702/t/x"),
    "ipv6": ("http://[::1]:3000", "http://[::1]:8080/api/v1/items?id=7"),
    "quotes": ("https://app.example:8443", "https://api.example/it's/a%20'quoted'/path?q='1'"),
    "ports-paths": ("http://127.0.0.1:5173", "http://127.0.0.1:9/a/b/c.json#frag"),
}


def _scenarios() -> list[Scenario]:
    recorded = json.loads(TRUTH.read_text("utf-8"))
    found = [Scenario.from_json(doc) for doc in recorded["scenarios"]]
    for doc in generate(300, seed=5) + edge_cases():
        found.append(Scenario.from_json({k: v for k, v in doc.items() if k != "mutations"}))
    return found


def _cases() -> list[Any]:
    """One case per (browser, failed check, target): the first scenario reaching it."""
    cases = []
    scenarios = _scenarios()
    for browser in RENDER:
        seen: set[str] = set()
        for scenario in scenarios:
            prediction = predict(scenario, browser)
            name = prediction.blocked_by
            if prediction.outcome != "blocked" or name is None or name in seen:
                continue
            if not RENDER[browser](scenario, prediction):
                continue
            seen.add(name)
            for target, (origin, url) in TARGETS.items():
                cases.append(
                    pytest.param(
                        browser,
                        scenario.with_target(origin, url),
                        id=f"{browser}-{name}-{target}",
                    )
                )
    return cases


CASES = _cases()


@pytest.mark.parametrize(("browser", "scenario"), CASES)
def test_each_message_reads_back_to_the_check_that_printed_it(
    browser: str, scenario: Scenario
) -> None:
    prediction = predict(scenario, browser)
    lines = RENDER[browser](scenario, prediction)
    reading = parse_console("\n".join(lines))
    assert reading.recognised and reading.browser == browser
    expected = prediction.blocked_by
    status = scenario.preflight_response.status
    if browser == "webkit" and reading.check == "PreflightInvalidStatus":
        # WebKit checks a preflight's status before anything else.
        assert expected is not None and not 200 <= status <= 299
    elif browser == "webkit" and reading.checks[:2] == (
        "PreflightInvalidStatus",
        "PreflightDisallowedRedirect",
    ):
        assert 300 <= status <= 399
    else:
        assert expected in reading.checks, (lines, reading.checks)
    assert reading.url == scenario.url
    if browser == "chromium":
        assert reading.origin == scenario.origin
    else:  # Firefox never names the origin; WebKit only in "Origin … is not allowed"
        assert reading.origin in (None, scenario.origin)
    reproduction = reproduce(reading)
    assert reproduction is not None
    assert reproduction.reproduces, (reading.checks, reproduction.prediction.blocked_by)


@pytest.mark.parametrize("browser", ["chromium", "firefox", "webkit"])
def test_every_check_the_browser_reports_is_reached(browser: str) -> None:
    reached = {c.id.split("-")[1] for c in CASES if c.id.startswith(browser + "-")}
    if browser == "chromium":
        assert reached == set(BLOCKED_BY_NAMES)
    elif browser == "firefox":
        # Firefox names every wrong single Allow-Origin value a mismatch.
        assert reached == set(BLOCKED_BY_NAMES) - {
            "InvalidAllowOriginValue",
            "PreflightInvalidAllowOriginValue",
        }
    else:
        assert len(reached) >= 14


def test_a_two_line_firefox_message_tells_the_preflight_apart() -> None:
    at = "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote "
    first = at + "resource at http://a.test/x. (Reason: CORS header ‘Access-Control-Allow-Origin’ "
    first += "missing). Status code: 403."
    second = at + "resource at http://a.test/x. (Reason: CORS request did not succeed). "
    second += "Status code: (null)."
    alone = parse_console(first)
    assert alone.checks == ("MissingAllowOriginHeader", "PreflightMissingAllowOriginHeader")
    assert alone.status == 403 and alone.unknowns
    both = parse_console(first + "\n" + second)
    assert both.checks == ("PreflightMissingAllowOriginHeader",)
    assert both.stage == "preflight"


def test_straight_quotes_and_console_decorations_are_read() -> None:
    text = (
        "12:01:33.120 Cross-Origin Request Blocked: The Same Origin Policy disallows reading "
        "the remote resource at https://api.example/v1. (Reason: header 'x-token' is not "
        "allowed according to header 'Access-Control-Allow-Headers' from CORS preflight "
        "response). [Learn More]"
    )
    reading = parse_console(text)
    assert reading.checks == ("HeaderDisallowedByPreflightResponse",)
    assert reading.value == "x-token"


def test_chromium_older_wording_and_the_failed_request_line() -> None:
    text = (
        "index.html:1 Access to XMLHttpRequest at 'https://api.example/x' from origin "
        "'https://app.example' has been blocked by CORS policy: No 'Access-Control-Allow-Origin' "
        "header is present on the requested resource. If an opaque response serves your needs, "
        "set the request's mode to 'no-cors' to fetch the resource with CORS disabled.\n"
        "main.js:12  DELETE https://api.example/x net::ERR_FAILED 500 (Internal Server Error)"
    )
    reading = parse_console(text)
    assert reading.checks == ("MissingAllowOriginHeader",)
    assert reading.method == "DELETE" and reading.status == 500
    reproduction = reproduce(reading)
    assert reproduction is not None and reproduction.reproduces
    assert reproduction.scenario.request.method == "DELETE"
    assert reproduction.scenario.response.status == 500


def test_older_safari_wording() -> None:
    text = "Fetch API cannot load http://api.test/x. Preflight response is not successful\n"
    reading = parse_console(text)
    assert reading.browser == "webkit"
    assert reading.checks == ("PreflightInvalidStatus", "PreflightDisallowedRedirect")
    assert reading.url == "http://api.test/x"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "TypeError: Failed to fetch",
        "Uncaught (in promise) TypeError: NetworkError when attempting to fetch resource.",
        "Access to fetch at nothing",
        "Cross-Origin Request Blocked",
        "x" * 200_000,
        "\x00\ud800 Origin",
    ],
    ids=["empty", "chromium-typeerror", "firefox-typeerror", "half", "prefix", "huge", "junk"],
)
def test_unrecognised_text_is_said_to_be_unknown(text: str) -> None:
    reading = parse_console(text)
    assert not reading.recognised
    assert reading.note == NOT_KNOWN
    assert reproduce(reading) is None


def test_a_firefox_network_failure_is_no_cors_check() -> None:
    text = (
        "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote "
        "resource at http://localhost:9999/. (Reason: CORS request did not succeed). Status "
        "code: (null)."
    )
    reading = parse_console(text)
    assert reading.recognised and reading.browser == "firefox"
    assert reading.checks == ()
    assert "never got an answer" in reading.note
    assert reproduce(reading) is None


def test_a_chromium_message_about_an_unmodelled_check_is_said_so() -> None:
    text = (
        "Access to fetch at 'http://10.0.0.2/x' from origin 'https://a.example' has been "
        "blocked by CORS policy: The request client is not a secure context and the resource "
        "is in more-private address space `local`."
    )
    reading = parse_console(text)
    assert reading.recognised and reading.checks == ()
    assert "does not model" in reading.note


def test_the_webkit_message_words_the_header_as_the_page_wrote_it() -> None:
    scenario = Scenario.from_json(
        {
            "origin": "http://a.test",
            "url": "http://b.test/x",
            "request": {"method": "GET", "headers": [["X-Token", "1"]]},
            "preflight_response": {
                "status": 204,
                "headers": [["Access-Control-Allow-Origin", "*"]],
            },
        }
    )
    lines = webkit_console(scenario, predict(scenario, "webkit"))
    assert (
        lines[0] == "Request header field X-Token is not allowed by Access-Control-Allow-Headers."
    )
    assert lines[1] == "Fetch API cannot load http://b.test/x due to access control checks."


def test_allowed_requests_give_no_webkit_message() -> None:
    scenario = Scenario.from_json({"response": {"headers": [["Access-Control-Allow-Origin", "*"]]}})
    assert webkit_console(scenario, predict(scenario, "webkit")) == ()
    assert replace(scenario, id="x").id == "x"
