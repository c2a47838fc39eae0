"""The policy behind a fix, and each library's configuration of it with its surprises."""

from __future__ import annotations

import json
import re

import pytest

from app.cors import Scenario
from app.fix.configs import library_configs
from app.fix.policy import Policy, policy_for
from app.fix.search import find_fix
from tests.fix.conftest import ACAC, JSON, LESSONS, PAGE, acao, lesson


def policy_of(scenario: Scenario, browser: str = "chromium") -> Policy:
    policy = policy_for(find_fix(scenario, browser))
    assert policy is not None
    return policy


def configs(policy: Policy) -> dict[str, tuple[str, tuple[str, ...], bool]]:
    return {c.key: (c.code, c.notes, c.expressible) for c in library_configs(policy)}


PUT_WITH_TOKEN = lesson(
    "put-token",
    "PUT",
    [JSON, ["X-Token", "1"]],
    credentials="include",
    body="{}",
    preflight=(404, []),
    response=(200, [["X-Request-Id", "1"], ["Set-Cookie", "s=1"]]),
)


def test_the_policy_is_explicit_about_everything_the_request_needs() -> None:
    policy = policy_of(PUT_WITH_TOKEN)
    assert policy == Policy(
        origin=PAGE,
        credentials=True,
        methods=("PUT",),
        allow_headers=("Content-Type", "X-Token"),
        expose_headers=("X-Request-Id",),
        max_age=None,
        preflight=True,
        request_method="PUT",
        requested_headers=("content-type", "x-token"),
    )


def test_a_wildcard_origin_stays_only_without_credentials() -> None:
    star = lesson("star", response=(200, [acao("*")]))
    assert policy_of(star).origin == "*"
    assert policy_of(star).methods == ("GET",)
    assert not policy_of(star).preflight
    with_credentials = lesson("star-cred", credentials="include", response=(200, [acao("*"), ACAC]))
    assert policy_of(with_credentials).origin == PAGE


def test_the_servers_own_lists_and_max_age_are_kept() -> None:
    scenario = lesson(
        "lists",
        "DELETE",
        [["X-A", "1"]],
        preflight=(
            204,
            [acao(), ["Access-Control-Allow-Methods", "GET, DELETE"],
             ["Access-Control-Allow-Headers", "X-A, X-B"], ["Access-Control-Max-Age", "600"]],
        ),
        response=(200, [acao()]),
    )  # fmt: skip
    policy = policy_of(scenario)
    assert policy.methods == ("GET", "DELETE")
    assert policy.allow_headers == ("X-A", "X-B")
    assert policy.max_age == 600


def test_no_policy_when_the_server_cannot_fix_it() -> None:
    assert policy_for(find_fix(lesson("opaque", mode="no-cors"))) is None


def test_every_library_gets_the_origin_methods_and_headers() -> None:
    found = configs(policy_of(PUT_WITH_TOKEN))
    assert set(found) == {"starlette", "express", "flask", "django", "go", "nginx"}
    for key, (code, notes, expressible) in found.items():
        assert PAGE in code, key
        assert "PUT" in code, key
        assert "X-Token".lower() in code.lower(), key
        assert "X-Request-Id" in code, key
        assert notes, key
        assert expressible, key
    assert "allow_credentials=True" in found["starlette"][0]
    assert "credentials: true" in found["express"][0]
    assert "supports_credentials=True" in found["flask"][0]
    assert "CORS_ALLOW_CREDENTIALS = True" in found["django"][0]
    assert "AllowCredentials: true" in found["go"][0]
    assert 'add_header Access-Control-Allow-Credentials "true" always;' in found["nginx"][0]


def test_nginx_answers_the_preflight_itself_only_when_there_is_one() -> None:
    preflighted = configs(policy_of(PUT_WITH_TOKEN))["nginx"][0]
    assert "if ($request_method = OPTIONS) {" in preflighted
    assert "return 204;" in preflighted
    # Inside the if block, the actual response's lines are repeated (no inheritance).
    branch = preflighted.split("return 204;")[0]
    assert branch.count("Access-Control-Allow-Origin") == 1
    simple = configs(policy_of(lesson("simple")))["nginx"][0]
    assert "OPTIONS" not in simple


def test_a_lowercase_method_cannot_be_expressed_with_flask_cors() -> None:
    patch = next(s for s in LESSONS if s.id == "patch-lowercase")
    found = configs(policy_of(patch))
    _code, notes, expressible = found["flask"]
    assert not expressible
    assert "uppercases methods" in notes[0]
    assert "PATCH" in notes[0]
    for key in ("starlette", "express", "django", "go", "nginx"):
        assert found[key][2], key
        assert re.search(r"\bpatch\b", found[key][0]), key
    assert any("uppercase standard methods" in n for n in found["starlette"][1])


def test_credentials_warn_against_the_wildcard_in_each_library() -> None:
    found = configs(policy_of(PUT_WITH_TOKEN))
    assert any("echoes whatever Origin" in n for n in found["starlette"][1])
    assert any('origin: "*"' in n and "origin: true" in n for n in found["express"][1])
    assert any("echoes every origin" in n for n in found["flask"][1])
    assert any("CORS_ALLOW_ALL_ORIGINS" in n for n in found["django"][1])
    assert any('never list "*"' in n for n in found["go"][1])


def test_library_surprises_are_named() -> None:
    found = configs(policy_of(PUT_WITH_TOKEN))
    assert any("200" in n and "OK" in n for n in found["starlette"][1])
    assert any("Access-Control-Max-Age: 600" in n for n in found["starlette"][1])
    assert any("204" in n and "without checking" in n for n in found["express"][1])
    assert any("automatic OPTIONS answer, 200" in n for n in found["flask"][1])
    assert any("replace the defaults" in n for n in found["django"][1])
    assert any("missing Access-Control-Allow-Origin" in n for n in found["go"][1])
    assert any("always" in n for n in found["nginx"][1])
    assert any("proxy_hide_header" in n for n in found["nginx"][1])


def test_a_null_origin_is_labelled_dangerous_everywhere() -> None:
    scenario = Scenario.from_json({"origin": "null", "url": "http://localhost:8001/x"})
    for key, (code, notes, _) in configs(policy_of(scenario)).items():
        assert '"null"' in code, key
        assert any("sandboxed" in n for n in notes), key


def test_hostile_values_stay_inside_their_string_literals() -> None:
    policy = Policy(
        origin='http://a"b\\c',
        credentials=False,
        methods=("GET",),
        allow_headers=(),
        expose_headers=("X-$x",),
        max_age=None,
        preflight=False,
        request_method="GET",
        requested_headers=(),
    )
    found = configs(policy)
    literal = json.dumps('http://a"b\\c')
    for key in ("starlette", "express", "flask", "django", "go"):
        assert literal in found[key][0], key
    assert '"http://a\\"b\\\\c"' in found["nginx"][0]
    assert not found["nginx"][2]


@pytest.mark.parametrize("scenario", LESSONS, ids=[s.id or "" for s in LESSONS])
def test_every_lesson_gets_six_configurations_or_a_reason(scenario: Scenario) -> None:
    fix = find_fix(scenario)
    policy = policy_for(fix)
    if policy is None:
        assert fix.status == "client"
        assert fix.notes
        return
    assert len(library_configs(policy)) == 6


def test_rs_cors_refusing_a_repeated_header_name_is_named() -> None:
    scenario = lesson(
        "twice",
        "GET",
        [["X-Token", "1"], ["X-Token", "2"]],
        preflight=(204, [acao(), ["Access-Control-Allow-Headers", "X-Token"]]),
        response=(200, [acao()]),
    )
    policy = policy_of(scenario)
    assert policy.repeated_headers == ("x-token",)
    assert any("names a header twice" in n for n in configs(policy)["go"][1])
    assert not any("twice" in n for n in configs(policy_of(PUT_WITH_TOKEN))["go"][1])
