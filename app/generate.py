"""A seeded generator of scenarios that reach every CORS rule, for checking the engine
against real browsers.

Each scenario starts from a request drawn from the edges the Fetch Standard defines (method
case, the 128-byte limit, Range forms, forbidden and invalid headers, no-cors, credentials)
and a server policy built to let it through, then applies up to two near-miss mutations to the
server's answers (a trailing slash, `True`, a second Allow-Origin line, `*` with credentials,
a 404 preflight...). What the browser does with it is not decided here: the browser decides.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from app.cors.headers import Header, cors_unsafe_request_header_names, is_forbidden_request_header
from app.cors.methods import is_cors_safelisted_method, normalize_method
from app.cors.profiles import SPEC

PAGE_ORIGIN = "http://localhost:8701"
TARGET_ORIGIN = "http://localhost:8702"
# What the generators add to each scenario about how it was made (the near-miss mutations, the
# redirect chain's kind and forms, a sequence's template), as the shared vectors carry it too.
# It is not part of the scenario format: a reader drops it with scenario_document() before
# Scenario.from_json, which refuses unknown keys.
METADATA_KEYS = ("mutations", "kind", "hop_forms", "hop_kinds", "template", "max_age")

METHODS = [
    "GET", "GET", "POST", "POST", "HEAD", "get", "post", "head",
    "PUT", "put", "Put", "DELETE", "delete", "OPTIONS", "options",
    "PATCH", "patch", "Patch", "FOO", "foo", "M-SEARCH",
]  # fmt: skip
# fetch() throws a TypeError: forbidden methods and methods that are not tokens
BAD_METHODS = ["CONNECT", "trace", "Track", "BAD METHOD", "GET\t", ""]

X128 = "x" * 128
REQUEST_HEADERS: list[Header] = [
    # Accept: CORS-unsafe bytes and the 128-byte limit
    ("Accept", "application/json"), ("Accept", "*/*"), ("Accept", "text/html, */*;q=0.8"),
    ("Accept", X128), ("Accept", X128 + "x"), ("Accept", 'a"b'), ("Accept", "text/html(1)"),
    ("Accept", "a:b"), ("Accept", "<x>"), ("Accept", "a?b"), ("Accept", "a@b"),
    ("Accept", "[x]"), ("Accept", "a\\b"), ("Accept", "{x}"), ("Accept", "a\x7fb"),
    ("Accept", "a\x01b"), ("Accept", "a\tb"), ("Accept", "  text/plain  "),
    # languages
    ("Accept-Language", "en-US,en;q=0.9"), ("Accept-Language", "*"),
    ("Accept-Language", "en_US"), ("Accept-Language", "de-DE/x"),
    ("Accept-Language", "x" * 129), ("Content-Language", "de-DE"), ("Content-Language", "fr!"),
    # Content-Type: parsed as a MIME type, three essences
    ("Content-Type", "text/plain"), ("Content-Type", "TEXT/PLAIN"),
    ("Content-Type", "text/plain;charset=UTF-8"), ("Content-Type", "application/json"),
    ("Content-Type", "application/json; charset=utf-8"),
    ("Content-Type", "multipart/form-data; boundary=x"),
    ("Content-Type", "application/x-www-form-urlencoded"), ("Content-Type", "text/plainx"),
    ("Content-Type", "text / plain"), ("Content-Type", "text /plain"),
    ("Content-Type", "text/ plain"), ("Content-Type", "text/plain/x"), ("Content-Type", "text"),
    ("Content-Type", 'text/plain; x="("'), ("Content-Type", "text/plain;" + "x" * 120),
    ("Content-Type", "text/html"),
    # Range: only a single bytes=start- range without whitespace
    ("Range", "bytes=0-"), ("Range", "bytes=0-99"), ("Range", "bytes=-5"),
    ("Range", "bytes= 0-5"), ("Range", "bytes =0-5"), ("Range", "bytes=5-2"),
    ("Range", "bytes=0-1,3-4"), ("Range", "items=0-5"), ("Range", "Bytes=0-"),
    ("Range", "bytes=7-7"),
    # client hints (safelisted by some engines)
    ("DPR", "2"), ("DPR", "1.5"), ("DPR", "x"), ("Device-Memory", "4"), ("Width", "100"),
    ("Width", "1.5"), ("Viewport-Width", "800"), ("Save-Data", "on"), ("Save-Data", "off"),
    ("Intervention", "x"), ("Lang", "en"), ("RTT", "50"), ("RTT", "0.5"), ("Downlink", "10"),
    ("ECT", "4g"), ("ECT", "5g"),
    # forbidden request-headers, silently dropped
    ("Accept-Charset", "utf-8"), ("Accept-Encoding", "identity"), ("Connection", "close"),
    ("Content-Length", "5"), ("Cookie", "a=b"), ("Cookie2", "x"), ("Date", "x"), ("DNT", "1"),
    ("Expect", "100-continue"), ("Host", "evil.example"), ("Keep-Alive", "1"),
    ("Origin", "http://evil.example"), ("Referer", "http://x.example/"), ("Set-Cookie", "a=b"),
    ("TE", "trailers"), ("Trailer", "x"), ("Transfer-Encoding", "chunked"),
    ("Upgrade", "h2c"), ("Via", "1.1 x"), ("Access-Control-Request-Method", "PUT"),
    ("Access-Control-Request-Headers", "x-token"), ("Proxy-Authorization", "x"),
    ("Sec-Custom", "1"), ("User-Agent", "playground"),
    ("X-HTTP-Method-Override", "PUT"), ("X-HTTP-Method-Override", "TRACE"),
    ("X-HTTP-Method-Override", "trace"), ("X-HTTP-Method-Override", "PUT, TRACE"),
    ("X-HTTP-Method-Override", '"TRACE"'), ("X-HTTP-Method-Override", " track "),
    ("X-HTTP-Method", "CONNECT"), ("X-Method-Override", "TRACK"),
    ("X-Method-Override", "DELETE"),
    # ordinary CORS-unsafe headers
    ("X-Token", "abc"), ("x-token", "abc"), ("X-Requested-With", "XMLHttpRequest"),
    ("Authorization", "Bearer t0ken"), ("Cache-Control", "no-cache"),
    ("If-None-Match", '"abc"'), ("X-Api-Key", "k"), ("X-Empty", ""),
]  # fmt: skip

# fetch() throws a TypeError for these
INVALID_HEADERS: list[Header] = [
    ("Bad Header", "1"), ("X:Y", "1"), ("", "1"), ("X-Token", "a\nb"), ("X-Token", "a\x00b"),
    ("X-Token", "a\rb"), ("X-Token", "caf\u20ac"), ("X-Ok\u00e9", "1"), ("X-Latin", "caf\u00e9"),
    ("(x)", "1"),
]  # fmt: skip

RESPONSE_EXTRAS: list[Header] = [
    ("X-Request-Id", "42"), ("X-Other", "2"), ("Content-Type", "text/plain"),
    ("Cache-Control", "no-cache"), ("Pragma", "no-cache"), ("Expires", "0"),
    ("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT"), ("Content-Language", "en"),
    ("ETag", '"v1"'), ("Set-Cookie", "s=1"), ("Server-Timing", "db;dur=1"), ("X-Custom", "c"),
]  # fmt: skip


def scenario_document(doc: dict[str, Any]) -> dict[str, Any]:
    """A generated (or shared vector) document without its metadata: a scenario document."""
    return {key: value for key, value in doc.items() if key not in METADATA_KEYS}


def generate(count: int, seed: int = 1) -> list[dict[str, Any]]:
    """``count`` scenarios in the shared JSON format, the same for the same seed."""
    rng = random.Random(seed)
    return [_scenario(rng, f"g{seed}-{index:04d}") for index in range(count)]


def _scenario(rng: random.Random, scenario_id: str) -> dict[str, Any]:
    method = rng.choice(BAD_METHODS if rng.random() < 0.03 else METHODS)
    mode = "no-cors" if rng.random() < 0.1 else "cors"
    credentials = rng.choice(["omit", "same-origin", "same-origin", "include"])
    headers = _request_headers(rng)
    body: str | None = None
    takes_body = normalize_method(method) not in ("GET", "HEAD")
    if rng.random() < (0.4 if takes_body else 0.03):
        body = rng.choice(["hello", "", '{"a": 1}'])
    preflight, response = _policy(rng, method, headers, credentials)
    mutations = rng.sample(sorted(MUTATIONS), k=rng.choice([0, 0, 1, 1, 2]))
    for name in mutations:
        MUTATIONS[name](rng, preflight, response, credentials)
    return {
        "id": scenario_id,
        "mutations": mutations,
        "origin": PAGE_ORIGIN,
        "url": f"{TARGET_ORIGIN}/t/{scenario_id}",
        "request": {
            "method": method,
            "headers": [list(h) for h in headers],
            "credentials": credentials,
            "mode": mode,
            "body": body,
        },
        "preflight_response": preflight,
        "response": response,
    }


def _request_headers(rng: random.Random) -> list[Header]:
    roll = rng.random()
    if roll < 0.04:
        return [rng.choice(INVALID_HEADERS)]
    if roll < 0.08:  # repeated names: combined or checked one by one
        name = rng.choice(["Accept", "Content-Type", "X-Token", "Accept-Language"])
        value = rng.choice(["a", "text/plain", "en", "x" * 70, "application/json"])
        return [(name, value), (name, rng.choice([value, "text/plain", "x" * 70]))]
    if roll < 0.10:  # the 1024-byte total of safelisted values
        return [("Accept", "x" * 120)] * rng.choice([8, 9])
    count = rng.choice([0, 1, 1, 2, 2, 3])
    return [rng.choice(REQUEST_HEADERS) for _ in range(count)]


def _policy(
    rng: random.Random, method: str, headers: list[Header], credentials: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Server answers built to allow the request: the starting point for mutations."""
    include = credentials == "include"
    normalized = normalize_method(method)
    sent = [(n, v.strip()) for n, v in headers]
    sent = [(n, v) for n, v in sent if not is_forbidden_request_header(n, v, SPEC)]
    unsafe = cors_unsafe_request_header_names(sent, SPEC).names
    wildcard = not include and rng.random() < 0.25
    pf: list[Header] = [("Access-Control-Allow-Origin", "*" if wildcard else PAGE_ORIGIN)]
    if include:
        pf.append(("Access-Control-Allow-Credentials", "true"))
    if not is_cors_safelisted_method(normalized) or rng.random() < 0.3:
        pf.append(("Access-Control-Allow-Methods", "*" if wildcard else normalized))
    if unsafe or rng.random() < 0.2:
        names = [n.title() for n in unsafe] if rng.random() < 0.5 else list(unsafe)
        pf.append(("Access-Control-Allow-Headers", "*" if wildcard else ", ".join(names)))
    if rng.random() < 0.2:
        pf.append(("Access-Control-Max-Age", rng.choice(["0", "5", "600", "86400", "-1", "x"])))
    rs: list[Header] = [("Access-Control-Allow-Origin", "*" if wildcard else PAGE_ORIGIN)]
    if include:
        rs.append(("Access-Control-Allow-Credentials", "true"))
    extras = rng.sample(RESPONSE_EXTRAS, k=rng.choice([0, 1, 2, 3]))
    rs.extend(extras)
    if extras and rng.random() < 0.5:
        exposed = [n for n, _ in extras if rng.random() < 0.6]
        rs.append(("Access-Control-Expose-Headers", ", ".join(exposed) or "X-Nothing"))
    rng.shuffle(rs)
    return {"status": rng.choice([200, 204, 204]), "headers": pf}, {"status": 200, "headers": rs}


Mutation = Callable[[random.Random, dict[str, Any], dict[str, Any], str], None]


def _set(answer: dict[str, Any], name: str, value: str | None) -> None:
    """Replace every ``name`` line with one ``value`` line (none when value is None)."""
    kept = [h for h in answer["headers"] if h[0].lower() != name.lower()]
    if value is not None:
        kept.append((name, value))
    answer["headers"] = kept


def _allow_origin_values() -> list[str | None]:
    return [
        None, "*", "null", PAGE_ORIGIN + "/", PAGE_ORIGIN + "0", "http://evil.example",
        PAGE_ORIGIN.upper(), "http://localhost", f"{PAGE_ORIGIN}, {PAGE_ORIGIN}",
        f" {PAGE_ORIGIN} ", "localhost:8701", "https://localhost:8701", "*, *",
    ]  # fmt: skip


def _acao(rng: random.Random, answer: dict[str, Any]) -> None:
    if rng.random() < 0.2:
        answer["headers"] = [*answer["headers"], ("Access-Control-Allow-Origin", PAGE_ORIGIN)]
    else:
        _set(answer, "Access-Control-Allow-Origin", rng.choice(_allow_origin_values()))


def _acac(rng: random.Random, answer: dict[str, Any]) -> None:
    value = rng.choice([None, "True", "TRUE", "false", " true ", "true, true", "1"])
    _set(answer, "Access-Control-Allow-Credentials", value)


def _acam(rng: random.Random, answer: dict[str, Any]) -> None:
    current = next((v for n, v in answer["headers"] if n == "Access-Control-Allow-Methods"), "PUT")
    value = rng.choice(
        [None, current.lower(), current.upper(), "*", "GET, POST", f"GET, {current}",
         f"{current};", f"{current} POST", f"{current},,GET", f"({current})", ""]
    )  # fmt: skip
    _set(answer, "Access-Control-Allow-Methods", value)


def _acah(rng: random.Random, answer: dict[str, Any]) -> None:
    current = next((v for n, v in answer["headers"] if n == "Access-Control-Allow-Headers"), "")
    first = current.split(",")[0].strip() or "X-Token"
    value = rng.choice(
        [None, "*", "*, Authorization", first, first.upper(), f"{first};", f"{first} x",
         f"{current}, , X-More", "Content-Type", ""]
    )  # fmt: skip
    _set(answer, "Access-Control-Allow-Headers", value)


def _pf_status(rng: random.Random, preflight: dict[str, Any]) -> None:
    preflight["status"] = rng.choice([200, 299, 300, 301, 302, 400, 403, 404, 500])
    if preflight["status"] in (301, 302) and rng.random() < 0.5:
        preflight["headers"] = [*preflight["headers"], ("Location", "/elsewhere")]


def _aceh(rng: random.Random, response: dict[str, Any]) -> None:
    names = [n for n, _ in response["headers"] if not n.startswith("Access-Control")]
    value = rng.choice(
        ["*", "*, X-Request-Id", ", ".join(names).lower() or "x-other", "Set-Cookie",
         "X-Request-Id;", "X-Request-Id X-Other", "X-Other, X-Request-Id;", "x-other,,", None]
    )  # fmt: skip
    _set(response, "Access-Control-Expose-Headers", value)
    if rng.random() < 0.5:
        _set(response, "X-Request-Id", "42")


MUTATIONS: dict[str, Mutation] = {
    "pf_acao": lambda rng, pf, rs, cred: _acao(rng, pf),
    "rs_acao": lambda rng, pf, rs, cred: _acao(rng, rs),
    "pf_acac": lambda rng, pf, rs, cred: _acac(rng, pf),
    "rs_acac": lambda rng, pf, rs, cred: _acac(rng, rs),
    "pf_acam": lambda rng, pf, rs, cred: _acam(rng, pf),
    "pf_acah": lambda rng, pf, rs, cred: _acah(rng, pf),
    "pf_status": lambda rng, pf, rs, cred: _pf_status(rng, pf),
    "rs_status": lambda rng, pf, rs, cred: rs.update(status=rng.choice([201, 204, 404, 500])),
    "rs_aceh": lambda rng, pf, rs, cred: _aceh(rng, rs),
}


def _edge(
    scenario_id: str,
    method: str = "PUT",
    headers: list[Header] | None = None,
    *,
    credentials: str = "same-origin",
    mode: str = "cors",
    body: str | None = None,
    preflight: tuple[int, list[Header]] = (204, []),
    response: tuple[int, list[Header]] = (200, []),
) -> dict[str, Any]:
    return {
        "id": f"edge-{scenario_id}",
        "mutations": [],
        "origin": PAGE_ORIGIN,
        "url": f"{TARGET_ORIGIN}/t/edge-{scenario_id}",
        "request": {
            "method": method,
            "headers": [list(h) for h in headers or []],
            "credentials": credentials,
            "mode": mode,
            "body": body,
        },
        "preflight_response": {"status": preflight[0], "headers": [list(h) for h in preflight[1]]},
        "response": {"status": response[0], "headers": [list(h) for h in response[1]]},
    }


def edge_cases() -> list[dict[str, Any]]:
    """Hand-picked scenarios where two checks fail at once or a rule's boundary sits, so the
    order of the checks and each boundary are settled by the browser too."""
    acao = ("Access-Control-Allow-Origin", PAGE_ORIGIN)
    acac = ("Access-Control-Allow-Credentials", "true")
    put = ("Access-Control-Allow-Methods", "PUT")
    ok = (200, [acao])
    return [
        _edge("pf-404-no-acao", preflight=(404, [put])),
        _edge("pf-404-bad-acao", preflight=(404, [("Access-Control-Allow-Origin", "null"), put])),
        _edge("pf-302-location-no-acao", preflight=(302, [("Location", "/elsewhere"), put])),
        _edge("pf-302-location-ok", preflight=(302, [acao, put, ("Location", "/x")]), response=ok),
        _edge("pf-307-no-location", preflight=(307, [acao, put]), response=ok),
        _edge("pf-no-acac-no-acam", credentials="include", preflight=(204, [acao])),
        _edge(
            "pf-bad-acam-and-acah",
            headers=[("X-Token", "1")],
            preflight=(
                204,
                [
                    acao,
                    ("Access-Control-Allow-Methods", "PUT POST"),
                    ("Access-Control-Allow-Headers", "x y"),
                ],
            ),
        ),
        _edge(
            "pf-no-acam-bad-acah",
            "patch",
            [("X-Token", "1")],
            preflight=(200, [acao, ("Access-Control-Allow-Headers", "x-token x")]),
        ),
        _edge("range-int64-max", "GET", [("Range", "bytes=9223372036854775807-")], response=ok),
        _edge(
            "range-int64-max-less-one",
            "GET",
            [("Range", "bytes=0-9223372036854775806")],
            response=ok,
        ),
        _edge(
            "range-uint64-max",
            "GET",
            [("Range", "bytes=18446744073709551615-")],
            preflight=(204, [acao]),
            response=ok,
        ),
        _edge(
            "range-uint64-overflow",
            "GET",
            [("Range", "bytes=0-18446744073709551616")],
            preflight=(204, [acao]),
            response=ok,
        ),
        _edge(
            "range-leading-zeros",
            "GET",
            [("Range", "bytes=00000000000000000000000001-")],
            response=ok,
        ),
        _edge(
            "pf-bad-acam-safelisted-method",
            "GET",
            [("X-Token", "1")],
            preflight=(
                204,
                [
                    acao,
                    ("Access-Control-Allow-Methods", "GET;"),
                    ("Access-Control-Allow-Headers", "x-token"),
                ],
            ),
            response=ok,
        ),
        _edge("pf-method-and-header-missing", headers=[("X-Token", "1")], preflight=(204, [acao])),
        _edge(
            "pf-star-auth-include",
            "GET",
            [("Authorization", "Bearer x")],
            credentials="include",
            preflight=(204, [acao, acac, ("Access-Control-Allow-Headers", "*")]),
            response=(200, [acao, acac]),
        ),
        _edge(
            "pf-auth-listed",
            "GET",
            [("Authorization", "Bearer x")],
            preflight=(204, [acao, ("Access-Control-Allow-Headers", "authorization")]),
            response=ok,
        ),
        _edge(
            "pf-star-auth",
            "GET",
            [("Authorization", "Bearer x"), ("X-Token", "1")],
            preflight=(204, [acao, ("Access-Control-Allow-Headers", "*")]),
            response=ok,
        ),
        _edge(
            "pf-acao-tabs",
            preflight=(204, [("Access-Control-Allow-Origin", f"\t{PAGE_ORIGIN}\t"), put]),
            response=ok,
        ),
        _edge(
            "pf-acac-twice",
            credentials="include",
            preflight=(204, [acao, acac, acac, put]),
            response=(200, [acao, acac]),
        ),
        _edge("rs-empty-acao", "GET", response=(200, [("Access-Control-Allow-Origin", "")])),
        _edge(
            "rs-acao-and-empty", "GET", response=(200, [acao, ("Access-Control-Allow-Origin", "")])
        ),
        _edge("rs-star-spaces", "GET", response=(200, [("Access-Control-Allow-Origin", " * ")])),
        _edge(
            "rs-star-acac-omit",
            "GET",
            credentials="omit",
            response=(200, [("Access-Control-Allow-Origin", "*"), acac]),
        ),
        _edge("rs-204", "GET", response=(204, [acao, ("X-A", "1")])),
        _edge("rs-500-readable", "GET", response=(500, [acao, ("Content-Type", "text/plain")])),
        _edge(
            "rs-aceh-bad-then-good",
            "GET",
            response=(
                200,
                [acao, ("X-A", "1"), ("X-B", "2"), ("Access-Control-Expose-Headers", "X-A;, X-B")],
            ),
        ),
        _edge(
            "rs-aceh-two-lines",
            "GET",
            response=(
                200,
                [
                    acao,
                    ("X-A", "1"),
                    ("X-B", "2"),
                    ("Access-Control-Expose-Headers", "X-A"),
                    ("Access-Control-Expose-Headers", "X-B"),
                ],
            ),
        ),
        _edge(
            "rs-aceh-star-include",
            "GET",
            credentials="include",
            response=(200, [acao, acac, ("X-A", "1"), ("Access-Control-Expose-Headers", "*")]),
        ),
        _edge(
            "rs-aceh-set-cookie",
            "GET",
            response=(
                200,
                [
                    acao,
                    ("Set-Cookie", "a=b"),
                    ("Set-Cookie2", "c"),
                    ("Access-Control-Expose-Headers", "Set-Cookie, Set-Cookie2, *"),
                ],
            ),
        ),
        _edge("accept-latin1", "GET", [("Accept", "caf\u00e9")], response=ok),
        _edge(
            "content-language-latin1",
            "GET",
            [("Content-Language", "caf\u00e9")],
            preflight=(204, [acao]),
            response=ok,
        ),
        _edge(
            "content-type-quoted-charset",
            "POST",
            [("Content-Type", 'text/plain; charset="utf-8"')],
            body="x",
            preflight=(204, [acao]),
            response=ok,
        ),
        _edge(
            "content-type-empty",
            "POST",
            [("Content-Type", "")],
            body="x",
            preflight=(204, [acao]),
            response=ok,
        ),
        _edge("accept-language-empty", "GET", [("Accept-Language", "")], response=ok),
        _edge("accept-128-after-trim", "GET", [("Accept", " " + "x" * 128 + " ")], response=ok),
        _edge(
            "accept-twice-no-cors",
            "GET",
            [("Accept", "x" * 64), ("Accept", "x" * 64)],
            mode="no-cors",
        ),
        _edge(
            "content-type-twice",
            "POST",
            [("Content-Type", "application/json"), ("Content-Type", "text/plain")],
            body="x",
            preflight=(204, [acao]),
            response=ok,
        ),
        _edge(
            "content-type-twice-plain",
            "POST",
            [("Content-Type", "text/plain"), ("Content-Type", "text/plain")],
            body="x",
            preflight=(204, [acao, ("Access-Control-Allow-Headers", "content-type")]),
            response=ok,
        ),
        _edge("range-no-cors", "GET", [("Range", "bytes=0-")], mode="no-cors"),
        _edge(
            "override-connect-lower", "GET", [("X-HTTP-Method-Override", "connect")], response=ok
        ),
        _edge("override-empty-items", "GET", [("X-HTTP-Method-Override", ",TRACK,")], response=ok),
        _edge("head-with-body", "HEAD", body="x"),
        _edge(
            "options-cors",
            "OPTIONS",
            preflight=(204, [acao, ("Access-Control-Allow-Methods", "OPTIONS")]),
            response=ok,
        ),
        _edge("options-no-cors", "OPTIONS", mode="no-cors"),
        _edge(
            "post-no-cors-json",
            "POST",
            [("Content-Type", "application/json")],
            body="{}",
            mode="no-cors",
        ),
        _edge(
            "delete-star-include",
            "DELETE",
            credentials="include",
            preflight=(204, [acao, acac, ("Access-Control-Allow-Methods", "*")]),
        ),
        _edge(
            "delete-star-omit",
            "DELETE",
            credentials="omit",
            preflight=(
                204,
                [("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Methods", "*")],
            ),
            response=(200, [("Access-Control-Allow-Origin", "*")]),
        ),
        _edge(
            "patch-upper-allowed-lower",
            "patch",
            preflight=(204, [acao, ("Access-Control-Allow-Methods", "PATCH")]),
            response=ok,
        ),
        _edge(
            "acam-empty-items",
            preflight=(204, [acao, ("Access-Control-Allow-Methods", ",PUT,")]),
            response=ok,
        ),
        _edge("acam-empty-value", preflight=(204, [acao, ("Access-Control-Allow-Methods", "")])),
        _edge(
            "acam-two-lines",
            preflight=(204, [acao, ("Access-Control-Allow-Methods", "GET"), put]),
            response=ok,
        ),
        _edge("dpr-fraction-dot", "GET", [("DPR", "2.")], preflight=(204, [acao]), response=ok),
        _edge("width-zero", "GET", [("Width", "0")], response=ok),
        _edge(
            "device-memory-leading-dot",
            "GET",
            [("Device-Memory", ".5")],
            preflight=(204, [acao]),
            response=ok,
        ),
        _edge("save-data-upper", "GET", [("Save-Data", "ON")], response=ok),
        _edge(
            "duplicate-x-token",
            headers=[("X-Token", "1"), ("x-token", "2")],
            preflight=(204, [acao, put, ("Access-Control-Allow-Headers", "x-token")]),
            response=ok,
        ),
        _edge(
            "range-unit-case", "GET", [("Range", "Bytes=0-")], preflight=(204, [acao]), response=ok
        ),
        _edge(
            "content-type-latin1",
            "POST",
            [("Content-Type", "text/plain; charset=\u00e9")],
            body="x",
            preflight=(204, [acao]),
            response=ok,
        ),
        _edge("rtt-50", "GET", [("RTT", "50")], preflight=(204, [acao]), response=ok),
        _edge("rtt-fraction", "GET", [("RTT", "1.5")], preflight=(204, [acao]), response=ok),
        _edge("downlink-fraction", "GET", [("Downlink", "1.5")], response=ok),
        _edge("ect-4g", "GET", [("ECT", "4g")], preflight=(204, [acao]), response=ok),
        _edge("ect-slow-2g", "GET", [("ECT", "slow-2g")], response=ok),
        _edge("ect-5g", "GET", [("ECT", "5g")], preflight=(204, [acao]), response=ok),
        _edge("intervention-quote", "GET", [("Intervention", 'a"b')], response=ok),
        _edge("user-agent-lower", "GET", [("user-agent", "x")], response=ok),
        _edge("total-1024", "GET", [("Accept", "x" * 128)] * 8, response=ok),
        _edge(
            "total-1025",
            "GET",
            [("Accept", "x" * 128)] * 7 + [("Accept", "x" * 129)],
            preflight=(204, [acao, ("Access-Control-Allow-Headers", "accept")]),
            response=ok,
        ),
        _edge(
            "safelisted-mix-1025",
            "GET",
            [
                ("Accept", "x" * 128),
                ("Accept-Language", "x" * 128),
                ("Content-Language", "x" * 128),
                ("Content-Type", "text/plain;" + "x" * 117),
            ]
            * 2
            + [("Range", "bytes=0-")],
            preflight=(204, [acao, ("Access-Control-Allow-Headers", "*")]),
            response=ok,
        ),
    ]


# --- a second, independent design: random text rather than chosen edges ----------------------

_FUZZ_NAMES = [
    "Accept", "Accept-Language", "Content-Language", "Content-Type", "Range", "Authorization",
    "X-Token", "X-Custom", "Cache-Control", "User-Agent", "Cookie", "Sec-Foo", "Proxy-Bar",
    "X-HTTP-Method-Override", "DPR", "Save-Data", "ECT", "Width", "If-Match", "Origin", "Via",
    "Date",
]  # fmt: skip
_FUZZ_CONTENT_TYPES = [
    "text/plain", "application/json", "multipart/form-data; boundary=a",
    "application/x-www-form-urlencoded", "text/html", "text/plain;charset=utf-8",
    " text/plain ", 'text/plain; a="b"', "x/y",
]  # fmt: skip
_FUZZ_RANGES = ["bytes=0-", "bytes=1-2", "bytes=-3", "bytes=3-1", "bytes=0-,1-", "items=0-1"]
_FUZZ_SPECIALS = "\"():<>?@[\\]{}\x7f\x01\t ,;=/*-.\u00e9~!#$%&'+^_`|"
_STANDARD_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]


def fuzz(count: int, seed: int = 1) -> list[dict[str, Any]]:
    """``count`` scenarios of random text: random-case names, values of random bytes and
    lengths around 128, shuffled allow lists with stray items. Independent of ``generate``'s
    hand-chosen edges, to catch what those do not think of."""
    rng = random.Random(seed)
    return [_fuzz_scenario(rng, f"f{seed}-{index:04d}") for index in range(count)]


def _random_case(rng: random.Random, text: str) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)


def _random_value(rng: random.Random) -> str:
    length = rng.choice([0, 1, 3, 8, 20, 60, 127, 128, 129, 130])
    alphabet = "abcxyzABC0123456789" + _FUZZ_SPECIALS
    return "".join(
        rng.choice(alphabet) if rng.random() < 0.3 else rng.choice("abcdefgh")
        for _ in range(length)
    )


def _fuzz_header(rng: random.Random) -> list[str]:
    if rng.random() < 0.8:
        name = _random_case(rng, rng.choice(_FUZZ_NAMES))
    else:
        name = "X-" + _random_value(rng)[:10].replace(" ", "").replace(":", "")
    lower = name.lower()
    if lower == "content-type" and rng.random() < 0.7:
        return [name, rng.choice(_FUZZ_CONTENT_TYPES)]
    if lower == "range" and rng.random() < 0.7:
        return [name, rng.choice(_FUZZ_RANGES)]
    if lower == "x-http-method-override":
        return [name, rng.choice(["PUT", "TRACE", "get, connect", "track "])]
    return [name, _random_value(rng)]


def _fuzz_method(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.7:
        method = rng.choice(_STANDARD_METHODS)
        return _random_case(rng, method) if rng.random() < 0.3 else method
    if roll < 0.9:
        return rng.choice(["FOO", "foo", "M-SEARCH", "PROPFIND", "x"])
    return rng.choice(BAD_METHODS)


def _fuzz_list(rng: random.Random, items: list[str]) -> str:
    chosen = [i for i in items if i]
    rng.shuffle(chosen)
    if rng.random() < 0.2:
        chosen.append("*")
    if rng.random() < 0.1:
        chosen.append("bad item")
    return ", ".join(_random_case(rng, i) if rng.random() < 0.3 else i for i in chosen)


def _fuzz_scenario(rng: random.Random, scenario_id: str) -> dict[str, Any]:
    method = _fuzz_method(rng)
    headers = [_fuzz_header(rng) for _ in range(rng.choice([0, 1, 1, 2, 3, 4]))]
    credentials = rng.choice(["omit", "same-origin", "include"])
    bodyless = method.upper() in ("GET", "HEAD") and rng.random() < 0.95
    allow_origins = [PAGE_ORIGIN] * 3 + [
        "*", "null", PAGE_ORIGIN + "/", PAGE_ORIGIN.upper(), PAGE_ORIGIN + "0",
        "http://evil.example", f"{PAGE_ORIGIN}, {PAGE_ORIGIN}",
    ]  # fmt: skip
    preflight: list[list[str]] = []
    response: list[list[str]] = []
    for answer in (preflight, response):
        for chance in (0.9, 0.1):
            if rng.random() < chance:
                answer.append(["Access-Control-Allow-Origin", rng.choice(allow_origins)])
        if credentials == "include" or rng.random() < 0.2:
            value = rng.choice(["true", "true", "True", "false", ""])
            answer.append(["Access-Control-Allow-Credentials", value])
    if rng.random() < 0.85:
        first = method.upper() if rng.random() < 0.3 else method
        methods = _fuzz_list(rng, [first, *rng.sample(_STANDARD_METHODS, 2)])
        preflight.append(["Access-Control-Allow-Methods", methods])
    if rng.random() < 0.85:
        names = _fuzz_list(rng, [n for n, _ in headers if rng.random() < 0.8])
        preflight.append(["Access-Control-Allow-Headers", names])
    if rng.random() < 0.2:
        preflight.append(["Access-Control-Max-Age", rng.choice(["0", "10", "-1", "abc"])])
    extras = rng.sample([n for n, _ in RESPONSE_EXTRAS], rng.choice([0, 1, 2]))
    response.extend([name, "1"] for name in extras)
    if rng.random() < 0.4:
        exposed = _fuzz_list(rng, [e for e in extras if rng.random() < 0.7])
        response.append(["Access-Control-Expose-Headers", exposed])
    rng.shuffle(preflight)
    rng.shuffle(response)
    return {
        "id": scenario_id,
        "mutations": [],
        "origin": PAGE_ORIGIN,
        "url": f"{TARGET_ORIGIN}/t/{scenario_id}",
        "request": {
            "method": method,
            "headers": headers,
            "credentials": credentials,
            "mode": "no-cors" if rng.random() < 0.12 else "cors",
            "body": None if bodyless else rng.choice([None, "x", ""]),
        },
        "preflight_response": {
            "status": rng.choice([200, 204, 204, 204, 299, 301, 404, 500]),
            "headers": preflight,
        },
        "response": {"status": rng.choice([200, 200, 201, 404, 500]), "headers": response},
    }
