"""Where the two origins listen and how much the playground keeps: from the command line's
flags and the environment, and the origins a page on a given host name talks to."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from app.rooms.limits import RoomLimits
from app.runs.origins import DEFAULT_PORT, OriginPair, is_host_name, parse_host

# Addresses that listen on every interface: their pages are reached by other names.
WILDCARD_HOSTS = ("", "0.0.0.0", "::")


@dataclass(frozen=True)
class Settings:
    """Where the two origins listen and how much the playground keeps in memory."""

    host: str = "localhost"
    site_port: int = 8000
    api_port: int = 8001
    # The attacker's origin (the attack lab): a third port on the same host names.
    attacker_port: int = 8002
    max_sessions: int = 1000
    max_unused_sessions: int = 1000
    runs_per_session: int = 50
    exchanges_per_run: int = 16
    session_ttl: float = 6 * 3600.0
    queue_size: int = 64
    queue_bytes: int = 2 * 1024 * 1024
    subscribers_per_topic: int = 16
    # The troubleshooting page may send requests to any URL a visitor types (a real server
    # check). Off unless the server was started with --allow-check: a workshop server must
    # not fetch arbitrary URLs for its attendees.
    allow_check: bool = False
    # Workshop rooms: how many, how large, how long they are kept (app/rooms/limits.py).
    room_limits: RoomLimits = field(default_factory=RoomLimits)
    # Several processes: sessions, runs, progress, attacks and live events on this Redis
    # (redis://HOST:PORT/DB); empty: everything in this process's memory.
    redis_url: str = ""
    # The Redis keys' prefix: two playgrounds can share one Redis server.
    redis_prefix: str = "cors-playground:"

    @property
    def url_host(self) -> str:
        """The host name to print in URLs (a wildcard address is reached as localhost)."""
        if self.host in WILDCARD_HOSTS:
            return "localhost"
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def site_url(self) -> str:
        return f"http://{self.url_host}:{self.site_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.url_host}:{self.api_port}"

    @property
    def attacker_url(self) -> str:
        return f"http://{self.url_host}:{self.attacker_port}"

    @property
    def fallback_host(self) -> str:
        """The page's host name when a request names none (HTTP/1.0 without ``Host``)."""
        return "localhost" if self.host in WILDCARD_HOSTS else self.host

    def page_host(self, host: str | None) -> str:
        """The host name the page was loaded from: the one its request used, when that is a
        host name or an IP address (any name that reaches the playground is one it serves),
        else the configured one."""
        if host and (is_host_name(host.lower()) or parse_host(f"[{host}]") is not None):
            return host.lower()
        return self.fallback_host

    def origins(self, host: str | None, site_port: int = 0, api_port: int = 0) -> OriginPair:
        """The origins of a page loaded from ``host`` (the ports as the browser uses them,
        by default the ones the playground listens on)."""
        return OriginPair.of(
            self.page_host(host), site_port or self.site_port, api_port or self.api_port
        )

    @functools.lru_cache(maxsize=1024)  # noqa: B019 (settings live as long as the process)
    def request_origins(self, host_header: str | None, port: int) -> OriginPair:
        """The origins of the page behind a request that arrived on ``port`` saying
        ``Host: host_header``: the host name, and that socket's port, are the browser's."""
        parsed = parse_host(host_header) if host_header else None
        if parsed is None:
            return self.origins(None)
        host, used = parsed
        used = used or DEFAULT_PORT
        if port == self.api_port:
            return self.origins(host, api_port=used)
        if port == self.attacker_port:
            return self.origins(host)
        return self.origins(host, site_port=used)
