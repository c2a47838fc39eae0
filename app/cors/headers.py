"""Headers: https://fetch.spec.whatwg.org/#terminology-headers

Request-header predicates (forbidden, CORS-safelisted, CORS-unsafe names) and the parsers they
need, each returning a Verdict whose reason a learner can read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.cors.methods import is_forbidden_method
from app.cors.profiles import Profile
from app.cors.syntax import HTTP_TAB_OR_SPACE, HTTP_WHITESPACE, TOKEN_CHARS, is_token
from app.cors.verdict import Verdict, failed, passed

Header = tuple[str, str]

SPEC_FORBIDDEN_REQUEST_HEADER = "https://fetch.spec.whatwg.org/#forbidden-request-header"
SPEC_SAFELISTED_REQUEST_HEADER = "https://fetch.spec.whatwg.org/#cors-safelisted-request-header"
SPEC_UNSAFE_NAMES = "https://fetch.spec.whatwg.org/#cors-unsafe-request-header-names"
SPEC_NO_CORS_SAFELISTED = "https://fetch.spec.whatwg.org/#no-cors-safelisted-request-header"
SPEC_HEADER_VALUE = "https://fetch.spec.whatwg.org/#header-value"
SPEC_SAFELISTED_RESPONSE_HEADER_NAME = (
    "https://fetch.spec.whatwg.org/#cors-safelisted-response-header-name"
)

SAFELISTED_VALUE_MAX = 128
SAFELIST_TOTAL_MAX = 1024

FORBIDDEN_REQUEST_HEADER_NAMES = frozenset(
    {
        "accept-charset",
        "accept-encoding",
        "access-control-request-headers",
        "access-control-request-method",
        "connection",
        "content-length",
        "cookie",
        "cookie2",
        "date",
        "dnt",
        "expect",
        "host",
        "keep-alive",
        "origin",
        "referer",
        "set-cookie",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
    }
)
FORBIDDEN_REQUEST_HEADER_PREFIXES = ("proxy-", "sec-")
METHOD_OVERRIDE_HEADER_NAMES = frozenset(
    {"x-http-method", "x-http-method-override", "x-method-override"}
)
NO_CORS_SAFELISTED_NAMES = frozenset(
    {"accept", "accept-language", "content-language", "content-type"}
)
SAFELISTED_CONTENT_TYPES = frozenset(
    {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
)
CORS_SAFELISTED_RESPONSE_HEADER_NAMES = frozenset(
    {
        "cache-control",
        "content-language",
        "content-length",
        "content-type",
        "expires",
        "last-modified",
        "pragma",
    }
)
FORBIDDEN_RESPONSE_HEADER_NAMES = frozenset({"set-cookie", "set-cookie2"})
# https://fetch.spec.whatwg.org/#cors-non-wildcard-request-header-name
NON_WILDCARD_NAMES = frozenset({"authorization"})
# https://fetch.spec.whatwg.org/#request-body-header-name
REQUEST_BODY_HEADER_NAMES = frozenset(
    {"content-encoding", "content-language", "content-location", "content-type"}
)
CORS_UNSAFE_BYTES = frozenset('"():<>?@[\\]{}\x7f')
# https://wicg.github.io/netinfo/#ect-request-header-field
EFFECTIVE_CONNECTION_TYPES = frozenset({"slow-2g", "2g", "3g", "4g"})
LANGUAGE_BYTES = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz *,-.;=")


# --- header names and values -------------------------------------------------------------


def is_header_name(name: str) -> bool:
    """A header name is a token. https://fetch.spec.whatwg.org/#header-name"""
    return is_token(name)


def normalize_header_value(value: str) -> str:
    """Remove leading and trailing HTTP whitespace bytes.

    https://fetch.spec.whatwg.org/#concept-header-value-normalize
    """
    return value.strip(HTTP_WHITESPACE)


def header_value_problem(value: str) -> str | None:
    """Why a normalized value is not a header value (NUL, CR or LF inside), else None.

    https://fetch.spec.whatwg.org/#header-value
    """
    for byte, label in (("\x00", "a NUL byte"), ("\r", "a carriage return"), ("\n", "a line feed")):
        if byte in value:
            return f"contains {label}, which no HTTP header value may contain"
    return None


# --- forbidden request-headers -------------------------------------------------------------


def is_forbidden_request_header(name: str, value: str, profile: Profile) -> Verdict:
    """Forbidden request-header: the browser keeps control of it and drops what a page sets.

    https://fetch.spec.whatwg.org/#forbidden-request-header
    """
    lower = name.lower()
    if lower in FORBIDDEN_REQUEST_HEADER_NAMES:
        return passed(f"{name} is a forbidden request-header: only the browser sets it")
    if lower.startswith(FORBIDDEN_REQUEST_HEADER_PREFIXES):
        prefix = "Proxy-" if lower.startswith("proxy-") else "Sec-"
        return passed(f"{name} starts with {prefix}, which only the browser may set")
    if lower in METHOD_OVERRIDE_HEADER_NAMES:
        for method in get_decode_split(value):
            if is_forbidden_method(method):
                return passed(f"{name} names the forbidden method {method}")
    if lower in profile.extra_forbidden_request_header_names:
        # Deviation: see the profile's recorded evidence.
        return passed(f"{profile.label} does not let a page set {name}; it drops it")
    return failed(f"{name} is not a forbidden request-header")


# --- CORS-safelisted request-headers ------------------------------------------------------


def is_cors_unsafe_request_header_byte(char: str) -> bool:
    """A byte below 0x20 other than HT, or one of the delimiters "():<>?@[\\]{} and DEL.

    https://fetch.spec.whatwg.org/#cors-unsafe-request-header-byte
    """
    code = ord(char)
    return (code < 0x20 and code != 0x09) or char in CORS_UNSAFE_BYTES


def _first_unsafe_byte(value: str, profile: Profile) -> str | None:
    unsafe = next((c for c in value if is_cors_unsafe_request_header_byte(c)), None)
    if unsafe is None and profile.non_ascii_is_cors_unsafe:
        # Deviation (firefox): bytes 0x80 and above are unsafe too (profile evidence).
        unsafe = next((c for c in value if ord(c) >= 0x80), None)
    return unsafe


def _describe_byte(char: str) -> str:
    return repr(char) if char.isprintable() else f"0x{ord(char):02X}"


def is_cors_safelisted_request_header(name: str, value: str, profile: Profile) -> Verdict:
    """CORS-safelisted request-header: may go cross-origin without a preflight.

    https://fetch.spec.whatwg.org/#cors-safelisted-request-header
    """
    lower = name.lower()
    if len(value) > SAFELISTED_VALUE_MAX:
        return failed(
            f"header {lower}'s value is {len(value)} bytes, over the {SAFELISTED_VALUE_MAX}-byte "
            "limit for CORS-safelisted request-headers"
        )
    if lower == "accept":
        unsafe = _first_unsafe_byte(value, profile)
        if unsafe is not None:
            return failed(
                f"header accept's value contains the CORS-unsafe byte {_describe_byte(unsafe)}"
            )
        return passed("Accept with a value free of CORS-unsafe bytes is CORS-safelisted")
    if lower in ("accept-language", "content-language"):
        bad = next((c for c in value if c not in LANGUAGE_BYTES), None)
        if bad is not None:
            return failed(
                f"header {lower}'s value contains {_describe_byte(bad)}; only letters, digits, "
                "space and * , - . ; = are safelisted"
            )
        return passed(f"{name} with a language-tag value is CORS-safelisted")
    if lower == "content-type":
        return _is_safelisted_content_type(value, profile)
    if lower == "range":
        parsed = parse_single_range_header_value(
            value,
            allow_whitespace=False,
            # Deviation (webkit): the unit matches case-insensitively (profile evidence).
            unit_case_insensitive=profile.range_unit_case_insensitive,
        )
        if parsed is None:
            return failed(
                f"header range's value {value!r} is not a single bytes=start-end range "
                "without spaces"
            )
        limit = profile.range_position_max
        if limit is not None and any(n is not None and n > limit for n in parsed):
            # Deviation (chromium, firefox, webkit): a size limit on positions (profile evidence).
            return failed(
                f"header range's value {value!r} has a position over {limit}, the largest "
                f"{profile.label} reads"
            )
        if parsed[0] is None:
            return failed(
                f"header range's value {value!r} is a suffix range (bytes=-N); only ranges "
                "with a start are safelisted"
            )
        return passed("Range with a single bytes=start- range is CORS-safelisted")
    if profile.client_hints_safelisted:
        # Deviation (chromium): client-hint headers are safelisted (profile evidence).
        hint = _client_hint_verdict(lower, value, profile)
        if hint is not None:
            return hint
    return failed(f"header {lower} is not a CORS-safelisted request-header")


def _is_safelisted_content_type(value: str, profile: Profile) -> Verdict:
    unsafe = _first_unsafe_byte(value, profile)
    if unsafe is not None:
        return failed(
            f"header content-type's value contains the CORS-unsafe byte {_describe_byte(unsafe)}"
        )
    mime = parse_mime_type(value)
    if mime is None:
        return failed(f"header content-type's value {value!r} is not a valid MIME type")
    essence = f"{mime[0]}/{mime[1]}"
    if essence not in SAFELISTED_CONTENT_TYPES:
        return failed(
            f"header content-type is {essence}; only application/x-www-form-urlencoded, "
            "multipart/form-data and text/plain are safelisted"
        )
    return passed(f"Content-Type {essence} is CORS-safelisted")


def _is_decimal(value: str, fraction: bool) -> bool:
    whole, dot, frac = value.partition(".")
    if not whole.isascii() or not whole.isdigit():
        return False
    if not dot:
        return True
    return fraction and frac.isascii() and frac.isdigit()


def _client_hint_verdict(lower: str, value: str, profile: Profile) -> Verdict | None:
    label = profile.label
    if lower in ("dpr", "device-memory", "downlink"):
        if _is_decimal(value, fraction=True):
            return passed(f"{label} safelists the client hint {lower} with a number")
        return failed(f"{label} safelists {lower} only with a number such as 2 or 0.5")
    if lower in ("width", "viewport-width", "rtt"):
        if _is_decimal(value, fraction=False):
            return passed(f"{label} safelists the client hint {lower} with a whole number")
        return failed(f"{label} safelists {lower} only with a whole number")
    if lower == "save-data":
        if value.lower() == "on":
            return passed(f"{label} safelists Save-Data: on")
        return failed(f"{label} safelists save-data only with the value on")
    if lower == "ect":
        if value in EFFECTIVE_CONNECTION_TYPES:
            return passed(f"{label} safelists the client hint ECT with {value}")
        return failed(f"{label} safelists ECT only with slow-2g, 2g, 3g or 4g")
    if lower == "intervention":
        return passed(f"{label} safelists Intervention, a header it adds itself")
    return None


def is_no_cors_safelisted_request_header(name: str, value: str, profile: Profile) -> Verdict:
    """No-CORS-safelisted request-header: Accept, Accept-Language, Content-Language or
    Content-Type, with a CORS-safelisted value.

    https://fetch.spec.whatwg.org/#no-cors-safelisted-request-header
    """
    if name.lower() not in NO_CORS_SAFELISTED_NAMES:
        return failed(
            f"no-cors requests may only carry Accept, Accept-Language, Content-Language and "
            f"Content-Type; {name} is dropped"
        )
    return is_cors_safelisted_request_header(name, value, profile)


@dataclass(frozen=True)
class UnsafeHeaders:
    """The CORS-unsafe request-header names and, for each, why it is not safelisted."""

    names: tuple[str, ...]
    reasons: tuple[str, ...]


def cors_unsafe_request_header_names(headers: Sequence[Header], profile: Profile) -> UnsafeHeaders:
    """CORS-unsafe request-header names: byte-lowercased, sorted, unique.

    https://fetch.spec.whatwg.org/#cors-unsafe-request-header-names
    """
    unsafe: list[str] = []
    reasons: list[str] = []
    potentially_unsafe: list[str] = []
    safelist_value_size = 0
    for name, value in headers:
        verdict = is_cors_safelisted_request_header(name, value, profile)
        if not verdict:
            unsafe.append(name)
            reasons.append(verdict.reason)
        else:
            potentially_unsafe.append(name)
            safelist_value_size += len(value)
    if profile.safelist_total_limit and safelist_value_size > SAFELIST_TOTAL_MAX:
        unsafe.extend(potentially_unsafe)
        also = ", ".join(sorted_lowercase_set(potentially_unsafe))
        reasons.append(
            f"the safelisted headers' values add up to {safelist_value_size} bytes, over the "
            f"{SAFELIST_TOTAL_MAX}-byte total, so {also} count as unsafe too"
        )
    if profile.repeats_request_header_names:
        # Deviation (firefox): one name per header entry, not a set (profile evidence).
        return UnsafeHeaders(tuple(sorted(n.lower() for n in unsafe)), tuple(reasons))
    return UnsafeHeaders(sorted_lowercase_set(unsafe), tuple(reasons))


def sorted_lowercase_set(names: Iterable[str]) -> tuple[str, ...]:
    """Convert header names to a sorted-lowercase set.

    https://fetch.spec.whatwg.org/#convert-header-names-to-a-sorted-lowercase-set
    """
    return tuple(sorted({n.lower() for n in names}))


def combine_duplicates(headers: Sequence[Header]) -> tuple[Header, ...]:
    """One header per name, repeated values joined by ", " (the first name's casing kept)."""
    combined: dict[str, Header] = {}
    for name, value in headers:
        key = name.lower()
        if key in combined:
            first_name, first_value = combined[key]
            combined[key] = (first_name, f"{first_value}, {value}")
        else:
            combined[key] = (name, value)
    return tuple(combined.values())


# --- header list access -------------------------------------------------------------------


def get(name: str, headers: Sequence[Header], *, skip_empty: bool = False) -> str | None:
    """Get: every value of ``name``, joined by ", ", or None when absent. ``skip_empty`` leaves
    empty values out of a combination, as Firefox does (profile evidence).

    https://fetch.spec.whatwg.org/#concept-header-list-get
    """
    values = [v for n, v in headers if n.lower() == name.lower()]
    if skip_empty and len(values) > 1:
        values = [v for v in values if v] or [""]
    return ", ".join(values) if values else None


def get_decode_split(value: str) -> list[str]:
    """Get, decode, and split a header value on commas outside quoted strings.

    https://fetch.spec.whatwg.org/#header-value-get-decode-and-split
    """
    position = 0
    values: list[str] = []
    temporary = ""
    while True:
        start = position
        while position < len(value) and value[position] not in '",':
            position += 1
        temporary += value[start:position]
        if position < len(value) and value[position] == '"':
            quoted, position = _collect_http_quoted_string(value, position)
            temporary += quoted
            if position < len(value):
                continue
        values.append(temporary.strip(HTTP_TAB_OR_SPACE))
        temporary = ""
        if position >= len(value):
            return values
        position += 1  # past the comma


def _collect_http_quoted_string(value: str, position: int) -> tuple[str, int]:
    """Collect an HTTP quoted string (extract-value false): the raw text, quotes included.

    https://fetch.spec.whatwg.org/#collect-an-http-quoted-string
    """
    start = position
    position += 1
    while position < len(value):
        char = value[position]
        position += 1
        if char == "\\":
            if position >= len(value):
                break
            position += 1
        elif char == '"':
            break
    return value[start:position], position


@dataclass(frozen=True)
class ListValues:
    """Result of extracting header list values: values, None when absent, or a failure."""

    values: tuple[str, ...] | None
    failure: str | None = None


def extract_header_list_values(name: str, headers: Sequence[Header]) -> ListValues:
    """Extract header list values for a `#token` list header (Allow-Methods/-Headers, Expose).

    https://fetch.spec.whatwg.org/#extract-header-list-values
    """
    raw = [v for n, v in headers if n.lower() == name.lower()]
    if not raw:
        return ListValues(None)
    values: list[str] = []
    for line in raw:
        for item in line.split(","):
            item = item.strip(HTTP_TAB_OR_SPACE)
            if not item:
                continue  # the #rule allows empty list elements
            if not is_token(item):
                bad = next(c for c in item if c not in TOKEN_CHARS)
                return ListValues(
                    None,
                    f"{name} does not parse: {item!r} is not a token ({_describe_byte(bad)})",
                )
            values.append(item)
    return ListValues(tuple(values))


# --- parsers ------------------------------------------------------------------------------


def parse_mime_type(value: str) -> tuple[str, str] | None:
    """Parse a MIME type down to (type, subtype), lowercased; None on failure.

    https://mimesniff.spec.whatwg.org/#parse-a-mime-type
    """
    value = value.strip(HTTP_WHITESPACE)
    slash = value.find("/")
    if slash < 0:
        return None
    mime_type = value[:slash]
    semicolon = value.find(";", slash + 1)
    subtype = value[slash + 1 :] if semicolon < 0 else value[slash + 1 : semicolon]
    subtype = subtype.rstrip(HTTP_WHITESPACE)
    if not is_token(mime_type) or not is_token(subtype):
        return None
    return mime_type.lower(), subtype.lower()


def parse_single_range_header_value(
    value: str, *, allow_whitespace: bool, unit_case_insensitive: bool = False
) -> tuple[int | None, int | None] | None:
    """Parse a single range header value: (start, end), either may be None; None on failure.

    https://fetch.spec.whatwg.org/#simple-range-header-value
    """
    unit = value[:5].lower() if unit_case_insensitive else value[:5]
    if unit != "bytes":
        return None
    position = 5

    def skip_whitespace() -> None:
        nonlocal position
        if allow_whitespace:
            while position < len(value) and value[position] in HTTP_TAB_OR_SPACE:
                position += 1

    def digits() -> int | None:
        nonlocal position
        start = position
        while position < len(value) and value[position] in "0123456789":
            position += 1
        return int(value[start:position]) if position > start else None

    skip_whitespace()
    if position >= len(value) or value[position] != "=":
        return None
    position += 1
    skip_whitespace()
    range_start = digits()
    skip_whitespace()
    if position >= len(value) or value[position] != "-":
        return None
    position += 1
    skip_whitespace()
    range_end = digits()
    if position < len(value):
        return None
    if range_start is None and range_end is None:
        return None
    if range_start is not None and range_end is not None and range_start > range_end:
        return None
    return range_start, range_end


# --- response headers ---------------------------------------------------------------------


def is_cors_safelisted_response_header_name(name: str, exposed: Iterable[str]) -> bool:
    """CORS-safelisted response-header name, given the CORS-exposed header-name list.

    https://fetch.spec.whatwg.org/#cors-safelisted-response-header-name
    """
    lower = name.lower()
    if lower in CORS_SAFELISTED_RESPONSE_HEADER_NAMES:
        return True
    if lower in FORBIDDEN_RESPONSE_HEADER_NAMES:
        return False
    return lower in {e.lower() for e in exposed}


def received_header_list(headers: Sequence[Header]) -> tuple[Header, ...]:
    """Response headers as the browser's HTTP parser stores them: values without surrounding
    spaces or tabs (optional whitespace, RFC 9110 section 5.5)."""
    return tuple((n, v.strip(HTTP_TAB_OR_SPACE)) for n, v in headers)
