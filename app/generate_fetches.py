"""Seeded generators of whole fetches and sequences, for checking the engine against browsers.

Two designs each, with independent seeds:

- ``generate_fetches``: redirect *chains*. A request, then one to four hops, each a redirect
  status leading (in one of the ``Location`` forms: absolute, scheme-relative, path-absolute,
  relative, query, fragment, user info, spaces, unparsable) to the same origin, another one,
  another host name or the page's own origin; every answer is first written to let the request
  through (the ``Origin`` each leg will carry, the method and headers after the redirect's
  rewriting), then near-miss mutations break some of them. Loops and 300/304 answers too.
- ``fuzz_fetches``: a random *graph* of two to five URLs, each answering a random status with
  a ``Location`` to any of them (itself and the first URL included) and headers drawn from a
  pool; preflight answers drawn the same way.
- ``generate_sequences``: the preflight cache by *template* (a hit between two fetches, another
  header value, another header, credentials both ways, expiry, ``Access-Control-Max-Age``
  values, ``*``, methods, a refused preflight, a failed actual request, a newer answer that
  replaces or adds to the cached one, a redirect whose target was cached).
- ``fuzz_sequences``: random fetches to one or two URLs at random times, with random answers.

What a browser does with each is not decided here: the browser decides. Times keep clear of
every expiry boundary so that a few milliseconds of fetch time never change a hit to a miss.
"""

from __future__ import annotations

import random
from typing import Any

PAGE = "http://localhost:8721"
ORIGINS = (
    "http://localhost:8722",
    "http://localhost:8723",
    "http://127.0.0.1:8721",
    "http://127.0.0.1:8722",
    "http://127.0.0.1:8723",
)
EVIL = "http://evil.example"
REDIRECTS = (301, 302, 303, 307, 308)
METHODS = ("GET", "GET", "GET", "HEAD", "POST", "POST", "PUT", "DELETE", "PATCH", "patch")
HEADER_SETS: tuple[tuple[tuple[str, str], ...], ...] = (
    (),
    (),
    (("X-Token", "abc"),),
    (("Content-Type", "application/json"),),
    (("Content-Type", "text/plain"),),
    (("Authorization", "Bearer t0k"),),
    (("Accept", "application/json"),),
    (("Content-Language", "de-DE"),),
    (("X-Requested-With", "XMLHttpRequest"),),
    (("X-Token", "abc"), ("Content-Type", "application/json")),
    (("Authorization", "Bearer t0k"), ("X-Token", "abc")),
)
BODIES = (None, "hello", '{"a": 1}')
SAFELISTED_METHODS = frozenset({"GET", "HEAD", "POST"})
SAFELISTED_TYPES = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")
BODY_HEADERS = frozenset(
    {"content-encoding", "content-language", "content-location", "content-type"}
)
FORMS = (
    "absolute", "absolute", "absolute", "scheme-relative", "path-absolute", "relative", "query",
    "fragment", "userinfo", "spaces",
)  # fmt: skip
USERINFO = ("u:p@", "user@", ":pw@")


def _host_port(origin: str) -> tuple[str, str]:
    host, _, port = origin[len("http://") :].partition(":")
    return host, port


def _normalize(method: str) -> str:
    upper = method.upper()
    return upper if upper in {"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"} else method


def _unsafe_names(headers: list[tuple[str, str]]) -> list[str]:
    """Spec-level CORS-unsafe names, enough to write answers that let a request through."""
    names = set()
    for name, value in headers:
        lower = name.lower()
        if lower == "content-type":
            if value.split(";")[0].strip().lower() not in SAFELISTED_TYPES:
                names.add(lower)
        elif lower not in ("accept", "accept-language", "content-language"):
            names.add(lower)
    return sorted(names)


class _Chain:
    """The request as a spec-following browser would carry it from leg to leg."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.method = _normalize(request["method"])
        self.headers = [tuple(h) for h in request["headers"]]
        if request["body"] is not None and not any(
            n.lower() == "content-type" for n, _ in self.headers
        ):
            self.headers.append(("Content-Type", "text/plain;charset=UTF-8"))
        self.body = request["body"]
        self.credentials = request["credentials"]
        self.tainted = False
        self.left_page = False

    def origin_header(self) -> str:
        return "null" if self.tainted else PAGE

    def follow(self, status: int, current: str, target: str) -> None:
        if (status in (301, 302) and self.method == "POST") or (
            status == 303 and self.method not in ("GET", "HEAD")
        ):
            self.method, self.body = "GET", None
            self.headers = [h for h in self.headers if h[0].lower() not in BODY_HEADERS]
        if target != current:
            self.headers = [h for h in self.headers if h[0].lower() != "authorization"]
            if current != PAGE:
                self.tainted = True


def _allow(rng: random.Random, chain: _Chain, preflight: bool) -> list[tuple[str, str]]:
    include = chain.credentials == "include"
    origin = chain.origin_header()
    acao = "*" if not include and rng.random() < 0.25 else origin
    headers = [("Access-Control-Allow-Origin", acao)]
    if include:
        headers.append(("Access-Control-Allow-Credentials", "true"))
    if preflight:
        if chain.method not in SAFELISTED_METHODS or rng.random() < 0.3:
            extra = rng.choice(["", "", ", DELETE"])
            methods = "*" if not include and rng.random() < 0.15 else chain.method + extra
            headers.append(("Access-Control-Allow-Methods", methods))
        names = _unsafe_names(chain.headers)
        if names:
            star = not include and rng.random() < 0.15
            headers.append(("Access-Control-Allow-Headers", "*" if star else ", ".join(names)))
    return headers


MUTATIONS = ("absent", "wrong", "null", "*", "page", "acac", "acam", "acah", "two")


def _mutate(rng: random.Random, headers: list[tuple[str, str]], kind: str) -> list[tuple[str, str]]:
    out = list(headers)
    if kind == "absent":
        return [h for h in out if h[0] != "Access-Control-Allow-Origin"]
    if kind in ("wrong", "null", "*", "page"):
        value = {"wrong": EVIL, "null": "null", "*": "*", "page": PAGE}[kind]
        return [(n, value if n == "Access-Control-Allow-Origin" else v) for n, v in out]
    if kind == "acac":
        return [h for h in out if h[0] != "Access-Control-Allow-Credentials"]
    if kind == "acam":
        return [h for h in out if h[0] != "Access-Control-Allow-Methods"]
    if kind == "acah":
        return [h for h in out if h[0] != "Access-Control-Allow-Headers"]
    if kind == "two":
        return [*out, ("Access-Control-Allow-Origin", rng.choice([PAGE, "null", "*"]))]
    return out


def _location(rng: random.Random, form: str, current: str, target_url: str) -> str:
    """How ``current``'s answer points at ``target_url`` (both absolute)."""
    same = current.split("/g2/")[0] == target_url.split("/g2/")[0]
    path = "/g2/" + target_url.split("/g2/", 1)[1]
    if form == "scheme-relative":
        return "//" + target_url[len("http://") :]
    if form == "path-absolute" and same:
        return path
    if form == "relative" and same:
        return path.rsplit("/", 1)[1]
    if form == "query" and same and "?" in target_url:
        return "?" + target_url.split("?", 1)[1]
    if form == "spaces":
        return f"  {target_url} "
    return target_url


def _final_answer(rng: random.Random, allow: list[tuple[str, str]]) -> dict[str, Any]:
    status = rng.choice([200, 200, 200, 204, 404, 500])
    extra = rng.choice(
        [[], [("Content-Type", "text/plain")], [("Content-Language", "en")],
         [("X-Custom", "1"), ("Access-Control-Expose-Headers", "X-Custom")],
         [("X-Other", "2"), ("Content-Type", "text/plain"),
          ("Access-Control-Expose-Headers", "X-Other")]]
    )  # fmt: skip
    return {"status": status, "headers": [*allow, *extra]}


def _redirect_answer(status: int, allow: list[tuple[str, str]], location: str) -> dict[str, Any]:
    headers = [*allow, ("Location", location)]
    if status in (301, 308):
        headers.append(("Cache-Control", "no-store"))  # no HTTP cache between scenarios
    return {"status": status, "headers": headers}


def _request(rng: random.Random) -> dict[str, Any]:
    method = rng.choice(METHODS)
    body = None if _normalize(method) in ("GET", "HEAD") else rng.choice(BODIES)
    return {
        "method": method,
        "headers": [list(h) for h in rng.choice(HEADER_SETS)],
        "credentials": rng.choice(["omit", "same-origin", "same-origin", "include"]),
        "mode": "no-cors" if rng.random() < 0.08 else "cors",
        "redirect": rng.choices(["follow", "manual", "error"], weights=[8, 1, 1])[0],
        "body": body,
    }


def _next_origin(rng: random.Random, current: str) -> tuple[str, str]:
    host, port = _host_port(current)
    kind = rng.choice(["same", "same", "cross", "cross", "page", "other", "page2"])
    if kind == "same":
        return kind, current
    if kind == "page":
        return kind, PAGE
    if kind == "other":
        other = "127.0.0.1" if host == "localhost" else "localhost"
        return kind, f"http://{other}:{port}"
    if kind == "page2":
        return kind, f"http://127.0.0.1:{_host_port(PAGE)[1]}"
    choices = [o for o in ORIGINS if o != current]
    return kind, rng.choice(choices)


def generate_fetches(count: int, seed: int = 1) -> list[dict[str, Any]]:
    """``count`` redirect chains from a seeded generator (ids ``c<seed>-<n>``)."""
    rng = random.Random(f"chains-{seed}")
    return [_chain(rng, f"c{seed}-{n:04d}") for n in range(count)]


def _chain(rng: random.Random, sid: str) -> dict[str, Any]:
    request = _request(rng)
    chain = _Chain(request)
    start = PAGE if rng.random() < 0.2 else rng.choice(ORIGINS)
    kind = rng.choices(["chain", "loop", "nonredirect"], weights=[16, 2, 2])[0]
    length = 1 if kind != "chain" else rng.choice([1, 1, 2, 2, 3, 4])
    urls = [f"{start}/g2/{sid}/r0"]
    current = start
    forms, kinds = [], []
    for index in range(1, length + 1):
        hop_kind, origin = _next_origin(rng, current)
        form = rng.choice(FORMS)
        url = f"{origin}/g2/{sid}/h{index}"
        if form == "userinfo" and rng.random() < 0.8:
            url = f"http://{rng.choice(USERINFO)}{origin[len('http://') :]}/g2/{sid}/h{index}"
        elif form == "query" and origin == current:
            url = f"{urls[-1].split('#')[0].split('?')[0]}?n=h{index}"
        elif form == "fragment":
            url += "#frag"
        urls.append(url)
        forms.append(form)
        kinds.append(hop_kind)
        current = origin
    mutations: list[str] = []
    answers: list[dict[str, Any]] = []
    preflights: list[dict[str, Any]] = []
    for index, url in enumerate(urls):
        origin = "http://" + url[len("http://") :].split("@")[-1].split("/")[0]
        last = index == len(urls) - 1
        preflight = _allow(rng, chain, True)
        if rng.random() < 0.12:
            mutation = rng.choice(["absent", "wrong", "null", "*", "acam", "acah"])
            preflight = _mutate(rng, preflight, mutation)
            mutations.append(f"{index}:preflight:{mutation}")
        allow = _allow(rng, chain, False)
        if rng.random() < 0.2:
            mutation = rng.choice(MUTATIONS)
            allow = _mutate(rng, allow, mutation)
            mutations.append(f"{index}:response:{mutation}")
        preflights.append({"status": rng.choice([200, 204]), "headers": preflight})
        if kind == "nonredirect":
            status = rng.choice([300, 304])
            target = f"{rng.choice(ORIGINS)}/g2/{sid}/h1"
            answers.append({"status": status, "headers": [*allow, ("Location", target)]})
            break
        if kind == "loop" and last:
            status = rng.choice([302, 307])
            answers.append(_redirect_answer(status, allow, url))
            break
        if last:
            answers.append(_final_answer(rng, allow))
            break
        status = rng.choice(REDIRECTS)
        form = forms[index]
        target = urls[index + 1]
        location = _location(rng, form, url, target)
        if form == "invalid" or rng.random() < 0.03:
            location = rng.choice(["http://exa mple/", "http://localhost:99999/x", "data:,x"])
            mutations.append(f"{index}:location:invalid")
        answers.append(_redirect_answer(status, allow, location))
        chain.follow(
            status, origin, "http://" + target[len("http://") :].split("@")[-1].split("/")[0]
        )
    hops = [
        {"url": url, "preflight_response": preflights[i + 1], "response": answers[i + 1]}
        for i, url in enumerate(urls[1 : len(answers)])
    ]
    return {
        "id": sid,
        "kind": kind,
        "mutations": mutations,
        "hop_forms": forms,
        "hop_kinds": kinds,
        "origin": PAGE,
        "url": urls[0],
        "request": request,
        "preflight_response": preflights[0],
        "response": answers[0],
        "hops": hops,
    }


# --- the fuzzer: random graphs --------------------------------------------------------------

FUZZ_STATUSES = (200, 200, 204, 404, 301, 302, 303, 307, 308, 307, 302, 300, 304, 500)
FUZZ_ANSWER_HEADERS: tuple[tuple[str, str], ...] = (
    ("Access-Control-Allow-Origin", PAGE),
    ("Access-Control-Allow-Origin", PAGE),
    ("Access-Control-Allow-Origin", "null"),
    ("Access-Control-Allow-Origin", "null"),
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Origin", EVIL),
    ("Access-Control-Allow-Credentials", "true"),
    ("Access-Control-Allow-Credentials", "true"),
    ("Access-Control-Allow-Credentials", "TRUE"),
    ("Access-Control-Expose-Headers", "X-Custom"),
    ("Access-Control-Expose-Headers", "*"),
    ("X-Custom", "1"),
    ("Content-Type", "text/plain"),
    ("Content-Language", "en"),
)
FUZZ_PREFLIGHT_HEADERS: tuple[tuple[str, str], ...] = (
    *FUZZ_ANSWER_HEADERS[:9],
    ("Access-Control-Allow-Methods", "PUT, DELETE, PATCH, patch"),
    ("Access-Control-Allow-Methods", "GET"),
    ("Access-Control-Allow-Methods", "*"),
    ("Access-Control-Allow-Headers", "x-token, content-type, authorization"),
    ("Access-Control-Allow-Headers", "*"),
    ("Access-Control-Allow-Headers", "x-token"),
    ("Access-Control-Max-Age", "60"),
)
FUZZ_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Token", "abc"),
    ("Authorization", "Bearer t0k"),
    ("Content-Type", "application/json"),
    ("Content-Type", "text/plain"),
    ("Content-Language", "en"),
    ("Accept", "text/html"),
    ("Range", "bytes=0-"),
    ("X-Requested-With", "XMLHttpRequest"),
)
FUZZ_METHODS = ("GET", "GET", "HEAD", "POST", "POST", "post", "PUT", "put", "DELETE", "PATCH",
                "patch", "OPTIONS", "FOO")  # fmt: skip


def fuzz_fetches(count: int, seed: int = 1) -> list[dict[str, Any]]:
    """``count`` random redirect graphs (ids ``g<seed>-<n>``)."""
    rng = random.Random(f"graphs-{seed}")
    return [_graph(rng, f"g{seed}-{n:04d}") for n in range(count)]


def _graph(rng: random.Random, sid: str) -> dict[str, Any]:
    size = rng.randint(2, 5)
    origins = [rng.choice((PAGE, *ORIGINS)) for _ in range(size)]
    urls = [f"{o}/g2/{sid}/u{i}" for i, o in enumerate(origins)]
    if rng.random() < 0.15:
        index = rng.randrange(1, size)
        urls[index] = "http://" + rng.choice(USERINFO) + urls[index][len("http://") :]
    sites = []
    for _ in urls:
        status = rng.choice(FUZZ_STATUSES)
        headers = [h for h in FUZZ_ANSWER_HEADERS if rng.random() < 0.35]
        if status in REDIRECTS or (status in (300, 304) and rng.random() < 0.5):
            headers.append(("Location", rng.choice(urls)))
            if status in (301, 308):
                headers.append(("Cache-Control", "no-store"))
        rng.shuffle(headers)
        preflight = [h for h in FUZZ_PREFLIGHT_HEADERS if rng.random() < 0.4]
        rng.shuffle(preflight)
        preflight_status = rng.choice([200, 204, 204, 404, 302])
        if preflight_status == 302:
            preflight.append(("Location", rng.choice(urls)))
        sites.append(
            (
                {"status": preflight_status, "headers": preflight},
                {"status": status, "headers": headers},
            )
        )
    method = rng.choice(FUZZ_METHODS)
    body = None if _normalize(method) in ("GET", "HEAD") else rng.choice(BODIES)
    request = {
        "method": method,
        "headers": [list(h) for h in FUZZ_HEADERS if rng.random() < 0.15],
        "credentials": rng.choice(["omit", "same-origin", "include"]),
        "mode": "no-cors" if rng.random() < 0.1 else "cors",
        "redirect": rng.choices(["follow", "manual", "error"], weights=[6, 1, 1])[0],
        "body": body,
    }
    first_url = urls[0]
    if "@" in first_url:
        first_url = "http://" + first_url.split("@", 1)[1]
        urls[0] = first_url
    return {
        "id": sid,
        "origin": PAGE,
        "url": urls[0],
        "request": request,
        "preflight_response": sites[0][0],
        "response": sites[0][1],
        "hops": [
            {"url": url, "preflight_response": p, "response": r}
            for url, (p, r) in zip(urls[1:], sites[1:], strict=True)
        ],
    }


# --- sequences: the preflight cache ---------------------------------------------------------


def _fetch(
    sid: str,
    url: str,
    method: str = "PUT",
    headers: tuple[tuple[str, str], ...] = (("X-Token", "abc"),),
    *,
    credentials: str = "same-origin",
    methods: str | None = "PUT",
    allow_headers: str | None = "x-token",
    max_age: str | None = None,
    response_origin: str = PAGE,
    preflight_status: int = 204,
    hops: list[dict[str, Any]] | None = None,
    response: dict[str, Any] | None = None,
) -> dict[str, Any]:
    allow = [("Access-Control-Allow-Origin", PAGE), ("Access-Control-Allow-Credentials", "true")]
    preflight = list(allow)
    if methods is not None:
        preflight.append(("Access-Control-Allow-Methods", methods))
    if allow_headers is not None:
        preflight.append(("Access-Control-Allow-Headers", allow_headers))
    if max_age is not None:
        preflight.append(("Access-Control-Max-Age", max_age))
    body = None if _normalize(method) in ("GET", "HEAD") else "x"
    answer = response or {
        "status": 200,
        "headers": [("Access-Control-Allow-Origin", response_origin),
                    ("Access-Control-Allow-Credentials", "true"), ("X-Seq", "1"),
                    ("Access-Control-Expose-Headers", "X-Seq")],
    }  # fmt: skip
    doc: dict[str, Any] = {
        "id": sid,
        "origin": PAGE,
        "url": url,
        "request": {"method": method, "headers": [list(h) for h in headers],
                    "credentials": credentials, "mode": "cors", "body": body},
        "preflight_response": {"status": preflight_status, "headers": preflight},
        "response": answer,
    }  # fmt: skip
    if hops:
        doc["hops"] = hops
    return doc


def _sequence(sid: str, template: str, items: list[tuple[float, dict[str, Any]]]) -> dict[str, Any]:
    return {
        "id": sid,
        "template": template,
        "sequence": [
            {"at": at, "scenario": {**s, "id": f"{sid}-f{i + 1}"}}
            for i, (at, s) in enumerate(items)
        ],
    }


def generate_sequences(count: int, seed: int = 1) -> list[dict[str, Any]]:
    """``count`` cache sequences from templates, in turn (ids ``q<seed>-<n>``)."""
    rng = random.Random(f"sequences-{seed}")
    templates = list(TEMPLATES)
    out = []
    for n in range(count):
        name = templates[n % len(templates)]
        sid = f"q{seed}-{n:03d}"
        url = f"{rng.choice(ORIGINS)}/g2/{sid}/u"
        out.append(_sequence(sid, name, TEMPLATES[name](rng, sid, url)))
    return out


def _t_hit(rng: random.Random, sid: str, url: str) -> list[tuple[float, dict[str, Any]]]:
    method = rng.choice(["PUT", "DELETE", "patch"])
    first = _fetch(sid, url, method, methods=method)
    return [(0.0, first), (0.3, _fetch(sid, url, "GET", (), methods=method)), (0.6, first)]


def _t_max_age(rng: random.Random, sid: str, url: str) -> list[tuple[float, dict[str, Any]]]:
    value = rng.choice(["-1", "abc", "3, 4", "1e3", " 2 ", "00002", "2.5", "+2", "99999999999",
                        "0x10", "", "2", "1"])  # fmt: skip
    first = _fetch(sid, url, max_age=value)
    return [(0.0, first), (1.6, _fetch(sid, url)), (2.7, _fetch(sid, url))]


def _t_expiry(rng: random.Random, sid: str, url: str) -> list[tuple[float, dict[str, Any]]]:
    age = rng.choice(["1", "2", "0", None])
    return [(0.0, _fetch(sid, url, max_age=age)), (1.7, _fetch(sid, url)), (2.8, _fetch(sid, url))]


def _t_credentials(rng: random.Random, sid: str, url: str) -> list[tuple[float, dict[str, Any]]]:
    a, b = rng.sample(["omit", "same-origin", "include"], 2)
    return [(0.0, _fetch(sid, url, credentials=a)), (0.3, _fetch(sid, url, credentials=b))]


def _t_wildcard(rng: random.Random, sid: str, url: str) -> list[tuple[float, dict[str, Any]]]:
    credentials = rng.choice(["same-origin", "include"])
    header = rng.choice([("X-Extra", "1"), ("Authorization", "Bearer x")])
    first = _fetch(sid, url, "patch", credentials=credentials, methods="*", allow_headers="*")
    later = _fetch(sid, url, "DELETE", (header,), credentials=credentials, methods="*",
                   allow_headers="*")  # fmt: skip
    return [(0.0, first), (0.3, later)]


def _t_headers(rng: random.Random, sid: str, url: str) -> list[tuple[float, dict[str, Any]]]:
    allowed = rng.choice(["x-token, x-extra", "x-token", "X-TOKEN, X-Extra"])
    first = _fetch(sid, url, "DELETE", allow_headers=allowed, methods="DELETE")
    later = _fetch(sid, url, "DELETE", (("X-Token", "abc"), ("X-Extra", "1")),
                   allow_headers=allowed, methods="DELETE")  # fmt: skip
    return [(0.0, first), (0.3, later), (0.6, first)]


def _t_replace(rng: random.Random, sid: str, url: str) -> list[tuple[float, dict[str, Any]]]:
    """A newer answer for another method: does it replace or add to the cached one?"""
    a = _fetch(sid, url, "PUT", methods="PUT", max_age="10")
    b = _fetch(sid, url, "DELETE", methods="DELETE", max_age="10")
    return [(0.0, a), (0.3, b), (0.6, a), (0.9, b)]


def _t_refused(rng: random.Random, sid: str, url: str) -> list[tuple[float, dict[str, Any]]]:
    ok = _fetch(sid, url, "patch", (), methods="patch, DELETE", allow_headers=None)
    refused = _fetch(sid, url, rng.choice(["PATCH", "PUT"]), (), methods="patch, DELETE",
                     allow_headers=None)  # fmt: skip
    return [(0.0, ok), (0.3, refused), (0.6, ok)]


def _t_failed_actual(rng: random.Random, sid: str, url: str) -> list[tuple[float, dict[str, Any]]]:
    ok = _fetch(sid, url)
    failed = _fetch(sid, url, response_origin=rng.choice([EVIL, "null"]))
    return [(0.0, ok), (0.3, failed), (0.6, ok)]


def _t_failed_preflight(
    rng: random.Random, sid: str, url: str
) -> list[tuple[float, dict[str, Any]]]:
    ok = _fetch(sid, url, "PUT", methods="PUT, DELETE")
    broken = _fetch(sid, url, "DELETE", (("X-Other", "1"),), methods="PUT, DELETE",
                    allow_headers="x-token")  # fmt: skip
    return [(0.0, ok), (0.3, broken), (0.6, ok)]


def _t_methods(rng: random.Random, sid: str, url: str) -> list[tuple[float, dict[str, Any]]]:
    first = _fetch(sid, url, "DELETE", (), methods="DELETE, PUT", allow_headers=None,
                   credentials="include")  # fmt: skip
    later = _fetch(sid, url, rng.choice(["PUT", "put", "PATCH"]), (), methods="DELETE, PUT",
                   allow_headers=None, credentials="include")  # fmt: skip
    return [(0.0, first), (0.3, later), (0.6, first)]


def _t_redirected(rng: random.Random, sid: str, url: str) -> list[tuple[float, dict[str, Any]]]:
    """The second fetch is redirected to the URL the first one cached."""
    other = rng.choice([o for o in ORIGINS if not url.startswith(o)] + [url.split("/g2/")[0]])
    start = f"{other}/g2/{sid}/start"
    direct = _fetch(sid, url, "PUT", max_age="10")
    answer = {"status": 307, "headers": [("Access-Control-Allow-Origin", PAGE),
                                         ("Location", url)]}  # fmt: skip
    hop = {"url": url, "preflight_response": direct["preflight_response"],
           "response": direct["response"]}  # fmt: skip
    redirected = _fetch(sid, start, "PUT", max_age="10", hops=[hop], response=answer)
    return [(0.0, direct), (0.4, redirected)]


def _t_safelisted(rng: random.Random, sid: str, url: str) -> list[tuple[float, dict[str, Any]]]:
    """A safelisted method with a custom header and credentials: must the method be cached?"""
    credentials = rng.choice(["include", "same-origin"])
    method = rng.choice(["GET", "POST"])
    first = _fetch(sid, url, method, credentials=credentials, methods=None)
    return [(0.0, first), (0.3, first)]


TEMPLATES = {
    "hit": _t_hit,
    "max-age": _t_max_age,
    "expiry": _t_expiry,
    "credentials": _t_credentials,
    "wildcard": _t_wildcard,
    "headers": _t_headers,
    "replace": _t_replace,
    "refused": _t_refused,
    "failed-actual": _t_failed_actual,
    "failed-preflight": _t_failed_preflight,
    "methods": _t_methods,
    "redirected": _t_redirected,
    "safelisted": _t_safelisted,
}


def _clear(gap: float, max_age: float) -> bool:
    """A gap far enough from a max-age: 0.3 s before it or 0.6 s after (a fetch takes some
    milliseconds, and Chromium keeps an answer a little past its max-age)."""
    return gap <= max_age - 0.3 or gap >= max_age + 0.6


def _times(rng: random.Random, size: int) -> list[float]:
    """``size`` start times from 0 to 3.5 s whose every gap is clear of 0, 1, 2 and 5 s."""
    for _ in range(400):
        times = [0.0, *sorted(round(rng.uniform(0, 3.5), 2) for _ in range(size - 1))]
        gaps = [b - a for i, a in enumerate(times) for b in times[i + 1 :]]
        if all(g >= 0.3 for g in gaps) and all(_clear(g, m) for g in gaps for m in (1, 2, 5)):
            return times
    return _times(rng, size - 1) if size > 2 else [0.0, 0.5]


def fuzz_sequences(count: int, seed: int = 1) -> list[dict[str, Any]]:
    """``count`` random sequences: two to five fetches to one or two URLs (ids ``z<seed>-<n>``).

    Every gap between two fetches keeps clear of every max-age an answer may give (0, 1, 2,
    the default 5), so the outcome never hangs on milliseconds.
    """
    rng = random.Random(f"fuzz-sequences-{seed}")
    out = []
    for n in range(count):
        sid = f"z{seed}-{n:03d}"
        urls = [f"{rng.choice(ORIGINS)}/g2/{sid}/u{i}" for i in range(rng.choice([1, 1, 2]))]
        times = _times(rng, rng.randint(2, 5))
        items = []
        for at in times:
            method = rng.choice(["PUT", "DELETE", "patch", "GET", "POST"])
            headers = tuple(h for h in (("X-Token", "abc"), ("X-Extra", "1")) if rng.random() < 0.5)
            items.append(
                (
                    at,
                    _fetch(
                        sid,
                        rng.choice(urls),
                        method,
                        headers,
                        credentials=rng.choice(["omit", "same-origin", "include"]),
                        methods=rng.choice([None, "PUT", "DELETE, PUT", "patch", "*"]),
                        allow_headers=rng.choice([None, "x-token", "x-token, x-extra", "*"]),
                        max_age=rng.choice([None, None, "0", "1", "2", "60"]),
                        response_origin=rng.choice([PAGE, PAGE, PAGE, "*"]),
                    ),
                )
            )
        out.append(_sequence(sid, "fuzz", items))
    return out


# --- edges: one scenario per corner where the browsers part ways -----------------------------


def _edge(
    name: str,
    status: int,
    locations: list[str],
    redirect: str = "follow",
    *,
    mode: str = "cors",
    method: str = "GET",
    page: bool = False,
    hop: bool = False,
) -> dict[str, Any]:
    sid = f"edge-{name}"
    base = PAGE if page else ORIGINS[0]
    url = f"{base}/g2/{sid}/r0"
    hop_url = f"{base}/g2/{sid}/h1"
    doc: dict[str, Any] = {
        "id": sid,
        "origin": PAGE,
        "url": url,
        "request": {"method": method, "headers": [], "credentials": "omit", "mode": mode,
                    "redirect": redirect, "body": None},
        "preflight_response": {"status": 204, "headers": []},
        "response": {"status": status, "headers": [
            ("Access-Control-Allow-Origin", "*"),
            *(("Location", loc.replace("{hop}", hop_url)) for loc in locations)]},
    }  # fmt: skip
    if hop:
        doc["hops"] = [
            {
                "url": hop_url,
                "preflight_response": {"status": 204, "headers": []},
                "response": {"status": 200, "headers": [("Access-Control-Allow-Origin", "*")]},
            }
        ]
    return doc


def edge_fetches() -> list[dict[str, Any]]:
    """Hand-picked corners of Location and the redirect modes (ids ``edge-…``)."""
    other = f"{ORIGINS[1]}/g2/elsewhere"
    docs = []
    for mode in ("follow", "manual", "error"):
        docs += [
            _edge(f"bad-space-{mode}", 302, ["http://exa mple/"], mode),
            _edge(f"bad-port-{mode}", 302, ["http://localhost:99999/x"], mode),
            _edge(f"data-{mode}", 302, ["data:,x"], mode),
            _edge(f"ftp-{mode}", 307, ["ftp://localhost/x"], mode),
            _edge(f"noloc-{mode}", 302, [], mode),
            _edge(f"empty-{mode}", 302, [""], mode),
            _edge(f"300-{mode}", 300, [other], mode),
            _edge(f"304-{mode}", 304, [other], mode),
            _edge(f"two-same-{mode}", 302, ["{hop}", "{hop}"], mode, hop=True),
            _edge(f"fragment-only-{mode}", 302, ["#again"], mode),
        ]
        if mode != "follow":
            docs.append(_edge(f"two-diff-{mode}", 302, ["{hop}", other], mode, hop=True))
    docs += [
        _edge("no-cors-manual-page", 302, ["{hop}"], "manual", mode="no-cors", page=True, hop=True),
        _edge("no-cors-manual-cross", 302, ["{hop}"], "manual", mode="no-cors", hop=True),
        _edge("no-cors-error-page", 302, ["{hop}"], "error", mode="no-cors", page=True, hop=True),
        _edge("head-303", 303, ["{hop}"], method="HEAD", hop=True),
        _edge("page-manual", 302, ["{hop}"], "manual", page=True, hop=True),
        _edge("page-error", 302, ["{hop}"], "error", page=True, hop=True),
    ]
    return docs


def _chain_edge(
    name: str,
    origins: list[str],
    statuses: list[int],
    *,
    method: str = "GET",
    headers: tuple[tuple[str, str], ...] = (),
    body: str | None = None,
    credentials: str = "omit",
    mode: str = "cors",
    redirect: str = "follow",
    allow: str = "*",
    preflight_status: int = 204,
) -> dict[str, Any]:
    """A chain through ``origins`` (each answers its status, the last one 200), every answer
    letting everything through for ``allow``."""
    sid = f"edge-{name}"
    urls = [f"{o}/g2/{sid}/u{i}" for i, o in enumerate(origins)]
    names = ", ".join(n.lower() for n, _ in headers) or "x-none"
    preflight = {
        "status": preflight_status,
        "headers": [("Access-Control-Allow-Origin", allow),
                    ("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, PATCH"),
                    ("Access-Control-Allow-Headers", names)],
    }  # fmt: skip
    answers = []
    for index in range(len(urls)):
        acao = [("Access-Control-Allow-Origin", allow)]
        if index < len(statuses):
            answers.append(_redirect_answer(statuses[index], acao, urls[index + 1]))
        else:
            answers.append({"status": 200, "headers": acao})
    return {
        "id": sid,
        "origin": PAGE,
        "url": urls[0],
        "request": {"method": method, "headers": [list(h) for h in headers],
                    "credentials": credentials, "mode": mode, "redirect": redirect,
                    "body": body},
        "preflight_response": preflight,
        "response": answers[0],
        "hops": [{"url": u, "preflight_response": preflight, "response": a}
                 for u, a in zip(urls[1:], answers[1:], strict=True)],
    }  # fmt: skip


def edge_chains() -> list[dict[str, Any]]:
    """Hand-picked chains where the browsers part ways (ids ``edge-…``)."""
    a, b, c, other_host = ORIGINS[0], ORIGINS[3], ORIGINS[1], "http://127.0.0.1:8721"
    json_token = (("X-Token", "abc"), ("Content-Type", "application/json"))
    return [
        _chain_edge(
            "post-301-308", [a, a, a], [301, 308], method="POST", headers=json_token, body="hello"
        ),
        _chain_edge(
            "post-303-302", [a, a, a], [303, 302], method="POST", headers=json_token, body="hello"
        ),
        _chain_edge(
            "put-303-302", [PAGE, other_host, PAGE], [303, 302], method="PUT", body="hello"
        ),
        _chain_edge(
            "post-302-307-language",
            [a, b, c],
            [302, 307],
            method="POST",
            headers=(("Content-Language", "de"), ("X-Token", "a")),
            body="hello",
        ),
        _chain_edge("auth-leaves-page", [PAGE, a], [307], headers=(("Authorization", "Bearer x"),)),
        _chain_edge("auth-307-cross", [a, b], [307], headers=(("Authorization", "Bearer x"),)),
        _chain_edge(
            "json-leaves-page",
            [PAGE, a],
            [301],
            method="POST",
            headers=(("Content-Type", "application/json"),),
            body="{}",
        ),
        _chain_edge("delete-307-cross", [a, b], [307], method="DELETE", body="hello"),
        _chain_edge("delete-307-same", [a, a], [307], method="DELETE", body="hello"),
        _chain_edge(
            "no-cors-307-cross", [PAGE, a], [307], method="POST", mode="no-cors", body="hello"
        ),
        _chain_edge("no-cors-303-same", [a, a], [303], method="POST", mode="no-cors", body="hello"),
        _chain_edge(
            "post-303-same-origin", [PAGE, PAGE], [303], method="POST", body="hello", allow=PAGE
        ),
        _chain_edge(
            "leave-page-twice", [PAGE, a, b], [302, 302], credentials="same-origin", allow="null"
        ),
        _chain_edge("leave-page-twice-omit", [PAGE, a, b], [302, 302], allow="null"),
        _chain_edge(
            "leave-page-and-stay", [PAGE, a, a], [302, 302], credentials="same-origin", allow="*"
        ),
        _chain_edge("taint-back-home", [a, b, PAGE], [307, 307], method="DELETE", allow="null"),
        _chain_edge(
            "error-credentials",
            [PAGE, "http://u:p@" + a[len("http://") :]],
            [307],
            redirect="error",
        ),
        _preflight_redirect_edge("manual"),
        _preflight_redirect_edge("follow"),
        _loop_edge(),
    ]


def _preflight_redirect_edge(redirect: str) -> dict[str, Any]:
    """A preflight answered 302 with a Location (never followed), in a redirect mode."""
    doc = _chain_edge(
        f"preflight-302-{redirect}",
        [ORIGINS[0]],
        [],
        method="PUT",
        headers=(("X-Token", "a"),),
        redirect=redirect,
        preflight_status=302,
    )
    doc["preflight_response"]["headers"].append(("Location", f"{ORIGINS[0]}/g2/elsewhere"))
    return doc


def _loop_edge() -> dict[str, Any]:
    """A DELETE that a 303 sends home to a URL redirecting to itself: the page's origin gets a
    forced preflight whose answer lists nothing; where such an answer is cached, no more."""
    doc = _chain_edge("forced-preflight-loop", [ORIGINS[3], PAGE], [303], method="DELETE")
    hop = doc["hops"][0]
    hop["response"] = _redirect_answer(302, [("Access-Control-Allow-Origin", "*")], hop["url"])
    hop["preflight_response"] = {
        "status": 204,
        "headers": [("Access-Control-Allow-Origin", "null")],
    }
    return doc


def edge_sequences() -> list[dict[str, Any]]:
    """Hand-picked cache sequences (ids ``edge-…``): Access-Control-Max-Age values, ``*``, a
    refused answer, a failed actual request."""
    out = []
    for label, value in (("minus-one", "-1"), ("plus-two", "+2"), ("decimal", "2.5"),
                         ("empty", ""), ("two-values", "3, 4"), ("spaces", " 2 "),
                         ("huge", "99999999999")):  # fmt: skip
        sid = f"edge-max-age-{label}"
        url = f"{ORIGINS[0]}/g2/{sid}/u"
        out.append(_sequence(sid, "max-age", [(0.0, _fetch(sid, url, max_age=value)),
                                              (1.6, _fetch(sid, url)),
                                              (2.7, _fetch(sid, url))]))  # fmt: skip
    sid = "edge-star-authorization"
    url = f"{ORIGINS[0]}/g2/{sid}/u"
    first = _fetch(sid, url, "patch", methods="*", allow_headers="*")
    later = _fetch(sid, url, "DELETE", (("Authorization", "Bearer x"),), methods="*",
                   allow_headers="*")  # fmt: skip
    out.append(_sequence(sid, "wildcard", [(0.0, first), (0.3, later)]))
    sid = "edge-star-cached-with-credentials"
    url = f"{ORIGINS[0]}/g2/{sid}/u"
    first = _fetch(sid, url, "PUT", credentials="include", methods="PUT",
                   allow_headers="*, x-token", max_age="10")  # fmt: skip
    later = _fetch(sid, url, "PUT", (("X-Other", "1"),), credentials="omit", methods="PUT",
                   allow_headers="*, x-token")  # fmt: skip
    out.append(_sequence(sid, "wildcard", [(0.0, first), (0.3, later)]))
    sid = "edge-refused-answer-cached"
    url = f"{ORIGINS[0]}/g2/{sid}/u"
    refused = _fetch(sid, url, "DELETE", credentials="include", methods="*",
                     allow_headers="x-token", max_age="10")  # fmt: skip
    later = _fetch(sid, url, "patch", credentials="omit", methods="*", allow_headers="x-token")
    out.append(_sequence(sid, "refused", [(0.0, refused), (0.3, later)]))
    sid = "edge-failed-actual"
    url = f"{ORIGINS[0]}/g2/{sid}/u"
    out.append(_sequence(sid, "failed-actual", [(0.0, _fetch(sid, url)),
                                                (0.3, _fetch(sid, url, response_origin=EVIL)),
                                                (0.6, _fetch(sid, url))]))  # fmt: skip
    return out


__all__ = [
    "edge_chains",
    "edge_fetches",
    "edge_sequences",
    "fuzz_fetches",
    "fuzz_sequences",
    "generate_fetches",
    "generate_sequences",
]
