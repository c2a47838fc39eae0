"""The cookies lab: the Set-Cookie a form asks for, and whether the cookie came back, and why."""

from __future__ import annotations

import hashlib
import re

import pytest

from app.labs import cookies
from app.labs.registry import COOKIE_MAX_AGE, SAME_SITE_CHOICES
from app.runs.errors import BadRequest
from app.runs.origins import OriginPair
from app.runs.store import Run, RunStore, Session
from tests.labs.conftest import PAIR, new_session, record, stored

NAME = "cors_lab_12345678"


def test_the_cookie_name_is_derived_from_the_lab_session() -> None:
    name = cookies.cookie_name("a" * 24)
    assert name == "cors_lab_" + hashlib.sha256(b"a" * 24).hexdigest()[:8]
    assert re.fullmatch(r"cors_lab_[0-9a-f]{8}", name)
    assert cookies.cookie_name("b" * 24) != name


@pytest.mark.parametrize("samesite", list(SAME_SITE_CHOICES))
def test_set_cookie_lines_stay_on_r_and_are_small(samesite: str) -> None:
    lines = cookies.set_cookie_lines(NAME, "v" * 10, samesite)
    assert lines and all(line.startswith(f"{NAME}=") and "; Path=/r/" in line for line in lines)
    assert all(len(line) < 120 for line in lines)
    if samesite == "forget":
        assert len(lines) == 2 and all("Max-Age=0" in line for line in lines)
    else:
        assert lines == (
            f"{NAME}={'v' * 10}; Path=/r/; Max-Age={COOKIE_MAX_AGE}"
            + SAME_SITE_CHOICES[samesite][1],
        )
    assert cookies.samesite_label(lines[0]) == SAME_SITE_CHOICES[samesite][0]


def test_a_set_answers_with_the_cookie_and_allows_the_page_with_credentials() -> None:
    made = cookies.new_run(PAIR, {"action": "set", "samesite": "lax"}, NAME, run_id="s" * 16)
    scenario = made.scenario
    assert scenario.url == f"{PAIR.api}/r/{'s' * 16}" and scenario.origin == PAIR.page
    assert scenario.request.credentials == "include" and scenario.request.headers == ()
    assert ("Set-Cookie", f"{NAME}={'s' * 10}; Path=/r/; Max-Age=600; SameSite=Lax") in (
        scenario.response.headers
    )
    for answer in (scenario.response, scenario.preflight_response):
        assert ("Access-Control-Allow-Origin", PAIR.page) in answer.headers
        assert ("Access-Control-Allow-Credentials", "true") in answer.headers
    assert ("Access-Control-Max-Age", "0") in scenario.preflight_response.headers


def test_a_send_preflights_when_asked_and_goes_where_the_learner_chose() -> None:
    made = cookies.new_run(PAIR, {"preflight": "1", "target": "cross"}, NAME)
    assert made.scenario.request.headers == (("X-Lab-Step", "send"),)
    assert made.scenario.url.startswith(PAIR.cross + "/r/")
    assert not any(k == "Set-Cookie" for k, _ in made.scenario.response.headers)
    assert cookies.new_run(PAIR, {}, NAME).scenario.request.headers == ()


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"action": "eat"}, "action"),
        ({"action": "set", "samesite": "Lax; Domain=evil"}, "samesite"),
        ({"action": "send", "credentials": "always"}, "credentials"),
        ({"action": "send", "target": "elsewhere"}, "target"),
    ],
)
def test_bad_choices_are_refused(form: dict[str, str], field: str) -> None:
    with pytest.raises(BadRequest) as refused:
        cookies.new_run(PAIR, form, NAME)
    assert refused.value.status == 422 and refused.value.field == field


def test_cookie_pairs_read_a_cookie_header() -> None:
    assert cookies.cookie_pairs(None) == [] and cookies.cookie_pairs("") == []
    assert cookies.cookie_pairs("a=1; b=; =x; c") == [("a", "1"), ("b", ""), ("c", "")]


# --- what arrived -------------------------------------------------------------------------------


def _run(store: RunStore, session: Session, **form: str) -> Run:
    return stored(store, session, cookies.new_run(PAIR, form, NAME))


def _view(run: Run, session: Session) -> cookies.CookieView:
    return cookies.cookie_view(run, PAIR, NAME, session.runs.values())


def test_a_send_names_the_run_that_set_its_cookie_and_the_preflight_carried_none() -> None:
    store, session = new_session()
    setter = _run(store, session, action="set", samesite="lax")
    sender = _run(store, session, action="send", preflight="1")
    value = setter.id[:10]
    record(store, sender, "preflight", method="OPTIONS")
    record(store, sender, "actual", headers=(("cookie", f"other=1; {NAME}={value}"),))
    view = _view(sender, session)
    assert view.kind == "send" and view.relation == "same-site"
    assert view.preflight_cookie is None and view.actual_cookie == f"other=1; {NAME}={value}"
    assert view.sent_value == value and view.source is setter
    assert [p.tone for p in view.points] == ["ok", "ok"]
    assert f"set by run {value} with SameSite=Lax" in view.points[1].text


def test_a_cookie_on_the_preflight_is_a_finding() -> None:
    store, session = new_session()
    sender = _run(store, session, preflight="1")
    record(store, sender, "preflight", method="OPTIONS", headers=(("Cookie", "a=1"),))
    view = _view(sender, session)
    assert view.preflight_cookie == "a=1" and [p.tone for p in view.points] == ["finding"]


@pytest.mark.parametrize(
    ("credentials", "target", "says"),
    [
        ("omit", "same", 'credentials: "omit" never sends cookies'),
        ("same-origin", "same", "(another port), even"),
        ("same-origin", "cross", "(another port, another host)"),
        ("include", "same", "holds no cookie from this lab for localhost"),
        ("include", "cross", "the request is cross-site"),
    ],
)
def test_why_no_cookie_came_back(credentials: str, target: str, says: str) -> None:
    store, session = new_session()
    sender = _run(store, session, credentials=credentials, target=target)
    record(store, sender, "actual")
    view = _view(sender, session)
    assert view.sent_value is None and view.source is None
    assert len(view.points) == 1 and says in view.points[0].text


def test_a_cookie_sent_cross_site_says_only_samesite_none_can_be() -> None:
    store, session = new_session()
    sender = _run(store, session, target="cross")
    record(store, sender, "actual", headers=(("cookie", f"{NAME}=unknown"),))
    view = _view(sender, session)
    assert view.relation == "cross-site" and view.source is None
    assert "lab's cookie (" + f"{NAME}=unknown," + "):" in view.points[0].text
    assert "SameSite=None" in view.points[1].text


@pytest.mark.parametrize(
    ("form", "tones", "says"),
    [
        ({"credentials": "omit"}, ["info", "bad"], 'credentials: "omit" on a request'),
        ({"samesite": "forget"}, ["info", "info"], "Max-Age=0 deletes"),
        ({"samesite": "lax"}, ["info", "info", "info"], "This response is same-site"),
        ({"samesite": "lax", "target": "cross"}, ["info"] * 3, "the cookie would be a third"),
        ({"samesite": "none-secure"}, ["info"] * 4, "Secure on http://localhost"),
    ],
)
def test_a_set_explains_what_the_browser_does_with_it(
    form: dict[str, str], tones: list[str], says: str
) -> None:
    store, session = new_session()
    setter = _run(store, session, action="set", **form)
    record(store, setter, "actual")
    view = _view(setter, session)
    assert view.kind == "set" and view.set_lines
    assert [p.tone for p in view.points] == tones
    assert any(says in p.text for p in view.points)
    assert "forbidden response-header name" in view.points[0].text


def test_samesite_none_without_secure_is_refused() -> None:
    store, session = new_session()
    setter = _run(store, session, action="set", samesite="none")
    point = _view(setter, session).points[1]
    assert point.tone == "bad" and "refused by current browsers" in point.text


def test_nothing_arrived_yet_says_nothing_about_a_send() -> None:
    store, session = new_session()
    view = _view(_run(store, session), session)
    assert view.preflight is None and view.actual is None and view.points == ()


def test_off_loopback_the_cross_site_target_is_refused() -> None:
    lan = OriginPair.of("192.0.2.7", 8000, 8001)
    with pytest.raises(BadRequest) as refused:
        cookies.new_run(lan, {"action": "set", "target": "cross"}, "cors_lab_x")
    assert refused.value.field == "target"
    same = cookies.new_run(lan, {"action": "set", "target": "same"}, "cors_lab_x")
    assert same.scenario.url.startswith("http://192.0.2.7:8001/r/")
