"""Lessons over real HTTP: the JSON API, the pages, answering before sending, progress kept
apart per session, the explanation tied to a run's recorded exchanges, and escaping."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import httpx
import pytest

from app.cors import predict
from app.lessons import BY_SLUG, LESSONS
from app.runs.validation import FormData, scenario_from_form
from app.web.server import BackgroundServer
from tests.web.conftest import new_session
from tests.web.test_site import HOSTILE, inline_scripts

HX = {"HX-Request": "true"}
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0.0.0 Safari/537.36"
EXPECTED_KEYS = {
    "preflight",
    "access-control-request-method",
    "access-control-request-headers",
    "actual_request_sent",
    "outcome",
    "blocked_by",
    "readable_headers",
}


class FormFields(HTMLParser):
    """The hidden fields of the page's #composer form, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self.inside = found.get("id") == "composer"
        elif tag == "input" and self.inside:
            self.fields.append((found["name"] or "", found.get("value") or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def form_fields(html: str) -> list[tuple[str, str]]:
    parser = FormFields()
    parser.feed(html)
    return parser.fields


def row(name: str, value: str) -> str:
    return f'<tr><th scope="row">{name}</th><td>{value}</td></tr>'


def lessons_url(live: BackgroundServer, sid: str, slug: str = "") -> str:
    return f"{live.site_url}/sessions/{sid}/lessons" + (f"/{slug}" if slug else "")


def answer(
    client: httpx.Client, live: BackgroundServer, sid: str, slug: str, choice: str
) -> httpx.Response:
    return client.post(
        f"{lessons_url(live, sid, slug)}/answer", data={"choice": choice}, headers=HX
    )


# --- JSON API ---------------------------------------------------------------------------------


def test_api_lists_every_lesson_with_its_scenario_and_expected_behaviour(
    client: httpx.Client, live: BackgroundServer
) -> None:
    response = client.get(f"{live.site_url}/api/lessons")
    assert response.status_code == 200
    doc = response.json()
    assert doc["origin"] == live.site_url and doc["api"] == live.api_url
    assert doc["browser"] == "chromium"
    assert [item["slug"] for item in doc["lessons"]] == [lesson.slug for lesson in LESSONS]
    for number, item in enumerate(doc["lessons"], 1):
        assert item["number"] == number
        assert set(item["expected"]) == EXPECTED_KEYS
        assert item["scenario"]["origin"] == live.site_url
        assert item["scenario"]["url"].startswith(live.api_url + "/")
        choices = [c["value"] for c in item["question"]["choices"]]
        assert item["question"]["answer"] in choices
        assert item["page"] == f"/lessons/{item['slug']}" and item["share"].startswith("/?s=")
        assert item["dangerous"] == (item["danger"] is not None) == (item["attacker"] is not None)
        assert all("{origin}" not in s for s in [*item["setup"], *item["explanation"]])
    by_slug = {item["slug"]: item for item in doc["lessons"]}
    assert by_slug["json-post"]["expected"]["access-control-request-headers"] == "content-type"
    assert by_slug["trailing-slash"]["scenario"]["response"]["headers"][0] == [
        "Access-Control-Allow-Origin",
        live.site_url + "/",
    ]
    assert [e["engine"] for e in by_slug["authorization-wildcard"]["engines"]] == ["spec"]
    assert by_slug["reflect-origin"]["attacker"]["expected"]["outcome"] == "allowed"


def test_api_lessons_follow_the_page_s_host(client: httpx.Client, live: BackgroundServer) -> None:
    port = live.settings.site_port
    doc = client.get(f"http://127.0.0.1:{port}/api/lessons").json()
    assert doc["origin"] == f"http://127.0.0.1:{port}"
    item = next(i for i in doc["lessons"] if i["slug"] == "credentials-exact")
    assert ["Access-Control-Allow-Origin", doc["origin"]] in item["scenario"]["response"]["headers"]
    assert "localhost" not in str(item["scenario"])


# --- pages ------------------------------------------------------------------------------------


def test_lesson_links_open_a_new_session(client: httpx.Client, live: BackgroundServer) -> None:
    index = client.get(f"{live.site_url}/lessons", follow_redirects=False)
    assert index.status_code == 303
    assert re.fullmatch(r"/sessions/[\w-]+/lessons", index.headers["location"])
    one = client.get(f"{live.site_url}/lessons/json-post", follow_redirects=False)
    assert re.fullmatch(r"/sessions/[\w-]+/lessons/json-post", one.headers["location"])
    assert one.headers["location"].split("/")[2] != index.headers["location"].split("/")[2]
    assert client.get(f"{live.site_url}/lessons/nope", follow_redirects=False).status_code == 404
    sid = new_session(client, live)
    assert client.get(lessons_url(live, sid, "nope")).status_code == 404
    assert client.get(lessons_url(live, "<bad>")).status_code == 404


def test_index_lists_every_lesson_in_order_and_labels_the_dangerous_ones(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    page = client.get(lessons_url(live, sid))
    assert page.status_code == 200
    slugs = re.findall(r'<li data-slug="([\w-]+)"', page.text)
    assert slugs == [lesson.slug for lesson in LESSONS]
    for lesson in LESSONS:
        item = re.search(rf'<li data-slug="{lesson.slug}".*?</li>', page.text, re.S)
        assert item is not None
        assert ("Dangerous" in item.group(0)) == lesson.dangerous
    assert f"0 of {len(LESSONS)} answered" in page.text


def test_the_question_comes_before_send_and_the_answer_is_not_given_away(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    page = client.get(lessons_url(live, sid, "json-post")).text
    assert 'name="choice"' in page and 'id="send"' not in page
    assert "data-truth" not in page and 'id="prediction"></div>' in page
    reply = answer(client, live, sid, "json-post", "yes")
    assert reply.status_code == 200
    assert 'id="send"' in reply.text and 'form="composer"' in reply.text
    assert 'name="choice"' not in reply.text
    page = client.get(lessons_url(live, sid, "json-post")).text
    assert 'id="send"' in page and 'data-choice="yes"' in page


def test_the_page_s_hidden_composer_sends_exactly_the_lesson_s_scenario(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    # A whole-fetch lesson is sent through its own route (its hops are no composer field).
    for lesson in (lesson for lesson in LESSONS if not lesson.whole_fetch):
        fields = form_fields(client.get(lessons_url(live, sid, lesson.slug)).text)
        checked = scenario_from_form(FormData(fields), origin=live.site_url, url="x")
        assert checked.ok and not checked.notes, (lesson.slug, checked.errors, checked.notes)
        assert checked.scenario is not None
        wanted = lesson.scenario(live.site_url, live.api_url)
        assert checked.scenario.request == wanted.request
        assert checked.scenario.preflight_response == wanted.preflight_response
        assert checked.scenario.response == wanted.response
        assert checked.scenario.id == lesson.slug


def test_a_plain_form_answer_redirects_back_and_a_bad_one_is_refused(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    url = f"{lessons_url(live, sid, 'simple-get')}/answer"
    plain = client.post(url, data={"choice": "no"}, follow_redirects=False)
    assert plain.status_code == 303
    assert plain.headers["location"] == f"/sessions/{sid}/lessons/simple-get#question"
    sid = new_session(client, live)
    url = f"{lessons_url(live, sid, 'simple-get')}/answer"
    assert client.post(url, data={"choice": HOSTILE}).status_code == 422
    fragment = client.post(url, data={"choice": HOSTILE}, headers=HX)
    assert "Pick one of the answers" in fragment.text and HOSTILE not in fragment.text
    assert client.post(url, content=b"x" * 5000, headers=HX).status_code == 413
    assert "0 of" in client.get(lessons_url(live, sid)).text


def test_progress_is_kept_per_session_and_the_first_answer_stands(
    client: httpx.Client, live: BackgroundServer
) -> None:
    first, second = new_session(client, live), new_session(client, live)
    assert answer(client, live, first, "simple-get", "no").status_code == 200  # right
    assert answer(client, live, first, "json-post", "no").status_code == 200  # wrong
    answer(client, live, first, "json-post", "yes")  # too late: the first answer stands
    index = client.get(lessons_url(live, first)).text
    assert f"2 of {len(LESSONS)} answered · 1 correct" in index
    assert '<li data-slug="simple-get" data-state="correct">' in index
    assert '<li data-slug="json-post" data-state="wrong">' in index
    other = client.get(lessons_url(live, second)).text
    assert f"0 of {len(LESSONS)} answered · 0 correct" in other
    assert 'data-state="correct"' not in other
    assert 'name="choice"' in client.get(lessons_url(live, second, "simple-get")).text


def test_progress_store_is_bounded_like_the_run_store() -> None:
    with BackgroundServer(max_sessions=2) as small, httpx.Client(timeout=10) as client:
        sessions = [new_session(client, small) for _ in range(3)]
        for sid in sessions:
            answer(client, small, sid, "simple-get", "no")
        store = small.playground.progress.memory  # type: ignore[attr-defined]
        assert len(store) == 2 and store.max_sessions == 2


# --- the explanation ----------------------------------------------------------------------------


class Ancestors(HTMLParser):
    """The elements around the element whose id is ``target``, outermost first."""

    VOID = frozenset({"br", "img", "input", "meta", "link", "hr", "source", "wbr", "area", "col"})

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id") == self.target:
            self.found = list(self.stack)
        if tag not in self.VOID:
            self.stack.append((tag, found))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break


def send_like_a_browser(
    client: httpx.Client, live: BackgroundServer, sid: str, slug: str, origin: str | None = None
) -> str:
    """Create the lesson's run from its page's form and play the browser's part."""
    fields = form_fields(client.get(lessons_url(live, sid, slug)).text)
    created = client.post(
        f"{live.site_url}/sessions/{sid}/runs",
        content=urlencode(fields).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": CHROME},
    )
    assert created.status_code == 201, created.text
    run = created.json()
    scenario = BY_SLUG[slug].scenario(live.site_url, live.api_url)
    expected = BY_SLUG[slug].expect(live.site_url, live.api_url)
    page_origin = origin or live.site_url
    if expected.preflight_request is not None:
        headers = dict(expected.preflight_request.headers) | {"Origin": page_origin}
        client.options(run["target"], headers=headers)
    if expected.actual_request_sent:
        client.request(
            scenario.request.method,
            run["target"],
            headers=[*scenario.request.headers, ("Origin", page_origin)],
            content=scenario.request.body,
        )
    result = {
        "outcome": expected.outcome,
        "status": 200 if expected.outcome == "allowed" else None,
        "headers": [[h, "x"] for h in expected.readable_headers],
        "body": None,
        "error": None if expected.outcome == "allowed" else "TypeError: Failed to fetch",
    }
    assert client.post(f"{live.site_url}/runs/{run['run_id']}/result", json=result).is_success
    return str(run["run_id"])


def test_the_explanation_shows_the_run_s_real_exchange_headers(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    answer(client, live, sid, "custom-header", "content-type,x-api-key")  # wrong
    run_id = send_like_a_browser(client, live, sid, "custom-header")
    url = f"{lessons_url(live, sid, 'custom-header')}/runs/{run_id}"
    fragment = client.get(url)
    assert fragment.status_code == 200
    text = fragment.text
    assert f'data-run-id="{run_id}"' in text and 'data-truth="x-api-key"' in text
    assert 'data-right="no"' in text and "Not quite" in text
    assert 'data-seen="x-api-key"' in text
    # What the API origin received and answered, from the recorded legs.
    # (the API origin's server lowercases request header names, as HTTP/2 would)
    assert row("access-control-request-headers", "x-api-key") in text
    assert row("Access-Control-Allow-Headers", "X-Api-Key") in text
    assert row("origin", live.site_url) in text
    assert "https://fetch.spec.whatwg.org/#" in text and "developer.mozilla.org" in text
    assert "Next lesson" in text
    # The page shows it too, once the run is done; the answer is noted with its run.
    page = client.get(lessons_url(live, sid, "custom-header")).text
    assert f'data-run-id="{run_id}"' in page and "What happened" in page
    answered = live.call(live.playground.progress.get(sid, "custom-header"))
    assert answered is not None and answered.run_id == run_id


def test_the_full_run_card_waits_folded_below_the_explanation(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    answer(client, live, sid, "json-post", "yes")
    run_id = send_like_a_browser(client, live, sid, "json-post")
    page = client.get(lessons_url(live, sid, "json-post")).text
    assert page.index('<div class="explanation"') < page.index('<details class="lesson-runs">')
    parents = Ancestors(f"run-{run_id}")
    parents.feed(page)
    folded = [attrs for tag, attrs in parents.found if tag == "details"]
    assert folded == [{"class": "lesson-runs"}]  # inside it, and it is closed (no "open")


def test_the_explanation_belongs_to_its_session_and_lesson(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid, other = new_session(client, live), new_session(client, live)
    run_id = send_like_a_browser(client, live, sid, "simple-get")
    assert client.get(f"{lessons_url(live, sid, 'simple-get')}/runs/{run_id}").status_code == 200
    assert client.get(f"{lessons_url(live, other, 'simple-get')}/runs/{run_id}").status_code == 404
    assert client.get(f"{lessons_url(live, sid, 'json-post')}/runs/{run_id}").status_code == 404
    assert client.get(f"{lessons_url(live, sid, 'simple-get')}/runs/nope").status_code == 404


def test_dangerous_lessons_explain_the_attacker_s_view(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    answer(client, live, sid, "suffix-match", "yes")
    run_id = send_like_a_browser(client, live, sid, "suffix-match")
    text = client.get(f"{lessons_url(live, sid, 'suffix-match')}/runs/{run_id}").text
    port = live.settings.site_port
    assert "Dangerous: the attacker's view" in text
    assert f"<code>http://evil-localhost:{port}</code>" in text
    assert f"Access-Control-Allow-Origin: http://evil-localhost:{port}" in text
    assert 'data-outcome="allowed"' in text


def test_authorization_lesson_shows_where_the_standard_differs(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    answer(client, live, sid, "authorization-wildcard", "yes")
    run_id = send_like_a_browser(client, live, sid, "authorization-wildcard")
    text = client.get(f"{lessons_url(live, sid, 'authorization-wildcard')}/runs/{run_id}").text
    assert 'data-engine="spec"' in text and "Fetch Standard" in text


# --- escaping, CSP, navigation ------------------------------------------------------------------


def test_lesson_pages_escape_everything_and_have_no_inline_scripts(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    answer(client, live, sid, "null-origin", "no")
    run_id = send_like_a_browser(client, live, sid, "null-origin", origin=HOSTILE)
    pages = [
        client.get(lessons_url(live, sid)),
        client.get(lessons_url(live, sid, "null-origin")),
        client.get(f"{lessons_url(live, sid, 'null-origin')}/runs/{run_id}"),
        answer(client, live, sid, "simple-get", "no"),
    ]
    for page in pages:
        assert page.status_code == 200
        assert HOSTILE not in page.text
        assert "<iframe" not in page.text  # the lesson's own text is escaped too
        assert inline_scripts(page.text) == []
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "&lt;script&gt;alert" in pages[2].text
    for page in pages[1:3]:  # the lesson's own sentence about iframes, escaped
        assert "<code>&lt;iframe sandbox=&#34;allow-scripts&#34;&gt;</code>" in page.text


@pytest.mark.parametrize("where", ["composer", "api docs"])
def test_navigation_links_to_the_lessons(
    client: httpx.Client, live: BackgroundServer, where: str
) -> None:
    sid = new_session(client, live)
    if where == "composer":
        page = client.get(f"{live.site_url}/sessions/{sid}").text
        assert f'href="/sessions/{sid}/lessons">Lessons</a>' in page
    else:
        page = client.get(f"{live.site_url}/api").text
        assert "/api/lessons" in page and "/sessions/{session_id}/lessons/{slug}" in page
        assert 'href="/lessons">Lessons</a>' in page


def test_the_console_links_back_to_the_session_s_lessons(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    console = client.get(f"{live.api_url}/console/{sid}").text
    assert f'href="{live.site_url}/sessions/{sid}/lessons">Lessons</a>' in console


@pytest.mark.parametrize(
    "slug", [lesson.slug for lesson in LESSONS if lesson.whole_fetch]
)
def test_a_whole_fetch_lesson_runs_at_its_own_url_with_its_hops(
    client: httpx.Client, live: BackgroundServer, slug: str
) -> None:
    sid = new_session(client, live)
    page = client.get(lessons_url(live, sid, slug)).text
    runs_url = f"/sessions/{sid}/lessons/{slug}/runs"
    assert f'data-runs="{runs_url}"' in page
    created = client.post(f"{live.site_url}{runs_url}", headers={"User-Agent": CHROME})
    assert created.status_code == 201, created.text
    run = created.json()
    assert run["target"] == f"{live.api_url}/r/{run['run_id']}"
    lesson = BY_SLUG[slug]
    scenario = lesson.scenario(live.site_url, live.api_url, url=run["target"])
    assert run["init"]["redirect"] == scenario.request.redirect
    # Play Chromium's legs as the engine predicts them: each is answered at its own URL.
    expected = predict(scenario, "chromium")
    for leg in expected.legs:
        answer = client.request(
            leg.method, leg.url, headers=leg.headers,
            content=scenario.request.body if leg.body else None,
        )  # fmt: skip
        location = answer.headers.get("location")
        assert location is None or location.startswith(run["target"] + "/")
    recorded = client.get(f"{live.site_url}/api/runs/{run['run_id']}").json()["exchanges"]
    assert [(e["kind"], e["request"]["path"]) for e in recorded] == [
        (leg.kind, urlsplit(leg.url).path) for leg in expected.legs
    ]
    rejected = expected.outcome not in ("allowed", "opaqueredirect")
    result = {"outcome": expected.outcome,
              "status": 200 if expected.outcome == "allowed" else None,
              "headers": [], "body": None, "error": "TypeError" if rejected else None}  # fmt: skip
    assert client.post(f"{live.site_url}/runs/{run['run_id']}/result", json=result).is_success
    explanation = client.get(f"{lessons_url(live, sid, slug)}/runs/{run['run_id']}").text
    truth = lesson.answer(live.site_url, live.api_url)
    assert f'data-truth="{truth}" data-seen="{truth}"' in explanation


def test_a_lesson_of_one_request_is_not_sent_through_the_lesson_route(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    assert client.post(f"{live.site_url}/sessions/{sid}/lessons/simple-get/runs").status_code == 404
    page = client.get(lessons_url(live, sid, "simple-get")).text
    assert f'data-runs="/sessions/{sid}/runs"' in page
