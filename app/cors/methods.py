"""Methods: https://fetch.spec.whatwg.org/#methods"""

from __future__ import annotations

from app.cors.syntax import is_token

SPEC_METHODS = "https://fetch.spec.whatwg.org/#methods"
SPEC_FORBIDDEN_METHOD = "https://fetch.spec.whatwg.org/#forbidden-method"
SPEC_NORMALIZE = "https://fetch.spec.whatwg.org/#concept-method-normalize"
SPEC_SAFELISTED_METHOD = "https://fetch.spec.whatwg.org/#cors-safelisted-method"

FORBIDDEN_METHODS = frozenset({"CONNECT", "TRACE", "TRACK"})
NORMALIZED_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"})
CORS_SAFELISTED_METHODS = frozenset({"GET", "HEAD", "POST"})


def is_method(method: str) -> bool:
    """A method is a byte sequence that matches the method token production.

    https://fetch.spec.whatwg.org/#concept-method
    """
    return is_token(method)


def is_forbidden_method(method: str) -> bool:
    """Forbidden method: a byte-case-insensitive match for CONNECT, TRACE or TRACK.

    https://fetch.spec.whatwg.org/#forbidden-method
    """
    return method.upper() in FORBIDDEN_METHODS


def normalize_method(method: str) -> str:
    """Normalize: byte-uppercase DELETE, GET, HEAD, OPTIONS, POST and PUT only.

    https://fetch.spec.whatwg.org/#concept-method-normalize
    """
    upper = method.upper()
    return upper if upper in NORMALIZED_METHODS else method


def is_cors_safelisted_method(method: str) -> bool:
    """CORS-safelisted method: `GET`, `HEAD` or `POST` (case-sensitive, after normalizing).

    https://fetch.spec.whatwg.org/#cors-safelisted-method
    """
    return method in CORS_SAFELISTED_METHODS
