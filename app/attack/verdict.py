"""What happened to each attempt, from what was recorded, and why, in words.

The evidence is what the victim API recorded (did the request arrive, with which ``Origin``
and which login cookie, what it answered) and what the attacker's script reported (did
``fetch()`` let it read the answer, and what it read). The engine's prediction for each browser
says whether CORS allows the read; when the read was allowed but the login cookie never came,
a browser's cookie policy stopped the attack, not CORS, and the verdict says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.attack.cases import Attempt, account_scenario
from app.attack.policy import Header, Policy
from app.attack.stage import CROSS_SITE, Stage
from app.cors import PROFILES, predict

BROWSERS = ("chromium", "firefox", "webkit")

# Why each browser keeps a login cookie back from a cross-site request (or one from a sandboxed
# frame, whose origin is opaque and so never the same site).
COOKIE_POLICIES = {
    "chromium": (
        "Chrome sends a `SameSite=None; Secure` cookie to other sites unless third-party cookies "
        "are blocked: in Incognito windows, in automated (headless) browsers, and whenever the "
        "settings block them"
    ),
    "firefox": (
        "Firefox keeps cookies per top-level site (Total Cookie Protection): on another site's "
        "page, and in a sandboxed frame even on a page of the same site, the API gets a "
        "separate, empty cookie jar"
    ),
    "webkit": (
        "Safari blocks third-party cookies, and WebKit keeps no `Secure` cookie set over http, "
        "not even on localhost: only the `SameSite=Lax` cookie exists, and it goes only to the "
        "same site (WebKit counts a sandboxed frame on a page of the same site as that site)"
    ),
    "spec": "the browser's third-party cookie rules kept it back",
}


@dataclass(frozen=True)
class EngineView:
    engine: str
    label: str
    outcome: str
    detail: str  # the failed check's words, or how the read passes


@dataclass(frozen=True)
class AttemptView:
    """One attempt of one round, as recorded and explained."""

    attempt: Attempt
    run_id: str
    expected_origin: str
    arrived: bool  # the account request reached the victim API
    origin_sent: str | None  # its Origin header as it arrived
    cookie: str | None  # its Cookie header as it arrived
    carried: tuple[str, ...]  # which login cookies it carried ("cross-site", "same-site")
    status: int | None  # what the API answered
    answered: tuple[Header, ...]  # the CORS lines the API answered
    outcome: str | None  # what fetch() gave the attacker's script (None: no report yet)
    read: str | None  # what the script read
    stolen: bool
    verdict: str
    sentence: str
    engines: tuple[EngineView, ...]


@dataclass(frozen=True)
class Evidence:
    """What was recorded of one attempt (the web layer reads it off the run and the log)."""

    arrived: bool = False
    origin_sent: str | None = None
    cookie: str | None = None
    carried: tuple[str, ...] = ()
    status: int | None = None
    answered: tuple[Header, ...] = ()
    outcome: str | None = None
    read: str | None = None
    stolen: bool = False


def engine_views(
    answered: tuple[Header, ...], origin: str, credentials: str
) -> tuple[EngineView, ...]:
    """Each browser engine's verdict on the read, for the CORS lines the API answered."""
    scenario = account_scenario(Policy("rows", rows=answered), origin, "http://api/", credentials)
    views = []
    for engine in BROWSERS:
        prediction = predict(scenario, engine)
        failed = prediction.failed_step
        if prediction.outcome == "allowed":
            detail = "the CORS check passes: the script reads the answer"
        elif failed is not None:
            detail = failed.detail
        else:
            detail = prediction.outcome
        views.append(EngineView(engine, PROFILES[engine].label, prediction.outcome, detail))
    return tuple(views)


def judge(
    attempt: Attempt,
    run_id: str,
    stage: Stage,
    evidence: Evidence,
    *,
    logged_in: bool,
    browser: str,
    expected_answer: tuple[Header, ...],
) -> AttemptView:
    """The verdict on one attempt; ``browser`` is the learner's engine profile,
    ``expected_answer`` what the policy answers the attempt's origin (used until the request
    arrives, so the engines explain even a request that never came)."""
    origin = attempt.origin(stage)
    answered = evidence.answered if evidence.arrived else expected_answer
    engines = engine_views(answered, evidence.origin_sent or origin, attempt.credentials)
    mine = next((e for e in engines if e.engine == browser), None)
    verdict, sentence = _verdict(attempt, stage, evidence, logged_in, browser, mine)
    return AttemptView(
        attempt,
        run_id,
        origin,
        evidence.arrived,
        evidence.origin_sent,
        evidence.cookie,
        evidence.carried,
        evidence.status,
        answered,
        evidence.outcome,
        evidence.read,
        evidence.stolen,
        verdict,
        sentence,
        engines,
    )


def _verdict(
    attempt: Attempt,
    stage: Stage,
    evidence: Evidence,
    logged_in: bool,
    browser: str,
    mine: EngineView | None,
) -> tuple[str, str]:
    if evidence.outcome is None:
        if evidence.arrived:
            return "pending", "The request reached the API; the script has not reported yet."
        return "pending", "Waiting for the attacker's page."
    if evidence.stolen:
        return (
            "stolen",
            "Stolen: your browser let the attacker's script read your account, secret and all, "
            "and the script sent it to the attacker's log.",
        )
    if evidence.outcome != "allowed":
        why = mine.detail if mine is not None and mine.outcome != "allowed" else ""
        reached = ""
        if evidence.arrived:
            reached = (
                "The request still reached the API"
                + (" with your login cookie" if evidence.carried else "")
                + ": CORS never stops a simple request, only the script's read. "
            )
        because = f" ({why})." if why else "."
        return (
            "refused",
            f"Refused: {reached}Your browser refused to let the script read the answer{because}",
        )
    if attempt.credentials == "omit":
        return (
            "anonymous",
            "Read, but nothing secret: without cookies the API cannot tell who asks and answers "
            f"{evidence.status or 401} as it would to a stranger.",
        )
    if not logged_in:
        return (
            "not-logged-in",
            "Nothing to steal yet: you were not logged in to the victim API when the attack ran. "
            "Log in, then replay.",
        )
    if not evidence.carried:
        cross = attempt.sandboxed or stage.relation == CROSS_SITE
        if cross:
            policy = COOKIE_POLICIES.get(browser, COOKIE_POLICIES["spec"])
            reason = f"the request was cross-site for your cookies, and {policy}"
        else:
            reason = "the cookie was missing or expired (log in again)"
        return (
            "no-cookie",
            "Not stolen, but not thanks to CORS: CORS let the attacker's script read the answer, "
            f"but your browser sent no login cookie ({reason}), so the API answered "
            f"{evidence.status or 401} with nothing secret. In a browser that sends the cookie, "
            "this policy hands over the account.",
        )
    return (
        "read",
        "The script read the answer, but your secret was not in it.",
    )


@dataclass(frozen=True)
class RoundVerdict:
    key: str  # stolen, cookie, refused, not-logged-in, pending
    sentence: str


def round_verdict(views: tuple[AttemptView, ...]) -> RoundVerdict:
    """The round in one line: stolen, kept back by a cookie policy, refused, or pending."""
    if any(v.verdict == "stolen" for v in views):
        return RoundVerdict("stolen", "The attacker has your account: the secret is in its log.")
    credentialed = [v for v in views if v.attempt.credentials == "include"]
    if any(v.verdict == "pending" for v in credentialed):
        return RoundVerdict("pending", "The attack is running in the attacker's window.")
    if any(v.verdict == "no-cookie" for v in credentialed):
        return RoundVerdict(
            "cookie",
            "Not stolen, only because your browser kept the login cookie back (a cookie "
            "policy, not CORS): the policy still lets the attacker read.",
        )
    if any(v.verdict == "not-logged-in" for v in credentialed):
        return RoundVerdict("not-logged-in", "Nothing to steal: you were not logged in.")
    return RoundVerdict(
        "refused", "The attack failed: your browser refused the attacker's script every read."
    )
