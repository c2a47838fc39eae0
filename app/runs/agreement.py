"""Compare what the learner's browser did with what the engine predicted.

Sources: the exchanges the API origin recorded (did a preflight arrive, with which
``Access-Control-Request-*`` values; did the actual request arrive) and the result the page's
script reported (outcome, status, readable headers, error). A difference is a finding, shown
to the learner in words, never an error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.cors import PROFILES, Prediction
from app.cors.names import REQUEST_HEADERS, REQUEST_METHOD
from app.cors.scenario import OUTCOME_EFFECTS, OUTCOMES
from app.runs.errors import BadRequest
from app.runs.privacy import public_run
from app.runs.store import BrowserResult, Exchange, Run, legs

PREFLIGHT_HEADERS = (REQUEST_METHOD, REQUEST_HEADERS)


@dataclass(frozen=True)
class BrowserInfo:
    """A browser named from its User-Agent, and the engine profile that models it."""

    label: str
    family: str

    @property
    def profile(self) -> str:
        return self.family if self.family in PROFILES else "spec"


_UA_RULES: Sequence[tuple[str, str, str]] = (
    (r"Edg/(\d+)", "Edge", "chromium"),
    (r"OPR/(\d+)", "Opera", "chromium"),
    (r"HeadlessChrome/(\d+)", "Chromium (headless)", "chromium"),
    (r"Chromium/(\d+)", "Chromium", "chromium"),
    (r"Chrome/(\d+)", "Chrome", "chromium"),
    (r"Firefox/(\d+)", "Firefox", "firefox"),
    # WebKitGTK and other Linux WebKit browsers claim a Safari "Version/" that is not one.
    (r"\(X11;[^)]*\) AppleWebKit/([\d.]+)", "WebKit", "webkit"),
    (r"Version/([\d.]+).*Safari/", "Safari", "webkit"),
    (r"AppleWebKit/([\d.]+)", "WebKit", "webkit"),
)


def browser_from_user_agent(user_agent: str) -> BrowserInfo:
    """Name the browser and its major version from a User-Agent string."""
    for pattern, name, family in _UA_RULES:
        match = re.search(pattern, user_agent)
        if match:
            version = match.group(1)
            if name.startswith("Chromium (headless)"):
                return BrowserInfo(f"Chromium {version} (headless)", family)
            return BrowserInfo(f"{name} {version}", family)
    return BrowserInfo("an unrecognised browser", "unknown")


def differences(
    prediction: Prediction, exchanges: Sequence[Exchange], result: BrowserResult
) -> tuple[str, ...]:
    """Every way the browser's behaviour differs from the prediction, in words."""
    found: list[str] = []
    preflights = legs(exchanges, "preflight")
    actuals = legs(exchanges, "actual")
    if prediction.outcome != result.outcome:
        found.append(
            f"the engine predicted “{prediction.outcome}” ({OUTCOME_EFFECTS[prediction.outcome]}), "
            f"but the browser's outcome was “{result.outcome}”"
        )
    if prediction.preflight and not preflights:
        found.append("the engine predicted a preflight, but none reached the API origin")
    elif preflights and not prediction.preflight:
        found.append("a preflight reached the API origin, but the engine predicted none")
    if prediction.actual_request_sent and not actuals:
        found.append("the engine predicted the actual request, but it never reached the API origin")
    elif actuals and not prediction.actual_request_sent:
        found.append(
            "the actual request reached the API origin, but the engine predicted it would not"
        )
    if prediction.preflight_request is not None and preflights:
        received = preflights[0].request
        for name in PREFLIGHT_HEADERS:
            expected = prediction.preflight_request.header(name)
            got = received.header(name)
            if expected != got:
                found.append(
                    f"{name}: the engine predicted {_show(expected)}, "
                    f"the API origin received {_show(got)}"
                )
    if prediction.outcome == result.outcome == "allowed":
        expected_names = sorted(set(prediction.readable_headers))
        got_names = sorted(set(result.readable_headers))
        if expected_names != got_names:
            found.append(
                f"readable headers: the engine predicted {_names(expected_names)}, "
                f"JavaScript could read {_names(got_names)}"
            )
    return tuple(found)


def _show(value: str | None) -> str:
    return "no header" if value is None else f"“{value}”"


def _names(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "none"


def observed(run: Run) -> dict[str, Any]:
    """What the app observed, shaped like the browser truth vectors."""
    preflights = run.preflights
    actuals = run.actuals
    doc: dict[str, Any] = {"preflight": bool(preflights), "actual_request_sent": bool(actuals)}
    if preflights:
        received = preflights[0].request
        doc["preflight_request"] = {n.lower(): received.header(n) for n in PREFLIGHT_HEADERS}
    if actuals:
        doc["actual_request_headers"] = sorted({k.lower() for k, _ in actuals[0].request.headers})
    result = run.browser_result
    if result is not None:
        doc["outcome"] = result.outcome
        if result.error is not None:
            doc["error"] = result.error
        if result.outcome in ("allowed", "opaque"):
            doc["readable_headers"] = list(result.readable_headers)
            doc["status"] = result.status
    return doc


MAX_RESULT_HEADERS = 200
MAX_RESULT_BODY = 4096
MAX_RESULT_ERROR = 1000
MAX_USER_AGENT = 500


def parse_result(doc: Any, run: Run, user_agent: str) -> BrowserResult:
    """What the page's script reported after ``fetch()`` settled, checked field by field."""
    if not isinstance(doc, dict):
        raise BadRequest(400, "the result must be a JSON object")
    outcome = doc.get("outcome")
    if outcome not in OUTCOMES:
        raise BadRequest(422, f"outcome must be one of {', '.join(OUTCOMES)}", "outcome")
    status = doc.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
        raise BadRequest(422, "status must be an integer or null", "status")
    raw_headers = doc.get("headers") or []
    if (
        not isinstance(raw_headers, list)
        or len(raw_headers) > MAX_RESULT_HEADERS
        or not all(
            isinstance(h, list) and len(h) == 2 and all(isinstance(p, str) for p in h)
            for h in raw_headers
        )
    ):
        raise BadRequest(422, "headers must be a list of [name, value] pairs", "headers")
    body = doc.get("body")
    error = doc.get("error")
    for name, value in (("body", body), ("error", error)):
        if value is not None and not isinstance(value, str):
            raise BadRequest(422, f"{name} must be a string or null", name)
    # The answer JavaScript reads may be a hop's, after redirects.
    answers = (run.scenario.response, *(hop.response for hop in run.scenario.hops), *run.hops)
    declared = {name.lower() for answer in answers for name, _ in answer.headers}
    names = {name.lower() for name, _ in raw_headers}
    browser = browser_from_user_agent(user_agent)
    return BrowserResult(
        outcome=outcome,
        status=status,
        readable_headers=tuple(sorted(names & declared)),
        headers=tuple((n, v) for n, v in raw_headers),
        body=None if body is None else body[:MAX_RESULT_BODY],
        error=None if error is None else error[:MAX_RESULT_ERROR],
        user_agent=user_agent[:MAX_USER_AGENT],
        browser=browser.label,
    )


def run_document(run: Run) -> dict[str, Any]:
    """A run as the JSON API returns it to anyone holding its id: its public view (no session,
    the browser's credentials redacted)."""
    run = public_run(run)
    return {
        "id": run.id,
        "state": run.state,
        "target": run.target,
        "scenario": run.scenario.to_json(),
        "prediction": run.prediction.to_json(),
        "notes": list(run.notes),
        "exchanges": [e.to_json() for e in run.exchanges],
        "exchanges_dropped": run.exchanges_dropped,
        "browser_result": None if run.browser_result is None else run.browser_result.to_json(),
        "agreement": run.agreement,
        "differences": list(run.differences),
        "observed": observed(run),
    }
