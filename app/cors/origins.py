"""Origins and the CORS check: https://fetch.spec.whatwg.org/#cors-check"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from app.cors.headers import Header, get

SPEC_CORS_CHECK = "https://fetch.spec.whatwg.org/#cors-check"
SPEC_ORIGIN = (
    "https://html.spec.whatwg.org/multipage/browsers.html#ascii-serialisation-of-an-origin"
)

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_IPV6_LITERAL = re.compile(r"[0-9A-Fa-f:.]+")
_FORBIDDEN_HOST_CHARS = frozenset(" #%/:<>?@[\\]^|\t\n\r\x00")


@lru_cache(maxsize=1024)
def serialize_origin(url: str) -> str | None:
    """The ASCII serialization of a URL's origin (scheme://host[:port]), None if opaque.

    https://html.spec.whatwg.org/multipage/browsers.html#ascii-serialisation-of-an-origin
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


ORIGIN_FORM = (
    "http:// or https://, a host and an optional :port (as in http://localhost:8000), or null"
)


def origin_problem(value: str) -> str | None:
    """None when ``value`` is what a browser sends as a page's ``Origin``: ``null``, or the
    serialization of an http(s) origin (lowercase scheme and host, no default port, no path);
    else what is wrong, with the serialized origin the value most likely meant.

    https://html.spec.whatwg.org/multipage/browsers.html#ascii-serialisation-of-an-origin
    """
    if value == "null":
        return None
    meant = value.strip()
    named = _SCHEME.match(meant)
    # "localhost:8000" is a host and a port, not the scheme "localhost".
    has_scheme = named is not None and not meant[named.end() :].partition("/")[0].isdigit()
    if not has_scheme:
        meant = f"http://{meant}"
    scheme = meant.partition(":")[0].lower()
    if scheme in ("http", "https") and "://" not in meant:
        meant = meant.replace(":", "://", 1)
    suggestion = _serialized_http_origin(meant) if scheme in ("http", "https") else None
    if suggestion == value:
        return None
    if not value.strip():
        problem = "is empty"
    elif not has_scheme:
        problem = "has no scheme"
    elif scheme not in ("http", "https"):
        problem = f"has the scheme {scheme!r}, not http or https"
    elif "://" not in value:
        problem = "has no // after its scheme"
    elif suggestion is None:
        problem = "has no valid host and port"
    else:
        problem = _difference(value, suggestion)
    hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
    return f"{value!r} {problem}{hint}: an origin is {ORIGIN_FORM}"


def _serialized_http_origin(url: str) -> str | None:
    """The serialized origin of an http(s) URL whose host is valid, else None."""
    serialized = serialize_origin(url)
    if serialized is None:
        return None
    host = serialized.split("://", 1)[1]
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:].partition("]")[0])
        except ValueError:
            return None
        return serialized
    host = host.rpartition(":")[0] if ":" in host else host
    if not host or any(c in _FORBIDDEN_HOST_CHARS for c in host):
        return None
    if not host.isascii():
        try:
            ascii_host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
        return serialized.replace(host, ascii_host, 1)
    return serialized


def _difference(value: str, serialized: str) -> str:
    """What separates ``value`` from its serialized origin, in words."""
    parts = urlsplit(value.strip())
    if value != value.strip():
        return "has spaces around it"
    if parts.path or parts.query or parts.fragment or value.endswith(("?", "#")):
        return "has a path (an origin ends after the host and port, without a trailing slash)"
    if "@" in parts.netloc:
        return "has user info (an origin has none)"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port == DEFAULT_PORTS[serialized.partition(":")[0]]:
        return "names the scheme's default port (an origin leaves it out)"
    if value.lower() == serialized.lower():
        return "has capital letters (browsers lowercase the scheme and host)"
    if not parts.hostname or not parts.hostname.isascii():
        return "has a host that is not ASCII (browsers send it in punycode)"
    return "is not in its serialized form"


def same_origin(origin: str, url: str) -> bool:
    """Whether the page's origin and the request URL's origin are the same origin.

    https://html.spec.whatwg.org/multipage/browsers.html#same-origin
    """
    return serialize_origin(url) == (serialize_origin(origin) or origin)


def parses_as_url(value: str) -> bool:
    """Whether a header value parses as an absolute URL (Chromium's GURL validity, roughly):
    a scheme, and for special schemes a host of allowed characters and a port up to 65535."""
    if not _SCHEME.match(value):
        return False
    scheme, _, rest = value.partition(":")
    if scheme.lower() not in DEFAULT_PORTS:
        return True
    authority = rest.lstrip("/\\")
    authority = re.split(r"[/\\?#]", authority, maxsplit=1)[0]
    authority = authority.rpartition("@")[2]
    if authority.startswith("["):  # an IPv6 literal: hex digits, colons and dots inside
        literal, _, after = authority[1:].partition("]")
        if not literal or not _IPV6_LITERAL.fullmatch(literal) or (after and after[0] != ":"):
            return False
        port = after[1:]
    else:
        host, _, port = authority.partition(":")
        if not host or any(c in _FORBIDDEN_HOST_CHARS for c in host):
            return False
    return not port or (port.isdigit() and int(port) <= 65535)


@dataclass(frozen=True)
class CorsCheckResult:
    """The CORS check's verdict, the DevTools name of the failure, and the offending value."""

    ok: bool
    reason: str
    error: str | None = None
    failed_parameter: str | None = None


def cors_check(
    origin: str,
    credentials: str,
    headers: Sequence[Header],
    *,
    names_each_error: bool = True,
    skips_empty_values: bool = False,
) -> CorsCheckResult:
    """CORS check: may the page's origin read this response?

    ``headers`` are the response headers as received. Failures are named as Chromium's
    DevTools names them (corsErrorStatus.corsError); with ``names_each_error`` false, a wrong
    single Access-Control-Allow-Origin line is always a mismatch (Firefox's one message).
    https://fetch.spec.whatwg.org/#cors-check
    """
    include = credentials == "include"
    allow_origin = get("Access-Control-Allow-Origin", headers)
    # Step 2: "If origin is null, then return failure."
    if allow_origin is None:
        return CorsCheckResult(
            False,
            "the response has no Access-Control-Allow-Origin header, so the page may not read it",
            "MissingAllowOriginHeader",
            "",
        )
    if allow_origin == "*":
        # Step 3: "If credentials mode is not "include" and origin is `*`, return success."
        if not include:
            return CorsCheckResult(True, "Access-Control-Allow-Origin: * lets any origin read it")
        return CorsCheckResult(
            False,
            "Access-Control-Allow-Origin is *, but a request with credentials: 'include' needs "
            f"the exact origin {origin}; the wildcard never works with credentials",
            "WildcardOriginNotAllowed",
            "",
        )
    # Step 4: "If the result of byte-serializing a request origin with request is not origin,
    # then return failure."
    if allow_origin != origin:
        mismatch = _origin_mismatch(origin, allow_origin)
        lines = sum(1 for n, _ in headers if n.lower() == "access-control-allow-origin")
        if names_each_error or lines > 1 or mismatch.error == "AllowOriginMismatch":
            return mismatch
        return CorsCheckResult(False, mismatch.reason, "AllowOriginMismatch", allow_origin)
    if not include:
        return CorsCheckResult(True, f"Access-Control-Allow-Origin matches {origin} exactly")
    # Step 7: "If credentials is `true`, then return success."
    allow_credentials = get(
        "Access-Control-Allow-Credentials", headers, skip_empty=skips_empty_values
    )
    if allow_credentials == "true":
        return CorsCheckResult(
            True,
            f"Access-Control-Allow-Origin matches {origin} and Access-Control-Allow-Credentials "
            "is true, as credentials: 'include' requires",
        )
    if allow_credentials is None:
        why = "there is no Access-Control-Allow-Credentials header"
    else:
        why = (
            f"Access-Control-Allow-Credentials is {allow_credentials!r}; only the exact "
            "lowercase value true counts"
        )
    return CorsCheckResult(
        False,
        f"the request was sent with credentials: 'include', but {why}",
        "InvalidAllowCredentials",
        allow_credentials or "",
    )


def _origin_mismatch(origin: str, allow_origin: str) -> CorsCheckResult:
    if "," in allow_origin or " " in allow_origin:
        return CorsCheckResult(
            False,
            f"Access-Control-Allow-Origin holds several values ({allow_origin!r}); it must "
            "hold exactly one origin (two headers are combined into one list)",
            "MultipleAllowOriginValues",
            allow_origin,
        )
    if allow_origin == "null":
        detail = (
            f"Access-Control-Allow-Origin is 'null', which does not match {origin}; "
            "trusting null also trusts sandboxed frames and file: pages"
        )
        return CorsCheckResult(False, detail, "AllowOriginMismatch", allow_origin)
    if not parses_as_url(allow_origin):
        return CorsCheckResult(
            False,
            f"Access-Control-Allow-Origin is {allow_origin!r}, which is not a valid origin",
            "InvalidAllowOriginValue",
            allow_origin,
        )
    hint = ""
    if allow_origin.rstrip("/") == origin:
        hint = " (an origin has no trailing slash)"
    elif allow_origin.lower() == origin.lower():
        hint = " (the comparison is case-sensitive)"
    return CorsCheckResult(
        False,
        f"Access-Control-Allow-Origin is {allow_origin!r}, which is not the page's origin "
        f"{origin}: the comparison is exact, character for character{hint}",
        "AllowOriginMismatch",
        allow_origin,
    )
