"""Check a real server: send what a browser would send, record what the server answers, and
predict each browser on those real answers (``cors-playground check``).

What is sent comes from the engine, never from a second copy of the rules: ``predict()`` on
the request says whether each browser sends a preflight and with which
``Access-Control-Request-*`` headers, and which of the page's headers the actual request
carries. Browsers that would send the same requests share one probe. The actual request is
sent only when the preflight lets it through in at least one of them, as a browser does; a
redirect is recorded and not followed (the engine does not model redirects yet).

Bounded: a timeout per request, at most ``MAX_BODY_BYTES`` of a body read (and thrown away),
no cookies or credentials of the user's beyond the headers and ``cookie`` given explicitly.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urlsplit

from app.cors import Prediction, RequestInit, Scenario, ServerResponse, predict
from app.cors.names import ORIGIN
from app.cors.origins import serialize_origin
from app.cors.scenario import CREDENTIALS_MODES, MAX_STATUS, MIN_STATUS, REQUEST_MODES
from app.cors.syntax import is_token
from app.fix.messages import is_preflight_failure

Header = tuple[str, str]
LegKind = Literal["preflight", "actual"]

DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 120.0
MAX_BODY_BYTES = 64 * 1024
MAX_REQUEST_BODY = 64 * 1024
MAX_HEADERS = 64
FRAMING = frozenset({"content-length", "transfer-encoding"})
USER_AGENT = "cors-playground-check (+https://fetch.spec.whatwg.org/#http-cors-protocol)"
# Placeholder answers while planning: the engine needs a scenario; nothing reads them.
_PLANNING = ServerResponse(200, ())


class CheckInputError(ValueError):
    """The check cannot start: a bad URL, origin, header or option (exit status 2)."""


@dataclass(frozen=True)
class CheckRequest:
    """The fetch() to check: as a page at ``origin`` would call it."""

    url: str
    origin: str
    method: str = "GET"
    headers: tuple[Header, ...] = ()
    credentials: str = "same-origin"
    mode: str = "cors"
    body: str | None = None
    # Sent as the Cookie header of the actual request, only with credentials "include" (as a
    # browser sends its cookies); never on the preflight.
    cookie: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    def init(self) -> RequestInit:
        return RequestInit(self.method, self.headers, self.credentials, self.mode, self.body)

    def scenario(
        self,
        preflight_response: ServerResponse = _PLANNING,
        response: ServerResponse = _PLANNING,
    ) -> Scenario:
        return Scenario(self.origin, self.url, self.init(), preflight_response, response)


def validate(request: CheckRequest) -> CheckRequest:
    """The request, or CheckInputError saying what is wrong with it in words."""
    parts = urlsplit(request.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CheckInputError(
            f"the URL must be an absolute http:// or https:// URL (got {request.url!r})"
        )
    try:
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError as exc:
        raise CheckInputError(f"the URL's port is not valid: {exc}") from None
    if request.origin != "null":
        serialized = serialize_origin(request.origin)
        if serialized is None:
            raise CheckInputError(
                f"the origin must be scheme://host[:port], such as http://localhost:3000 (got "
                f"{request.origin!r})"
            )
        if serialized != request.origin:
            raise CheckInputError(
                f"an origin is scheme://host[:port] with no path or trailing slash, as the "
                f"browser sends it: did you mean {serialized}? (got {request.origin!r})"
            )
    if not is_token(request.method):
        raise CheckInputError(f"{request.method!r} is not an HTTP method (a method is a token)")
    if request.credentials not in CREDENTIALS_MODES:
        raise CheckInputError(f"credentials must be one of {', '.join(CREDENTIALS_MODES)}")
    if request.mode not in REQUEST_MODES:
        raise CheckInputError(f"mode must be one of {', '.join(REQUEST_MODES)}")
    if len(request.headers) > MAX_HEADERS:
        raise CheckInputError(f"too many headers ({len(request.headers)}); at most {MAX_HEADERS}")
    for name, value in request.headers:
        if not is_token(name):
            raise CheckInputError(f"{name!r} is not a header name")
        if any(c in value for c in "\r\n\0"):
            raise CheckInputError(f"the value of {name} contains a line break or NUL")
    if request.body is not None and len(request.body.encode("utf-8")) > MAX_REQUEST_BODY:
        raise CheckInputError(f"the body is larger than {MAX_REQUEST_BODY} bytes")
    if request.cookie is not None and request.credentials != "include":
        raise CheckInputError(
            "a cookie is only sent with --credentials include (a browser sends cookies to "
            "another origin only then)"
        )
    if not 0 < request.timeout <= MAX_TIMEOUT:
        raise CheckInputError(f"the timeout must be between 0 and {MAX_TIMEOUT:g} seconds")
    return request


def parse_header(text: str) -> Header:
    """``'Name: value'`` as curl's -H takes it (CheckInputError when there is no colon)."""
    name, colon, value = text.partition(":")
    if not colon or not name.strip():
        raise CheckInputError(f"a header is 'Name: value' (got {text!r})")
    return name.strip(), value.strip(" \t")


# --- what to send -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """The requests one or more browsers would send: the preflight (if any) and the actual
    request's headers. ``error`` when fetch() would refuse the call before sending anything."""

    browsers: tuple[str, ...]
    preflight: tuple[Header, ...] | None
    actual: tuple[Header, ...]
    method: str
    error: Prediction | None = None


def plan(request: CheckRequest, browsers: Sequence[str]) -> list[Probe]:
    """One probe per distinct pair of requests the chosen browsers would send."""
    planning = request.scenario()
    groups: dict[tuple[Any, ...], list[str]] = {}
    predictions: dict[str, Prediction] = {}
    for browser in browsers:
        prediction = predict(planning, browser)
        predictions[browser] = prediction
        preflight = prediction.preflight_request
        key = (
            prediction.outcome == "error",
            None if preflight is None else preflight.headers,
            prediction.request_headers,
        )
        groups.setdefault(key, []).append(browser)
    probes = []
    for (refused, preflight_headers, request_headers), names in groups.items():
        first = predictions[names[0]]
        method = (
            first.preflight_request.header("Access-Control-Request-Method")
            if (first.preflight_request)
            else None
        )
        probes.append(
            Probe(
                tuple(names),
                _preflight_headers(preflight_headers),
                _actual_headers(request, request_headers),
                method or _sent_method(request.method),
                first if refused else None,
            )
        )
    return probes


def _sent_method(method: str) -> str:
    from app.cors.methods import normalize_method

    return normalize_method(method)


def _preflight_headers(headers: Sequence[Header] | None) -> tuple[Header, ...] | None:
    if headers is None:
        return None
    return (*headers, ("User-Agent", USER_AGENT))


def _actual_headers(request: CheckRequest, carried: Sequence[Header]) -> tuple[Header, ...]:
    """The actual request's headers: what the page's fetch() carries, fetch()'s default
    Accept, the Origin, and the cookie when one was given for credentials "include"."""
    headers: list[Header] = []
    if not any(n.lower() == "accept" for n, _ in carried):
        headers.append(("Accept", "*/*"))
    headers.extend(carried)
    cross = serialize_origin(request.url) != request.origin
    if cross and (request.mode == "cors" or request.method.upper() not in ("GET", "HEAD")):
        headers.append((ORIGIN, request.origin))
    headers.append(("User-Agent", USER_AGENT))
    if request.cookie is not None and request.credentials == "include":
        headers.append(("Cookie", request.cookie))
    return tuple(headers)


# --- sending ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leg:
    """One request sent and what came back (``error``: no answer, and why)."""

    kind: LegKind
    method: str
    url: str
    headers: tuple[Header, ...]
    status: int | None = None
    reason: str = ""
    response_headers: tuple[Header, ...] = ()
    body_bytes: int = 0
    body_truncated: bool = False
    elapsed: float = 0.0
    error: str | None = None

    @property
    def answer(self) -> ServerResponse | None:
        """The answer as a scenario holds it: without Content-Length and Transfer-Encoding,
        which frame this message's body and mean nothing to CORS (a replay of the scenario
        sends its own body, so keeping them would misframe it)."""
        if self.status is None or not MIN_STATUS <= self.status <= MAX_STATUS:
            return None
        kept = tuple(h for h in self.response_headers if h[0].lower() not in FRAMING)
        return ServerResponse(self.status, kept)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "method": self.method,
            "url": self.url,
            "headers": [list(h) for h in self.headers],
            "response": None
            if self.status is None
            else {
                "status": self.status,
                "reason": self.reason,
                "headers": [list(h) for h in self.response_headers],
                "body_bytes": self.body_bytes,
                "body_truncated": self.body_truncated,
            },
            "error": self.error,
        }


@dataclass
class Outcome:
    """What one probe found: its legs, the scenario with the real answers, each browser's
    prediction on it."""

    probe: Probe
    legs: list[Leg] = field(default_factory=list)
    scenario: Scenario | None = None
    predictions: dict[str, Prediction] = field(default_factory=dict)
    actual_skipped: str = ""

    @property
    def error(self) -> str | None:
        return next((leg.error for leg in self.legs if leg.error), None)


def send(request: CheckRequest, probes: Sequence[Probe]) -> list[Outcome]:
    """Send each probe's requests to the real server and predict on the answers."""
    import httpx

    outcomes = []
    timeout = httpx.Timeout(request.timeout)
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        client.headers.clear()
        for probe in probes:
            outcomes.append(_run(client, request, probe))
    return outcomes


def _run(client: Any, request: CheckRequest, probe: Probe) -> Outcome:
    outcome = Outcome(probe)
    if probe.error is not None:
        outcome.scenario = request.scenario()
        outcome.predictions = {b: predict(outcome.scenario, b) for b in probe.browsers}
        outcome.actual_skipped = "fetch() refuses this call before sending anything"
        return outcome
    preflight_answer = ServerResponse(204, ())
    if probe.preflight is not None:
        leg = _exchange(client, "preflight", "OPTIONS", request.url, probe.preflight, None)
        outcome.legs.append(leg)
        if leg.answer is None:
            return outcome
        preflight_answer = leg.answer
    planned = request.scenario(preflight_response=preflight_answer)
    through = [b for b in probe.browsers if not _stops_at_preflight(predict(planned, b))]
    response = ServerResponse(200, ())
    if probe.preflight is not None and not through:
        outcome.actual_skipped = (
            "the preflight fails in every chosen browser, so none of them sends the request "
            "itself; neither did this check"
        )
    else:
        body = None if request.body is None else request.body.encode("utf-8")
        leg = _exchange(client, "actual", probe.method, request.url, probe.actual, body)
        outcome.legs.append(leg)
        if leg.answer is None:
            return outcome
        response = leg.answer
    outcome.scenario = request.scenario(preflight_answer, response)
    outcome.predictions = {b: predict(outcome.scenario, b) for b in probe.browsers}
    return outcome


def _stops_at_preflight(prediction: Prediction) -> bool:
    blocked = prediction.blocked_by
    return prediction.outcome == "blocked" and blocked is not None and is_preflight_failure(blocked)


def _exchange(
    client: Any,
    kind: LegKind,
    method: str,
    url: str,
    headers: tuple[Header, ...],
    body: bytes | None,
) -> Leg:
    import httpx

    leg = Leg(kind, method, url, headers)
    started = time.monotonic()
    try:
        with client.stream(method, url, headers=list(headers), content=body) as answer:
            size = 0
            truncated = False
            for chunk in answer.iter_raw():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    truncated = True
                    break
            raw = tuple(
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in answer.headers.raw
            )
            return replace(
                leg,
                status=answer.status_code,
                reason=answer.reason_phrase,
                response_headers=raw,
                body_bytes=min(size, MAX_BODY_BYTES),
                body_truncated=truncated,
                elapsed=time.monotonic() - started,
            )
    except httpx.TimeoutException:
        why = f"no answer within {client.timeout.read or client.timeout.connect:g} seconds"
    except httpx.ConnectError as exc:
        why = f"cannot connect: {_first_line(exc)}"
    except httpx.HTTPError as exc:
        why = f"{type(exc).__name__}: {_first_line(exc)}"
    except (OSError, ValueError) as exc:
        why = f"{type(exc).__name__}: {_first_line(exc)}"
    return replace(leg, error=f"{kind}: {why}", elapsed=time.monotonic() - started)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def check(request: CheckRequest, browsers: Sequence[str]) -> list[Outcome]:
    """Validate, plan and send: the whole ``check``."""
    validate(request)
    return send(request, plan(request, browsers))
