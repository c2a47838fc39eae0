"""Which policy changes stop the attack, which break the site, and which only move the problem.

A change is judged by the engine in every browser, twice: on the lab's own origins (does every
credentialed attempt of the attacker fail while the learner's site still reads its account?)
and on production-like origins, where an attacker can register names and any site can make a
sandboxed frame. A change that stops the attack here but lets such an origin through there
only moves the problem, and is called so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from app.attack.cases import ATTEMPTS, account_scenario, attempt_scenario, site_scenario
from app.attack.policy import Policy, exact, trusted_prefix
from app.attack.stage import PRODUCTION, PRODUCTION_ATTACKERS, Stage
from app.cors import predict
from app.cors.engines import ENGINES

BROWSER_ENGINES = tuple(e for e in ENGINES if e != "spec")


def reads(scenario_policy: Policy, origin: str, credentials: str = "include") -> bool:
    """Whether some browser lets a script at ``origin`` read the answer."""
    scenario = account_scenario(scenario_policy, origin, "https://api.example/", credentials)
    return any(predict(scenario, engine).outcome == "allowed" for engine in BROWSER_ENGINES)


def site_works(policy: Policy, stage: Stage) -> bool:
    """The learner's site reads its account with cookies in every browser."""
    scenario = site_scenario(policy, stage)
    return all(predict(scenario, engine).outcome == "allowed" for engine in BROWSER_ENGINES)


def readable_attempts(policy: Policy, stage: Stage) -> tuple[str, ...]:
    """The credentialed attempts some browser lets the attacker's script read."""
    found = []
    for attempt in ATTEMPTS:
        if attempt.credentials != "include":
            continue
        scenario = attempt_scenario(policy, stage, attempt)
        if any(predict(scenario, e).outcome == "allowed" for e in BROWSER_ENGINES):
            found.append(attempt.key)
    return tuple(found)


def moved(policy: Policy, source: Stage, target: Stage) -> Policy:
    """The same rule written for another stage's site (its origin, host and prefix)."""
    allowed = tuple(target.site if o == source.site else o for o in policy.allowed)
    trusted = policy.trusted
    if trusted == source.site:
        trusted = target.site
    elif trusted == trusted_prefix(source):
        trusted = trusted_prefix(target)
    elif trusted == source.host:
        trusted = target.host
    return replace(policy, allowed=allowed, trusted=trusted)


def production_leaks(policy: Policy, stage: Stage) -> tuple[tuple[str, str], ...]:
    """Origins an attacker can get in production that the same rule lets read with cookies."""
    if policy.rule == "rows":
        return ()
    there = moved(policy, stage, PRODUCTION)
    return tuple((o, how) for o, how in PRODUCTION_ATTACKERS if reads(there, o))


@dataclass(frozen=True)
class Assessment:
    """A policy judged on the lab's origins and in production."""

    key: str
    label: str
    policy: Policy
    site_works: bool
    readable: tuple[str, ...]  # attempts that still read here
    leaks: tuple[tuple[str, str], ...]  # production origins that still read, and how
    verdict: str  # stops, moves, breaks, fails
    sentence: str


def assess(
    key: str, label: str, policy: Policy, stage: Stage, before: tuple[str, ...] = ()
) -> Assessment:
    """Judge ``policy``; ``before`` are the attempts that read under the policy it replaces."""
    works = site_works(policy, stage)
    readable = readable_attempts(policy, stage)
    leaks = production_leaks(policy, stage)
    if readable == ("sandbox",) and "page" in before:
        verdict, sentence = (
            "moves",
            "Only moves the problem: the attacker's page is refused now, but a sandboxed frame "
            "on it (Origin: null) still reads the account, and any site can make one.",
        )
    elif readable:
        what = " and ".join(
            "the sandboxed frame (Origin: null)" if a == "sandbox" else "the attacker's page"
            for a in readable
        )
        verdict, sentence = "fails", f"Does not stop it: {what} still reads the account."
    elif not works:
        verdict, sentence = "breaks", "Stops the attack, and your own site with it."
    elif leaks:
        origin, how = leaks[0]
        verdict = "moves"
        sentence = (
            f"Stops this attack but only moves the problem: in production `{origin}` ({how}) "
            "still reads the account with the visitor's cookies."
        )
    else:
        verdict, sentence = "stops", "Stops the attack; your site keeps working."
    return Assessment(key, label, policy, works, readable, leaks, verdict, sentence)


# Changes people make to a misconfigured policy, from the current policy and the stage.
ALTERNATIVES: tuple[tuple[str, str, Callable[[Policy, Stage], Policy]], ...] = (
    ("exact", "Allow exactly `{site}` (an allow-list of one origin)", lambda p, s: exact(s)),
    (
        "null",
        "Allow `{site}` and `null` (for local files)",
        lambda p, s: Policy("list", True, allowed=(s.site, "null")),
    ),
    (
        "prefix-origin",
        "Compare the start with the whole origin, port included: `{site}`",
        lambda p, s: Policy("prefix", True, trusted=s.site),
    ),
    (
        "suffix-dot",
        "Compare the end of the host name with a dot: `{host}` or `*.{host}`",
        lambda p, s: Policy("suffix-dot", True, trusted=s.host),
    ),
    (
        "wildcard",
        "Send `*` instead, still with credentials",
        lambda p, s: Policy("any", True),
    ),
    (
        "no-credentials",
        "Keep the rule, drop `Access-Control-Allow-Credentials`",
        lambda p, s: replace(p, credentials=False),
    ),
)


def alternatives(policy: Policy, stage: Stage) -> tuple[Assessment, ...]:
    """What each usual change to ``policy`` does, judged (skipping changes that are the
    policy itself)."""
    found = []
    before = readable_attempts(policy, stage)
    for key, label, make in ALTERNATIVES:
        changed = make(policy, stage)
        if changed == policy:
            continue
        words = label.replace("{site}", stage.site).replace("{host}", stage.host)
        found.append(assess(key, words, changed, stage, before))
    return tuple(found)


def current(policy: Policy, stage: Stage) -> Assessment:
    """The policy as it is, judged the same way."""
    return assess("current", "The policy as it is", policy, stage)
