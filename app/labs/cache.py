"""The preflight-cache lab: one URL sent to again and again on purpose (later sends answer at the
first send's URL), so the browser's CORS-preflight cache decides whether a preflight is sent.

``new_run`` builds a send; ``cache_series`` reads what arrived for every send to one URL against
the cache rules of the learner's browser (``Profile.max_age_default`` and ``max_age_cap``), and
reveals, once each send has settled, the learner's answer next to the engine's prediction of the
series for each browser (app/labs/predict.py).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from app.cors import Profile, RequestInit, Scenario, ServerResponse
from app.cors.names import ALLOW_HEADERS, ALLOW_METHODS, MAX_AGE
from app.cors.scenario import CREDENTIALS_MODES
from app.labs.predict import Reveal, cache_reveals
from app.labs.registry import (
    CACHE_CHOICES,
    CACHE_MARGIN,
    MAX_AGE_LIMIT,
    MAX_SENDS_PER_URL,
    TEXT_BODY,
    Form,
    LabRun,
    allow_page,
    choice,
)
from app.labs.text import CACHE, Point
from app.runs.errors import BadRequest
from app.runs.origins import OriginPair
from app.runs.store import Exchange, Run, is_valid_id, new_id

SEND_HEADER = "X-Lab-Send"


def series_of(runs: Iterable[Run]) -> OrderedDict[str, list[Run]]:
    """The lab's URLs (by url_id), oldest first, each with its sends in order."""
    series: OrderedDict[str, list[Run]] = OrderedDict()
    for run in runs:
        series.setdefault(run.url_id, []).append(run)
    return series


def series_newest_first(runs: Iterable[Run]) -> list[list[Run]]:
    """Every URL's sends, the URL sent to most recently first (one card each)."""
    return sorted(series_of(runs).values(), key=lambda sends: sends[-1].created, reverse=True)


def send_number(run: Run) -> int:
    value = next((v for k, v in run.scenario.request.headers if k == SEND_HEADER), "0")
    return int(value) if value.isdigit() else 0


def new_run(pair: OriginPair, form: Form, runs: Iterable[Run], *, run_id: str = "") -> LabRun:
    """A send to a new URL, or again to the URL of the series ``form["series"]`` names among
    the lab's ``runs``; the preflight's answer carries the chosen Access-Control-Max-Age."""
    credentials = choice(form, "credentials", CREDENTIALS_MODES, "same-origin")
    series_id = form.get("series", "")
    run_id = run_id or new_id()
    if series_id:
        sends = series_of(runs).get(series_id) if is_valid_id(series_id) else None
        if not sends:
            raise BadRequest(404, "that URL is no longer kept: start a new URL", "series")
        if len(sends) >= MAX_SENDS_PER_URL:
            raise BadRequest(
                409, f"at most {MAX_SENDS_PER_URL} sends to one URL: start a new URL", "series"
            )
        first = sends[0]
        number = max(send_number(r) for r in sends) + 1
        preflight_response, response = first.scenario.preflight_response, first.scenario.response
        url = first.target
    else:
        max_age = choice(form, "max_age", CACHE_CHOICES, "absent")
        headers = (
            *allow_page(pair, credentials=True),
            (ALLOW_METHODS, "PUT"),
            (ALLOW_HEADERS, SEND_HEADER),
        )
        if max_age == "0":
            headers += ((MAX_AGE, "0"),)
        elif max_age == "seconds":
            raw = form.get("seconds", "").strip()
            if not raw.isdigit() or not 1 <= int(raw) <= MAX_AGE_LIMIT:
                raise BadRequest(
                    422, f"seconds must be a whole number from 1 to {MAX_AGE_LIMIT}", "seconds"
                )
            headers += ((MAX_AGE, str(int(raw))),)
        number = 1
        preflight_response = ServerResponse(204, headers)
        response = ServerResponse(200, (*allow_page(pair, credentials=True), *TEXT_BODY))
        url = f"{pair.api}/r/{run_id}"
    scenario = Scenario(
        origin=pair.page,
        url=url,
        request=RequestInit("PUT", ((SEND_HEADER, str(number)),), credentials, "cors", None),
        preflight_response=preflight_response,
        response=response,
    )
    return LabRun(run_id, scenario, url_id=series_id)


def max_age_header(run: Run) -> str | None:
    return next(
        (v for k, v in run.scenario.preflight_response.headers if k == MAX_AGE),
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
    # The learner's answer, the engine's for each browser: once the send has settled.
    reveal: Reveal | None = None


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
    sends: tuple[CacheSend, ...]  # newest first
    max_age: str | None
    lifetime: int
    capped_at: int | None  # the browser's cap, when it shortened the Max-Age sent
    entry: CacheEntry | None
    remaining: float
    version: int
    full: bool


def cache_series(runs: Sequence[Run], profile: Profile, now: float) -> CacheSeries:
    """What the browser did on each send to one URL (``runs``, oldest first), against the
    preflight cache's rules for ``profile``; ``remaining`` is the live entry's time at ``now``."""
    value = max_age_header(runs[0])
    lifetime = cache_lifetime(value, profile)
    entry: CacheEntry | None = None
    sends: list[CacheSend] = []
    for run in runs:
        number = send_number(run)
        preflights, actuals = run.preflights, run.actuals
        preflight = preflights[0] if preflights else None
        actual = actuals[0] if actuals else None
        credentials = run.scenario.request.credentials
        include = credentials == "include"
        first = preflight or actual
        if first is None:
            observed = "pending" if run.state == "running" else "lost"
            sends.append(CacheSend(number, run, credentials, None, None, observed, ()))
            continue
        at = first.at
        live = entry is not None and at < entry.expires and (entry.credentials or not include)
        points: list[Point] = []
        if preflight is not None:
            observed = "miss"
            points.append(_miss_point(entry, at, include, lifetime))
            if live and entry is not None and entry.expires - at > CACHE_MARGIN:
                points.append(
                    CACHE["miss-while-live"].point(number=entry.number, left=entry.expires - at)
                )
            entry = CacheEntry(number, preflight.at, lifetime, include)
        else:
            observed = "hit"
            points.append(
                _hit_point(entry, at, include, lifetime, forgotten=number > len(sends) + 1)
            )
        sends.append(
            CacheSend(number, run, credentials, preflight, actual, observed, tuple(points))
        )
    reveals = cache_reveals(
        runs,
        lambda run: run.exchanges[0].at if run.exchanges else run.created,
        [{"miss": "yes", "hit": "no"}.get(send.observed) for send in sends],
        profile,
    )
    sends = [replace(send, reveal=reveal) for send, reveal in zip(sends, reveals, strict=True)]
    remaining = 0.0 if entry is None else max(0.0, entry.expires - now)
    capped = value is not None and int(value) > lifetime
    return CacheSeries(
        url_id=runs[0].url_id,
        url=runs[0].target,
        sends=tuple(reversed(sends)),
        max_age=value,
        lifetime=lifetime,
        capped_at=profile.max_age_cap if capped else None,
        entry=entry,
        remaining=remaining,
        version=sum(r.version for r in runs) + len(runs),
        full=len(runs) >= MAX_SENDS_PER_URL,
    )


def _hit_point(
    entry: CacheEntry | None, at: float, include: bool, lifetime: int, *, forgotten: bool
) -> Point:
    """Why no preflight arrived: the live entry reused, or a finding."""
    if entry is None and forgotten:
        return CACHE["hit-forgotten"].point()
    if entry is not None and (entry.credentials or not include):
        age = at - entry.created
        if at < entry.expires:
            return CACHE["hit"].point(number=entry.number, age=age, lifetime=lifetime)
        if lifetime > 0 and at - entry.expires <= CACHE_MARGIN:
            return CACHE["hit-at-expiry"].point(number=entry.number, age=age, lifetime=lifetime)
    return CACHE["hit-nothing-live"].point()


def _miss_point(entry: CacheEntry | None, at: float, include: bool, lifetime: int) -> Point:
    """Why a preflight was sent, by the cache rules."""
    if lifetime == 0:
        return CACHE["miss-max-age-0"].point()
    if entry is None:
        return CACHE["miss-first"].point()
    if at >= entry.expires:
        return CACHE["miss-expired"].point(
            number=entry.number, late=at - entry.expires, lifetime=entry.lifetime
        )
    if include and not entry.credentials:
        return CACHE["miss-credentials"].point(number=entry.number)
    return CACHE["miss"].point()
