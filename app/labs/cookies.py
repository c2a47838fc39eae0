"""The credentials and cookies lab: the API origin sets a cookie (``Path=/r/``, so the site
origin's pages never get it; cookies are per host, not per port) and later requests show when
the browser sends it.

``new_run`` builds a "set" or a "send"; ``cookie_view`` reads what arrived: the Set-Cookie lines
answered, the Cookie each leg carried, which earlier run set that value, and why.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace

from app.cors import RequestInit, Scenario, ServerResponse
from app.cors.names import ALLOW_HEADERS, MAX_AGE, SET_COOKIE
from app.cors.scenario import CREDENTIALS_MODES
from app.labs.registry import (
    COOKIE_ACTIONS,
    COOKIE_MAX_AGE,
    SAME_SITE_CHOICES,
    TEXT_BODY,
    Form,
    Header,
    LabRun,
    allow_page,
    choice,
    cross_site,
)
from app.labs.text import COOKIES, PHRASES, Point
from app.runs.origins import TARGETS, OriginPair, host_of, origin_of, relation
from app.runs.store import Exchange, Run, new_id

STEP_HEADER = "X-Lab-Step"
FORGET = SAME_SITE_CHOICES["forget"][0]


def cookie_name(lab_session_id: str) -> str:
    """The lab's cookie name for one lab session: a learner's sessions never share a cookie."""
    return "cors_lab_" + hashlib.sha256(lab_session_id.encode()).hexdigest()[:8]


def set_cookie_lines(name: str, value: str, samesite: str) -> tuple[str, ...]:
    """The Set-Cookie lines for a SameSite choice (forgetting clears the partitioned one too)."""
    if samesite == "forget":
        return (
            f"{name}=; Path=/r/; Max-Age=0",
            f"{name}=; Path=/r/; Max-Age=0; SameSite=None; Secure; Partitioned",
        )
    suffix = SAME_SITE_CHOICES[samesite][1]
    return (f"{name}={value}; Path=/r/; Max-Age={COOKIE_MAX_AGE}{suffix}",)


def new_run(pair: OriginPair, form: Form, name: str, *, run_id: str = "") -> LabRun:
    """A request that sets the cookie ``name`` ("set") or shows whether it comes back ("send",
    with a preflight first when asked); every answer allows the page with credentials."""
    action = choice(form, "action", COOKIE_ACTIONS, "send")
    cross = choice(form, "target", TARGETS, "same") == "cross"
    target = cross_site(pair, "target") if cross else pair.api
    run_id = run_id or new_id()
    allow = allow_page(pair, credentials=True)
    credentials = choice(form, "credentials", CREDENTIALS_MODES, "include")
    if action == "set":
        samesite = choice(form, "samesite", tuple(SAME_SITE_CHOICES), "unset")
        lines = set_cookie_lines(name, run_id[:10], samesite)
        headers: tuple[Header, ...] = ()
        response = ServerResponse(200, (*allow, *TEXT_BODY, *((SET_COOKIE, v) for v in lines)))
    else:
        headers = ((STEP_HEADER, "send"),) if form.get("preflight") == "1" else ()
        response = ServerResponse(200, (*allow, *TEXT_BODY))
    scenario = Scenario(
        origin=pair.page,
        url=f"{target}/r/{run_id}",
        request=RequestInit("GET", headers, credentials, "cors", None),
        preflight_response=ServerResponse(
            204,
            (
                *allow,
                (ALLOW_HEADERS, STEP_HEADER),
                (MAX_AGE, "0"),
            ),
        ),
        response=response,
    )
    return LabRun(run_id, scenario)


def cookie_pairs(header: str | None) -> list[tuple[str, str]]:
    """The name=value pairs of a Cookie header."""
    if not header:
        return []
    pairs = []
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            pairs.append((name, value))
    return pairs


def set_lines(run: Run) -> list[str]:
    return [v for k, v in run.scenario.response.headers if k == SET_COOKIE]


def samesite_label(line: str) -> str:
    """The words of the SameSite choice a Set-Cookie line was made from."""
    for label, suffix in reversed(SAME_SITE_CHOICES.values()):
        if suffix and line.endswith(suffix):
            return label
    return FORGET if "Max-Age=0" in line else SAME_SITE_CHOICES["unset"][0]


@dataclass(frozen=True)
class CookieView:
    run: Run
    kind: str  # set, send
    target: str
    relation: str
    credentials: str
    set_lines: tuple[str, ...]
    preflight: Exchange | None
    actual: Exchange | None
    preflight_cookie: str | None  # the Cookie header each leg carried
    actual_cookie: str | None
    sent_value: str | None  # this lab's cookie, as the actual request carried it
    source: Run | None  # the run that set that value
    points: tuple[Point, ...]


def cookie_view(run: Run, pair: OriginPair, name: str, runs: Iterable[Run]) -> CookieView:
    """What ``run`` set or sent of the cookie ``name``; ``runs`` are the lab's runs, to find
    the one that set the value the actual request carried."""
    lines = tuple(set_lines(run))
    target = origin_of(run.target)
    preflights, actuals = run.preflights, run.actuals
    preflight = preflights[0] if preflights else None
    actual = actuals[0] if actuals else None
    preflight_cookie = preflight.request.header("cookie") if preflight else None
    actual_cookie = actual.request.header("cookie") if actual else None
    value = dict(cookie_pairs(actual_cookie)).get(name)
    source = None
    if value:
        prefix = f"{name}={value};"
        source = next(
            (r for r in runs if any(line.startswith(prefix) for line in set_lines(r))), None
        )
    view = CookieView(
        run,
        "set" if lines else "send",
        target,
        relation(pair.page, target),
        run.scenario.request.credentials,
        lines,
        preflight,
        actual,
        preflight_cookie,
        actual_cookie,
        value,
        source,
        (),
    )
    points = _set_points(pair, view) if lines else _send_points(pair, name, view)
    return replace(view, points=tuple(points))


def _set_points(pair: OriginPair, view: CookieView) -> list[Point]:
    host = host_of(view.target)
    points = [COOKIES["set-cookie-hidden"].point()]
    if view.credentials != "include":
        points.append(COOKIES["set-ignored"].point(credentials=view.credentials))
        return points
    label = samesite_label(view.set_lines[0])
    if label == FORGET:
        points.append(COOKIES["forget"].point(host=host))
        return points
    if label == SAME_SITE_CHOICES["none"][0]:
        points.append(COOKIES["none-without-secure"].point())
    if "Secure" in label:
        points.append(COOKIES["secure-on-http"].point(host=host))
    if view.relation == "cross-site":
        points.append(
            COOKIES["set-cross-site"].point(page=pair.page, target=view.target, page_host=pair.host)
        )
    else:
        points.append(COOKIES["set-same-site"].point(page=pair.page, target=view.target))
    points.append(COOKIES["kept-shows-later"].point(target=view.target, host=host))
    return points


def _send_points(pair: OriginPair, name: str, view: CookieView) -> list[Point]:
    points: list[Point] = []
    if view.preflight is not None:
        key = (
            "preflight-without-cookie" if view.preflight_cookie is None else "preflight-with-cookie"
        )
        points.append(COOKIES[key].point())
    if view.actual is None:
        return points
    if view.sent_value is not None:
        source = ""
        if view.source is not None:
            label = samesite_label(set_lines(view.source)[0])
            source = PHRASES["set-by"].format(run=view.source.id[:10], label=label)
        points.append(
            COOKIES["sent"].point(
                name=name, value=view.sent_value, source=source, relation=view.relation
            )
        )
        if view.relation == "cross-site":
            points.append(COOKIES["sent-cross-site"].point())
        return points
    if view.credentials == "omit":
        points.append(COOKIES["none-omit"].point())
    elif view.credentials == "same-origin":
        another_host = PHRASES["another-host"] if view.relation == "cross-site" else ""
        points.append(COOKIES["none-same-origin"].point(page=pair.page, another_host=another_host))
    elif view.relation == "same-site":
        points.append(COOKIES["none-same-site"].point(host=host_of(view.target)))
    else:
        points.append(COOKIES["none-cross-site"].point(page=pair.page, target=view.target))
    return points
