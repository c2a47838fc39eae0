"""Labs that need two real origins: the preflight cache, redirects, credentials and cookies.

Each lab is a page on the site origin within a session (``/sessions/<sid>/labs/<lab>``). The
learner's own browser sends every request with plain ``fetch()`` (``static/js/lab.js``); the API
origin answers and records each leg exactly as for a composer run; the lab's card explains
what actually arrived. A lab keeps its runs in a lab session of its own, whose id is derived
from the session's (an HMAC, so it is as unguessable as the session id): the lab gets its own
event stream and server console, the bounds of any session (runs per session, idle expiry), and
never crowds the composer's list of runs.

- **cache**: one URL sent to again and again on purpose (later runs answer at the first run's
  URL), so the browser's CORS-preflight cache decides whether a preflight is sent;
- **redirects**: the API origin answers with 301/302/303/307/308 and a ``Location`` on the same
  or another origin (the run's follow-up hops), or redirects the preflight;
- **cookies**: the API origin sets a cookie (``Path=/r/``, so the site origin's pages never get
  it; cookies are per host, not per port) and later requests show when the browser sends it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from app.cors import PROFILES, Profile, RequestInit, Scenario, ServerResponse, predict
from app.cors.origins import cors_check
from app.cors.scenario import CREDENTIALS_MODES
from app.runs.agreement import browser_from_user_agent
from app.runs.errors import BadRequest
from app.runs.origins import origin
from app.runs.store import Exchange, Run, Session, is_valid_id, new_id
from app.web.deps import CHOICES_LIMIT, PG, read_body
from app.web.state import Playground

FETCH = "https://fetch.spec.whatwg.org/"
MDN = "https://developer.mozilla.org/en-US/docs/"

MAX_SENDS_PER_URL = 12
MAX_AGE_LIMIT = 172_800  # two days: enough to pass every browser's cap
CACHE_CHOICES = ("absent", "0", "seconds")
# A cache hit or miss this close to the modelled expiry is not called a finding.
CACHE_MARGIN = 0.5
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
REDIRECT_METHODS = ("GET", "HEAD", "POST")
DESTINATIONS = ("same", "cross", "cross-back")
ALLOW_CHOICES = ("page", "null", "*")
TARGETS = ("same", "cross")
COOKIE_MAX_AGE = 600
REDIRECT_BODY = "ping from the page"

_LAB_KEY = secrets.token_bytes(32)

router = APIRouter()


@dataclass(frozen=True)
class Lab:
    name: str
    title: str
    summary: str
    note: str  # on each run, for the run's own page and the JSON API


LABS: dict[str, Lab] = {
    lab.name: lab
    for lab in (
        Lab(
            "cache",
            "The preflight cache",
            "Send to the same URL again and again: when does the browser skip the preflight, "
            "and for how long? Access-Control-Max-Age absent, 0 and N seconds.",
            "Preflight cache lab: this URL is reused on purpose, so the browser may answer the "
            "preflight from its cache; the engine's prediction does not model the cache.",
        ),
        Lab(
            "redirects",
            "Redirects",
            "The API origin redirects the request to the same or another origin: watch "
            "Origin turn into null, POST turn into GET, and a redirected preflight fail.",
            "Redirects lab: the API origin answers with a redirect and the browser follows it; "
            "the engine's prediction covers the first answer only.",
        ),
        Lab(
            "cookies",
            "Credentials and cookies",
            "The API origin sets a cookie: when does the browser send it back? Each "
            "credentials mode, the preflight, same-site and cross-site pages.",
            "Cookies lab: whether a cookie is stored and sent depends on the browser's cookie "
            "rules, which the engine's prediction does not model.",
        ),
    )
}


def lab_session_id(session_id: str, lab: str) -> str:
    """The id of the session holding ``lab``'s runs for ``session_id`` (unguessable)."""
    digest = hmac.new(_LAB_KEY, f"{lab}:{session_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def other_host(host: str) -> str:
    return "127.0.0.1" if host == "localhost" else "localhost"


@dataclass(frozen=True)
class Pair:
    """The page's origin and the two API origins it can talk to."""

    host: str
    page: str
    same: str  # the API origin on the page's host name: same-site
    cross: str  # the API origin on the other loopback name: cross-site
    other_page: str  # this page's origin on the other loopback name

    def api(self, target: str) -> str:
        return self.cross if target == "cross" else self.same


def host_of(url: str) -> str:
    return urlsplit(url).hostname or ""


def relation(page: str, target: str) -> str:
    """``same-site`` or ``cross-site``: a site is a scheme and host (ports do not count)."""
    return "same-site" if host_of(page) == host_of(target) else "cross-site"


@dataclass(frozen=True)
class LabContext:
    pg: Playground
    lab: Lab
    session: Session
    lab_session: Session
    pair: Pair
    profile: Profile
    browser_label: str

    @property
    def cookie_name(self) -> str:
        return "cors_lab_" + hashlib.sha256(self.lab_session.id.encode()).hexdigest()[:8]


def _context(pg: Playground, request: Request, session_id: str, lab_name: str) -> LabContext:
    lab = LABS.get(lab_name)
    if lab is None:
        raise BadRequest(404, f"no such lab: choose one of {', '.join(LABS)}", "lab")
    session = pg.store.session(session_id, create=True)
    if session is None:
        raise BadRequest(404, "no such session: start again from the home page", "session")
    lab_session = pg.store.session(lab_session_id(session.id, lab.name), create=True)
    assert lab_session is not None
    host = pg.page_host(request.url.hostname)
    other = other_host(host)
    pair = Pair(
        host=host,
        page=pg.site_origin(host),
        same=pg.api_origin(host),
        cross=origin(other, pg.settings.api_port),
        other_page=origin(other, pg.settings.site_port),
    )
    browser = browser_from_user_agent(request.headers.get("user-agent", ""))
    profile = PROFILES.get(browser.profile, PROFILES["spec"])
    return LabContext(pg, lab, session, lab_session, pair, profile, browser.label)


async def _read_form(request: Request) -> dict[str, str]:
    """A small urlencoded form; the last value of a repeated field wins."""
    raw = await read_body(request, CHOICES_LIMIT)
    try:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=40))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest(400, "the form is not a small UTF-8 urlencoded form") from None


def _choice(form: dict[str, str], name: str, choices: Sequence[str], default: str) -> str:
    value = form.get(name, default)
    if value not in choices:
        raise BadRequest(422, f"{name} must be one of {', '.join(choices)}", name)
    return value


@dataclass(frozen=True)
class Point:
    """One sentence of a lab's explanation, with the reference that backs it."""

    text: str
    href: str | None = None
    tone: str = "info"  # info, ok, bad, finding


def _allow(pair: Pair, credentials: bool = False) -> tuple[tuple[str, str], ...]:
    headers: tuple[tuple[str, str], ...] = (("Access-Control-Allow-Origin", pair.page),)
    if credentials:
        headers += (("Access-Control-Allow-Credentials", "true"),)
    return headers


TEXT = (("Content-Type", "text/plain; charset=utf-8"),)


def _add_run(
    ctx: LabContext,
    run_id: str,
    scenario: Scenario,
    *,
    hops: tuple[ServerResponse, ...] = (),
    url_id: str = "",
) -> Run:
    prediction = predict(scenario, browser=ctx.profile.name)
    return ctx.pg.store.add_run(
        ctx.lab_session,
        scenario,
        prediction,
        run_id=run_id,
        target=scenario.url,
        notes=(ctx.lab.note,),
        hops=hops,
        url_id=url_id,
    )


def _legs(run: Run, kind: str) -> list[Exchange]:
    return [e for e in run.exchanges if e.kind == kind]


def _first(run: Run, kind: str) -> Exchange | None:
    legs = _legs(run, kind)
    return legs[0] if legs else None


# --- the preflight cache --------------------------------------------------------------------


def _series(ctx: LabContext) -> OrderedDict[str, list[Run]]:
    """The lab's URLs, oldest first, each with its sends in order."""
    series: OrderedDict[str, list[Run]] = OrderedDict()
    for run in ctx.lab_session.runs.values():
        series.setdefault(run.url_id, []).append(run)
    return series


def _send_number(run: Run) -> int:
    value = next((v for k, v in run.scenario.request.headers if k == "X-Lab-Send"), "0")
    return int(value) if value.isdigit() else 0


def _create_cache_run(ctx: LabContext, form: dict[str, str]) -> Run:
    credentials = _choice(form, "credentials", CREDENTIALS_MODES, "same-origin")
    series_id = form.get("series", "")
    run_id = new_id()
    if series_id:
        sends = _series(ctx).get(series_id) if is_valid_id(series_id) else None
        if not sends:
            raise BadRequest(404, "that URL is no longer kept: start a new URL", "series")
        if len(sends) >= MAX_SENDS_PER_URL:
            raise BadRequest(
                409, f"at most {MAX_SENDS_PER_URL} sends to one URL: start a new URL", "series"
            )
        first = sends[0]
        number = max(_send_number(r) for r in sends) + 1
        preflight_response, response = first.scenario.preflight_response, first.scenario.response
        url = first.target
    else:
        choice = _choice(form, "max_age", CACHE_CHOICES, "absent")
        headers = (
            *_allow(ctx.pair, credentials=True),
            ("Access-Control-Allow-Methods", "PUT"),
            ("Access-Control-Allow-Headers", "X-Lab-Send"),
        )
        if choice == "0":
            headers += (("Access-Control-Max-Age", "0"),)
        elif choice == "seconds":
            raw = form.get("seconds", "").strip()
            if not raw.isdigit() or not 1 <= int(raw) <= MAX_AGE_LIMIT:
                raise BadRequest(
                    422, f"seconds must be a whole number from 1 to {MAX_AGE_LIMIT}", "seconds"
                )
            headers += (("Access-Control-Max-Age", str(int(raw))),)
        number = 1
        preflight_response = ServerResponse(204, headers)
        response = ServerResponse(200, (*_allow(ctx.pair, credentials=True), *TEXT))
        url = f"{ctx.pair.same}/r/{run_id}"
    scenario = Scenario(
        origin=ctx.pair.page,
        url=url,
        request=RequestInit("PUT", (("X-Lab-Send", str(number)),), credentials, "cors", None),
        preflight_response=preflight_response,
        response=response,
    )
    return _add_run(ctx, run_id, scenario, url_id=series_id)


def max_age_header(run: Run) -> str | None:
    return next(
        (v for k, v in run.scenario.preflight_response.headers if k == "Access-Control-Max-Age"),
        None,
    )


def cache_lifetime(value: str | None, profile: Profile) -> int:
    """Seconds a browser keeps a preflight: Max-Age (default when absent), capped."""
    seconds = profile.max_age_default if value is None else int(value)
    cap = profile.max_age_cap
    return seconds if cap is None else min(seconds, cap)


@dataclass(frozen=True)
class CacheSend:
    number: int
    run: Run
    credentials: str
    preflight: Exchange | None
    actual: Exchange | None
    observed: str  # miss (a preflight arrived), hit (only the actual), pending, lost
    points: tuple[Point, ...]


@dataclass(frozen=True)
class CacheEntry:
    number: int  # the send whose preflight made it
    created: float
    lifetime: int
    credentials: bool

    @property
    def expires(self) -> float:
        return self.created + self.lifetime


@dataclass(frozen=True)
class CacheSeries:
    url_id: str
    url: str
    sends: tuple[CacheSend, ...]
    max_age: str | None
    lifetime: int
    entry: CacheEntry | None
    remaining: float
    version: int
    full: bool


def cache_series(ctx: LabContext, url_id: str, runs: Sequence[Run], now: float) -> CacheSeries:
    """What the browser did on each send to one URL, against the preflight cache's rules."""
    value = max_age_header(runs[0])
    lifetime = cache_lifetime(value, ctx.profile)
    entry: CacheEntry | None = None
    sends: list[CacheSend] = []
    for run in runs:
        number = _send_number(run)
        preflight, actual = _first(run, "preflight"), _first(run, "actual")
        include = run.scenario.request.credentials == "include"
        if preflight is None and actual is None:
            observed = "pending" if run.state == "running" else "lost"
            sends.append(
                CacheSend(number, run, run.scenario.request.credentials, None, None, observed, ())
            )
            continue
        at = (preflight or actual).at  # type: ignore[union-attr]
        live = entry is not None and at < entry.expires and (entry.credentials or not include)
        points: list[Point] = []
        if preflight is not None:
            observed = "miss"
            points.append(
                Point(_miss_reason(entry, at, include, lifetime), FETCH + "#concept-cache")
            )
            if live and entry is not None and entry.expires - at > CACHE_MARGIN:
                points.append(
                    Point(
                        f"Finding: by the cache rules the preflight of send {entry.number} was "
                        f"still live ({entry.expires - at:.1f} s left), yet your browser sent a "
                        "new preflight. Browsers may drop cache entries early; the standard "
                        "allows it.",
                        FETCH + "#concept-cache",
                        "finding",
                    )
                )
            entry = CacheEntry(number, preflight.at, lifetime, include)
        else:
            observed = "hit"
            points.append(
                _hit_point(entry, at, include, lifetime, forgotten=number > len(sends) + 1)
            )
        sends.append(
            CacheSend(
                number,
                run,
                run.scenario.request.credentials,
                preflight,
                actual,
                observed,
                tuple(points),
            )
        )
    remaining = 0.0 if entry is None else max(0.0, entry.expires - now)
    return CacheSeries(
        url_id=url_id,
        url=runs[0].target,
        sends=tuple(reversed(sends)),
        max_age=value,
        lifetime=lifetime,
        entry=entry,
        remaining=remaining,
        version=sum(r.version for r in runs) + len(runs),
        full=len(runs) >= MAX_SENDS_PER_URL,
    )


def _hit_point(
    entry: CacheEntry | None, at: float, include: bool, lifetime: int, *, forgotten: bool
) -> Point:
    spec = FETCH + "#concept-cache"
    if entry is None and forgotten:
        return Point(
            "Cache hit: no preflight reached the API origin. The earlier sends to this URL are "
            "no longer kept here, so which preflight it reused is not shown.",
            spec,
            "ok",
        )
    if entry is not None and (entry.credentials or not include):
        if at < entry.expires:
            return Point(
                f"Cache hit: no preflight reached the API origin. Your browser reused the "
                f"preflight of send {entry.number}, {at - entry.created:.1f} s old (it lives "
                f"{lifetime} s).",
                spec,
                "ok",
            )
        if lifetime > 0 and at - entry.expires <= CACHE_MARGIN:
            return Point(
                f"Cache hit: your browser reused the preflight of send {entry.number} just as "
                f"it expired ({at - entry.created:.1f} s old, lifetime {lifetime} s): the "
                "browser starts counting when the answer reaches it, a moment after the API "
                "origin sent it.",
                spec,
                "ok",
            )
    return Point(
        "Cache hit: no preflight reached the API origin, although by the cache rules nothing "
        "was live for this request. Finding: your browser kept an entry the rules say it may "
        "not use.",
        spec,
        "finding",
    )


def _miss_reason(entry: CacheEntry | None, at: float, include: bool, lifetime: int) -> str:
    if lifetime == 0:
        return (
            "Preflight sent: Max-Age 0 means the browser may not reuse a preflight at all, "
            "so every request to this URL preflights."
        )
    if entry is None:
        return "Preflight sent: the first request to this URL, so nothing was cached yet."
    if at >= entry.expires:
        return (
            f"Preflight sent: the preflight of send {entry.number} expired "
            f"{at - entry.expires:.1f} s before this send (it lived {entry.lifetime} s)."
        )
    if include and not entry.credentials:
        return (
            f"Preflight sent: the preflight of send {entry.number} was made without "
            "credentials, and a cache entry without credentials never covers a request "
            'with credentials: "include" (the reverse is fine).'
        )
    return "Preflight sent."


# --- redirects --------------------------------------------------------------------------------


def _create_redirect_run(ctx: LabContext, form: dict[str, str]) -> Run:
    raw_status = form.get("status", "307")
    if not raw_status.isdigit() or int(raw_status) not in REDIRECT_STATUSES:
        raise BadRequest(422, "status must be one of 301, 302, 303, 307, 308", "status")
    status = int(raw_status)
    method = _choice(form, "method", REDIRECT_METHODS, "GET")
    destination = _choice(form, "destination", DESTINATIONS, "cross")
    allow = _choice(form, "allow", ALLOW_CHOICES, "null")
    redirect_preflight = form.get("preflight") == "1"
    pair = ctx.pair
    run_id = new_id()
    chain = {"same": [pair.same], "cross": [pair.cross], "cross-back": [pair.cross, pair.same]}[
        destination
    ]
    urls = [f"{o}/r/{run_id}/{i + 1}" for i, o in enumerate(chain)]
    final_allow = {"page": pair.page, "null": "null", "*": "*"}[allow]
    answers: list[ServerResponse] = []
    for hop in range(len(chain) + 1):
        # The first answer goes to the page's own Origin; later ones use the learner's choice.
        acao = (("Access-Control-Allow-Origin", pair.page if hop == 0 else final_allow),)
        if hop < len(chain):
            answers.append(ServerResponse(status, (("Location", urls[hop]), *acao)))
        else:
            answers.append(ServerResponse(200, (*acao, *TEXT)))
    if redirect_preflight:
        preflight = ServerResponse(status, (("Location", urls[0]), *_allow(pair)))
        headers: tuple[tuple[str, str], ...] = (("X-Lab", "redirect-the-preflight"),)
    else:
        preflight = ServerResponse(204, (*_allow(pair), ("Access-Control-Allow-Headers", "X-Lab")))
        headers = ()
    scenario = Scenario(
        origin=pair.page,
        url=f"{pair.same}/r/{run_id}",
        request=RequestInit(
            method, headers, "same-origin", "cors", REDIRECT_BODY if method == "POST" else None
        ),
        preflight_response=preflight,
        response=answers[0],
    )
    return _add_run(ctx, run_id, scenario, hops=tuple(answers[1:]))


def hop_of(exchange: Exchange) -> int:
    parts = exchange.request.path.split("?")[0].strip("/").split("/")
    return int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else 0


def method_rule(status: int) -> str:
    if status in (301, 302):
        return f"{status} turns POST into GET (and drops the body); other methods stay"
    if status == 303:
        return "303 turns every method except GET and HEAD into GET (and drops the body)"
    return f"{status} keeps the method and the body"


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


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    name = name.lower()
    return next((v for k, v in headers if k.lower() == name), None)


def redirect_view(ctx: LabContext, run: Run) -> RedirectView:
    scenario = run.scenario
    preflight_redirected = scenario.preflight_response.status in REDIRECT_STATUSES
    status = scenario.response.status
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
                _header(response.headers, "Location"),
                check.ok,
                check.reason,
            )
        )
    destination = [
        origin_of(v)
        for answer in (scenario.response, *run.hops[:-1])
        if (v := _header(answer.headers, "Location"))
    ]
    allow = _header(final.headers, "Access-Control-Allow-Origin") or ""
    view = RedirectView(
        run,
        status,
        scenario.request.method,
        destination,
        allow,
        preflight_redirected,
        tuple(legs),
        (),
    )
    return replace(view, points=tuple(_redirect_points(ctx, view)))


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _redirect_points(ctx: LabContext, view: RedirectView) -> list[Point]:
    run, page = view.run, ctx.pair.page
    points: list[Point] = []
    preflights = [leg for leg in view.legs if leg.kind == "preflight"]
    actuals = [leg for leg in view.legs if leg.kind == "actual"]
    if view.preflight_redirected:
        if preflights and not actuals:
            points.append(
                Point(
                    f"The preflight was answered {preflights[0].status} with a Location, and the "
                    "browser did not follow it: a preflight is never redirected. The actual "
                    "request never left the browser, and fetch() rejected. Chromium's DevTools "
                    "call this PreflightDisallowedRedirect; Firefox says “CORS request external "
                    "redirect not allowed”; in the Fetch Standard a 3xx is simply not an ok "
                    "status.",
                    FETCH + "#cors-preflight-fetch",
                    "bad",
                )
            )
        elif actuals:
            points.append(
                Point(
                    "Finding: the actual request arrived although its preflight was redirected.",
                    FETCH + "#cors-preflight-fetch",
                    "finding",
                )
            )
        return points
    previous: RedirectLeg | None = None
    tainted_at: RedirectLeg | None = None
    for leg in actuals:
        if previous is not None and previous.location:
            where = (
                "the same origin"
                if origin_of(previous.location) == origin_of("http://" + previous.host)
                else "another origin"
            )
            text = (
                f"The browser followed the {previous.status} to {where} "
                f"({origin_of(previous.location)}): {method_rule(previous.status)}."
            )
            if leg.method != previous.method:
                text += f" It arrived as {leg.method} (it was {previous.method})" + (
                    ", with no body." if leg.body_size == 0 else "."
                )
            else:
                text += f" It arrived as {leg.method} again" + (
                    f", with its {leg.body_size}-byte body." if leg.body_size else "."
                )
            points.append(Point(text, FETCH + "#http-redirect-fetch"))
            if leg.request_origin == "null" and tainted_at is None:
                tainted_at = previous
                points.append(
                    Point(
                        f"Origin: null. The request had already left the page's origin ({page}) "
                        f"for {origin_of('http://' + previous.host)}, and this redirect took it "
                        "to yet another origin. The browser then sets the request's tainted "
                        "origin flag and sends its origin as null: a server after a cross-origin "
                        "redirect can no longer tell which page asked. The flag is never "
                        "cleared, even when a later redirect comes back.",
                        FETCH + "#concept-request-tainted-origin",
                        "bad",
                    )
                )
            elif leg.request_origin == "null":
                points.append(
                    Point(
                        "Still Origin: null: once tainted, the request's origin stays null for the "
                        "rest of the redirect chain.",
                        FETCH + "#serializing-a-request-origin",
                    )
                )
            elif leg.request_origin == page:
                points.append(
                    Point(
                        f"Origin: {page} again: a redirect within one origin does not taint the "
                        "request's origin.",
                        FETCH + "#serializing-a-request-origin",
                        "ok",
                    )
                )
        if not leg.cors_ok:
            points.append(
                Point(
                    f"This answer fails the CORS check for Origin: {leg.request_origin}: "
                    f"{leg.cors_reason}. The browser stops here, so fetch() rejects with a "
                    "TypeError" + (" and the redirect is not followed." if leg.location else "."),
                    FETCH + "#cors-check",
                    "bad",
                )
            )
            break
        previous = leg
    result = run.browser_result
    if tainted_at is not None and result is not None and result.outcome == "allowed":
        points.append(
            Point(
                f"The final answer said Access-Control-Allow-Origin: {view.allow}, which passes "
                "the CORS check for a request whose origin is null. That is why an API that "
                "redirects across origins must allow null or * on the final response (and why "
                "allowing null elsewhere is dangerous: sandboxed iframes and data: URLs send "
                "null too).",
                FETCH + "#cors-check",
                "ok",
            )
        )
    return points


# --- credentials and cookies -------------------------------------------------------------------

SAME_SITE_CHOICES: dict[str, tuple[str, str]] = {
    "unset": ("no SameSite attribute (browsers treat it as Lax)", ""),
    "lax": ("SameSite=Lax", "; SameSite=Lax"),
    "strict": ("SameSite=Strict", "; SameSite=Strict"),
    "none": ("SameSite=None without Secure", "; SameSite=None"),
    "none-secure": ("SameSite=None; Secure", "; SameSite=None; Secure"),
    "partitioned": ("SameSite=None; Secure; Partitioned", "; SameSite=None; Secure; Partitioned"),
    "forget": ("forget it (Max-Age=0)", ""),
}
COOKIE_ACTIONS = ("set", "send")


def set_cookie_lines(name: str, value: str, choice: str) -> tuple[str, ...]:
    if choice == "forget":
        return (
            f"{name}=; Path=/r/; Max-Age=0",
            f"{name}=; Path=/r/; Max-Age=0; SameSite=None; Secure; Partitioned",
        )
    return (f"{name}={value}; Path=/r/; Max-Age={COOKIE_MAX_AGE}{SAME_SITE_CHOICES[choice][1]}",)


def _create_cookie_run(ctx: LabContext, form: dict[str, str]) -> Run:
    action = _choice(form, "action", COOKIE_ACTIONS, "send")
    target = ctx.pair.api(_choice(form, "target", TARGETS, "same"))
    run_id = new_id()
    url = f"{target}/r/{run_id}"
    allow = _allow(ctx.pair, credentials=True)
    if action == "set":
        credentials = _choice(form, "credentials", CREDENTIALS_MODES, "include")
        choice = _choice(form, "samesite", tuple(SAME_SITE_CHOICES), "unset")
        lines = set_cookie_lines(ctx.cookie_name, run_id[:10], choice)
        headers: tuple[tuple[str, str], ...] = ()
        response = ServerResponse(200, (*allow, *TEXT, *(("Set-Cookie", v) for v in lines)))
    else:
        credentials = _choice(form, "credentials", CREDENTIALS_MODES, "include")
        headers = (("X-Lab-Step", "send"),) if form.get("preflight") == "1" else ()
        response = ServerResponse(200, (*allow, *TEXT))
    scenario = Scenario(
        origin=ctx.pair.page,
        url=url,
        request=RequestInit("GET", headers, credentials, "cors", None),
        preflight_response=ServerResponse(
            204,
            (
                *allow,
                ("Access-Control-Allow-Headers", "X-Lab-Step"),
                ("Access-Control-Max-Age", "0"),
            ),
        ),
        response=response,
    )
    return _add_run(ctx, run_id, scenario)


def cookie_pairs(header: str | None) -> list[tuple[str, str]]:
    if not header:
        return []
    pairs = []
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            pairs.append((name, value))
    return pairs


def _set_lines(run: Run) -> list[str]:
    return [v for k, v in run.scenario.response.headers if k == "Set-Cookie"]


def samesite_label(line: str) -> str:
    for label, suffix in reversed(SAME_SITE_CHOICES.values()):
        if suffix and line.endswith(suffix):
            return label
    return "forget it (Max-Age=0)" if "Max-Age=0" in line else SAME_SITE_CHOICES["unset"][0]


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
    sent_value: str | None  # this lab's cookie, as the actual request carried it
    source: Run | None  # the run that set that value
    points: tuple[Point, ...]


def cookie_view(ctx: LabContext, run: Run) -> CookieView:
    lines = tuple(_set_lines(run))
    target = origin_of(run.target)
    preflight, actual = _first(run, "preflight"), _first(run, "actual")
    sent = dict(cookie_pairs(actual.request.header("cookie") if actual else None))
    value = sent.get(ctx.cookie_name)
    source = None
    if value:
        prefix = f"{ctx.cookie_name}={value};"
        source = next(
            (
                r
                for r in ctx.lab_session.runs.values()
                if any(line.startswith(prefix) for line in _set_lines(r))
            ),
            None,
        )
    view = CookieView(
        run,
        "set" if lines else "send",
        target,
        relation(ctx.pair.page, target),
        run.scenario.request.credentials,
        lines,
        preflight,
        actual,
        value,
        source,
        (),
    )
    points = _cookie_set_points(ctx, view) if lines else _cookie_send_points(ctx, view)
    return replace(view, points=tuple(points))


COOKIE_LINKS = {
    "credentials": MDN + "Web/API/RequestInit#credentials",
    "samesite": MDN + "Web/HTTP/Reference/Headers/Set-Cookie#samesitesamesite-value",
    "third-party": MDN + "Web/Privacy/Guides/Third-party_cookies",
    "partitioned": MDN + "Web/Privacy/Guides/Privacy_sandbox/Partitioned_cookies",
    "secure": MDN + "Web/Security/Defenses/Secure_Contexts",
}


def _cookie_set_points(ctx: LabContext, view: CookieView) -> list[Point]:
    host = host_of(view.target)
    points = [
        Point(
            "The API origin answered with Set-Cookie. JavaScript never sees that header (it is a "
            "forbidden response-header name); only the browser's cookie store does.",
            FETCH + "#forbidden-response-header-name",
        )
    ]
    if view.credentials != "include":
        points.append(
            Point(
                f'credentials: "{view.credentials}" on a request to another origin: the browser '
                'ignores Set-Cookie, so nothing was stored. Only credentials: "include" lets a '
                "cross-origin response set cookies.",
                COOKIE_LINKS["credentials"],
                "bad",
            )
        )
        return points
    label = samesite_label(view.set_lines[0])
    if label == "forget it (Max-Age=0)":
        points.append(
            Point(
                f"Max-Age=0 deletes the lab's cookie for {host} (the plain and the partitioned "
                "one), if the browser lets this response touch cookies at all.",
                COOKIE_LINKS["samesite"],
            )
        )
        return points
    if label == "SameSite=None without Secure":
        points.append(
            Point(
                "SameSite=None without Secure is refused by current browsers: nothing was stored.",
                COOKIE_LINKS["samesite"],
                "bad",
            )
        )
    if "Secure" in label:
        points.append(
            Point(
                f"Secure on http://{host}: a Secure cookie needs a secure context. On most "
                "http:// sites it is refused, but localhost and 127.0.0.1 count as potentially "
                "trustworthy, and Chromium accepts Secure cookies from them; a later send shows "
                "whether your browser did. On a workshop server reached as http://some-name it "
                "would be refused.",
                COOKIE_LINKS["secure"],
            )
        )
    if view.relation == "cross-site":
        points.append(
            Point(
                f"This response is cross-site ({ctx.pair.page} → {view.target}): the cookie would "
                "be a third-party cookie. A SameSite=Lax or Strict cookie cannot be set from a "
                "cross-site response, and many browsers block third-party cookies altogether "
                "(Safari, Chrome when third-party cookies are blocked, as in incognito windows) "
                "or keep them in a jar per top-level site (Firefox). A Partitioned cookie is "
                "stored in this page's partition and comes back only while the top-level page is "
                f"on {ctx.pair.host}.",
                COOKIE_LINKS["third-party"],
            )
        )
    else:
        points.append(
            Point(
                f"This response is same-site ({ctx.pair.page} → {view.target}: ports do not count "
                "for sites), so SameSite=Lax and Strict cookies may be set and sent.",
                COOKIE_LINKS["samesite"],
            )
        )
    points.append(
        Point(
            f"Whether your browser kept it only shows on a later request: send one with "
            f'credentials: "include" to {view.target} and look for Cookie. It is also sent to '
            f"every port of {host} (cookies are per host, not per port); Path=/r/ keeps it off the "
            "site's own pages.",
            COOKIE_LINKS["credentials"],
        )
    )
    return points


def _cookie_send_points(ctx: LabContext, view: CookieView) -> list[Point]:
    points: list[Point] = []
    host = host_of(view.target)
    if view.preflight is not None:
        if view.preflight.request.header("cookie") is None:
            points.append(
                Point(
                    "The preflight carried no Cookie header: a CORS preflight never carries "
                    "credentials, whatever the request's credentials mode. Only the actual request "
                    "may.",
                    FETCH + "#cors-preflight-fetch",
                    "ok",
                )
            )
        else:
            points.append(
                Point(
                    "Finding: the preflight carried a Cookie header.",
                    FETCH + "#cors-preflight-fetch",
                    "finding",
                )
            )
    if view.actual is None:
        return points
    if view.sent_value is not None:
        how = ""
        if view.source is not None:
            label = samesite_label(_set_lines(view.source)[0])
            how = f" set by run {view.source.id[:10]} with {label}"
        points.append(
            Point(
                f"The actual request carried the lab's cookie ({ctx.cookie_name}={view.sent_value},"
                f'{how}): credentials: "include", and the browser\'s cookie rules allowed it on '
                f"this {view.relation} request.",
                COOKIE_LINKS["credentials"],
                "ok",
            )
        )
        if view.relation == "cross-site":
            points.append(
                Point(
                    "On a cross-site request only a SameSite=None cookie can be sent: a "
                    "Partitioned one set while this page was the top-level site, or a third-party "
                    "cookie your browser does not block.",
                    COOKIE_LINKS["partitioned"],
                )
            )
        return points
    if view.credentials == "omit":
        points.append(
            Point(
                'No Cookie: credentials: "omit" never sends cookies (and ignores Set-Cookie).',
                COOKIE_LINKS["credentials"],
            )
        )
    elif view.credentials == "same-origin":
        points.append(
            Point(
                f'No Cookie: credentials: "same-origin" sends cookies only to the page\'s own '
                f"origin ({ctx.pair.page}); the API origin is another origin (another port"
                + (", another host" if view.relation == "cross-site" else "")
                + "), even where the cookie's host matches.",
                COOKIE_LINKS["credentials"],
            )
        )
    elif view.relation == "same-site":
        points.append(
            Point(
                f'No Cookie, although credentials is "include" and the request is same-site: your '
                f"browser holds no cookie from this lab for {host} that it may send. Set one first "
                '(with credentials "include"); a refused or forgotten cookie leaves nothing.',
                COOKIE_LINKS["credentials"],
            )
        )
    else:
        points.append(
            Point(
                'No Cookie, although credentials is "include": the request is cross-site '
                f"({ctx.pair.page} → {view.target}). SameSite=Lax (the default) and Strict "
                "cookies are never sent on cross-site requests such as fetch(), and a "
                "SameSite=None cookie is a third-party cookie here: your browser may have "
                "blocked it, or kept it in another top-level site's partition.",
                COOKIE_LINKS["samesite"],
            )
        )
    return points


# --- rendering --------------------------------------------------------------------------------


def card_for(ctx: LabContext, run: Run) -> tuple[str, str]:
    """The lab's card that shows ``run``: its DOM id and HTML."""
    env = ctx.pg.templates
    if ctx.lab.name == "cache":
        runs = _series(ctx)[run.url_id]
        series = cache_series(ctx, run.url_id, runs, time.time())
        html = env.get_template("partials/lab_cache_series.html").render(ctx=ctx, series=series)
        return f"lab-series-{run.url_id}", html
    if ctx.lab.name == "redirects":
        view = redirect_view(ctx, run)
        html = env.get_template("partials/lab_redirect_run.html").render(ctx=ctx, view=view)
    else:
        html = env.get_template("partials/lab_cookie_run.html").render(
            ctx=ctx, view=cookie_view(ctx, run)
        )
    return f"lab-run-{run.id}", html


def cards(ctx: LabContext) -> list[str]:
    """Every card of the lab, newest first."""
    runs = list(ctx.lab_session.runs.values())
    if ctx.lab.name == "cache":
        latest = {run.url_id: run for run in runs}
        ordered = sorted(latest.values(), key=lambda r: r.created, reverse=True)
        return [card_for(ctx, run)[1] for run in ordered]
    return [card_for(ctx, run)[1] for run in reversed(runs)]


def _common(ctx: LabContext) -> dict[str, Any]:
    lab_sid = ctx.lab_session.id
    return {
        "ctx": ctx,
        "lab": ctx.lab,
        "labs": LABS,
        "session_id": ctx.session.id,
        "pair": ctx.pair,
        "events_url": f"/sessions/{lab_sid}/events",
        "console_url": f"{ctx.pair.same}/console/{lab_sid}",
    }


@router.get("/labs", response_class=RedirectResponse)
async def start(pg: PG) -> RedirectResponse:
    """The labs, in a new session."""
    session = pg.store.new_session()
    return RedirectResponse(f"/sessions/{session.id}/labs", 303)


@router.get("/sessions/{session_id}/labs", response_class=HTMLResponse)
async def index(request: Request, session_id: str, pg: PG) -> HTMLResponse:
    """The labs of this session."""
    session = pg.store.session(session_id, create=True)
    if session is None:
        raise BadRequest(404, "no such session: start again from the home page", "session")
    return pg.templates.TemplateResponse(
        request, "pages/labs.html", {"session_id": session.id, "labs": LABS}
    )


@router.get("/sessions/{session_id}/labs/{lab}", response_class=HTMLResponse)
async def page(request: Request, session_id: str, lab: str, pg: PG) -> HTMLResponse:
    """One lab: setup, what to try, the controls, and the live cards."""
    ctx = _context(pg, request, session_id, lab)
    profiles = [(p.label, p.max_age_default, p.max_age_cap) for p in PROFILES.values()]
    return pg.templates.TemplateResponse(
        request,
        f"pages/lab_{ctx.lab.name}.html",
        {
            **_common(ctx),
            "cards": cards(ctx),
            "profiles": profiles,
            "samesite_choices": SAME_SITE_CHOICES,
            "max_sends": MAX_SENDS_PER_URL,
            "cookie_minutes": COOKIE_MAX_AGE // 60,
            "max_age_limit": MAX_AGE_LIMIT,
            "redirect_statuses": REDIRECT_STATUSES,
            "redirect_methods": REDIRECT_METHODS,
        },
    )


CREATE = {
    "cache": _create_cache_run,
    "redirects": _create_redirect_run,
    "cookies": _create_cookie_run,
}


@router.post("/sessions/{session_id}/labs/{lab}/runs", response_class=JSONResponse)
async def create_run(request: Request, session_id: str, lab: str, pg: PG) -> JSONResponse:
    """Store a lab run and return what the page's fetch() needs, with the lab's card."""
    ctx = _context(pg, request, session_id, lab)
    form = await _read_form(request)
    run = CREATE[ctx.lab.name](ctx, form)
    card_id, html = card_for(ctx, run)
    request_init = run.scenario.request
    return JSONResponse(
        {
            "run_id": run.id,
            "target": run.target,
            "init": {
                "method": request_init.method,
                "headers": [list(h) for h in request_init.headers],
                "credentials": request_init.credentials,
                "mode": request_init.mode,
                "body": request_init.body,
            },
            "card_id": card_id,
            "card": html,
        },
        status_code=201,
    )


@router.get("/sessions/{session_id}/labs/{lab}/runs/{run_id}", response_class=HTMLResponse)
async def fragment(
    request: Request, session_id: str, lab: str, run_id: str, pg: PG
) -> HTMLResponse:
    """The lab's card that shows one run, as it is now (the page refreshes it live)."""
    ctx = _context(pg, request, session_id, lab)
    run = ctx.lab_session.runs.get(run_id)
    if run is None:
        raise BadRequest(404, "no such run in this lab (it expired or never existed)", "run")
    return HTMLResponse(card_for(ctx, run)[1])
