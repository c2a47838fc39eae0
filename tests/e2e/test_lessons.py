"""Lessons in real Chromium, through the page: answer the question, send the real fetch(),
read the explanation with the exchange headers the API origin really received."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from app.lessons import BY_SLUG, LESSONS
from app.web.server import BackgroundServer

pytestmark = pytest.mark.browser


def open_lesson(page: Any, live: BackgroundServer, slug: str) -> str:
    """Follow the lesson's share link; return the new session's id."""
    page.goto(f"{live.site_url}/lessons/{slug}")
    page.locator("#lesson-question").wait_for()
    match = re.search(r"/sessions/([\w-]+)/lessons/" + slug, page.url)
    assert match, page.url
    return match.group(1)


def wait_for_explanation(page: Any) -> Any:
    explanation = page.locator("#lesson-explanation .explanation")
    explanation.wait_for(timeout=15_000)
    return explanation


def test_a_learner_goes_through_a_lesson_with_the_keyboard(
    page: Any, live: BackgroundServer
) -> None:
    session = open_lesson(page, live, "json-post")
    assert page.locator("#send").count() == 0  # the question comes first
    assert "Lesson 3 of" in page.locator("h1").inner_text()
    # Answer with the keyboard: choose "Yes", lock it in.
    page.focus("#choice-1")
    page.keyboard.press("Space")
    assert page.is_checked("#choice-1")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    send = page.locator("#send")
    send.wait_for()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'send'")
    assert "You answered: Yes" in page.locator("#lesson-question").inner_text()
    page.keyboard.press("Enter")  # Send: runner.js sends the real fetch()
    explanation = wait_for_explanation(page)
    page.wait_for_function(
        "document.activeElement && document.activeElement.id === 'explanation-title'"
    )
    assert explanation.get_attribute("data-seen") == "yes"
    assert explanation.get_attribute("data-truth") == "yes"
    assert explanation.locator(".judgement").get_attribute("data-right") == "yes"
    text = explanation.inner_text()
    assert re.search(r"Chromium \d+.* did exactly that", text), text
    # The preflight as the API origin received it, and the answer that let the POST through.
    preflight = explanation.locator('.leg[data-kind="preflight"]').inner_text().lower()
    assert "access-control-request-method\tpost" in preflight
    assert "access-control-request-headers\tcontent-type" in preflight
    assert f"origin\t{live.site_url}" in preflight
    assert "access-control-allow-headers\tcontent-type" in preflight
    actual = explanation.locator('.leg[data-kind="actual"]').inner_text().lower()
    assert f"access-control-allow-origin\t{live.site_url}" in actual
    assert "CORS-safelisted request-header" in text
    # The run card is there too, folded below the explanation, and the engine agreed with the
    # browser.
    card = page.locator("#runs .run").first
    assert card.get_attribute("data-state") == "done"
    assert card.locator(".agreement").get_attribute("data-agreement") == "yes"
    assert not card.is_visible()
    assert page.locator("details.lesson-runs").get_attribute("open") is None
    page.click("details.lesson-runs > summary")
    assert card.is_visible()
    # Progress shows on the index.
    page.click("text=Next lesson")
    page.locator("#lesson-question").wait_for()
    page.goto(f"{live.site_url}/sessions/{session}/lessons")
    assert f"1 of {len(LESSONS)} answered · 1 correct" in page.locator("#progress").inner_text()
    assert page.locator('li[data-slug="json-post"]').get_attribute("data-state") == "correct"
    assert page.errors == []


def test_the_page_remembers_the_answer_and_the_explanation(
    page: Any, live: BackgroundServer
) -> None:
    open_lesson(page, live, "patch-lowercase")
    page.get_by_label("PATCH", exact=True).check()  # the wrong answer
    page.get_by_role("button", name="Lock in my answer").click()
    page.get_by_role("button", name="Send the request").click()
    explanation = wait_for_explanation(page)
    assert explanation.locator(".judgement").get_attribute("data-right") == "no"
    assert explanation.get_attribute("data-seen") == "patch"
    assert "MethodDisallowedByPreflightResponse" in explanation.inner_text()
    assert "never reached" in explanation.inner_text()
    page.reload()
    assert "What happened" in page.locator("#lesson-explanation").inner_text()
    assert page.locator("input[name=choice]").count() == 0
    assert page.errors == []


@pytest.mark.parametrize("slug", [lesson.slug for lesson in LESSONS])
def test_every_lesson_runs_end_to_end_as_it_teaches(
    page: Any, live: BackgroundServer, slug: str
) -> None:
    lesson = BY_SLUG[slug]
    truth = lesson.answer(live.site_url, live.api_url)
    open_lesson(page, live, slug)
    page.locator(f'input[name=choice][value="{truth}"]').check()
    page.get_by_role("button", name="Lock in my answer").click()
    page.get_by_role("button", name="Send the request").click()
    explanation = wait_for_explanation(page)
    assert explanation.get_attribute("data-truth") == truth
    assert explanation.get_attribute("data-seen") == truth, explanation.inner_text()
    assert explanation.locator(".judgement").get_attribute("data-right") == "yes"
    card = page.locator("#runs .run").first
    agreement = card.locator(".agreement")
    assert agreement.get_attribute("data-agreement") == "yes", agreement.inner_text()
    if lesson.dangerous:
        assert explanation.locator("section.danger").count() == 1
        assert page.locator(".danger-badge").first.is_visible()
    assert page.errors == []


ADD_SANDBOXED_FRAME = """() => new Promise(done => {
  const frame = document.createElement("iframe");
  frame.sandbox = "allow-scripts";
  frame.srcdoc = "<p>someone else's page</p>";
  frame.onload = done;
  document.body.append(frame);
})"""


def test_a_sandboxed_iframe_reads_what_the_null_lesson_s_server_answers(
    browser: Any, live: BackgroundServer
) -> None:
    """The null-origin lesson's danger, in the browser: a sandboxed iframe, which any site can
    make, sends Origin: null and passes the CORS check with credentials: 'include'.

    The iframe is put on a loopback page, as an attacker's page would be on its own site
    (a public page may not reach loopback at all); CSP is bypassed only so the test can
    inject it into a playground page.
    """
    lesson = BY_SLUG["null-origin"]
    attacker = lesson.attacker_scenario(live.site_url, live.api_url)
    assert attacker is not None and attacker.origin == "null"
    context = browser.new_context(bypass_csp=True)
    try:
        page = context.new_page()
        with httpx.Client(timeout=10) as client:
            created = client.post(f"{live.site_url}/api/runs", json=attacker.to_json())
            assert created.status_code == 201, created.text
            run = created.json()
            assert run["prediction"]["outcome"] == "allowed"
            page.goto(f"{live.site_url}/lessons")
            page.evaluate(ADD_SANDBOXED_FRAME)
            frame = page.frames[1]
            assert frame.evaluate("self.origin") == "null"
            body = frame.evaluate(
                "url => fetch(url, {credentials: 'include'}).then(r => r.text())", run["target"]
            )
            recorded = client.get(f"{live.site_url}{run['run']}").json()
    finally:
        context.close()
    assert "Hello from the API origin" in body
    (exchange,) = recorded["exchanges"]
    assert ["origin", "null"] in exchange["request"]["headers"]
    assert ["Access-Control-Allow-Origin", "null"] in exchange["response"]["headers"]
