"""The lessons, in teaching order. Each is a scenario on the learner's own origins; what it
teaches is checked by the engine (the answer) and by real browsers (tests/lessons/)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from app.cors import names as name
from app.lessons.model import (
    NEXT,
    NO_PREFLIGHT,
    ORIGIN,
    Lesson,
    Link,
    Question,
    is_ip_address,
)

F = "https://fetch.spec.whatwg.org/#"
MDN = "https://developer.mozilla.org/en-US/docs/"

# A realistic Accept list, one byte over the 128-byte limit of a CORS-safelisted value.
ACCEPT_129 = (
    "application/json,text/plain;q=0.9,text/csv;q=0.8,application/xml;q=0.7,text/html;q=0.6,"
    "application/vnd.api+json;q=0.5,*/*;q=0.001"
)
JSON_BODY = '{"name": "Ada"}'


def _mdn_header(name: str) -> Link:
    return Link(f"MDN: {name}", MDN + f"Web/HTTP/Headers/{name}")


def _fetch_header(name: str) -> Link:
    return Link(f"Fetch: {name}", F + f"http-{name.lower()}")


def _error(name: str) -> Link:
    return Link(f"MDN: CORS error {name}", MDN + f"Web/HTTP/CORS/Errors/{name}")


SAFELISTED_METHOD = Link("Fetch: CORS-safelisted method", F + "cors-safelisted-method")
SAFELISTED_HEADER = Link(
    "Fetch: CORS-safelisted request-header", F + "cors-safelisted-request-header"
)
CORS_CHECK = Link("Fetch: CORS check", F + "cors-check")
PREFLIGHT_FETCH = Link("Fetch: CORS-preflight fetch", F + "cors-preflight-fetch")
ALLOW_ORIGIN = _fetch_header(name.ALLOW_ORIGIN)
CREDENTIALS = Link("Fetch: CORS protocol and credentials", F + "cors-protocol-and-credentials")
MDN_CORS = Link("MDN: Cross-Origin Resource Sharing", MDN + "Web/HTTP/CORS")
MDN_PREFLIGHT = Link("MDN: Preflight request", MDN + "Glossary/Preflight_request")
MDN_ACAO = _mdn_header(name.ALLOW_ORIGIN)
SIMPLE_RANGE = Link("Fetch: simple range header value", F + "simple-range-header-value")
REDIRECT_FETCH = Link("Fetch: HTTP-redirect fetch", F + "http-redirect-fetch")
MDN_REDIRECTS = Link("MDN: Redirections in HTTP", MDN + "Web/HTTP/Guides/Redirections")

# Questions more than one lesson asks.
CAN_READ = Question("readable", "Can JavaScript read the response?")
PREFLIGHT_BEFORE_GET = Question("preflight", "Will the browser send a preflight before the GET?")
PATCH_ACRM = Question(
    "acrm",
    "Which `Access-Control-Request-Method` will the preflight carry?",
    values=("PATCH", "patch", "POST", NO_PREFLIGHT),
)


def _suffix_attacker(page_origin: str) -> str:
    """An origin that ends with the same text as ``page_origin``'s host and port."""
    parts = urlsplit(page_origin)
    host, port = parts.hostname or "localhost", parts.port
    if is_ip_address(host):  # no other host name ends in an IP address; another scheme does
        return f"https://{host}:{port}"
    return f"http://evil-{host}:{port}"


def _prefix_attacker(page_origin: str) -> str:
    host = urlsplit(page_origin).hostname or "localhost"
    return f"http://{host}.evil.example"


# Builders for the scenario parts: each lesson states only what makes it that lesson.
Header = list[str]
TEXT: Header = [name.CONTENT_TYPE, "text/plain"]
JSON: Header = [name.CONTENT_TYPE, "application/json"]


def allow_origin(value: str = ORIGIN) -> Header:
    return [name.ALLOW_ORIGIN, value]


def allow_credentials(value: str = "true") -> Header:
    return [name.ALLOW_CREDENTIALS, value]


def allow_methods(value: str) -> Header:
    return [name.ALLOW_METHODS, value]


def allow_headers(value: str) -> Header:
    return [name.ALLOW_HEADERS, value]


def expose_headers(value: str) -> Header:
    return [name.EXPOSE_HEADERS, value]


def page_request(
    method: str = "GET",
    *headers: Header,
    mode: str | None = None,
    credentials: str | None = None,
    body: str | None = None,
) -> dict[str, Any]:
    """The page's fetch(): only the options it sets (a GET with none by default)."""
    doc: dict[str, Any] = {"method": method}
    options = {"headers": list(headers), "mode": mode, "credentials": credentials, "body": body}
    doc.update((key, value) for key, value in options.items() if value)
    return doc


def json_request(method: str, *, credentials: str | None = None) -> dict[str, Any]:
    """The page sends ``JSON_BODY`` as `application/json` with ``method``."""
    return page_request(method, JSON, credentials=credentials, body=JSON_BODY)


def reply(*headers: Header, status: int | None = None) -> dict[str, Any]:
    """A server's answer: its header lines, and a status other than the default."""
    doc: dict[str, Any] = {} if status is None else {"status": status}
    doc["headers"] = list(headers)
    return doc


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        slug="simple-get",
        title="A GET with no options",
        topics=("safelisted-get",),
        setup=(
            "The page at `{origin}` calls `fetch(url)` with no options: a plain GET to the API "
            "origin `{api}`, with no header the page set itself.",
            "The API answers `Access-Control-Allow-Origin: *`: any origin may read this response.",
        ),
        question=Question(
            "preflight", "Will the browser send a preflight (an OPTIONS request) before the GET?"
        ),
        explanation=(
            "First, a term. The Fetch Standard calls a few methods (GET, HEAD, POST) and a few "
            "request headers with harmless values (such as `Accept`, or `Content-Type: "
            "text/plain`) “CORS-safelisted”: a request that uses nothing else is one an "
            "ordinary HTML form could already send, so the browser sends it without asking "
            "first. Any other method or header is “CORS-unsafe” and needs a preflight.",
            "So, no preflight: GET is a CORS-safelisted method and the request carries no "
            "CORS-unsafe header, so the browser sends it straight away and checks the answer "
            "afterwards.",
            "The API origin received one GET. Its `Origin` header was added by the browser, "
            "not by your code; the response's `Access-Control-Allow-Origin: *` passed the CORS "
            "check, so JavaScript reads the body.",
            "Older articles call this a “simple request”. The Fetch Standard says "
            "CORS-safelisted method and CORS-safelisted request-header.",
        ),
        request=page_request(),
        response=reply(allow_origin("*"), TEXT),
        links=(SAFELISTED_METHOD, CORS_CHECK, MDN_CORS),
    ),
    Lesson(
        slug="missing-allow-origin",
        title="A GET to a server without CORS headers",
        topics=("missing-allow-origin",),
        setup=(
            "The same plain GET, to an API that sends no CORS headers at all, like most "
            "servers that have never heard of CORS.",
        ),
        question=Question("actual", "Will the GET reach the API origin?"),
        explanation=(
            "Yes. The request reached the server and the server answered. CORS does not stop a "
            "safelisted request from being sent: it stops JavaScript from reading the answer.",
            "The response has no `Access-Control-Allow-Origin`, so the CORS check failed and "
            "fetch() rejected with a TypeError. Chromium's DevTools call it "
            "`MissingAllowOriginHeader`.",
            "So CORS is no defence against requests that change something on the server: use "
            "CSRF protection for that. CORS protects the response.",
        ),
        request=page_request(),
        response=reply(TEXT),
        links=(CORS_CHECK, _error("CORSMissingAllowOrigin")),
    ),
    Lesson(
        slug="json-post",
        title="A POST with a JSON body",
        topics=("json-post-preflight",),
        setup=(
            'The page posts JSON: `fetch(url, {method: "POST", headers: {"Content-Type": '
            '"application/json"}, body})`.',
            "The API answers a preflight with `Access-Control-Allow-Origin: {origin}` and "
            "`Access-Control-Allow-Headers: Content-Type`, and the POST with "
            "`Access-Control-Allow-Origin: {origin}`.",
        ),
        question=Question("preflight", "Will the browser send a preflight before the POST?"),
        explanation=(
            "Yes. POST is a CORS-safelisted method, but `Content-Type: application/json` is not "
            "a CORS-safelisted request-header: only `application/x-www-form-urlencoded`, "
            "`multipart/form-data` and `text/plain` are.",
            "The preflight is an OPTIONS request carrying `Access-Control-Request-Method: POST` "
            "and `Access-Control-Request-Headers: content-type` (names lowercased, sorted, "
            "joined by commas). The server's `Access-Control-Allow-Headers` covered it, so the "
            "POST followed.",
            "A form-encoded or text/plain body goes without a preflight, which is why HTML "
            "forms never needed a server's permission to POST.",
        ),
        request=json_request("POST"),
        preflight_response=reply(allow_origin(), allow_headers(name.CONTENT_TYPE)),
        response=reply(allow_origin(), TEXT),
        focus=(name.CONTENT_TYPE,),
        links=(SAFELISTED_HEADER, PREFLIGHT_FETCH, MDN_PREFLIGHT),
    ),
    Lesson(
        slug="custom-header",
        title="A header of the page's own: `X-Api-Key`",
        topics=("custom-header",),
        setup=(
            "The page sends a text body with an API key in a header of its own: "
            "`Content-Type: text/plain` and `X-Api-Key: demo-key`.",
            "The API answers the preflight with `Access-Control-Allow-Headers: X-Api-Key`.",
        ),
        question=Question(
            "acrh",
            "Which `Access-Control-Request-Headers` value will the preflight carry?",
            values=("x-api-key", "content-type,x-api-key", "X-Api-Key, Content-Type", NO_PREFLIGHT),
        ),
        explanation=(
            "A header the page sets that is not CORS-safelisted, like `X-Api-Key`, always "
            "needs a preflight.",
            "The preflight lists only the CORS-unsafe names: `x-api-key`. `Content-Type: "
            "text/plain` is safelisted, so it is left out. Names are lowercased, sorted and "
            "joined by commas without spaces.",
            "The server answered `Access-Control-Allow-Headers: X-Api-Key`. Header names "
            "compare case-insensitively, so it matched and the POST went out.",
        ),
        request=page_request("POST", TEXT, ["X-Api-Key", "demo-key"], body="hello"),
        preflight_response=reply(allow_origin(), allow_headers("X-Api-Key")),
        response=reply(allow_origin(), TEXT),
        focus=("X-Api-Key",),
        links=(
            Link("Fetch: CORS-unsafe request-header names", F + "cors-unsafe-request-header-names"),
            _mdn_header(name.REQUEST_HEADERS),
        ),
    ),
    Lesson(
        slug="preflight-404",
        title="A preflight answered 404",
        topics=("preflight-404",),
        setup=(
            "The page sends a JSON PUT. The server's framework routes PUT but not OPTIONS, so "
            "the preflight gets `404 Not Found`, although with every right "
            "`Access-Control-Allow-*` header on it.",
        ),
        question=Question("actual", "Will the PUT itself reach the API origin?"),
        explanation=(
            "No. A preflight needs an ok status, 200 to 299. The 404 ended it, whatever its "
            "headers said.",
            "The API origin received one request, the OPTIONS, and never the PUT. Chromium's "
            "DevTools call it `PreflightInvalidStatus`; Firefox says the preflight “did not "
            "succeed”.",
            "Fix it on the server: answer OPTIONS on that route with 204 or 200.",
        ),
        request=json_request("PUT"),
        preflight_response=reply(
            allow_origin(), allow_methods("PUT"), allow_headers(name.CONTENT_TYPE), status=404
        ),
        response=reply(allow_origin(), TEXT),
        links=(
            PREFLIGHT_FETCH,
            Link("Fetch: ok status", F + "ok-status"),
            _error("CORSPreflightDidNotSucceed"),
        ),
    ),
    Lesson(
        slug="expose-none",
        title="What JavaScript can read without Access-Control-Expose-Headers",
        topics=("expose-headers",),
        setup=(
            "A plain GET. The API allows the page's origin and answers with `Content-Type`, "
            "`Cache-Control` and a request id for support tickets: `X-Request-Id: 42`.",
        ),
        question=Question(
            "header",
            "Can JavaScript read `X-Request-Id` with `response.headers.get()`?",
            header="X-Request-Id",
        ),
        explanation=(
            "No. A cross-origin response shows JavaScript only the CORS-safelisted response "
            "headers (`Cache-Control`, `Content-Language`, `Content-Length`, `Content-Type`, "
            "`Expires`, `Last-Modified`, `Pragma`) plus the ones the server lists in "
            "`Access-Control-Expose-Headers`.",
            "The header was on the wire: the API origin sent `X-Request-Id: 42`, and DevTools "
            'shows it. `response.headers.get("X-Request-Id")` still returns null.',
            "The response itself passed the CORS check; only that header was filtered out.",
        ),
        request=page_request(),
        response=reply(allow_origin(), TEXT, ["Cache-Control", "no-store"], ["X-Request-Id", "42"]),
        focus=("X-Request-Id", "Cache-Control", name.CONTENT_TYPE),
        links=(
            Link(
                "Fetch: CORS-safelisted response-header name",
                F + "cors-safelisted-response-header-name",
            ),
            Link(
                "MDN: CORS-safelisted response header",
                MDN + "Glossary/CORS-safelisted_response_header",
            ),
        ),
    ),
    Lesson(
        slug="expose-listed",
        title=name.EXPOSE_HEADERS,
        topics=("expose-headers",),
        setup=(
            "The same GET and the same answer, plus one line: "
            "`Access-Control-Expose-Headers: X-Request-Id`.",
        ),
        question=Question(
            "header",
            "Can JavaScript read `X-Request-Id` now?",
            header="X-Request-Id",
        ),
        explanation=(
            "Yes. The server listed the header in `Access-Control-Expose-Headers`, so "
            '`response.headers.get("X-Request-Id")` returns `42`.',
            "The list takes header names separated by commas. `*` exposes every header, but "
            "only for requests without credentials; `Set-Cookie` is never exposed.",
        ),
        request=page_request(),
        response=reply(
            allow_origin(), expose_headers("X-Request-Id"), TEXT, ["X-Request-Id", "42"]
        ),
        focus=("X-Request-Id",),
        links=(
            _fetch_header(name.EXPOSE_HEADERS),
            _mdn_header(name.EXPOSE_HEADERS),
        ),
    ),
    Lesson(
        slug="wildcard-credentials",
        title="`Access-Control-Allow-Origin: *` with credentials",
        topics=("wildcard-credentials",),
        setup=(
            "The page wants the user's data, so it sends cookies: "
            '`fetch(url, {credentials: "include"})`.',
            "The API answers `Access-Control-Allow-Origin: *` and "
            "`Access-Control-Allow-Credentials: true`.",
        ),
        question=CAN_READ,
        explanation=(
            "No. With credentials the wildcard no longer counts: the server must name the "
            "origin, `Access-Control-Allow-Origin: {origin}`, and send "
            "`Access-Control-Allow-Credentials: true`.",
            "The request still went out, cookies included, and the server answered; the "
            "browser hid the answer. Chromium's DevTools call it `WildcardOriginNotAllowed`.",
        ),
        request=page_request(credentials="include"),
        response=reply(allow_origin("*"), allow_credentials(), TEXT),
        links=(CREDENTIALS, _error("CORSNotSupportingCredentials")),
    ),
    Lesson(
        slug="allow-credentials-capital",
        title="`Access-Control-Allow-Credentials: True`",
        topics=("allow-credentials-case",),
        setup=(
            "A GET with cookies again. This time the API names the origin, "
            "`Access-Control-Allow-Origin: {origin}`, and sends "
            "`Access-Control-Allow-Credentials: True`, with a capital T.",
        ),
        question=CAN_READ,
        explanation=(
            "No. The only value that counts is `true`, exactly, in lowercase. `True`, `1` and "
            "`yes` all fail the CORS check: Chromium's `InvalidAllowCredentials`.",
            "Header names are case-insensitive; this header's value is not. Hand-written "
            "server configuration is where a `True` slips in.",
        ),
        request=page_request(credentials="include"),
        response=reply(allow_origin(), allow_credentials("True"), TEXT),
        links=(
            _fetch_header(name.ALLOW_CREDENTIALS),
            _error("CORSMIssingAllowCredentials"),
        ),
    ),
    Lesson(
        slug="credentials-exact",
        title="Credentials, the exact origin and `true`",
        topics=("credentials",),
        setup=(
            "The same GET with cookies. The API answers "
            "`Access-Control-Allow-Origin: {origin}`, `Access-Control-Allow-Credentials: "
            "true` and `Vary: Origin`.",
        ),
        question=CAN_READ,
        explanation=(
            "Yes. The exact origin and a lowercase `true` are what a credentialed request needs.",
            "`Vary: Origin` tells caches that the answer depends on the `Origin` request "
            "header, so a response meant for one origin is never served to another.",
            "Whether the browser attaches cookies at all also depends on the cookie's "
            "`SameSite` attribute and on third-party cookie settings; CORS only decides "
            "whether JavaScript reads the answer.",
        ),
        request=page_request(credentials="include"),
        response=reply(allow_origin(), allow_credentials(), [name.VARY, name.ORIGIN], TEXT),
        focus=(name.VARY,),
        links=(CREDENTIALS, MDN_ACAO),
    ),
    Lesson(
        slug="two-allow-origins",
        title="Two Access-Control-Allow-Origin lines",
        topics=("two-allow-origins",),
        setup=(
            "The application sets `Access-Control-Allow-Origin: {origin}`, and the reverse "
            "proxy in front of it adds the same line again. The response carries it twice.",
        ),
        question=CAN_READ,
        explanation=(
            "No. Two lines of one header combine into one value, `{origin}, {origin}`, and "
            "that is not an origin. The CORS check fails even though each line alone is "
            "right: Chromium's `MultipleAllowOriginValues`.",
            "This means two layers add CORS headers: the application and a proxy (nginx "
            "`add_header`), or a middleware plus hand-written code. Let exactly one of them "
            "do it.",
        ),
        request=page_request(),
        response=reply(allow_origin(), allow_origin(), TEXT),
        links=(ALLOW_ORIGIN, _error("CORSMultipleAllowOriginNotAllowed")),
    ),
    Lesson(
        slug="trailing-slash",
        title="A trailing slash in the origin",
        topics=("trailing-slash",),
        setup=(
            "The server's allow-list was copied from the address bar: it answers "
            "`Access-Control-Allow-Origin: {origin}/`.",
        ),
        question=CAN_READ,
        explanation=(
            "No. An origin is a scheme, a host and a port: `{origin}`, never a path. The "
            "browser compares the header with the request's `Origin` character for character, "
            "and `{origin}/` is not `{origin}`: Chromium's `AllowOriginMismatch`.",
            "Copy the value from the `Origin` request header the API origin received (shown "
            "above), not from the address bar.",
        ),
        request=page_request(),
        response=reply(allow_origin("{origin}/"), TEXT),
        links=(CORS_CHECK, _error("CORSAllowOriginNotMatchingOrigin")),
    ),
    Lesson(
        slug="patch-uppercase",
        title="`PATCH` in capitals",
        topics=("method-case",),
        setup=(
            'The page updates a record: `fetch(url, {method: "PATCH", headers: '
            '{"Content-Type": "application/json"}, body})`.',
            "The API's preflight answer allows `PATCH` and `Content-Type`.",
        ),
        question=PATCH_ACRM,
        explanation=(
            "`PATCH`. It is not a CORS-safelisted method (only GET, HEAD and POST are), so the "
            "preflight asks for it by name.",
            "`Access-Control-Allow-Methods: PATCH` matched it exactly, and the PATCH went out.",
        ),
        request=json_request("PATCH"),
        preflight_response=reply(
            allow_origin(), allow_methods("PATCH"), allow_headers(name.CONTENT_TYPE)
        ),
        response=reply(allow_origin(), TEXT),
        links=(SAFELISTED_METHOD, _error("CORSMethodNotFound")),
    ),
    Lesson(
        slug="patch-lowercase",
        title="`patch` in lower case",
        topics=("method-case",),
        setup=(
            'The same request and the same server, but the code says `method: "patch"` in '
            "lowercase. (`put` or `post` in lowercase would be fine. Why?)",
        ),
        question=PATCH_ACRM,
        explanation=(
            "`patch`. fetch() uppercases only six method names: DELETE, GET, HEAD, OPTIONS, "
            "POST and PUT. `put` becomes `PUT`; `patch` stays `patch`.",
            "Methods compare case-sensitively, so `Access-Control-Allow-Methods: PATCH` does "
            "not cover `patch`. The browser never sent the request: "
            "`MethodDisallowedByPreflightResponse`.",
            "Write `PATCH` in your code. (Many servers refuse a lowercase method outright; "
            "this playground's server accepts it, so you can see the browser's own check.)",
        ),
        request=json_request("patch"),
        preflight_response=reply(
            allow_origin(), allow_methods("PATCH"), allow_headers(name.CONTENT_TYPE)
        ),
        response=reply(allow_origin(), TEXT),
        links=(
            Link("Fetch: normalize a method", F + "concept-method-normalize"),
            _error("CORSMethodNotFound"),
        ),
    ),
    Lesson(
        slug="authorization-wildcard",
        title="`Authorization` against `Access-Control-Allow-Headers: *`",
        topics=("authorization-wildcard",),
        setup=(
            "The page sends a bearer token: `Authorization: Bearer demo-token`, without cookies.",
            "The API allows everything with wildcards: `Access-Control-Allow-Origin: *` and "
            "`Access-Control-Allow-Headers: *`.",
        ),
        question=CAN_READ,
        explanation=(
            "The Fetch Standard says `*` in `Access-Control-Allow-Headers` never covers "
            "`Authorization`: a server must name it. By the standard, this request is "
            "blocked.",
            "Yet Chromium, Firefox and WebKit all let it through: the preflight asked for "
            "`authorization`, the server answered `*`, and the GET followed. The engine "
            "comparison below records this as each browser's deviation, with the evidence.",
            "Do not build on it: browsers may follow the standard one day. List "
            "`Authorization` by name in `Access-Control-Allow-Headers`.",
        ),
        request=page_request("GET", ["Authorization", "Bearer demo-token"]),
        preflight_response=reply(allow_origin("*"), allow_headers("*")),
        response=reply(allow_origin("*"), TEXT),
        focus=("Authorization",),
        links=(
            Link(
                "Fetch: CORS non-wildcard request-header name",
                F + "cors-non-wildcard-request-header-name",
            ),
            _mdn_header(name.ALLOW_HEADERS),
        ),
    ),
    Lesson(
        slug="no-cors-opaque",
        title="A `no-cors` request",
        topics=("no-cors-opaque",),
        setup=(
            "The API sends no CORS headers. Someone suggests `fetch(url, {mode: "
            '"no-cors"})` to make the error go away.',
        ),
        question=Question("outcome", "What does JavaScript get?"),
        explanation=(
            'An opaque response. `mode: "no-cors"` asks for no permission, so there is no '
            "preflight and no CORS check: the request went out and the server answered in "
            "full.",
            'But JavaScript gets `response.type === "opaque"`: status 0, no headers, an empty '
            "body. A cache or an `<img>` can use it; your code can never read it.",
            "no-cors is no way around CORS. It also allows only CORS-safelisted methods and "
            "headers: anything else makes fetch() reject before sending.",
        ),
        request=page_request(mode="no-cors"),
        response=reply(TEXT),
        links=(
            Link("Fetch: opaque filtered response", F + "concept-filtered-response-opaque"),
            Link("MDN: Request.mode", MDN + "Web/API/Request/mode"),
        ),
    ),
    Lesson(
        slug="accept-129",
        title="A 129-byte Accept value",
        topics=("accept-129",),
        setup=(
            "The page asks for JSON with a long list of fallbacks in `Accept`: "
            f"`{ACCEPT_129}`. That value is {len(ACCEPT_129)} bytes.",
            "The API's preflight answer allows `Accept`.",
        ),
        question=PREFLIGHT_BEFORE_GET,
        explanation=(
            "Yes. `Accept` is a CORS-safelisted request-header only while its value is at "
            "most 128 bytes and has no CORS-unsafe bytes. This one is one byte too long.",
            "The preflight asked `Access-Control-Request-Headers: accept`; the server allowed "
            "it, so the GET followed.",
            "The same 128-byte limit holds for `Accept-Language`, `Content-Language` and "
            "`Content-Type`.",
        ),
        request=page_request("GET", ["Accept", ACCEPT_129]),
        preflight_response=reply(allow_origin(), allow_headers("Accept")),
        response=reply(allow_origin(), TEXT),
        focus=("Accept",),
        links=(
            SAFELISTED_HEADER,
            Link(
                "MDN: CORS-safelisted request header",
                MDN + "Glossary/CORS-safelisted_request_header",
            ),
        ),
    ),
    Lesson(
        slug="range-open",
        title="`Range: bytes=0-`",
        topics=("range",),
        setup=(
            "The page asks for a file from its first byte on: `Range: bytes=0-`. The API "
            "allows the page's origin on its responses and says nothing about preflights.",
        ),
        question=PREFLIGHT_BEFORE_GET,
        explanation=(
            "No. The Fetch Standard safelists `Range` when its value is one simple range: "
            "`bytes=`, a start, a dash and an optional end, like `bytes=0-` or "
            "`bytes=0-499`.",
            "The API origin received the GET with `Range: bytes=0-` and no OPTIONS before it. "
            "This server ignored the range and answered 200 with the whole body, which HTTP "
            "allows.",
        ),
        request=page_request("GET", ["Range", "bytes=0-"]),
        response=reply(allow_origin(), TEXT),
        focus=("Range",),
        links=(
            SIMPLE_RANGE,
            _mdn_header("Range"),
        ),
    ),
    Lesson(
        slug="range-suffix",
        title="`Range: bytes=-5`",
        topics=("range",),
        setup=(
            "The same server, but now the page asks for the last five bytes: "
            "`Range: bytes=-5`. The server answers an OPTIONS request with "
            "`Access-Control-Allow-Origin` only, as it answers everything.",
        ),
        question=PREFLIGHT_BEFORE_GET,
        explanation=(
            "Yes. `bytes=-5` is a suffix range, not a simple range, so `Range` is not "
            "safelisted here. Neither are several ranges, like `bytes=0-1,5-6`.",
            "The preflight asked `Access-Control-Request-Headers: range`. The answer had no "
            "`Access-Control-Allow-Headers`, so the browser stopped: "
            "`HeaderDisallowedByPreflightResponse`. The GET never left.",
        ),
        request=page_request("GET", ["Range", "bytes=-5"]),
        preflight_response=reply(allow_origin()),
        response=reply(allow_origin(), TEXT),
        focus=("Range",),
        links=(
            SIMPLE_RANGE,
            _error("CORSMissingAllowHeaderFromPreflight"),
        ),
    ),
    # Whole fetches: redirects, followed (or not) by the browser itself.
    Lesson(
        slug="redirect-needs-cors",
        title="A cross-origin request answered with a redirect",
        topics=("redirect-cors-check", "redirects"),
        setup=(
            "The page sends a plain GET to the API origin `{api}`. The resource has moved: "
            "the API answers `302 Found` with a `Location` pointing at a second URL on the "
            "same API origin, and no CORS header on that redirect.",
            "The second URL would answer with `Access-Control-Allow-Origin: {origin}`.",
        ),
        question=Question(
            "followed", "Will the browser follow the redirect and send a GET to the second URL?"
        ),
        explanation=(
            "No. In a CORS request the browser checks every response it receives, redirects "
            "included: the CORS check runs on the `302` before its `Location` is followed, and "
            "the `302` had no `Access-Control-Allow-Origin`.",
            "The API origin received one GET. fetch() rejected with a TypeError; Chromium's "
            "DevTools call it `MissingAllowOriginHeader`, on the redirect.",
            "Fix it on the server: send the same CORS headers on the redirect as on the final "
            "answer, or let the page call the final URL.",
        ),
        request=page_request(),
        response=reply([name.LOCATION, NEXT], status=302),
        hops=({"response": reply(allow_origin(), TEXT)},),
        focus=(name.LOCATION,),
        links=(REDIRECT_FETCH, CORS_CHECK, MDN_REDIRECTS),
    ),
    Lesson(
        slug="redirect-303-post",
        title="A POST answered with `303 See Other`",
        topics=("redirect-method", "redirects"),
        setup=(
            'The page posts a text body: `fetch(url, {method: "POST", headers: '
            '{"Content-Type": "text/plain"}, body: "hello"})`. No preflight: POST and '
            "`text/plain` are safelisted.",
            "The API answers `303 See Other` with a `Location` pointing at a second URL on "
            "the API origin. Both answers allow `{origin}`.",
        ),
        question=Question(
            "method", "Which method reaches the second URL?", values=("POST", "GET")
        ),
        explanation=(
            "GET. On a `303`, HTTP-redirect fetch turns every method except GET and HEAD into "
            "GET and drops the body with its `Content-Type`; a `301` or `302` does the same "
            "to a POST.",
            "The API origin received a POST with its 5-byte body, then a GET with none. "
            "JavaScript reads the second answer: `response.redirected` is true and "
            "`response.url` is the second URL.",
            "A `307` or `308` keeps the method and the body: use one when a POST must stay a "
            "POST.",
        ),
        request=page_request("POST", TEXT, body="hello"),
        response=reply(allow_origin(), [name.LOCATION, NEXT], status=303),
        hops=({"response": reply(allow_origin(), TEXT)},),
        focus=(name.LOCATION, name.CONTENT_TYPE),
        links=(REDIRECT_FETCH, Link("MDN: 303 See Other", MDN + "Web/HTTP/Status/303")),
    ),
    Lesson(
        slug="redirect-307-preflight",
        title="A PUT with a custom header, redirected by a 307",
        topics=("redirect-preflight", "redirects"),
        setup=(
            'The page sends `fetch(url, {method: "PUT", headers: {"X-Token": "abc"}, body: '
            '"x"})`, which needs a preflight. The API allows it '
            "(`Access-Control-Allow-Methods: PUT`, `Access-Control-Allow-Headers: X-Token`).",
            "Then it answers the PUT with `307 Temporary Redirect` to a second URL on the same "
            "API origin, which answers preflights and the PUT just as the first one did.",
        ),
        question=Question(
            "preflights", "How many preflights reach the API origin?", values=("1", "2")
        ),
        explanation=(
            "Two. A `307` keeps the method, the headers and the body, so the request to the "
            "second URL still needs a preflight: HTTP-redirect fetch starts over there, and "
            "the CORS-preflight cache has nothing for that URL (its entries are per URL).",
            "The API origin received OPTIONS, PUT, OPTIONS, PUT, in that order. Every answer, "
            "the `307` included, passed the CORS check.",
            "So every URL of a redirect chain must answer preflights (`OPTIONS`), not only "
            "the last one.",
        ),
        request=page_request("PUT", ["X-Token", "abc"], body="x"),
        preflight_response=reply(allow_origin(), allow_methods("PUT"), allow_headers("X-Token")),
        response=reply(allow_origin(), [name.LOCATION, NEXT], status=307),
        hops=({"response": reply(allow_origin(), TEXT)},),
        focus=(name.LOCATION, "X-Token"),
        links=(
            REDIRECT_FETCH,
            PREFLIGHT_FETCH,
            Link("Fetch: CORS-preflight cache", F + "concept-cache"),
            Link("MDN: 307 Temporary Redirect", MDN + "Web/HTTP/Status/307"),
        ),
    ),
    Lesson(
        slug="redirect-manual",
        title='`redirect: "manual"` meets a redirect',
        topics=("redirect-mode", "redirects"),
        setup=(
            'The page calls `fetch(url, {redirect: "manual"})`, hoping to read where the API '
            "redirects to. The API answers `302 Found` with a `Location` and "
            "`Access-Control-Allow-Origin: {origin}`.",
        ),
        question=Question("outcome", "What does fetch() give the page?"),
        explanation=(
            'An opaque-redirect response: `response.type` is "opaqueredirect", its status 0, '
            "no headers, no body. The browser does not follow the redirect, and the page "
            "cannot read where it pointed, whatever CORS headers the answer has.",
            'The API origin received one GET. `redirect: "manual"` exists for service '
            "workers, which may hand such a response back to the browser to follow.",
            '`redirect: "error"` makes fetch() reject on any redirect instead; the default, '
            '`"follow"`, follows up to 20 redirects.',
        ),
        request={**page_request(), "redirect": "manual"},
        response=reply(allow_origin(), [name.LOCATION, NEXT], status=302),
        hops=({"response": reply(allow_origin(), TEXT)},),
        focus=(name.LOCATION,),
        links=(
            Link(
                "Fetch: opaque-redirect filtered response",
                F + "concept-filtered-response-opaque-redirect",
            ),
            Link("MDN: RequestInit redirect", MDN + "Web/API/RequestInit#redirect"),
        ),
    ),
    Lesson(
        slug="reflect-origin",
        title="Any origin, reflected, with credentials",
        topics=("reflect-origin", "dangerous"),
        setup=(
            "This API copies whatever `Origin` arrives into `Access-Control-Allow-Origin` and "
            "adds `Access-Control-Allow-Credentials: true`: a popular way to make CORS errors "
            "go away.",
            'The page asks for the user\'s data with cookies: `credentials: "include"`.',
        ),
        question=CAN_READ,
        explanation=(
            "Yes, and that is the danger. The server answered "
            "`Access-Control-Allow-Origin: {origin}` because your page sent that origin. A "
            "page at `{attacker}` gets `Access-Control-Allow-Origin: {attacker}` the same way, "
            "and the browser lets it read the response with your cookies.",
            "Reflecting every origin with credentials switches off the same-origin policy for "
            "this API. Compare the `Origin` with a list of exact origins you trust, and send "
            "`Vary: Origin`.",
        ),
        request=page_request(credentials="include"),
        response=reply(allow_origin(), allow_credentials(), TEXT),
        danger=(
            "Any website can read this API's responses with the visitor's cookies. The request "
            "passes here, and it passes the same way for an attacker's page."
        ),
        attacker=lambda _page: "https://evil.example",
        links=(CREDENTIALS, MDN_ACAO),
    ),
    Lesson(
        slug="null-origin",
        title="Trusting the `null` origin",
        topics=("null-origin", "dangerous"),
        setup=(
            "This API allows `Access-Control-Allow-Origin: null` with "
            "`Access-Control-Allow-Credentials: true`, so that local files can call it "
            "during development.",
            "Your page, at `{origin}`, asks with cookies.",
        ),
        question=Question("readable", "Can JavaScript on this page read the response?"),
        explanation=(
            "No: your page's origin is `{origin}`, and `null` does not match it "
            "(`AllowOriginMismatch`).",
            "That makes it look harmless. But any website can embed `<iframe "
            'sandbox="allow-scripts">`: the document inside has an opaque origin, its '
            "fetch() sends `Origin: null`, the server answers `null` with credentials, and the "
            "CORS check passes. The request passes for exactly the pages you trust least.",
            "Never allow `null`. Give development pages a real origin instead (a local server).",
        ),
        request=page_request(credentials="include"),
        response=reply(allow_origin("null"), allow_credentials(), TEXT),
        danger=(
            "`null` is not one origin: sandboxed iframes, data: URLs and local files all send "
            "`Origin: null`, and any website can make one. Trusting `null` with credentials "
            "trusts everyone."
        ),
        attacker=lambda _page: "null",
        links=(
            Link(
                "HTML: sandboxed origin browsing context flag",
                "https://html.spec.whatwg.org/multipage/browsers.html"
                "#sandboxed-origin-browsing-context-flag",
            ),
            CORS_CHECK,
            MDN_ACAO,
        ),
    ),
    Lesson(
        slug="prefix-match",
        title="Prefix matching: `localhost.evil`",
        topics=("prefix-suffix-matching", "dangerous"),
        setup=(
            'This API trusts every origin for which `origin.startswith("http://{host}")` '
            "is true (meant for local development), reflects it and allows credentials.",
            "The page sends a JSON POST with cookies.",
        ),
        question=Question("actual", "Will the POST, with cookies, reach the API origin?"),
        explanation=(
            "Yes. The preflight got your origin and `Access-Control-Allow-Credentials: true` "
            "back, so the POST went out with cookies, and JavaScript can read the answer.",
            "`{attacker}` starts with `http://{host}` too. Anyone can register such a name; "
            "the server's check passes, and the attacker's page gets what your page got.",
            "Compare whole origins with an exact allow-list. Never test the beginning of the "
            "string.",
        ),
        request=json_request("POST", credentials="include"),
        preflight_response=reply(
            allow_origin(),
            allow_credentials(),
            allow_methods("POST"),
            allow_headers(name.CONTENT_TYPE),
        ),
        response=reply(allow_origin(), allow_credentials(), TEXT),
        danger=(
            "A prefix check also trusts names like `http://localhost.evil.example` that "
            "anyone can register: their pages send state-changing requests with the "
            "visitor's cookies and read the answers."
        ),
        attacker=_prefix_attacker,
        links=(CORS_CHECK, MDN_ACAO),
    ),
    Lesson(
        slug="suffix-match",
        title="Suffix matching: `evil-localhost`",
        topics=("prefix-suffix-matching", "dangerous"),
        setup=(
            "This API trusts every origin that ends with `{host}:{port}`, meant for "
            "`{origin}` and its subdomains, reflects it and allows credentials. It also "
            "exposes the account id: `Access-Control-Expose-Headers: X-Account-Id`.",
        ),
        question=Question("header", "Can JavaScript read `X-Account-Id`?", header="X-Account-Id"),
        explanation=(
            "Yes: your origin passed the check, and the server reflected it with credentials "
            "and exposed the header.",
            "`{attacker}` ends with `{host}:{port}` as well. A suffix check without a dot "
            "before the name trusts every origin that ends the same way: a rule for "
            "`example.com` trusts `notexample.com`.",
            "To allow subdomains, parse the origin and compare the scheme, the port, and the "
            "host with your domain or with `.` plus your domain.",
        ),
        request=page_request(credentials="include"),
        response=reply(
            allow_origin(),
            allow_credentials(),
            expose_headers("X-Account-Id"),
            ["X-Account-Id", "1234"],
            TEXT,
        ),
        focus=("X-Account-Id",),
        danger=(
            "A suffix check also trusts names like `http://evil-localhost:{port}`: any page "
            "there reads the visitor's account data with the visitor's cookies."
        ),
        attacker=_suffix_attacker,
        links=(CORS_CHECK, MDN_ACAO),
    ),
)


# The attacker's view: a sequence of its own, run in the attack lab. Each lesson's page is the
# attacker's (``{origin}`` is the attacker's origin; a sandboxed frame's is ``null``), its
# request asks the victim API for the learner's account, and the answer is what the
# misconfigured API sends that origin. The lab sends it for real and shows what was stolen.
JSON_ANSWER: Header = [name.CONTENT_TYPE, "application/json"]
ATTACK_READ = Question("readable", "Can the attacker's script read your account?")
ATTACK_LINKS = (
    CREDENTIALS,
    MDN_CORS,
    Link("PortSwigger Web Security Academy: CORS", "https://portswigger.net/web-security/cors"),
)

ATTACK_LESSONS: tuple[Lesson, ...] = (
    Lesson(
        slug="attack-reflect",
        title="The attacker's page and a reflected origin",
        topics=("attack", "reflect-origin"),
        setup=(
            "You are logged in to the victim API at `{api}`: your browser holds its login "
            "cookie. The API copies any `Origin` into `Access-Control-Allow-Origin` and adds "
            "`Access-Control-Allow-Credentials: true`.",
            "You now visit the attacker's page at `{origin}`. Its script calls "
            '`fetch(url, {credentials: "include"})` for your account.',
        ),
        question=ATTACK_READ,
        explanation=(
            "Yes. The browser added your cookie and `Origin: {origin}`; the API copied the "
            "origin back and allowed credentials, so the CORS check passed and the attacker's "
            "script read the answer: your account, secret and all.",
            "The same-origin policy is what normally keeps another site from reading your "
            "data. Reflecting every origin with credentials switches it off for this API.",
            "The fix is an exact allow-list: compare the `Origin` with the origins you trust, "
            "answer the others without `Access-Control-Allow-Origin`, and send `Vary: Origin`.",
        ),
        request=page_request(credentials="include"),
        response=reply(allow_origin(), allow_credentials(), JSON_ANSWER),
        danger=(
            "Any website you visit while logged in reads your account: the check passes for "
            "every origin."
        ),
        links=ATTACK_LINKS,
    ),
    Lesson(
        slug="attack-null",
        title="A sandboxed frame and the trusted `null`",
        topics=("attack", "null-origin", "sandboxed"),
        setup=(
            "The API allows your site and `null`, with credentials, so that local files can "
            "call it during development.",
            "The attacker's page holds an `<iframe sandbox=\"allow-scripts\">`. The frame's "
            "document has an opaque origin, so its `fetch()` says `Origin: null`, and it asks "
            "for your account with your cookies.",
        ),
        question=Question("readable", "Can the script in the sandboxed frame read your account?"),
        explanation=(
            "Yes, as far as CORS goes: the API answers `Access-Control-Allow-Origin: null` "
            "with credentials, and `null` is exactly what the frame sent. Any website can make "
            "such a frame, so trusting `null` trusts everyone.",
            "Whether your cookie went along is up to the browser: a sandboxed frame is no site "
            "at all, and Chrome (with third-party cookies allowed) sends the `SameSite=None` "
            "cookie, WebKit sends its same-site cookie when the page around the frame is on "
            "the API's site, and Firefox keeps cookies from it. A browser that keeps the "
            "cookie back stops the attack for a reason that is not CORS.",
            "Never allow `null`. Give development pages a real origin instead.",
        ),
        request=page_request(credentials="include"),
        response=reply(allow_origin("null"), allow_credentials(), JSON_ANSWER),
        danger=(
            "`null` is every sandboxed frame, file: page and data: URL: any website can send "
            "`Origin: null`."
        ),
        links=ATTACK_LINKS,
    ),
    Lesson(
        slug="attack-prefix",
        title="Prefix matching and the attacker's origin",
        topics=("attack", "prefix-suffix-matching"),
        setup=(
            "The API trusts every origin that starts with `http://{host}`, reflects it and "
            "allows credentials: the developer left the port off so that every development "
            "port works.",
            "The attacker's page is `{origin}`, and its script asks for your account with your "
            "cookies.",
        ),
        question=ATTACK_READ,
        explanation=(
            "Yes. `{origin}` starts with `http://{host}`, so the API reflected it with "
            "credentials and the attacker read your account.",
            "Here the attacker sits on another port of the same host. In production the same "
            'check, `startswith("https://trusted.example")`, also passes '
            "`https://trusted.example.attacker.example`: a name anyone can register.",
            "Compare whole origins with an exact list; a prefix with the port included only "
            "moves the problem to production, where origins have no port.",
        ),
        request=page_request(credentials="include"),
        response=reply(allow_origin(), allow_credentials(), JSON_ANSWER),
        danger="A prefix check trusts every origin that starts the same way.",
        links=ATTACK_LINKS,
    ),
    Lesson(
        slug="attack-suffix",
        title="Suffix matching and the attacker's origin",
        topics=("attack", "prefix-suffix-matching"),
        setup=(
            "The API trusts every origin whose host name ends with `{host}`, ignoring the "
            "scheme and the port, meant for your site and its subdomains. It reflects the "
            "origin and allows credentials.",
            "The attacker's page is `{origin}`, and its script asks for your account with your "
            "cookies.",
        ),
        question=ATTACK_READ,
        explanation=(
            "Yes: the host of `{origin}` ends with `{host}`, the API reflected it with "
            "credentials, and the attacker read your account.",
            'In production the check `endswith("trusted.example")` also passes '
            "`https://attackertrusted.example`, a name anyone can register, and "
            "`http://trusted.example` over plain http. Adding the dot (`.trusted.example`) "
            "still trusts every subdomain and every scheme.",
            "Compare the scheme, the host and the port, with an exact list.",
        ),
        request=page_request(credentials="include"),
        response=reply(allow_origin(), allow_credentials(), JSON_ANSWER),
        danger="A suffix check trusts names the attacker can register.",
        links=ATTACK_LINKS,
    ),
    Lesson(
        slug="attack-wildcard",
        title="`*` without credentials",
        topics=("attack", "wildcard-credentials"),
        setup=(
            "The API answers `Access-Control-Allow-Origin: *` and no "
            "`Access-Control-Allow-Credentials`: its answers are public.",
            "The attacker's page at `{origin}` asks for your account with your cookies.",
        ),
        question=ATTACK_READ,
        explanation=(
            'No. With `credentials: "include"` the browser never accepts `*`: the CORS check '
            "fails, even though the request went out with your cookie.",
            "Without credentials the attacker's script can read the answer, but then no cookie "
            "goes along, and the API answers as it would to a stranger: `401`, nothing secret.",
            "`*` is right for public data. It is the credentials, not the star, that make an "
            "answer secret.",
        ),
        request=page_request(credentials="include"),
        response=reply(allow_origin("*"), JSON_ANSWER),
        links=ATTACK_LINKS,
    ),
    Lesson(
        slug="attack-allow-list",
        title="An exact allow-list, and what CORS does not stop",
        topics=("attack", "allow-list"),
        setup=(
            "The API allows exactly your site, with credentials. To any other origin it "
            "answers without `Access-Control-Allow-Origin`, with `Vary: Origin`.",
            "The attacker's page at `{origin}` asks for your account with your cookies.",
        ),
        question=Question(
            "actual", "Does the attacker's request, with your cookie, reach the victim API?"
        ),
        explanation=(
            "Yes. A GET with no custom headers needs no preflight, so the browser sends it, "
            "with your cookie, before any CORS check: CORS decides whether the script may read "
            "the answer, not whether the request is made.",
            "The answer had no `Access-Control-Allow-Origin`, so the browser refused the "
            "attacker's script the read (`MissingAllowOriginHeader`). Your secret stayed in "
            "the browser.",
            "So an API must never change anything on a GET, and must protect state-changing "
            "requests on its own (a CSRF token, `SameSite` cookies): CORS is not "
            "authorization.",
        ),
        request=page_request(credentials="include"),
        response=reply([name.VARY, "Origin"], JSON_ANSWER),
        links=ATTACK_LINKS,
    ),
)
