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
    # A redirect answering a preflight is named PreflightDisallowedRedirect.
    names_preflight_redirects: bool = False
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
    names_preflight_redirects=True,
    max_age_cap=7200,
    deviations=(
        Deviation(
            "user-agent-forbidden",
            "Chromium silently drops a User-Agent header set by fetch(); the spec lets pages "
            "set it (it is then CORS-unsafe and needs a preflight).",
            "tests/vectors/test_chromium_agreement.py: s42-0089, edge-user-agent-lower; "
            "https://crbug.com/571722",
        ),
        Deviation(
            "duplicate-headers-combined",
            "Chromium combines repeated request headers into one value ('a, b') before the "
            "CORS-safelisted checks, so two short Accept values can exceed 128 bytes together; "
            "the spec checks each header separately.",
            "tests/vectors/test_chromium_agreement.py: edge-total-1024, "
            "edge-content-type-twice-plain, edge-safelisted-mix-1025",
        ),
        Deviation(
            "wildcard-authorization",
            "Chromium lets `Access-Control-Allow-Headers: *` cover Authorization; the spec says "
            "the wildcard never does.",
            "tests/vectors/test_chromium_agreement.py: edge-pf-star-auth; "
            "services/network/public/cpp/cors/preflight_result.cc",
        ),
        Deviation(
            "client-hints-safelisted",
            "Chromium also safelists the client-hint request-headers DPR, Device-Memory, "
            "Downlink, RTT, Viewport-Width, Width (numeric values), ECT (slow-2g to 4g), "
            "Save-Data: on, and Intervention.",
            "tests/vectors/test_chromium_agreement.py: edge-width-zero, edge-save-data-upper, "
            "edge-rtt-50, edge-ect-4g; "
            "services/network/public/cpp/cors/cors.cc",
        ),
        Deviation(
            "preflight-redirect-named",
            "Chromium refuses a redirected preflight before any other check and names it "
            "PreflightDisallowedRedirect; in the spec a 3xx is simply not an ok status.",
            "tests/vectors/test_chromium_agreement.py: edge-pf-302-location-no-acao",
        ),
    ),
)

PROFILES: dict[str, Profile] = {p.name: p for p in (CHROMIUM, SPEC)}


def get_profile(name: str) -> Profile:
    """The profile called ``name``; ValueError naming the choices otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"unknown browser {name!r}: choose one of {', '.join(sorted(PROFILES))}"
        ) from None
