"""Understand and fix on the page: the run card's sequence diagram (blocked legs shown), raw
HTTP, failed-check links and console text, the fix and its configurations; the composer's
prediction panel shows the fix too; hostile header text stays text; and, in real Chromium, the
console text a card shows is the one Chromium printed for that run."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from starlette.templating import Jinja2Templates

from app import resource_dir
from app.cors import Scenario, predict
from app.runs.store import BrowserResult, Exchange, RecordedRequest, RecordedResponse, Run
from app.web import render
from app.web.server import BackgroundServer
from tests.helpers import headless_chromium
from tests.web.conftest import new_session
from tests.web.test_site import create_run, inline_scripts

PAGE = "http://localhost:8000"
TARGET = "http://localhost:8001/r/abcdefghijklmnopqrstuv"
PATH = "/r/abcdefghijklmnopqrstuv"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>"><svg onload=x>'


@pytest.fixture(scope="module")
def templates() -> Jinja2Templates:
    found = Jinja2Templates(directory=str(resource_dir("templates")))
    render.setup(found)
    return found


def make_run(
    doc: dict, legs: list[Exchange], outcome: str | None, browser: str = "chromium"
) -> Run:
    scenario = Scenario.from_json({"origin": PAGE, "url": TARGET, **doc})
    run = Run("r" * 22, "s" * 22, scenario, predict(scenario, browser), TARGET)
    run.exchanges.extend(legs)
    if outcome is not None:
        error = None if outcome in ("allowed", "opaque") else "TypeError: Failed to fetch"
        run.browser_result = BrowserResult(outcome, None, (), (), None, error, "UA", "Chromium 156")
    return run


def leg(kind: str, method: str, request: list[tuple[str, str]], status: int,
        response: list[tuple[str, str]]) -> Exchange:  # fmt: skip
    return Exchange(
        kind,  # type: ignore[arg-type]
        RecordedRequest(method, PATH, tuple(request), 0),
        RecordedResponse(status, tuple(response), 0),
        0.0,
    )


def part(html: str, start: str, end: str) -> str:
    """The text from ``start`` to the first ``end`` after it."""
    begin = html.index(start)
    return html[begin : html.index(end, begin) + len(end)]


class Rows(HTMLParser):
    """The diagram's rows as (kind, leg, state)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str | None, str | None, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "li" and found.get("class") == "seq-row":
            self.rows.append((found["data-kind"], found["data-leg"], found["data-state"]))


def text_of(html: str) -> str:
    """The text a reader meets: the markup without its tags and attributes."""
    return re.sub(r"<[^>]*>", "", str(html))


def rows(html: str) -> list[tuple[str | None, str | None, str | None]]:
    parser = Rows()
    parser.feed(html)
    return parser.rows


STAR_WITH_CREDENTIALS = {
    "request": {"method": "PUT", "headers": [["X-Token", "1"]], "credentials": "include"},
    "preflight_response": {"status": 204, "headers": [["Access-Control-Allow-Origin", "*"]]},
    "response": {"headers": [["Access-Control-Allow-Origin", PAGE], ["X-Request-Id", "1"]]},
}
PREFLIGHT_LEG = leg(
    "preflight",
    "OPTIONS",
    [("Origin", PAGE), ("Access-Control-Request-Method", "PUT"),
     ("Access-Control-Request-Headers", "x-token")],
    204,
    [("Access-Control-Allow-Origin", "*")],
)  # fmt: skip


def test_a_blocked_preflight_is_drawn_with_the_request_never_sent(
    templates: Jinja2Templates,
) -> None:
    html = render.card_html(templates, make_run(STAR_WITH_CREDENTIALS, [PREFLIGHT_LEG], "blocked"))
    assert rows(html) == [
        ("request", "preflight", "seen"),
        ("response", "preflight", "seen"),
        ("check", "preflight", "fail"),
        ("request", "actual", "never"),
    ]
    assert "Blocked at the preflight: PreflightWildcardOriginNotAllowed" in html
    assert f"PUT {PATH}" in html


def test_the_failed_check_links_the_standard_and_mdn_and_quotes_the_console(
    templates: Jinja2Templates,
) -> None:
    html = render.card_html(templates, make_run(STAR_WITH_CREDENTIALS, [PREFLIGHT_LEG], "blocked"))
    assert 'class="spec-link" href="https://fetch.spec.whatwg.org/#cors-preflight-fetch-0"' in html
    assert (
        'class="mdn-link" href="https://developer.mozilla.org/en-US/docs/Web/HTTP/Guides/CORS/'
        'Errors/CORSNotSupportingCredentials"' in html
    )
    assert (
        f"Access to fetch at &#39;{TARGET}&#39; from origin &#39;{PAGE}&#39; has been blocked by "
        "CORS policy: Response to preflight request doesn&#39;t pass access control check: The "
        "value of the &#39;Access-Control-Allow-Origin&#39; header in the response must not be "
        "the wildcard &#39;*&#39;" in html
    )
    assert 'data-browser="firefox">Cross-Origin Request Blocked' in html


def test_the_fix_lists_each_change_and_every_library(templates: Jinja2Templates) -> None:
    html = render.card_html(templates, make_run(STAR_WITH_CREDENTIALS, [PREFLIGHT_LEG], "blocked"))
    assert 'class="fix-it" data-status="fixed"' in html
    assert (
        'data-leg="preflight" data-action="replace" data-name="Access-Control-Allow-Origin"' in html
    )
    assert f"<code>Access-Control-Allow-Origin: {PAGE}</code>" in html
    assert 'data-name="Access-Control-Expose-Headers"' in html
    for library in ("starlette", "express", "flask", "django", "go", "nginx"):
        assert f'data-library="{library}"' in html
    # The fix opens in a new session from the run's public card, in its own session from the
    # session's pages.
    assert 'class="fix-try" href="/?s=' in html and "s" * 22 not in html
    run = make_run(STAR_WITH_CREDENTIALS, [PREFLIGHT_LEG], "blocked")
    own = render.card_html(templates, run, own=True)
    assert f'class="fix-try" href="/sessions/{"s" * 22}?s=' in own


def test_the_raw_view_shows_each_leg_as_http_text(templates: Jinja2Templates) -> None:
    html = render.card_html(templates, make_run(STAR_WITH_CREDENTIALS, [PREFLIGHT_LEG], "blocked"))
    assert f'<pre class="raw" data-side="request">OPTIONS {PATH} HTTP/1.1\nOrigin: {PAGE}' in html
    assert '<pre class="raw" data-side="response">HTTP/1.1 204 No Content\n' in html


def test_a_missing_allow_origin_is_marked_after_the_response(templates: Jinja2Templates) -> None:
    get = leg("actual", "GET", [("Origin", PAGE)], 200, [("Content-Type", "text/plain")])
    html = render.card_html(templates, make_run({}, [get], "blocked"))
    assert rows(html)[-1] == ("check", "actual", "fail")
    assert "Blocked after the response arrived: MissingAllowOriginHeader" in html
    assert "CORSMissingAllowOrigin" in html
    assert f"<code>Access-Control-Allow-Origin: {PAGE}</code>" in html


def test_a_running_run_shows_the_predicted_legs(templates: Jinja2Templates) -> None:
    html = render.card_html(templates, make_run(STAR_WITH_CREDENTIALS, [], None))
    assert rows(html)[:2] == [
        ("request", "preflight", "expected"),
        ("response", "preflight", "expected"),
    ]
    assert "Nothing has reached the API origin yet." in html


def test_a_passing_run_says_nothing_needs_fixing(templates: Jinja2Templates) -> None:
    doc = {"response": {"headers": [["Access-Control-Allow-Origin", PAGE]]}}
    get = leg("actual", "GET", [("Origin", PAGE)], 200, [("Access-Control-Allow-Origin", PAGE)])
    html = render.card_html(templates, make_run(doc, [get], "allowed"))
    assert 'data-status="passes"' in html
    assert "Nothing to fix" in html
    assert 'class="why-failed"' not in html
    assert rows(html)[-1] == ("check", "actual", "ok")


def test_a_request_fetch_refuses_says_the_server_cannot_fix_it(templates: Jinja2Templates) -> None:
    html = render.card_html(templates, make_run({"request": {"method": "TRACE"}}, [], "error"))
    assert rows(html) == [("check", "page", "fail"), ("request", "actual", "never")]
    assert 'data-status="client"' in html
    assert "no server header can fix it" in html
    assert text_of(html).count("TRACE is a forbidden method") == 1  # once, in the diagram
    assert "Read more, and the console" in html
    assert 'class="mdn-link"' not in html


ALLOW_HEADERS_FAILS = {
    "request": {"method": "PUT", "headers": [["Content-Type", "application/json"],
                                             ["X-Token", "1"]], "body": "{}"},
    "preflight_response": {"status": 204, "headers": [["Access-Control-Allow-Origin", PAGE],
                                                      ["Access-Control-Allow-Methods", "PUT"],
                                                      ["Access-Control-Allow-Headers",
                                                       "content-type"]]},
}  # fmt: skip
ALLOW_HEADERS_LEG = leg(
    "preflight",
    "OPTIONS",
    [("Origin", PAGE), ("Access-Control-Request-Method", "PUT"),
     ("Access-Control-Request-Headers", "content-type,x-token")],
    204,
    [tuple(h) for h in ALLOW_HEADERS_FAILS["preflight_response"]["headers"]],  # type: ignore[index]
)  # fmt: skip


def test_the_card_says_the_failed_check_once_where_the_diagram_points(
    templates: Jinja2Templates,
) -> None:
    run = make_run(ALLOW_HEADERS_FAILS, [ALLOW_HEADERS_LEG], "blocked")
    failed = run.prediction.failed_step
    assert failed is not None and failed.check == "allow-headers"
    html = render.card_html(templates, run)
    diagram = part(html, '<figure class="sequence"', "</figure>")
    assert text_of(html).count(failed.detail) == 1 and failed.detail in diagram
    assert text_of(html).count("HeaderDisallowedByPreflightResponse") == 1
    assert "HeaderDisallowedByPreflightResponse" in diagram
    # The preflight's answer is labelled with the header whose check failed.
    assert "Allow-Headers: content-type" in diagram and "Allow-Origin:" not in diagram
    assert "marked ✗ in the sequence above" in part(html, '<section class="verdict"', "</p>")
    assert "The Fetch Standard on the allow-headers check" in html


def test_the_raw_headers_of_each_leg_are_folded(templates: Jinja2Templates) -> None:
    run = make_run(ALLOW_HEADERS_FAILS, [ALLOW_HEADERS_LEG], "blocked")
    html = render.card_html(templates, run)
    folded = part(html, '<details class="legs">', "</details>")
    assert '<div class="exchange" data-kind="preflight">' in folded
    assert html.count('<div class="exchange"') == 1
    assert "Every header on the wire, as the API origin saw it (1 leg)" in folded
    assert '<details class="legs" open' not in html


def test_the_composer_panel_says_the_failed_check_once(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    form = {"method": "PUT", "rq_name": ["Content-Type", "X-Token"],
            "rq_value": ["application/json", "1"], "has_body": "1", "body": "{}",
            "pf_status": "204", "rs_status": "200",
            "pf_name": ["Access-Control-Allow-Origin", "Access-Control-Allow-Methods",
                        "Access-Control-Allow-Headers"],
            "pf_value": [live.site_url, "PUT", "content-type"]}  # fmt: skip
    fragment = client.post(f"{live.site_url}/sessions/{sid}/explain", data=form).text
    # Once, in the verdict (the folded list of every check has it too, as one of the checks).
    shown = text_of(fragment.split('<details class="steps">')[0])
    assert shown.count("which does not allow the request header x-token") == 1
    assert 'class="failed"' in fragment and "Read more, and the console" in fragment


def test_hostile_header_text_stays_text_in_the_diagram_raw_view_and_fix(
    templates: Jinja2Templates,
) -> None:
    doc = {
        "id": HOSTILE,
        "request": {"method": "PUT", "headers": [["X-Evil", HOSTILE]]},
        "preflight_response": {"headers": [["Access-Control-Allow-Origin", HOSTILE]]},
        "response": {"headers": [["X-Evil", HOSTILE + "\x1b[2J"]]},
    }
    legs = [
        leg("preflight", "OPTIONS", [("Origin", PAGE), ("X-Evil", HOSTILE + "\r\nX: y")], 200,
            [("Access-Control-Allow-Origin", HOSTILE)]),
        leg("actual", "PUT", [("Origin", HOSTILE)], 200, [("X-Evil", HOSTILE + "\x1b[2J")]),
    ]  # fmt: skip
    html = render.card_html(templates, make_run(doc, legs, "blocked"))
    assert "<script>alert" not in html and "<img src=x" not in html and "<svg" not in html
    assert inline_scripts(html) == []
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    ours = [
        part(html, '<figure class="sequence"', "</figure>"),
        part(html, '<details class="raw-http">', "</details>"),
        part(html, '<section class="understand"', '<section class="agreement"'),
    ]
    for text in ours:
        assert "\x1b" not in text and "\r" not in text
    assert "\\x1b[2J" in ours[1]
    assert "X-Evil: &lt;script&gt;" in ours[1]
    assert "\\x0d\\x0aX: y" in ours[1]  # a value cannot forge a header line in the raw view
    assert "Allow-Origin: &lt;script&gt;" in ours[0]


def test_the_run_page_and_the_composer_panel_show_the_fix(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    created = create_run(client, live, {"request": {"method": "DELETE"}}, session=sid)
    client.options(
        created["target"],
        headers={"Origin": live.site_url, "Access-Control-Request-Method": "DELETE"},
    )
    client.post(
        f"{live.site_url}/runs/{created['run_id']}/result",
        json={"outcome": "blocked", "status": None, "headers": [], "body": None,
              "error": "TypeError: Failed to fetch"},
        headers={"User-Agent": "Mozilla/5.0 Chrome/156.0 Safari/537.36"},
    )  # fmt: skip
    page = client.get(f"{live.site_url}/runs/{created['run_id']}")
    assert page.status_code == 200
    assert inline_scripts(page.text) == []
    assert "/static/css/understand.css" in page.text
    assert ("check", "preflight", "fail") in rows(page.text)
    assert "Blocked at the preflight: PreflightMissingAllowOriginHeader" in page.text
    assert "CORSMissingAllowOrigin" in page.text
    assert 'data-library="starlette"' in page.text
    css = client.get(f"{live.site_url}/static/css/understand.css")
    assert css.status_code == 200 and ".seq-row" in css.text

    form = {"method": "PUT", "rq_name": "X-Token", "rq_value": "1", "pf_status": "404",
            "rs_status": "200", "credentials": "omit", "mode": "cors"}  # fmt: skip
    fragment = client.post(f"{live.site_url}/sessions/{sid}/explain", data=form)
    assert fragment.status_code == 200
    assert 'class="fix-it" data-status="fixed"' in fragment.text
    assert 'data-action="status"' not in fragment.text or "204 No Content" in fragment.text
    assert "Access-Control-Allow-Origin" in fragment.text
    assert "/?s=" in fragment.text  # the fixed scenario, ready to open


# --- in real Chromium: the console text the card shows is the one Chromium printed --------------


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with headless_chromium() as launched:
        yield launched


def share_link(scenario: dict[str, Any]) -> str:
    raw = json.dumps(scenario).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


IN_CHROMIUM = [
    pytest.param({"request": {"method": "GET"}}, "actual", id="MissingAllowOriginHeader"),
    pytest.param(
        {"request": {"method": "PUT"}, "preflight_response": {"status": 404}},
        "preflight",
        id="PreflightMissingAllowOriginHeader",
    ),
    pytest.param(
        {
            "request": {"method": "GET", "credentials": "include"},
            "response": {"headers": [["Access-Control-Allow-Origin", "*"]]},
        },
        "actual",
        id="WildcardOriginNotAllowed",
    ),
    pytest.param(
        {
            "request": {"method": "DELETE", "headers": [["X-Token", "1"]]},
            "preflight_response": {
                "status": 204,
                "headers": [
                    ["Access-Control-Allow-Origin", "{page}"],
                    ["Access-Control-Allow-Methods", "DELETE"],
                ],
            },
        },
        "preflight",
        id="HeaderDisallowedByPreflightResponse",
    ),
]


@pytest.mark.browser
@pytest.mark.parametrize(("scenario", "stage"), IN_CHROMIUM)
def test_the_console_text_shown_is_what_chromium_printed(
    chromium: Any, live: BackgroundServer, scenario: dict[str, Any], stage: str
) -> None:
    doc = json.loads(json.dumps(scenario).replace("{page}", live.site_url))
    context = chromium.new_context()
    try:
        page = context.new_page()
        printed: list[str] = []
        page.on("console", lambda message: printed.append(message.text))
        page.goto(f"{live.site_url}/?s={share_link(doc)}&run=1")
        card = page.locator("#runs .run[data-state='done']")
        card.wait_for(timeout=15_000)
        shown = card.locator('.why-failed pre.console-text[data-browser="chromium"]').inner_text()
        for _ in range(50):  # the console event may trail the card
            if any(m.startswith("Access to fetch") for m in printed):
                break
            page.wait_for_timeout(100)
        assert shown in printed
        fail = card.locator(f'.seq-row[data-kind="check"][data-leg="{stage}"][data-state="fail"]')
        assert fail.count() == 1
        assert card.locator(".fix-it").get_attribute("data-status") == "fixed"
    finally:
        context.close()


def test_the_readable_line_names_the_content_length_the_api_origin_adds(
    templates: Jinja2Templates,
) -> None:
    doc = {"response": {"headers": [["Access-Control-Allow-Origin", PAGE],
                                    ["Content-Type", "text/plain"]]}}  # fmt: skip
    sent = [("Access-Control-Allow-Origin", PAGE), ("Content-Type", "text/plain"),
            ("Content-Length", "5")]  # fmt: skip
    get = leg("actual", "GET", [("Origin", PAGE)], 200, sent)
    readable = part(render.card_html(templates, make_run(doc, [get], "allowed")),
                    '<p class="readable">', "</p>")  # fmt: skip
    assert "JavaScript can read: <code>content-type</code>, plus <code>content-length</code>" in (
        readable
    )
    assert "which the API origin adds for framing" in readable
    assert "https://fetch.spec.whatwg.org/#cors-safelisted-response-header-name" in readable
    no_body = {"response": {**doc["response"], "status": 204}}
    html = render.card_html(templates, make_run(no_body, [], "allowed"))
    assert "content-length" not in part(html, '<p class="readable">', "</p>")
