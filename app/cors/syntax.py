"""HTTP and Infra syntax the Fetch Standard builds on: tokens, whitespace, byte strings."""

from __future__ import annotations

# https://httpwg.org/specs/rfc9110.html#tokens: tchar
TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
# https://fetch.spec.whatwg.org/#http-whitespace-byte
HTTP_WHITESPACE = "\t\n\r "
# https://fetch.spec.whatwg.org/#http-tab-or-space-byte
HTTP_TAB_OR_SPACE = "\t "


def is_token(value: str) -> bool:
    """A non-empty string of tchar: https://httpwg.org/specs/rfc9110.html#tokens"""
    return bool(value) and all(c in TOKEN_CHARS for c in value)


def is_byte_string(value: str) -> bool:
    """WebIDL ByteString: every code point is at most U+00FF, else fetch() throws a TypeError.

    https://webidl.spec.whatwg.org/#es-ByteString
    """
    return all(ord(c) <= 0xFF for c in value)


def byte_length(value: str) -> int:
    """Length in bytes of an isomorphic-encoded string (one byte per code point)."""
    return len(value)
