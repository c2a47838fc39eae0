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
    # The named redirected-preflight check applies only to a fetch with redirect: "follow".
    preflight_redirect_named_when_following_only: bool = False
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
    # How Access-Control-Max-Age parses: "spec" (one delta-seconds value, else the default),
    # "integer" (a signed 64-bit integer, else the default; zero or less caches nothing) or
    # "digits" (digits only; empty is the default, anything else caches nothing).
    max_age_syntax: str = "spec"
    # v2, whole fetches. redirect: "error" fails only a 3xx with a Location (the spec fails
    # any redirect status; every engine gives redirect: "manual" any 3xx as opaqueredirect).
    redirect_error_needs_location: bool = False
    # An empty Location: parsed like any ("url": the same URL again), taken as no Location
    # ("absent"), or a network error when followed ("failure").
    empty_location: str = "url"
    # Several Location lines: a failure when followed ("spec"), a failure in every mode only
    # when they differ ("conflict-fails"), or a failure when followed ("repeat-fails").
    location_lines: str = "spec"
    # A Location with a port above 65535 fails the fetch in every redirect mode.
    invalid_port_location_fatal: bool = False
    # A Location to a scheme other than http(s) or data fails in every redirect mode.
    non_http_location_fatal: bool = False
    # With redirect: "error", a Location with user info is refused as such (named) first.
    credentials_checked_before_redirect_error: bool = False
    # A no-cors request redirected to another origin sends Origin: null from then on.
    no_cors_origin_null_after_redirect: bool = False
    # A CORS redirect to a scheme other than http(s) or data is named CorsDisabledScheme.
    names_cors_disabled_scheme: bool = False
    # After a redirect has tainted the request's origin, the preflight's
    # Origin and its CORS check use "null" (the Fetch Standard), or the page's own origin.
    tainted_preflight_origin: str = "null"
    # A preflight to a URL on the page's own origin skips its CORS check (Allow-Origin and
    # Allow-Credentials); the method and header checks still run.
    skips_preflight_cors_check_on_page_origin: bool = False
    # A redirected CORS request is preflighted whenever the original request needed one.
    redirect_preflight_forced: bool = False
    # Which headers a redirected request starts from before this redirect's removals: the
    # previous request's ("never": the spec), the headers the page set ("always": on a CORS
    # redirect or a 307/308), or the page's on a 307 or 308, for that request only ("307-308").
    redirect_headers_from_original: str = "never"
    # After a 303 turned a method other than POST into GET, a later 301 or 302 puts the
    # body's headers back.
    restores_body_headers_after_303: bool = False
    # A redirected CORS request is preflighted when the headers the page set include a
    # CORS-unsafe one, even one a redirect removed (Authorization after leaving the origin).
    preflights_for_page_headers: bool = False
    # A redirect to the same origin keeps the Origin header the request carried (even on a
    # same-origin or no-cors GET).
    keeps_origin_header_on_redirect: bool = False
    # A fetch that started on the page's origin with credentials "same-origin" and went to
    # another origin fails at its next redirect (after that URL's preflight, when one is due).
    refuses_redirects_after_leaving_page: bool = False
    # A preflight after a redirect to another origin no longer asks for authorization (the
    # redirect removed it), even when it asks for the page's headers.
    preflight_forgets_removed_authorization: bool = False
    # Which CORS-unsafe names a redirected request's preflight asks for: its own ("never":
    # the spec), those of the headers the page set ("always"), or the page's unless this
    # redirect changed the method ("unless-method-changed").
    preflight_headers_from_original: str = "never"
    # Authorization is removed when a redirect leads to another origin (the Fetch Standard).
    strips_authorization_on_cross_origin_redirect: bool = True
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
    # When a cached `*` is only a literal name: never (the spec), on an answer cached for a
    # request with credentials ("entry"), or for a request with credentials ("request").
    cache_wildcard_literal_with_credentials: str = "never"
    # An answer that lists no method or header name is still cached (it covers a request with
    # a CORS-safelisted method and no CORS-unsafe header, as after a forced preflight).
    cache_keeps_empty_entries: bool = False
    # A cached `*` for header names also covers Authorization.
    cache_wildcard_covers_authorization: bool = False
    # A preflight answer is cached once it passed the CORS check and parsed, before its
    # methods and headers are checked (so a refused preflight still fills the cache).
    caches_before_method_check: bool = False
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
    max_age_syntax="integer",
    redirect_error_needs_location=True,
    empty_location="absent",
    location_lines="conflict-fails",
    invalid_port_location_fatal=True,
    names_cors_disabled_scheme=True,
    credentials_checked_before_redirect_error=True,
    no_cors_origin_null_after_redirect=True,
    refuses_credentials_in_location=True,
    preflight_cache_for_tainted=False,
    cache_evicts_insufficient_entry=True,
    cache_wildcard_literal_with_credentials="entry",
    cache_clear_on_failure="none",
    deviations=(
        Deviation(
            "credentials-before-redirect-error",
            "credentials_checked_before_redirect_error",
            "With redirect: 'error', Chromium first refuses a Location with a user name or "
            "password as RedirectContainsCredentials; the spec fails the redirect (no CORS "
            "error) before looking at it.",
            "tests/vectors/test_browser_agreement.py: edge-error-credentials",
        ),
        Deviation(
            "no-cors-origin-null",
            "no_cors_origin_null_after_redirect",
            "A no-cors POST redirected (307/308) to another origin carries Origin: null in "
            "Chromium; the spec keeps the page's origin until a second origin taints it.",
            "tests/vectors/test_browser_agreement.py: edge-no-cors-307-cross",
        ),
        Deviation(
            "cache-survives-failed-request",
            "cache_clear_on_failure",
            "A failed actual request (its CORS check) leaves Chromium's cached preflight answer "
            "in place; the spec clears the entries of a failed preflighted fetch. (An answer "
            "that does not cover a request is dropped as it is looked up instead.)",
            "tests/vectors/test_browser_agreement.py: edge-failed-actual",
        ),
        Deviation(
            "max-age-integer",
            "max_age_syntax",
            "Chromium reads Access-Control-Max-Age as a signed integer: -1 (or 0) caches "
            "nothing and +2 means 2 seconds; the spec takes a value that is not plain digits as "
            "the default of 5 seconds.",
            "tests/vectors/test_browser_agreement.py: the max-age sequences",
        ),
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
            "cache-drops-insufficient-entry",
            "cache_evicts_insufficient_entry",
            "Chromium removes a cached answer that does not cover a request as it looks it up, "
            "so after a refused preflight the next request that the old answer covered needs "
            "a preflight again.",
            f"{V2}: q42-011; services/network/cors/preflight_cache.cc",
        ),
        Deviation(
            "cache-wildcard-credentials",
            "cache_wildcard_literal_with_credentials",
            "Chromium's cached `*` (methods or headers) counts only on an answer cached for a "
            "request without "
            "credentials; the spec's cache matches a `*` entry whatever the credentials.",
            "services/network/cors/preflight_result.cc",
        ),
        Deviation(
            "redirect-error-needs-location",
            "redirect_error_needs_location",
            "With redirect: 'error', Chromium fails only a 3xx that has a Location; without one "
            "the 3xx is the final answer. The spec fails any redirect status.",
            "tests/vectors/test_browser_agreement.py: edge-noloc-error",
        ),
        Deviation(
            "empty-location",
            "empty_location",
            "Chromium takes an empty Location as no Location: the 3xx is the final answer; the "
            "spec parses it as the same URL again, a redirect loop.",
            "tests/vectors/test_browser_agreement.py: edge-empty-follow, edge-empty-error",
        ),
        Deviation(
            "conflicting-locations",
            "location_lines",
            "Two different Location headers fail a Chromium fetch in every redirect mode (even "
            "redirect: 'manual'); two identical ones count as one. The spec fails any second "
            "Location, but only when following.",
            "tests/vectors/test_browser_agreement.py: edge-two-diff-manual, edge-two-same-follow",
        ),
        Deviation(
            "invalid-port-location",
            "invalid_port_location_fatal",
            "A Location with a port above 65535 fails a Chromium fetch even with redirect: "
            "'manual', where the spec never parses Location.",
            "tests/vectors/test_browser_agreement.py: edge-bad-port-manual",
        ),
        Deviation(
            "cors-disabled-scheme",
            "names_cors_disabled_scheme",
            "A CORS request redirected to an ftp: (or other non-HTTP) URL is reported as the "
            "CORS error CorsDisabledScheme; the spec's network error names nothing.",
            "tests/vectors/test_browser_agreement.py: edge-ftp-follow",
        ),
    ),
)

FIREFOX = Profile(
    name="firefox",
    label="Firefox",
    wildcard_allows_authorization=True,
    preflight_redirect_check="after-cors-check",
    preflight_redirect_named_when_following_only=True,
    parses_allow_headers_after_method_check=True,
    repeats_request_header_names=True,
    safelist_total_limit=False,
    non_ascii_is_cors_unsafe=True,
    names_each_allow_origin_error=False,
    skips_empty_values_when_combining=True,
    expose_wildcard_despite_parse_failure=True,
    range_position_max=2**64 - 1,
    max_age_cap=86400,
    max_age_syntax="digits",
    location_lines="conflict-fails",
    tainted_preflight_origin="page",
    skips_preflight_cors_check_on_page_origin=True,
    redirect_preflight_forced=True,
    redirect_headers_from_original="307-308",
    restores_body_headers_after_303=True,
    preflight_headers_from_original="unless-method-changed",
    preflight_forgets_removed_authorization=True,
    preflights_for_page_headers=True,
    cache_credentials_exact=True,
    cache_wildcards=False,
    cache_keeps_empty_entries=True,
    deviations=(
        Deviation(
            "preflight-redirect-when-following",
            "preflight_redirect_named_when_following_only",
            "Firefox names a redirected preflight (CORS request external redirect not allowed) "
            "only for a fetch with redirect: 'follow'; with 'manual' the 3xx is an invalid "
            "status (PreflightInvalidStatus).",
            "tests/vectors/test_browser_agreement.py: edge-preflight-302-manual, "
            "edge-preflight-302-follow",
        ),
        Deviation(
            "restores-after-303",
            "restores_body_headers_after_303",
            "After a 303 turned PUT (or another method than POST) into GET, a following 301 or "
            "302 puts the body's headers (Content-Type) back on the request in Firefox.",
            "tests/vectors/test_browser_agreement.py: edge-put-303-302",
        ),
        Deviation(
            "preflight-for-page-headers",
            "preflights_for_page_headers",
            "Firefox preflights a redirected CORS request whenever the page set a CORS-unsafe "
            "header (Authorization, Content-Type: application/json), even once a redirect "
            "removed it; the spec looks at the request as it is.",
            "tests/vectors/test_browser_agreement.py: edge-auth-leaves-page, edge-json-leaves-page",
        ),
        Deviation(
            "preflight-forgets-authorization",
            "preflight_forgets_removed_authorization",
            "After a redirect to another origin removed Authorization, Firefox's preflight no "
            "longer asks for it (even when it asks for the other headers the page set).",
            "tests/vectors/test_v2_truth.py: s42-0045; tests/vectors/test_browser_agreement.py: "
            "edge-auth-307-cross",
        ),
        Deviation(
            "cache-keeps-empty-answer",
            "cache_keeps_empty_entries",
            "Firefox caches a preflight answer that lists no method or header (the answer to a "
            "forced preflight): the plain GETs after it need none; the spec caches nothing for "
            "it.",
            "tests/vectors/test_browser_agreement.py: edge-forced-preflight-loop",
        ),
        Deviation(
            "max-age-digits",
            "max_age_syntax",
            "Firefox caches nothing when Access-Control-Max-Age is not plain digits (-1, 2.5, "
            "+2, abc, two values); the spec uses the default of 5 seconds. An empty value is "
            "the default.",
            "tests/vectors/test_browser_agreement.py: the max-age sequences",
        ),
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
            "On a 307 or 308, Firefox builds the redirected request from the headers the page "
            "set: a Content-Type removed by an earlier 301 POST-to-GET comes back; the spec "
            "keeps what the earlier redirect removed (as Firefox does on 301, 302 and 303).",
            f"{V2}: s42-0007; tests/vectors/test_browser_agreement.py: the redirect chains",
        ),
        Deviation(
            "preflight-asks-original-headers",
            "preflight_headers_from_original",
            "After a redirect that did not change the method, Firefox's preflight asks for the "
            "CORS-unsafe headers the page set, even one an earlier redirect removed from the "
            "request (Access-Control-Request-Headers: content-type while the request carries "
            "no Content-Type).",
            f"{V2}: s42-0007; tests/vectors/test_browser_agreement.py: the redirect chains",
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
            "conflicting-locations",
            "location_lines",
            "Two different Location headers fail a Firefox fetch in every redirect mode (even "
            "redirect: 'manual'); two identical ones count as one.",
            "tests/vectors/test_browser_agreement.py: edge-two-diff-manual, edge-two-same-follow",
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
    max_age_syntax="integer",
    redirect_error_needs_location=True,
    empty_location="failure",
    non_http_location_fatal=True,
    cross_origin_delete_becomes_get=True,
    redirect_preflight_forced=True,
    redirect_headers_from_original="always",
    preflight_headers_from_original="always",
    keeps_origin_header_on_redirect=True,
    refuses_redirects_after_leaving_page=True,
    credentials_in_location_checked_after_preflight=True,
    cache_merges=False,
    cache_wildcard_literal_with_credentials="request",
    cache_clear_on_failure="none",
    cache_wildcard_covers_authorization=True,
    caches_before_method_check=True,
    cache_keeps_empty_entries=True,
    deviations=(
        Deviation(
            "keeps-origin-header",
            "keeps_origin_header_on_redirect",
            "On a redirect to the same origin WebKit keeps the Origin header the request "
            "carried, so a POST turned into GET (same-origin, or no-cors) still sends Origin; "
            "the spec sends Origin on such a GET only for CORS.",
            "tests/vectors/test_browser_agreement.py: edge-post-303-same-origin, "
            "edge-no-cors-303-same",
        ),
        Deviation(
            "no-second-redirect-after-leaving",
            "refuses_redirects_after_leaving_page",
            "A fetch that started on the page's origin with credentials: 'same-origin' and was "
            "redirected to another origin fails in WebKit at its next redirect (after that "
            "URL's preflight, when one is due); with 'omit' or 'include' it goes on.",
            "tests/vectors/test_browser_agreement.py: edge-leave-page-and-stay, "
            "edge-leave-page-twice, edge-leave-page-twice-omit",
        ),
        Deviation(
            "cache-keeps-empty-answer",
            "cache_keeps_empty_entries",
            "WebKit caches a preflight answer that lists no method or header (the answer to a "
            "forced preflight): the plain GETs after it need none.",
            "tests/vectors/test_browser_agreement.py: edge-forced-preflight-loop",
        ),
        Deviation(
            "cache-star-covers-authorization",
            "cache_wildcard_covers_authorization",
            "A cached Access-Control-Allow-Headers: * covers Authorization in WebKit's "
            "preflight cache (as its preflight check does); Chromium's cache and the spec "
            "exclude it.",
            "tests/vectors/test_browser_agreement.py: edge-star-authorization",
        ),
        Deviation(
            "refused-answer-cached",
            "caches_before_method_check",
            "WebKit caches a preflight answer before checking its methods and headers: a "
            "refused preflight still lets a later request through without one.",
            "tests/vectors/test_browser_agreement.py: edge-refused-answer-cached",
        ),
        Deviation(
            "max-age-integer",
            "max_age_syntax",
            "WebKit reads Access-Control-Max-Age as a signed integer: -1 (or 0) caches nothing "
            "and +2 means 2 seconds; the spec takes a value that is not plain digits as the "
            "default of 5 seconds.",
            "tests/vectors/test_browser_agreement.py: the max-age sequences",
        ),
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
            "WebKit builds a redirected CORS request (and any request after a 307 or 308) from "
            "the headers the page set: a Content-Type removed by a 301 POST-to-GET comes back on "
            "the next redirect; the spec keeps what the earlier redirect removed.",
            "tests/vectors/test_v2_truth.py: s42-0007, s42-0055, s42-0077; "
            "tests/vectors/test_browser_agreement.py: edge-post-303-302, c11-0008 (same-origin), "
            "g12-0081 (no-cors)",
        ),
        Deviation(
            "preflight-asks-original-headers",
            "preflight_headers_from_original",
            "After a redirect, WebKit's preflight asks for the headers the page set "
            "(Access-Control-Request-Headers: content-type after a 303 removed Content-Type).",
            f"{V2}: s42-0007, s42-0019",
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
            "cache_wildcard_literal_with_credentials",
            "WebKit's cached `*` (methods or headers) counts for any request without "
            "credentials, whichever request the answer was cached for; the spec's cache matches a "
            "`*` entry whatever the credentials.",
            "tests/vectors/test_browser_agreement.py: the fuzzed sequences (a refused answer "
            "cached for a request with credentials serves one without)",
        ),
        Deviation(
            "redirect-error-needs-location",
            "redirect_error_needs_location",
            "With redirect: 'error', WebKit fails only a 3xx that has a (non-empty) Location; "
            "without one the 3xx is the final answer.",
            "tests/vectors/test_browser_agreement.py: edge-noloc-error, edge-empty-error",
        ),
        Deviation(
            "empty-location",
            "empty_location",
            "WebKit fails a followed redirect whose Location is empty (the spec follows it to "
            "the same URL again).",
            "tests/vectors/test_browser_agreement.py: edge-empty-follow",
        ),
        Deviation(
            "non-http-location",
            "non_http_location_fatal",
            "A Location to an ftp: URL fails a WebKit fetch even with redirect: 'manual' (a "
            "data: URL does not).",
            "tests/vectors/test_browser_agreement.py: edge-ftp-manual, edge-data-manual",
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
