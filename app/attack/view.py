"""The lab's live view of one attack, read off what was recorded.

The victim API records each request as a leg of a run (its ``Origin``, its ``Cookie``, what it
answered); the attacker's page reports what its script got (``fetch()``'s outcome and what it
read), which the run keeps as its browser result and the attacker's log as an entry. This module
puts those together per round and per attempt, with the verdict and each engine's explanation,
and lists the legs the way the victim's console shows them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from app.attack.cases import BY_ATTEMPT
from app.attack.policy import Header
from app.attack.stage import Stage
from app.attack.store import Attack, Report, Round
from app.attack.verdict import AttemptView, Evidence, RoundVerdict, judge, round_verdict
from app.runs.store import Run

_KEY = secrets.token_bytes(32)
SITE_CHECK = "site"


def attack_id(session_id: str) -> str:
    """The id of the attack lab of ``session_id`` (unguessable, also its run-store session)."""
    digest = hmac.new(_KEY, f"attack:{session_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def cors_lines(headers: tuple[Header, ...]) -> tuple[Header, ...]:
    """The lines of an answer that decide the CORS check (and ``Vary``)."""
    return tuple(
        (n, v) for n, v in headers if n.lower().startswith("access-control-") or n.lower() == "vary"
    )


@dataclass(frozen=True)
class Leg:
    """One request the victim API answered, as its console lists it."""

    run_id: str
    at: float
    who: str
    method: str
    origin: str | None
    cookie: str | None
    carried: tuple[str, ...]
    status: int
    answered: tuple[Header, ...]


@dataclass(frozen=True)
class RoundView:
    number: int
    at: float
    policy: str
    stage: Stage
    logged_in: bool
    verdict: RoundVerdict
    attempts: tuple[AttemptView, ...]


@dataclass(frozen=True)
class SiteCheck:
    """The learner's own site reading its account: what must keep working."""

    run_id: str
    arrived: bool
    carried: tuple[str, ...]
    status: int | None
    outcome: str | None
    works: bool | None  # None: not finished yet

    @property
    def sentence(self) -> str:
        if self.works is None:
            return "Reading your account from your own site…"
        if self.works:
            return "Your site read your account, with your login cookie: it still works."
        if self.outcome == "allowed":
            return (
                "Your site's request went through, but without a login cookie the API answered "
                f"{self.status}: log in first."
            )
        return "Your own site cannot read your account under this policy: it is broken too."


@dataclass(frozen=True)
class LabView:
    attack: Attack
    rounds: tuple[RoundView, ...]  # newest first
    legs: tuple[Leg, ...]  # newest first
    log: tuple[Report, ...]  # the attacker's log, newest first
    site_checks: tuple[SiteCheck, ...]  # newest first


def _who(attempt: str) -> str:
    if attempt == SITE_CHECK:
        return "your site"
    return (
        "a sandboxed frame on the attacker's page"
        if attempt == "sandbox"
        else ("the attacker's page")
    )


def evidence(attack: Attack, run: Run | None, report: Report | None) -> Evidence:
    """What was recorded of one run of the attack."""
    actual = run.actuals[0] if run is not None and run.actuals else None
    result = run.browser_result if run is not None else None
    return Evidence(
        arrived=actual is not None,
        origin_sent=None if actual is None else actual.request.header("origin"),
        cookie=None if actual is None else actual.request.header("cookie"),
        carried=() if actual is None else attack.cookies_carried(actual.request.header("cookie")),
        status=None if actual is None else actual.response.status,
        answered=() if actual is None else cors_lines(actual.response.headers),
        outcome=None if result is None else result.outcome,
        read=None if report is None else report.read,
        stolen=report is not None and report.stolen,
    )


def round_view(
    attack: Attack, found: Round, runs: Callable[[str], Run | None], browser: str
) -> RoundView:
    views = []
    for key, run_id in found.runs.items():
        attempt = BY_ATTEMPT[key]
        expected = found.policy.answer(attempt.origin(found.stage))
        views.append(
            judge(
                attempt,
                run_id,
                found.stage,
                evidence(attack, runs(run_id), attack.reported(run_id)),
                logged_in=found.logged_in,
                browser=browser,
                expected_answer=expected,
            )
        )
    attempts = tuple(views)
    return RoundView(
        found.number,
        found.at,
        found.policy.describe(),
        found.stage,
        found.logged_in,
        round_verdict(attempts),
        attempts,
    )


def lab_view(attack: Attack, runs: Callable[[str], Run | None], browser: str) -> LabView:
    """The whole lab, as recorded so far; ``runs`` finds a run by id (None when it is gone),
    ``browser`` is the learner's engine profile."""
    rounds = tuple(round_view(attack, r, runs, browser) for r in reversed(attack.rounds))
    made: list[tuple[str, str]] = [
        (run_id, key) for r in attack.rounds for key, run_id in r.runs.items()
    ]
    made += [(run_id, SITE_CHECK) for run_id in attack.site_runs]
    legs = []
    for run_id, key in made:
        run = runs(run_id)
        if run is None:
            continue
        for exchange in run.exchanges:
            request = exchange.request
            legs.append(
                Leg(
                    run_id,
                    exchange.at,
                    _who(key),
                    request.method,
                    request.header("origin"),
                    request.header("cookie"),
                    attack.cookies_carried(request.header("cookie")),
                    exchange.response.status,
                    cors_lines(exchange.response.headers),
                )
            )
    legs.sort(key=lambda leg: leg.at, reverse=True)
    checks = []
    for run_id in reversed(attack.site_runs):
        run = runs(run_id)
        if run is None:
            continue
        found = evidence(attack, run, None)
        works = None
        if run.browser_result is not None:
            works = found.outcome == "allowed" and found.status == 200 and bool(found.carried)
        checks.append(
            SiteCheck(run_id, found.arrived, found.carried, found.status, found.outcome, works)
        )
    return LabView(attack, rounds, tuple(legs), tuple(attack.log), tuple(checks))
