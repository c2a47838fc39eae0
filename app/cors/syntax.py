"""HTTP and Infra syntax the Fetch Standard builds on: tokens, whitespace, byte strings."""

from __future__ import annotations

import re

# https://httpwg.org/specs/rfc9110.html#tokens: tchar
TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BYTE_STRING = re.compile(r"[\x00-\xff]*")
# https://fetch.spec.whatwg.org/#http-whitespace-byte
HTTP_WHITESPACE = "\t\n\r "
# https://fetch.spec.whatwg.org/#http-tab-or-space-byte
HTTP_TAB_OR_SPACE = "\t "


def is_token(value: str) -> bool:
    """A non-empty string of tchar: https://httpwg.org/specs/rfc9110.html#tokens"""
    return _TOKEN.fullmatch(value) is not None


def is_byte_string(value: str) -> bool:
    """WebIDL ByteString: every code point is at most U+00FF, else fetch() throws a TypeError.

    https://webidl.spec.whatwg.org/#es-ByteString
    """
    return _BYTE_STRING.fullmatch(value) is not None
