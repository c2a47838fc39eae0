"""Fix it with a security goal: the smallest change to the server's answers after which every
attacker's credentialed request is refused in every engine while the legitimate site's own
request keeps passing.

The search builds on ``find_fix``: it first makes (or keeps) the site's request passing, and
``policy_for`` turns that fixed request into an explicit policy: the site's exact origin, with
credentials when the site sends them. A server with that policy answers any other origin without
``Access-Control-Allow-Origin``. Each attacker's request is then answered that way, and the
engine checks, browser by browser, that the read is refused. The changes are what the attacker's
answers lose or gain, header by header; the library configurations come from the same policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from app.cors import Scenario, ServerResponse, predict
from app.cors.engines import ENGINES
from app.cors.names import ALLOW_CREDENTIALS, ALLOW_ORIGIN, EXPOSE_HEADERS, VARY
from app.fix.configs import LibraryConfig, library_configs
from app.fix.policy import Policy, policy_for
from app.fix.search import Change, Fix, find_fix, header_values

SecureStatus = Literal["stops", "refused", "stuck"]
Header = tuple[str, str]
# The headers a CORS policy decides; an answer's other lines stay as they are.
POLICY_HEADERS = (ALLOW_ORIGIN.lower(), ALLOW_CREDENTIALS.lower(), EXPOSE_HEADERS.lower())


@dataclass(frozen=True)
class AttackCheck:
    """One attacker's request before and after the fix: the outcome in each engine."""

    origin: str
    credentials: str
    before: tuple[tuple[str, str], ...]  # (engine, outcome)
    after: tuple[tuple[str, str], ...]
    # What its answer loses or gains, header by header.
    changes: tuple[Change, ...] = ()

    @property
    def refused_after(self) -> bool:
        return all(outcome != "allowed" for _, outcome in self.after)

    @property
    def read_before(self) -> bool:
        return any(outcome == "allowed" for _, outcome in self.before)


@dataclass(frozen=True)
class SecureFix:
    """The result of the search: whether the fix stops every credentialed attack (or they
    were refused already), the site's own fix, the explicit policy, and the changes."""

    status: SecureStatus
    site: Fix
    policy: Policy | None
    checks: tuple[AttackCheck, ...]
    changes: tuple[Change, ...]
    configs: tuple[LibraryConfig, ...]
    notes: tuple[str, ...] = ()


def policy_answer(policy: Policy, origin: str) -> tuple[Header, ...]:
    """What a server with ``policy`` (an explicit allow-list of one origin, or ``*``) sends a
    request from ``origin``: the allow lines for that origin, nothing for any other."""
    lines: list[Header] = []
    if policy.origin == "*":
        lines.append((ALLOW_ORIGIN, "*"))
    elif origin == policy.origin:
        lines.append((ALLOW_ORIGIN, origin))
        if policy.credentials:
            lines.append((ALLOW_CREDENTIALS, "true"))
    if lines and policy.expose_headers:
        lines.append((EXPOSE_HEADERS, ", ".join(policy.expose_headers)))
    if policy.origin != "*":
        lines.append((VARY, "Origin"))
    return tuple(lines)


def answered_by(policy: Policy, scenario: Scenario) -> Scenario:
    """``scenario`` with its answers' CORS lines replaced by what ``policy`` sends its origin."""

    def rewrite(answer: ServerResponse) -> ServerResponse:
        kept = [(n, v) for n, v in answer.headers if n.lower() not in (*POLICY_HEADERS, "vary")]
        vary = [v for n, v in answer.headers if n.lower() == "vary" and v.lower() != "origin"]
        lines = [*policy_answer(policy, scenario.origin), *kept, *((VARY, v) for v in vary)]
        return ServerResponse(answer.status, tuple(lines))

    return Scenario(
        scenario.origin,
        scenario.url,
        scenario.request,
        rewrite(scenario.preflight_response),
        rewrite(scenario.response),
        scenario.id,
    )


def _outcomes(scenario: Scenario, engines: Sequence[str]) -> tuple[tuple[str, str], ...]:
    return tuple((engine, predict(scenario, engine).outcome) for engine in engines)


def _changes(before: Scenario, after: Scenario) -> tuple[Change, ...]:
    """What the attacker's answer loses or gains, one Change per CORS header."""
    found = []
    for name in (ALLOW_ORIGIN, ALLOW_CREDENTIALS, EXPOSE_HEADERS, VARY):
        old = tuple(header_values(before.response.headers, name))
        new = header_values(after.response.headers, name)
        if list(old) == new:
            continue
        why = (
            f"the server now compares the Origin {before.origin} with its list and finds it "
            "missing, so it allows nothing"
            if name == ALLOW_ORIGIN
            else f"sent only to an allowed origin, and {before.origin} is not one"
            if name in (ALLOW_CREDENTIALS, EXPOSE_HEADERS)
            else "the answer depends on the Origin, so caches must keep the answers apart"
        )
        found.append(
            Change("response", name, old, ", ".join(new) if new else None, (why,), ("spec",))
        )
    return tuple(found)


def find_secure_fix(
    site: Scenario,
    attacks: Sequence[Scenario],
    browser: str = "chromium",
    *,
    engines: Sequence[str] = ENGINES,
) -> SecureFix:
    """The smallest server change after which the site's request passes and every attacker's
    credentialed request is refused, in each of ``engines``."""
    site_fix = find_fix(site, browser, engines=engines)
    policy = policy_for(site_fix)
    if policy is None:
        return SecureFix("stuck", site_fix, None, (), (), (), site_fix.notes)
    checks = []
    for attack in attacks:
        fixed = answered_by(policy, attack)
        checks.append(
            AttackCheck(
                attack.origin,
                attack.request.credentials,
                _outcomes(attack, engines),
                _outcomes(fixed, engines),
                _changes(attack, fixed),
            )
        )
    notes: list[str] = []
    dangerous = [c for c in checks if c.credentials == "include" and c.read_before]
    changes: list[Change] = []
    for check in dangerous:
        for change in check.changes:
            if all(c.name != change.name or c.before != change.before for c in changes):
                changes.append(change)
    if policy.origin == "*":
        notes.append(
            "The site's own request is sent without credentials, so * serves it; without "
            "cookies there is nothing secret for an attacker to read."
        )
    status: SecureStatus = "stops" if dangerous else "refused"
    if any(c.credentials == "include" and not c.refused_after for c in checks):
        status = "stuck"
        notes.append("An attacker's origin is the site's own: no policy can tell them apart.")
    return SecureFix(
        status,
        site_fix,
        policy,
        tuple(checks),
        tuple(changes),
        library_configs(policy),
        tuple(notes),
    )
