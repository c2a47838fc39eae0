"""The harness in real Firefox (WebDriver BiDi), beyond the shared sample; Firefox's reasons.

What every browser must do alike (fresh paths, cookies, exchanges, …) is in test_browsers.py.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from app.harness import Harness, compare, run_verify, shared_harness
from app.harness.firefox import USER_PREFS, classify, classify_reason, console_reason, user_js
from app.harness.target import RecordedRequest

from .conftest import PAGE, TARGET, processes_left_in_groups, scenario, simple_get

BLOCKED = (
    "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource "
)


def preflight_answer(*headers: tuple[str, str], status: int = 204) -> dict[str, Any]:
    return {"status": status, "headers": [list(h) for h in headers]}


@pytest.fixture(scope="module")
def firefox() -> Harness:
    """The process-wide Firefox harness (shared with the truth tests: one launch)."""
    return shared_harness("firefox")


# -- Firefox's reasons as check names (no browser) --------------------------------------------


@pytest.mark.parametrize(
    ("reason", "actual", "preflight"),
    [
        (
            "CORS header ‘Access-Control-Allow-Origin’ missing",
            "MissingAllowOriginHeader",
            "PreflightMissingAllowOriginHeader",
        ),
        (
            "Multiple CORS header ‘Access-Control-Allow-Origin’ not allowed",
            "MultipleAllowOriginValues",
            "PreflightMultipleAllowOriginValues",
        ),
        (
            "CORS header ‘Access-Control-Allow-Origin’ does not match ‘http://a’",
            "AllowOriginMismatch",
            "PreflightAllowOriginMismatch",
        ),
        (
            "Credential is not supported if the CORS header ‘Access-Control-Allow-Origin’ is ‘*’",
            "WildcardOriginNotAllowed",
            "PreflightWildcardOriginNotAllowed",
        ),
        (
            "expected ‘true’ in CORS header ‘Access-Control-Allow-Credentials’",
            "InvalidAllowCredentials",
            "PreflightInvalidAllowCredentials",
        ),
        ("CORS preflight response did not succeed", None, "PreflightInvalidStatus"),
        (
            "Did not find method in CORS header ‘Access-Control-Allow-Methods’",
            None,
            "MethodDisallowedByPreflightResponse",
        ),
        (
            "header ‘x-a’ is not allowed according to header ‘Access-Control-Allow-Headers’ "
            "from CORS preflight response",
            None,
            "HeaderDisallowedByPreflightResponse",
        ),
        (
            "missing token ‘x-a’ in CORS header ‘Access-Control-Allow-Headers’ from CORS "
            "preflight channel",
            None,
            "HeaderDisallowedByPreflightResponse",
        ),
        (
            "invalid token ‘a b’ in CORS header ‘Access-Control-Allow-Methods’",
            None,
            "InvalidAllowMethodsPreflightResponse",
        ),
        (
            "invalid token ‘a b’ in CORS header ‘Access-Control-Allow-Headers’",
            None,
            "InvalidAllowHeadersPreflightResponse",
        ),
        ("CORS request external redirect not allowed", None, "PreflightDisallowedRedirect"),
        ("CORS request did not succeed", None, None),
        ("CORS disabled", None, None),
    ],
)
def test_each_firefox_reason_names_the_same_check_as_chromium(
    reason: str, actual: str | None, preflight: str | None
) -> None:
    assert classify_reason(reason, preflight_stage=False)[0] == actual
    assert classify_reason(reason, preflight_stage=True)[0] == preflight


def test_the_reason_and_its_parameter_are_read_from_the_message() -> None:
    message = (
        f"{BLOCKED}at http://localhost:8702/t/k. (Reason: CORS header "
        "‘Access-Control-Allow-Origin’ does not match ‘http://a:1, http://b’)."
    )
    reason = console_reason(message)
    assert (
        reason == "CORS header ‘Access-Control-Allow-Origin’ does not match ‘http://a:1, http://b’"
    )
    assert classify_reason(reason, preflight_stage=False) == (
        "AllowOriginMismatch",
        "http://a:1, http://b",
    )
    assert classify_reason(
        "header ‘x-’a’ is not allowed according to header ‘Access-Control-Allow-Headers’ from "
        "CORS preflight response",
        preflight_stage=True,
    ) == ("HeaderDisallowedByPreflightResponse", "x-’a")
    assert classify_reason(
        "invalid token ‘a b’ in CORS header ‘Access-Control-Allow-Methods’", preflight_stage=True
    ) == ("InvalidAllowMethodsPreflightResponse", "a b")
    assert classify_reason(
        "CORS header ‘Access-Control-Allow-Origin’ does not match ‘it’s’", preflight_stage=False
    ) == ("AllowOriginMismatch", "it’s")
    status = f"{BLOCKED}at u. (Reason: CORS request did not succeed). Status code: (null)."
    assert console_reason(status) == "CORS request did not succeed"
    assert console_reason("Cross-Origin Request Warning: … (Reason: `*` …).") is None


def test_the_stage_comes_from_what_the_target_saw() -> None:
    def record(kind: str) -> RecordedRequest:
        method = "OPTIONS" if kind == "preflight" else "GET"
        return RecordedRequest(kind, method, "/t/k", (), 0, 200, ())  # type: ignore[arg-type]

    messages = [
        f"{BLOCKED}at u. (Reason: CORS request did not succeed). Status code: (null).",
        f"{BLOCKED}at u. (Reason: CORS header ‘Access-Control-Allow-Origin’ missing). "
        "Status code: 200.",
    ]
    assert classify(messages, [record("preflight")]) == (
        "PreflightMissingAllowOriginHeader",
        None,
    )
    assert classify(messages, [record("preflight"), record("actual")]) == (
        "MissingAllowOriginHeader",
        None,
    )
    assert classify(messages, [record("actual")]) == ("MissingAllowOriginHeader", None)
    assert classify(messages[:1], [record("actual")]) == (None, None)


def test_the_profile_keeps_firefox_off_the_network() -> None:
    text = user_js()
    for pref in (
        "app.update.disabledForTesting",
        "toolkit.telemetry.enabled",
        "network.captive-portal-service.enabled",
        "network.connectivity-service.enabled",
        "services.settings.server",
        "network.proxy.type",
    ):
        assert pref in USER_PREFS
        assert f'user_pref("{pref}", ' in text
    assert 'user_pref("network.captive-portal-service.enabled", false);' in text


def test_compare_takes_a_null_from_firefox_as_unnamed_not_as_a_disagreement() -> None:
    predicted = {"preflight": False, "actual_request_sent": True, "outcome": "blocked"}
    observed = {"preflight": False, "actual_request_sent": True, "outcome": "blocked"}
    named = {**predicted, "blocked_by": "MissingAllowOriginHeader"}
    assert compare(named, {**observed, "blocked_by": None}, browser="firefox") == []
    assert compare(named, {**observed, "blocked_by": None}, browser="chromium") != []
    (found,) = compare(named, {**observed, "blocked_by": "AllowOriginMismatch"}, browser="firefox")
    assert (found.field, found.observed) == ("blocked_by", "AllowOriginMismatch")


# -- real Firefox ------------------------------------------------------------------------------


@pytest.mark.browser
def test_a_failed_check_is_named_by_stage_with_firefoxs_own_words(firefox: Harness) -> None:
    page = "http://127.0.0.1:9000"
    on_preflight = scenario(
        origin=page,
        preflight_response=preflight_answer(("Access-Control-Allow-Origin", PAGE)),
    )
    on_response = simple_get(PAGE, origin=page)
    preflight, actual = firefox.observe([on_preflight, on_response])
    assert (preflight["outcome"], preflight["actual_request_sent"]) == ("blocked", False)
    assert preflight["blocked_by"] == "PreflightAllowOriginMismatch"
    assert preflight["failed_parameter"] == PAGE
    assert preflight["console"] == [
        f"{BLOCKED}at {TARGET}/t/x. (Reason: CORS header ‘Access-Control-Allow-Origin’ does "
        f"not match ‘{PAGE}’).",
        f"{BLOCKED}at {TARGET}/t/x. (Reason: CORS request did not succeed). Status code: (null).",
    ]
    assert (actual["outcome"], actual["blocked_by"]) == ("blocked", "AllowOriginMismatch")
    assert actual["error"] == "TypeError: NetworkError when attempting to fetch resource."


@pytest.mark.browser
def test_allow_list_tokens_firefox_rejects_are_named(firefox: Harness) -> None:
    (obs,) = firefox.observe(
        [
            scenario(
                preflight_response=preflight_answer(
                    ("Access-Control-Allow-Origin", PAGE),
                    ("Access-Control-Allow-Methods", "PUT"),
                    ("Access-Control-Allow-Headers", "X-A, b@d"),
                )
            )
        ]
    )
    assert (obs["blocked_by"], obs["failed_parameter"]) == (
        "InvalidAllowHeadersPreflightResponse",
        "b@d",
    )


@pytest.mark.browser
def test_closing_leaves_no_firefox_and_no_profile_behind() -> None:
    harness = Harness("firefox").start()
    driver: Any = harness._driver
    pid, profile = driver._process.pid, Path(driver._profile)
    assert profile.is_dir()
    (obs,) = harness.observe([scenario()])
    assert obs["outcome"] == "allowed"
    harness.close()
    assert not profile.exists()
    assert processes_left_in_groups([pid]) == [[]]


@pytest.mark.browser
def test_verify_runs_firefox_against_an_engine_profile() -> None:
    out, err = io.StringIO(), io.StringIO()
    agreeing = scenario(request={"method": "PUT", "headers": [["X-A", "1"]]})
    status = run_verify([agreeing], browser="firefox", out=out, err=err, profile="spec")
    assert (status, err.getvalue()) == (0, "")
    assert out.getvalue().startswith("1 scenario(s) in Firefox 153.")
    # Firefox lists a header once per entry in Access-Control-Request-Headers.
    twice = scenario(request={"method": "PUT", "headers": [["X-A", "1"], ["X-A", "2"]]})
    out = io.StringIO()
    status = run_verify([twice], browser="firefox", as_json=True, out=out, profile="spec")
    report = json.loads(out.getvalue())
    assert (status, report["browser"].split()[0]) == (1, "Firefox")
    assert report["results"][0]["disagreements"] == [
        {"field": "access-control-request-headers", "predicted": "x-a", "observed": "x-a,x-a"}
    ]


def test_verify_without_an_engine_profile_says_so() -> None:
    err = io.StringIO()
    status = run_verify([scenario()], browser="firefox", err=err, profile="netscape")
    assert status == 2
    assert "no 'netscape' profile" in err.getvalue()
