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
- ``exchanges`` (only when asked for): every request the target received for the scenario,
  with its raw headers and the response sent, origins mapped back.

Origins, URLs and messages read as if the scenario ran on its own ports.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

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
) -> dict[str, Any]:
    """Combine the page's result, DevTools' verdict and the target's records for one scenario."""
    back = prepared.origins.to_scenario
    preflights = [r for r in records if r.kind == "preflight"]
    actuals = [r for r in records if r.kind == "actual"]
    obs: dict[str, Any] = {"preflight": bool(preflights), "actual_request_sent": bool(actuals)}
    if preflights:
        first = preflights[0]
        obs["preflight_request"] = {ACRM: first.header(ACRM), ACRH: first.header(ACRH)}
    if actuals:
        obs["actual_request_headers"] = sorted({name.lower() for name, _ in actuals[0].headers})
    if result.ok:
        obs["outcome"] = "opaque" if result.type == "opaque" else "allowed"
        declared = {name.lower() for name, _ in prepared.scenario.response.headers}
        obs["readable_headers"] = [name for name in result.headers if name in declared]
        obs["status"] = result.status
    else:
        obs["outcome"] = "blocked" if records else "error"
        obs["error"] = back(result.error or "")
        if records:
            obs["blocked_by"] = result.cors_error
            obs["failed_parameter"] = (
                None if result.failed_parameter is None else back(result.failed_parameter)
            )
    obs["console"] = [back(message) for message in result.console]
    if exchanges:
        obs["exchanges"] = [_exchange(prepared, record) for record in records]
    return obs


def _exchange(prepared: PreparedScenario, record: RecordedRequest) -> dict[str, Any]:
    back = prepared.origins.to_scenario
    doc = record.to_json()
    if record.path == urlsplit(prepared.url).path:
        parts = urlsplit(prepared.scenario.url)
        doc["path"] = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    doc["headers"] = [[name, back(value)] for name, value in record.headers]
    doc["response"]["headers"] = [[name, back(value)] for name, value in record.response_headers]
    return doc
