"""Fix it: the smallest change to the server's answers that lets a blocked request through.

The engine decides, not a rule table: starting from the scenario as the learner wrote it, the
search asks ``predict()`` which check fails, makes the one edit that check asks for (add the
exact origin, ``True`` → ``true``, list the method, answer the preflight 204, ...), and asks
again, until the request passes in the learner's browser and then in every other engine. Each
edit touches one header line or one status and says why in words. Headers the page wants to
read are exposed last, as a separate, optional change.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from app.cors import Prediction, Scenario, ServerResponse, predict
from app.cors.engines import ENGINES
from app.cors.headers import (
    CORS_SAFELISTED_RESPONSE_HEADER_NAMES,
    FORBIDDEN_RESPONSE_HEADER_NAMES,
    extract_header_list_values,
    received_header_list,
)
from app.cors.methods import is_cors_safelisted_method
from app.cors.names import (
    ALLOW_CREDENTIALS,
    ALLOW_HEADERS,
    ALLOW_METHODS,
    ALLOW_ORIGIN,
    EXPOSE_HEADERS,
)
from app.fix.messages import check_name, is_preflight_failure

Leg = Literal["preflight", "response"]
Purpose = Literal["pass", "expose"]
FixStatus = Literal["passes", "fixed", "client", "stuck"]
Header = tuple[str, str]

ACAO = ALLOW_ORIGIN
ACAC = ALLOW_CREDENTIALS
ACAM = ALLOW_METHODS
ACAH = ALLOW_HEADERS
ACEH = EXPOSE_HEADERS
STATUS = "status"
PREFLIGHT_OK_STATUS = 204
MAX_EDITS = 12
LEG_WORDS = {"preflight": "the preflight response", "response": "the response"}

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Response headers a page has no reason to read: the browser or the connection uses them.
NOT_FOR_THE_PAGE = frozenset(
    {
        "alt-svc",
        "connection",
        "content-encoding",
        "content-security-policy",
        "cross-origin-embedder-policy",
        "cross-origin-opener-policy",
        "cross-origin-resource-policy",
        "date",
        "keep-alive",
        "location",
        "nel",
        "report-to",
        "server",
        "strict-transport-security",
        "timing-allow-origin",
        "transfer-encoding",
        "vary",
        "x-content-type-options",
    }
)


@dataclass(frozen=True)
class Change:
    """One edit to the server's answers: one header (every line of it) or one status."""

    leg: Leg
    name: str
    # The value(s) before, one per header line (empty: the header was absent); a status as text.
    before: tuple[str, ...]
    # The value after; None: the header is removed.
    after: str | None
    why: tuple[str, ...]
    # The engines whose checks asked for it (their profile names).
    engines: tuple[str, ...]
    purpose: Purpose = "pass"

    @property
    def action(self) -> str:
        if self.name == STATUS:
            return "status"
        if not self.before:
            return "add"
        return "remove" if self.after is None else "replace"

    @property
    def where(self) -> str:
        return LEG_WORDS[self.leg]


@dataclass(frozen=True)
class Fix:
    """The result of the search for one scenario and browser."""

    browser: str
    status: FixStatus
    scenario: Scenario  # the scenario with every change applied
    before: Prediction
    after: Prediction
    changes: tuple[Change, ...] = ()
    notes: tuple[str, ...] = ()
    # Declared response headers the page presumably wants to read (see wanted_headers).
    wanted: tuple[str, ...] = ()
    # Engines (profile names) where the fixed scenario is still not allowed, with the outcome.
    remaining: tuple[tuple[str, str], ...] = ()

    @property
    def pass_changes(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.purpose == "pass")

    @property
    def expose_changes(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.purpose == "expose")

    @property
    def passed_in_browser(self) -> bool:
        return self.before.outcome == "allowed"


@dataclass(frozen=True)
class _Edit:
    leg: Leg
    name: str
    value: str | None
    why: str


@dataclass
class _Draft:
    """The server's answers being edited."""

    scenario: Scenario
    preflight: list[Header] = field(default_factory=list)
    response: list[Header] = field(default_factory=list)
    preflight_status: int = 200
    response_status: int = 200

    @classmethod
    def of(cls, scenario: Scenario) -> _Draft:
        return cls(
            scenario,
            list(scenario.preflight_response.headers),
            list(scenario.response.headers),
            scenario.preflight_response.status,
            scenario.response.status,
        )

    def headers(self, leg: Leg) -> list[Header]:
        return self.preflight if leg == "preflight" else self.response

    def build(self) -> Scenario:
        s = self.scenario
        return Scenario(
            origin=s.origin,
            url=s.url,
            request=s.request,
            preflight_response=ServerResponse(self.preflight_status, tuple(self.preflight)),
            response=ServerResponse(self.response_status, tuple(self.response)),
            id=s.id,
        )

    def apply(self, edit: _Edit) -> bool:
        """Make the edit; False when it changes nothing (the search is stuck)."""
        if edit.name == STATUS:
            assert edit.value is not None
            status = int(edit.value)
            if edit.leg == "preflight":
                changed, self.preflight_status = self.preflight_status != status, status
            else:
                changed, self.response_status = self.response_status != status, status
            return changed
        headers = self.headers(edit.leg)
        updated = set_header(headers, edit.name, edit.value)
        changed = updated != headers
        headers[:] = updated
        return changed


def header_values(headers: Sequence[Header], name: str) -> list[str]:
    return [v for n, v in headers if n.lower() == name.lower()]


def set_header(headers: Sequence[Header], name: str, value: str | None) -> list[Header]:
    """Every ``name`` line replaced by one ``value`` line where the first one was (appended
    when absent; none when value is None)."""
    result: list[Header] = []
    placed = False
    for key, old in headers:
        if key.lower() != name.lower():
            result.append((key, old))
        elif not placed and value is not None:
            result.append((key, value))
            placed = True
    if value is not None and not placed:
        result.append((name, value))
    return result


def list_tokens(values: Sequence[str]) -> list[str]:
    """The names a list header's lines carry, kept even where the line does not parse
    (`PUT;` → PUT, `PUT POST` → PUT, POST), in order, without repeats."""
    seen: list[str] = []
    for line in values:
        for token in _TOKEN.findall(line):
            if token not in seen:
                seen.append(token)
    return seen


def _add_to_list(values: Sequence[str], item: str, *, case_sensitive: bool) -> str:
    tokens = list_tokens(values)
    present = item in tokens if case_sensitive else item.lower() in {t.lower() for t in tokens}
    if not present:
        tokens.append(item)
    return ", ".join(tokens)


def wanted_headers(scenario: Scenario) -> tuple[str, ...]:
    """The declared response headers a page plausibly reads: not CORS-safelisted (readable
    anyway), not the CORS protocol's own, not Set-Cookie (never readable), not headers only
    the browser or the connection use (Vary, Date, Location, ...)."""
    found: list[str] = []
    for name, _ in scenario.response.headers:
        lower = name.lower()
        if (
            lower.startswith("access-control-")
            or lower in CORS_SAFELISTED_RESPONSE_HEADER_NAMES
            or lower in FORBIDDEN_RESPONSE_HEADER_NAMES
            or lower in NOT_FOR_THE_PAGE
            or lower in {f.lower() for f in found}
        ):
            continue
        found.append(name)
    return tuple(found)


def _request_header_name(scenario: Scenario, lower: str) -> str:
    """The request header's name as the page wrote it."""
    return next((n for n, _ in scenario.request.headers if n.lower() == lower), lower)


def _origin_value_why(value: str, origin: str) -> str:
    if value.rstrip("/") == origin:
        return f"an origin never ends with a slash: '{value}' is not {origin}"
    if value.lower() == origin.lower():
        return f"'{value}' differs from {origin} in case, and the browser compares exactly"
    if value == "null":
        return (
            f"'null' is not {origin}; trusting null would also let sandboxed frames and "
            "file: pages read it"
        )
    if "," in value or " " in value:
        return (
            f"'{value}' is a list, and Access-Control-Allow-Origin holds exactly one origin (a "
            "server that allows several picks the request's Origin if it is on its list, and "
            "adds Vary: Origin)"
        )
    return (
        f"'{value}' is not the page's origin {origin}; the browser compares character for character"
    )


def _repair(scenario: Scenario, draft: _Draft, prediction: Prediction) -> _Edit | None:
    """The one edit the failed check asks for."""
    blocked = prediction.blocked_by
    if blocked is None:
        return None
    check = check_name(blocked)
    leg: Leg = "preflight" if is_preflight_failure(blocked) else "response"
    where = LEG_WORDS[leg]
    headers = received_header_list(draft.headers(leg))
    origin = scenario.origin
    request = scenario.request
    if check == "MissingAllowOriginHeader":
        extra = (
            " (a preflight response needs it too, not only the actual response)"
            if (leg == "preflight")
            else ""
        )
        return _Edit(
            leg,
            ACAO,
            origin,
            f"{where} has no Access-Control-Allow-Origin, so the browser may not use it; "
            f"send the page's exact origin {origin}{extra}",
        )
    if check == "MultipleAllowOriginValues":
        lines = header_values(headers, ACAO)
        if len(lines) > 1:
            why = (
                f"{where} sends {len(lines)} Access-Control-Allow-Origin lines, which the "
                "browser joins into one list; keep a single line with the page's origin "
                f"{origin} (often two layers, say a proxy and the app, each add one)"
            )
        else:
            why = _origin_value_why(lines[0] if lines else "", origin)
        return _Edit(leg, ACAO, origin, why)
    if check in ("InvalidAllowOriginValue", "AllowOriginMismatch"):
        value = ", ".join(header_values(headers, ACAO))
        return _Edit(leg, ACAO, origin, _origin_value_why(value, origin))
    if check == "WildcardOriginNotAllowed":
        return _Edit(
            leg,
            ACAO,
            origin,
            f"the request is sent with credentials: 'include', and then '*' never works; send "
            f"the exact origin {origin} (or, if the request needs no cookies, drop credentials "
            "in the page)",
        )
    if check == "InvalidAllowCredentials":
        values = header_values(headers, ACAC)
        had = (
            "no Access-Control-Allow-Credentials"
            if not values
            else ("Access-Control-Allow-Credentials: " + ", ".join(values))
        )
        return _Edit(
            leg,
            ACAC,
            "true",
            f"with credentials: 'include', {where} must say Access-Control-Allow-Credentials: "
            f"true, exactly that lowercase word; it had {had}",
        )
    if check in ("PreflightInvalidStatus", "PreflightDisallowedRedirect"):
        status = draft.preflight_status
        if check == "PreflightDisallowedRedirect" or 300 <= status < 400:
            why = (
                f"the preflight was answered with a {status} redirect, and a preflight is never "
                "redirected; answer the OPTIONS request itself with 204 No Content"
            )
        else:
            why = (
                f"the preflight was answered {status}, and a preflight needs an ok status "
                "(200-299); answer OPTIONS with 204 No Content (servers often send OPTIONS to a "
                "404 or 405 handler, or to authentication that refuses it: a preflight never "
                "carries cookies or Authorization)"
            )
        return _Edit("preflight", STATUS, str(PREFLIGHT_OK_STATUS), why)
    if check == "MethodDisallowedByPreflightResponse":
        method = prediction.failed_parameter or request.method
        values = header_values(headers, ACAM)
        tokens = list_tokens(values)
        why = f"Access-Control-Allow-Methods must list {method} exactly as the page sends it"
        if any(t.upper() == method.upper() and t != method for t in tokens):
            why += (
                f": methods are compared case-sensitively, and fetch() sends {method} as "
                "written (it uppercases only DELETE, GET, HEAD, OPTIONS, POST and PUT); "
                f"calling fetch() with {method.upper()} would work too"
            )
        elif "*" in tokens:
            why += ": with credentials: 'include', '*' is just a method named *"
        return _Edit(leg, ACAM, _add_to_list(values, method, case_sensitive=True), why)
    if check == "HeaderDisallowedByPreflightResponse":
        lower = prediction.failed_parameter or ""
        name = _request_header_name(scenario, lower)
        values = header_values(headers, ACAH)
        why = f"Access-Control-Allow-Headers must list the request header {name}"
        tokens = list_tokens(values)
        if lower == "authorization" and "*" in tokens:
            why += ": the Fetch Standard says '*' never covers Authorization, so name it"
        elif "*" in tokens:
            why += ": with credentials: 'include', '*' is just a header named *"
        return _Edit(leg, ACAH, _add_to_list(values, name, case_sensitive=False), why)
    if check in ("InvalidAllowMethodsPreflightResponse", "InvalidAllowHeadersPreflightResponse"):
        list_name = ACAM if "Methods" in check else ACAH
        values = header_values(headers, list_name)
        tokens = list_tokens(values)
        bad = ", ".join(repr(v) for v in values)
        why = (
            f"{list_name} ({bad}) does not parse, so the browser throws the whole list away; "
            "write the names separated by commas, nothing else"
        )
        return _Edit(leg, list_name, ", ".join(tokens) if tokens else None, why)
    return None


class _Changes:
    """The edits made so far, one Change per header (or status) of a leg."""

    def __init__(self, original: Scenario) -> None:
        self.original = original
        self.order: list[tuple[Leg, str]] = []
        self.after: dict[tuple[Leg, str], str | None] = {}
        self.why: dict[tuple[Leg, str], list[str]] = {}
        self.engines: dict[tuple[Leg, str], list[str]] = {}
        self.purpose: dict[tuple[Leg, str], Purpose] = {}

    def add(self, edit: _Edit, engine: str, purpose: Purpose = "pass") -> None:
        key = (edit.leg, edit.name.lower())
        if key not in self.after:
            self.order.append(key)
            self.why[key], self.engines[key] = [], []
            self.purpose[key] = purpose
        self.after[key] = edit.value
        if edit.why not in self.why[key]:
            self.why[key].append(edit.why)
        if engine not in self.engines[key]:
            self.engines[key].append(engine)

    def build(self, final: _Draft) -> tuple[Change, ...]:
        changes: list[Change] = []
        for key in self.order:
            leg, lower = key
            answer = (
                self.original.preflight_response if leg == "preflight" else self.original.response
            )
            if lower == STATUS:
                before: tuple[str, ...] = (str(answer.status),)
                name = STATUS
            else:
                before = tuple(header_values(answer.headers, lower))
                name = next(
                    (n for n, _ in final.headers(leg) if n.lower() == lower),
                    next((n for n, _ in answer.headers if n.lower() == lower), _canonical(lower)),
                )
            after = self.after[key]
            if lower != STATUS and list(before) == ([] if after is None else [after]):
                continue  # edited back to where it started
            changes.append(
                Change(
                    leg,
                    name,
                    before,
                    after,
                    tuple(self.why[key]),
                    tuple(self.engines[key]),
                    self.purpose[key],
                )
            )
        return tuple(changes)


_CANONICAL = {n.lower(): n for n in (ACAO, ACAC, ACAM, ACAH, ACEH)}


def _canonical(lower: str) -> str:
    return _CANONICAL.get(lower, lower)


def find_fix(
    scenario: Scenario,
    browser: str = "chromium",
    *,
    wanted: Sequence[str] | None = None,
    engines: Sequence[str] = ENGINES,
) -> Fix:
    """The smallest set of edits to the server's answers after which ``browser`` (then each
    of ``engines``) lets the request through and the page can read the ``wanted`` response
    headers (default: :func:`wanted_headers`)."""
    before = predict(scenario, browser)
    want = tuple(wanted_headers(scenario) if wanted is None else wanted)
    if before.outcome in ("error", "opaque"):
        return Fix(
            browser,
            "client",
            scenario,
            before,
            before,
            notes=(_client_side_note(before),),
            wanted=want,
        )
    draft = _Draft.of(scenario)
    changes = _Changes(scenario)
    order = [browser, *(e for e in engines if e != browser)]
    for engine in order:
        for _ in range(MAX_EDITS):
            current = draft.build()
            prediction = predict(current, engine)
            if prediction.outcome != "blocked":
                break
            edit = _repair(current, draft, prediction)
            if edit is None or not draft.apply(edit):
                return _stuck(browser, scenario, before, draft, changes, want, prediction)
            changes.add(edit, engine)
        else:
            return _stuck(browser, scenario, before, draft, changes, want, None)
    _expose(draft, changes, want, order)
    fixed = draft.build()
    after = predict(fixed, browser)
    built = changes.build(draft)
    remaining = tuple(
        (e, p.outcome) for e in order if (p := predict(fixed, e)).outcome not in ("allowed",)
    )
    status: FixStatus = "fixed" if any(c.purpose == "pass" for c in built) else "passes"
    return Fix(
        browser,
        status,
        fixed,
        before,
        after,
        built,
        notes=_notes(scenario, built),
        wanted=want,
        remaining=remaining,
    )


def _expose(
    draft: _Draft, changes: _Changes, wanted: Sequence[str], engines: Sequence[str]
) -> None:
    """List the wanted headers in Access-Control-Expose-Headers, if some engine hides one."""
    scenario = draft.build()
    hidden: list[str] = []
    for engine in engines:
        prediction = predict(scenario, engine)
        if prediction.outcome != "allowed":
            continue
        readable = set(prediction.readable_headers)
        hidden.extend(n for n in wanted if n.lower() not in readable and n not in hidden)
    if not hidden:
        return
    values = header_values(received_header_list(draft.response), ACEH)
    tokens = list_tokens(values)
    parsed = extract_header_list_values(ACEH, received_header_list(draft.response))
    for name in hidden:
        if name.lower() not in {t.lower() for t in tokens}:
            tokens.append(name)
    names = ", ".join(hidden)
    why = (
        "JavaScript can read only the CORS-safelisted response headers unless "
        f"{ACEH} lists the others"
    )
    if parsed.failure is not None:
        why = f"{ACEH} does not parse ({parsed.failure}), so it exposes nothing"
    elif "*" in tokens:
        why = f"with credentials: 'include', '*' in {ACEH} is just a header named *"
    why += f"; list {names} so the page can read {'it' if len(hidden) == 1 else 'them'}"
    edit = _Edit("response", ACEH, ", ".join(tokens), why)
    if draft.apply(edit):
        changes.add(edit, engines[0], "expose")


def _stuck(
    browser: str,
    scenario: Scenario,
    before: Prediction,
    draft: _Draft,
    changes: _Changes,
    wanted: tuple[str, ...],
    last: Prediction | None,
) -> Fix:
    detail = "" if last is None or last.failed_step is None else f": {last.failed_step.detail}"
    return Fix(
        browser,
        "stuck",
        draft.build(),
        before,
        predict(draft.build(), browser),
        changes.build(draft),
        notes=(f"No change to the server's headers gets this request through{detail}.",),
        wanted=wanted,
    )


def _client_side_note(prediction: Prediction) -> str:
    if prediction.outcome == "opaque":
        return (
            "Mode 'no-cors' always hands JavaScript an opaque response (status 0, no headers, "
            "no body), whatever the server answers: no server header changes that. To read "
            "the response, send it with mode 'cors' and let the server answer with CORS headers."
        )
    # Why fetch() refuses it is said where the failure is shown (the diagram or the verdict).
    return (
        "fetch() refuses this request before anything is sent, so no server header can fix "
        "it: the page's fetch() call has to change."
    )


def _notes(scenario: Scenario, changes: Sequence[Change]) -> tuple[str, ...]:
    notes: list[str] = []
    origin_set = any(c.name.lower() == ACAO.lower() and c.after is not None for c in changes)
    if origin_set and scenario.origin == "null":
        notes.append(
            "The page's origin is null (a sandboxed frame, a file: page or a data: URL). "
            "Allowing null also allows every other such page: fine for a demo, dangerous for "
            "anything with cookies."
        )
    if any(c.name.lower() == ACAO.lower() for c in changes):
        notes.append(
            "A fixed Access-Control-Allow-Origin serves one origin. To allow several, the "
            "server compares the request's Origin with its list, echoes it only when it is on "
            "the list, and sends Vary: Origin so caches keep the answers apart. Echoing any "
            "Origin, above all with credentials, lets every site read the response."
        )
    if any(n.lower() in FORBIDDEN_RESPONSE_HEADER_NAMES for n, _ in scenario.response.headers):
        notes.append(
            "Set-Cookie never reaches JavaScript, exposed or not: the browser keeps the cookie "
            "(with credentials: 'include') and hides the header."
        )
    if not is_cors_safelisted_method(scenario.request.method) and any(
        c.leg == "preflight" for c in changes
    ):
        notes.append(
            "The preflight is an OPTIONS request without cookies or Authorization: make sure "
            "routing and authentication let it through."
        )
    return tuple(notes)
