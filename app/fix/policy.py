"""The server policy behind a fixed scenario: which origin, credentials, methods, request
headers and exposed headers the server must allow, written out explicitly (no wildcards beyond
``*`` for the origin of a request without credentials)."""

from __future__ import annotations

from dataclasses import dataclass

from app.cors import predict
from app.cors.engines import ENGINES
from app.cors.headers import CORS_SAFELISTED_RESPONSE_HEADER_NAMES, received_header_list
from app.cors.methods import normalize_method
from app.cors.names import MAX_AGE, REQUEST_HEADERS
from app.fix.search import ACAH, ACAM, ACAO, ACEH, Fix, header_values, list_tokens

MAX_AGE = MAX_AGE


@dataclass(frozen=True)
class Policy:
    """What a CORS library must be told so that this request passes in every engine."""

    # The page's exact origin, or "*" (only without credentials).
    origin: str
    credentials: bool
    # Method names as the browser sends them (case matters), the request's own included.
    methods: tuple[str, ...]
    # Request header names the preflight asks for, plus any the server already listed.
    allow_headers: tuple[str, ...]
    # Response header names JavaScript may read beyond the CORS-safelisted ones.
    expose_headers: tuple[str, ...]
    max_age: int | None
    # Some engine sends a preflight for this request.
    preflight: bool
    # The request's method as sent and the header names the preflight asks for (lowercase).
    request_method: str
    requested_headers: tuple[str, ...]
    # Names some engine lists twice in Access-Control-Request-Headers (Firefox, for a header
    # the page sets twice): a library that wants each name once refuses that preflight.
    repeated_headers: tuple[str, ...] = ()


def _add(names: list[str], name: str, *, case_sensitive: bool = False) -> None:
    if case_sensitive:
        if name not in names:
            names.append(name)
    elif name.lower() not in {n.lower() for n in names}:
        names.append(name)


def policy_for(fix: Fix) -> Policy | None:
    """The policy a fixed scenario asks of the server; None when the server cannot fix it."""
    if fix.status not in ("passes", "fixed"):
        return None
    scenario = fix.scenario
    include = scenario.request.credentials == "include"
    predictions = [predict(scenario, engine) for engine in ENGINES]
    preflight = any(p.preflight for p in predictions)
    requested: list[str] = []
    repeated: list[str] = []
    for p in predictions:
        value = (
            None
            if p.preflight_request is None
            else p.preflight_request.header(REQUEST_HEADERS)
        )
        names = [n for n in (value or "").split(",") if n]
        for name in names:
            _add(requested, name)
            if names.count(name) > 1:
                _add(repeated, name)
    pf_headers = received_header_list(scenario.preflight_response.headers)
    rs_headers = received_header_list(scenario.response.headers)

    origins = header_values(rs_headers, ACAO)
    if preflight:
        origins += header_values(pf_headers, ACAO)
    origin = "*" if origins and all(o == "*" for o in origins) and not include else scenario.origin

    method = normalize_method(scenario.request.method)
    methods: list[str] = []
    if preflight:
        for token in list_tokens(header_values(pf_headers, ACAM)):
            if token != "*":
                _add(methods, token, case_sensitive=True)
    _add(methods, method, case_sensitive=True)

    allow_headers: list[str] = []
    if preflight:
        for token in list_tokens(header_values(pf_headers, ACAH)):
            if token != "*":
                _add(allow_headers, token)
        for lower in requested:
            written = next((n for n, _ in scenario.request.headers if n.lower() == lower), lower)
            _add(allow_headers, written)

    expose: list[str] = []
    for token in list_tokens(header_values(rs_headers, ACEH)):
        if token != "*" and token.lower() not in CORS_SAFELISTED_RESPONSE_HEADER_NAMES:
            _add(expose, token)
    for name in fix.wanted:
        _add(expose, name)

    max_age = None
    ages = header_values(pf_headers, MAX_AGE)
    if preflight and len(ages) == 1 and ages[0].isdigit():
        max_age = int(ages[0])
    return Policy(
        origin=origin,
        credentials=include,
        methods=tuple(methods),
        allow_headers=tuple(allow_headers),
        expose_headers=tuple(expose),
        max_age=max_age,
        preflight=preflight,
        request_method=method,
        requested_headers=tuple(requested),
        repeated_headers=tuple(repeated),
    )
