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
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from app.cors.scenario import Header, RequestInit, Scenario, ServerResponse

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
