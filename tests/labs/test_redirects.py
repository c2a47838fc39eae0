"""The redirects lab: the chain of answers a form asks for, and what each arriving leg shows."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from app.cors import Scenario, ServerResponse, predict
from app.labs import redirects
from app.labs.registry import ALLOW_CHOICES, REDIRECT_BODY, REDIRECT_STATUSES
from app.runs.errors import BadRequest
from app.runs.origins import OriginPair
from app.runs.store import MAX_HOPS, Run, RunStore
from tests.labs.conftest import PAIR, new_session, record, settle, stored

RUN_ID = "r" * 16


def header(response: ServerResponse, name: str) -> str | None:
    return next((v for k, v in response.headers if k == name), None)


# --- the chain of answers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("destination", "chain"),
    [
        ("same", [PAIR.api]),
        ("cross", [PAIR.cross]),
        ("cross-back", [PAIR.cross, PAIR.api]),
    ],
)
def test_each_answer_points_at_the_next_hop_and_the_last_answers_200(
    destination: str, chain: list[str]
) -> None:
    made = redirects.new_run(PAIR, {"destination": destination, "status": "302"}, run_id=RUN_ID)
    assert made.id == RUN_ID and made.scenario.url == f"{PAIR.api}/r/{RUN_ID}"
    answers = (made.scenario.response, *made.hops)
    assert len(answers) == len(chain) + 1
    for hop, origin in enumerate(chain, start=1):
        assert answers[hop - 1].status == 302
        assert header(answers[hop - 1], "Location") == f"{origin}/r/{RUN_ID}/{hop}"
    assert answers[-1].status == 200 and header(answers[-1], "Location") is None


@pytest.mark.parametrize("allow", ALLOW_CHOICES)
def test_the_first_answer_allows_the_page_and_later_ones_the_learners_choice(allow: str) -> None:
    made = redirects.new_run(PAIR, {"destination": "cross-back", "allow": allow})
    expected = {"page": PAIR.page, "null": "null", "*": "*"}[allow]
    assert header(made.scenario.response, "Access-Control-Allow-Origin") == PAIR.page
    assert [header(h, "Access-Control-Allow-Origin") for h in made.hops] == [expected] * 2


def test_a_post_carries_a_body_and_the_defaults_are_a_307_get_to_another_origin() -> None:
    post = redirects.new_run(PAIR, {"method": "POST"}).scenario.request
    assert post.method == "POST" and post.body == REDIRECT_BODY
    made = redirects.new_run(PAIR, {})
    assert made.scenario.request.method == "GET" and made.scenario.request.body is None
    assert made.scenario.request.credentials == "same-origin"
    assert made.scenario.response.status == 307
    assert str(header(made.scenario.response, "Location")).startswith(PAIR.cross + "/r/")
    assert header(made.hops[-1], "Access-Control-Allow-Origin") == "null"


def test_redirecting_the_preflight_needs_a_header_and_answers_the_preflight_with_location() -> None:
    made = redirects.new_run(PAIR, {"status": "308", "preflight": "1"}, run_id=RUN_ID)
    assert made.scenario.request.headers == (("X-Lab", "redirect-the-preflight"),)
    assert made.scenario.preflight_response.status == 308
    assert header(made.scenario.preflight_response, "Location") == f"{PAIR.cross}/r/{RUN_ID}/1"
    plain = redirects.new_run(PAIR, {})
    assert plain.scenario.request.headers == () and plain.scenario.preflight_response.status == 204


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
def test_bad_choices_are_refused(form: dict[str, str], field: str) -> None:
    with pytest.raises(BadRequest) as refused:
        redirects.new_run(PAIR, form)
    assert refused.value.status == 422 and refused.value.field == field


def test_a_run_declares_at_most_max_hops() -> None:
    store = RunStore()
    session = store.new_session()
    hops = tuple(ServerResponse(307) for _ in range(MAX_HOPS + 1))
    with pytest.raises(ValueError, match="hops"):
        store.add_run(
            session, Scenario(), predict(Scenario()), run_id="a" * 16, target="t", hops=hops
        )


def test_method_rules_name_what_each_status_does() -> None:
    assert "POST into GET" in redirects.method_rule(301)
    assert "POST into GET" in redirects.method_rule(302)
    assert "except GET and HEAD into GET" in redirects.method_rule(303)
    assert "keeps the method and the body" in redirects.method_rule(307)
    assert "keeps the method and the body" in redirects.method_rule(308)
    assert {redirects.method_rule(s)[:3] for s in REDIRECT_STATUSES} == {
        str(s) for s in REDIRECT_STATUSES
    }


# --- what arrived -------------------------------------------------------------------------------


def _sent(form: dict[str, str]) -> tuple[RunStore, Run]:
    store, session = new_session()
    return store, stored(store, session, redirects.new_run(PAIR, form, run_id=RUN_ID))


def _arrive(
    store: RunStore, run: Run, hop: int, method: str, origin: str | None, body_size: int = 0
) -> None:
    """The leg of ``hop`` as the API origin records it, answered as the run declares."""
    answers = (run.scenario.response, *run.hops)
    url = run.target if hop == 0 else header(answers[hop - 1], "Location")
    assert url is not None
    parts = urlsplit(url)
    headers = (("host", parts.netloc),) + ((("origin", origin),) if origin else ())
    record(
        store,
        run,
        "actual",
        method=method,
        path=parts.path,
        headers=headers,
        body_size=body_size,
        status=answers[hop].status,
        response_headers=answers[hop].headers,
    )


def test_hop_of_reads_the_hop_from_the_path() -> None:
    store, run = _sent({"destination": "cross-back"})
    for hop in range(3):
        _arrive(store, run, hop, "GET", PAIR.page)
    assert [redirects.hop_of(e) for e in run.exchanges] == [0, 1, 2]


def test_there_and_back_taints_the_origin_for_good_and_null_is_allowed_at_the_end() -> None:
    store, run = _sent(
        {"method": "POST", "status": "303", "destination": "cross-back", "allow": "null"}
    )
    _arrive(store, run, 0, "POST", PAIR.page, body_size=len(REDIRECT_BODY))
    _arrive(store, run, 1, "GET", "null")
    _arrive(store, run, 2, "GET", "null")
    settle(run, "allowed")
    view = redirects.redirect_view(run, PAIR)
    assert view.destination == [PAIR.cross, PAIR.api] and view.allow == "null"
    assert view.status == 303 and view.method == "POST" and not view.preflight_redirected
    assert [(leg.hop, leg.method, leg.request_origin) for leg in view.legs] == [
        (0, "POST", PAIR.page),
        (1, "GET", "null"),
        (2, "GET", "null"),
    ]
    assert all(leg.cors_ok for leg in view.legs)
    texts = [p.text for p in view.points]
    assert texts[0].startswith(f"The browser followed the 303 to another origin ({PAIR.cross})")
    assert "It arrived as GET (it was POST), with no body." in texts[0]
    assert view.points[1].tone == "bad" and "tainted origin flag" in texts[1]
    assert f"for {PAIR.api}" in texts[1]  # where it had gone before this redirect
    assert texts[3].startswith("Still Origin: null")
    assert view.points[-1].tone == "ok" and "Access-Control-Allow-Origin: null" in texts[-1]


def test_a_redirect_within_one_origin_keeps_the_method_body_and_origin() -> None:
    store, run = _sent({"method": "POST", "status": "307", "destination": "same"})
    _arrive(store, run, 0, "POST", PAIR.page, body_size=18)
    _arrive(store, run, 1, "POST", PAIR.page, body_size=18)
    points = redirects.redirect_view(run, PAIR).points
    assert "to the same origin" in points[0].text
    assert "It arrived as POST again, with its 18-byte body." in points[0].text
    assert points[1].tone == "ok" and points[1].text.startswith(f"Origin: {PAIR.page} again")


def test_an_answer_failing_the_cors_check_stops_the_chain() -> None:
    store, run = _sent({"destination": "cross-back", "allow": "page"})
    _arrive(store, run, 0, "GET", PAIR.page)
    _arrive(store, run, 1, "GET", "null")
    settle(run, "blocked")
    view = redirects.redirect_view(run, PAIR)
    assert [leg.cors_ok for leg in view.legs] == [True, False]
    failed = view.points[-1]
    assert failed.tone == "bad" and "fails the CORS check for Origin: null" in failed.text
    assert failed.text.endswith("and the redirect is not followed.")
    assert not any("passes the CORS check" in p.text for p in view.points)


def test_a_redirected_preflight_stops_the_request_and_an_actual_leg_would_be_a_finding() -> None:
    store, run = _sent({"status": "308", "preflight": "1"})
    record(store, run, "preflight", method="OPTIONS", status=308)
    view = redirects.redirect_view(run, PAIR)
    assert view.preflight_redirected
    assert [p.tone for p in view.points] == ["bad"]
    assert "answered 308 with a Location" in view.points[0].text
    _arrive(store, run, 0, "GET", PAIR.page)
    assert [p.tone for p in redirects.redirect_view(run, PAIR).points] == ["finding"]


def test_nothing_arrived_yet_says_nothing() -> None:
    _, run = _sent({})
    view = redirects.redirect_view(run, PAIR)
    assert view.legs == () and view.points == ()
    assert view.destination == [PAIR.cross]


LAN_PAIR = OriginPair.of("192.0.2.7", 8000, 8001)  # a workshop's LAN address


@pytest.mark.parametrize("destination", ["cross", "cross-back"])
def test_off_loopback_another_origin_is_refused_not_sent_to_the_learners_own_machine(
    destination: str,
) -> None:
    with pytest.raises(BadRequest) as refused:
        redirects.new_run(LAN_PAIR, {"destination": destination})
    assert refused.value.field == "destination"
    assert "your own computer" in refused.value.message


def test_off_loopback_the_default_redirect_stays_on_the_api_origin() -> None:
    new = redirects.new_run(LAN_PAIR, {})
    locations = [dict(a.headers).get("Location", "") for a in (new.scenario.response, *new.hops)]
    assert locations[0].startswith("http://192.0.2.7:8001/r/")
    assert all("localhost" not in url for url in locations)
