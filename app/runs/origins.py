"""The origins a page talks to: its own, the API origin on the same host name (same-site) and,
on loopback, the API origin on the other loopback name (cross-site)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

# Host names a page may be loaded from. IPv6 literals are left out: a CSP source cannot name
# them, so a page at http://[::1]:8000 talks to the configured host's API origin instead.
LOOPBACK_NAMES = ("localhost", "127.0.0.1")

TARGETS = ("same", "cross")


def origin(host: str, port: int) -> str:
    """The serialized http origin of ``host`` and ``port``: the host lowercase, an IPv6
    literal in brackets, no port when it is http's default (80)."""
    host = host.lower()
    name = f"[{host}]" if ":" in host else host
    return f"http://{name}" if port == 80 else f"http://{name}:{port}"


def other_host(host: str) -> str:
    """The other loopback name: a second site on the same machine."""
    return "127.0.0.1" if host == "localhost" else "localhost"


def host_of(url: str) -> str:
    return urlsplit(url).hostname or ""


def origin_of(url: str) -> str:
    """The origin part of an absolute http URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def relation(page: str, target: str) -> str:
    """``same-site`` or ``cross-site``: a site is a scheme and host (ports do not count)."""
    return "same-site" if host_of(page) == host_of(target) else "cross-site"


@dataclass(frozen=True)
class OriginPair:
    """The page's origin and the API origins it can send to."""

    host: str
    page: str  # this page's origin
    api: str  # the API origin on the page's host name: same-site
    cross: str  # the API origin on the other loopback name: cross-site
    other_page: str  # this page's origin on the other loopback name
    # The other host name is only this machine when the page is on a loopback name; from a
    # workshop's LAN address, "localhost" would be each attendee's own computer.
    cross_available: bool

    @classmethod
    def of(cls, host: str, site_port: int, api_port: int) -> OriginPair:
        other = other_host(host)
        return cls(
            host=host,
            page=origin(host, site_port),
            api=origin(host, api_port),
            cross=origin(other, api_port),
            other_page=origin(other, site_port),
            cross_available=host in LOOPBACK_NAMES,
        )

    def target(self, choice: str = "same") -> str:
        """The API origin for the learner's target choice (cross-site only where it works)."""
        return self.cross if choice == "cross" and self.cross_available else self.api
