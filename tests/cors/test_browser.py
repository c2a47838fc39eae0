"""The whole flow: https://fetch.spec.whatwg.org/#main-fetch and #cors-preflight-fetch-0"""

from typing import Any

import pytest

from app.cors import Scenario, predict

ORIGIN = "http://localhost:8000"
URL = "http://localhost:8001/r/x"
ALLOW_ALL = [("Access-Control-Allow-Origin", ORIGIN)]


def scenario(
    method: str = "GET",
    headers: list[tuple[str, str]] | None = None,
    *,
    credentials: str = "same-origin",
    mode: str = "cors",
    body: str | None = None,
    preflight: list[tuple[str, str]] | None = None,
    preflight_status: int = 204,
    response: list[tuple[str, str]] | None = None,
    status: int = 200,
    url: str = URL,
) -> Scenario:
    doc: dict[str, Any] = {
        "origin": ORIGIN,
        "url": url,
        "request": {"method": method, "headers": headers or [], "credentials": credentials,
                    "mode": mode, "body": body},
        "preflight_response": {"status": preflight_status, "headers": preflight or []},
        "response": {"status": status, "headers": ALLOW_ALL if response is None else response},
    }  # fmt: skip
    return Scenario.from_json(doc)


def test_safelisted_get_is_sent_without_preflight() -> None:
    p = predict(scenario())
    assert (p.preflight, p.outcome, p.actual_request_sent) == (False, "allowed", True)
    assert p.preflight_reasons == ()


def test_json_post_preflights_for_content_type() -> None:
    p = predict(
        scenario("POST", [("Content-Type", "application/json")], body="{}", preflight=ALLOW_ALL)
    )
    assert p.preflight and p.preflight_request is not None
    assert p.preflight_request.header("Access-Control-Request-Headers") == "content-type"
    assert any("application/json" in r for r in p.preflight_reasons)
    assert p.blocked_by == "HeaderDisallowedByPreflightResponse"


def test_preflight_request_headers_value_is_lowercase_sorted_comma_joined() -> None:
    p = predict(scenario("PUT", [("X-Zeta", "1"), ("Content-Type", "application/json"),
                                 ("x-alpha", "2")]))  # fmt: skip
    assert p.preflight_request is not None
    assert p.preflight_request.header("Access-Control-Request-Method") == "PUT"
    assert p.preflight_request.header("Access-Control-Request-Headers") == (
        "content-type,x-alpha,x-zeta"
    )


def test_lowercase_patch_is_not_normalized_and_must_match_case_sensitively() -> None:
    allowed = [*ALLOW_ALL, ("Access-Control-Allow-Methods", "PATCH")]
    p = predict(scenario("patch", preflight=allowed))
    assert p.preflight_request is not None
    assert p.preflight_request.header("Access-Control-Request-Method") == "patch"
    assert p.blocked_by == "MethodDisallowedByPreflightResponse"
    assert "case-sensitively" in (p.failed_step.detail if p.failed_step else "")
    ok = predict(
        scenario("patch", preflight=[*ALLOW_ALL, ("Access-Control-Allow-Methods", "patch")])
    )
    assert ok.outcome == "allowed"


def test_lowercase_put_is_normalized_to_put() -> None:
    p = predict(scenario("put", preflight=[*ALLOW_ALL, ("Access-Control-Allow-Methods", "put")]))
    assert p.preflight_request is not None
    assert p.preflight_request.header("Access-Control-Request-Method") == "PUT"
    assert p.blocked_by == "MethodDisallowedByPreflightResponse"


@pytest.mark.parametrize("method", ["CONNECT", "trace", "Track"])
def test_forbidden_method_is_an_error_before_anything_is_sent(method: str) -> None:
    p = predict(scenario(method))
    assert (p.outcome, p.actual_request_sent, p.preflight) == ("error", False, False)


def test_invalid_method_is_an_error() -> None:
    assert predict(scenario("BAD METHOD")).outcome == "error"


@pytest.mark.parametrize("method", ["GET", "HEAD", "get"])
def test_body_on_get_or_head_is_an_error(method: str) -> None:
    assert predict(scenario(method, body="")).outcome == "error"


@pytest.mark.parametrize(
    ("name", "value"),
    [("Bad Header", "1"), ("X:Y", "1"), ("", "1"), ("X-Token", "a\nb"), ("X-Token", "a\x00b"),
     ("X-Token", "caf\u20ac")],
)  # fmt: skip
def test_invalid_header_name_or_value_is_an_error(name: str, value: str) -> None:
    p = predict(scenario(headers=[(name, value)]))
    assert p.outcome == "error" and not p.actual_request_sent


def test_latin1_value_is_a_valid_header_value() -> None:
    p = predict(scenario("GET", [("X-Latin", "caf\u00e9")]))
    assert p.outcome != "error" and p.preflight


def test_forbidden_headers_are_dropped_silently() -> None:
    p = predict(scenario(headers=[("Cookie", "a=b"), ("Host", "x"), ("Sec-X", "1"),
                                  ("X-HTTP-Method-Override", "TRACE")]))  # fmt: skip
    assert (p.preflight, p.outcome) == (False, "allowed")
    assert p.request_headers == ()


def test_header_values_are_trimmed() -> None:
    p = predict(scenario(headers=[("Accept", "  text/plain \t")]))
    assert p.request_headers == (("Accept", "text/plain"),)


def test_string_body_adds_safelisted_content_type() -> None:
    p = predict(scenario("POST", body="hello"))
    assert ("Content-Type", "text/plain;charset=UTF-8") in p.request_headers
    assert not p.preflight


def test_accept_of_129_bytes_preflights_and_128_does_not() -> None:
    assert not predict(scenario(headers=[("Accept", "x" * 128)])).preflight
    p = predict(scenario(headers=[("Accept", "x" * 129)]))
    assert p.preflight and any("128-byte" in r for r in p.preflight_reasons)


def test_range_bytes_0_is_safelisted_and_suffix_range_preflights() -> None:
    assert not predict(scenario(headers=[("Range", "bytes=0-")])).preflight
    assert predict(scenario(headers=[("Range", "bytes=-5")])).preflight


def test_no_cors_is_opaque_without_preflight() -> None:
    p = predict(scenario("POST", [("X-Token", "1")], mode="no-cors", response=[]))
    assert (p.outcome, p.preflight, p.actual_request_sent) == ("opaque", False, True)
    assert p.request_headers == (("Content-Type", "text/plain;charset=UTF-8"),) or (
        p.request_headers == ()
    )


def test_no_cors_drops_headers_that_are_not_no_cors_safelisted() -> None:
    p = predict(scenario("GET", [("X-Token", "1"), ("Accept", "a"), ("Range", "bytes=0-")],
                         mode="no-cors"))  # fmt: skip
    assert p.request_headers == (("Accept", "a"),)


def test_no_cors_checks_the_combined_value() -> None:
    p = predict(scenario("GET", [("Accept", "x" * 70), ("Accept", "x" * 70)], mode="no-cors"))
    assert p.request_headers == (("Accept", "x" * 70),)


def test_no_cors_with_a_non_safelisted_method_is_an_error() -> None:
    assert predict(scenario("PUT", mode="no-cors")).outcome == "error"


def test_same_origin_request_needs_no_cors() -> None:
    p = predict(scenario("PUT", [("X-Token", "1")], url=ORIGIN + "/x",
                         response=[("Set-Cookie", "a"), ("X-Id", "1")]))  # fmt: skip
    assert (p.preflight, p.outcome) == (False, "allowed")
    assert p.readable_headers == ("x-id",)


def test_preflight_cors_check_failures_are_prefixed() -> None:
    p = predict(scenario("PUT", preflight=[("Access-Control-Allow-Origin", ORIGIN + "/")]))
    assert p.blocked_by == "PreflightAllowOriginMismatch"
    assert p.failed_parameter == ORIGIN + "/"
    assert not p.actual_request_sent


def test_preflight_needs_an_ok_status() -> None:
    ok = [*ALLOW_ALL, ("Access-Control-Allow-Methods", "PUT")]
    p = predict(scenario("PUT", preflight=ok, preflight_status=404))
    assert p.blocked_by == "PreflightInvalidStatus"
    assert predict(scenario("PUT", preflight=ok, preflight_status=299)).outcome == "allowed"


def test_redirected_preflight_is_refused() -> None:
    answer = [*ALLOW_ALL, ("Location", "/elsewhere")]
    p = predict(scenario("PUT", preflight=answer, preflight_status=302))
    assert p.blocked_by == "PreflightDisallowedRedirect"
    assert predict(scenario("PUT", preflight=answer, preflight_status=302), "spec").blocked_by == (
        "PreflightInvalidStatus"
    )


def test_wildcard_methods_and_headers_without_credentials() -> None:
    answer = [("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Methods", "*"),
              ("Access-Control-Allow-Headers", "*")]  # fmt: skip
    p = predict(scenario("DELETE", [("X-Token", "1")], preflight=answer,
                         response=[("Access-Control-Allow-Origin", "*")]))  # fmt: skip
    assert p.outcome == "allowed"


def test_wildcard_methods_are_literal_with_credentials() -> None:
    answer = [*ALLOW_ALL, ("Access-Control-Allow-Credentials", "true"),
              ("Access-Control-Allow-Methods", "*")]  # fmt: skip
    p = predict(scenario("DELETE", preflight=answer, credentials="include"))
    assert p.blocked_by == "MethodDisallowedByPreflightResponse"


def test_wildcard_headers_are_literal_with_credentials() -> None:
    answer = [*ALLOW_ALL, ("Access-Control-Allow-Credentials", "true"),
              ("Access-Control-Allow-Headers", "*")]  # fmt: skip
    p = predict(scenario("GET", [("X-Token", "1")], preflight=answer, credentials="include"))
    assert p.blocked_by == "HeaderDisallowedByPreflightResponse"
    assert p.failed_parameter == "x-token"


def test_wildcard_does_not_cover_authorization_in_the_spec_but_does_in_chromium() -> None:
    answer = [*ALLOW_ALL, ("Access-Control-Allow-Headers", "*")]
    s = scenario("GET", [("Authorization", "Bearer x")], preflight=answer)
    assert predict(s, "spec").blocked_by == "HeaderDisallowedByPreflightResponse"
    assert predict(s, "chromium").outcome == "allowed"


def test_allow_headers_matches_names_case_insensitively() -> None:
    answer = [*ALLOW_ALL, ("Access-Control-Allow-Headers", "X-TOKEN")]
    assert predict(scenario("GET", [("x-token", "1")], preflight=answer)).outcome == "allowed"


@pytest.mark.parametrize("browser", ["spec", "chromium"])
@pytest.mark.parametrize("value", ["PUT POST", "(PUT)", "PUT;"])
def test_malformed_allow_methods_fails_the_preflight(value: str, browser: str) -> None:
    answer = [*ALLOW_ALL, ("Access-Control-Allow-Methods", value)]
    assert predict(scenario("PUT", preflight=answer), browser).blocked_by == (
        "InvalidAllowMethodsPreflightResponse"
    )


def test_malformed_allow_headers_fails_the_preflight_even_when_nothing_needs_it() -> None:
    answer = [*ALLOW_ALL, ("Access-Control-Allow-Methods", "PUT"),
              ("Access-Control-Allow-Headers", "X-Token x")]  # fmt: skip
    assert predict(scenario("PUT", preflight=answer)).blocked_by == (
        "InvalidAllowHeadersPreflightResponse"
    )


def test_empty_list_elements_are_allowed() -> None:
    answer = [*ALLOW_ALL, ("Access-Control-Allow-Methods", "GET,, PUT ,")]
    assert predict(scenario("PUT", preflight=answer)).outcome == "allowed"


def test_actual_response_cors_check_blocks_after_the_request_was_sent() -> None:
    p = predict(scenario(response=[]))
    assert (p.outcome, p.actual_request_sent, p.blocked_by) == (
        "blocked",
        True,
        "MissingAllowOriginHeader",
    )


def test_readable_headers_are_safelisted_plus_exposed_never_set_cookie() -> None:
    response = [*ALLOW_ALL, ("X-Request-Id", "1"), ("Content-Type", "text/plain"),
                ("Set-Cookie", "a=b"), ("X-Other", "2"),
                ("Access-Control-Expose-Headers", "x-request-id, Set-Cookie")]  # fmt: skip
    assert predict(scenario(response=response)).readable_headers == ("content-type", "x-request-id")


def test_expose_headers_wildcard_exposes_all_but_set_cookie_without_credentials() -> None:
    response = [*ALLOW_ALL, ("X-A", "1"), ("Set-Cookie", "a=b"),
                ("Access-Control-Expose-Headers", "*")]  # fmt: skip
    assert predict(scenario(response=response)).readable_headers == (
        "access-control-allow-origin",
        "access-control-expose-headers",
        "x-a",
    )


def test_expose_headers_wildcard_is_literal_with_credentials() -> None:
    response = [*ALLOW_ALL, ("Access-Control-Allow-Credentials", "true"), ("X-A", "1"),
                ("Access-Control-Expose-Headers", "*")]  # fmt: skip
    assert predict(scenario(response=response, credentials="include")).readable_headers == ()


def test_every_step_links_the_spec_and_says_something() -> None:
    p = predict(scenario("PUT", [("X-Token", "1")]))
    assert p.steps
    for step in p.steps:
        assert step.spec.startswith("https://") and len(step.detail) > 10


def test_prediction_json_shape() -> None:
    doc = predict(scenario("PUT")).to_json()
    for key in ["id", "preflight", "preflight_reasons", "preflight_request", "actual_request_sent",
                "outcome", "blocked_by", "readable_headers", "steps"]:  # fmt: skip
        assert key in doc
    assert doc["preflight_request"]["method"] == "OPTIONS"
