"""URLs as fetch() and a redirect's ``Location`` see them: https://url.spec.whatwg.org/

A subset of the URL Standard's basic URL parser that is exact for what the playground meets
in a ``Location`` header: absolute, scheme-relative (``//host/p``), path-absolute, relative and
query- or fragment-only references, user info, ports, dot segments, backslashes, tabs and
newlines, IPv4 shorthands and percent-encoding. Hosts outside ASCII go through IDNA.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

SPEC_URL_PARSER = "https://url.spec.whatwg.org/#concept-basic-url-parser"
SPECIAL_SCHEMES = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21, "file": None}
HTTP_SCHEMES = frozenset({"http", "https"})
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
# https://url.spec.whatwg.org/#forbidden-domain-code-point
_FORBIDDEN_DOMAIN = frozenset(
    "\x00\t\n\r #/:<>?@[\\]^|%\x7f" + "".join(chr(c) for c in range(0x20))
)
# Percent-encode sets: https://url.spec.whatwg.org/#percent-encoded-bytes
_FRAGMENT_SET = frozenset(' "<>`')
_QUERY_SET = frozenset(" \"#<>'")
_PATH_SET = frozenset(' "#<>?`{}')
_USERINFO_SET = _PATH_SET | frozenset("/:;=@[\\]^|")


@dataclass(frozen=True)
class URL:
    """A parsed URL: https://url.spec.whatwg.org/#concept-url"""

    scheme: str
    username: str = ""
    password: str = ""
    host: str = ""
    port: int | None = None
    path: str = ""
    query: str | None = None
    fragment: str | None = None

    @property
    def includes_credentials(self) -> bool:
        """https://url.spec.whatwg.org/#include-credentials"""
        return bool(self.username or self.password)

    @property
    def is_http(self) -> bool:
        return self.scheme in HTTP_SCHEMES

    @property
    def origin(self) -> str:
        """The ASCII serialization of the URL's origin; "null" for an opaque origin."""
        if self.scheme not in SPECIAL_SCHEMES or self.scheme == "file" or not self.host:
            return "null"
        port = "" if self.port is None else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}"

    def serialize(self, *, exclude_fragment: bool = False) -> str:
        """https://url.spec.whatwg.org/#concept-url-serializer"""
        out = self.scheme + ":"
        if self.host or self.scheme in SPECIAL_SCHEMES:
            out += "//"
            if self.includes_credentials:
                out += self.username
                if self.password:
                    out += ":" + self.password
                out += "@"
            out += self.host
            if self.port is not None:
                out += f":{self.port}"
        out += self.path
        if self.query is not None:
            out += "?" + self.query
        if not exclude_fragment and self.fragment is not None:
            out += "#" + self.fragment
        return out

    def without_fragment(self) -> URL:
        return replace(self, fragment=None)

    def with_fragment(self, fragment: str | None) -> URL:
        return replace(self, fragment=fragment)

    def __str__(self) -> str:
        return self.serialize()


def _encode(text: str, encode_set: frozenset[str]) -> str:
    out: list[str] = []
    for ch in text:
        if ch in encode_set or ord(ch) < 0x20 or ord(ch) > 0x7E:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8"))
        else:
            out.append(ch)
    return "".join(out)


def _parse_ipv4_number(part: str) -> int | None:
    if not part:
        return None
    radix = 10
    if part[:2] in ("0x", "0X"):
        part, radix = part[2:], 16
    elif len(part) > 1 and part[0] == "0":
        part, radix = part[1:], 8
    if not part:
        return 0
    try:
        return int(part, radix)
    except ValueError:
        return None


def _ends_in_a_number(host: str) -> bool:
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    last = parts[-1]
    if last and all(c in "0123456789" for c in last):
        return True
    return _parse_ipv4_number(last) is not None and last[:2] in ("0x", "0X")


def _parse_ipv4(host: str) -> str | None:
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if len(parts) > 4:
        return None
    numbers = [_parse_ipv4_number(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    values = [n for n in numbers if n is not None]
    if any(n > 255 for n in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        return None
    address = values[-1]
    for index, n in enumerate(values[:-1]):
        address += n * 256 ** (3 - index)
    return ".".join(str((address >> shift) & 0xFF) for shift in (24, 16, 8, 0))


def _parse_host(text: str) -> str | None:
    """https://url.spec.whatwg.org/#concept-host-parser (special schemes); None on failure."""
    if text.startswith("["):
        if not text.endswith("]") or not re.fullmatch(r"[0-9A-Fa-f:.]+", text[1:-1]):
            return None
        return text.lower()
    try:
        domain = re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), text).lower()
    except ValueError:
        return None
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii").lower()
        except UnicodeError:
            return None
    if not domain or any(c in _FORBIDDEN_DOMAIN for c in domain):
        return None
    if _ends_in_a_number(domain):
        return _parse_ipv4(domain)
    return domain


def _remove_dot_segments(segments: list[str]) -> list[str]:
    out: list[str] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        lowered = segment.lower()
        if lowered in ("..", ".%2e", "%2e.", "%2e%2e"):
            if out:
                out.pop()
            if last:
                out.append("")
        elif lowered in (".", "%2e"):
            if last:
                out.append("")
        else:
            out.append(segment)
    return out


def _split_path(path: str) -> list[str]:
    return path.replace("\\", "/").split("/")


def _finish(
    scheme: str,
    authority: tuple[str, str, str, int | None] | None,
    base: URL | None,
    path_segments: list[str],
    rest: str,
) -> URL | None:
    query: str | None = None
    fragment: str | None = None
    if "#" in rest:
        rest, fragment = rest.split("#", 1)
        fragment = _encode(fragment, _FRAGMENT_SET)
    if rest.startswith("?"):
        query = _encode(rest[1:], _QUERY_SET)
    if authority is None:
        if base is None:
            return None
        username, password, host, port = base.username, base.password, base.host, base.port
    else:
        username, password, host, port = authority
    segments = _remove_dot_segments(path_segments)
    path = "/" + "/".join(_encode(s, _PATH_SET) for s in segments)
    return URL(scheme, username, password, host, port, path, query, fragment)


def _authority(scheme: str, text: str) -> tuple[tuple[str, str, str, int | None], str] | None:
    """Parse ``userinfo@host:port`` at the start of ``text``; the authority and what follows."""
    end = len(text)
    for delimiter in "/\\?#":
        found = text.find(delimiter)
        if found >= 0:
            end = min(end, found)
    authority, rest = text[:end], text[end:]
    username = password = ""
    if "@" in authority:
        userinfo, _, authority = authority.rpartition("@")
        user, _, pw = userinfo.partition(":")
        username, password = _encode(user, _USERINFO_SET), _encode(pw, _USERINFO_SET)
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            return None
        host_text, after = authority[: close + 1], authority[close + 1 :]
        if after and not after.startswith(":"):
            return None
        port_text = after[1:]
    else:
        host_text, _, port_text = authority.partition(":")
    host = _parse_host(host_text)
    if host is None:
        return None
    port: int | None = None
    if port_text:
        if not port_text.isascii() or not port_text.isdigit() or int(port_text) > 65535:
            return None
        port = int(port_text)
        if port == SPECIAL_SCHEMES.get(scheme):
            port = None
    return (username, password, host, port), rest


def _path_and_rest(text: str) -> tuple[list[str], str]:
    end = len(text)
    for delimiter in "?#":
        found = text.find(delimiter)
        if found >= 0:
            end = min(end, found)
    path, rest = text[:end], text[end:]
    segments = _split_path(path)
    if segments and segments[0] == "":
        segments = segments[1:]
    return segments, rest


@lru_cache(maxsize=4096)
def parse_url(text: str, base: URL | None = None) -> URL | None:
    """The basic URL parser for ``text`` against ``base``; None when it returns failure.

    https://url.spec.whatwg.org/#concept-basic-url-parser
    """
    text = text.strip("".join(chr(c) for c in range(0x21)))
    text = text.replace("\t", "").replace("\n", "").replace("\r", "")
    match = _SCHEME.match(text)
    if match and text[match.end() : match.end() + 1] == ":":
        scheme = match.group(0).lower()
        after = text[match.end() + 1 :]
        if scheme not in SPECIAL_SCHEMES:
            return URL(scheme, path=after)
        if base is not None and base.scheme == scheme and after[:1] not in ("/", "\\"):
            return _relative(after, base)
        return _with_authority(scheme, after)
    if base is None:
        return None
    return _relative(text, base)


def _with_authority(scheme: str, text: str) -> URL | None:
    """A special URL whose host follows the slashes of ``text`` (an empty host fails)."""
    parsed = _authority(scheme, text.lstrip("/\\"))
    if parsed is None:
        return None
    authority, rest = parsed
    if not authority[2]:
        return None
    segments, rest = _path_and_rest(rest)
    return _finish(scheme, authority, None, segments, rest)


def _relative(text: str, base: URL) -> URL | None:
    """The relative states of the parser, for a special base URL."""
    scheme = base.scheme
    if text[:2] in ("//", "\\\\", "/\\", "\\/"):
        return _with_authority(scheme, text)
    base_segments = _split_path(base.path)[1:] if base.path else [""]
    if text[:1] in ("/", "\\"):
        segments, rest = _path_and_rest(text)
        return _finish(scheme, None, base, segments, rest)
    if text.startswith("?") or text == "":
        if text == "":
            return replace(base, fragment=None)
        return _finish(scheme, None, base, base_segments, text)
    if text.startswith("#"):
        return replace(base, fragment=_encode(text[1:], _FRAGMENT_SET))
    segments, rest = _path_and_rest(text)
    merged = base_segments[:-1] + segments
    return _finish(scheme, None, base, merged, rest)


def url_key(text: str) -> str | None:
    """A URL as the parser serializes it, without its fragment: how hops are matched."""
    parsed = parse_url(text)
    return None if parsed is None else parsed.serialize(exclude_fragment=True)


__all__ = ["HTTP_SCHEMES", "SPEC_URL_PARSER", "URL", "parse_url", "url_key"]
