"""Scenario, Prediction and Step: the JSON contract of the playground.

A scenario is one cross-origin ``fetch()`` plus what the server answers to its preflight and
to the actual request, and at every URL a redirect leads to (its hops); a prediction is what
a browser does with the whole fetch. A sequence is several fetches from one page over time
(the CORS-preflight cache). All travel as JSON through the page, share links,
``POST /api/explain`` and ``cors-playground explain`` (../shared/scenario-format.md).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from app.cors.origins import origin_problem
from app.cors.urls import parse_url, url_key

Header = tuple[str, str]
Outcome = Literal["allowed", "blocked", "opaque", "opaqueredirect", "error"]
OUTCOMES: tuple[Outcome, ...] = ("allowed", "blocked", "opaque", "opaqueredirect", "error")
# What each outcome means, in two sentence frames: what fetch() does ...
OUTCOME_EFFECTS: dict[str, str] = {
    "allowed": "fetch() resolves and JavaScript can read the response",
    "blocked": "fetch() rejects with a TypeError after the server answered: a CORS check failed",
    "opaque": "fetch() resolves with an opaque response (no-cors): status 0, nothing readable",
    "opaqueredirect": "fetch() resolves with an opaque-redirect response (redirect: 'manual'): "
    "status 0, nothing readable, the redirect is not followed",
    "error": "fetch() rejects before anything is sent",
}
# ... and what a browser "would" do ("Firefox would block the response").
OUTCOME_VERBS: dict[str, str] = {
    "allowed": "let JavaScript read the response",
    "blocked": "block the response",
    "opaque": "hand back an opaque response",
    "opaqueredirect": "hand back an opaque-redirect response",
    "error": "reject before sending anything",
}
StepResult = Literal["pass", "fail", "info"]

CREDENTIALS_MODES = ("omit", "same-origin", "include")
REQUEST_MODES = ("cors", "no-cors")
REDIRECT_MODES = ("follow", "error", "manual")
# https://fetch.spec.whatwg.org/#redirect-status
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# https://fetch.spec.whatwg.org/#http-redirect-fetch: "If request's redirect count is 20, then
# return a network error."
REDIRECT_LIMIT = 20
MAX_HOPS = REDIRECT_LIMIT
MAX_SEQUENCE = 20
MAX_AT_SECONDS = 600.0
CacheResult = Literal["miss", "hit"]
DEFAULT_ORIGIN = "http://localhost:8000"
DEFAULT_URL = "http://localhost:8001/"
# A scenario's response must be a final response the server can send: no 1xx.
MIN_STATUS, MAX_STATUS = 200, 599
# The keys of a scenario document and of its parts; any other key is an error (a misspelt
# key would otherwise be dropped in silence and its default used instead).
SCENARIO_KEYS = ("id", "origin", "url", "request", "preflight_response", "response", "hops")
REQUEST_KEYS = ("method", "headers", "credentials", "mode", "body", "redirect")
ANSWER_KEYS = ("status", "headers")
HOP_KEYS = ("url", "preflight_response", "response")


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
    redirect: str = "follow"


@dataclass(frozen=True)
class ServerResponse:
    """What the server answers: a status and raw header lines (duplicates allowed)."""

    status: int = 200
    headers: tuple[Header, ...] = ()

    def header(self, name: str) -> str | None:
        """The first value of a header (case-insensitive name), or None."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


@dataclass(frozen=True)
class Hop:
    """Another URL the server answers at, where a redirect may lead: its preflight answer and
    its answer to the actual request."""

    url: str
    preflight_response: ServerResponse = field(default_factory=ServerResponse)
    response: ServerResponse = field(default_factory=ServerResponse)

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "preflight_response": _response_json(self.preflight_response),
            "response": _response_json(self.response),
        }


@dataclass(frozen=True)
class Scenario:
    """One cross-origin request and the server's answers to its preflight and actual request."""

    origin: str = DEFAULT_ORIGIN
    url: str = DEFAULT_URL
    request: RequestInit = field(default_factory=RequestInit)
    preflight_response: ServerResponse = field(default_factory=ServerResponse)
    response: ServerResponse = field(default_factory=ServerResponse)
    id: str | None = None
    hops: tuple[Hop, ...] = ()

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
        if "sequence" in doc:
            raise ScenarioError(
                "sequence",
                "a scenario is one fetch: a sequence is a document of its own "
                "({\"sequence\": [...]}) and cannot sit inside a scenario",
            )
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
        # v2: the redirect mode and the hops a redirect may lead to.
        redirect = _string(request.get("redirect", "follow"), "request.redirect")
        if redirect not in REDIRECT_MODES:
            raise ScenarioError("request.redirect", f"must be one of {', '.join(REDIRECT_MODES)}")
        scenario = cls(
            origin=origin,
            url=_string(doc.get("url", default_url), "url"),
            request=RequestInit(
                method=method,
                headers=_headers(request.get("headers", []), "request.headers"),
                credentials=credentials,
                mode=mode,
                body=body,
                redirect=redirect,
            ),
            preflight_response=_response(doc.get("preflight_response", {}), "preflight_response"),
            response=_response(doc.get("response", {}), "response"),
            id=scenario_id,
            hops=_hops(doc.get("hops", [])),
        )
        _check_locations(scenario)
        return scenario

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
        if self.request.redirect != "follow":
            doc["request"]["redirect"] = self.request.redirect
        doc["preflight_response"] = _response_json(self.preflight_response)
        doc["response"] = _response_json(self.response)
        if self.hops:
            doc["hops"] = [hop.to_json() for hop in self.hops]
        return doc

    def answers_at(self, url: str) -> tuple[str, ServerResponse, ServerResponse] | None:
        """The declared URL and the two answers of the URL a redirect leads to (matched
        without fragment), or None when the scenario declares no answer there."""
        key = url_key(url)
        if key is None:
            return None
        for declared, preflight, response in self.answer_sites():
            if url_key(declared) == key:
                return declared, preflight, response
        return None

    def answer_sites(self) -> tuple[tuple[str, ServerResponse, ServerResponse], ...]:
        """Every URL the server answers at, the fetch's own first, with its two answers."""
        first = (self.url, self.preflight_response, self.response)
        return (first, *((h.url, h.preflight_response, h.response) for h in self.hops))


@dataclass(frozen=True)
class SequenceItem:
    """One fetch of a sequence: when it starts (seconds after the first) and the scenario."""

    at: float
    scenario: Scenario


@dataclass(frozen=True)
class FetchSequence:
    """Fetches made one after another from the same page: the CORS-preflight cache at work."""

    items: tuple[SequenceItem, ...]
    id: str | None = None

    @classmethod
    def from_json(
        cls,
        obj: object,
        *,
        default_origin: str = DEFAULT_ORIGIN,
        default_url: str = DEFAULT_URL,
    ) -> FetchSequence:
        """Read ``{"sequence": [{"at": 0, "scenario": {...}}, ...]}``; ScenarioError naming the
        first bad field."""
        doc = _mapping(obj, "sequence document")
        raw = doc.get("sequence")
        if not isinstance(raw, Sequence) or isinstance(raw, str):
            raise ScenarioError("sequence", "must be a list of {at, scenario} objects")
        if not 1 <= len(raw) <= MAX_SEQUENCE:
            raise ScenarioError("sequence", f"must hold 1 to {MAX_SEQUENCE} fetches")
        sequence_id = doc.get("id")
        if sequence_id is not None and not isinstance(sequence_id, str):
            raise ScenarioError("id", "must be a string")
        items: list[SequenceItem] = []
        previous = 0.0
        for index, entry in enumerate(raw):
            where = f"sequence[{index}]"
            item = _mapping(entry, where)
            at = item.get("at", previous)
            if isinstance(at, bool) or not isinstance(at, (int, float)) or at != at:
                raise ScenarioError(f"{where}.at", "must be a number of seconds")
            if not 0 <= at <= MAX_AT_SECONDS:
                raise ScenarioError(f"{where}.at", f"must be from 0 to {MAX_AT_SECONDS:g} seconds")
            if at < previous:
                raise ScenarioError(f"{where}.at", "must not be earlier than the fetch before")
            previous = float(at)
            try:
                scenario = Scenario.from_json(
                    item.get("scenario"), default_origin=default_origin, default_url=default_url
                )
            except ScenarioError as exc:
                raise ScenarioError(f"{where}.scenario.{exc.field}", exc.message) from exc
            items.append(SequenceItem(float(at), scenario))
        return cls(tuple(items), sequence_id)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        if self.id is not None:
            doc["id"] = self.id
        doc["sequence"] = [{"at": i.at, "scenario": i.scenario.to_json()} for i in self.items]
        return doc


def read_document(
    obj: object,
    *,
    default_origin: str = DEFAULT_ORIGIN,
    default_url: str = DEFAULT_URL,
) -> Scenario | FetchSequence:
    """A scenario, or a sequence when the document has a ``sequence`` key."""
    if isinstance(obj, Mapping) and "sequence" in obj:
        return FetchSequence.from_json(obj, default_origin=default_origin, default_url=default_url)
    return Scenario.from_json(obj, default_origin=default_origin, default_url=default_url)


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


LegKind = Literal["preflight", "actual"]


@dataclass(frozen=True)
class Leg:
    """One request of the fetch that reaches a server: a preflight or an actual request."""

    url: str
    kind: LegKind
    method: str
    headers: tuple[Header, ...]
    body: bool = False

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    @property
    def origin(self) -> str | None:
        return self.header("Origin")

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "kind": self.kind,
            "method": self.method,
            "headers": [list(h) for h in self.headers],
            "body": self.body,
        }


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
    # v2: every request that reached a server, in order; response.redirected and response.url
    # as JavaScript sees them (None when fetch() rejects).
    legs: tuple[Leg, ...] = ()
    redirected: bool | None = None
    response_url: str | None = None
    # In a sequence: whether the fetch's first URL needed a preflight (None), sent one
    # ("miss") or found everything it needed in the CORS-preflight cache ("hit").
    preflight_cache: CacheResult | None = None
    in_sequence: bool = False

    @property
    def failed_step(self) -> Step | None:
        return next((s for s in self.steps if s.result == "fail"), None)

    def to_json(self) -> dict[str, Any]:
        doc = self._fields_json()
        if self.in_sequence:
            doc["preflight_cache"] = self.preflight_cache
        return doc

    def _fields_json(self) -> dict[str, Any]:
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
            "legs": [leg.to_json() for leg in self.legs],
            "redirected": self.redirected,
            "response_url": self.response_url,
            "steps": [s.to_json() for s in self.steps],
        }


@dataclass(frozen=True)
class SequencePrediction:
    """What a browser does with each fetch of a sequence, in order."""

    id: str | None
    browser: str
    predictions: tuple[Prediction, ...]

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        if self.id is not None:
            doc["id"] = self.id
        doc["browser"] = self.browser
        doc["sequence"] = [p.to_json() for p in self.predictions]
        return doc


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


def _response_json(answer: ServerResponse) -> dict[str, Any]:
    return {"status": answer.status, "headers": [list(h) for h in answer.headers]}


def _hops(value: object) -> tuple[Hop, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ScenarioError("hops", "must be a list of {url, preflight_response, response}")
    if len(value) > MAX_HOPS:
        raise ScenarioError("hops", f"may hold at most {MAX_HOPS} hops (the redirect limit)")
    hops: list[Hop] = []
    for index, item in enumerate(value):
        where = f"hops[{index}]"
        doc = _mapping(item, where)
        _known_keys(doc, HOP_KEYS, where)
        url = _string(doc.get("url"), f"{where}.url")
        parsed = parse_url(url)
        if parsed is None or not parsed.is_http:
            raise ScenarioError(f"{where}.url", "must be an absolute http or https URL")
        hops.append(
            Hop(
                url=url,
                preflight_response=_response(
                    doc.get("preflight_response", {}), f"{where}.preflight_response"
                ),
                response=_response(doc.get("response", {}), f"{where}.response"),
            )
        )
    return tuple(hops)


def _check_locations(scenario: Scenario) -> None:
    """Hop URLs are distinct, and a followed redirect's ``Location`` leads to a declared URL."""
    seen: dict[str, str] = {}
    sites = scenario.answer_sites()
    for index, (url, _, _) in enumerate(sites):
        where = "url" if index == 0 else f"hops[{index - 1}].url"
        key = url_key(url)
        if key is None:
            if index == 0:
                continue  # fetch() itself refuses it; the prediction says so
            raise ScenarioError(where, "must be an absolute http or https URL")
        if key in seen:
            raise ScenarioError(where, f"is the same URL as {seen[key]} (hops must be distinct)")
        seen[key] = where
    if scenario.request.redirect != "follow":
        return
    for index, (url, _, answer) in enumerate(sites):
        if answer.status not in REDIRECT_STATUSES:
            continue
        base = parse_url(url)
        name = "response" if index == 0 else f"hops[{index - 1}].response"
        for position, (header, value) in enumerate(answer.headers):
            if header.lower() != "location" or base is None:
                continue
            target = parse_url(value.strip(" \t"), base)
            if target is None or not target.is_http:
                continue  # a network error the prediction explains
            if target.serialize(exclude_fragment=True) not in seen:
                raise ScenarioError(
                    f"{name}.headers[{position}]",
                    f"Location leads to {target.serialize()}, where the scenario declares no "
                    "answer: add it to hops",
                )


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
