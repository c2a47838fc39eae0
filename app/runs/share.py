"""Share links: a scenario in a URL (``/?s=<base64url JSON>``), without the page's origin or
the target URL, so the link works wherever the playground is opened. A whole fetch (its hops
name their origins) and a sequence travel whole."""

from __future__ import annotations

import base64
import binascii
import json

from app.cors import FetchSequence, Scenario
from app.runs.errors import BadRequest
from app.runs.validation import MAX_BODY_BYTES, invalid_text

MAX_SHARE_LENGTH = 4 * MAX_BODY_BYTES


def encode_share(scenario: Scenario | FetchSequence) -> str:
    """``s=`` value of a share link: base64url of the scenario JSON (no origin or URL, unless
    hops depend on them), or of the sequence JSON."""
    doc = scenario.to_json()
    if isinstance(scenario, Scenario) and not scenario.hops:
        doc.pop("origin", None)
        doc.pop("url", None)
    raw = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def share_url(scenario: Scenario | FetchSequence, session_id: str | None = None) -> str:
    """A link that opens ``scenario`` in the composer (of this session, when given)."""
    start = f"/sessions/{session_id}" if session_id else "/"
    return f"{start}?s={encode_share(scenario)}"


def decode_share(value: str) -> object:
    """The scenario (or sequence) JSON of an ``s=`` value (refused with a reason when it is
    not one)."""
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
    return doc
