"""The fix search with a security goal: the attacker's credentialed reads refused in every
engine, the site's own request still passing, and the policy as library configuration."""

from __future__ import annotations

import pytest

from app.attack import ATTEMPTS, BY_CASE, CASES, Stage, attempt_scenario, site_scenario
from app.cors import predict
from app.cors.engines import ENGINES
from app.fix.secure import answered_by, find_secure_fix
from app.runs.origins import OriginPair

STAGE = Stage.of(OriginPair.of("localhost", 8000, 8001), 8002)


def search(case: str):  # type: ignore[no-untyped-def]
    policy = BY_CASE[case].policy(STAGE)
    attacks = [attempt_scenario(policy, STAGE, a) for a in ATTEMPTS]
    return find_secure_fix(site_scenario(policy, STAGE), attacks)


@pytest.mark.parametrize("case", [c.key for c in CASES])
def test_every_case_ends_with_the_site_s_exact_origin(case: str) -> None:
    fixed = search(case)
    assert fixed.policy is not None
    assert fixed.policy.origin == STAGE.site and fixed.policy.credentials
    assert fixed.site.after.outcome == "allowed"
    for check in fixed.checks:
        if check.credentials == "include":
            assert check.refused_after, check
    assert [c.key for c in fixed.configs] == [
        "starlette",
        "express",
        "flask",
        "django",
        "go",
        "nginx",
    ]
    assert all(STAGE.site in c.code for c in fixed.configs)
    dangerous = BY_CASE[case].danger is not None
    assert fixed.status == ("stops" if dangerous else "refused")


def test_the_change_is_what_the_attacker_s_answer_loses() -> None:
    fixed = search("reflect")
    names = [(c.name, c.before, c.after) for c in fixed.changes]
    assert ("Access-Control-Allow-Origin", (STAGE.attacker,), None) in names
    assert ("Access-Control-Allow-Credentials", ("true",), None) in names
    assert ("Access-Control-Allow-Origin", ("null",), None) in names
    assert not fixed.site.changes  # the site passed already


def test_wildcard_with_credentials_fixes_the_site_too() -> None:
    fixed = search("wildcard")
    assert [c.name for c in fixed.site.changes] == [
        "Access-Control-Allow-Origin",
        "Access-Control-Allow-Credentials",
    ]


def test_an_attacker_on_the_site_s_own_origin_cannot_be_refused() -> None:
    policy = BY_CASE["reflect"].policy(STAGE)
    same = attempt_scenario(policy, Stage(STAGE.site, STAGE.api, STAGE.site), ATTEMPTS[0])
    fixed = find_secure_fix(site_scenario(policy, STAGE), [same])
    assert fixed.status == "stuck"


def test_answered_by_keeps_the_other_lines_and_every_engine_agrees() -> None:
    policy = BY_CASE["reflect"].policy(STAGE)
    attack = attempt_scenario(policy, STAGE, ATTEMPTS[0])
    fixed = search("reflect")
    assert fixed.policy is not None
    after = answered_by(fixed.policy, attack)
    assert ("Content-Type", "application/json") in after.response.headers
    assert ("Vary", "Origin") in after.response.headers
    assert all(predict(after, engine).outcome == "blocked" for engine in ENGINES)
