"""Whole fetches: https://fetch.spec.whatwg.org/#http-redirect-fetch, one test per rule.

Each test predicts with the ``spec`` profile unless a browser is named: the browsers' own
behaviour is checked against the real browsers (tests/vectors/).
"""

from __future__ import annotations

from typing import Any

import pytest

from app.cors import Scenario, ScenarioError, predict
from app.cors.scenario import Prediction

PAGE = "http://localhost:8000"
API = "http://localhost:8001"
OTHER = "http://127.0.0.1:8001"
THIRD = "http://127.0.0.1:8002"
ALLOW_PAGE = [("Access-Control-Allow-Origin", PAGE)]
ALLOW_NULL = [("Access-Control-Allow-Origin", "null")]
ALLOW_ANY = [("Access-Control-Allow-Origin", "*")]


def chain(
    method: str = "GET",
    headers: list[tuple[str, str]] | None = None,
    *,
    body: str | None = None,
    redirect: str = "follow",
    mode: str = "cors",
    credentials: str = "same-origin",
    url: str = f"{API}/a",
    status: int = 307,
    location: str = f"{OTHER}/b",
    first: list[tuple[str, str]] | None = None,
    preflight: list[tuple[str, str]] | None = None,
    hops: list[dict[str, Any]] | None = None,
) -> Scenario:
    """A fetch of ``url`` answered ``status`` with a Location, and the hops that answer next."""
    answer = [("Location", location), *(ALLOW_PAGE if first is None else first)]
    allow = [*ALLOW_PAGE, ("Access-Control-Allow-Methods", "PUT, DELETE, PATCH"),
             ("Access-Control-Allow-Headers", "x-token, content-type")]  # fmt: skip
    doc: dict[str, Any] = {
        "origin": PAGE,
        "url": url,
        "request": {"method": method, "headers": headers or [], "body": body,
                    "redirect": redirect, "mode": mode, "credentials": credentials},
        "preflight_response": {"status": 204, "headers": allow if preflight is None else preflight},
        "response": {"status": status, "headers": answer},
        "hops": hops if hops is not None else [hop(location, ALLOW_NULL)],
    }  # fmt: skip
    return Scenario.from_json(doc)


def hop(
    url: str,
    answer: list[tuple[str, str]],
    *,
    status: int = 200,
    preflight: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    return {
        "url": url,
        "preflight_response": {"status": 204, "headers": preflight or []},
        "response": {"status": status, "headers": answer},
    }


def legs(p: Prediction) -> list[tuple[str, str, str | None]]:
    return [(leg.kind, leg.method, leg.origin) for leg in p.legs]


def test_a_redirect_is_followed_to_the_hop_and_the_page_sees_the_last_url() -> None:
    p = predict(chain(), "spec")
    assert p.outcome == "allowed" and p.redirected is True
    assert p.response_url == f"{OTHER}/b"
    assert [leg.url for leg in p.legs] == [f"{API}/a", f"{OTHER}/b"]


def test_the_cors_check_runs_on_the_redirect_response_itself() -> None:
    p = predict(chain(first=[]), "spec")
    assert (p.outcome, p.blocked_by) == ("blocked", "MissingAllowOriginHeader")
    assert len(p.legs) == 1


def test_origin_becomes_null_after_a_second_cross_origin_hop() -> None:
    """The redirect-taint: from one other origin to another, the request's origin is null."""
    p = predict(chain(), "spec")
    assert legs(p) == [("actual", "GET", PAGE), ("actual", "GET", "null")]


def test_a_hop_on_the_same_other_origin_keeps_the_origin() -> None:
    p = predict(chain(location=f"{API}/b", hops=[hop(f"{API}/b", ALLOW_PAGE)]), "spec")
    assert legs(p)[1] == ("actual", "GET", PAGE) and p.outcome == "allowed"


def test_a_redirect_back_to_the_page_origin_stays_a_cors_request_with_origin_null() -> None:
    p = predict(chain(location=f"{PAGE}/b", hops=[hop(f"{PAGE}/b", ALLOW_PAGE)]), "spec")
    assert legs(p)[1] == ("actual", "GET", "null")
    assert (p.outcome, p.blocked_by) == ("blocked", "AllowOriginMismatch")


def test_a_same_origin_start_leaving_the_page_is_not_tainted() -> None:
    p = predict(chain(url=f"{PAGE}/a", first=[], hops=[hop(f"{OTHER}/b", ALLOW_PAGE)]), "spec")
    assert legs(p) == [("actual", "GET", None), ("actual", "GET", PAGE)]
    assert p.outcome == "allowed"


@pytest.mark.parametrize(
    ("status", "method", "after"),
    [(301, "POST", "GET"), (302, "POST", "GET"), (303, "PUT", "GET"), (303, "HEAD", "HEAD"),
     (307, "POST", "POST"), (308, "PUT", "PUT"), (301, "PUT", "PUT")],
)  # fmt: skip
def test_method_rewriting_per_status(status: int, method: str, after: str) -> None:
    body = None if method == "HEAD" else "x"
    s = chain(method, [("Content-Type", "application/json")], body=body, status=status,
              location=f"{API}/b",
              hops=[hop(f"{API}/b", ALLOW_PAGE, preflight=[*ALLOW_PAGE,
                    ("Access-Control-Allow-Methods", "PUT"),
                    ("Access-Control-Allow-Headers", "content-type")])])  # fmt: skip
    p = predict(s, "spec")
    actual = [leg for leg in p.legs if leg.kind == "actual"]
    assert actual[1].method == after
    changed = after != method
    assert actual[1].body is (not changed and body is not None)
    assert (actual[1].header("Content-Type") is None) is changed


def test_a_new_preflight_is_sent_at_the_next_url_when_still_needed() -> None:
    s = chain("PUT", [("X-Token", "1")], location=f"{API}/b",
              hops=[hop(f"{API}/b", ALLOW_PAGE, preflight=[*ALLOW_PAGE,
                    ("Access-Control-Allow-Methods", "PUT"),
                    ("Access-Control-Allow-Headers", "x-token")])])  # fmt: skip
    p = predict(s, "spec")
    assert [leg.kind for leg in p.legs] == ["preflight", "actual", "preflight", "actual"]


def test_no_preflight_after_a_303_that_made_it_a_plain_get() -> None:
    s = chain("PUT", [("Content-Type", "application/json")], body="{}", status=303,
              location=f"{API}/b", hops=[hop(f"{API}/b", ALLOW_PAGE)])  # fmt: skip
    p = predict(s, "spec")
    assert [leg.kind for leg in p.legs] == ["preflight", "actual", "actual"]
    assert p.outcome == "allowed"


def test_authorization_is_removed_when_the_redirect_leaves_the_origin() -> None:
    s = chain("GET", [("Authorization", "Bearer x")], preflight=[*ALLOW_PAGE,
              ("Access-Control-Allow-Headers", "authorization")])  # fmt: skip
    p = predict(s, "spec")
    assert p.legs[-1].header("Authorization") is None
    assert [leg.kind for leg in p.legs] == ["preflight", "actual", "actual"]


def test_redirect_error_mode_is_a_network_error_with_no_cors_name() -> None:
    p = predict(chain(redirect="error"), "spec")
    assert (p.outcome, p.blocked_by, p.redirected) == ("blocked", None, None)
    assert p.failed_step is not None and p.failed_step.check == "redirect-mode"


def test_redirect_manual_checks_cors_then_gives_an_opaque_redirect() -> None:
    p = predict(chain(redirect="manual"), "spec")
    assert (p.outcome, p.redirected, p.response_url) == ("opaqueredirect", False, f"{API}/a")
    blocked = predict(chain(redirect="manual", first=[]), "spec")
    assert blocked.blocked_by == "MissingAllowOriginHeader"


def test_no_cors_with_another_redirect_mode_is_refused_before_sending() -> None:
    p = predict(chain(mode="no-cors", redirect="manual"), "spec")
    assert (p.outcome, p.legs) == ("error", ())


def test_no_cors_follows_and_the_page_gets_an_opaque_response() -> None:
    p = predict(chain(mode="no-cors", first=[]), "spec")
    assert (p.outcome, p.redirected, p.response_url) == ("opaque", False, "")
    assert len(p.legs) == 2


@pytest.mark.parametrize("status", [300, 304])
def test_300_and_304_are_not_redirects(status: int) -> None:
    s = Scenario.from_json({"origin": PAGE, "url": f"{API}/a", "response": {
        "status": status, "headers": [("Location", f"{OTHER}/nowhere"), *ALLOW_ANY]}})  # fmt: skip
    p = predict(s, "spec")
    assert (p.outcome, p.redirected, len(p.legs)) == ("allowed", False, 1)


def test_a_location_that_does_not_parse_is_a_network_error() -> None:
    s = Scenario.from_json({"origin": PAGE, "url": f"{API}/a", "response": {
        "status": 302, "headers": [("Location", "http://exa mple/"), *ALLOW_PAGE]}})  # fmt: skip
    p = predict(s, "spec")
    assert (p.outcome, p.blocked_by) == ("blocked", None)


def test_a_location_with_credentials_is_refused_for_a_cors_request() -> None:
    target = f"http://u:p@{OTHER[7:]}/b"
    p = predict(chain(location=target, hops=[hop(target, ALLOW_ANY)]), "spec")
    assert (p.outcome, p.blocked_by, len(p.legs)) == ("blocked", "RedirectContainsCredentials", 1)


def test_a_same_origin_request_may_follow_credentials_on_its_own_origin() -> None:
    target = f"http://u:p@{PAGE[7:]}/b"
    s = chain(url=f"{PAGE}/a", first=[], location=target, hops=[hop(target, [])])
    assert predict(s, "spec").outcome == "allowed"
    # Deviation (chromium): refused in every mode.
    assert predict(s, "chromium").outcome == "blocked"


def test_the_twenty_first_redirect_is_a_network_error() -> None:
    loop = f"{API}/loop"
    s = chain(location=loop, hops=[hop(loop, [("Location", loop), *ALLOW_PAGE], status=302)])
    p = predict(s, "spec")
    assert (p.outcome, p.blocked_by) == ("blocked", None)
    assert len([leg for leg in p.legs if leg.kind == "actual"]) == 21


def test_a_location_to_an_undeclared_url_is_refused_naming_the_header() -> None:
    with pytest.raises(ScenarioError) as info:
        chain(hops=[])
    assert info.value.field == "response.headers[0]"


def test_firefox_preflights_after_a_taint_with_the_page_origin() -> None:
    s = chain("PUT", url=f"{API}/a", location=f"{THIRD}/c",
              hops=[hop(f"{THIRD}/c", ALLOW_NULL, preflight=[*ALLOW_NULL,
                    ("Access-Control-Allow-Methods", "PUT")])])  # fmt: skip
    chromium, firefox = predict(s, "chromium"), predict(s, "firefox")
    assert chromium.legs[2].origin == "null" and chromium.outcome == "allowed"
    assert firefox.legs[2].origin == PAGE
    assert firefox.blocked_by == "PreflightAllowOriginMismatch"
