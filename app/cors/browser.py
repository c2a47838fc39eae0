"""What the browser does with a fetch(): build the request, decide on a preflight, run the
preflight's checks and the CORS check, and filter what JavaScript can read.

Each stage appends Steps (a sentence for the learner and its Fetch Standard link) and either
hands on to the next stage or ends the prediction with its outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from app.cors import headers as h
from app.cors.methods import (
    is_cors_safelisted_method,
    is_forbidden_method,
    is_method,
    normalize_method,
)
from app.cors.origins import CorsCheckResult, cors_check, same_origin
from app.cors.profiles import Profile, get_profile
from app.cors.scenario import Outcome, Prediction, PreflightRequest, Scenario, Step, StepResult
from app.cors.syntax import is_byte_string

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
SPEC_BASIC = SPEC + "#concept-filtered-response-basic"
SPEC_REDIRECT_STATUS = SPEC + "#redirect-status"

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass
class _Run:
    """The prediction being built: steps so far and what the browser sent."""

    scenario: Scenario
    profile: Profile
    steps: list[Step] = field(default_factory=list)
    method: str = ""
    header_list: list[h.Header] = field(default_factory=list)
    preflight_reasons: tuple[str, ...] = ()
    preflight_request: PreflightRequest | None = None

    def step(self, check: str, result: StepResult, detail: str, spec: str) -> None:
        self.steps.append(Step(check, result, detail, spec))

    def finish(
        self,
        outcome: Outcome,
        *,
        actual_request_sent: bool,
        blocked_by: str | None = None,
        failed_parameter: str | None = None,
        readable: Sequence[str] = (),
    ) -> Prediction:
        return Prediction(
            id=self.scenario.id,
            browser=self.profile.name,
            preflight=self.preflight_request is not None,
            preflight_reasons=self.preflight_reasons,
            preflight_request=self.preflight_request,
            actual_request_sent=actual_request_sent,
            outcome=outcome,
            blocked_by=blocked_by,
            readable_headers=tuple(readable),
            steps=tuple(self.steps),
            request_headers=tuple(self.header_list),
            failed_parameter=failed_parameter,
        )

    def cors_check(self, received: Sequence[h.Header]) -> CorsCheckResult:
        """The CORS check of a response, its failures named as this profile names them."""
        return cors_check(
            self.scenario.origin,
            self.scenario.request.credentials,
            received,
            names_each_error=self.profile.names_each_allow_origin_error,
            skips_empty_values=self.profile.skips_empty_values_when_combining,
        )

    def error(self, check: str, detail: str, spec: str) -> Prediction:
        """fetch() rejects with a TypeError before anything is sent."""
        self.step(check, "fail", detail, spec)
        return self.finish("error", actual_request_sent=False)

    def blocked(
        self,
        check: str,
        detail: str,
        spec: str,
        error: str | None,
        parameter: str | None,
        *,
        actual_request_sent: bool,
    ) -> Prediction:
        """fetch() rejects with a TypeError after the server answered: a CORS failure."""
        self.step(check, "fail", detail, spec)
        return self.finish(
            "blocked",
            actual_request_sent=actual_request_sent,
            blocked_by=error,
            failed_parameter=parameter,
        )


def predict(scenario: Scenario, browser: str | Profile = "chromium") -> Prediction:
    """Predict what ``browser`` (a profile or its name) does with ``scenario``: outcome,
    preflight, steps and reasons."""
    run = _Run(scenario, browser if isinstance(browser, Profile) else get_profile(browser))
    problem = _construct_request(run)
    if problem is not None:
        return problem
    if same_origin(scenario.origin, scenario.url):
        run.step(
            "same-origin",
            "info",
            f"{scenario.url} is on the page's own origin {scenario.origin}: no CORS at all, "
            "the response is readable in full",
            SPEC_BASIC,
        )
        return run.finish(
            "allowed",
            actual_request_sent=True,
            readable=_readable(scenario.response.headers, exposed=None),
        )
    if scenario.request.mode == "no-cors":
        run.step(
            "no-cors",
            "info",
            "mode 'no-cors': the request is sent without a preflight, and the page gets an "
            "opaque response: status 0, no headers, no body, whatever the server answers",
            SPEC_OPAQUE,
        )
        return run.finish("opaque", actual_request_sent=True)
    if run.profile.combines_duplicate_request_headers:
        run.header_list = list(h.combine_duplicates(run.header_list))
    unsafe = h.cors_unsafe_request_header_names(run.header_list, run.profile)
    if not _decide_preflight(run, unsafe):
        return _actual_request(run)
    blocked = _preflight(run, unsafe.names)
    return blocked if blocked is not None else _actual_request(run)


# --- new Request(url, init) ---------------------------------------------------------------


def _construct_request(run: _Run) -> Prediction | None:
    """The Request constructor and its Headers: a TypeError (an error outcome), or None."""
    request = run.scenario.request
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


def _decide_preflight(run: _Run, unsafe: h.UnsafeHeaders) -> bool:
    reasons: list[str] = []
    if not is_cors_safelisted_method(run.method):
        reasons.append(f"method {run.method} is not a CORS-safelisted method (GET, HEAD, POST)")
    reasons.extend(unsafe.reasons)
    run.preflight_reasons = tuple(reasons)
    if not reasons:
        run.step(
            "preflight",
            "pass",
            f"no preflight: {run.method} is a CORS-safelisted method and every header is "
            "CORS-safelisted, so the browser sends the request straight away",
            SPEC_HTTP_FETCH,
        )
        return False
    headers: list[h.Header] = [
        ("Accept", "*/*"),
        ("Origin", run.scenario.origin),
        ("Access-Control-Request-Method", run.method),
    ]
    if unsafe.names:
        headers.append(("Access-Control-Request-Headers", ",".join(unsafe.names)))
    run.preflight_request = PreflightRequest("OPTIONS", tuple(headers))
    run.step(
        "preflight",
        "info",
        "the browser first sends an OPTIONS preflight because " + "; ".join(reasons),
        SPEC_HTTP_FETCH,
    )
    return True


def _preflight(run: _Run, unsafe_names: Sequence[str]) -> Prediction | None:
    """Run the preflight's checks; a blocked Prediction, or None when the preflight passed."""
    answer = run.scenario.preflight_response
    received = h.received_header_list(answer.headers)
    include = run.scenario.request.credentials == "include"

    redirected = answer.status in REDIRECT_STATUSES and h.get("Location", received) is not None
    redirect_check = run.profile.preflight_redirect_check if redirected else None
    if redirect_check == "first":
        return _preflight_redirected(run, answer.status)
    check = run.cors_check(received)
    if not check.ok:
        return run.blocked(
            "preflight-cors-check",
            "preflight: " + check.reason,
            SPEC_PREFLIGHT,
            None if check.error is None else "Preflight" + check.error,
            check.failed_parameter,
            actual_request_sent=False,
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
            actual_request_sent=False,
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
    blocked = _check_allowed_method(run, methods, include)
    if blocked is not None:
        return blocked
    if names is None:
        # Deviation (firefox): Allow-Headers is parsed only once the method passed.
        names = _allow_list(run, "Access-Control-Allow-Headers", received)
        if isinstance(names, Prediction):
            return names
    return _check_allowed_headers(run, names, unsafe_names, include)


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
        actual_request_sent=False,
    )


def _preflight_redirected(run: _Run, status: int) -> Prediction:
    # Deviation (chromium, firefox): a redirect gets its own name (profile evidence).
    return run.blocked(
        "preflight-status",
        f"the preflight was answered with a {status} redirect; a preflight is never redirected",
        SPEC_PREFLIGHT,
        "PreflightDisallowedRedirect",
        "",
        actual_request_sent=False,
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
        actual_request_sent=False,
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
            actual_request_sent=False,
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
            actual_request_sent=False,
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


# --- the actual request -------------------------------------------------------------------


def _actual_request(run: _Run) -> Prediction:
    answer = run.scenario.response
    received = h.received_header_list(answer.headers)
    credentials = run.scenario.request.credentials
    if answer.status in REDIRECT_STATUSES and h.get("Location", received) is not None:
        run.step(
            "redirect",
            "info",
            f"the response is a {answer.status} redirect; the browser would follow it, which "
            "this prediction does not model",
            SPEC_REDIRECT_STATUS,
        )
    check = run.cors_check(received)
    if not check.ok:
        return run.blocked(
            "cors-check",
            check.reason + "; the server did answer, but JavaScript only sees a TypeError",
            "https://fetch.spec.whatwg.org/#cors-check",
            check.error,
            check.failed_parameter,
            actual_request_sent=True,
        )
    run.step("cors-check", "pass", check.reason, "https://fetch.spec.whatwg.org/#cors-check")
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
    return run.finish(
        "allowed",
        actual_request_sent=True,
        readable=_readable(answer.headers, exposed=names),
    )


def _readable(headers: Sequence[h.Header], exposed: Sequence[str] | None) -> list[str]:
    """Byte-lowercased names of the declared response headers JavaScript can read."""
    names = {n.lower() for n, _ in headers}
    if exposed is None:  # a basic (same-origin) response hides only Set-Cookie
        return sorted(n for n in names if n not in h.FORBIDDEN_RESPONSE_HEADER_NAMES)
    return sorted(n for n in names if h.is_cors_safelisted_response_header_name(n, exposed))
