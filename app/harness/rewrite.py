"""Origin rewriting: run a scenario written for fixed ports on the harness's dynamic ports.

A scenario names its page origin (``http://localhost:8701``) and target URL
(``http://localhost:8702/t/x``); the harness listens on ports chosen by the kernel. Every
occurrence of a scenario origin, in the URL and in every declared header value, becomes the
real origin with the same scheme-and-host spelling; a mutated value keeps its meaning
(``http://localhost:87010`` becomes ``http://localhost:<port>0``: still one digit too many).
What the browser reports back (failed parameters, console messages, error text) is mapped the
other way, so observations read as if the scenario ran on its own ports.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from app.cors.scenario import Header, RequestInit, Scenario, ServerResponse
from app.cors.urls import URL, parse_url

LOOPBACK_HOSTS = ("localhost", "127.0.0.1")


class RewriteError(ValueError):
    """A scenario the harness cannot run on loopback (no http(s) origin to stand in for)."""


def origin_of(url: str) -> str:
    """The origin part (``scheme://host[:port]``) of an absolute http(s) URL, host as written.

    The host keeps its spelling; only the parts that name the origin are kept.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise RewriteError(f"{url!r} is not an absolute http(s) URL")
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return f"{parts.scheme}://{netloc}"


def _port(url: str) -> int | None:
    try:
        return urlsplit(url).port
    except ValueError as exc:
        raise RewriteError(f"{url!r} has an invalid port") from exc


def _host(origin: str) -> str:
    host = urlsplit(origin).hostname or ""
    return host if host in LOOPBACK_HOSTS else "localhost"


def real_origin(scenario_origin: str, port: int) -> str:
    """The loopback origin standing in for a scenario origin: same host name, harness port.

    Hosts other than ``localhost`` / ``127.0.0.1`` run as ``localhost``; https runs as http
    (the harness has no certificate); the mapping back restores the scenario's spelling.
    """
    return f"http://{_host(scenario_origin)}:{port}"


@dataclass(frozen=True)
class OriginMap:
    """Pairs of (scenario text, real text), applied as one left-to-right, longest-first pass."""

    pairs: tuple[tuple[str, str], ...]
    _forward: re.Pattern[str] | None = field(default=None, compare=False, repr=False)
    _backward: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_forward", _pattern([s for s, _ in self.pairs]))
        object.__setattr__(self, "_backward", _pattern([r for _, r in self.pairs]))

    def to_real(self, text: str) -> str:
        """Scenario text to what runs on the harness's ports."""
        table = {s: r for s, r in self.pairs}
        return _apply(self._forward, table, text)

    def to_scenario(self, text: str) -> str:
        """What the browser reported, back in the scenario's own origins and URL."""
        table = {r: s for s, r in reversed(self.pairs)}
        return _apply(self._backward, table, text)


def _pattern(needles: list[str]) -> re.Pattern[str] | None:
    needles = sorted({n for n in needles if n}, key=len, reverse=True)
    if not needles:
        return None
    alternatives = []
    for needle in needles:
        escaped = re.escape(needle)
        # An origin without a port must not swallow the host of a longer one ("http://a" in
        # "http://a.b" or "http://a:81"); an origin with a port may be followed by anything,
        # so a mutated "…:87010" keeps its extra digit.
        parts = urlsplit(needle)
        if _port(needle) is None and not parts.path:
            escaped += r"(?![\w.:-])"
        alternatives.append(escaped)
    return re.compile("|".join(alternatives))


def _apply(pattern: re.Pattern[str] | None, table: dict[str, str], text: str) -> str:
    if pattern is None or not text:
        return text
    return pattern.sub(lambda m: table[m.group(0)], text)


@dataclass(frozen=True)
class PreparedScenario:
    """A scenario rewritten for the harness: its real URL, request and responses, and the map."""

    scenario: Scenario
    key: str
    url: str
    page_origin: str
    request: RequestInit
    preflight_response: ServerResponse
    response: ServerResponse
    origins: OriginMap
    # A whole fetch (a scenario with hops): every URL the target answers at, the first one
    # first; empty for a one-URL scenario, which the target answers at <path_prefix><key>.
    sites: tuple[PreparedSite, ...] = ()


def prepare(
    scenario: Scenario, key: str, page_port: int, target_port: int, path_prefix: str = "/t/"
) -> PreparedScenario:
    """Rewrite a scenario onto the harness ports, with ``<path_prefix><key>`` as its path.

    The page origin maps to the page port and the URL's origin to the target port (or to the
    page port when the scenario fetches its own origin, a same-origin request). Origins are
    matched as the browser serializes them (lowercase scheme and host, no default port), so a
    value spelled differently (``HTTP://LOCALHOST:8701``) stays different, as it would be.
    """
    page_origin = normalized_origin(origin_of(scenario.origin))
    target_origin = normalized_origin(origin_of(scenario.url))
    page_real = real_origin(page_origin, page_port)
    same_origin = target_origin == page_origin
    target_real = page_real if same_origin else real_origin(target_origin, target_port)
    url_real = target_real + path_prefix + key
    # Mapping back, the first pair wins: the browser prints the normalized spelling.
    pairs = [(normalized_url(scenario.url), url_real), (scenario.url, url_real)]
    pairs.append((page_origin, page_real))
    if not same_origin:
        pairs.append((target_origin, target_real))
    origins = OriginMap(tuple(pairs))

    def headers(declared: tuple[Header, ...]) -> tuple[Header, ...]:
        return tuple((name, origins.to_real(value)) for name, value in declared)

    request = RequestInit(
        method=scenario.request.method,
        headers=headers(scenario.request.headers),
        credentials=scenario.request.credentials,
        mode=scenario.request.mode,
        body=scenario.request.body,
        redirect=scenario.request.redirect,
    )
    return PreparedScenario(
        scenario=scenario,
        key=key,
        url=url_real,
        page_origin=page_real,
        request=request,
        preflight_response=ServerResponse(
            scenario.preflight_response.status, headers(scenario.preflight_response.headers)
        ),
        response=ServerResponse(scenario.response.status, headers(scenario.response.headers)),
        origins=origins,
    )


def normalized_origin(origin: str) -> str:
    """An origin as the browser serializes it: lowercase scheme and host, no default port."""
    parts = urlsplit(origin)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = _port(origin)
    default = {"http": 80, "https": 443}.get(scheme)
    suffix = "" if port is None or port == default else f":{port}"
    return f"{scheme}://{host}{suffix}"


def normalized_url(url: str) -> str:
    """A URL roughly as the browser prints it: normalized origin, path ("/" at least), query."""
    parts = urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    return normalized_origin(url) + (parts.path or "/") + query


# --- whole fetches: several origins, hops and their Location headers ------------------------

# How many distinct origins (host name and port) a scenario may use: two loopback host names
# over the harness's ports.
MAX_HOSTS = len(LOOPBACK_HOSTS)
_ABSOLUTE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*:)([/\\]*)([^/\\?#]*)(.*)$", re.DOTALL)
_SCHEME_RELATIVE = re.compile(r"^([/\\]{2})([^/\\?#]*)(.*)$", re.DOTALL)


@dataclass(frozen=True)
class PreparedSite:
    """One URL of a whole fetch as the harness serves it: where the browser will ask for it
    (host, port and request target) and the two answers, their Location headers rewritten."""

    declared: str
    url: str
    host: str
    port: int
    target: str
    preflight_response: ServerResponse
    response: ServerResponse


def _real_host(host: str, used: dict[str, str]) -> str:
    if host in used:
        return used[host]
    if host in LOOPBACK_HOSTS and host not in used.values():
        used[host] = host
        return host
    free = [h for h in LOOPBACK_HOSTS if h not in used.values()]
    if not free:
        raise RewriteError(
            f"the scenario uses more than {MAX_HOSTS} host names; the harness has "
            f"{', '.join(LOOPBACK_HOSTS)}"
        )
    used[host] = free[0]
    return free[0]


def prepare_fetch(
    scenario: Scenario,
    key: str,
    ports: tuple[int, ...],
    path_prefix: str = "/t/",
    *,
    also: Sequence[str] = (),
) -> PreparedScenario:
    """Rewrite a scenario with hops onto the harness: every origin it names gets a loopback
    host name and a harness port (the page's port first), every URL a unique path prefix
    ``<path_prefix><key>``; ``Location`` values keep their form (relative, path-absolute,
    scheme-relative, absolute, user info, spaces) and still lead to the same hop. ``also``
    lists URLs whose origins take their ports first (a sequence's fetches share one map)."""
    page = normalized_origin(origin_of(scenario.origin))
    declared = [url for url, _, _ in scenario.answer_sites()]
    origins = [
        page,
        *(normalized_origin(origin_of(url)) for url in also),
        *(normalized_origin(origin_of(url)) for url in declared),
    ]
    hosts: dict[str, str] = {}
    port_map: dict[int, int] = {}
    real: dict[str, str] = {}
    for origin in origins:
        if origin in real:
            continue
        parts = urlsplit(origin)
        scheme_port = _port(origin) or (443 if parts.scheme == "https" else 80)
        if scheme_port not in port_map:
            if len(port_map) == len(ports):
                raise RewriteError(
                    f"the scenario uses more than {len(ports)} ports; the harness has {len(ports)}"
                )
            port_map[scheme_port] = ports[len(port_map)]
        host = _real_host(parts.hostname or "", hosts)
        candidate = f"http://{host}:{port_map[scheme_port]}"
        if candidate in real.values():
            raise RewriteError(f"{origin} and another origin would share {candidate}")
        real[origin] = candidate
    prefix = path_prefix + key
    pairs: list[tuple[str, str]] = []
    sites_text: list[tuple[str, str, URL]] = []
    for url in declared:
        parsed = parse_url(url)
        if parsed is None or not parsed.is_http:
            raise RewriteError(f"{url!r} is not an absolute http(s) URL")
        origin = real[normalized_origin(origin_of(url))]
        real_url = parse_url(origin + prefix + parsed.path + _query(parsed))
        if real_url is None:
            raise RewriteError(f"{url!r} cannot be served by the harness")
        real_url = replace(
            real_url,
            username=parsed.username,
            password=parsed.password,
            fragment=parsed.fragment,
        )
        wire = real_url.serialize(exclude_fragment=True)
        bare = replace(real_url, username="", password="", fragment=None).serialize()
        declared_bare = replace(parsed, username="", password="", fragment=None).serialize()
        pairs.append((declared_bare, bare))
        if parsed.includes_credentials:
            # response.url keeps the user info.
            pairs.append((parsed.serialize(exclude_fragment=True), wire))

        sites_text.append((url, wire, real_url))
    # Longest first, then the origins: what the browser prints maps back to the scenario's.
    pairs.sort(key=lambda p: len(p[1]), reverse=True)
    pairs.extend((origin, real[origin]) for origin in dict.fromkeys(origins))
    origin_map = OriginMap(tuple(pairs))
    origins_only = OriginMap(tuple(real.items()))

    def rewrite_origins(declared_headers: tuple[Header, ...]) -> tuple[Header, ...]:
        return tuple((name, origins_only.to_real(value)) for name, value in declared_headers)

    def rewrite_answer(answer: ServerResponse, base: URL, follow: bool) -> ServerResponse:
        headers = []
        for name, value in answer.headers:
            if follow and name.lower() == "location":
                headers.append((name, _rewrite_location(value, base, real, prefix)))
            else:
                headers.append((name, origins_only.to_real(value)))
        return ServerResponse(answer.status, tuple(headers))

    sites = []
    seen: set[tuple[str, int, str]] = set()
    for (url, preflight, response), (_, _, real_url) in zip(
        scenario.answer_sites(), sites_text, strict=True
    ):
        base = parse_url(url)
        if base is None:
            raise RewriteError(f"{url!r} is not an absolute http(s) URL")
        target = real_url.path + _query(real_url)
        place = (real_url.host, real_url.port or 80, target)
        if place in seen:
            raise RewriteError(f"{url} arrives like another hop (it differs only in user info)")
        seen.add(place)
        sites.append(
            PreparedSite(
                declared=url,
                url=real_url.serialize(),
                host=real_url.host,
                port=real_url.port or 80,
                target=target,
                preflight_response=rewrite_answer(preflight, base, follow=False),
                response=rewrite_answer(response, base, follow=True),
            )
        )
    request = RequestInit(
        method=scenario.request.method,
        headers=rewrite_origins(scenario.request.headers),
        credentials=scenario.request.credentials,
        mode=scenario.request.mode,
        body=scenario.request.body,
        redirect=scenario.request.redirect,
    )
    first = sites[0]
    return PreparedScenario(
        scenario=scenario,
        key=key,
        url=first.url,
        page_origin=real[page],
        request=request,
        preflight_response=first.preflight_response,
        response=first.response,
        origins=origin_map,
        sites=tuple(sites),
    )


def _query(url: URL) -> str:
    return "" if url.query is None else "?" + url.query


def _rewrite_authority(scheme: str, authority: str, real: dict[str, str]) -> str | None:
    userinfo, at, hostport = authority.rpartition("@")
    parsed = parse_url(f"{scheme}//{hostport}/")
    if parsed is None:
        return None
    stand_in = real.get(parsed.origin)
    if stand_in is None:
        return None
    return userinfo + at + stand_in.split("//", 1)[1]


def _rewrite_location(value: str, base: URL, real: dict[str, str], prefix: str) -> str:
    """A Location that leads where it led, on the harness: same form, new authority and path
    prefix. A relative reference needs nothing; one that does not parse stays as it is."""
    core = value.strip(" \t")
    if not core:
        return value
    start = value.index(core)
    lead, trail = value[:start], value[start + len(core) :]

    def with_prefix(rest: str) -> str:
        if rest[:1] in ("/", "\\"):
            return prefix + rest
        return prefix + "/" + rest

    match = _ABSOLUTE.match(core)
    if match and parse_url(core) is not None and parse_url(core, base) == parse_url(core):
        scheme, slashes, authority, rest = match.groups()
        if scheme.lower() not in ("http:", "https:") or not slashes:
            return value
        mapped = _rewrite_authority(scheme.lower(), authority, real)
        if mapped is None:
            return value
        return lead + "http:" + slashes + mapped + with_prefix(rest) + trail
    relative = _SCHEME_RELATIVE.match(core)
    if relative:
        slashes, authority, rest = relative.groups()
        mapped = _rewrite_authority(base.scheme + ":", authority, real)
        if mapped is None:
            return value
        return lead + slashes + mapped + with_prefix(rest) + trail
    if core[:1] in ("/", "\\"):
        return lead + prefix + core + trail
    return value
