"""The fix search: each failure class gets its one minimal edit, passing requests get none, and
every fix found lets the request through in every engine."""

from __future__ import annotations

import pytest

from app.cors import Scenario, ServerResponse, predict
from app.cors.engines import ENGINES
from app.fix.search import Change, find_fix, list_tokens, set_header, wanted_headers
from tests.fix.conftest import (
    ACAC,
    JSON,
    LESSONS,
    PAGE,
    acao,
    generated_scenarios,
    lesson,
    sample_scenarios,
)

PUT = ["Access-Control-Allow-Methods", "PUT"]


def edits(changes: tuple[Change, ...]) -> list[tuple[str, str, tuple[str, ...], str | None]]:
    return [(c.leg, c.name, c.before, c.after) for c in changes]


MINIMAL = [
    pytest.param(
        lesson("missing"),
        [("response", "Access-Control-Allow-Origin", (), PAGE)],
        id="MissingAllowOriginHeader",
    ),
    pytest.param(
        lesson("two-lines", response=(200, [acao(), acao()])),
        [("response", "Access-Control-Allow-Origin", (PAGE, PAGE), PAGE)],
        id="MultipleAllowOriginValues-two-lines",
    ),
    pytest.param(
        lesson("list", response=(200, [acao(f"{PAGE}, http://b.test")])),
        [("response", "Access-Control-Allow-Origin", (f"{PAGE}, http://b.test",), PAGE)],
        id="MultipleAllowOriginValues-list",
    ),
    pytest.param(
        lesson("slash", response=(200, [acao(PAGE + "/")])),
        [("response", "Access-Control-Allow-Origin", (PAGE + "/",), PAGE)],
        id="AllowOriginMismatch-trailing-slash",
    ),
    pytest.param(
        lesson("null", response=(200, [acao("null")])),
        [("response", "Access-Control-Allow-Origin", ("null",), PAGE)],
        id="AllowOriginMismatch-null",
    ),
    pytest.param(
        lesson("invalid", response=(200, [acao("http://localhost:80000")])),
        [("response", "Access-Control-Allow-Origin", ("http://localhost:80000",), PAGE)],
        id="InvalidAllowOriginValue",
    ),
    pytest.param(
        lesson("star", credentials="include", response=(200, [acao("*"), ACAC])),
        [("response", "Access-Control-Allow-Origin", ("*",), PAGE)],
        id="WildcardOriginNotAllowed",
    ),
    pytest.param(
        lesson(
            "True",
            credentials="include",
            response=(200, [acao(), ["Access-Control-Allow-Credentials", "True"]]),
        ),
        [("response", "Access-Control-Allow-Credentials", ("True",), "true")],
        id="InvalidAllowCredentials-True",
    ),
    pytest.param(
        lesson("no-acac", credentials="include", response=(200, [acao()])),
        [("response", "Access-Control-Allow-Credentials", (), "true")],
        id="InvalidAllowCredentials-missing",
    ),
    pytest.param(
        lesson("pf-missing", "PUT", preflight=(204, [PUT]), response=(200, [acao()])),
        [("preflight", "Access-Control-Allow-Origin", (), PAGE)],
        id="PreflightMissingAllowOriginHeader",
    ),
    pytest.param(
        lesson("pf-404", "PUT", preflight=(404, [acao(), PUT]), response=(200, [acao()])),
        [("preflight", "status", ("404",), "204")],
        id="PreflightInvalidStatus",
    ),
    pytest.param(
        lesson(
            "pf-302",
            "PUT",
            preflight=(302, [acao(), PUT, ["Location", "/elsewhere"]]),
            response=(200, [acao()]),
        ),
        [("preflight", "status", ("302",), "204")],
        id="PreflightDisallowedRedirect",
    ),
    pytest.param(
        lesson("pf-method", "DELETE", preflight=(204, [acao()]), response=(200, [acao()])),
        [("preflight", "Access-Control-Allow-Methods", (), "DELETE")],
        id="MethodDisallowedByPreflightResponse",
    ),
    pytest.param(
        lesson(
            "pf-patch",
            "patch",
            preflight=(204, [acao(), ["Access-Control-Allow-Methods", "GET, PATCH"]]),
            response=(200, [acao()]),
        ),
        [("preflight", "Access-Control-Allow-Methods", ("GET, PATCH",), "GET, PATCH, patch")],
        id="MethodDisallowedByPreflightResponse-case",
    ),
    pytest.param(
        lesson(
            "pf-header",
            "GET",
            [["X-Token", "1"]],
            preflight=(204, [acao(), ["Access-Control-Allow-Headers", "Content-Type"]]),
            response=(200, [acao()]),
        ),
        [("preflight", "Access-Control-Allow-Headers", ("Content-Type",), "Content-Type, X-Token")],
        id="HeaderDisallowedByPreflightResponse",
    ),
    pytest.param(
        lesson(
            "pf-bad-acam",
            "PUT",
            preflight=(204, [acao(), ["Access-Control-Allow-Methods", "PUT;"]]),
            response=(200, [acao()]),
        ),
        [("preflight", "Access-Control-Allow-Methods", ("PUT;",), "PUT")],
        id="InvalidAllowMethodsPreflightResponse",
    ),
    pytest.param(
        lesson(
            "pf-bad-acah",
            "GET",
            [["X-Token", "1"]],
            preflight=(204, [acao(), ["Access-Control-Allow-Headers", "x-token x"]]),
            response=(200, [acao()]),
        ),
        [("preflight", "Access-Control-Allow-Headers", ("x-token x",), "x-token, x")],
        id="InvalidAllowHeadersPreflightResponse",
    ),
    pytest.param(
        lesson(
            "pf-star-credentials",
            "PUT",
            credentials="include",
            preflight=(204, [acao("*"), ACAC, PUT]),
            response=(200, [acao(), ACAC]),
        ),
        [("preflight", "Access-Control-Allow-Origin", ("*",), PAGE)],
        id="PreflightWildcardOriginNotAllowed",
    ),
]


@pytest.mark.parametrize(("scenario", "expected"), MINIMAL)
def test_each_failure_class_gets_its_one_minimal_edit(
    scenario: Scenario, expected: list[tuple[str, str, tuple[str, ...], str | None]]
) -> None:
    fix = find_fix(scenario, "chromium")
    assert fix.status == "fixed"
    assert edits(fix.pass_changes) == expected
    assert fix.after.outcome == "allowed"
    assert fix.remaining == ()
    for change in fix.changes:
        assert change.why and all(why for why in change.why)
        assert change.engines == ("chromium",)


def test_a_request_that_passes_everywhere_gets_no_change() -> None:
    scenario = lesson(
        "ok",
        "PUT",
        [JSON],
        body="{}",
        preflight=(204, [acao(), PUT, ["Access-Control-Allow-Headers", "content-type"]]),
        response=(200, [acao(), ["Content-Type", "text/plain"]]),
    )
    fix = find_fix(scenario)
    assert fix.status == "passes"
    assert fix.changes == ()
    assert fix.scenario == scenario
    assert fix.notes == ()


def test_an_unexposed_header_gets_only_an_optional_expose_change() -> None:
    scenario = lesson("expose", response=(200, [acao(), ["X-Request-Id", "42"]]))
    fix = find_fix(scenario)
    assert fix.status == "passes"
    assert fix.pass_changes == ()
    assert edits(fix.expose_changes) == [
        ("response", "Access-Control-Expose-Headers", (), "X-Request-Id")
    ]
    assert "x-request-id" in fix.after.readable_headers


def test_exposing_extends_a_list_that_does_not_parse_and_a_literal_star() -> None:
    broken = lesson(
        "bad-aceh",
        response=(200, [acao(), ["X-A", "1"], ["Access-Control-Expose-Headers", "X-A;"]]),
    )
    assert edits(find_fix(broken).expose_changes) == [
        ("response", "Access-Control-Expose-Headers", ("X-A;",), "X-A")
    ]
    star = lesson(
        "star-aceh",
        credentials="include",
        response=(200, [acao(), ACAC, ["X-A", "1"], ["Access-Control-Expose-Headers", "*"]]),
    )
    fix = find_fix(star)
    assert edits(fix.expose_changes) == [
        ("response", "Access-Control-Expose-Headers", ("*",), "*, X-A")
    ]
    assert "just a header named *" in fix.expose_changes[0].why[0]


def test_set_cookie_and_plumbing_headers_are_not_wanted() -> None:
    scenario = lesson(
        "wanted",
        response=(
            200,
            [acao(), ["Set-Cookie", "a=1"], ["Vary", "Origin"], ["Content-Type", "text/plain"],
             ["X-Request-Id", "1"], ["ETag", '"v"'], ["x-request-id", "2"]],
        ),
    )  # fmt: skip
    assert wanted_headers(scenario) == ("X-Request-Id", "ETag")
    assert any("Set-Cookie never reaches JavaScript" in note for note in find_fix(scenario).notes)


def test_a_change_for_another_engine_says_which() -> None:
    star_auth = next(s for s in LESSONS if s.id == "authorization-star")
    fix = find_fix(star_auth, "chromium")
    assert fix.passed_in_browser
    assert fix.status == "fixed"
    [change] = fix.pass_changes
    assert change.engines == ("spec",)
    assert (change.name, change.after) == ("Access-Control-Allow-Headers", "*, Authorization")
    assert "never covers Authorization" in change.why[0]


def test_several_checks_in_a_row_are_fixed_one_after_another() -> None:
    scenario = lesson(
        "many",
        "patch",
        [["X-Token", "1"]],
        credentials="include",
        body="x",
        preflight=(404, [acao("*")]),
        response=(200, [acao("*"), ["X-Request-Id", "1"]]),
    )
    fix = find_fix(scenario)
    assert fix.status == "fixed"
    assert [(c.leg, c.name) for c in fix.pass_changes] == [
        ("preflight", "Access-Control-Allow-Origin"),
        ("preflight", "Access-Control-Allow-Credentials"),
        ("preflight", "status"),
        ("preflight", "Access-Control-Allow-Methods"),
        ("preflight", "Access-Control-Allow-Headers"),
        ("response", "Access-Control-Allow-Origin"),
        ("response", "Access-Control-Allow-Credentials"),
    ]
    assert [c.name for c in fix.expose_changes] == ["Access-Control-Expose-Headers"]


@pytest.mark.parametrize(
    "scenario",
    [lesson("trace", "TRACE"), lesson("body-get", body="x"), lesson("opaque", mode="no-cors")],
    ids=["forbidden-method", "body-on-get", "no-cors"],
)
def test_what_the_server_cannot_fix_is_said_so(scenario: Scenario) -> None:
    fix = find_fix(scenario)
    assert fix.status == "client"
    assert fix.changes == ()
    assert fix.notes
    assert "server" in fix.notes[0]


def test_a_null_page_origin_is_allowed_with_a_warning() -> None:
    scenario = Scenario.from_json({"origin": "null", "url": "http://localhost:8001/x"})
    fix = find_fix(scenario)
    assert edits(fix.pass_changes) == [("response", "Access-Control-Allow-Origin", (), "null")]
    assert any("sandboxed" in note for note in fix.notes)


def test_set_header_keeps_the_first_lines_place_and_name() -> None:
    headers = [
        ("access-control-allow-origin", "a"),
        ("X", "1"),
        ("Access-Control-Allow-Origin", "b"),
    ]
    assert set_header(headers, "Access-Control-Allow-Origin", "c") == [
        ("access-control-allow-origin", "c"),
        ("X", "1"),
    ]
    assert set_header(headers, "Access-Control-Allow-Origin", None) == [("X", "1")]
    assert set_header([], "Y", "1") == [("Y", "1")]


def test_list_tokens_keeps_the_names_a_broken_list_meant() -> None:
    assert list_tokens(["PUT;", "PUT POST", "(GET)", ",,DELETE"]) == [
        "PUT",
        "POST",
        "GET",
        "DELETE",
    ]


def _revert(fixed: Scenario, original: Scenario, change: Change) -> Scenario:
    leg = "preflight_response" if change.leg == "preflight" else "response"
    now: ServerResponse = getattr(fixed, leg)
    was: ServerResponse = getattr(original, leg)
    if change.name == "status":
        answer = ServerResponse(was.status, now.headers)
    else:
        kept = [h for h in now.headers if h[0].lower() != change.name.lower()]
        kept += [h for h in was.headers if h[0].lower() == change.name.lower()]
        answer = ServerResponse(now.status, tuple(kept))
    return Scenario(
        origin=fixed.origin,
        url=fixed.url,
        request=fixed.request,
        preflight_response=answer if leg == "preflight_response" else fixed.preflight_response,
        response=answer if leg == "response" else fixed.response,
        id=fixed.id,
    )


SCENARIOS = LESSONS + sample_scenarios() + generated_scenarios()


@pytest.mark.parametrize("browser", ["chromium", "firefox"])
def test_every_fix_passes_everywhere_and_every_change_is_needed(browser: str) -> None:
    counts = {"fixed": 0, "passes": 0, "client": 0}
    for scenario in SCENARIOS:
        fix = find_fix(scenario, browser)
        assert fix.status != "stuck", (scenario.id, fix.notes)
        counts[fix.status] += 1
        if fix.status == "client":
            continue
        for engine in ENGINES:
            after = predict(fix.scenario, engine)
            if after.outcome == "error":  # refused before sending in that engine only
                continue
            assert after.outcome == "allowed", (scenario.id, engine)
            assert {w.lower() for w in fix.wanted} <= set(after.readable_headers), scenario.id
        if all(predict(scenario, e).outcome in ("allowed", "error") for e in ENGINES):
            assert fix.pass_changes == (), scenario.id
        for change in fix.pass_changes:
            reverted = _revert(fix.scenario, scenario, change)
            assert any(predict(reverted, e).outcome == "blocked" for e in ENGINES), (
                scenario.id,
                change,
            )
    assert min(counts.values()) > 20
