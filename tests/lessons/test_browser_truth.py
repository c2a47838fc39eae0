"""Every lesson teaches what real browsers do.

Each lesson's scenario (and each dangerous lesson's attacker page, and each attack lesson, where
the harness can load it) runs in real headless Chromium, Firefox and WebKitGTK through the
verify harness; a lesson about a whole fetch runs whole, every redirect followed and every leg
compared. The engine must agree with each browser, the lesson's expected behaviour must be
exactly what Chromium did, and the answer read off each browser's run must be the lesson's
answer.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.cors import Scenario, predict
from app.harness import shared_harness
from app.harness.verify import compare_fetch
from app.lessons import BROWSERS, BY_SLUG, LESSONS, REFERENCE_BROWSER
from app.lessons.catalogue import ATTACK_LESSONS

pytestmark = pytest.mark.browser

PAGE = "http://localhost:8000"
API = "http://localhost:8001"
SCENARIOS: dict[str, Scenario] = {lesson.slug: lesson.scenario(PAGE, API) for lesson in LESSONS}
# The attacker's page of a dangerous lesson; a null origin is no page the harness can serve.
ATTACKERS: dict[str, Scenario] = {
    f"{lesson.slug}-attacker": scenario
    for lesson in LESSONS
    if (scenario := lesson.attacker_scenario(PAGE, API)) is not None and scenario.origin != "null"
}
# The attack lessons, sent from the attacker's page (a sandboxed frame's null is no page the
# harness can serve: the attack lab's browser tests run that one).
ATTACKER_PAGE = "http://localhost:8002"
ATTACK = {
    lesson.slug: lesson.scenario(ATTACKER_PAGE, API)
    for lesson in ATTACK_LESSONS
    if "sandboxed" not in lesson.topics
}
LESSON = {**BY_SLUG, **{lesson.slug: lesson for lesson in ATTACK_LESSONS}}
PAGE_OF = {slug: ATTACKER_PAGE if slug in ATTACK else PAGE for slug in LESSON}
ALL = {**SCENARIOS, **ATTACKERS, **ATTACK}
_truth: dict[str, dict[str, dict[str, Any]]] = {}


def truth(browser: str) -> dict[str, dict[str, Any]]:
    """What the browser did with every lesson, run once per browser."""
    if browser not in _truth:
        observed = shared_harness(browser).observe_documents(list(ALL.values()), whole=None)
        _truth[browser] = dict(zip(ALL, observed, strict=True))
    return _truth[browser]


def observed_answer(slug: str, observation: dict[str, Any]) -> str:
    seen = observation.get("preflight_request")
    legs = observation.get("legs") or []
    return LESSON[slug].question.observed(
        preflight_headers=None if not observation.get("preflight") else list((seen or {}).items()),
        actual_sent=bool(observation.get("actual_request_sent")),
        outcome=observation["outcome"],
        readable=observation.get("readable_headers") or [],
        actual_methods=[leg["method"] for leg in legs if leg["kind"] == "actual"],
        preflights=sum(1 for leg in legs if leg["kind"] == "preflight"),
    )


def explain(observation: dict[str, Any], found: list[Any]) -> str:
    return "\n".join([*map(str, found), *observation.get("console", [])])


@pytest.mark.parametrize("browser", BROWSERS)
@pytest.mark.parametrize("slug", list(ALL))
def test_the_engine_agrees_with_the_browser(slug: str, browser: str) -> None:
    observation = truth(browser)[slug]
    found = compare_fetch(
        ALL[slug], predict(ALL[slug], browser).to_json(), observation, browser=browser
    )
    assert not found, explain(observation, found)


@pytest.mark.parametrize("slug", list(ALL))
def test_the_lesson_expects_exactly_what_chromium_does(slug: str) -> None:
    expected = predict(ALL[slug], REFERENCE_BROWSER).to_json()
    observation = truth("chromium")[slug]
    found = compare_fetch(ALL[slug], expected, observation, browser="chromium")
    assert not found, explain(observation, found)


@pytest.mark.parametrize("browser", BROWSERS)
@pytest.mark.parametrize("slug", [*SCENARIOS, *ATTACK])
def test_the_browser_gives_the_lesson_s_answer(slug: str, browser: str) -> None:
    answer = LESSON[slug].answer(PAGE_OF[slug], API)
    assert observed_answer(slug, truth(browser)[slug]) == answer


@pytest.mark.parametrize("browser", BROWSERS)
@pytest.mark.parametrize("slug", list(ATTACKERS))
def test_a_dangerous_configuration_lets_the_attacker_s_page_read(slug: str, browser: str) -> None:
    assert truth(browser)[slug]["outcome"] == "allowed"


@pytest.mark.parametrize("browser", BROWSERS)
def test_a_whole_fetch_lesson_is_observed_leg_by_leg(browser: str) -> None:
    whole = [lesson.slug for lesson in LESSONS if lesson.whole_fetch]
    assert len(whole) >= 4
    for slug in whole:
        assert "legs" in truth(browser)[slug], slug
