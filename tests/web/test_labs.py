"""Labs, server side: redirect hops answered and recorded, cookies set, the cache lab's URL
reuse, the cards as the pages show them, and every bound. The labs' own logic without a server
is tested in tests/labs."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.cors import PROFILES
from app.labs import registry
from app.web.app import create_app
from app.web.config import Settings
from app.web.deps import CHOICES_LIMIT
from app.web.server import BackgroundServer
from tests.web.conftest import new_session

# --- the live server ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small() -> Iterator[BackgroundServer]:
    """A playground with a small run bound, for the eviction tests."""
    with BackgroundServer(runs_per_session=4) as server:
        yield server


def lab_url(live: BackgroundServer, session: str, lab: str) -> str:
    return f"{live.site_url}/sessions/{session}/labs/{lab}"


# Predict first: a send to these labs needs the learner's answers.
GUESSES = {
    "redirects": {"guess_outcome": "resolves", "guess_origin": "null"},
    "cache": {"guess_preflight": "yes"},
}


def create(client: httpx.Client, url: str, **form: str) -> httpx.Response:
    return client.post(f"{url}/runs", data={**GUESSES.get(url.rsplit("/", 1)[1], {}), **form})


def settle(client: httpx.Client, live: BackgroundServer, run_id: str, outcome: str) -> None:
    """What the page's fetch() got, as the lab page reports it."""
    result = {"outcome": outcome, "status": 200 if outcome == "allowed" else None,
              "headers": [], "body": None,
              "error": None if outcome == "allowed" else "TypeError: Failed to fetch"}  # fmt: skip
    assert client.post(f"{live.site_url}/runs/{run_id}/result", json=result).is_success


def run_json(client: httpx.Client, live: BackgroundServer, run_id: str) -> Any:
    response = client.get(f"{live.site_url}/api/runs/{run_id}")
    assert response.status_code == 200
    return response.json()


def test_labs_start_a_session_and_list_every_lab(
    client: httpx.Client, live: BackgroundServer
) -> None:
    started = client.get(f"{live.site_url}/labs", follow_redirects=False)
    assert started.status_code == 303
    index = client.get(live.site_url + started.headers["location"])
    assert index.status_code == 200
    for lab in registry.LABS.values():
        assert f'/labs/{lab.name}"' in index.text and lab.title in index.text


@pytest.mark.parametrize("lab", list(registry.LABS))
def test_each_lab_page_has_its_setup_controls_and_no_inline_script(
    client: httpx.Client, live: BackgroundServer, lab: str
) -> None:
    session = new_session(client, live)
    page = client.get(lab_url(live, session, lab))
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert re.search(r"<script(?![^>]*\bsrc=)", page.text) is None
    assert 'id="lab"' in page.text and "data-lab-form" in page.text
    assert registry.LABS[lab].title in page.text
    assert 'href="https://fetch.spec.whatwg.org/' in page.text
    # The lab's own stream and console: a lab session derived from this one.
    lab_session = registry.lab_session_id(session, lab)
    assert f'data-events="/sessions/{lab_session}/events"' in page.text
    assert f"{live.api_url}/console/{lab_session}" in page.text


def test_the_cache_lab_shows_every_engines_default_and_cap_from_the_profiles(
    client: httpx.Client, live: BackgroundServer
) -> None:
    page = client.get(lab_url(live, new_session(client, live), "cache")).text
    table = page.split('<table class="caps">')[1].split("</table>")[0]
    for profile in PROFILES.values():
        row = table.split(f">{profile.label}")[1].split("</tr>")[0]
        assert f"{profile.max_age_default} s" in row
        if profile.max_age_cap is not None:
            assert f"{profile.max_age_cap} s" in row


def test_unknown_labs_and_sessions_are_404(client: httpx.Client, live: BackgroundServer) -> None:
    session = new_session(client, live)
    assert client.get(lab_url(live, session, "nope")).status_code == 404
    assert client.get(f"{live.site_url}/sessions/short/labs").status_code == 404
    assert client.get(f"{lab_url(live, session, 'cache')}/runs/{'x' * 22}").status_code == 404


def test_lab_sessions_are_unguessable_and_apart_from_the_composer(
    client: httpx.Client, live: BackgroundServer
) -> None:
    session = new_session(client, live)
    ids = {registry.lab_session_id(session, lab) for lab in registry.LABS}
    assert len(ids) == len(registry.LABS) and session not in ids
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{24}", i) for i in ids)
    made = create(client, lab_url(live, session, "redirects")).json()
    composer = client.get(f"{live.site_url}/sessions/{session}").text
    assert made["run_id"] not in composer  # lab runs never crowd the composer's list
    run = run_json(client, live, made["run_id"])
    assert run["notes"] == [registry.LABS["redirects"].note]


# --- the preflight cache: one URL on purpose ------------------------------------------------


def test_send_again_reuses_the_url_and_the_newest_send_records_the_legs(
    client: httpx.Client, live: BackgroundServer
) -> None:
    url = lab_url(live, new_session(client, live), "cache")
    first = create(client, url, max_age="seconds", seconds="30", credentials="omit").json()
    assert first["target"] == f"{live.api_url}/r/{first['run_id']}"
    assert first["init"] == {
        "method": "PUT",
        "headers": [["X-Lab-Send", "1"]],
        "credentials": "omit",
        "mode": "cors",
        "body": None,
        "redirect": "follow",
    }
    origin = {"Origin": live.site_url}
    preflight = client.options(
        first["target"], headers={**origin, "Access-Control-Request-Method": "PUT"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-max-age"] == "30"
    assert client.put(first["target"], headers={**origin, "X-Lab-Send": "1"}).status_code == 200
    again = create(client, url, series=first["run_id"], credentials="include").json()
    assert again["target"] == first["target"] and again["run_id"] != first["run_id"]
    assert again["init"]["headers"] == [["X-Lab-Send", "2"]]
    assert again["init"]["credentials"] == "include"
    assert again["card_id"] == first["card_id"] == f"lab-series-{first['run_id']}"
    client.put(first["target"], headers={**origin, "X-Lab-Send": "2"})
    assert [e["kind"] for e in run_json(client, live, first["run_id"])["exchanges"]] == [
        "preflight",
        "actual",
    ]
    assert [e["kind"] for e in run_json(client, live, again["run_id"])["exchanges"]] == ["actual"]
    card = client.get(f"{url}/runs/{again['run_id']}").text
    assert 'data-send="2" data-observed="hit"' in card
    assert 'data-send="1" data-observed="miss"' in card
    assert "Cache hit" in card and "data-expires-in=" in card


@pytest.mark.parametrize(
    ("form", "header"),
    [
        ({"max_age": "absent"}, None),
        ({"max_age": "0"}, "0"),
        ({"max_age": "seconds", "seconds": "7"}, "7"),
        (
            {"max_age": "seconds", "seconds": str(registry.MAX_AGE_LIMIT)},
            str(registry.MAX_AGE_LIMIT),
        ),
    ],
    ids=["absent", "zero", "seven", "limit"],
)
def test_the_preflight_answers_the_chosen_max_age(
    client: httpx.Client, live: BackgroundServer, form: dict[str, str], header: str | None
) -> None:
    made = create(client, lab_url(live, new_session(client, live), "cache"), **form).json()
    answer = client.options(
        made["target"],
        headers={"Origin": live.site_url, "Access-Control-Request-Method": "PUT"},
    )
    assert answer.headers.get("access-control-max-age") == header
    assert answer.headers["access-control-allow-methods"] == "PUT"
    assert answer.headers["access-control-allow-headers"] == "X-Lab-Send"


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"max_age": "forever"}, "max_age"),
        ({"max_age": "seconds", "seconds": "0"}, "seconds"),
        ({"max_age": "seconds", "seconds": "-5"}, "seconds"),
        ({"max_age": "seconds", "seconds": str(registry.MAX_AGE_LIMIT + 1)}, "seconds"),
        ({"credentials": "sometimes"}, "credentials"),
        ({"series": "not-a-url-id"}, "series"),
    ],
)
def test_cache_lab_input_is_checked(
    client: httpx.Client, live: BackgroundServer, form: dict[str, str], field: str
) -> None:
    answer = create(client, lab_url(live, new_session(client, live), "cache"), **form)
    assert answer.status_code in (404, 422)
    assert answer.json()["error"]["field"] == field


def test_a_url_takes_a_bounded_number_of_sends(
    client: httpx.Client, live: BackgroundServer
) -> None:
    url = lab_url(live, new_session(client, live), "cache")
    first = create(client, url).json()
    for _ in range(registry.MAX_SENDS_PER_URL - 1):
        assert create(client, url, series=first["run_id"]).status_code == 201
    refused = create(client, url, series=first["run_id"])
    assert refused.status_code == 409
    assert "new URL" in refused.json()["error"]["message"]
    assert "disabled" in client.get(f"{url}/runs/{first['run_id']}").text


def test_a_series_belongs_to_its_own_lab_session(
    client: httpx.Client, live: BackgroundServer
) -> None:
    mine = create(client, lab_url(live, new_session(client, live), "cache")).json()
    other = lab_url(live, new_session(client, live), "cache")
    assert create(client, other, series=mine["run_id"]).status_code == 404
    assert client.get(f"{other}/runs/{mine['run_id']}").status_code == 404


# --- redirects ------------------------------------------------------------------------------


def test_each_redirect_hop_is_answered_and_recorded_as_its_own_leg(
    client: httpx.Client, live: BackgroundServer
) -> None:
    url = lab_url(live, new_session(client, live), "redirects")
    made = create(
        client, url, method="POST", status="303", destination="cross-back", allow="null"
    ).json()
    assert made["init"]["method"] == "POST" and made["init"]["body"] == registry.REDIRECT_BODY
    run_id = made["run_id"]
    cross = live.api_url.replace("localhost", "127.0.0.1")
    first = client.post(made["target"], content=b"ping", headers={"Origin": live.site_url})
    assert first.status_code == 303
    assert first.headers["location"] == f"{cross}/r/{run_id}/1"
    assert first.headers["access-control-allow-origin"] == live.site_url
    second = client.get(first.headers["location"], headers={"Origin": "null"})
    assert second.status_code == 303
    assert second.headers["location"] == f"{live.api_url}/r/{run_id}/2"
    assert second.headers["access-control-allow-origin"] == "null"
    final = client.get(second.headers["location"], headers={"Origin": "null"})
    assert final.status_code == 200 and final.headers["access-control-allow-origin"] == "null"
    assert client.get(f"{live.api_url}/r/{run_id}/3").status_code == 404  # no such hop
    legs = run_json(client, live, run_id)["exchanges"]
    assert [(e["request"]["method"], e["request"]["path"]) for e in legs] == [
        ("POST", f"/r/{run_id}"),
        ("GET", f"/r/{run_id}/1"),
        ("GET", f"/r/{run_id}/2"),
    ]
    assert [e["response"]["status"] for e in legs] == [303, 303, 200]
    card = client.get(f"{url}/runs/{run_id}").text
    assert card.count('class="leg"') == 3
    assert 'data-hop="1" data-method="GET" data-origin-header="null"' in card
    assert "tainted origin flag" in card and "it was POST" in card


@pytest.mark.parametrize("allow", registry.ALLOW_CHOICES)
def test_the_final_answer_allows_what_the_learner_chose(
    client: httpx.Client, live: BackgroundServer, allow: str
) -> None:
    url = lab_url(live, new_session(client, live), "redirects")
    made = create(client, url, destination="same", allow=allow).json()
    first = client.get(made["target"], headers={"Origin": live.site_url})
    assert first.headers["location"] == f"{live.api_url}/r/{made['run_id']}/1"
    final = client.get(first.headers["location"], headers={"Origin": live.site_url})
    expected = {"page": live.site_url, "null": "null", "*": "*"}[allow]
    assert final.headers["access-control-allow-origin"] == expected


def test_a_redirected_preflight_is_answered_with_a_location(
    client: httpx.Client, live: BackgroundServer
) -> None:
    url = lab_url(live, new_session(client, live), "redirects")
    made = create(client, url, status="308", preflight="1").json()
    assert made["init"]["headers"] == [["X-Lab", "redirect-the-preflight"]]
    answer = client.options(
        made["target"],
        headers={"Origin": live.site_url, "Access-Control-Request-Method": "GET"},
    )
    assert answer.status_code == 308 and answer.headers["location"].endswith("/1")
    card = client.get(f"{url}/runs/{made['run_id']}").text
    assert 'data-kind="preflight"' in card and "never redirected" in card


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"status": "300"}, "status"),
        ({"status": "abc"}, "status"),
        ({"method": "PUT"}, "method"),
        ({"destination": "moon"}, "destination"),
        ({"allow": "everyone"}, "allow"),
    ],
)
def test_redirect_lab_input_is_checked(
    client: httpx.Client, live: BackgroundServer, form: dict[str, str], field: str
) -> None:
    answer = create(client, lab_url(live, new_session(client, live), "redirects"), **form)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == field


@pytest.mark.parametrize(
    ("lab", "field"),
    [("redirects", "guess_outcome"), ("cache", "guess_preflight")],
)
def test_a_predict_first_lab_refuses_a_send_without_the_learners_answer(
    client: httpx.Client, live: BackgroundServer, lab: str, field: str
) -> None:
    url = lab_url(live, new_session(client, live), lab)
    page = client.get(url).text
    assert f'name="{field}"' in page and "Predict first" in page
    refused = client.post(f"{url}/runs", data={})
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["field"] == field and error["message"].startswith("answer first")
    bad = client.post(f"{url}/runs", data={field: "maybe"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == field


def test_the_redirect_card_reveals_the_engines_answers_only_once_fetch_settled(
    client: httpx.Client, live: BackgroundServer
) -> None:
    url = lab_url(live, new_session(client, live), "redirects")
    made = create(
        client, url, destination="cross", allow="null", header="1",
        guess_outcome="resolves", guess_origin="page",
    ).json()  # fmt: skip
    assert made["init"]["headers"] == [["X-Lab", "preflight-every-hop"]]
    assert "engine-answers" not in made["card"] and "once <code>fetch()</code>" in made["card"]
    # Chromium's legs: a preflight and the request, then a preflight and the request at the hop,
    # each hop preflight answered with what the learner chose.
    cross = live.api_url.replace("localhost", "127.0.0.1")
    asks = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-lab"}
    assert client.options(made["target"], headers={"Origin": live.site_url, **asks}).is_success
    first = client.get(made["target"], headers={"Origin": live.site_url, "X-Lab": "1"})
    hop = first.headers["location"]
    assert hop == f"{cross}/r/{made['run_id']}/1"
    hop_preflight = client.options(hop, headers={"Origin": "null", **asks})
    assert hop_preflight.headers["access-control-allow-origin"] == "null"
    assert client.get(hop, headers={"Origin": "null", "X-Lab": "1"}).status_code == 200
    running = client.get(f"{url}/runs/{made['run_id']}").text
    assert "engine-answers" not in running
    # The sequence diagram draws all four legs, the hop on the other host named.
    assert running.count('class="seq-row" data-kind="request"') == 4
    assert f"Origin: null · at {cross[7:]}" in running
    settle(client, live, made["run_id"], "allowed")
    card = client.get(f"{url}/runs/{made['run_id']}").text
    assert 'data-right="1" data-of="2"' in card
    assert 'data-question="origin" data-right="no"' in card
    for engine, outcome in (("chromium", "resolves"), ("firefox", "rejects"),
                            ("webkit", "resolves"), ("spec", "resolves")):  # fmt: skip
        row = re.search(rf'<tr data-engine="{engine}"[^>]*>.*?</tr>', card, re.S)
        assert row and f'data-value="{outcome}"' in row.group(0), engine
    # httpx is no known browser: the card compares with the standard and names Firefox's
    # deviation with its evidence.
    assert "tainted-preflight-origin" not in card  # keys stay internal; the summary shows
    firefox = PROFILES["firefox"].deviation("tainted-preflight-origin")
    assert firefox.summary in card.replace("&#39;", "'").replace("&#34;", '"')


def test_the_cache_card_reveals_each_browsers_answer_for_each_send(
    client: httpx.Client, live: BackgroundServer
) -> None:
    url = lab_url(live, new_session(client, live), "cache")
    first = create(client, url, max_age="seconds", seconds="30", guess_preflight="yes").json()
    origin = {"Origin": live.site_url}
    client.options(first["target"], headers={**origin, "Access-Control-Request-Method": "PUT"})
    client.put(first["target"], headers={**origin, "X-Lab-Send": "1"})
    settle(client, live, first["run_id"], "allowed")
    again = create(client, url, series=first["run_id"], guess_preflight="yes").json()
    assert 'data-send="2"' in again["card"] and "once <code>fetch()</code>" in again["card"]
    client.put(first["target"], headers={**origin, "X-Lab-Send": "2"})
    settle(client, live, again["run_id"], "allowed")
    card = client.get(f"{url}/runs/{again['run_id']}").text
    second = card[card.index('data-send="2"') : card.index('data-send="1"')]
    assert 'data-question="preflight" data-right="no"' in second
    assert second.count('data-value="no"') == 4  # every engine: a cache hit within 30 s
    assert 'data-agrees="yes"' in second


# --- cookies ----------------------------------------------------------------------------------


@pytest.mark.parametrize("choice", list(registry.SAME_SITE_CHOICES))
def test_the_api_origin_sets_the_labs_cookie_on_r_only(
    client: httpx.Client, live: BackgroundServer, choice: str
) -> None:
    session = new_session(client, live)
    made = create(client, lab_url(live, session, "cookies"), action="set", samesite=choice).json()
    assert made["init"]["credentials"] == "include" and made["init"]["headers"] == []
    answer = client.get(made["target"], headers={"Origin": live.site_url})
    lines = answer.headers.get_list("set-cookie")
    lab_session = registry.lab_session_id(session, "cookies")
    name = "cors_lab_" + hashlib.sha256(lab_session.encode()).hexdigest()[:8]
    assert lines and all(line.startswith(f"{name}=") for line in lines)
    assert all("; Path=/r/" in line for line in lines)
    assert all(len(line) < 120 for line in lines)  # small and bounded
    assert answer.headers["access-control-allow-credentials"] == "true"
    assert answer.headers["access-control-allow-origin"] == live.site_url
    if choice == "forget":
        assert len(lines) == 2 and all("Max-Age=0" in line for line in lines)
    else:
        assert lines == [
            f"{name}={made['run_id'][:10]}; Path=/r/; Max-Age={registry.COOKIE_MAX_AGE}"
            + registry.SAME_SITE_CHOICES[choice][1]
        ]


def test_a_send_reports_which_set_its_cookie_came_from(
    client: httpx.Client, live: BackgroundServer
) -> None:
    session = new_session(client, live)
    url = lab_url(live, session, "cookies")
    setter = create(client, url, action="set", samesite="lax").json()
    cookie = client.get(setter["target"]).headers["set-cookie"].split(";")[0]
    client.cookies.clear()  # only the actual request below carries it
    sender = create(client, url, action="send", credentials="include", preflight="1").json()
    assert sender["init"]["headers"] == [["X-Lab-Step", "send"]]
    preflight = client.options(
        sender["target"],
        headers={"Origin": live.site_url, "Access-Control-Request-Method": "GET"},
    )
    assert preflight.headers["access-control-max-age"] == "0"  # every send preflights
    client.get(sender["target"], headers={"Origin": live.site_url, "Cookie": cookie})
    card = client.get(f"{url}/runs/{sender['run_id']}").text
    assert 'data-kind="preflight" data-cookie="no"' in card
    assert f'data-cookie="yes" data-cookie-value="{setter["run_id"][:10]}"' in card
    assert f"set by run {setter['run_id'][:10]} with SameSite=Lax" in card
    assert "same-site" in card


def test_the_cross_target_is_cross_site(client: httpx.Client, live: BackgroundServer) -> None:
    url = lab_url(live, new_session(client, live), "cookies")
    made = create(client, url, action="send", target="cross", credentials="same-origin").json()
    assert made["target"].startswith(live.api_url.replace("localhost", "127.0.0.1") + "/r/")
    client.get(made["target"], headers={"Origin": live.site_url})
    card = client.get(f"{url}/runs/{made['run_id']}").text
    assert 'data-relation="cross-site"' in card
    assert "another port, another host" in card  # why same-origin sent nothing


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"action": "eat"}, "action"),
        ({"action": "set", "samesite": "Lax; Domain=evil"}, "samesite"),
        ({"action": "send", "credentials": "always"}, "credentials"),
        ({"action": "send", "target": "elsewhere"}, "target"),
    ],
)
def test_cookie_lab_input_is_checked(
    client: httpx.Client, live: BackgroundServer, form: dict[str, str], field: str
) -> None:
    answer = create(client, lab_url(live, new_session(client, live), "cookies"), **form)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == field


# --- bounds -------------------------------------------------------------------------------------


def test_a_lab_form_is_small(client: httpx.Client, live: BackgroundServer) -> None:
    url = lab_url(live, new_session(client, live), "redirects")
    answer = client.post(f"{url}/runs", content=b"a=" + b"x" * CHOICES_LIMIT)
    assert answer.status_code == 413


def test_a_lab_keeps_its_most_recent_runs_only(
    client: httpx.Client, small: BackgroundServer
) -> None:
    url = lab_url(small, new_session(client, small), "redirects")
    made = [create(client, url).json() for _ in range(small.settings.runs_per_session + 1)]
    oldest, newest = made[0], made[-1]
    assert client.get(f"{url}/runs/{oldest['run_id']}").status_code == 404
    assert client.get(oldest["target"]).status_code == 404
    assert client.get(f"{url}/runs/{newest['run_id']}").status_code == 200
    page = client.get(url).text
    assert page.count('class="lab-card') == small.settings.runs_per_session


# --- a workshop's LAN address ---------------------------------------------------------------


def test_off_loopback_the_labs_offer_no_cross_site_target() -> None:
    """Started on a LAN address, the other loopback name would be each attendee's own
    computer: the labs neither offer nor send cross-site requests there, and say why."""

    async def pages() -> dict[str, str]:
        app = create_app(Settings(host="192.0.2.7", site_port=8000, api_port=8001))
        transport = httpx.ASGITransport(app=app)
        base = "http://192.0.2.7:8000"
        async with httpx.AsyncClient(transport=transport, base_url=base) as c:
            sid = (await c.get("/", follow_redirects=False)).headers["location"].split("/")[-1]
            found = {
                lab: (await c.get(f"/sessions/{sid}/labs/{lab}")).text
                for lab in ("redirects", "cookies")
            }
            refused = await c.post(
                f"/sessions/{sid}/labs/cookies/runs", content=b"action=set&target=cross"
            )
            found["refused"] = refused.json()["error"]["message"]
            return found

    found = asyncio.run(pages())
    for lab in ("redirects", "cookies"):
        assert "localhost:8001" not in found[lab], lab
        assert "data-cross-unavailable" in found[lab], lab
        assert "your own computer" in found[lab], lab
    assert "your own computer" in found["refused"]


def test_lab_reference_links_are_named_after_what_they_reference(
    client: httpx.Client, live: BackgroundServer
) -> None:
    """No link on a lab card is called just "(reference)": each says what it points to."""
    url = lab_url(live, new_session(client, live), "redirects")
    created = create(client, url, destination="same").json()
    client.get(created["target"], headers={"Origin": live.site_url}, follow_redirects=True)
    card = client.get(f"{url}/runs/{created['run_id']}").text
    assert "(reference)" not in card
    assert re.search(r'rel="noreferrer">(Fetch Standard|MDN): [^<]+</a>', card)
