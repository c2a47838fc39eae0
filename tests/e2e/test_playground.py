"""The page in real Chromium: compose through the UI, send, and watch the live panel fill in."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from app.web.server import BackgroundServer

pytestmark = pytest.mark.browser

RECORD_STATES = """() => {
  window.__seen = [];
  const runs = document.getElementById("runs");
  new MutationObserver(() => {
    for (const card of runs.querySelectorAll(".run")) window.__seen.push(card.dataset.state);
  }).observe(runs, {childList: true, subtree: true});
}"""


def open_page(page: Any, live: BackgroundServer) -> str:
    page.goto(f"{live.site_url}/")
    page.wait_for_selector("#prediction .prediction-body")
    return page.url.split("/sessions/")[1].split("?")[0]


def set_rows(page: Any, prefix: str, rows: list[tuple[str, str]]) -> None:
    """Replace a header list through the UI: remove every row, then add and type each one."""
    fieldset = page.locator(f'fieldset[data-rows="{prefix}"]')
    while fieldset.locator("li.row").count():
        fieldset.locator("li.row").first.get_by_role("button", name=re.compile("Remove")).click()
    for name, value in rows:
        fieldset.locator("button[data-add-row]").click()
        row = fieldset.locator("li.row").last
        row.locator(".name").fill(name)
        row.locator(".value").fill(value)


def compose(
    page: Any,
    *,
    method: str = "GET",
    headers: list[tuple[str, str]] | None = None,
    body: str | None = None,
    mode: str = "cors",
    credentials: str = "same-origin",
    preflight: tuple[int, list[tuple[str, str]]] = (204, []),
    response: tuple[int, list[tuple[str, str]]] = (200, []),
) -> None:
    page.fill("#f-request-method", method)
    set_rows(page, "rq", headers or [])
    if body is None:
        page.uncheck("#f-has-body")
    else:
        page.fill("#f-request-body", body)
        page.check("#f-has-body")
    page.select_option("#f-request-mode", mode)
    page.select_option("#f-request-credentials", credentials)
    page.fill("#f-preflight-response-status", str(preflight[0]))
    set_rows(page, "pf", preflight[1])
    page.fill("#f-response-status", str(response[0]))
    set_rows(page, "rs", response[1])


def send(page: Any) -> Any:
    """Click Send; return the run's card once the browser's result is in."""
    page.evaluate(RECORD_STATES)
    page.click("#send")
    card = page.locator("#runs .run").first
    card.locator("xpath=self::*[@data-state='done']").wait_for()
    seen = page.evaluate("window.__seen")
    assert seen[0] == "running" and seen[-1] == "done", seen
    return card


def legs(card: Any) -> list[str]:
    return card.locator(".exchange").evaluate_all("els => els.map(e => e.dataset.kind)")


WIRE_TEXT = """e => [e.textContent.replace(/\\s+/g, " "),
  ...[...e.querySelectorAll("tr")].map(r => [...r.cells].map(c => c.textContent).join("\\t"))
].join("\\n")"""


def wire(card: Any, kind: str) -> str:
    """A leg's headers as the API origin saw them (folded in a closed details element): its
    text, then one "name<TAB>value" line per header."""
    text: str = card.locator(f'.exchange[data-kind="{kind}"]').evaluate(WIRE_TEXT)
    return text


def assert_agrees(card: Any) -> None:
    agreement = card.locator(".agreement")
    assert agreement.get_attribute("data-agreement") == "yes", agreement.inner_text()
    assert re.search(r"Chromium \d+", agreement.inner_text())


def test_simple_request(page: Any, live: BackgroundServer) -> None:
    open_page(page, live)
    origin = live.site_url
    compose(page, method="GET", response=(200, [("Access-Control-Allow-Origin", origin),
                                                 ("X-Hidden", "1")]))  # fmt: skip
    expect_prediction(page, "No preflight")
    card = send(page)
    assert "No preflight" in card.locator(".decision-part").inner_text()
    assert legs(card) == ["actual"]
    assert card.locator(".js-outcome").get_attribute("data-outcome") == "allowed"
    assert "Hello from the API origin" in card.locator("pre.body").inner_text()
    assert_agrees(card)
    # The readable-headers line names every header JavaScript read, or says where it came from.
    read = card.locator(".js-result table.wire th").all_inner_texts()
    assert sorted(read) == ["content-length"]
    line = card.locator(".verdict p.readable").inner_text()
    for name in read:
        assert name in line
    assert "content-length, which the API origin adds for framing" in line
    assert page.errors == []


def expect_prediction(page: Any, text: str) -> None:
    page.wait_for_function(
        "t => document.getElementById('prediction').innerText.includes(t)", arg=text
    )


def test_preflighted_request_with_the_policy_builder_and_the_console(
    page: Any, context: Any, live: BackgroundServer
) -> None:
    session = open_page(page, live)
    console = context.new_page()
    console.goto(f"{live.api_url}/console/{session}")
    page.bring_to_front()  # the console keeps streaming in the background (a second window)
    compose(page, method="PUT", headers=[("X-Token", "abc")], body='{"a": 1}')
    page.click("#policy summary")
    page.select_option("#p-origin", "this")
    page.fill("#p-methods", "PUT")
    page.fill("#p-headers", "X-Token")
    page.fill("#p-expose", "X-Token")
    page.click("[data-apply-policy]")
    assert (
        page.input_value("#f-preflight-response-headers-2-name") == "Access-Control-Allow-Headers"
    )
    expect_prediction(page, "Preflighted")
    card = send(page)
    reasons = card.locator(".decision-part .reasons").inner_text()
    assert "PUT" in reasons and "x-token" in reasons.lower()
    assert legs(card) == ["preflight", "actual"]
    preflight = wire(card, "preflight").lower()
    assert "access-control-request-method\tput" in preflight
    assert "access-control-request-headers\tx-token" in preflight
    assert_agrees(card)
    run_id = card.get_attribute("data-run-id")
    console.locator(f'.console-entry[data-run-id="{run_id}"][data-kind="actual"]').wait_for()
    assert console.locator(f'.console-entry[data-run-id="{run_id}"]').count() == 2


def test_blocked_at_the_preflight_shows_every_leg(page: Any, live: BackgroundServer) -> None:
    open_page(page, live)
    compose(
        page, method="DELETE", headers=[("X-Token", "abc")],
        preflight=(204, [("Access-Control-Allow-Origin", live.site_url),
                         ("Access-Control-Allow-Methods", "DELETE")]),
        response=(200, [("Access-Control-Allow-Origin", live.site_url)]),
    )  # fmt: skip
    card = send(page)
    assert legs(card) == ["preflight"]
    preflight = wire(card, "preflight")
    assert "request as received" in preflight
    assert "Access-Control-Allow-Methods" in preflight  # the response as sent
    assert "never reached" in card.locator(".legs").text_content()
    assert not card.locator(".legs .exchange").first.is_visible()  # folded
    js = card.locator(".js-result").inner_text()
    assert "TypeError: Failed to fetch" in js
    # The failed check is said once, in the diagram, on the answer that failed it.
    diagram = card.locator(".sequence").inner_text()
    assert "HeaderDisallowedByPreflightResponse" in diagram
    assert "no Access-Control-Allow-Headers" in diagram
    verdict = card.locator(".verdict")
    assert verdict.locator(".outcome").get_attribute("data-outcome") == "blocked"
    assert "marked ✗ in the sequence above" in verdict.locator(".outcome").inner_text()
    assert verdict.locator(".failed").count() == 0
    assert_agrees(card)


def test_blocked_after_the_actual_request_shows_its_response(
    page: Any, live: BackgroundServer
) -> None:
    open_page(page, live)
    compose(page, method="POST", body="hi", response=(200, [("X-Secret", "42")]))
    card = send(page)
    assert legs(card) == ["actual"]
    actual = wire(card, "actual")
    assert "X-Secret\t42" in actual and "body 2 bytes" in actual
    assert card.locator(".js-outcome").get_attribute("data-outcome") == "blocked"
    assert "MissingAllowOriginHeader" in card.locator(".sequence").inner_text()
    assert_agrees(card)


def test_no_cors_request_is_opaque(page: Any, live: BackgroundServer) -> None:
    open_page(page, live)
    compose(page, method="GET", mode="no-cors", response=(200, [("X-Anything", "1")]))
    card = send(page)
    assert legs(card) == ["actual"]
    js = card.locator(".js-outcome")
    assert js.get_attribute("data-outcome") == "opaque" and "status 0" in js.inner_text()
    assert_agrees(card)


def test_error_request_sends_nothing(page: Any, live: BackgroundServer) -> None:
    open_page(page, live)
    compose(page, method="TRACE")
    card = send(page)
    assert legs(card) == []
    assert "nothing reached the API origin" in card.locator(".legs").inner_text()
    assert "never reached" in card.locator(".legs").text_content()
    js = card.locator(".js-outcome")
    assert js.get_attribute("data-outcome") == "error"
    assert "TRACE" in js.inner_text() and "TypeError" in js.inner_text()
    assert_agrees(card)


def test_bad_input_is_shown_next_to_the_field_and_not_sent(
    page: Any, live: BackgroundServer
) -> None:
    open_page(page, live)
    set_rows(page, "rq", [("X Bad", "1")])
    page.locator("#m-f-request-headers-0-name.error").wait_for()
    assert "token" in page.inner_text("#m-f-request-headers-0-name")
    assert page.get_attribute("#f-request-headers-0-name", "aria-invalid") == "true"
    page.click("#send")
    page.wait_for_function(
        "() => document.getElementById('send-status').innerText.startsWith('Not')"
    )
    assert page.inner_text("#send-status").startswith("Not sent: Request header 1 name: ")
    assert page.text_content("#prediction-status") is not None
    assert page.text_content("#prediction-status").startswith(  # type: ignore[union-attr]
        "1 problem to fix before sending: Request header 1 name: "
    )
    assert page.locator("#runs .run").count() == 0


def test_keyboard_only_send(page: Any, live: BackgroundServer) -> None:
    open_page(page, live)
    page.focus("#f-request-method")
    page.keyboard.press("Enter")
    page.locator("#runs .run[data-state='done']").wait_for()


def test_share_link_restores_the_composer_and_run_sends_once(
    page: Any, live: BackgroundServer
) -> None:
    open_page(page, live)
    compose(page, method="PATCH", headers=[("X-Token", "t")], body="x")
    page.wait_for_function("() => document.getElementById('share-run-link') !== null")
    expect_prediction(page, "PATCH")
    link = page.get_attribute("#share-run-link", "href")
    page.goto(f"{live.site_url}{link}")
    page.locator("#runs .run[data-state='done']").wait_for()
    assert page.input_value("#f-request-method") == "PATCH"
    assert page.input_value("#f-request-headers-0-name") == "X-Token"
    assert "run=1" not in page.url
    page.reload()
    page.wait_for_timeout(300)
    assert page.locator("#runs .run").count() == 1  # shown from history, not sent again


def test_runs_created_elsewhere_appear_live(page: Any, live: BackgroundServer) -> None:
    session = open_page(page, live)
    page.wait_for_timeout(200)  # the stream is connected once the page has settled
    created = httpx.post(f"{live.site_url}/api/runs", params={"session": session},
                         json={"id": "from-a-script"}).json()  # fmt: skip
    httpx.get(created["target"], headers={"Origin": live.site_url})
    card = page.locator(f'#runs .run[data-run-id="{created["run_id"]}"]')
    card.locator(".exchange").wait_for(state="attached")
    assert legs(card) == ["actual"]


def test_after_send_the_outcome_is_beside_send_and_the_card_comes_into_view(
    page: Any, live: BackgroundServer
) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    open_page(page, live)
    origin = live.site_url
    compose(
        page, method="PUT", headers=[("X-Token", "abc")],
        preflight=(204, [("Access-Control-Allow-Origin", origin),
                         ("Access-Control-Allow-Methods", "PUT")]),
        response=(200, [("Access-Control-Allow-Origin", origin)]),
    )  # fmt: skip
    card = send(page)
    page.wait_for_function(
        "() => document.getElementById('send-status').innerText.startsWith('Blocked')"
    )
    assert page.inner_text("#send-status") == (
        "Blocked: the preflight's Access-Control-Allow-Headers does not allow x-token"
    )
    top = card.evaluate("card => card.getBoundingClientRect().top")
    assert 0 <= top < 768, top
    assert page.evaluate("document.activeElement && document.activeElement.id") == "send"
    compose(page, method="GET", response=(200, [("Access-Control-Allow-Origin", origin)]))
    send(page)
    page.wait_for_function(
        "() => document.getElementById('send-status').innerText.startsWith('Allowed')"
    )
    assert page.inner_text("#send-status") == "Allowed: JavaScript read the response (status 200)"


NAMES_CUT_OFF = """() => [...document.querySelectorAll("#composer .headers .name")]
  .filter(f => f.scrollWidth > f.clientWidth || f.scrollHeight > f.clientHeight)
  .map(f => f.value)"""


@pytest.mark.parametrize(
    ("width", "height", "large"), [(390, 844, False), (1366, 768, True), (1366, 768, False)]
)
def test_header_names_are_never_cut_off(
    page: Any, live: BackgroundServer, width: int, height: int, large: bool
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    open_page(page, live)
    if large:
        page.click("[data-large-type]")
    fieldset = page.locator('fieldset[data-rows="pf"]')
    fieldset.locator("button[data-add-row]").click()
    fieldset.locator("li.row").last.locator(".name").fill("Access-Control-Allow-Credentials")
    names = page.locator("#composer .headers .name").evaluate_all("fs => fs.map(f => f.value)")
    assert "Access-Control-Allow-Headers" in names
    assert "Access-Control-Allow-Credentials" in names
    assert page.evaluate(NAMES_CUT_OFF) == []
    page.keyboard.press("Enter")  # a name field sends the form as a one-line field does
    page.locator("#runs .run").first.wait_for()


def test_large_type_and_narrow_screen(page: Any, live: BackgroundServer) -> None:
    page.set_viewport_size({"width": 360, "height": 800})
    open_page(page, live)
    page.click("[data-large-type]")
    assert page.get_attribute("[data-large-type]", "aria-pressed") == "true"
    assert page.evaluate("document.documentElement.classList.contains('large')")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    page.reload()
    assert page.evaluate("document.documentElement.classList.contains('large')")


def test_the_run_link_shares_the_run_without_the_session_or_its_cookies(
    page: Any, context: Any, live: BackgroundServer
) -> None:
    """The browser sends its cookies for the API origin (same host, another port): the
    session's page shows them whole, also once the result is in; the run's own page names no
    session and shows them redacted."""
    context.add_cookies([{"name": "secret", "value": "s3cr3t-value", "url": live.api_url}])
    session = open_page(page, live)
    origin = live.site_url
    compose(page, method="GET", credentials="include",
            response=(200, [("Access-Control-Allow-Origin", origin),
                            ("Access-Control-Allow-Credentials", "true")]))  # fmt: skip
    card = send(page)
    assert "secret=s3cr3t-value" in (card.locator(".legs").text_content() or "")
    assert_agrees(card)
    run_id = card.get_attribute("data-run-id")
    page.goto(f"{live.site_url}/runs/{run_id}")
    shared = page.content()
    assert "s3cr3t-value" not in shared and session not in shared
    assert "(redacted: 1 cookie, 19 bytes)" in (page.locator(".legs").text_content() or "")
    assert page.errors == []


def test_legs_arrive_live_before_the_result(page: Any, live: BackgroundServer) -> None:
    """Each leg shows in its card as it reaches the API origin, before any result: for a run
    the page does not show yet (created elsewhere in the session) the whole card is fetched, and
    a card already there takes the new leg in place."""
    session = open_page(page, live)
    run = httpx.post(
        f"{live.site_url}/api/runs", params={"session": session}, json={"request": {}}
    ).json()
    httpx.get(run["target"])
    card = page.locator(f"#run-{run['run_id']}")
    card.locator(".exchange[data-kind='actual']").wait_for(state="attached")
    assert card.get_attribute("data-state") == "running"
    httpx.get(run["target"] + "?again=1")
    card.locator(".exchange >> nth=1").wait_for(state="attached")
    assert "(2 legs)" in (card.locator(".legs summary").text_content() or "")
    assert "?again=1" in (card.locator(".legs").text_content() or "")
    assert card.get_attribute("data-state") == "running"
    assert page.errors == []
