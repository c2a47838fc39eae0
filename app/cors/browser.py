"""What the browser does with a whole fetch(): build the request, decide on a preflight (or
find it in the CORS-preflight cache), run the preflight's checks and the CORS check, follow
redirects (HTTP-redirect fetch), and filter what JavaScript can read.

Each stage appends Steps (a sentence for the learner and its Fetch Standard link) and either
hands on to the next stage or ends the prediction with its outcome. Every request that reaches
a server is a Leg. A one-URL scenario (v1) runs exactly one pass of the loop.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.cors import headers as h
from app.cors.cache import PreflightCache, preflight_max_age
from app.cors.methods import (
    is_cors_safelisted_method,
    is_forbidden_method,
    is_method,
    normalize_method,
)
from app.cors.origins import CorsCheckResult, cors_check, serialize_origin
from app.cors.profiles import Profile, get_profile
from app.cors.scenario import (
    REDIRECT_LIMIT,
    REDIRECT_STATUSES,
    CacheResult,
    FetchSequence,
    Leg,
    LegKind,
    Outcome,
    Prediction,
    PreflightRequest,
    Scenario,
    SequencePrediction,
    ServerResponse,
    Step,
    StepResult,
)
from app.cors.syntax import is_byte_string
from app.cors.urls import URL, parse_url

SPEC = "https://fetch.spec.whatwg.org/"
SPEC_REQUEST_CONSTRUCTOR = SPEC + "#dom-request"
SPEC_HEADERS_APPEND = SPEC + "#concept-headers-append"
SPEC_MAIN_FETCH = SPEC + "#main-fetch"
SPEC_HTTP_FETCH = SPEC + "#http-fetch"
SPEC_PREFLIGHT = SPEC + "#cors-preflight-fetch-0"
SPEC_OK_STATUS = SPEC + "#ok-status"
SPEC_ALLOW_METHODS = SPEC + "#http-access-control-allow-methods"
SPEC_ALLOW_HEADERS = SPEC + "#http-access-control-allow-headers"
SPEC_NON_WILDCARD = SPEC + "#cors-non-wildcard-request-header-name"
SPEC_EXPOSE_HEADERS = SPEC + "#http-access-control-expose-headers"
SPEC_CORS_FILTERED = SPEC + "#concept-filtered-response-cors"
SPEC_OPAQUE = SPEC + "#concept-filtered-response-opaque"
SPEC_OPAQUE_REDIRECT = SPEC + "#concept-filtered-response-opaque-redirect"
SPEC_BASIC = SPEC + "#concept-filtered-response-basic"
SPEC_REDIRECT_STATUS = SPEC + "#redirect-status"
SPEC_REDIRECT_FETCH = SPEC + "#http-redirect-fetch"
SPEC_LOCATION_URL = SPEC + "#concept-response-location-url"
SPEC_REDIRECT_TAINT = SPEC + "#concept-request-tainted-origin"
SPEC_CORS_CHECK = SPEC + "#cors-check"
SPEC_CACHE = SPEC + "#cors-preflight-cache"
SPEC_ORIGIN_HEADER = SPEC + "#append-a-request-origin-header"

Header = h.Header
Tainting = str  # "basic", "cors" or "opaque": https://fetch.spec.whatwg.org/#concept-request-response-tainting


@dataclass
class _Site:
    """A URL the server answers at, as the scenario declares it, and its two answers."""

    declared: str
    preflight_response: ServerResponse
    response: ServerResponse


@dataclass
class _Run:
    """The fetch being predicted: steps so far, the request as it is now, and every leg sent."""

    scenario: Scenario
    profile: Profile
    cache: PreflightCache
    now: float = 0.0
    in_sequence: bool = False
    steps: list[Step] = field(default_factory=list)
    method: str = ""
    header_list: list[h.Header] = field(default_factory=list)
    preflight_reasons: tuple[str, ...] = ()
    preflight_request: PreflightRequest | None = None
    # The whole fetch (HTTP-redirect fetch): the request as it is now.
    url: URL | None = None
    url_list: list[URL] = field(default_factory=list)
    site: _Site | None = None
    tainting: Tainting = "basic"
    body: str | None = None
    redirects: int = 0
    legs: list[Leg] = field(default_factory=list)
    first_actual_sent: bool = False
    cache_result: CacheResult | None = None
    # The request as the page made it (after the Headers object), for engines that go back
    # to it on a redirect.
    original_method: str = ""
    original_headers: list[h.Header] = field(default_factory=list)
    # What a redirected request keeps of the previous request's headers (see _redirect).
    kept_headers: list[h.Header] = field(default_factory=list)
    # Whether an earlier URL of this fetch needed a preflight (a CORS request that was not
    # CORS-safelisted).
    preflight_needed_before: bool = False
    # Whether the body's headers were last removed by a 303 from a method other than POST.
    stripped_by_303: bool = False
    # The Origin header the last request carried, and whether the redirect to this one keeps
    # it (profile switch).
    origin_sent: str | None = None
    keeps_origin: bool = False
    # Whether a redirect of this fetch led to another origin.
    crossed: bool = False
    # A refusal that waits until the next URL's preflight was sent (profile switch).
    pending_refusal: str | None = None
    in_preflight: bool = False
    # Whether the last redirect changed the method (to GET), and whether it left the origin.
    method_changed: bool = False
    last_redirect_cross: bool = False
    # Whether the request, as it is now, is one that gets a preflight (cached or not).
    needed_preflight_here: bool = False

    @property
    def first(self) -> bool:
        """Still at the fetch's first URL (no redirect followed yet)."""
        return self.redirects == 0

    @property
    def page_origin(self) -> str:
        return serialize_origin(self.scenario.origin) or self.scenario.origin

    @property
    def tainted(self) -> bool:
        """Whether the request's redirect-taint is no longer "same-origin".

        https://fetch.spec.whatwg.org/#concept-request-tainted-origin
        """
        page = self.page_origin
        return any(
            later.origin != earlier.origin and page != earlier.origin
            for earlier, later in zip(self.url_list, self.url_list[1:], strict=False)
        )

    @property
    def request_origin(self) -> str:
        """Serializing a request origin: "null" once a redirect tainted it."""
        return "null" if self.tainted else self.scenario.origin

    @property
    def current_url(self) -> str:
        return self.url.serialize(exclude_fragment=True) if self.url is not None else ""

    @property
    def answers(self) -> _Site:
        if self.site is None:  # the constructor sets it before any stage runs
            raise RuntimeError("no site")
        return self.site

    def step(self, check: str, result: StepResult, detail: str, spec: str) -> None:
        if not self.first and self.site is not None:
            detail = f"at {self.site.declared}: {detail}"
        self.steps.append(Step(check, result, detail, spec))

    def leg(self, kind: LegKind, method: str, headers: Sequence[Header], body: bool) -> None:
        self.legs.append(Leg(self.answers.declared, kind, method, tuple(headers), body))
        if kind == "actual" and self.first:
            self.first_actual_sent = True

    def finish(
        self,
        outcome: Outcome,
        *,
        blocked_by: str | None = None,
        failed_parameter: str | None = None,
        readable: Sequence[str] = (),
    ) -> Prediction:
        redirected: bool | None = None
        response_url: str | None = None
        if outcome in ("allowed", "opaqueredirect"):
            redirected = outcome == "allowed" and len(self.url_list) > 1
            response_url = self.current_url
        elif outcome == "opaque":
            redirected, response_url = False, ""
        return Prediction(
            id=self.scenario.id,
            browser=self.profile.name,
            preflight=self.preflight_request is not None,
            preflight_reasons=self.preflight_reasons,
            preflight_request=self.preflight_request,
            actual_request_sent=self.first_actual_sent,
            outcome=outcome,
            blocked_by=blocked_by,
            readable_headers=tuple(readable),
            steps=tuple(self.steps),
            request_headers=tuple(self.original_headers or self.header_list),
            failed_parameter=failed_parameter,
            legs=tuple(self.legs),
            redirected=redirected,
            response_url=response_url,
            preflight_cache=self.cache_result,
            in_sequence=self.in_sequence,
        )

    def cors_check(
        self, received: Sequence[h.Header], origin: str | None = None
    ) -> CorsCheckResult:
        """The CORS check of a response, its failures named as this profile names them."""
        return cors_check(
            self.request_origin if origin is None else origin,
            self.scenario.request.credentials,
            received,
            names_each_error=self.profile.names_each_allow_origin_error,
            skips_empty_values=self.profile.skips_empty_values_when_combining,
        )

    def error(self, check: str, detail: str, spec: str) -> Prediction:
        """fetch() rejects with a TypeError (or a network error) before anything is sent."""
        self.step(check, "fail", detail, spec)
        return self.finish("error")

    def blocked(
        self,
        check: str,
        detail: str,
        spec: str,
        error: str | None,
        parameter: str | None,
    ) -> Prediction:
        """fetch() rejects with a TypeError after the server answered: a CORS failure (or
        another network error, with ``error`` None)."""
        self.step(check, "fail", detail, spec)
        self.clear_cache_after_failure(preflight=self.in_preflight)
        if not self.legs:
            return self.finish("error")
        return self.finish("blocked", blocked_by=error, failed_parameter=parameter)

    def clear_cache_after_failure(self, *, preflight: bool) -> None:
        """What a failed fetch does to the CORS-preflight cache (the profile says)."""
        mode = self.profile.cache_clear_on_failure
        if mode == "none" or self.tainting != "cors" or not self.needed_preflight_here:
            return
        if mode == "preflight" and not preflight:
            return
        if self.cache.clear(self.cache_origin, self.current_url):
            self.steps.append(
                Step(
                    "preflight-cache",
                    "info",
                    f"the failure clears the preflight cache for {self.current_url}",
                    SPEC + "#concept-cache-clear",
                )
            )

    @property
    def cache_origin(self) -> str:
        """The origin a cache entry is filed under."""
        if self.tainted and self.profile.tainted_preflight_origin == "page":
            return self.scenario.origin
        return self.request_origin


def predict(
    scenario: Scenario,
    browser: str | Profile = "chromium",
    *,
    cache: PreflightCache | None = None,
    now: float = 0.0,
    in_sequence: bool = False,
) -> Prediction:
    """Predict what ``browser`` (a profile or its name) does with ``scenario``: outcome,
    preflight, every leg, steps and reasons.

    ``cache`` is the page's CORS-preflight cache (a fresh one when None) and ``now`` the time
    in seconds on its clock; a sequence passes the same cache from fetch to fetch.
    """
    profile = browser if isinstance(browser, Profile) else get_profile(browser)
    run = _Run(
        scenario, profile, cache if cache is not None else PreflightCache(profile), now, in_sequence
    )
    problem = _construct_request(run)
    if problem is not None:
        return problem
    return _main_fetch(run)


def predict_sequence(
    sequence: FetchSequence, browser: str | Profile = "chromium"
) -> SequencePrediction:
    """Predict each fetch of a sequence from one page, sharing its CORS-preflight cache.

    A fetch starts ``at`` seconds after the first, or when the one before settles if that is
    later; the engine takes a fetch to settle at once.
    """
    profile = browser if isinstance(browser, Profile) else get_profile(browser)
    cache = PreflightCache(profile)
    now = 0.0
    predictions = []
    for item in sequence.items:
        now = max(now, item.at)
        predictions.append(predict(item.scenario, profile, cache=cache, now=now, in_sequence=True))
    return SequencePrediction(sequence.id, profile.name, tuple(predictions))


# --- main fetch: one pass per URL -----------------------------------------------------------


def _main_fetch(run: _Run) -> Prediction:
    """Main fetch, run again after each redirect until the fetch ends."""
    while True:
        url = run.url
        if url is None:  # the constructor parsed it
            raise RuntimeError("no URL")
        request = run.scenario.request
        if run.tainting == "basic" and url.origin == run.page_origin:
            _same_origin_request(run)
        elif request.mode == "no-cors":
            if request.redirect != "follow":
                return run.blocked(
                    "redirect-mode",
                    f"mode 'no-cors' only works with redirect: 'follow'; with redirect: "
                    f"'{request.redirect}' the fetch is a network error before anything is sent",
                    SPEC_MAIN_FETCH,
                    None,
                    None,
                )
            _no_cors_request(run)
        else:
            blocked = _cors_request(run)
            if blocked is not None:
                return blocked
        done = _response(run)
        if done is not None:
            return done


def _same_origin_request(run: _Run) -> None:
    if run.first:
        run.step(
            "same-origin",
            "info",
            f"{run.scenario.url} is on the page's own origin {run.scenario.origin}: no CORS at "
            "all, the response is readable in full",
            SPEC_BASIC,
        )
    else:
        run.step(
            "same-origin",
            "info",
            "still on the page's own origin: no CORS protocol for this request",
            SPEC_BASIC,
        )
    _send_actual(run)


def _no_cors_request(run: _Run) -> None:
    entering = run.tainting != "opaque"
    run.tainting = "opaque"
    if entering:
        run.step(
            "no-cors",
            "info",
            "mode 'no-cors': the request is sent without a preflight, and the page gets an "
            "opaque response: status 0, no headers, no body, whatever the server answers",
            SPEC_OPAQUE,
        )
    _send_actual(run)


def _origin_header(run: _Run) -> list[Header]:
    """Append a request Origin header: always for CORS, else only for methods other than
    GET and HEAD. https://fetch.spec.whatwg.org/#append-a-request-origin-header"""
    if run.tainting == "cors" or run.method not in ("GET", "HEAD"):
        origin = run.request_origin
        if (
            run.tainting == "opaque"
            and run.crossed
            and run.profile.no_cors_origin_null_after_redirect
        ):
            # Deviation (chromium): a no-cors request redirected to another origin says null.
            origin = "null"
        run.origin_sent = origin
        return [("Origin", origin)]
    if run.origin_sent is not None and run.keeps_origin:
        # Deviation (webkit): a redirect to the same origin keeps the Origin header.
        return [("Origin", run.origin_sent)]
    run.origin_sent = None
    return []


def _send_actual(run: _Run) -> None:
    body = run.body is not None and run.body != ""
    run.leg("actual", run.method, [*_origin_header(run), *run.header_list], body)


def _cors_request(run: _Run) -> Prediction | None:
    """A request in CORS mode: the preflight (or the cache), then the actual request."""
    run.tainting = "cors"
    if run.profile.combines_duplicate_request_headers:
        run.header_list = list(h.combine_duplicates(run.header_list))
    unsafe = h.cors_unsafe_request_header_names(run.header_list, run.profile)
    names = _decide_preflight(run, unsafe)
    if names is not None:
        run.needed_preflight_here = True
        skipped = _preflight_cache_lookup(run, names)
        if not skipped:
            if run.first:
                run.cache_result = "miss"
            blocked = _preflight(run, names, names)
            if blocked is not None:
                return blocked
    else:
        run.needed_preflight_here = False
    if run.pending_refusal is not None:
        return run.blocked("redirect", run.pending_refusal, SPEC_REDIRECT_FETCH, None, None)
    _send_actual(run)
    return None


# --- new Request(url, init) ---------------------------------------------------------------


def _construct_request(run: _Run) -> Prediction | None:
    """The Request constructor and its Headers: a TypeError (an error outcome), or None."""
    request = run.scenario.request
    scenario = run.scenario
    url = parse_url(scenario.url)
    run.site = _Site(scenario.url, scenario.preflight_response, scenario.response)
    if url is None:
        return run.error(
            "url",
            f"{scenario.url!r} does not parse as a URL, so fetch() throws a TypeError",
            SPEC_REQUEST_CONSTRUCTOR,
        )
    if url.includes_credentials:
        return run.error(
            "url",
            f"{scenario.url} includes a user name or password; fetch() refuses such a URL with "
            "a TypeError",
            SPEC_REQUEST_CONSTRUCTOR,
        )
    run.url = url
    run.url_list = [url]
    if not is_method(request.method):
        return run.error(
            "method",
            f"{request.method!r} is not a valid HTTP method (a method is a token), so fetch() "
            "throws a TypeError and sends nothing",
            SPEC_REQUEST_CONSTRUCTOR,
        )
    if is_forbidden_method(request.method):
        return run.error(
            "method",
            f"{request.method} is a forbidden method (CONNECT, TRACE and TRACK are), so fetch() "
            "throws a TypeError and sends nothing",
            SPEC_REQUEST_CONSTRUCTOR,
        )
    run.method = normalize_method(request.method)
    if run.method != request.method:
        run.step(
            "method",
            "info",
            f"{request.method} is normalized to {run.method} (only DELETE, GET, HEAD, OPTIONS, "
            "POST and PUT are uppercased)",
            "https://fetch.spec.whatwg.org/#concept-method-normalize",
        )
    elif run.method.upper() != run.method:
        run.step(
            "method",
            "info",
            f"{run.method} is sent as written: fetch() uppercases only DELETE, GET, HEAD, "
            "OPTIONS, POST and PUT, and servers compare methods case-sensitively",
            "https://fetch.spec.whatwg.org/#concept-method-normalize",
        )
    no_cors = request.mode == "no-cors"
    if no_cors and not is_cors_safelisted_method(run.method):
        return run.error(
            "method",
            f"mode 'no-cors' allows only GET, HEAD and POST; {run.method} makes fetch() throw a "
            "TypeError",
            SPEC_REQUEST_CONSTRUCTOR,
        )
    for name, raw_value in request.headers:
        problem = _append_header(run, name, raw_value, no_cors=no_cors)
        if problem is not None:
            return problem
    if request.body is not None and run.method in ("GET", "HEAD"):
        return run.error(
            "body",
            f"a {run.method} request cannot have a body, so fetch() throws a TypeError",
            SPEC_REQUEST_CONSTRUCTOR,
        )
    if request.body is not None and h.get("Content-Type", run.header_list) is None:
        run.header_list.append(("Content-Type", "text/plain;charset=UTF-8"))
        run.step(
            "body",
            "info",
            "a string body adds Content-Type: text/plain;charset=UTF-8, which is CORS-safelisted",
            "https://fetch.spec.whatwg.org/#concept-bodyinit-extract",
        )
    run.body = request.body
    run.original_method = run.method
    run.original_headers = list(run.header_list)
    run.kept_headers = list(run.header_list)
    if url.scheme not in ("http", "https"):
        return run.error(
            "url",
            f"{url.scheme}: is not an HTTP(S) scheme; fetch() rejects before sending anything",
            SPEC_MAIN_FETCH,
        )
    return None


def _append_header(run: _Run, name: str, raw_value: str, *, no_cors: bool) -> Prediction | None:
    """Append (name, value) to the request's Headers, as fetch() does."""
    if not is_byte_string(name) or not is_byte_string(raw_value):
        return run.error(
            "header",
            f"header {name!r} has a character above U+00FF; header names and values are byte "
            "strings, so fetch() throws a TypeError",
            "https://webidl.spec.whatwg.org/#es-ByteString",
        )
    value = h.normalize_header_value(raw_value)
    if not h.is_header_name(name):
        return run.error(
            "header",
            f"{name!r} is not a valid header name (a header name is a token: no spaces, colons "
            "or other delimiters), so fetch() throws a TypeError",
            SPEC_HEADERS_APPEND,
        )
    problem = h.header_value_problem(value)
    if problem is not None:
        return run.error(
            "header",
            f"the value of {name} {problem}, so fetch() throws a TypeError",
            SPEC_HEADERS_APPEND,
        )
    if value != raw_value:
        run.step(
            "header",
            "info",
            f"the value of {name} loses its leading and trailing whitespace",
            "https://fetch.spec.whatwg.org/#concept-header-value-normalize",
        )
    if no_cors:
        combined = h.get(name, run.header_list)
        temporary = value if combined is None else f"{combined}, {value}"
        verdict = h.is_no_cors_safelisted_request_header(name, temporary, run.profile)
        if not verdict:
            run.step(
                "header",
                "info",
                f"{name} is dropped in mode 'no-cors': {verdict.reason}",
                h.SPEC_NO_CORS_SAFELISTED,
            )
            return None
    else:
        forbidden = h.is_forbidden_request_header(name, value, run.profile)
        if forbidden:
            run.step(
                "header",
                "info",
                f"{forbidden.reason}; fetch() drops it silently",
                h.SPEC_FORBIDDEN_REQUEST_HEADER,
            )
            return None
    run.header_list.append((name, value))
    return None


# --- the preflight decision and the preflight ---------------------------------------------


def _decide_preflight(run: _Run, unsafe: h.UnsafeHeaders) -> tuple[str, ...] | None:
    """Whether the request needs a preflight; the header names it asks for, or None."""
    reasons: list[str] = []
    if not is_cors_safelisted_method(run.method):
        reasons.append(f"method {run.method} is not a CORS-safelisted method (GET, HEAD, POST)")
    reasons.extend(unsafe.reasons)
    names = unsafe.names
    asks = run.profile.preflight_headers_from_original
    if not run.first and (
        asks == "always" or (asks == "unless-method-changed" and not run.method_changed)
    ):
        # Deviation (firefox, webkit): the redirected request's preflight asks for (and is
        # decided on) the headers the page set, whatever a redirect removed.
        original = run.original_headers
        if run.profile.combines_duplicate_request_headers:
            original = list(h.combine_duplicates(original))
        names = h.cors_unsafe_request_header_names(original, run.profile).names
        if run.last_redirect_cross and run.profile.preflight_forgets_removed_authorization:
            # Deviation (firefox): once a redirect removed Authorization, it is not asked for.
            names = tuple(n for n in names if n not in h.NON_WILDCARD_NAMES)
        extra = sorted(set(names) - set(unsafe.names))
        if extra:
            reasons.append(
                f"{run.profile.label} asks for the headers the page set, and "
                f"{', '.join(extra)} is not CORS-safelisted (a redirect removed it from the "
                "request)"
            )
    if not reasons and not run.first and run.profile.preflights_for_page_headers:
        # Deviation (firefox): a CORS-unsafe header the page set (Authorization too) calls for
        # a preflight after a redirect, even once a redirect removed it from the request.
        original = run.original_headers
        if run.profile.combines_duplicate_request_headers:
            original = list(h.combine_duplicates(original))
        page_names = h.cors_unsafe_request_header_names(original, run.profile).names
        if page_names:
            reasons.append(
                f"{run.profile.label} preflights a redirected request whose page set "
                f"{', '.join(page_names)}, even though a redirect removed it"
            )
    forced = (
        not reasons
        and not run.first
        and run.preflight_needed_before
        and run.profile.redirect_preflight_forced
    )
    if run.first:
        run.preflight_reasons = tuple(reasons)
    run.preflight_needed_before = run.preflight_needed_before or bool(reasons)
    if not reasons and not forced:
        if run.first:
            detail = (
                f"no preflight: {run.method} is a CORS-safelisted method and every header is "
                "CORS-safelisted, so the browser sends the request straight away"
            )
        else:
            detail = (
                f"no preflight: the redirected request ({run.method}, its headers now) needs "
                "none, so the browser sends it straight away"
            )
        run.step("preflight", "pass", detail, SPEC_HTTP_FETCH)
        return None
    if forced:
        detail = (
            f"{run.profile.label} sends a new preflight after a redirect whenever an earlier "
            "request of the fetch needed one, although this request would not"
        )
    elif run.first:
        detail = "the browser first sends an OPTIONS preflight because " + "; ".join(reasons)
    else:
        detail = "the redirected request needs its own preflight here because " + "; ".join(reasons)
    run.step("preflight", "info", detail, SPEC_HTTP_FETCH)
    return names


def _preflight_cache_lookup(run: _Run, names: Sequence[str]) -> bool:
    """Whether the CORS-preflight cache covers the request, so that no preflight is sent."""
    if run.tainted and not run.profile.preflight_cache_for_tainted:
        return False
    include = run.scenario.request.credentials == "include"
    found = run.cache.lookup(run.cache_origin, run.current_url, include, run.method, names, run.now)
    if found.hit:
        if run.first:
            run.cache_result = "hit"
        run.step("preflight-cache", "pass", "no preflight: " + found.reason, SPEC_CACHE)
        return True
    if run.in_sequence or not run.first:
        run.step("preflight-cache", "info", found.reason + ", so a preflight is sent", SPEC_CACHE)
    return False


def _preflight(run: _Run, names: Sequence[str], check_names: Sequence[str]) -> Prediction | None:
    """Send the preflight and run its checks; a blocked Prediction, or None when it passed."""
    run.in_preflight = True
    try:
        blocked = _preflight_checks(run, names, check_names)
    finally:
        run.in_preflight = False
    return blocked


def _preflight_checks(
    run: _Run, asked: Sequence[str], unsafe_names: Sequence[str]
) -> Prediction | None:
    answer = run.answers.preflight_response
    received = h.received_header_list(answer.headers)
    include = run.scenario.request.credentials == "include"
    origin = run.request_origin
    if run.tainted and run.profile.tainted_preflight_origin == "page":
        # Deviation (firefox): the preflight carries the page's origin, not null.
        origin = run.scenario.origin
    headers: list[h.Header] = [
        ("Accept", "*/*"),
        ("Origin", origin),
        ("Access-Control-Request-Method", run.method),
    ]
    if asked:
        headers.append(("Access-Control-Request-Headers", ",".join(asked)))
    if run.first:
        run.preflight_request = PreflightRequest("OPTIONS", tuple(headers))
    run.leg("preflight", "OPTIONS", headers, False)

    redirected = answer.status in REDIRECT_STATUSES and h.get("Location", received) is not None
    if run.profile.preflight_redirect_named_when_following_only and (
        run.scenario.request.redirect != "follow"
    ):
        # Deviation (firefox): with redirect: 'manual' or 'error' the preflight's 3xx is just
        # not an ok status.
        redirected = False
    redirect_check = run.profile.preflight_redirect_check if redirected else None
    if redirect_check == "first":
        return _preflight_redirected(run, answer.status)
    url = run.url
    if (
        run.profile.skips_preflight_cors_check_on_page_origin
        and url is not None
        and url.origin == run.page_origin
    ):
        run.step(
            "preflight-cors-check",
            "info",
            f"preflight: {run.profile.label} runs no CORS check on a preflight to the page's own "
            "origin",
            SPEC_PREFLIGHT,
        )
    else:
        check = run.cors_check(received, origin)
        if not check.ok:
            return run.blocked(
                "preflight-cors-check",
                "preflight: " + check.reason,
                SPEC_PREFLIGHT,
                None if check.error is None else "Preflight" + check.error,
                check.failed_parameter,
            )
        run.step("preflight-cors-check", "pass", "preflight: " + check.reason, SPEC_PREFLIGHT)
    if redirect_check == "after-cors-check":
        return _preflight_redirected(run, answer.status)

    if not 200 <= answer.status <= 299:
        return run.blocked(
            "preflight-status",
            f"the preflight was answered {answer.status}; it needs an ok status (200-299)",
            SPEC_OK_STATUS,
            "PreflightInvalidStatus",
            "",
        )
    run.step(
        "preflight-status", "pass", f"the preflight status {answer.status} is ok", SPEC_OK_STATUS
    )

    # "If either methods or headerNames is failure, return a network error."
    methods = _allow_list(run, "Access-Control-Allow-Methods", received)
    if isinstance(methods, Prediction):
        return methods
    early = not run.profile.parses_allow_headers_after_method_check
    names = _allow_list(run, "Access-Control-Allow-Headers", received) if early else None
    if isinstance(names, Prediction):
        return names
    cached_early = names is not None and run.profile.caches_before_method_check
    if cached_early and names is not None:
        # Deviation (webkit): the answer is cached before the method and headers are checked.
        _cache_store(run, received, methods, names)
    blocked = _check_allowed_method(run, methods, include)
    if blocked is not None:
        return blocked
    if names is None:
        # Deviation (firefox): Allow-Headers is parsed only once the method passed.
        names = _allow_list(run, "Access-Control-Allow-Headers", received)
        if isinstance(names, Prediction):
            return names
    blocked = _check_allowed_headers(run, names, unsafe_names, include)
    if blocked is not None:
        return blocked
    if not cached_early:
        _cache_store(run, received, methods, names)
    return None


def _cache_store(
    run: _Run, received: Sequence[h.Header], methods: Sequence[str], names: Sequence[str]
) -> None:
    """A successful preflight's answer goes into the CORS-preflight cache."""
    if run.tainted and not run.profile.preflight_cache_for_tainted:
        if run.in_sequence or not run.first:
            run.step(
                "preflight-cache",
                "info",
                f"{run.profile.label} does not cache a preflight whose origin a redirect made null",
                SPEC_CACHE,
            )
        return
    max_age = preflight_max_age(received, run.profile)
    include = run.scenario.request.credentials == "include"
    run.cache.store(
        run.cache_origin, run.current_url, include, methods, names, max_age.seconds, run.now
    )
    if run.in_sequence or not run.first:
        run.step("preflight-cache", "info", max_age.reason, SPEC + "#http-access-control-max-age")


def _allow_list(run: _Run, name: str, received: Sequence[h.Header]) -> Sequence[str] | Prediction:
    """The preflight's Allow-Methods or Allow-Headers list, or the blocked prediction."""
    values = h.extract_header_list_values(name, received)
    if values.failure is None:
        return values.values or ()
    methods = name == "Access-Control-Allow-Methods"
    return run.blocked(
        "preflight-parse",
        values.failure,
        SPEC_ALLOW_METHODS if methods else SPEC_ALLOW_HEADERS,
        "InvalidAllowMethodsPreflightResponse"
        if methods
        else "InvalidAllowHeadersPreflightResponse",
        "",
    )


def _preflight_redirected(run: _Run, status: int) -> Prediction:
    # Deviation (chromium, firefox): a redirect gets its own name (profile evidence).
    return run.blocked(
        "preflight-status",
        f"the preflight was answered with a {status} redirect; a preflight is never redirected",
        SPEC_PREFLIGHT,
        "PreflightDisallowedRedirect",
        "",
    )


def _check_allowed_method(run: _Run, methods: Sequence[str], include: bool) -> Prediction | None:
    method = run.method
    if method in methods:
        run.step(
            "allow-methods",
            "pass",
            f"Access-Control-Allow-Methods lists {method}",
            SPEC_ALLOW_METHODS,
        )
        return None
    if is_cors_safelisted_method(method):
        run.step(
            "allow-methods",
            "pass",
            f"{method} is CORS-safelisted, so it needs no Access-Control-Allow-Methods",
            SPEC_ALLOW_METHODS,
        )
        return None
    if "*" in methods and not include:
        run.step(
            "allow-methods",
            "pass",
            f"Access-Control-Allow-Methods: * allows {method} (no credentials)",
            SPEC_ALLOW_METHODS,
        )
        return None
    listed = ", ".join(methods) if methods else "nothing"
    if "*" in methods:
        why = "* is only a literal method name when credentials are included"
    elif any(m.upper() == method.upper() for m in methods):
        why = "methods are compared case-sensitively"
    else:
        why = f"{method} is not in the list"
    return run.blocked(
        "allow-methods",
        f"Access-Control-Allow-Methods lists {listed}, which does not allow {method}: {why}",
        SPEC_ALLOW_METHODS,
        "MethodDisallowedByPreflightResponse",
        method,
    )


def _check_allowed_headers(
    run: _Run, allowed: Sequence[str], unsafe_names: Sequence[str], include: bool
) -> Prediction | None:
    allowed_lower = {a.lower() for a in allowed}
    wildcard = "*" in allowed and not include
    if (
        not run.profile.wildcard_allows_authorization
        and "authorization" in {n.lower() for n, _ in run.header_list}
        and "authorization" not in allowed_lower
    ):
        return run.blocked(
            "allow-headers",
            "the request carries Authorization, which Access-Control-Allow-Headers must name "
            "explicitly: the * wildcard never covers it",
            SPEC_NON_WILDCARD,
            "HeaderDisallowedByPreflightResponse",
            "authorization",
        )
    for name in unsafe_names:
        if name in allowed_lower or wildcard:
            continue
        why = (
            "* is only a literal header name when credentials are included"
            if "*" in allowed
            else f"{name} is not in the list"
        )
        listed = ", ".join(allowed) if allowed else "nothing"
        return run.blocked(
            "allow-headers",
            f"Access-Control-Allow-Headers lists {listed}, which does not allow the request "
            f"header {name}: {why}",
            SPEC_ALLOW_HEADERS,
            "HeaderDisallowedByPreflightResponse",
            name,
        )
    if unsafe_names:
        how = "* (no credentials)" if wildcard else "them by name"
        run.step(
            "allow-headers",
            "pass",
            f"Access-Control-Allow-Headers allows {', '.join(unsafe_names)} with {how}",
            SPEC_ALLOW_HEADERS,
        )
    return None


# --- the response: the CORS check, redirects, what JavaScript reads ------------------------


@dataclass(frozen=True)
class _Location:
    """What a redirect's ``Location`` says: whether there is one (for following it, and for
    redirect: "error"), the URL it parses to, why it cannot be followed, and a failure some
    browsers raise whatever the redirect mode."""

    present: bool = False
    present_for_error: bool = False
    url: URL | None = None
    failure: str | None = None
    fatal: str | None = None


_AUTHORITY_PORT = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^/?#]*:(\d+)(?:[/?#]|$)")


def _port_too_large(value: str) -> bool:
    found = _AUTHORITY_PORT.match(value.strip())
    return found is not None and int(found.group(1)) > 65535


def _location(run: _Run, answer: ServerResponse, received: Sequence[Header]) -> _Location:
    """The response's location URL (https://fetch.spec.whatwg.org/#concept-response-location-url)
    and how this profile reads a Location that is empty, repeated or does not parse."""
    profile = run.profile
    if answer.status not in REDIRECT_STATUSES:
        return _Location()
    values = [v for n, v in received if n.lower() == "location"]
    if not values:
        return _Location()
    if all(v == "" for v in values) and profile.empty_location != "url":
        if profile.empty_location == "absent":
            # Deviation (chromium): an empty Location is no Location at all.
            return _Location()
        # Deviation (webkit): an empty Location is a network error when followed.
        return _Location(present=True, failure="the Location header is empty")
    if len(values) > 1:
        lines = profile.location_lines
        if lines == "conflict-fails" and len(set(values)) > 1:
            # Deviation (chromium, firefox): differing Location lines fail in every mode.
            why = "the answer has two different Location headers"
            return _Location(True, True, failure=why, fatal=why)
        if lines != "conflict-fails":
            # "extracting header list values": Location allows a single value.
            return _Location(True, True, failure="the answer has more than one Location header")
    value = values[0]
    parsed = parse_url(value, run.url)
    fatal = None
    if profile.invalid_port_location_fatal and _port_too_large(value):
        # Deviation (chromium): a Location with an impossible port fails in every mode.
        fatal = f"the Location {value.strip()!r} has a port above 65535"
    if parsed is None:
        return _Location(
            True, True, failure=f"the Location {value!r} does not parse as a URL", fatal=fatal
        )
    if parsed.fragment is None and run.url is not None:
        parsed = parsed.with_fragment(run.url.fragment)
    if not parsed.is_http and parsed.scheme != "data" and profile.non_http_location_fatal:
        # Deviation (webkit): a Location to a scheme other than http(s) or data fails in
        # every redirect mode.
        fatal = f"the Location leads to a {parsed.scheme}: URL"
    return _Location(True, True, url=parsed, fatal=fatal)


def _response(run: _Run) -> Prediction | None:
    """The answer to the actual request: the CORS check, then a redirect is followed (None:
    main fetch runs again) or the fetch ends."""
    answer = run.answers.response
    received = h.received_header_list(answer.headers)
    request = run.scenario.request
    location = _location(run, answer, received)
    is_redirect = answer.status in REDIRECT_STATUSES
    if is_redirect and request.redirect == "follow":
        is_redirect = location.present
    elif is_redirect and request.redirect == "error" and run.profile.redirect_error_needs_location:
        # Deviation (chromium, webkit): without a Location, a 3xx is a final answer.
        is_redirect = location.present_for_error
    target: _Site | None = None
    url = location.url
    if is_redirect and request.redirect == "follow" and url is not None and url.is_http:
        found = run.scenario.answers_at(url.serialize()) if location.failure is None else None
        if found is not None:
            target = _Site(*found)
        elif location.failure is None:
            # A scenario built without this hop: the prediction stops at this answer (v1).
            run.step(
                "redirect",
                "info",
                f"the response is a {answer.status} redirect; the browser would follow it, "
                "which this prediction does not model",
                SPEC_REDIRECT_STATUS,
            )
            is_redirect = False
    if run.tainting == "cors":
        check = run.cors_check(received)
        if not check.ok:
            also = " (a redirect is checked like any answer)" if is_redirect else ""
            return run.blocked(
                "cors-check",
                check.reason
                + "; the server did answer, but JavaScript only sees a TypeError"
                + also,
                SPEC_CORS_CHECK,
                check.error,
                check.failed_parameter,
            )
        run.step("cors-check", "pass", check.reason, SPEC_CORS_CHECK)
    if is_redirect:
        if location.fatal is not None:
            return run.blocked(
                "redirect",
                f"{location.fatal}; {run.profile.label} fails the fetch whatever the redirect "
                "mode (a network error, no CORS error named)",
                SPEC_LOCATION_URL,
                None,
                None,
            )
        if (
            request.redirect == "error"
            and run.profile.credentials_checked_before_redirect_error
            and location.url is not None
            and location.url.is_http
        ):
            # Deviation (chromium): a Location with user info is refused first.
            refusal = _credentials_refusal(run, location.url)
            if refusal is not None:
                return refusal
        if request.redirect == "error":
            return run.blocked(
                "redirect-mode",
                f"the answer is a {answer.status} redirect and the fetch was made with "
                "redirect: 'error', so it is a network error (no CORS error is reported)",
                SPEC_HTTP_FETCH,
                None,
                None,
            )
        if request.redirect == "manual":
            run.step(
                "redirect-mode",
                "info",
                f"the answer is a {answer.status} redirect and the fetch was made with "
                "redirect: 'manual': fetch() resolves with an opaque-redirect response "
                "(type 'opaqueredirect', status 0, nothing readable) and follows nothing",
                SPEC_OPAQUE_REDIRECT,
            )
            return run.finish("opaqueredirect")
        return _redirect(run, answer.status, location, target)
    return _final(run, answer, received)


def _final(run: _Run, answer: ServerResponse, received: Sequence[Header]) -> Prediction:
    """The last answer as JavaScript gets it: basic, CORS-filtered or opaque."""
    if run.tainting == "basic":
        return run.finish("allowed", readable=_readable(answer.headers, exposed=None))
    if run.tainting == "opaque":
        if run.first:
            return run.finish("opaque")
        run.step(
            "no-cors",
            "info",
            "the page gets an opaque response: status 0, no headers, no body, and an empty "
            "response.url",
            SPEC_OPAQUE,
        )
        return run.finish("opaque")
    credentials = run.scenario.request.credentials
    exposed = h.extract_header_list_values("Access-Control-Expose-Headers", received)
    exposed_names: tuple[str, ...] = exposed.values or ()
    wildcard = "*" in exposed_names
    if exposed.failure is not None and run.profile.expose_wildcard_despite_parse_failure:
        # Deviation (firefox): a `*` item counts even when the list does not parse.
        raw = h.get("Access-Control-Expose-Headers", received) or ""
        wildcard = "*" in (item.strip(" \t") for item in raw.split(","))
    if credentials != "include" and wildcard:
        names = tuple(n for n, _ in received)
        detail = "Access-Control-Expose-Headers: * exposes every response header (no credentials)"
    else:
        names = exposed_names
        if "*" in exposed_names:
            detail = (
                "Access-Control-Expose-Headers: * is only a literal name with credentials, "
                "so only the CORS-safelisted response headers and named ones are readable"
            )
        elif exposed.failure is not None:
            detail = exposed.failure + "; only CORS-safelisted response headers are readable"
        elif exposed_names:
            detail = "readable: the CORS-safelisted response headers plus " + ", ".join(
                exposed_names
            )
        else:
            detail = (
                "readable: only the CORS-safelisted response headers (Cache-Control, "
                "Content-Language, Content-Length, Content-Type, Expires, Last-Modified, Pragma)"
            )
    run.step("expose-headers", "info", detail, SPEC_CORS_FILTERED)
    return run.finish("allowed", readable=_readable(answer.headers, exposed=names))


def _redirect(run: _Run, status: int, found: _Location, target: _Site | None) -> Prediction | None:
    """HTTP-redirect fetch: refuse the redirect (a Prediction) or turn the request into the
    next one (None). https://fetch.spec.whatwg.org/#http-redirect-fetch"""
    current = run.url
    if current is None:
        raise RuntimeError("no URL")
    location = found.url
    if found.failure is not None or location is None:
        return run.blocked(
            "redirect",
            f"{found.failure or 'the Location does not parse'}, so following the {status} "
            "answer is a network error",
            SPEC_LOCATION_URL,
            None,
            None,
        )
    if not location.is_http:
        scheme_error = None
        if (
            run.tainting == "cors"
            and location.scheme != "data"
            and run.profile.names_cors_disabled_scheme
        ):
            # Deviation (chromium): reported as a CORS error.
            scheme_error = "CorsDisabledScheme"
        return run.blocked(
            "redirect",
            f"the {status} answer leads to a {location.scheme}: URL; a fetch follows only http "
            "and https URLs, so it is a network error",
            SPEC_REDIRECT_FETCH,
            scheme_error,
            "" if scheme_error else None,
        )
    if run.redirects == REDIRECT_LIMIT:
        return run.blocked(
            "redirect",
            f"this would be redirect number {REDIRECT_LIMIT + 1}; a fetch follows at most "
            f"{REDIRECT_LIMIT}, so it is a network error",
            SPEC_REDIRECT_FETCH,
            None,
            None,
        )
    if target is None:  # _response only follows a declared URL
        raise RuntimeError("no hop")
    refusal = _credentials_refusal(run, location)
    if refusal is not None:
        return refusal
    run.redirects += 1
    changes: list[str] = []
    # "If one of the following is true ... set request's method to `GET` and body to null,
    # and delete each request-body-header name."
    to_get = (status in (301, 302) and run.method == "POST") or (
        status == 303 and run.method not in ("GET", "HEAD")
    )
    strip = to_get
    cross = location.origin != current.origin
    if cross and run.method == "DELETE" and run.profile.cross_origin_delete_becomes_get:
        # Deviation (webkit): DELETE becomes GET (without its body, but with its headers) when
        # the redirect leaves the origin.
        to_get = True
        changes.append(f"{run.profile.label} turns DELETE into GET on a redirect to another origin")
    restore = run.profile.redirect_headers_from_original
    next_is_cors = run.scenario.request.mode == "cors" and (
        run.tainting == "cors" or location.origin != run.page_origin
    )
    # The headers the request keeps from redirect to redirect (the spec: the previous ones).
    kept = run.kept_headers
    if restore == "always" and (next_is_cors or status in (307, 308)):
        # Deviation (webkit): a CORS redirect (and any 307 or 308) starts again from the
        # headers the page set.
        kept = list(run.original_headers)
    # Deviation (firefox): on a 307 or 308 (and on a 301 or 302 after a 303 turned a method
    # other than POST into GET) the body's headers come back for this one request.
    transient = (restore == "307-308" and status in (307, 308)) or (
        status in (301, 302) and run.stripped_by_303 and run.profile.restores_body_headers_after_303
    )
    run.method_changed = to_get and run.method != "GET"
    run.last_redirect_cross = cross
    run.keeps_origin = not cross and run.profile.keeps_origin_header_on_redirect
    run.crossed = run.crossed or cross
    if strip:
        run.stripped_by_303 = status == 303 and run.method != "POST"
    if to_get:
        if run.method != "GET":
            changes.append(f"{run.method} becomes GET")
        run.method = "GET"
        if run.body is not None:
            changes.append("the body is dropped")
        run.body = None
    if strip:
        dropped = [n for n, _ in kept if n.lower() in h.REQUEST_BODY_HEADER_NAMES]
        kept = [(n, v) for n, v in kept if n.lower() not in h.REQUEST_BODY_HEADER_NAMES]
        if dropped:
            changes.append("the body's headers go with it (" + ", ".join(dropped) + ")")
    if cross and run.profile.strips_authorization_on_cross_origin_redirect:
        if any(n.lower() in h.NON_WILDCARD_NAMES for n, _ in kept):
            changes.append("Authorization is removed (the redirect leaves the origin)")
        kept = [(n, v) for n, v in kept if n.lower() not in h.NON_WILDCARD_NAMES]
    before = {n.lower() for n, _ in run.header_list}
    run.kept_headers = kept
    run.header_list = list(kept)
    if transient and not strip:
        back = [
            (n, v)
            for n, v in run.original_headers
            if n.lower() in h.REQUEST_BODY_HEADER_NAMES and (n, v) not in kept
        ]
        run.header_list = [
            (n, v) for n, v in run.original_headers if (n, v) in kept or (n, v) in back
        ]
    restored = sorted({n.lower() for n, _ in run.header_list} - before)
    if restored:
        changes.append(
            f"{run.profile.label} puts back headers the page set ({', '.join(restored)})"
        )
    started_home = run.url_list[0].origin == run.page_origin
    if (
        started_home
        and run.tainting == "cors"
        and request_credentials(run) == "same-origin"
        and run.profile.refuses_redirects_after_leaving_page
    ):
        # Deviation (webkit): refused once the next URL's preflight (if any) was sent.
        run.pending_refusal = (
            "the fetch started on the page's own origin with credentials: 'same-origin' and has "
            f"already gone to another origin; {run.profile.label} follows no further redirect"
        )
    was_tainted = run.tainted
    run.url_list.append(location)
    run.url = location
    if run.tainted and not was_tainted:
        changes.append(
            "the request has gone from one other origin to another, so its Origin is now null"
        )
    run.step(
        "redirect",
        "info",
        f"the {status} answer redirects to {target.declared}"
        + (": " + "; ".join(changes) if changes else ""),
        SPEC_REDIRECT_FETCH,
    )
    run.site = target
    return None


def request_credentials(run: _Run) -> str:
    return run.scenario.request.credentials


def _credentials_refusal(run: _Run, location: URL) -> Prediction | None:
    """A Location with user info: refused for a CORS request (or kept for later)."""
    if not location.includes_credentials:
        return None
    request = run.scenario.request
    # "If request's mode is "cors", locationURL includes credentials, and request's origin is
    # not same origin with locationURL's origin" / "If request's response tainting is "cors"
    # and locationURL includes credentials, then return a network error."
    spec_refuses = (
        request.mode == "cors" and location.origin != run.page_origin
    ) or run.tainting == "cors"
    detail = (
        f"the redirect leads to {location.serialize()}, a URL with a user name or password, "
        "which a CORS request may not follow"
    )
    if spec_refuses:
        if run.tainting == "basic" and run.profile.credentials_in_location_checked_after_preflight:
            # Deviation (webkit): refused once that URL's preflight was sent (profile evidence).
            run.pending_refusal = detail
            return None
        return run.blocked(
            "redirect", detail, SPEC_REDIRECT_FETCH, "RedirectContainsCredentials", ""
        )
    if run.profile.refuses_credentials_in_location:
        # Deviation (chromium): no redirect to a URL with user info, in any mode.
        return run.blocked(
            "redirect",
            f"the redirect leads to {location.serialize()}, a URL with a user name or password; "
            f"{run.profile.label} follows no such redirect, whatever the mode",
            SPEC_REDIRECT_FETCH,
            None,
            None,
        )
    return None


def _readable(headers: Sequence[h.Header], exposed: Sequence[str] | None) -> list[str]:
    """Byte-lowercased names of the declared response headers JavaScript can read."""
    names = {n.lower() for n, _ in headers}
    if exposed is None:  # a basic (same-origin) response hides only Set-Cookie
        return sorted(n for n in names if n not in h.FORBIDDEN_RESPONSE_HEADER_NAMES)
    return sorted(n for n in names if h.is_cors_safelisted_response_header_name(n, exposed))
