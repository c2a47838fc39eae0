"""A run as a sequence diagram (drawn with HTML and CSS by templates/partials/sequence.html):
the browser and the server, each leg that crossed (or should have crossed) between them, and
where the browser let the response through or blocked it.

What the API origin recorded wins over the prediction: a recorded leg is drawn as seen, a
predicted one that has not arrived as expected (or missing, once the run is done), and a leg the
browser never sends (after a failed preflight, or a fetch() refused outright) as never sent.
A whole fetch that follows redirects is drawn leg by leg in the order the legs arrived, each
redirect with its ``Location`` and each hop on another host named, then the legs the engine
still expects (https://fetch.spec.whatwg.org/#http-redirect-fetch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Literal, Protocol

from app.cors import Prediction
from app.cors.names import (
    ALLOW_CREDENTIALS,
    ALLOW_HEADERS,
    ALLOW_METHODS,
    ALLOW_ORIGIN,
    LOCATION,
    ORIGIN,
    REQUEST_HEADERS,
    REQUEST_METHOD,
)
from app.cors.scenario import Leg

# The response header each failed check reads, by the check's DevTools name: the diagram labels
# the answer that failed with that header, where the failure is.
FAILED_HEADER = {
    "MissingAllowOriginHeader": ALLOW_ORIGIN,
    "MultipleAllowOriginValues": ALLOW_ORIGIN,
    "InvalidAllowOriginValue": ALLOW_ORIGIN,
    "AllowOriginMismatch": ALLOW_ORIGIN,
    "WildcardOriginNotAllowed": ALLOW_ORIGIN,
    "InvalidAllowCredentials": ALLOW_CREDENTIALS,
    "MethodDisallowedByPreflightResponse": ALLOW_METHODS,
    "InvalidAllowMethodsPreflightResponse": ALLOW_METHODS,
    "HeaderDisallowedByPreflightResponse": ALLOW_HEADERS,
    "InvalidAllowHeadersPreflightResponse": ALLOW_HEADERS,
}
FAILED_HEADER |= {
    f"Preflight{name}": header
    for name, header in FAILED_HEADER.items()
    if not name.endswith("PreflightResponse")
}
# A preflight answered with a status that is not ok fails on its status line, not a header.
STATUS = "status"
FAILED_HEADER["PreflightInvalidStatus"] = STATUS
# The same by the engine's check name, for a failure without a DevTools name.
FAILED_CHECK_HEADER = {
    "allow-methods": ALLOW_METHODS,
    "allow-headers": ALLOW_HEADERS,
}
AC_PREFIX = "Access-Control-"

RowKind = Literal["request", "response", "check", "note"]
RowState = Literal["seen", "expected", "missing", "never", "ok", "fail", "info", "pending"]
# Text longer than this is cut (a header value can be long; the raw view shows it whole).
TEXT_MAX = 300


class RecordedRequestLike(Protocol):
    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def headers(self) -> tuple[tuple[str, str], ...]: ...


class RecordedResponseLike(Protocol):
    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> tuple[tuple[str, str], ...]: ...


class ExchangeLike(Protocol):
    """One recorded leg (app.runs.store.Exchange has this shape)."""

    @property
    def kind(self) -> str: ...
    @property
    def request(self) -> RecordedRequestLike: ...
    @property
    def response(self) -> RecordedResponseLike: ...


@dataclass(frozen=True)
class Row:
    """One line of the diagram: an arrow, or a mark at the browser."""

    kind: RowKind
    leg: str
    label: str
    detail: str
    state: RowState


@dataclass(frozen=True)
class Diagram:
    rows: tuple[Row, ...]
    # Where the rows come from: "browser" once its result arrived, else "prediction".
    source: str
    # Whether a row states the failed check in words (its name and what failed), so the rest
    # of the card need not say it again.
    states_failure: bool = False


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis; control characters made visible."""
    text = visible(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def visible(text: str) -> str:
    """Control characters as \\xNN, so a hostile header value cannot hide or break a line."""
    return "".join(
        f"\\x{ord(c):02x}" if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 else c for c in text
    )


def status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _row(kind: RowKind, leg: str, label: str, detail: str, state: RowState) -> Row:
    return Row(kind, leg, shorten(label, TEXT_MAX), shorten(detail, TEXT_MAX), state)


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    values = [v for n, v in headers if n.lower() == name.lower()]
    return ", ".join(values) if values else None


def _request_detail(kind: str, headers: Sequence[tuple[str, str]]) -> str:
    if kind == "preflight":
        method = _header(headers, REQUEST_METHOD)
        asked = _header(headers, REQUEST_HEADERS)
        parts = [f"asks for {method or '?'}"]
        if asked:
            parts.append(f"headers {asked}")
        return ", ".join(parts)
    origin = _header(headers, ORIGIN)
    return f"Origin: {origin}" if origin else "no Origin header"


def failed_header(prediction: Prediction) -> str | None:
    """The response header whose check failed (None when no header check failed)."""
    failed = prediction.failed_step
    if failed is None:
        return None
    return FAILED_HEADER.get(prediction.blocked_by or "") or FAILED_CHECK_HEADER.get(failed.check)


def _response_detail(headers: Sequence[tuple[str, str]], name: str | None = None) -> str:
    """What the arrow of an answer says: the header whose check failed (when one did on this
    leg), else Access-Control-Allow-Origin."""
    if name == STATUS:
        return "not an ok status (200 to 299)"
    failed = name is not None
    name = name or ALLOW_ORIGIN
    value = _header(headers, name)
    detail = f"no {name}" if value is None else f"{name.removeprefix(AC_PREFIX)}: {value}"
    location = _header(headers, LOCATION)
    return detail if failed or location is None else f"Location: {location}; {detail}"


def _legs(
    exchanges: Sequence[ExchangeLike], kind: str, state: RowState, failed: str | None = None
) -> list[Row]:
    """Arrows for recorded legs; ``failed`` names the header whose check failed on the last
    one."""
    rows: list[Row] = []
    for index, exchange in enumerate(exchanges):
        last = index == len(exchanges) - 1
        request, response = exchange.request, exchange.response
        rows.append(
            _row(
                "request",
                kind,
                f"{request.method} {request.path}",
                _request_detail(kind, request.headers),
                state,
            )
        )
        rows.append(
            _row(
                "response", kind, status_line(response.status),
                _response_detail(response.headers, failed if last else None), state,
            )
        )  # fmt: skip
    return rows


def build_sequence(
    prediction: Prediction,
    exchanges: Sequence[ExchangeLike],
    *,
    outcome: str | None,
    done: bool,
    method: str = "",
    path: str = "",
) -> Diagram:
    """The diagram of one run. ``outcome`` is what the browser's fetch() gave (None while
    running); ``method`` and ``path`` name the request for legs that were never recorded."""
    if _is_chain(prediction, exchanges):
        return _chain(prediction, exchanges, outcome=outcome, done=done, path=path)
    preflights = [e for e in exchanges if e.kind == "preflight"]
    actuals = [e for e in exchanges if e.kind == "actual"]
    final = outcome or prediction.outcome
    failed = prediction.failed_step
    why = "" if failed is None else failed.detail
    agrees = outcome is None or outcome == prediction.outcome
    name = prediction.blocked_by if agrees and prediction.blocked_by else ""
    rows: list[Row] = []
    request_label = f"{method} {path}".strip() or "the request"

    if final == "error" and not exchanges:
        rows.append(
            _row("check", "page", "fetch() refuses the request: nothing is sent", why, "fail")
        )
        rows.append(_row("request", "actual", request_label, "never sent", "never"))
        return Diagram(tuple(rows), "browser" if outcome else "prediction", bool(why))

    preflight_expected = prediction.preflight or bool(preflights)
    blocked_at_preflight = final == "blocked" and not actuals and preflight_expected
    header = failed_header(prediction) if name else None
    if preflights:
        rows += _legs(preflights, "preflight", "seen", header if blocked_at_preflight else None)
    elif prediction.preflight:
        if not done:
            rows.append(
                _row("request", "preflight", f"OPTIONS {path}".strip(), "expected", "expected")
            )
            rows.append(_row("response", "preflight", "answer", "expected", "expected"))
        elif actuals:
            rows.append(
                _row(
                    "note",
                    "preflight",
                    "No preflight arrived",
                    "the browser reused a cached preflight result for this URL",
                    "missing",
                )
            )
        else:
            rows.append(_row("note", "preflight", "No preflight arrived", "", "missing"))

    if blocked_at_preflight:
        title = f"Blocked at the preflight: {name}" if name else "Blocked at the preflight"
        rows.append(_row("check", "preflight", title, why if name else "", _final_state(done)))
        rows.append(
            _row("request", "actual", request_label, "never sent: the preflight failed", "never")
        )
        return Diagram(tuple(rows), "browser" if outcome else "prediction", bool(name and why))
    if preflights or (prediction.preflight and not done):
        rows.append(
            _row(
                "check",
                "preflight",
                "Preflight passed: the browser sends the request",
                "",
                "ok" if actuals else "pending",
            )
        )

    if actuals:
        rows += _legs(actuals, "actual", "seen", header if final == "blocked" else None)
    elif not done:
        rows.append(_row("request", "actual", request_label, "expected", "expected"))
        rows.append(_row("response", "actual", "answer", "expected", "expected"))
    else:
        rows.append(_row("note", "actual", "The actual request never arrived", "", "missing"))

    states_failure = False
    if final == "allowed":
        # Which headers JavaScript reads is said once, in the verdict.
        rows.append(
            _row(
                "check",
                "actual",
                "CORS check passed: JavaScript reads the response",
                "",
                "ok" if done else "pending",
            )
        )
    elif final == "blocked":
        title = f"Blocked after the response arrived: {name}" if name else "Blocked by the browser"
        detail = why if name and why else ""
        states_failure = bool(detail)
        if "TypeError" not in detail:
            detail += ("; " if detail else "") + "fetch() rejects with a TypeError"
        rows.append(_row("check", "actual", title, detail, _final_state(done)))
    elif final == "opaque":
        rows.append(
            _row(
                "check",
                "actual",
                "Opaque response: JavaScript sees status 0",
                "no headers, no body (mode 'no-cors')",
                "info",
            )
        )
    elif final == "opaqueredirect":
        rows.append(
            _row("check", "actual", "Opaque-redirect response: JavaScript sees status 0",
                 "redirect: 'manual' hands back the redirect itself, unreadable", "info")
        )  # fmt: skip
    else:
        states_failure = bool(why)
        rows.append(_row("check", "actual", "fetch() rejected", why, _final_state(done)))
    return Diagram(tuple(rows), "browser" if outcome else "prediction", states_failure)


def _final_state(done: bool) -> RowState:
    return "fail" if done else "pending"


# What failed, in a few words, by the check's DevTools name: the outcome line beside Send.
# ``{answer}`` is "preflight" or "response"; ``{value}`` the value the check complained about.
FAILED_IN_WORDS = {
    "MissingAllowOriginHeader": "the {answer} has no Access-Control-Allow-Origin",
    "MultipleAllowOriginValues": "the {answer}'s Access-Control-Allow-Origin holds several values",
    "InvalidAllowOriginValue": "the {answer}'s Access-Control-Allow-Origin is not a valid origin",
    "AllowOriginMismatch": "the {answer}'s Access-Control-Allow-Origin{value} is not this "
    "page's origin",
    "WildcardOriginNotAllowed": "the {answer}'s Access-Control-Allow-Origin is *, which a "
    "request with credentials cannot use",
    "InvalidAllowCredentials": "the {answer}'s Access-Control-Allow-Credentials is not true",
    "MethodDisallowedByPreflightResponse": "the preflight's Access-Control-Allow-Methods does "
    "not allow{value}",
    "InvalidAllowMethodsPreflightResponse": "the preflight's Access-Control-Allow-Methods cannot "
    "be parsed",
    "HeaderDisallowedByPreflightResponse": "the preflight's Access-Control-Allow-Headers does "
    "not allow{value}",
    "InvalidAllowHeadersPreflightResponse": "the preflight's Access-Control-Allow-Headers cannot "
    "be parsed",
    "PreflightInvalidStatus": "the preflight's status is not ok (200 to 299)",
    "PreflightDisallowedRedirect": "the preflight was answered with a redirect",
}


def outcome_line(prediction: Prediction, outcome: str | None, status: int | None = None) -> str:
    """The outcome of a run in one line (the status beside the Send button): what the browser's
    fetch() gave and, when it was blocked as predicted, which check failed."""
    if outcome is None:
        return "Sent: waiting for the browser's result…"
    if outcome != prediction.outcome:
        return (
            f"{outcome.capitalize()}, where the engine predicted {prediction.outcome}: "
            "a finding, described in the run's card"
        )
    failed = prediction.failed_step
    if outcome == "allowed":
        shown = "" if status is None else f" (status {status})"
        return f"Allowed: JavaScript read the response{shown}"
    if outcome == "opaque":
        return "Opaque: the response arrived, but mode no-cors hides it from JavaScript"
    if outcome == "error":
        why = f": {failed.detail}" if failed is not None else ""
        return f"Not sent: fetch() refused the request{why}"
    name = prediction.blocked_by or ""
    words = FAILED_IN_WORDS.get(name.removeprefix("Preflight")) or FAILED_IN_WORDS.get(name)
    if words is None:
        return f"Blocked: {failed.detail}" if failed is not None else "Blocked by the browser"
    preflight = name.startswith("Preflight") or name.endswith("PreflightResponse")
    value = prediction.failed_parameter
    shown = "" if not value else f" ({value})" if "AllowOrigin" in name else f" {value}"
    return "Blocked: " + words.format(answer="preflight" if preflight else "response", value=shown)


def prediction_line(prediction: Prediction) -> str:
    """The engine's prediction in one line, for the composer's live announcement: the outcome,
    whether a preflight goes first and, when a check fails, which."""
    preflight = ", after a preflight" if prediction.preflight else ""
    line = f"Prediction: {prediction.outcome}{preflight}"
    if prediction.outcome == "blocked":
        words = outcome_line(prediction, "blocked").removeprefix("Blocked: ")
        return f"{line}: {words}"
    failed = prediction.failed_step
    if prediction.outcome == "error" and failed is not None:
        return f"{line}: fetch() refuses it: {failed.detail}"
    return line
# --- a whole fetch with redirects -------------------------------------------------------------


def _is_chain(prediction: Prediction, exchanges: Sequence[ExchangeLike]) -> bool:
    """Whether the run followed (or is predicted to follow) a redirect: more than one actual
    request, or a leg at another URL than the first."""
    actual_legs = [leg for leg in prediction.legs if leg.kind == "actual"]
    urls = {leg.url for leg in prediction.legs}
    recorded = [e for e in exchanges if e.kind == "actual"]
    return len(actual_legs) > 1 or len(urls) > 1 or len(recorded) > 1


def _host(headers: Sequence[tuple[str, str]]) -> str | None:
    return _header(headers, "Host")


def _path_of(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return "/" + rest.split("/", 1)[1] if "/" in rest else "/"


def _host_of(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]


def _predicted_detail(leg: Leg) -> str:
    return _request_detail(leg.kind, leg.headers) + f" · at {_host_of(leg.url)}"


def _chain(
    prediction: Prediction,
    exchanges: Sequence[ExchangeLike],
    *,
    outcome: str | None,
    done: bool,
    path: str,
) -> Diagram:
    final = outcome or prediction.outcome
    failed = prediction.failed_step
    why = "" if failed is None else failed.detail
    agrees = outcome is None or outcome == prediction.outcome
    name = prediction.blocked_by if agrees and prediction.blocked_by else ""
    source = "browser" if outcome else "prediction"
    rows: list[Row] = []
    if final == "error" and not exchanges:
        rows.append(
            _row("check", "page", "fetch() refuses the request: nothing is sent", why, "fail")
        )
        rows.append(_row("request", "actual", path or "the request", "never sent", "never"))
        return Diagram(tuple(rows), source)

    first_host = _host(exchanges[0].request.headers) if exchanges else None
    previous: ExchangeLike | None = None
    for exchange in exchanges:
        request, response = exchange.request, exchange.response
        if previous is not None and previous.kind == "preflight" and exchange.kind == "actual":
            rows.append(
                _row("check", "preflight", "Preflight passed: the browser sends the request",
                     "", "ok")
            )  # fmt: skip
        detail = _request_detail(exchange.kind, request.headers)
        host = _host(request.headers)
        if host is not None and host != first_host:
            detail += f" · at {host}"
        rows.append(
            _row("request", exchange.kind, f"{request.method} {request.path}", detail, "seen")
        )
        rows.append(
            _row("response", exchange.kind, status_line(response.status),
                 _response_detail(response.headers), "seen")
        )  # fmt: skip
        previous = exchange

    rest: Sequence[Leg] = prediction.legs[len(exchanges) :]
    last_kind = exchanges[-1].kind if exchanges else None
    if rest and not done:
        for leg in rest:
            rows.append(
                _row("request", leg.kind, f"{leg.method} {_path_of(leg.url)}",
                     _predicted_detail(leg), "expected")
            )  # fmt: skip
            rows.append(_row("response", leg.kind, "answer", "expected", "expected"))
        last_kind = rest[-1].kind
    elif rest:
        count = len(rest)
        rows.append(
            _row("note", rest[0].kind,
                 f"{count} more leg{'s' if count > 1 else ''} the engine predicted never arrived",
                 f"next: {rest[0].method} {rest[0].url}", "missing")
        )  # fmt: skip

    if final == "blocked":
        redirect = (
            previous is not None
            and previous.kind == "actual"
            and _header(previous.response.headers, LOCATION) is not None
        )
        if last_kind == "preflight":
            where = "at the preflight"
        elif redirect:
            where = "at the redirect"
        else:
            where = "after the response arrived"
        title = f"Blocked {where}: {name}" if name else f"Blocked {where}"
        detail = why if name and why else ""
        if "TypeError" not in detail:
            detail += ("; " if detail else "") + "fetch() rejects with a TypeError"
        rows.append(_row("check", last_kind or "actual", title, detail, _final_state(done)))
        if last_kind == "preflight":
            rows.append(
                _row("request", "actual", "the request", "never sent: the preflight failed",
                     "never")
            )  # fmt: skip
    elif final == "allowed":
        readable = ", ".join(prediction.readable_headers) or "only safelisted headers"
        url = f"; response.url is {prediction.response_url}" if prediction.response_url else ""
        rows.append(
            _row("check", "actual", "CORS check passed: JavaScript reads the response",
                 f"readable: {readable}{url}" if agrees else "", "ok" if done else "pending")
        )  # fmt: skip
    elif final == "opaqueredirect":
        rows.append(
            _row("check", "actual", "Opaque-redirect response: JavaScript sees status 0",
                 "redirect: 'manual' hands back the redirect itself, unreadable", "info")
        )  # fmt: skip
    elif final == "opaque":
        rows.append(
            _row("check", "actual", "Opaque response: JavaScript sees status 0",
                 "no headers, no body (mode 'no-cors')", "info")
        )  # fmt: skip
    else:
        rows.append(_row("check", "actual", "fetch() rejected", why, _final_state(done)))
    return Diagram(tuple(rows), source)
