"""The CORS-preflight cache: https://fetch.spec.whatwg.org/#cors-preflight-cache

Which preflight answers are stored, for how long (``Access-Control-Max-Age``, its default and
each browser's cap), what an entry covers (origin, URL, credentials, each method and header
name, ``*``), and what a failure does to it. The Fetch Standard keeps one entry per method and
per header name; browsers keep one entry per origin and URL (Chromium and WebKit replace it
with each new answer; Firefox adds to it and keys it by credentials too). Each layout is a
profile switch with its evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from app.cors import headers as h
from app.cors.methods import is_cors_safelisted_method
from app.cors.profiles import Profile
from app.cors.syntax import HTTP_TAB_OR_SPACE

SPEC_CACHE = "https://fetch.spec.whatwg.org/#cors-preflight-cache"
SPEC_MAX_AGE = "https://fetch.spec.whatwg.org/#http-access-control-max-age"
SPEC_CACHE_MATCH = "https://fetch.spec.whatwg.org/#concept-cache-match"
SPEC_CLEAR = "https://fetch.spec.whatwg.org/#concept-cache-clear"
MAX_AGE = "Access-Control-Max-Age"
# Entries kept at most, oldest first out (a sequence holds at most a few dozen answers).
MAX_ENTRIES = 1024


@dataclass(frozen=True)
class MaxAge:
    """How long an answer is cached, and the sentence that says why."""

    seconds: float
    reason: str


def preflight_max_age(received: Sequence[h.Header], profile: Profile) -> MaxAge:
    """The max-age of a preflight answer: its ``Access-Control-Max-Age``, the default when it
    is absent (or does not parse, in the spec), capped by the browser.

    https://fetch.spec.whatwg.org/#cors-preflight-fetch-0 ("If max-age is failure or null,
    then set max-age to 5.")
    """
    raw = [v for n, v in received if n.lower() == MAX_AGE.lower()]
    default = profile.max_age_default
    if not raw:
        return MaxAge(default, f"no Access-Control-Max-Age: the default of {default:g} seconds")
    # Repeated lines are combined ("2, 1"), which no syntax reads as one number.
    value = ", ".join(raw).strip(HTTP_TAB_OR_SPACE)
    syntax = profile.max_age_syntax
    if syntax == "digits" and value == "":
        return MaxAge(default, f"an empty Access-Control-Max-Age: the default of {default:g} s")
    parsed = _parse_max_age(value, syntax)
    if parsed is None:
        if syntax == "digits":
            # Deviation (firefox): a value that is not all digits caches nothing.
            return MaxAge(
                0,
                f"Access-Control-Max-Age {value!r} is not a number of seconds; "
                f"{profile.label} does not cache the answer at all",
            )
        return MaxAge(
            default,
            f"Access-Control-Max-Age {value!r} is not a number of seconds, so the default of "
            f"{default:g} seconds applies",
        )
    if parsed <= 0:
        return MaxAge(0, f"Access-Control-Max-Age is {value}: the answer is not cached")
    cap = profile.max_age_cap
    if cap is not None and parsed > cap:
        return MaxAge(
            cap,
            f"Access-Control-Max-Age asks for {parsed} seconds; {profile.label} caps it at "
            f"{cap} seconds",
        )
    return MaxAge(parsed, f"Access-Control-Max-Age: cached for {parsed} seconds")


INT64_MAX = 2**63 - 1


def _parse_max_age(value: str, syntax: str) -> int | None:
    """The seconds ``value`` says, or None when it does not parse: delta-seconds (1*DIGIT) for
    the spec and Firefox, a signed 64-bit integer for Chromium and WebKit."""
    digits = value
    sign = 1
    if syntax == "integer" and value[:1] in ("-", "+"):
        sign = -1 if value[0] == "-" else 1
        digits = value[1:]
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    number = sign * int(digits)
    if syntax == "integer" and not -INT64_MAX - 1 <= number <= INT64_MAX:
        return None
    return number


@dataclass
class _Item:
    """One cached method or header name (lowercase), with its expiry time."""

    name: str
    expires: float


@dataclass
class CacheEntry:
    """What the cache knows about one origin and URL (and, for Firefox, credentials mode)."""

    origin: str
    url: str
    credentials: bool
    methods: list[_Item] = field(default_factory=list)
    headers: list[_Item] = field(default_factory=list)
    # When the newest answer for this origin and URL expires (browsers keep an entry that
    # lists nothing: it still covers a CORS-safelisted method with no unsafe header).
    expires: float = 0.0


@dataclass(frozen=True)
class Lookup:
    """Whether the cache covers the request, and why (or what it lacks)."""

    hit: bool
    reason: str


class PreflightCache:
    """A browser's CORS-preflight cache over a simulated clock (seconds since the first fetch)."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self._entries: list[CacheEntry] = []

    def _matching(self, origin: str, url: str, include: bool, now: float) -> list[CacheEntry]:
        self._expire(now)
        found = []
        for entry in self._entries:
            if entry.origin != origin or entry.url != url:
                continue
            if self.profile.cache_credentials_exact:
                # Deviation (firefox): an entry serves only the credentials mode it was made for.
                if entry.credentials == include:
                    found.append(entry)
            elif entry.credentials or not include:
                found.append(entry)
        return found

    def _expire(self, now: float) -> None:
        for entry in self._entries:
            entry.methods = [i for i in entry.methods if i.expires > now]
            entry.headers = [i for i in entry.headers if i.expires > now]
        keeps = self.profile.cache_keeps_empty_entries
        self._entries = [
            e for e in self._entries if e.methods or e.headers or (keeps and e.expires > now)
        ]

    def lookup(
        self,
        origin: str,
        url: str,
        include: bool,
        method: str,
        unsafe_names: Iterable[str],
        now: float,
    ) -> Lookup:
        """Whether every method and header name the request needs has a cache entry match.

        https://fetch.spec.whatwg.org/#http-fetch (the preflight is skipped when the cache has
        a method cache entry match and a header-name cache entry match for each name)
        """
        entries = self._matching(origin, url, include, now)
        if not entries:
            return Lookup(False, f"the preflight cache has no answer for {url} from {origin}")
        wildcard_ok = self.profile.cache_wildcards
        methods = {i.name for e in entries for i in e.methods if self._wild_ok(e, i, include)}
        headers = {i.name for e in entries for i in e.headers if self._wild_ok(e, i, include)}
        missing: list[str] = []
        if not is_cors_safelisted_method(method) and not (
            method in methods or (wildcard_ok and "*" in methods)
        ):
            missing.append(f"method {method}")
        for name in unsafe_names:
            lower = name.lower()
            covers = (
                lower not in h.NON_WILDCARD_NAMES
                or self.profile.cache_wildcard_covers_authorization
            )
            wild = wildcard_ok and "*" in headers and covers
            if lower not in headers and not wild:
                missing.append(f"header {lower}")
        if missing:
            if self.profile.cache_evicts_insufficient_entry:
                # Deviation (chromium): an entry that does not cover the request is dropped.
                for entry in entries:
                    self._entries.remove(entry)
            return Lookup(False, "the cached answer does not cover " + ", ".join(missing))
        return Lookup(True, "the cached preflight answer covers the method and every header")

    def _wild_ok(self, entry: CacheEntry, item: _Item, include: bool) -> bool:
        """Whether a cached ``*`` counts for this request: browsers take it as a literal name
        when credentials are involved, Chromium the answer's, WebKit the request's."""
        if item.name != "*":
            return True
        literal = self.profile.cache_wildcard_literal_with_credentials
        if literal == "entry":
            return not entry.credentials
        if literal == "request":
            return not include
        return True

    def store(
        self,
        origin: str,
        url: str,
        include: bool,
        methods: Sequence[str],
        header_names: Sequence[str],
        max_age: float,
        now: float,
    ) -> None:
        """Cache a successful preflight's methods and header names for ``max_age`` seconds (a
        max-age of 0 still renews, or replaces, what was cached: it now expires at once)."""
        expires = now + max(max_age, 0)
        method_items = [_Item(m, expires) for m in dict.fromkeys(methods)]
        header_items = [_Item(n.lower(), expires) for n in dict.fromkeys(header_names)]
        existing = self._matching(origin, url, include, now) if self.profile.cache_merges else []
        if self.profile.cache_merges:
            # The Fetch Standard (and Firefox): each method and name is its own entry; a new
            # answer renews or adds them.
            entry = next((e for e in existing if e.credentials == include), None)
            if entry is None:
                entry = CacheEntry(origin, url, include)
                self._entries.append(entry)
            entry.expires = max(entry.expires, expires)
            for items, new in ((entry.methods, method_items), (entry.headers, header_items)):
                for item in new:
                    old = next((i for i in items if i.name == item.name), None)
                    if old is None:
                        items.append(item)
                    else:
                        old.expires = item.expires
        else:
            # Deviation (chromium, webkit): the newest answer replaces the entry for the URL.
            self._entries = [e for e in self._entries if not (e.origin == origin and e.url == url)]
            self._entries.append(
                CacheEntry(origin, url, include, method_items, header_items, expires)
            )
        del self._entries[:-MAX_ENTRIES]

    def clear(self, origin: str, url: str) -> bool:
        """Clear cache entries for the origin and URL; whether there were any.

        https://fetch.spec.whatwg.org/#concept-cache-clear
        """
        before = len(self._entries)
        self._entries = [e for e in self._entries if not (e.origin == origin and e.url == url)]
        return len(self._entries) != before

    def __len__(self) -> int:
        return len(self._entries)


__all__ = ["CacheEntry", "Lookup", "MaxAge", "PreflightCache", "preflight_max_age"]
