"""Observations: what a real browser and the target saw, in the shape of the shared truth files.

One observation per scenario, keys in this order (absent keys are absent, not null):

- ``preflight``: the target saw an OPTIONS preflight;
- ``actual_request_sent``: the target saw the actual request;
- ``preflight_request`` (when preflight): ``access-control-request-method`` and
  ``access-control-request-headers`` values as received, or null;
- ``actual_request_headers`` (when sent): the header names received, lowercased, sorted;
- ``outcome``: ``allowed`` / ``opaque`` (fetch resolved), ``blocked`` (rejected after the target
  saw something), ``error`` (rejected and the target saw nothing);
- ``readable_headers`` and ``status`` (when resolved): the declared response header names
  JavaScript could read (lowercased, in the browser's sorted order) and the status JS saw;
- ``error`` (when rejected), ``blocked_by`` and ``failed_parameter`` (when blocked);
- ``console``: the browser's console messages that name this request;
With ``whole`` (a whole fetch, as ``verify`` and the v2 truth files record it), also:

- ``legs``: every request the target received, in arrival order: ``url`` (the declared URL
  that answered), ``wire_url`` (as it arrived), ``kind``, ``method``, ``origin``, ``acrm``,
  ``acrh``, ``body`` (a non-empty body arrived) and the raw request ``headers``;
- ``redirected`` and ``response_url`` (when resolved): ``response.redirected`` and
  ``response.url`` as JavaScript read them;
- ``exchanges`` (only when asked for): every request the target received for the scenario,
  with its raw headers and the response sent, origins mapped back.

A sequence's fetches add ``preflight_cache`` (see ``preflight_cache``).

Origins, URLs and messages read as if the scenario ran on its own ports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from app.cors import headers as h
from app.cors.methods import is_cors_safelisted_method, normalize_method
from app.cors.origins import same_origin
from app.cors.profiles import get_profile
from app.cors.scenario import Scenario
from app.harness.driver import FetchResult
from app.harness.rewrite import PreparedScenario
from app.harness.target import RecordedRequest

ACRM = "access-control-request-method"
ACRH = "access-control-request-headers"


def build_observation(
    prepared: PreparedScenario,
    result: FetchResult,
    records: list[RecordedRequest],
    *,
    exchanges: bool = False,
    whole: bool = False,
) -> dict[str, Any]:
    """Combine the page's result, DevTools' verdict and the target's records for one scenario."""
    back = prepared.origins.to_scenario
    preflights = [r for r in records if r.kind == "preflight"]
    actuals = [r for r in records if r.kind == "actual"]
    # The first URL's preflight: the fetch's first request, when it is one.
    first_preflight = records[0] if records and records[0].kind == "preflight" else None
    obs: dict[str, Any] = {
        "preflight": first_preflight is not None,
        "actual_request_sent": bool(actuals),
    }
    if not prepared.sites and preflights:
        first_preflight = preflights[0]
        obs["preflight"] = True
    if first_preflight is not None:
        obs["preflight_request"] = {
            ACRM: first_preflight.header(ACRM),
            ACRH: first_preflight.header(ACRH),
        }
    if actuals:
        obs["actual_request_headers"] = sorted({name.lower() for name, _ in actuals[0].headers})
    if whole:
        obs["legs"] = [_leg(prepared, record) for record in records]
    if result.ok:
        if result.type == "opaque" or (whole and result.type == "opaqueredirect"):
            obs["outcome"] = result.type
        else:
            obs["outcome"] = "allowed"
        final = prepared.sites[actuals[-1].site].response if prepared.sites and actuals else None
        answer = final if final is not None else prepared.scenario.response
        declared = {name.lower() for name, _ in answer.headers}
        obs["readable_headers"] = [name for name in result.headers if name in declared]
        obs["status"] = result.status
        if whole:
            obs["redirected"] = result.redirected
            obs["response_url"] = url_back(back, result.url or "")
    else:
        obs["outcome"] = "blocked" if records else "error"
        obs["error"] = back(result.error or "")
        if records:
            obs["blocked_by"] = result.cors_error
            obs["failed_parameter"] = (
                None if result.failed_parameter is None else back(result.failed_parameter)
            )
        if whole:
            obs["redirected"] = None
            obs["response_url"] = None
    obs["console"] = [back(message) for message in result.console]
    if exchanges:
        obs["exchanges"] = [_exchange(prepared, record) for record in records]
    return obs


def _leg(prepared: PreparedScenario, record: RecordedRequest) -> dict[str, Any]:
    """One request the target saw, as the truth files record a leg."""
    back = prepared.origins.to_scenario
    if prepared.sites:
        site = prepared.sites[record.site]
        url, wire = site.declared, f"http://{site.host}:{site.port}{record.path}"
    else:
        url = prepared.scenario.url
        parts = urlsplit(prepared.url)
        wire = f"{parts.scheme}://{parts.netloc}{record.path}"
    origin = record.header("origin")
    preflight = record.kind == "preflight"
    return {
        "url": url,
        "wire_url": back(wire),
        "kind": record.kind,
        "method": record.method,
        "origin": None if origin is None else back(origin),
        "acrm": record.header(ACRM) if preflight else None,
        "acrh": record.header(ACRH) if preflight else None,
        "body": record.body_length > 0,
        "headers": [[name, back(value)] for name, value in record.headers],
    }


def preflight_cache(scenario: Scenario, observation: dict[str, Any], browser: str) -> str | None:
    """A sequence fetch's ``preflight_cache``: "miss" when its first URL got a preflight,
    "hit" when it got none although the request asks for one, else None.

    The browser says nothing about its cache, so whether the request asks for a preflight
    (a cross-origin request with a method or header that is not CORS-safelisted) is read with
    the browser's own profile; what the target saw (the legs) is the truth being compared.
    """
    if observation.get("preflight"):
        return "miss"
    request = scenario.request
    if request.mode != "cors" or same_origin(scenario.origin, scenario.url):
        return None
    profile = get_profile(browser)
    method = normalize_method(request.method)
    headers = list(request.headers)
    if request.body is not None and h.get("Content-Type", headers) is None:
        headers.append(("Content-Type", "text/plain;charset=UTF-8"))
    kept = [(n, v) for n, v in headers if not h.is_forbidden_request_header(n, v, profile)]
    if profile.combines_duplicate_request_headers:
        kept = list(h.combine_duplicates(kept))
    unsafe = h.cors_unsafe_request_header_names(kept, profile).names
    if not is_cors_safelisted_method(method) or unsafe:
        return "hit" if observation.get("legs") else None
    return None


def _exchange(prepared: PreparedScenario, record: RecordedRequest) -> dict[str, Any]:
    back = prepared.origins.to_scenario
    doc = record.to_json()
    if record.path == urlsplit(prepared.url).path:
        parts = urlsplit(prepared.scenario.url)
        doc["path"] = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    doc["headers"] = [[name, back(value)] for name, value in record.headers]
    doc["response"]["headers"] = [[name, back(value)] for name, value in record.response_headers]
    return doc


def url_back(back: Callable[[str], str], url: str) -> str:
    """A URL the browser reported, in the scenario's origins: a user name or password in it
    (``http://:pw@host/``) is set aside while its origin is mapped back."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if not sep or not at:
        return back(url)
    mapped = back(f"{scheme}://{host}{slash}{path}")
    mapped_scheme, _, mapped_rest = mapped.partition("://")
    return f"{mapped_scheme}://{userinfo}@{mapped_rest}"
