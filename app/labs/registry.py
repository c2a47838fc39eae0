"""The labs: their names and words, the choices a learner has and the bounds on them, each lab's
session of its own, and what a lab hands to the run store for one send."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.cors import Scenario, ServerResponse
from app.cors.names import ALLOW_CREDENTIALS, ALLOW_ORIGIN, CONTENT_TYPE
from app.runs.errors import BadRequest
from app.runs.origins import OriginPair

# A lab's form as the web layer decoded it: one value per field.
Form = Mapping[str, str]
Header = tuple[str, str]

# The preflight cache
MAX_SENDS_PER_URL = 12
MAX_AGE_LIMIT = 172_800  # two days: enough to pass every browser's cap
CACHE_CHOICES = ("absent", "0", "seconds")
# A cache hit or miss this close to the modelled expiry is not called a finding.
CACHE_MARGIN = 0.5

# Redirects
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
REDIRECT_METHODS = ("GET", "HEAD", "POST")
DESTINATIONS = ("same", "cross", "cross-back")
ALLOW_CHOICES = ("page", "null", "*")
REDIRECT_BODY = "ping from the page"

# Credentials and cookies
COOKIE_MAX_AGE = 600
COOKIE_ACTIONS = ("set", "send")
# Each choice: its words, and what it adds to the Set-Cookie line.
SAME_SITE_CHOICES: dict[str, tuple[str, str]] = {
    "unset": ("no SameSite attribute (browsers treat it as Lax)", ""),
    "lax": ("SameSite=Lax", "; SameSite=Lax"),
    "strict": ("SameSite=Strict", "; SameSite=Strict"),
    "none": ("SameSite=None without Secure", "; SameSite=None"),
    "none-secure": ("SameSite=None; Secure", "; SameSite=None; Secure"),
    "partitioned": ("SameSite=None; Secure; Partitioned", "; SameSite=None; Secure; Partitioned"),
    "forget": ("forget it (Max-Age=0)", ""),
}

_LAB_KEY = secrets.token_bytes(32)


@dataclass(frozen=True)
class Lab:
    name: str
    title: str
    summary: str
    note: str  # on each run, for the run's own page and the JSON API


LABS: dict[str, Lab] = {
    lab.name: lab
    for lab in (
        Lab(
            "cache",
            "The preflight cache",
            "Send to the same URL again and again: when does the browser skip the preflight, "
            "and for how long? Access-Control-Max-Age absent, 0 and N seconds. Say what you "
            "expect before each send.",
            "Preflight cache lab: this URL is reused on purpose, so the browser may answer the "
            "preflight from its cache; this run's prediction is for one fetch alone, and the "
            "lab's card predicts each send of the series from the CORS-preflight cache.",
        ),
        Lab(
            "redirects",
            "Redirects",
            "The API origin redirects the request to the same or another origin: predict, "
            "then watch Origin turn into null, POST turn into GET, a preflight at every hop "
            "and a redirected preflight fail.",
            "Redirects lab: the API origin answers with a redirect and the browser follows it; "
            "the engine predicts the whole fetch, every hop.",
        ),
        Lab(
            "cookies",
            "Credentials and cookies",
            "The API origin sets a cookie: when does the browser send it back? Each "
            "credentials mode, the preflight, same-site and cross-site pages.",
            "Cookies lab: whether a cookie is stored and sent depends on the browser's cookie "
            "rules, which the engine's prediction does not model.",
        ),
    )
}


def lab_session_id(session_id: str, lab: str) -> str:
    """The id of the session holding ``lab``'s runs for ``session_id`` (unguessable)."""
    digest = hmac.new(_LAB_KEY, f"{lab}:{session_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


@dataclass(frozen=True)
class LabRun:
    """One send a lab asks the run store to keep: the run's id, its scenario, the answers at
    its follow-up URLs (redirect hops), and the id in its URL when it reuses an earlier run's."""

    id: str
    scenario: Scenario
    hops: tuple[ServerResponse, ...] = ()
    url_id: str = ""


def choice(form: Form, name: str, choices: Sequence[str], default: str) -> str:
    """The form's value for ``name`` (``default`` when absent), refused unless a choice."""
    value = form.get(name, default)
    if value not in choices:
        raise BadRequest(422, f"{name} must be one of {', '.join(choices)}", name)
    return value


def allow_page(pair: OriginPair, credentials: bool = False) -> tuple[Header, ...]:
    """An answer's headers allowing the page's origin (and credentials)."""
    headers: tuple[Header, ...] = ((ALLOW_ORIGIN, pair.page),)
    if credentials:
        headers += ((ALLOW_CREDENTIALS, "true"),)
    return headers


TEXT_BODY: tuple[Header, ...] = ((CONTENT_TYPE, "text/plain; charset=utf-8"),)


CROSS_SITE_UNAVAILABLE = (
    "the other host name is only this machine when the page is on localhost or 127.0.0.1; "
    "from {host} it would be your own computer, so cross-site choices are off here"
)


def cross_site(pair: OriginPair, field: str) -> str:
    """The cross-site API origin, refused where the other host name is not this machine."""
    if not pair.cross_available:
        raise BadRequest(422, CROSS_SITE_UNAVAILABLE.format(host=pair.host), field)
    return pair.cross
