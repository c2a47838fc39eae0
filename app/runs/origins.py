"""The origins a page talks to: its own, the API origin on the same host name (same-site) and,
on loopback, the API origin on the other loopback name (cross-site)."""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# The two loopback names of this machine: a page on one of them has a cross-site API origin on
# the other.
LOOPBACK_NAMES = ("localhost", "127.0.0.1")

# One label of a host name: letters, digits, hyphens and underscores (some LAN names have them).
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_PORT = re.compile(r"[0-9]{1,5}")

TARGETS = ("same", "cross")
DEFAULT_PORT = 80


def origin(host: str, port: int) -> str:
    """The serialized http origin of ``host`` and ``port``: the host lowercase, an IPv6
    literal in brackets, no port when it is http's default (80)."""
    host = host.lower()
    name = f"[{host}]" if ":" in host else host
    return f"http://{name}" if port == DEFAULT_PORT else f"http://{name}:{port}"


@functools.lru_cache(maxsize=1024)  # every request names its host: the same few, again and again
def parse_host(value: str) -> tuple[str, int | None] | None:
    """The host (lowercase; an IPv6 address without its brackets) and port of a ``Host``
    header, or None when it is not a host name, an IPv4 address or a bracketed IPv6 address,
    optionally followed by ``:port``."""
    value = value.lower()
    if value.startswith("["):
        literal, bracket, rest = value[1:].partition("]")
        if not bracket or not _is_ipv6(literal):
            return None
        host = literal
    else:
        host, colon, port_text = value.partition(":")
        rest = colon + port_text
        if not is_host_name(host):
            return None
    if not rest:
        return host, None
    digits = rest[1:]
    if rest[0] != ":" or not _PORT.fullmatch(digits) or not 0 < int(digits) < 65536:
        return None
    return host, int(digits)


def _is_ipv6(literal: str) -> bool:
    try:
        return ipaddress.IPv6Address(literal).scope_id is None
    except ValueError:
        return False


def is_host_name(host: str) -> bool:
    """A DNS name (dot-separated labels of letters, digits, hyphens and underscores, with an
    optional final dot) or an IPv4 address in dotted-decimal form."""
    if not host or len(host) > 253:
        return False
    labels = (host[:-1] if host.endswith(".") else host).split(".")
    if all(label.isascii() and label.isdigit() for label in labels):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return False
        return True
    return all(_LABEL.fullmatch(label) for label in labels)


def is_loopback(host: str) -> bool:
    """Whether browsers count ``host`` as this machine (a potentially trustworthy origin over
    plain http): localhost and its subdomains, 127.0.0.0/8 and ::1."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


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

    @property
    def api_origins(self) -> tuple[str, ...]:
        """The API origins this page can send to."""
        return (self.api, self.cross) if self.cross_available else (self.api,)

    @property
    def site_origins(self) -> tuple[str, ...]:
        """This page's origin and, on loopback, the same page on the other loopback name."""
        return (self.page, self.other_page) if self.cross_available else (self.page,)

    def target(self, choice: str = "same") -> str:
        """The API origin for the learner's target choice (cross-site only where it works)."""
        return self.cross if choice == "cross" and self.cross_available else self.api
