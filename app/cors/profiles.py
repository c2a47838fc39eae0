"""Browser profiles: the Fetch Standard baseline and each engine's recorded deviations.

Every deviation is data here, once, with its evidence: the test that shows it in the real
browser (tests/vectors/ runs the engine against the browser on every scenario) and a source
where one exists. The engine code reads these switches; it never tests a browser's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Deviation:
    """One place where a browser does not do what the Fetch Standard says."""

    key: str
    # The Profile field that carries it, so a difference can be traced to its deviation.
    switch: str
    summary: str
    evidence: str


@dataclass(frozen=True)
class Profile:
    """How one browser engine runs the CORS protocol, as switches over the spec baseline."""

    name: str
    label: str
    # Header names the browser drops from fetch() like forbidden request-headers.
    extra_forbidden_request_header_names: frozenset[str] = frozenset()
    # Duplicate request headers are combined ("a, b") before the CORS-safelisted checks.
    combines_duplicate_request_headers: bool = False
    # `Access-Control-Allow-Headers: *` also covers `Authorization`.
    wildcard_allows_authorization: bool = False
    # Client-hint style request-headers the browser treats as CORS-safelisted.
    client_hints_safelisted: bool = False
    # A redirect answering a preflight is named PreflightDisallowedRedirect, checked before
    # the CORS check ("first") or right after it ("after-cors-check"); None: it is just not
    # an ok status, as in the spec.
    preflight_redirect_check: str | None = None
    # Access-Control-Allow-Headers is parsed after the method check, not with Allow-Methods.
    parses_allow_headers_after_method_check: bool = False
    # Access-Control-Request-Headers lists a name once per header entry (`x-a,x-a`).
    repeats_request_header_names: bool = False
    # The 1024-byte total of CORS-safelisted header values is enforced.
    safelist_total_limit: bool = True
    # Bytes 0x80 and above count as CORS-unsafe in Accept and Content-Type values.
    non_ascii_is_cors_unsafe: bool = False
    # The Range unit `bytes` matches case-insensitively (`Bytes=0-`).
    range_unit_case_insensitive: bool = False
    # Empty values are left out when repeated response headers are combined ("true" and ""
    # give "true", not "true, ").
    skips_empty_values_when_combining: bool = False
    # `Access-Control-Expose-Headers: *, bad item` still exposes everything: the `*` item
    # counts although the list does not parse.
    expose_wildcard_despite_parse_failure: bool = False
    # The largest Range position the browser parses; a larger one is not safelisted.
    range_position_max: int | None = None
    # The CORS check's failures are told apart (several values, invalid value, mismatch);
    # when false, every wrong single Access-Control-Allow-Origin line is a mismatch.
    names_each_allow_origin_error: bool = True
    # CORS-preflight cache: seconds without Access-Control-Max-Age, and the cap.
    max_age_default: int = 5
    max_age_cap: int | None = None
    deviations: tuple[Deviation, ...] = field(default=())

    def deviation(self, key: str) -> Deviation | None:
        return next((d for d in self.deviations if d.key == key), None)


SPEC = Profile(name="spec", label="Fetch Standard")

CHROMIUM = Profile(
    name="chromium",
    label="Chromium",
    extra_forbidden_request_header_names=frozenset({"user-agent"}),
    combines_duplicate_request_headers=True,
    wildcard_allows_authorization=True,
    client_hints_safelisted=True,
    preflight_redirect_check="first",
    range_position_max=2**63 - 2,
    max_age_cap=7200,
    deviations=(
        Deviation(
            "user-agent-forbidden",
            "extra_forbidden_request_header_names",
            "Chromium silently drops a User-Agent header set by fetch(); the spec lets pages "
            "set it (it is then CORS-unsafe and needs a preflight).",
            "tests/vectors/test_browser_agreement.py: s42-0089, edge-user-agent-lower; "
            "https://crbug.com/571722",
        ),
        Deviation(
            "duplicate-headers-combined",
            "combines_duplicate_request_headers",
            "Chromium combines repeated request headers into one value ('a, b') before the "
            "CORS-safelisted checks, so two short Accept values can exceed 128 bytes together; "
            "the spec checks each header separately.",
            "tests/vectors/test_browser_agreement.py: edge-total-1024, "
            "edge-content-type-twice-plain, edge-safelisted-mix-1025",
        ),
        Deviation(
            "wildcard-authorization",
            "wildcard_allows_authorization",
            "Chromium lets `Access-Control-Allow-Headers: *` cover Authorization; the spec says "
            "the wildcard never does.",
            "tests/vectors/test_browser_agreement.py: edge-pf-star-auth; "
            "services/network/public/cpp/cors/preflight_result.cc",
        ),
        Deviation(
            "client-hints-safelisted",
            "client_hints_safelisted",
            "Chromium also safelists the client-hint request-headers DPR, Device-Memory, "
            "Downlink, RTT, Viewport-Width, Width (numeric values), ECT (slow-2g to 4g), "
            "Save-Data: on, and Intervention.",
            "tests/vectors/test_browser_agreement.py: edge-width-zero, edge-save-data-upper, "
            "edge-rtt-50, edge-ect-4g; "
            "services/network/public/cpp/cors/cors.cc",
        ),
        Deviation(
            "preflight-redirect-named",
            "preflight_redirect_check",
            "Chromium refuses a redirected preflight before any other check and names it "
            "PreflightDisallowedRedirect; in the spec a 3xx is simply not an ok status.",
            "tests/vectors/test_browser_agreement.py: edge-pf-302-location-no-acao",
        ),
        Deviation(
            "range-position-limit",
            "range_position_max",
            "Chromium does not safelist a Range position of 9223372036854775807 (2^63 - 1) or "
            "more; the spec reads positions as numbers of any size.",
            "tests/vectors/test_browser_agreement.py: edge-range-int64-max",
        ),
    ),
)

FIREFOX = Profile(
    name="firefox",
    label="Firefox",
    wildcard_allows_authorization=True,
    preflight_redirect_check="after-cors-check",
    parses_allow_headers_after_method_check=True,
    repeats_request_header_names=True,
    safelist_total_limit=False,
    non_ascii_is_cors_unsafe=True,
    names_each_allow_origin_error=False,
    skips_empty_values_when_combining=True,
    expose_wildcard_despite_parse_failure=True,
    range_position_max=2**64 - 1,
    max_age_cap=86400,
    deviations=(
        Deviation(
            "repeated-request-header-names",
            "repeats_request_header_names",
            "Firefox lists a header name in Access-Control-Request-Headers once for every "
            "header entry (two X-Token headers give `x-token,x-token`); the spec sends a set.",
            "tests/vectors/test_browser_agreement.py: edge-duplicate-x-token",
        ),
        Deviation(
            "no-safelist-total",
            "safelist_total_limit",
            "Firefox does not apply the 1024-byte total to CORS-safelisted header values: eight "
            "CORS-safelisted headers of 1,100 bytes in all need no preflight.",
            "tests/vectors/test_browser_agreement.py: edge-safelisted-mix-1025",
        ),
        Deviation(
            "non-ascii-unsafe",
            "non_ascii_is_cors_unsafe",
            "Firefox treats bytes 0x80 and above in Accept and Content-Type as CORS-unsafe "
            "(`Accept: café` is preflighted); the spec lists only ASCII delimiters.",
            "tests/vectors/test_browser_agreement.py: edge-accept-latin1, edge-content-type-latin1",
        ),
        Deviation(
            "wildcard-authorization",
            "wildcard_allows_authorization",
            "Firefox lets `Access-Control-Allow-Headers: *` cover Authorization; the spec says "
            "the wildcard never does.",
            "tests/vectors/test_browser_agreement.py: edge-pf-star-auth",
        ),
        Deviation(
            "preflight-redirect-named",
            "preflight_redirect_check",
            "Firefox refuses a redirected preflight right after the preflight's CORS check "
            "('CORS request external redirect not allowed'); in the spec a 3xx is simply not "
            "an ok status.",
            "tests/vectors/test_browser_agreement.py: edge-pf-302-location-ok",
        ),
        Deviation(
            "allow-headers-parsed-late",
            "parses_allow_headers_after_method_check",
            "Firefox checks the method before it parses Access-Control-Allow-Headers, so a "
            "method missing from Allow-Methods is reported before a malformed header list; "
            "the spec parses both lists first.",
            "tests/vectors/test_browser_agreement.py: edge-pf-no-acam-bad-acah",
        ),
        Deviation(
            "allow-origin-messages",
            "names_each_allow_origin_error",
            "Firefox reports any wrong single Access-Control-Allow-Origin value (a list, an "
            "invalid origin, null) as 'does not match'; only two header lines are 'multiple'. "
            "The outcome is the same; only the named check differs.",
            "tests/vectors/test_browser_agreement.py: s42-0000 (an invalid port)",
        ),
        Deviation(
            "range-position-limit",
            "range_position_max",
            "Firefox does not safelist a Range position above 18446744073709551615 (2^64 - 1); "
            "the spec reads positions as numbers of any size.",
            "tests/vectors/test_browser_agreement.py: edge-range-uint64-overflow",
        ),
        Deviation(
            "empty-values-skipped",
            "skips_empty_values_when_combining",
            "Firefox leaves empty values out when it combines repeated response headers, so "
            "`Access-Control-Allow-Credentials: true` plus an empty second line still counts "
            "as `true`; the spec combines them into `true, `, which fails.",
            "tests/vectors/test_browser_agreement.py: boundary-acac-two-lines-empty",
        ),
        Deviation(
            "expose-wildcard-unparsed",
            "expose_wildcard_despite_parse_failure",
            "Firefox exposes every response header for `Access-Control-Expose-Headers: *, bad "
            "item` (no credentials): the `*` counts although the list does not parse; the spec "
            "and the other engines expose only the CORS-safelisted headers.",
            "tests/vectors/test_browser_agreement.py: boundary-aceh-star-bad-item",
        ),
    ),
)

WEBKIT = Profile(
    name="webkit",
    label="WebKit",
    combines_duplicate_request_headers=True,
    wildcard_allows_authorization=True,
    range_unit_case_insensitive=True,
    range_position_max=2**64 - 1,
    max_age_cap=600,
    deviations=(
        Deviation(
            "duplicate-headers-combined",
            "combines_duplicate_request_headers",
            "WebKit combines repeated request headers into one value ('a, b') before the "
            "CORS-safelisted checks, as Chromium does; the spec checks each separately.",
            "tests/vectors/test_browser_agreement.py: edge-total-1024, "
            "edge-content-type-twice-plain",
        ),
        Deviation(
            "range-unit-case",
            "range_unit_case_insensitive",
            "WebKit accepts the Range unit in any case (`Bytes=0-` needs no preflight); the "
            "spec requires lowercase `bytes`.",
            "tests/vectors/test_browser_agreement.py: edge-range-unit-case",
        ),
        Deviation(
            "wildcard-authorization",
            "wildcard_allows_authorization",
            "WebKit lets `Access-Control-Allow-Headers: *` cover Authorization; the spec says "
            "the wildcard never does.",
            "tests/vectors/test_browser_agreement.py: edge-pf-star-auth",
        ),
        Deviation(
            "range-position-limit",
            "range_position_max",
            "WebKit does not safelist a Range position above 18446744073709551615 (2^64 - 1); "
            "the spec reads positions as numbers of any size.",
            "tests/vectors/test_browser_agreement.py: edge-range-uint64-overflow",
        ),
    ),
)

PROFILES: dict[str, Profile] = {p.name: p for p in (CHROMIUM, FIREFOX, WEBKIT, SPEC)}


def get_profile(name: str) -> Profile:
    """The profile called ``name``; ValueError naming the choices otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"unknown browser {name!r}: choose one of {', '.join(sorted(PROFILES))}"
        ) from None
