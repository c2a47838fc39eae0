"""The harness in real Firefox (WebDriver BiDi), beyond the shared sample; Firefox's reasons."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from app.cors.scenario import Scenario
from app.harness import (
    BrowserUnavailable,
    Harness,
    compare,
    observe,
    run_verify,
    shared_harness,
)
from app.harness.firefox import (
    USER_PREFS,
    classify,
    classify_reason,
    console_reason,
    find_firefox,
    user_js,
)
from app.harness.target import RecordedRequest

PAGE = "http://localhost:8701"
TARGET = "http://localhost:8702"
BLOCKED = (
    "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource "
)


def scenario(**overrides: Any) -> Scenario:
    doc: dict[str, Any] = {
        "id": "t",
        "origin": PAGE,
        "url": f"{TARGET}/t/x",
        "request": {"method": "PUT", "headers": [["X-A", "1"]]},
        "preflight_response": {
            "status": 204,
            "headers": [
                ["Access-Control-Allow-Origin", PAGE],
                ["Access-Control-Allow-Methods", "PUT"],
                ["Access-Control-Allow-Headers", "X-A"],
            ],
        },
        "response": {
            "status": 200,
            "headers": [["Access-Control-Allow-Origin", PAGE], ["X-Secret", "1"]],
        },
    }
    doc.update(overrides)
    return Scenario.from_json(doc)


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


def test_missing_firefox_is_reported_clearly() -> None:
    with pytest.raises(BrowserUnavailable, match="firefox-esr"):
        Harness("firefox", executable_path="/nonexistent/firefox").start()


# -- real Firefox ------------------------------------------------------------------------------


@pytest.mark.browser
def test_debian_firefox_is_found_and_named_with_its_version(firefox: Harness) -> None:
    assert find_firefox() is not None
    product, version = firefox.version.split()
    assert product == "Firefox"
    assert len(version.split(".")) == 3


@pytest.mark.browser
def test_each_run_gets_fresh_paths_so_the_preflight_cache_hides_nothing(
    firefox: Harness,
) -> None:
    cached = scenario(
        preflight_response=preflight_answer(
            ("Access-Control-Allow-Origin", PAGE),
            ("Access-Control-Allow-Methods", "PUT"),
            ("Access-Control-Allow-Headers", "X-A"),
            ("Access-Control-Max-Age", "600"),
        )
    )
    first = firefox.observe([cached, cached])
    second = firefox.observe([cached])
    assert [o["preflight"] for o in first + second] == [True, True, True]
    assert all(o["outcome"] == "allowed" for o in first + second)


@pytest.mark.browser
def test_cookies_carry_within_one_run_but_not_into_the_next(firefox: Harness) -> None:
    setter = scenario(
        request={"method": "GET", "headers": [], "credentials": "include"},
        response={
            "status": 200,
            "headers": [
                ["Access-Control-Allow-Origin", PAGE],
                ["Access-Control-Allow-Credentials", "true"],
                ["Set-Cookie", "harness=1"],
            ],
        },
    )
    first, second = firefox.observe([setter, setter])
    (third,) = firefox.observe([setter])
    assert "cookie" not in first["actual_request_headers"]
    assert "cookie" in second["actual_request_headers"]
    assert "cookie" not in third["actual_request_headers"]


@pytest.mark.browser
def test_a_failed_check_is_named_by_stage_with_firefoxs_own_words(firefox: Harness) -> None:
    page = "http://127.0.0.1:9000"
    on_preflight = scenario(
        origin=page,
        preflight_response=preflight_answer(("Access-Control-Allow-Origin", PAGE)),
    )
    on_response = scenario(
        origin=page,
        request={"method": "GET", "headers": []},
        response={"status": 200, "headers": [["Access-Control-Allow-Origin", PAGE]]},
    )
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
def test_rejected_before_sending_is_an_error(firefox: Harness) -> None:
    (obs,) = firefox.observe([scenario(request={"method": "GET", "body": "x"})])
    assert obs == {
        "preflight": False,
        "actual_request_sent": False,
        "outcome": "error",
        "error": "TypeError: Window.fetch: HEAD or GET Request cannot have a body.",
        "console": [],
    }


@pytest.mark.browser
def test_exchanges_show_raw_requests_with_origins_mapped_back(firefox: Harness) -> None:
    (obs,) = firefox.observe([scenario()], exchanges=True)
    preflight, actual = obs["exchanges"]
    assert (preflight["kind"], preflight["method"]) == ("preflight", "OPTIONS")
    assert ["Origin", PAGE] in preflight["headers"]
    assert ["Access-Control-Request-Headers", "x-a"] in preflight["headers"]
    assert (actual["kind"], actual["method"], actual["path"]) == ("actual", "PUT", "/t/x")
    assert ["X-A", "1"] in actual["headers"]


@pytest.mark.browser
def test_module_level_observe_drives_firefox() -> None:
    (obs,) = observe([scenario()], "firefox")
    assert (obs["outcome"], obs["readable_headers"]) == ("allowed", [])


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
    assert live_processes_in_group(pid) == []


def live_processes_in_group(pgid: int) -> list[str]:
    """Processes of a process group that still run (zombies wait for init, they run nothing)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, fields = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :]
        state, _ppid, group = fields.split()[:3]
        if int(group) == pgid and state != "Z":
            found.append(f"{stat.parent.name} {name}")
    return found


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
