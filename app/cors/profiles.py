"""Browser profiles: the Fetch Standard baseline and each engine's recorded deviations.

Every deviation is data here, once, with its evidence: the test that shows it in the real
browser (tests/vectors/ runs the engine against the browser on every scenario) and a source
where one exists. The engine code reads these switches; it never tests a browser's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Where the v2 evidence is checked: the engine against each browser's recorded whole fetches.
V2 = "tests/vectors/test_v2_truth.py"


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
    # How Access-Control-Max-Age parses: "spec" (one delta-seconds value, else the default) or
    # "integer" (a signed integer; a negative one caches nothing).
    max_age_syntax: str = "spec"
    # v2, whole fetches. A redirect status is followed only with a Location (the spec also
    # applies redirect: "error" and "manual" to a 3xx without one).
    redirect_needs_location: bool = False
    # After a redirect has tainted the request's origin, the preflight's
    # Origin and its CORS check use "null" (the Fetch Standard), or the page's own origin.
    tainted_preflight_origin: str = "null"
    # A preflight to a URL on the page's own origin skips its CORS check (Allow-Origin and
    # Allow-Credentials); the method and header checks still run.
    skips_preflight_cors_check_on_page_origin: bool = False
    # A redirected CORS request is preflighted whenever the original request needed one.
    redirect_preflight_forced: bool = False
    # A redirected request carries the original request's headers again, less what this
    # redirect removes (the spec: the previous request's headers, less what it removes).
    redirect_headers_from_original: bool = False
    # A redirected request's preflight asks for the original request's CORS-unsafe names.
    preflight_headers_from_original: bool = False
    # Authorization is removed when a redirect leads to another origin (the Fetch Standard).
    strips_authorization_on_cross_origin_redirect: bool = True
    # A 303 removes the request-body headers from a GET as well (the spec changes nothing).
    strips_body_headers_on_303_get: bool = False
    # DELETE becomes GET (body dropped) when a redirect leads to another origin.
    cross_origin_delete_becomes_get: bool = False
    # A Location with user info is refused in every mode (the spec refuses it only for a CORS
    # request going to another origin than the page's, or after the request went cross-origin).
    refuses_credentials_in_location: bool = False
    # A same-origin request redirected to another origin's URL with user info is refused only
    # after that URL's preflight (when one is needed) was sent.
    credentials_in_location_checked_after_preflight: bool = False
    # The preflight cache also serves requests whose origin a redirect tainted ("null").
    preflight_cache_for_tainted: bool = True
    # The cache: one entry per method and header name, renewed or added by each new answer
    # (the spec), or one entry per origin and URL that the newest answer replaces.
    cache_merges: bool = True
    # An entry serves only requests of the credentials mode it was made for (the spec: an
    # entry made with credentials serves every mode).
    cache_credentials_exact: bool = False
    # A cached `*` covers any method or header name.
    cache_wildcards: bool = True
    # A cached `*` counts only on an entry made without credentials.
    cache_wildcard_needs_no_credentials: bool = False
    # An entry that does not cover a request is removed when the request looks it up.
    cache_evicts_insufficient_entry: bool = False
    # What a failed fetch does to the cache: "spec" (a network error of a preflighted fetch
    # clears the entries of its origin and URL), "preflight" (only a failed preflight clears
    # them) or "none".
    cache_clear_on_failure: str = "spec"
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
    redirect_needs_location=True,
    refuses_credentials_in_location=True,
    preflight_cache_for_tainted=False,
    cache_merges=False,
    cache_evicts_insufficient_entry=True,
    cache_wildcard_needs_no_credentials=True,
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
        Deviation(
            "credentials-in-location",
            "refuses_credentials_in_location",
            "Chromium follows no redirect to a URL with a user name or password, whatever the "
            "mode: a no-cors fetch and a same-origin request fail too (with no CORS error "
            "named); the spec refuses it only for a CORS request leaving the page's origin or "
            "after the request went cross-origin.",
            f"{V2}: s42-0010 (no-cors), s42-0067 (same-origin)",
        ),
        Deviation(
            "no-cache-for-null-origin",
            "preflight_cache_for_tainted",
            "Chromium never answers from the preflight cache for a request whose origin a "
            "redirect made null: a redirect loop sends a preflight before each of its 20 "
            "requests; the spec caches under the origin null.",
            f"{V2}: s42-0050",
        ),
        Deviation(
            "cache-entry-per-url",
            "cache_merges",
            "Chromium keeps one preflight-cache entry per origin and URL, replaced by each "
            "new preflight answer; the spec keeps one entry per method and header name, each "
            "renewed or added.",
            "tests/vectors/test_browser_agreement.py: the cache sequences; "
            "services/network/cors/preflight_cache.cc",
        ),
        Deviation(
            "cache-drops-insufficient-entry",
            "cache_evicts_insufficient_entry",
            "Chromium removes a cached answer that does not cover a request as it looks it up, "
            "so after a refused preflight the next request that the old answer covered needs "
            "a preflight again.",
            f"{V2}: q42-011; services/network/cors/preflight_cache.cc",
        ),
        Deviation(
            "cache-wildcard-credentials",
            "cache_wildcard_needs_no_credentials",
            "Chromium's cached `*` (methods or headers) counts only on an answer cached without "
            "credentials; the spec's cache matches a `*` entry whatever the credentials.",
            "services/network/cors/preflight_result.cc",
        ),
        Deviation(
            "redirect-needs-location",
            "redirect_needs_location",
            "Chromium treats a 3xx without a Location as a final response in every redirect "
            "mode; the spec applies redirect: 'error' and 'manual' to any redirect status.",
            "net/http/http_response_headers.cc (IsRedirect)",
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
    redirect_needs_location=True,
    tainted_preflight_origin="page",
    skips_preflight_cors_check_on_page_origin=True,
    redirect_preflight_forced=True,
    redirect_headers_from_original=True,
    strips_body_headers_on_303_get=True,
    cache_credentials_exact=True,
    cache_wildcards=False,
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
        Deviation(
            "tainted-preflight-origin",
            "tainted_preflight_origin",
            "After a redirect made the request's origin null, Firefox's preflight still "
            "carries the page's origin and its CORS check wants the page's origin (or *), "
            "while the actual request says Origin: null; the spec, Chromium and WebKit send "
            "null on both.",
            f"{V2}: s42-0012, s42-0039, s42-0042, s42-0060",
        ),
        Deviation(
            "page-origin-preflight-unchecked",
            "skips_preflight_cors_check_on_page_origin",
            "Firefox runs no Access-Control-Allow-Origin check on a preflight sent to the "
            "page's own origin (after a redirect brought the request back there).",
            f"{V2}: s42-0045, s42-0079",
        ),
        Deviation(
            "redirect-preflight-forced",
            "redirect_preflight_forced",
            "When the request needed a preflight at its first URL, Firefox sends a new "
            "preflight at every URL a redirect leads to, even after a 303 turned it into a "
            "plain GET; the spec preflights only a request that still needs it.",
            f"{V2}: s42-0019, s42-0045 (and s42-0026: not when the fetch started same-origin)",
        ),
        Deviation(
            "redirect-restores-headers",
            "redirect_headers_from_original",
            "Firefox builds each redirected request from the headers the page set: a "
            "Content-Type removed by a 301 POST-to-GET comes back after a following 307 or "
            "308; the spec keeps what the earlier redirect removed.",
            f"{V2}: s42-0007",
        ),
        Deviation(
            "303-strips-get",
            "strips_body_headers_on_303_get",
            "Firefox removes the body's headers (Content-Type) on every 303, a GET's too.",
            f"{V2}: s42-0055, s42-0077",
        ),
        Deviation(
            "cache-credentials-exact",
            "cache_credentials_exact",
            "Firefox's preflight cache serves a request only from an answer cached for the same "
            "credentials mode; in the spec an answer cached with credentials serves requests "
            "without them too.",
            f"{V2}: q42-003",
        ),
        Deviation(
            "cache-no-wildcard",
            "cache_wildcards",
            "Firefox's preflight cache does not treat a cached `*` as any method or header: a "
            "request for another method or header sends a new preflight.",
            f"{V2}: q42-009",
        ),
        Deviation(
            "redirect-needs-location",
            "redirect_needs_location",
            "Firefox treats a 3xx without a Location as a final response in every redirect "
            "mode; the spec applies redirect: 'error' and 'manual' to any redirect status.",
            "netwerk/protocol/http/nsHttpChannel.cpp",
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
    redirect_needs_location=True,
    cross_origin_delete_becomes_get=True,
    redirect_preflight_forced=True,
    redirect_headers_from_original=True,
    preflight_headers_from_original=True,
    strips_authorization_on_cross_origin_redirect=False,
    credentials_in_location_checked_after_preflight=True,
    cache_merges=False,
    cache_wildcard_needs_no_credentials=True,
    cache_clear_on_failure="none",
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
        Deviation(
            "delete-becomes-get",
            "cross_origin_delete_becomes_get",
            "WebKit turns DELETE into GET (dropping the body, keeping its headers) on any "
            "redirect to another origin, 307 and 308 included; the spec keeps DELETE.",
            f"{V2}: s42-0053, s42-0056, s42-0057",
        ),
        Deviation(
            "redirect-preflight-forced",
            "redirect_preflight_forced",
            "When the request needed a preflight at its first URL, WebKit sends a new preflight "
            "at every URL a redirect leads to, even after the method became GET; the spec "
            "preflights only a request that still needs it.",
            f"{V2}: s42-0019, s42-0053, s42-0056",
        ),
        Deviation(
            "redirect-restores-headers",
            "redirect_headers_from_original",
            "WebKit builds each redirected request from the headers the page set: a "
            "Content-Type removed by a 301 POST-to-GET comes back on the next redirect.",
            f"{V2}: s42-0007, s42-0055, s42-0077",
        ),
        Deviation(
            "preflight-asks-original-headers",
            "preflight_headers_from_original",
            "After a redirect, WebKit's preflight asks for the headers the page set "
            "(Access-Control-Request-Headers: content-type after a 303 removed Content-Type).",
            f"{V2}: s42-0007, s42-0019",
        ),
        Deviation(
            "keeps-authorization",
            "strips_authorization_on_cross_origin_redirect",
            "WebKit keeps Authorization when a redirect leads to another origin (its preflight "
            "there still asks for authorization); the spec and the other engines remove it.",
            f"{V2}: s42-0028, s42-0045",
        ),
        Deviation(
            "credentials-in-location-late",
            "credentials_in_location_checked_after_preflight",
            "A same-origin request redirected to another origin's URL with a user name or "
            "password: WebKit first sends that URL its preflight, then fails.",
            f"{V2}: s42-0023",
        ),
        Deviation(
            "cache-entry-per-url",
            "cache_merges",
            "WebKit keeps one preflight-cache entry per origin and URL, replaced by each new "
            "preflight answer; the spec keeps one entry per method and header name.",
            "Source/WebCore/loader/CrossOriginPreflightResultCache.cpp (appendEntry)",
        ),
        Deviation(
            "cache-survives-failure",
            "cache_clear_on_failure",
            "A failed preflight leaves WebKit's cached answer in place: the next request it "
            "covers needs no preflight; the spec clears the entries of a failed fetch.",
            f"{V2}: q42-011",
        ),
        Deviation(
            "cache-wildcard-credentials",
            "cache_wildcard_needs_no_credentials",
            "WebKit's cached `*` counts only on an answer cached without credentials.",
            "Source/WebCore/loader/CrossOriginPreflightResultCache.cpp",
        ),
        Deviation(
            "redirect-needs-location",
            "redirect_needs_location",
            "WebKit treats a 3xx without a Location as a final response in every redirect mode.",
            "Source/WebCore/platform/network/ResourceResponseBase.cpp",
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
