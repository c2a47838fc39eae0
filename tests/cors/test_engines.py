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


def test_a_whole_fetch_names_the_first_leg_where_engines_part_and_the_deviation() -> None:
    page, api, other = ORIGIN, "http://localhost:8001", "http://127.0.0.1:8002"
    allow = [["Access-Control-Allow-Origin", "*"], ["Access-Control-Allow-Methods", "PUT"]]
    chain = Scenario.from_json(
        {
            "origin": page,
            "url": f"{api}/a",
            "request": {"method": "PUT"},
            "preflight_response": {"status": 204, "headers": allow},
            "response": {"status": 307, "headers": [*allow, ["Location", f"{other}/b"]]},
            "hops": [{"url": f"{other}/b", "preflight_response": {"headers": allow},
                      "response": {"headers": allow}}],
        }
    )  # fmt: skip
    differences = {d.engine: d for d in compare_engines(chain, "chromium")}
    firefox = differences["firefox"]
    assert firefox.sentence == (
        f"Firefox would send, as leg 3 of the fetch, a preflight to {other}/b with Origin: {page}; "
        f"Chromium: a preflight to {other}/b with Origin: null"
    )
    assert ("Firefox", PROFILES["firefox"].deviation("tainted-preflight-origin")) in (
        firefox.deviations
    )
    assert "spec" not in differences
