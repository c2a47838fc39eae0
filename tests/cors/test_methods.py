"""https://fetch.spec.whatwg.org/#methods"""

import pytest

from app.cors.methods import (
    is_cors_safelisted_method,
    is_forbidden_method,
    is_method,
    normalize_method,
)


@pytest.mark.parametrize(
    ("method", "expected"),
    [("get", "GET"), ("Put", "PUT"), ("delete", "DELETE"), ("options", "OPTIONS"),
     ("head", "HEAD"), ("post", "POST"), ("patch", "patch"), ("Patch", "Patch"),
     ("PATCH", "PATCH"), ("foo", "foo")],
)  # fmt: skip
def test_normalize_uppercases_only_the_six_methods(method: str, expected: str) -> None:
    assert normalize_method(method) == expected


@pytest.mark.parametrize("method", ["CONNECT", "connect", "TRACE", "trace", "TRACK", "Track"])
def test_forbidden_method_is_case_insensitive(method: str) -> None:
    assert is_forbidden_method(method)


def test_forbidden_method_is_exact_name() -> None:
    assert not is_forbidden_method("TRACES")
    assert not is_forbidden_method("PATCH")


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_cors_safelisted_methods(method: str) -> None:
    assert is_cors_safelisted_method(method)


@pytest.mark.parametrize("method", ["get", "PUT", "PATCH", "OPTIONS", "DELETE"])
def test_safelisted_match_is_case_sensitive_after_normalizing(method: str) -> None:
    assert not is_cors_safelisted_method(method)


@pytest.mark.parametrize("method", ["", "GET ", "BAD METHOD", "GET\t", "(GET)", "caf\u00e9"])
def test_a_method_is_a_token(method: str) -> None:
    assert not is_method(method)


def test_token_methods_are_methods() -> None:
    assert is_method("M-SEARCH")
    assert is_method("foo")
