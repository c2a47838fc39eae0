"""The lessons as data: enough of them, every required topic, dangerous ones labelled, and
every answer read off the engine's prediction on the learner's real origins."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.cors import predict
from app.cors.engines import compare_engines
from app.lessons import BROWSERS, BY_SLUG, LESSONS, REFERENCE_BROWSER, Lesson, neighbours
from app.lessons.catalogue import ACCEPT_129
from app.lessons.model import API, ATTACKER, HOST, ORIGIN, PORT, expected_fields
from tests.helpers import assert_imports_only_stdlib_and

PACKAGE = Path(__file__).resolve().parents[2] / "app" / "lessons"
REQUIRED_TOPICS = {
    "safelisted-get",
    "json-post-preflight",
    "custom-header",
    "wildcard-credentials",
    "allow-credentials-case",
    "two-allow-origins",
    "trailing-slash",
    "method-case",
    "authorization-wildcard",
    "expose-headers",
    "no-cors-opaque",
    "accept-129",
    "range",
    "preflight-404",
    "reflect-origin",
    "null-origin",
    "prefix-suffix-matching",
    "redirect-cors-check",
    "redirect-method",
    "redirect-preflight",
    "redirect-mode",
}
DANGEROUS_TOPICS = {"reflect-origin", "null-origin", "prefix-suffix-matching"}
# The page may be served from either loopback name, on any ports.
ORIGIN_PAIRS = [
    ("http://localhost:8000", "http://localhost:8001"),
    ("http://127.0.0.1:41234", "http://127.0.0.1:41235"),
]
IDS = [lesson.slug for lesson in LESSONS]


def test_at_least_fifteen_lessons_with_unique_slugs() -> None:
    assert len(LESSONS) >= 15
    slugs = [lesson.slug for lesson in LESSONS]
    assert len(set(slugs)) == len(slugs)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug) for slug in slugs)
    assert set(BY_SLUG) == set(slugs)


def test_every_required_topic_is_covered() -> None:
    covered = {topic for lesson in LESSONS for topic in lesson.topics}
    assert covered >= REQUIRED_TOPICS, REQUIRED_TOPICS - covered


def test_order_walks_from_the_first_lesson_to_the_last() -> None:
    assert neighbours(LESSONS[0].slug) == (None, LESSONS[1])
    assert neighbours(LESSONS[-1].slug) == (LESSONS[-2], None)
    assert LESSONS[0].slug == "simple-get"


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_misconfigurations_are_labelled_dangerous_with_why(lesson: Lesson) -> None:
    dangerous = bool(DANGEROUS_TOPICS & set(lesson.topics))
    assert lesson.dangerous == dangerous
    if not dangerous:
        assert lesson.attacker is None
        return
    assert lesson.danger and len(lesson.danger) > 40
    assert "dangerous" in lesson.topics
    # The danger is that the request passes: for the attacker's page, in every browser.
    for page, api in ORIGIN_PAIRS:
        attacker = lesson.attacker_scenario(page, api)
        assert attacker is not None and attacker.origin != page
        for browser in BROWSERS:
            assert predict(attacker, browser).outcome == "allowed"
        credentials = attacker.request.credentials == "include"
        assert credentials, "a dangerous lesson shows what leaks with the visitor's cookies"


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
@pytest.mark.parametrize(("page", "api"), ORIGIN_PAIRS, ids=["localhost", "127.0.0.1"])
def test_the_answer_is_read_off_the_engine_in_every_browser(
    lesson: Lesson, page: str, api: str
) -> None:
    scenario = lesson.scenario(page, api)
    answers = {b: lesson.question.answer(predict(scenario, b)) for b in BROWSERS}
    assert len(set(answers.values())) == 1, f"the answer depends on the browser: {answers}"
    answer = lesson.answer(page, api)
    assert answer == answers[REFERENCE_BROWSER]
    values = [choice.value for choice in lesson.question.choices]
    assert answer in values and len(set(values)) == len(values) >= 2


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_the_answer_from_a_run_equals_the_answer_from_the_prediction(lesson: Lesson) -> None:
    """Question.observed (what the explanation reads off a real run) agrees with answer()."""
    prediction = lesson.expect(*ORIGIN_PAIRS[0])
    request = prediction.preflight_request
    seen = lesson.question.observed(
        preflight_headers=None if request is None else request.headers,
        actual_sent=prediction.actual_request_sent,
        outcome=prediction.outcome,
        readable=prediction.readable_headers,
        actual_methods=[leg.method for leg in prediction.legs if leg.kind == "actual"],
        preflights=sum(1 for leg in prediction.legs if leg.kind == "preflight"),
    )
    assert seen == lesson.question.answer(prediction)


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
@pytest.mark.parametrize(("page", "api"), ORIGIN_PAIRS, ids=["localhost", "127.0.0.1"])
def test_scenarios_use_the_page_s_real_origins(lesson: Lesson, page: str, api: str) -> None:
    scenario = lesson.scenario(page, api)
    assert scenario.origin == page and scenario.url.startswith(api + "/")
    assert scenario.id == lesson.slug
    doc = str(scenario.to_json())
    assert ORIGIN not in doc
    other = "localhost" if "127.0.0.1" in page else "127.0.0.1"
    assert other not in doc
    values = [v for n, v in scenario.response.headers if n == "Access-Control-Allow-Origin"]
    assert all(v in ("*", "null") or v.startswith(page) for v in values)


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_sentences_fill_every_placeholder_and_link_the_standards(lesson: Lesson) -> None:
    page, api = ORIGIN_PAIRS[1]
    sentences = [*lesson.setup, *lesson.explanation, lesson.question.prompt, lesson.title]
    if lesson.danger:
        sentences.append(lesson.danger)
    for sentence in sentences:
        text = lesson.text(sentence, page, api)
        for placeholder in (ORIGIN, API, HOST, PORT, ATTACKER):
            assert placeholder not in text
        assert text.count("`") % 2 == 0, f"unbalanced code marks: {sentence}"
    urls = [link.url for link in lesson.links]
    assert any(u.startswith(("https://fetch.spec.whatwg.org/", "https://html.spec")) for u in urls)
    assert any(u.startswith("https://developer.mozilla.org/") for u in urls)


def test_preflight_and_no_preflight_lessons_both_exist() -> None:
    page, api = ORIGIN_PAIRS[0]
    expected = {lesson.slug: expected_fields(lesson.expect(page, api)) for lesson in LESSONS}
    assert expected["simple-get"]["preflight"] is False
    assert expected["json-post"]["access-control-request-headers"] == "content-type"
    assert expected["range-open"]["preflight"] is False
    assert expected["range-suffix"]["access-control-request-headers"] == "range"
    assert expected["patch-uppercase"]["access-control-request-method"] == "PATCH"
    assert expected["patch-lowercase"]["access-control-request-method"] == "patch"
    assert expected["patch-lowercase"]["blocked_by"] == "MethodDisallowedByPreflightResponse"
    assert expected["preflight-404"]["actual_request_sent"] is False
    assert expected["no-cors-opaque"]["outcome"] == "opaque"
    assert "x-request-id" not in expected["expose-none"]["readable_headers"]
    assert "x-request-id" in expected["expose-listed"]["readable_headers"]
    assert expected["wildcard-credentials"]["blocked_by"] == "WildcardOriginNotAllowed"
    assert expected["allow-credentials-capital"]["blocked_by"] == "InvalidAllowCredentials"
    assert expected["two-allow-origins"]["blocked_by"] == "MultipleAllowOriginValues"
    assert expected["trailing-slash"]["blocked_by"] == "AllowOriginMismatch"
    assert len(ACCEPT_129.encode()) == 129
    assert expected["redirect-needs-cors"]["blocked_by"] == "MissingAllowOriginHeader"
    assert expected["redirect-manual"]["outcome"] == "opaqueredirect"
    assert expected["accept-129"]["access-control-request-headers"] == "accept"


def test_authorization_against_a_wildcard_is_where_the_standard_and_browsers_differ() -> None:
    lesson = BY_SLUG["authorization-wildcard"]
    scenario = lesson.scenario(*ORIGIN_PAIRS[0])
    for browser in BROWSERS:
        assert predict(scenario, browser).outcome == "allowed"
    assert predict(scenario, "spec").outcome == "blocked"
    differing = {d.engine for d in compare_engines(scenario, REFERENCE_BROWSER)}
    assert differing == {"spec"}


def test_the_lessons_package_is_pure() -> None:
    """No web framework: the standard library, the engine, the run store's LRU and itself."""
    assert_imports_only_stdlib_and(PACKAGE, "app.cors", "app.runs", "app.lessons")


# Words that would give a question's answer away in a lesson's title, by question kind: a title
# names the situation, never the outcome.
OUTCOME_WORDS = {"blocked", "allowed", "fails", "failed", "passes", "passed", "works", "right",
                 "wrong", "broken", "refused", "yet"}  # fmt: skip
GIVEAWAYS = {
    "preflight": {"preflight", "preflighted", "safelisted", "simple", "needs", "unsafe"},
    "acrh": {"preflight", "preflighted", "asks"},
    "acrm": {"preflight", "is not", "normalized", "uppercased", "allowed"},
    "actual": {"sent", "reaches", "reach", "arrives", "never"},
    "readable": {"readable", "reads", "hidden", "exposed"},
    "header": {"readable", "reads", "hidden", "exposed"},
    "outcome": {"opaque", "error", "status 0"},
    "followed": {"follows", "followed", "must", "check", "stops", "passes"},
    "method": {"turns", "becomes", "get", "keeps", "changes", "rewritten"},
    "preflights": {"preflight", "preflights", "preflighted", "new", "own", "again", "twice"},
}


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_no_title_gives_its_answer_away(lesson: Lesson) -> None:
    title = lesson.title.lower().replace("`", "")
    words = set(re.findall(r"[a-z0-9]+", title)) | set(re.findall(r"[a-z0-9-]+", title))
    found = {w for w in OUTCOME_WORDS | GIVEAWAYS[lesson.question.kind] if " " not in w} & words
    found |= {w for w in GIVEAWAYS[lesson.question.kind] if " " in w and w in title}
    assert not found, f"{lesson.title!r} gives away {sorted(found)}"


def test_the_first_lesson_says_what_cors_safelisted_means_before_using_it() -> None:
    first = LESSONS[0]
    before_the_answer = [first.title, *first.setup, first.question.prompt,
                         *(c.label for c in first.question.choices)]  # fmt: skip
    assert not any("safelisted" in text.lower() for text in before_the_answer)
    uses = [i for i, sentence in enumerate(first.explanation) if "safelisted" in sentence.lower()]
    definition = first.explanation[uses[0]]
    assert "“CORS-safelisted”" in definition and "without asking" in definition


def test_redirect_lessons_answer_at_their_hops_below_the_runs_own_url() -> None:
    lesson = BY_SLUG["redirect-307-preflight"]
    page, api = ORIGIN_PAIRS[0]
    scenario = lesson.scenario(page, api, url=f"{api}/r/run1")
    assert [hop.url for hop in scenario.hops] == [f"{api}/r/run1/1"]
    assert ("Location", f"{api}/r/run1/1") in scenario.response.headers
    assert scenario.hops[0].preflight_response == scenario.preflight_response
    prediction = predict(scenario, REFERENCE_BROWSER)
    assert [(leg.kind, leg.url) for leg in prediction.legs] == [
        ("preflight", f"{api}/r/run1"), ("actual", f"{api}/r/run1"),
        ("preflight", f"{api}/r/run1/1"), ("actual", f"{api}/r/run1/1"),
    ]  # fmt: skip
    assert lesson.whole_fetch and not BY_SLUG["simple-get"].whole_fetch
