"""Where an attack happens: the learner's site, the victim API and the attacker's page.

The attacker's page is served by the playground itself on a third port. On the page's own host
name it is another origin of the same site (cookies ignore ports, so even ``SameSite=Lax``
cookies go along); on loopback it can also live on the other loopback name, another site, where
third-party cookie rules apply. Nothing here names a machine outside the playground.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from app.runs.origins import OriginPair, origin, other_host

# Where the attacker's page lives: on the page's host name (same-site, another port), or on the
# other loopback name (cross-site, only when the page is on localhost or 127.0.0.1).
ATTACKER_SITES = ("same", "cross")
SAME_SITE = "same-site"
CROSS_SITE = "cross-site"


@dataclass(frozen=True)
class Stage:
    """The origins of one attack."""

    site: str  # the learner's own page: the legitimate site the API trusts
    api: str  # the victim API (the playground's API origin)
    attacker: str  # the attacker's page
    where: str = "same"  # one of ATTACKER_SITES

    @classmethod
    def of(cls, pair: OriginPair, attacker_port: int, where: str = "same") -> Stage:
        """The stage for a page with origins ``pair``; ``where`` falls back to the same site
        when the other host name is not this machine (a page on a LAN address)."""
        if where == "cross" and pair.cross_available:
            return cls(pair.page, pair.api, origin(other_host(pair.host), attacker_port), "cross")
        return cls(pair.page, pair.api, origin(pair.host, attacker_port), "same")

    @property
    def host(self) -> str:
        """The site's host name (the API's too)."""
        return urlsplit(self.site).hostname or ""

    @property
    def relation(self) -> str:
        """How the attacker's page stands to the victim API: same-site or cross-site."""
        return SAME_SITE if host_of(self.attacker) == host_of(self.api) else CROSS_SITE

    def account_url(self, attack_id: str, run_id: str) -> str:
        """The victim's account endpoint for one request (its run id records the leg)."""
        return f"{self.api}/victim/{attack_id}/account/{run_id}"

    def login_url(self, attack_id: str) -> str:
        return f"{self.api}/victim/{attack_id}/login"

    def attacker_page(self, attack_id: str) -> str:
        return f"{self.attacker}/a/{attack_id}"


def host_of(origin_text: str) -> str:
    """The host of a serialized origin ("" for ``null``)."""
    if origin_text == "null":
        return ""
    return (urlsplit(origin_text).hostname or "").lower()


# The same roles in production, for the question a fix must answer there too: does it still
# refuse names an attacker can register, and pages any site can make?
PRODUCTION = Stage(
    site="https://trusted.example",
    api="https://api.trusted.example",
    attacker="https://attacker.example",
)
# Origins an attacker can get in production, and how: each one passes some broken check.
PRODUCTION_ATTACKERS: tuple[tuple[str, str], ...] = (
    ("https://attacker.example", "any site of the attacker's"),
    ("https://trusted.example.attacker.example", "a name the attacker registers"),
    ("https://attackertrusted.example", "a name the attacker registers"),
    ("http://trusted.example", "the same name over plain http (any network on the way)"),
    ("null", "a sandboxed frame on any site"),
)
