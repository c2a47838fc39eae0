"""Where the two origins listen and how much the playground keeps: from the command line's
flags and the environment, and the origins a page on a given host name talks to."""

from __future__ import annotations

from dataclasses import dataclass

from app.runs.origins import LOOPBACK_NAMES, OriginPair


@dataclass(frozen=True)
class Settings:
    """Where the two origins listen and how much the playground keeps in memory."""

    host: str = "localhost"
    site_port: int = 8000
    api_port: int = 8001
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

    @property
    def url_host(self) -> str:
        """The host name to print in URLs (a wildcard address is reached as localhost)."""
        if self.host in ("", "0.0.0.0", "::"):
            return "localhost"
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def site_url(self) -> str:
        return f"http://{self.url_host}:{self.site_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.url_host}:{self.api_port}"

    @property
    def page_hosts(self) -> tuple[str, ...]:
        """Host names the page may be loaded from; the API origin follows the page's host."""
        if self.host in LOOPBACK_NAMES or ":" in self.host or self.host in ("", "0.0.0.0"):
            return LOOPBACK_NAMES
        return (*LOOPBACK_NAMES, self.host)

    def page_host(self, host: str | None) -> str:
        """The page's host name if it is one we serve, else the configured one."""
        if host and host in self.page_hosts:
            return host
        configured = self.url_host
        return configured if configured in self.page_hosts else "localhost"

    def origins(self, host: str | None) -> OriginPair:
        """The origins of a page loaded from ``host`` (localhost pairs with localhost)."""
        return OriginPair.of(self.page_host(host), self.site_port, self.api_port)
