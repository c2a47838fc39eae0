"""https://fetch.spec.whatwg.org/#terminology-headers"""

import pytest

from app.cors.headers import (
    combine_duplicates,
    cors_unsafe_request_header_names,
    extract_header_list_values,
    get,
    get_decode_split,
    header_value_problem,
    is_cors_safelisted_request_header,
    is_cors_safelisted_response_header_name,
    is_cors_unsafe_request_header_byte,
    is_forbidden_request_header,
    is_header_name,
    is_no_cors_safelisted_request_header,
    normalize_header_value,
    parse_mime_type,
    parse_single_range_header_value,
)
from app.cors.profiles import CHROMIUM, SPEC


def safelisted(name: str, value: str, profile=SPEC) -> bool:
    return bool(is_cors_safelisted_request_header(name, value, profile))


# --- CORS-safelisted request-header ------------------------------------------------------


def test_value_of_128_bytes_is_safelisted_and_129_is_not() -> None:
    assert safelisted("Accept", "x" * 128)
    verdict = is_cors_safelisted_request_header("Accept", "x" * 129, SPEC)
    assert not verdict
    assert "129 bytes" in verdict.reason and "128-byte" in verdict.reason


@pytest.mark.parametrize("char", list('"():<>?@[\\]{}\x7f\x01\x1f'))
def test_accept_with_a_cors_unsafe_byte_is_not_safelisted(char: str) -> None:
    assert is_cors_unsafe_request_header_byte(char)
    assert not safelisted("Accept", f"a{char}b")


def test_tab_and_comma_slash_semicolon_equals_are_not_unsafe_bytes() -> None:
    for char in "\t,/;= *":
        assert not is_cors_unsafe_request_header_byte(char)
    assert safelisted("Accept", "text/html,*/*;q=0.8\tx")


@pytest.mark.parametrize("value", ["en-US,en;q=0.9", "*", "de-DE", "a b.c"])
def test_language_values_of_allowed_bytes_are_safelisted(value: str) -> None:
    assert safelisted("Accept-Language", value)
    assert safelisted("Content-Language", value)


@pytest.mark.parametrize("value", ["en_US", "de/DE", "fr!", "en:US"])
def test_language_values_with_other_bytes_are_not_safelisted(value: str) -> None:
    assert not safelisted("Accept-Language", value)


@pytest.mark.parametrize(
    "value",
    ["text/plain", "TEXT/PLAIN", "text/plain;charset=UTF-8", "multipart/form-data; boundary=x",
     "application/x-www-form-urlencoded", "text/plain;;;"],
)  # fmt: skip
def test_content_type_with_a_safelisted_essence(value: str) -> None:
    assert safelisted("Content-Type", value)


@pytest.mark.parametrize(
    "value",
    ["application/json", "text/html", "text/plainx", "text", "text/plain/x", 'text/plain; x="("',
     "text / plain", "/plain", "text/"],
)  # fmt: skip
def test_content_type_other_essence_or_unparsable_is_not_safelisted(value: str) -> None:
    assert not safelisted("Content-Type", value)


def test_content_type_whitespace_around_slash_is_not_safelisted_in_any_profile() -> None:
    for value in ["text / plain", "text /plain", "text/ plain"]:
        assert not safelisted("Content-Type", value, CHROMIUM)


@pytest.mark.parametrize("value", ["bytes=0-", "bytes=0-99", "bytes=7-7"])
def test_range_with_a_start_is_safelisted(value: str) -> None:
    assert safelisted("Range", value)


@pytest.mark.parametrize(
    "value", ["bytes=-5", "bytes= 0-5", "bytes =0-5", "bytes=5-2", "bytes=0-1,3-4", "items=0-5",
              "Bytes=0-", "bytes=-", "bytes=0"],
)  # fmt: skip
def test_range_suffix_whitespace_or_multiple_ranges_are_not_safelisted(value: str) -> None:
    assert not safelisted("Range", value)


def test_suffix_range_reason_names_the_suffix() -> None:
    assert "suffix" in is_cors_safelisted_request_header("Range", "bytes=-5", SPEC).reason


def test_parse_single_range_header_value() -> None:
    assert parse_single_range_header_value("bytes=0-", allow_whitespace=False) == (0, None)
    assert parse_single_range_header_value("bytes=-5", allow_whitespace=False) == (None, 5)
    assert parse_single_range_header_value("bytes= 1 - 2", allow_whitespace=True) == (1, 2)
    assert parse_single_range_header_value("bytes= 1-2", allow_whitespace=False) is None


@pytest.mark.parametrize("name", ["X-Token", "Authorization", "Cache-Control", "DPR"])
def test_other_names_are_not_safelisted_in_the_spec(name: str) -> None:
    assert not safelisted(name, "2")


def test_client_hints_deviation_chromium() -> None:
    assert safelisted("DPR", "1.5", CHROMIUM)
    assert safelisted("Save-Data", "on", CHROMIUM)
    assert not safelisted("Save-Data", "off", CHROMIUM)
    assert not safelisted("Width", "1.5", CHROMIUM)
    assert safelisted("Intervention", "anything", CHROMIUM)
    assert safelisted("RTT", "50", CHROMIUM) and not safelisted("RTT", "1.5", CHROMIUM)
    assert safelisted("Downlink", "1.5", CHROMIUM)
    assert safelisted("ECT", "slow-2g", CHROMIUM) and not safelisted("ECT", "5g", CHROMIUM)


# --- CORS-unsafe request-header names -----------------------------------------------------


def test_unsafe_names_are_lowercased_sorted_and_unique() -> None:
    unsafe = cors_unsafe_request_header_names(
        [("X-Token", "1"), ("Accept", "a"), ("x-token", "2"), ("Content-Type", "application/json")],
        SPEC,
    )
    assert unsafe.names == ("content-type", "x-token")


def test_safelisted_values_over_1024_bytes_in_total_make_them_all_unsafe() -> None:
    eight = [("Accept", "x" * 128)] * 8  # exactly 1024: still safelisted
    assert cors_unsafe_request_header_names(eight, SPEC).names == ()
    nine = [("Accept", "x" * 120)] * 9
    unsafe = cors_unsafe_request_header_names(nine, SPEC)
    assert unsafe.names == ("accept",)
    assert "1024" in unsafe.reasons[-1]


def test_duplicates_combined_before_the_checks_deviation_chromium() -> None:
    twice = [("Accept", "x" * 70), ("Accept", "x" * 70)]
    assert cors_unsafe_request_header_names(twice, SPEC).names == ()
    combined = combine_duplicates(twice)
    assert combined == (("Accept", "x" * 70 + ", " + "x" * 70),)
    assert cors_unsafe_request_header_names(combined, CHROMIUM).names == ("accept",)


# --- forbidden request-headers ------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["Accept-Charset", "accept-encoding", "Access-Control-Request-Headers",
     "Access-Control-Request-Method", "Connection", "Content-Length", "Cookie", "Cookie2", "Date",
     "DNT", "Expect", "Host", "Keep-Alive", "Origin", "Referer", "Set-Cookie", "TE", "Trailer",
     "Transfer-Encoding", "Upgrade", "Via", "Proxy-Authorization", "proxy-x", "Sec-Custom",
     "sec-fetch-mode"],
)  # fmt: skip
def test_forbidden_request_header_names(name: str) -> None:
    assert is_forbidden_request_header(name, "x", SPEC)


@pytest.mark.parametrize(
    ("name", "value", "forbidden"),
    [("X-HTTP-Method-Override", "TRACE", True), ("X-HTTP-Method-Override", "trace", True),
     ("X-HTTP-Method-Override", "PUT, TRACE", True), ("X-HTTP-Method-Override", " track ", True),
     ("X-HTTP-Method", "CONNECT", True), ("X-Method-Override", "TRACK", True),
     ("X-HTTP-Method-Override", "PUT", False), ("X-HTTP-Method-Override", '"TRACE"', False),
     ("X-Method-Override", "DELETE", False)],
)  # fmt: skip
def test_method_override_headers_naming_a_forbidden_method(
    name: str, value: str, forbidden: bool
) -> None:
    assert bool(is_forbidden_request_header(name, value, SPEC)) is forbidden


def test_user_agent_deviation_chromium() -> None:
    assert not is_forbidden_request_header("User-Agent", "x", SPEC)
    assert is_forbidden_request_header("User-Agent", "x", CHROMIUM)


def test_get_decode_split_keeps_quoted_commas() -> None:
    assert get_decode_split('"1,2", 3') == ['"1,2"', "3"]
    assert get_decode_split("x / x,,,1") == ["x / x", "", "", "1"]
    assert get_decode_split("nosniff,") == ["nosniff", ""]
    assert get_decode_split("") == [""]


# --- header names and values --------------------------------------------------------------


def test_header_names_are_tokens() -> None:
    assert is_header_name("X-Token")
    for bad in ["", "Bad Header", "X:Y", "(x)", "X\u00e9"]:
        assert not is_header_name(bad)


def test_normalize_strips_http_whitespace_only_at_the_ends() -> None:
    assert normalize_header_value(" \t a b \r\n") == "a b"


def test_header_value_may_not_contain_nul_cr_lf() -> None:
    assert header_value_problem("a\nb") and "line feed" in header_value_problem("a\nb")
    assert header_value_problem("a\x00b")
    assert header_value_problem("a\rb")
    assert header_value_problem("a\tb") is None


def test_no_cors_safelisted_names() -> None:
    assert is_no_cors_safelisted_request_header("Accept", "x", SPEC)
    assert not is_no_cors_safelisted_request_header("Range", "bytes=0-", SPEC)
    assert not is_no_cors_safelisted_request_header("X-Token", "x", SPEC)


# --- response headers ---------------------------------------------------------------------


def test_get_combines_values_with_comma_space() -> None:
    headers = [("A", "1"), ("b", "2"), ("a", "3")]
    assert get("a", headers) == "1, 3"
    assert get("c", headers) is None


def test_get_skipping_empty_values_deviation_firefox() -> None:
    headers = [("A", "true"), ("a", "")]
    assert get("a", headers) == "true, "
    assert get("a", headers, skip_empty=True) == "true"
    assert get("a", [("A", "")], skip_empty=True) == ""


def test_extract_header_list_values_allows_empty_elements_and_fails_on_non_tokens() -> None:
    assert extract_header_list_values("X", [("x", "GET, ,PUT")]).values == ("GET", "PUT")
    assert extract_header_list_values("X", []).values is None
    failure = extract_header_list_values("X", [("X", "PUT POST")])
    assert failure.values is None and failure.failure is not None


def test_safelisted_response_header_names() -> None:
    for name in ["Cache-Control", "content-language", "Content-Length", "Content-Type",
                 "Expires", "Last-Modified", "Pragma"]:  # fmt: skip
        assert is_cors_safelisted_response_header_name(name, [])
    assert not is_cors_safelisted_response_header_name("X-Request-Id", [])
    assert is_cors_safelisted_response_header_name("X-Request-Id", ["x-request-id"])
    assert not is_cors_safelisted_response_header_name("Set-Cookie", ["Set-Cookie"])


def test_parse_mime_type() -> None:
    assert parse_mime_type(" Text/Plain ; charset=x") == ("text", "plain")
    assert parse_mime_type("text/plain ") == ("text", "plain")
    assert parse_mime_type("text /plain") is None
    assert parse_mime_type("text/ plain") is None
