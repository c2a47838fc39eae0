"""The redirects lab: the API origin answers with 301/302/303/307/308 and a ``Location`` on the
same or another origin (the run's follow-up hops), or redirects the preflight.

``new_run`` builds the run and its hops; ``redirect_view`` reads each leg that arrived: the hop,
its method, body and ``Origin``, whether its answer passes the CORS check, and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.cors import Hop, RequestInit, Scenario, ServerResponse
from app.cors.names import ALLOW_HEADERS, ALLOW_ORIGIN, LOCATION
from app.cors.origins import cors_check
from app.labs.registry import (
    ALLOW_CHOICES,
    DESTINATIONS,
    REDIRECT_BODY,
    REDIRECT_METHODS,
    REDIRECT_STATUSES,
    TEXT_BODY,
    Form,
    Header,
    LabRun,
    allow_page,
    choice,
    cross_site,
)
from app.labs.text import PHRASES, REDIRECTS, Point
from app.runs.errors import BadRequest
from app.runs.origins import OriginPair, origin_of
from app.runs.store import Exchange, Run, new_id

PREFLIGHT_HEADER = "X-Lab"


def new_run(pair: OriginPair, form: Form, *, run_id: str = "") -> LabRun:
    """A request the API origin redirects (or whose preflight it redirects) along the chosen
    chain; the answers after the first (and their preflights) allow the chosen origin. With
    ``header``, the request carries ``X-Lab``, so it needs a preflight at each hop too."""
    raw_status = form.get("status", "307")
    if not raw_status.isdigit() or int(raw_status) not in REDIRECT_STATUSES:
        statuses = ", ".join(str(s) for s in REDIRECT_STATUSES)
        raise BadRequest(422, f"status must be one of {statuses}", "status")
    status = int(raw_status)
    method = choice(form, "method", REDIRECT_METHODS, "GET")
    destination = choice(
        form, "destination", DESTINATIONS, "cross" if pair.cross_available else "same"
    )
    allow = choice(form, "allow", ALLOW_CHOICES, "null")
    redirect_preflight = form.get("preflight") == "1"
    custom_header = form.get("header") == "1"
    run_id = run_id or new_id()
    if destination == "same":
        chain = [pair.api]
    else:
        cross = cross_site(pair, "destination")
        chain = [cross] if destination == "cross" else [cross, pair.api]
    urls = [f"{o}/r/{run_id}/{i + 1}" for i, o in enumerate(chain)]
    final_allow = {"page": pair.page, "null": "null", "*": "*"}[allow]
    answers: list[ServerResponse] = []
    for hop in range(len(chain) + 1):
        # The first answer goes to the page's own Origin; later ones use the learner's choice.
        acao = ((ALLOW_ORIGIN, pair.page if hop == 0 else final_allow),)
        if hop < len(chain):
            answers.append(ServerResponse(status, ((LOCATION, urls[hop]), *acao)))
        else:
            answers.append(ServerResponse(200, (*acao, *TEXT_BODY)))
    # A hop's preflight is answered like its actual request: the learner's choice.
    hop_preflight = ServerResponse(
        204, ((ALLOW_ORIGIN, final_allow), (ALLOW_HEADERS, PREFLIGHT_HEADER))
    )
    if redirect_preflight:
        preflight = ServerResponse(status, ((LOCATION, urls[0]), *allow_page(pair)))
        headers: tuple[Header, ...] = ((PREFLIGHT_HEADER, "redirect-the-preflight"),)
    else:
        preflight = ServerResponse(204, (*allow_page(pair), (ALLOW_HEADERS, PREFLIGHT_HEADER)))
        headers = ((PREFLIGHT_HEADER, "preflight-every-hop"),) if custom_header else ()
    # The whole fetch, so the engine predicts every leg.
    scenario = Scenario(
        origin=pair.page,
        url=f"{pair.api}/r/{run_id}",
        request=RequestInit(
            method, headers, "same-origin", "cors", REDIRECT_BODY if method == "POST" else None
        ),
        preflight_response=preflight,
        response=answers[0],
        hops=tuple(
            Hop(url, hop_preflight, answer) for url, answer in zip(urls, answers[1:], strict=True)
        ),
    )
    return LabRun(run_id, scenario, hops=tuple(answers[1:]))


def hop_of(exchange: Exchange) -> int:
    """Which answer a leg got: 0 for the run's own URL, n for ``/r/<id>/<n>``."""
    parts = exchange.request.path.split("?")[0].strip("/").split("/")
    return int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else 0


def method_rule(status: int) -> str:
    """What a redirect status does to the request's method and body."""
    if status in (301, 302):
        return PHRASES["rule-post-to-get"].format(status=status)
    if status == 303:
        return PHRASES["rule-303"]
    return PHRASES["rule-keep"].format(status=status)


@dataclass(frozen=True)
class RedirectLeg:
    exchange: Exchange
    hop: int
    kind: str
    host: str
    method: str
    request_origin: str | None
    body_size: int
    status: int
    location: str | None
    cors_ok: bool
    cors_reason: str


@dataclass(frozen=True)
class RedirectView:
    run: Run
    status: int
    method: str
    destination: list[str]
    allow: str
    preflight_redirected: bool
    legs: tuple[RedirectLeg, ...]
    points: tuple[Point, ...]


def _header(headers: Sequence[Header], name: str) -> str | None:
    name = name.lower()
    return next((v for k, v in headers if k.lower() == name), None)


def redirect_view(run: Run, pair: OriginPair) -> RedirectView:
    """Every leg of ``run`` as it arrived, and what it shows, for a page on ``pair.page``."""
    scenario = run.scenario
    final = run.hops[-1] if run.hops else scenario.response
    legs = []
    for exchange in run.exchanges:
        request, response = exchange.request, exchange.response
        sent_origin = request.header("origin")
        check = cors_check(sent_origin or "", scenario.request.credentials, response.headers)
        legs.append(
            RedirectLeg(
                exchange,
                hop_of(exchange),
                exchange.kind,
                request.header("host") or "",
                request.method,
                sent_origin,
                request.body_size,
                response.status,
                _header(response.headers, LOCATION),
                check.ok,
                check.reason,
            )
        )
    destination = [
        origin_of(v)
        for answer in (scenario.response, *run.hops[:-1])
        if (v := _header(answer.headers, LOCATION))
    ]
    preflight_redirected = scenario.preflight_response.status in REDIRECT_STATUSES
    allow = _header(final.headers, ALLOW_ORIGIN) or ""
    points = _points(run, pair.page, tuple(legs), preflight_redirected, allow)
    return RedirectView(
        run,
        scenario.response.status,
        scenario.request.method,
        destination,
        allow,
        preflight_redirected,
        tuple(legs),
        tuple(points),
    )


def _points(
    run: Run, page: str, legs: Sequence[RedirectLeg], preflight_redirected: bool, allow: str
) -> list[Point]:
    points: list[Point] = []
    preflights = [leg for leg in legs if leg.kind == "preflight"]
    actuals = [leg for leg in legs if leg.kind == "actual"]
    if preflight_redirected:
        if preflights and not actuals:
            points.append(REDIRECTS["preflight-redirected"].point(status=preflights[0].status))
        elif actuals:
            points.append(REDIRECTS["preflight-redirected-yet-sent"].point())
        return points
    previous: RedirectLeg | None = None
    tainted = False
    for leg in actuals:
        if previous is not None and previous.location:
            points.append(_followed(previous, leg))
            came_from = origin_of("http://" + previous.host)
            if leg.request_origin == "null" and not tainted:
                tainted = True
                points.append(REDIRECTS["tainted"].point(page=page, left_for=came_from))
            elif leg.request_origin == "null":
                points.append(REDIRECTS["still-tainted"].point())
            elif leg.request_origin == page:
                points.append(REDIRECTS["untainted"].point(page=page))
        if not leg.cors_ok:
            ending = PHRASES["stops-at-redirect"] if leg.location else PHRASES["stops"]
            points.append(
                REDIRECTS["cors-check-fails"].point(
                    origin=leg.request_origin, reason=leg.cors_reason, ending=ending
                )
            )
            break
        previous = leg
    result = run.browser_result
    if tainted and result is not None and result.outcome == "allowed":
        points.append(REDIRECTS["null-allowed"].point(allow=allow))
    return points


def _followed(previous: RedirectLeg, leg: RedirectLeg) -> Point:
    """How the browser followed ``previous``'s redirect, and how ``leg`` arrived."""
    assert previous.location is not None
    location = origin_of(previous.location)
    same = location == origin_of("http://" + previous.host)
    if leg.method != previous.method:
        key = "arrived-changed" if leg.body_size == 0 else "arrived-changed-with-body"
    else:
        key = "arrived-again-with-body" if leg.body_size else "arrived-again"
    arrival = PHRASES[key].format(method=leg.method, was=previous.method, size=leg.body_size)
    return REDIRECTS["followed"].point(
        status=previous.status,
        where=PHRASES["same-origin" if same else "another-origin"],
        location=location,
        rule=method_rule(previous.status),
        arrival=arrival,
    )
