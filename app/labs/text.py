"""What the labs' cards say, as data: every sentence with the reference that backs it.

A sentence is a ``str.format`` template with named fields; the lab modules (``cache``,
``redirects``, ``cookies``) decide which sentences apply to what reached the API origin and fill
them in. ``PHRASES`` are the pieces some sentences are assembled from.
"""

from __future__ import annotations

from dataclasses import dataclass

FETCH = "https://fetch.spec.whatwg.org/"
MDN = "https://developer.mozilla.org/en-US/docs/"

TONES = ("info", "ok", "bad", "finding")

# Each reference: what a link to it is called (its accessible name) and where it points.
LINKS: dict[str, tuple[str, str]] = {
    "preflight-cache": ("Fetch Standard: the CORS-preflight cache", FETCH + "#concept-cache"),
    "preflight-fetch": ("Fetch Standard: CORS-preflight fetch", FETCH + "#cors-preflight-fetch"),
    "redirect-fetch": ("Fetch Standard: HTTP-redirect fetch", FETCH + "#http-redirect-fetch"),
    "tainted-origin": (
        "Fetch Standard: a request's tainted origin",
        FETCH + "#concept-request-tainted-origin",
    ),
    "serializing-origin": (
        "Fetch Standard: serializing a request origin",
        FETCH + "#serializing-a-request-origin",
    ),
    "cors-check": ("Fetch Standard: CORS check", FETCH + "#cors-check"),
    "forbidden-response-header": (
        "Fetch Standard: forbidden response-header names",
        FETCH + "#forbidden-response-header-name",
    ),
    "credentials": ("MDN: fetch() credentials", MDN + "Web/API/RequestInit#credentials"),
    "samesite": (
        "MDN: the SameSite cookie attribute",
        MDN + "Web/HTTP/Reference/Headers/Set-Cookie#samesitesamesite-value",
    ),
    "third-party": ("MDN: third-party cookies", MDN + "Web/Privacy/Guides/Third-party_cookies"),
    "partitioned": (
        "MDN: partitioned cookies",
        MDN + "Web/Privacy/Guides/Privacy_sandbox/Partitioned_cookies",
    ),
    "secure": ("MDN: secure contexts", MDN + "Web/Security/Defenses/Secure_Contexts"),
}


@dataclass(frozen=True)
class Point:
    """One sentence of a lab's explanation, with the reference that backs it."""

    text: str
    href: str | None = None
    tone: str = "info"  # one of TONES
    reference: str | None = None  # what the link to ``href`` is called


@dataclass(frozen=True)
class Sentence:
    """A sentence with named fields to fill, its reference (a ``LINKS`` key) and its tone."""

    template: str
    link: str | None = None
    tone: str = "info"

    def point(self, **values: object) -> Point:
        text = self.template.format(**values)
        if self.link is None:
            return Point(text, None, self.tone)
        reference, href = LINKS[self.link]
        return Point(text, href, self.tone, reference)


# --- the preflight cache --------------------------------------------------------------------

CACHE: dict[str, Sentence] = {
    "miss-max-age-0": Sentence(
        "Preflight sent: Max-Age 0 means the browser may not reuse a preflight at all, so every "
        "request to this URL preflights.",
        "preflight-cache",
    ),
    "miss-first": Sentence(
        "Preflight sent: the first request to this URL, so nothing was cached yet.",
        "preflight-cache",
    ),
    "miss-expired": Sentence(
        "Preflight sent: the preflight of send {number} expired {late:.1f} s before this send "
        "(it lived {lifetime} s).",
        "preflight-cache",
    ),
    "miss-credentials": Sentence(
        "Preflight sent: the preflight of send {number} was made without credentials, and a "
        "cache entry without credentials never covers a request with credentials: "
        '"include" (the reverse is fine).',
        "preflight-cache",
    ),
    "miss": Sentence("Preflight sent.", "preflight-cache"),
    "miss-while-live": Sentence(
        "Finding: by the cache rules the preflight of send {number} was still live ({left:.1f} s "
        "left), yet your browser sent a new preflight. Browsers may drop cache entries early; the "
        "standard allows it.",
        "preflight-cache",
        "finding",
    ),
    "hit": Sentence(
        "Cache hit: no preflight reached the API origin. Your browser reused the preflight of "
        "send {number}, {age:.1f} s old (it lives {lifetime} s).",
        "preflight-cache",
        "ok",
    ),
    "hit-at-expiry": Sentence(
        "Cache hit: your browser reused the preflight of send {number} just as it expired "
        "({age:.1f} s old, lifetime {lifetime} s): the browser starts counting when the answer "
        "reaches it, a moment after the API origin sent it.",
        "preflight-cache",
        "ok",
    ),
    "hit-forgotten": Sentence(
        "Cache hit: no preflight reached the API origin. The earlier sends to this URL are no "
        "longer kept here, so which preflight it reused is not shown.",
        "preflight-cache",
        "ok",
    ),
    "hit-nothing-live": Sentence(
        "Cache hit: no preflight reached the API origin, although by the cache rules nothing was "
        "live for this request. Finding: your browser kept an entry the rules say it may not "
        "use.",
        "preflight-cache",
        "finding",
    ),
}

# --- redirects --------------------------------------------------------------------------------

REDIRECTS: dict[str, Sentence] = {
    "preflight-redirected": Sentence(
        "The preflight was answered {status} with a Location, and the browser did not follow "
        "it: a preflight is never redirected. The actual request never left the browser, and "
        "fetch() rejected. Chromium's DevTools call this PreflightDisallowedRedirect; Firefox "
        "says “CORS request external redirect not allowed”; in the Fetch Standard a 3xx is "
        "simply not an ok status.",
        "preflight-fetch",
        "bad",
    ),
    "preflight-redirected-yet-sent": Sentence(
        "Finding: the actual request arrived although its preflight was redirected.",
        "preflight-fetch",
        "finding",
    ),
    "followed": Sentence(
        "The browser followed the {status} to {where} ({location}): {rule}.{arrival}",
        "redirect-fetch",
    ),
    "tainted": Sentence(
        "Origin: null. The request had already left the page's origin ({page}) for {left_for}, "
        "and this redirect took it to yet another origin. The browser then sets the request's "
        "tainted origin flag and sends its origin as null: a server after a cross-origin "
        "redirect can no longer tell which page asked. The flag is never cleared, even when a "
        "later redirect comes back.",
        "tainted-origin",
        "bad",
    ),
    "still-tainted": Sentence(
        "Still Origin: null: once tainted, the request's origin stays null for the rest of the "
        "redirect chain.",
        "serializing-origin",
    ),
    "untainted": Sentence(
        "Origin: {page} again: a redirect within one origin does not taint the request's origin.",
        "serializing-origin",
        "ok",
    ),
    "cors-check-fails": Sentence(
        "This answer fails the CORS check for Origin: {origin}: {reason}. The browser stops "
        "here, so fetch() rejects with a TypeError{ending}",
        "cors-check",
        "bad",
    ),
    "null-allowed": Sentence(
        "The final answer said Access-Control-Allow-Origin: {allow}, which passes the CORS check "
        "for a request whose origin is null. That is why an API that redirects across origins "
        "must allow null or * on the final response (and why allowing null elsewhere is "
        "dangerous: sandboxed iframes and data: URLs send null too).",
        "cors-check",
        "ok",
    ),
}

# --- credentials and cookies -------------------------------------------------------------------

COOKIES: dict[str, Sentence] = {
    "set-cookie-hidden": Sentence(
        "The API origin answered with Set-Cookie. JavaScript never sees that header (it is a "
        "forbidden response-header name); only the browser's cookie store does.",
        "forbidden-response-header",
    ),
    "set-ignored": Sentence(
        'credentials: "{credentials}" on a request to another origin: the browser ignores '
        'Set-Cookie, so nothing was stored. Only credentials: "include" lets a cross-origin '
        "response set cookies.",
        "credentials",
        "bad",
    ),
    "forget": Sentence(
        "Max-Age=0 deletes the lab's cookie for {host} (the plain and the partitioned one), if "
        "the browser lets this response touch cookies at all.",
        "samesite",
    ),
    "none-without-secure": Sentence(
        "SameSite=None without Secure is refused by current browsers: nothing was stored.",
        "samesite",
        "bad",
    ),
    "secure-on-http": Sentence(
        "Secure on http://{host}: a Secure cookie needs a secure context. On most http:// sites "
        "it is refused, but localhost and 127.0.0.1 count as potentially trustworthy, and "
        "Chromium accepts Secure cookies from them; a later send shows whether your browser did. "
        "On a workshop server reached as http://some-name it would be refused.",
        "secure",
    ),
    "set-cross-site": Sentence(
        "This response is cross-site ({page} → {target}): the cookie would be a third-party "
        "cookie. A SameSite=Lax or Strict cookie cannot be set from a cross-site response, and "
        "many browsers block third-party cookies altogether (Safari, Chrome when third-party "
        "cookies are blocked, as in incognito windows) or keep them in a jar per top-level site "
        "(Firefox). A Partitioned cookie is stored in this page's partition and comes back only "
        "while the top-level page is on {page_host}.",
        "third-party",
    ),
    "set-same-site": Sentence(
        "This response is same-site ({page} → {target}: ports do not count for sites), so "
        "SameSite=Lax and Strict cookies may be set and sent.",
        "samesite",
    ),
    "kept-shows-later": Sentence(
        "Whether your browser kept it only shows on a later request: send one with credentials: "
        '"include" to {target} and look for Cookie. It is also sent to every port of {host} '
        "(cookies are per host, not per port); Path=/r/ keeps it off the site's own pages.",
        "credentials",
    ),
    "preflight-without-cookie": Sentence(
        "The preflight carried no Cookie header: a CORS preflight never carries credentials, "
        "whatever the request's credentials mode. Only the actual request may.",
        "preflight-fetch",
        "ok",
    ),
    "preflight-with-cookie": Sentence(
        "Finding: the preflight carried a Cookie header.",
        "preflight-fetch",
        "finding",
    ),
    "sent": Sentence(
        "The actual request carried the lab's cookie ({name}={value},{source}): credentials: "
        '"include", and the browser\'s cookie rules allowed it on this {relation} request.',
        "credentials",
        "ok",
    ),
    "sent-cross-site": Sentence(
        "On a cross-site request only a SameSite=None cookie can be sent: a Partitioned one set "
        "while this page was the top-level site, or a third-party cookie your browser does not "
        "block.",
        "partitioned",
    ),
    "none-omit": Sentence(
        'No Cookie: credentials: "omit" never sends cookies (and ignores Set-Cookie).',
        "credentials",
    ),
    "none-same-origin": Sentence(
        'No Cookie: credentials: "same-origin" sends cookies only to the page\'s own origin '
        "({page}); the API origin is another origin (another port{another_host}), even where "
        "the cookie's host matches.",
        "credentials",
    ),
    "none-same-site": Sentence(
        'No Cookie, although credentials is "include" and the request is same-site: your '
        "browser holds no cookie from this lab for {host} that it may send. Set one first (with "
        'credentials "include"); a refused or forgotten cookie leaves nothing.',
        "credentials",
    ),
    "none-cross-site": Sentence(
        'No Cookie, although credentials is "include": the request is cross-site ({page} → '
        "{target}). SameSite=Lax (the default) and Strict cookies are never sent on cross-site "
        "requests such as fetch(), and a SameSite=None cookie is a third-party cookie here: your "
        "browser may have blocked it, or kept it in another top-level site's partition.",
        "samesite",
    ),
}

# Pieces of the sentences above (no reference of their own).
PHRASES: dict[str, str] = {
    # redirects: where a redirect went, what each status does to the method, how a hop arrived
    "same-origin": "the same origin",
    "another-origin": "another origin",
    "rule-post-to-get": "{status} turns POST into GET (and drops the body); other methods stay",
    "rule-303": "303 turns every method except GET and HEAD into GET (and drops the body)",
    "rule-keep": "{status} keeps the method and the body",
    "arrived-changed": " It arrived as {method} (it was {was}), with no body.",
    "arrived-changed-with-body": " It arrived as {method} (it was {was}).",
    "arrived-again": " It arrived as {method} again.",
    "arrived-again-with-body": " It arrived as {method} again, with its {size}-byte body.",
    "stops-at-redirect": " and the redirect is not followed.",
    "stops": ".",
    # cookies: which run set a cookie; why same-origin sent nothing
    "set-by": " set by run {run} with {label}",
    "another-host": ", another host",
}
