"""What the API origin sends for a run: exactly the status and headers the learner configured,
plus the ``Content-Length`` that HTTP framing needs, and what that addition means for what
JavaScript can read."""

from __future__ import annotations

from dataclasses import replace

from app.cors import Prediction, Scenario, predict

Header = tuple[str, str]

# Answers without content (RFC 9110 §15.3.5, §15.3.6, §15.4.5).
NO_BODY_STATUSES = frozenset({204, 205, 304})
# Answers that carry no Content-Length: a 204 must not, a 304's would describe the resource;
# a 205 says ``Content-Length: 0`` (h11 would otherwise frame it as chunked).
NO_LENGTH_STATUSES = frozenset({204, 304})
SPEC_SAFELISTED_RESPONSE_HEADER_NAME = (
    "https://fetch.spec.whatwg.org/#cors-safelisted-response-header-name"
)


def framing_headers(status: int, body_size: int) -> tuple[Header, ...]:
    """The headers the API origin adds to an answer: Content-Length, unless the status never
    carries one."""
    return () if status in NO_LENGTH_STATUSES else (("Content-Length", str(body_size)),)


def added_readable_headers(scenario: Scenario, prediction: Prediction) -> tuple[str, ...]:
    """Names (byte-lowercased) of the headers JavaScript reads beyond ``readable_headers``
    because the API origin adds them: the prediction covers the declared headers only, and
    Content-Length is a CORS-safelisted response-header name, readable without exposure
    (https://fetch.spec.whatwg.org/#cors-safelisted-response-header-name). The engine itself
    stays exact: it decides over the answer as the API origin sends it."""
    if prediction.outcome != "allowed":
        return ()
    answer = scenario.response
    added = framing_headers(answer.status, 0)
    if not added:
        return ()
    sent = replace(scenario, response=replace(answer, headers=(*answer.headers, *added)))
    readable = predict(sent, prediction.browser).readable_headers
    return tuple(name for name in readable if name not in prediction.readable_headers)
