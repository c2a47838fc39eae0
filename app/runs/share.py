"""Share links: a scenario in a URL (``/?s=<base64url JSON>``), without the page's origin or
the target URL, so the link works wherever the playground is opened.

A header value equal to the page's origin travels as ``{page-origin}`` and becomes the origin
of the page that opens the link; the link also carries the target (``target=cross`` for the
cross-site API origin) and the engine the composer predicts for (``engine=firefox``). A whole
fetch (its hops name their origins) and a sequence travel whole.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import urlencode

from app.cors import FetchSequence, Scenario
from app.runs.errors import BadRequest
from app.runs.origins import host_of
from app.runs.validation import MAX_BODY_BYTES, invalid_text

MAX_SHARE_LENGTH = 4 * MAX_BODY_BYTES
#: Stands for the origin of the page that opens a share link, in a header value.
PAGE_ORIGIN = "{page-origin}"
HEADER_LISTS = ("request", "preflight_response", "response")


def _replace_values(doc: Any, old: str, new: str) -> None:
    """Replace header values equal to ``old`` by ``new`` in a scenario document (any shape)."""
    if not isinstance(doc, dict):
        return
    for part in HEADER_LISTS:
        section = doc.get(part)
        headers = section.get("headers") if isinstance(section, dict) else None
        if not isinstance(headers, list):
            continue
        for header in headers:
            if isinstance(header, list) and len(header) == 2 and header[1] == old:
                header[1] = new


def encode_share(scenario: Scenario | FetchSequence) -> str:
    """``s=`` value of a share link: base64url of the scenario JSON (no origin or URL, unless
    hops depend on them; header values equal to the page's origin as ``{page-origin}``), or of
    the sequence JSON."""
    doc = scenario.to_json()
    if isinstance(scenario, Scenario) and not scenario.hops:
        page = doc.pop("origin", None)
        doc.pop("url", None)
        if page:
            _replace_values(doc, page, PAGE_ORIGIN)
    raw = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def target_of(scenario: Scenario | FetchSequence) -> str:
    """``cross`` when the scenario's URL is on another host name than its page, else ``same``."""
    if not isinstance(scenario, Scenario):
        return "same"
    page, url = host_of(scenario.origin or ""), host_of(scenario.url or "")
    return "cross" if page and url and page != url else "same"


def share_url(
    scenario: Scenario | FetchSequence, session_id: str | None = None, engine: str = ""
) -> str:
    """A link that opens ``scenario`` in the composer (of this session, when given), with its
    target and, when given, the engine to predict for."""
    start = f"/sessions/{session_id}" if session_id else "/"
    query = {"s": encode_share(scenario)}
    if target_of(scenario) == "cross":
        query["target"] = "cross"
    if engine:
        query["engine"] = engine
    return f"{start}?{urlencode(query)}"


def decode_share(value: str, page_origin: str | None = None) -> object:
    """The scenario (or sequence) JSON of an ``s=`` value (refused with a reason when it is
    not one), with ``{page-origin}`` header values made ``page_origin``."""
    if len(value) > MAX_SHARE_LENGTH:
        raise BadRequest(400, "the shared scenario is too large", "s")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        doc: object = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest(400, "the shared link is not a base64url scenario JSON", "s") from None
    problem = invalid_text(doc)
    if problem is not None:
        raise BadRequest(400, f"the shared scenario's {problem.field} {problem.message}", "s")
    if page_origin:
        _replace_values(doc, PAGE_ORIGIN, page_origin)
    return doc
