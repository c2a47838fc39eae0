"""Scenario, Prediction and Step: the JSON contract of the playground.

A scenario is one cross-origin ``fetch()`` plus what the server answers to its preflight and
to the actual request; a prediction is what a browser does with it. Both travel as JSON
through the page, share links, ``POST /api/explain`` and ``cors-playground explain``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from app.cors.origins import origin_problem

Header = tuple[str, str]
Outcome = Literal["allowed", "blocked", "opaque", "error"]
OUTCOMES: tuple[Outcome, ...] = ("allowed", "blocked", "opaque", "error")
# What each outcome means, in two sentence frames: what fetch() does ...
OUTCOME_EFFECTS: dict[str, str] = {
    "allowed": "fetch() resolves and JavaScript can read the response",
    "blocked": "fetch() rejects with a TypeError after the server answered: a CORS check failed",
    "opaque": "fetch() resolves with an opaque response (no-cors): status 0, nothing readable",
    "error": "fetch() rejects before anything is sent",
}
# ... and what a browser "would" do ("Firefox would block the response").
OUTCOME_VERBS: dict[str, str] = {
    "allowed": "let JavaScript read the response",
    "blocked": "block the response",
    "opaque": "hand back an opaque response",
    "error": "reject before sending anything",
}
StepResult = Literal["pass", "fail", "info"]

CREDENTIALS_MODES = ("omit", "same-origin", "include")
REQUEST_MODES = ("cors", "no-cors")
DEFAULT_ORIGIN = "http://localhost:8000"
DEFAULT_URL = "http://localhost:8001/"
# A scenario's response must be a final response the server can send: no 1xx.
MIN_STATUS, MAX_STATUS = 200, 599
# The keys of a scenario document and of its parts; any other key is an error (a misspelt
# key would otherwise be dropped in silence and its default used instead).
SCENARIO_KEYS = ("id", "origin", "url", "request", "preflight_response", "response")
REQUEST_KEYS = ("method", "headers", "credentials", "mode", "body")
ANSWER_KEYS = ("status", "headers")
# Keys of the format's version 2, which this engine does not read yet.
V2_KEYS = frozenset({"hops", "sequence", "request.redirect"})


class ScenarioError(ValueError):
    """A scenario document that does not follow the format; names the field and the problem."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class RequestInit:
    """The ``fetch()`` call: method and headers exactly as the page passes them."""

    method: str = "GET"
    headers: tuple[Header, ...] = ()
    credentials: str = "same-origin"
    mode: str = "cors"
    body: str | None = None


@dataclass(frozen=True)
class ServerResponse:
    """What the server answers: a status and raw header lines (duplicates allowed)."""

    status: int = 200
    headers: tuple[Header, ...] = ()


@dataclass(frozen=True)
class Scenario:
    """One cross-origin request and the server's answers to its preflight and actual request."""

    origin: str = DEFAULT_ORIGIN
    url: str = DEFAULT_URL
    request: RequestInit = field(default_factory=RequestInit)
    preflight_response: ServerResponse = field(default_factory=ServerResponse)
    response: ServerResponse = field(default_factory=ServerResponse)
    id: str | None = None

    def with_target(self, origin: str, url: str) -> Scenario:
        """The same fetch() and answers, from the page at ``origin`` to ``url``."""
        return replace(self, origin=origin, url=url)

    @classmethod
    def from_json(
        cls,
        obj: object,
        *,
        default_origin: str = DEFAULT_ORIGIN,
        default_url: str = DEFAULT_URL,
    ) -> Scenario:
        """Read a scenario document; raise ScenarioError naming the first bad field."""
        doc = _mapping(obj, "scenario")
        _known_keys(doc, SCENARIO_KEYS, "")
        request = _mapping(doc.get("request", {}), "request")
        _known_keys(request, REQUEST_KEYS, "request")
        method = _string(request.get("method", "GET"), "request.method")
        credentials = _string(request.get("credentials", "same-origin"), "request.credentials")
        if credentials not in CREDENTIALS_MODES:
            raise ScenarioError(
                "request.credentials", f"must be one of {', '.join(CREDENTIALS_MODES)}"
            )
        mode = _string(request.get("mode", "cors"), "request.mode")
        if mode not in REQUEST_MODES:
            raise ScenarioError("request.mode", f"must be one of {', '.join(REQUEST_MODES)}")
        body = request.get("body")
        if body is not None and not isinstance(body, str):
            raise ScenarioError("request.body", "must be a string or null")
        scenario_id = doc.get("id")
        if scenario_id is not None and not isinstance(scenario_id, str):
            raise ScenarioError("id", "must be a string")
        origin = _string(doc.get("origin", default_origin), "origin")
        problem = origin_problem(origin)
        if problem is not None:
            raise ScenarioError("origin", problem)
        return cls(
            origin=origin,
            url=_string(doc.get("url", default_url), "url"),
            request=RequestInit(
                method=method,
                headers=_headers(request.get("headers", []), "request.headers"),
                credentials=credentials,
                mode=mode,
                body=body,
            ),
            preflight_response=_response(doc.get("preflight_response", {}), "preflight_response"),
            response=_response(doc.get("response", {}), "response"),
            id=scenario_id,
        )

    def to_json(self) -> dict[str, Any]:
        """The scenario as a JSON-ready dict, in the documented field order."""
        doc: dict[str, Any] = {}
        if self.id is not None:
            doc["id"] = self.id
        doc["origin"] = self.origin
        doc["url"] = self.url
        doc["request"] = {
            "method": self.request.method,
            "headers": [list(h) for h in self.request.headers],
            "credentials": self.request.credentials,
            "mode": self.request.mode,
            "body": self.request.body,
        }
        for name in ("preflight_response", "response"):
            answer: ServerResponse = getattr(self, name)
            doc[name] = {"status": answer.status, "headers": [list(h) for h in answer.headers]}
        return doc


@dataclass(frozen=True)
class Step:
    """One check the browser ran, its result, a sentence for the learner and the spec link."""

    check: str
    result: StepResult
    detail: str
    spec: str

    def to_json(self) -> dict[str, str]:
        return {
            "check": self.check,
            "result": self.result,
            "detail": self.detail,
            "spec": self.spec,
        }


@dataclass(frozen=True)
class PreflightRequest:
    """The OPTIONS request the browser sends before the actual request."""

    method: str
    headers: tuple[Header, ...]

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


@dataclass(frozen=True)
class Prediction:
    """What a browser does with a scenario, and why."""

    id: str | None
    browser: str
    preflight: bool
    preflight_reasons: tuple[str, ...]
    preflight_request: PreflightRequest | None
    actual_request_sent: bool
    outcome: Outcome
    blocked_by: str | None
    readable_headers: tuple[str, ...]
    steps: tuple[Step, ...]
    # The request headers the page's fetch() actually carries (after the Headers object and
    # the browser dropped what a page may not set), in order.
    request_headers: tuple[Header, ...] = ()
    # The value the failed check complained about, as DevTools' failedParameter.
    failed_parameter: str | None = None

    @property
    def failed_step(self) -> Step | None:
        return next((s for s in self.steps if s.result == "fail"), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "browser": self.browser,
            "preflight": self.preflight,
            "preflight_reasons": list(self.preflight_reasons),
            "preflight_request": None
            if self.preflight_request is None
            else {
                "method": self.preflight_request.method,
                "headers": [list(h) for h in self.preflight_request.headers],
            },
            "actual_request_sent": self.actual_request_sent,
            "outcome": self.outcome,
            "blocked_by": self.blocked_by,
            "failed_parameter": self.failed_parameter,
            "readable_headers": list(self.readable_headers),
            "request_headers": [list(h) for h in self.request_headers],
            "steps": [s.to_json() for s in self.steps],
        }


def _mapping(value: object, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ScenarioError(name, "must be a JSON object")
    return value


def _known_keys(doc: Mapping[str, Any], known: Sequence[str], where: str) -> None:
    """Refuse the first key of ``doc`` that the format does not define, suggesting the key
    it most likely meant."""
    for key in doc:
        if key in known:
            continue
        path = f"{where}.{key}" if where else str(key)
        if path in V2_KEYS:
            raise ScenarioError(
                path,
                f"{key!r} is part of the format's version 2 (redirects and "
                "the preflight cache), which this playground does not read yet",
            )
        close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
        if not close:
            close = [k for k in known if k.lower() == str(key).lower()]
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        keys = ", ".join(known)
        parent = f"{where} has" if where else "a scenario has"
        raise ScenarioError(path, f"unknown key {str(key)!r}{hint}; {parent} {keys}")


def _string(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise ScenarioError(name, "must be a string")
    return value


def _headers(value: object, name: str) -> tuple[Header, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ScenarioError(name, "must be a list of [name, value] pairs")
    pairs: list[Header] = []
    for index, item in enumerate(value):
        where = f"{name}[{index}]"
        if (
            not isinstance(item, Sequence)
            or isinstance(item, str)
            or len(item) != 2
            or not all(isinstance(part, str) for part in item)
        ):
            raise ScenarioError(where, "must be a [name, value] pair of two strings")
        pairs.append((item[0], item[1]))
    return tuple(pairs)


def _response(value: object, name: str) -> ServerResponse:
    doc = _mapping(value, name)
    _known_keys(doc, ANSWER_KEYS, name)
    status = doc.get("status", 200)
    if isinstance(status, bool) or not isinstance(status, int):
        raise ScenarioError(f"{name}.status", "must be an integer")
    if not MIN_STATUS <= status <= MAX_STATUS:
        raise ScenarioError(
            f"{name}.status",
            f"must be a final HTTP status from {MIN_STATUS} to {MAX_STATUS} (got {status})",
        )
    return ServerResponse(
        status=status, headers=_headers(doc.get("headers", []), f"{name}.headers")
    )
