"""Engines side by side: each difference in words, traced to the deviation behind it."""

from app.cors import Scenario
from app.cors.engines import compare_engines
from app.cors.profiles import PROFILES

ORIGIN = "http://localhost:8000"
ALLOW = [["Access-Control-Allow-Origin", ORIGIN]]


def scenario(headers: list[list[str]], preflight: list[list[str]] | None = None) -> Scenario:
    return Scenario.from_json(
        {
            "origin": ORIGIN,
            "url": "http://localhost:8001/r/1",
            "request": {"method": "GET", "headers": headers},
            "preflight_response": {"status": 204, "headers": preflight or ALLOW},
            "response": {"status": 200, "headers": ALLOW},
        }
    )


def test_same_behaviour_everywhere_has_no_differences() -> None:
    assert compare_engines(scenario([["Accept", "text/plain"]]), "chromium") == ()


def test_user_agent_preflight_is_traced_to_chromium_dropping_it() -> None:
    differences = {
        d.engine: d for d in compare_engines(scenario([["User-Agent", "x"]]), "chromium")
    }
    assert set(differences) == {"firefox", "webkit", "spec"}
    firefox = differences["firefox"]
    assert firefox.sentence.startswith("Firefox would send a preflight here; Chromium does not")
    assert [(label, d.key) for label, d in firefox.deviations] == [
        ("Chromium", "user-agent-forbidden")
    ]


def test_from_firefox_the_other_engines_send_no_preflight_for_latin1_accept() -> None:
    differences = compare_engines(scenario([["Accept", "caf\u00e9"]]), "firefox")
    assert {d.engine for d in differences} == {"chromium", "webkit", "spec"}
    for difference in differences:
        assert "would send no preflight here; Firefox does" in difference.sentence
        assert ("Firefox", PROFILES["firefox"].deviation("non-ascii-unsafe")) in (
            difference.deviations
        )


def test_outcome_difference_names_the_failed_check() -> None:
    star = [*ALLOW, ["Access-Control-Allow-Headers", "*"]]
    differences = {
        d.engine: d
        for d in compare_engines(scenario([["Authorization", "Bearer x"]], star), "webkit")
    }
    assert set(differences) == {"spec"}
    assert "block the response" in differences["spec"].sentence
    assert "Authorization" in differences["spec"].sentence
