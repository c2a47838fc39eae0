"""https://fetch.spec.whatwg.org/#cors-check"""

import pytest

from app.cors.origins import cors_check, parses_as_url, same_origin, serialize_origin

ORIGIN = "http://localhost:8000"


def acao(value: str) -> list[tuple[str, str]]:
    return [("Access-Control-Allow-Origin", value)]


def test_serialize_origin_drops_default_ports_and_paths() -> None:
    assert serialize_origin("http://LOCALHOST:80/x?y") == "http://localhost"
    assert serialize_origin("https://a.example:8443/") == "https://a.example:8443"
    assert serialize_origin("data:text/plain,x") is None


def test_same_origin_compares_scheme_host_and_port() -> None:
    assert same_origin(ORIGIN, "http://localhost:8000/r/1")
    assert not same_origin(ORIGIN, "http://localhost:8001/r/1")
    assert not same_origin(ORIGIN, "http://127.0.0.1:8000/")


def test_missing_allow_origin_fails() -> None:
    result = cors_check(ORIGIN, "same-origin", [])
    assert not result.ok and result.error == "MissingAllowOriginHeader"


def test_wildcard_passes_without_credentials() -> None:
    assert cors_check(ORIGIN, "omit", acao("*")).ok
    assert cors_check(ORIGIN, "same-origin", acao("*")).ok


def test_wildcard_never_passes_with_credentials_even_with_allow_credentials_true() -> None:
    headers = [*acao("*"), ("Access-Control-Allow-Credentials", "true")]
    result = cors_check(ORIGIN, "include", headers)
    assert not result.ok and result.error == "WildcardOriginNotAllowed"


def test_exact_origin_passes() -> None:
    assert cors_check(ORIGIN, "omit", acao(ORIGIN)).ok


@pytest.mark.parametrize(
    ("value", "error"),
    [(ORIGIN + "/", "AllowOriginMismatch"), ("HTTP://LOCALHOST:8000", "AllowOriginMismatch"),
     ("http://localhost", "AllowOriginMismatch"), ("null", "AllowOriginMismatch"),
     ("http://localhost:80000", "InvalidAllowOriginValue"),
     ("localhost:8000", "AllowOriginMismatch"),
     ("foo", "InvalidAllowOriginValue"), (f"{ORIGIN}, {ORIGIN}", "MultipleAllowOriginValues"),
     ("*, *", "MultipleAllowOriginValues")],
)  # fmt: skip
def test_anything_but_the_exact_origin_fails(value: str, error: str) -> None:
    result = cors_check(ORIGIN, "omit", acao(value))
    assert not result.ok
    assert result.error == error
    assert result.failed_parameter == value


def test_two_allow_origin_headers_are_combined_and_fail() -> None:
    result = cors_check(ORIGIN, "omit", [*acao(ORIGIN), *acao(ORIGIN)])
    assert result.error == "MultipleAllowOriginValues"


def test_trailing_slash_reason_says_origins_have_no_slash() -> None:
    assert "trailing slash" in cors_check(ORIGIN, "omit", acao(ORIGIN + "/")).reason


@pytest.mark.parametrize("value", [None, "True", "TRUE", "false", "1", "true, true"])
def test_credentials_need_allow_credentials_exactly_true(value: str | None) -> None:
    headers = acao(ORIGIN) + ([("Access-Control-Allow-Credentials", value)] if value else [])
    result = cors_check(ORIGIN, "include", headers)
    assert not result.ok and result.error == "InvalidAllowCredentials"


def test_credentials_with_exact_origin_and_true_pass() -> None:
    headers = [*acao(ORIGIN), ("Access-Control-Allow-Credentials", "true")]
    assert cors_check(ORIGIN, "include", headers).ok


def test_allow_credentials_is_ignored_without_credentials() -> None:
    headers = [*acao(ORIGIN), ("Access-Control-Allow-Credentials", "True")]
    assert cors_check(ORIGIN, "same-origin", headers).ok


def test_parses_as_url() -> None:
    assert parses_as_url("http://localhost:8000/")
    assert parses_as_url("mailto:x")
    assert not parses_as_url("http://localhost:99999")
    assert not parses_as_url("http://")
    assert not parses_as_url("no scheme")
    assert parses_as_url("http://[::1]:8701")
    assert not parses_as_url("http://[::1]x")
    assert not parses_as_url("http://[g::1]")
