"""Lessons: named scenarios with a question asked before sending and an explanation after.

A lesson's truth is never typed in: the correct answer is computed from the engine's
prediction (``predict``) for the scenario as it runs on the learner's own origins, and the
browser tests run every lesson's scenario in real Chromium, Firefox and WebKit. Pure Python:
no web framework is imported here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from app.cors import Prediction, Scenario, predict
from app.cors.names import REQUEST_HEADERS, REQUEST_METHOD

# In a lesson's header values and sentences, replaced when the lesson runs.
ORIGIN = "{origin}"  # the page's origin, e.g. http://localhost:8000
ATTACKER = "{attacker}"  # the origin of the attacker's page in a dangerous lesson
HOST = "{host}"  # the page's host name
PORT = "{port}"  # the page's port
API = "{api}"  # the API origin
NEXT = "{next}"  # in a lesson's Location value: the URL of its next hop

# The browser whose prediction is a lesson's expected behaviour. The lesson tests require the
# other engines to give the same answer, so the answer never depends on the learner's browser.
REFERENCE_BROWSER = "chromium"
BROWSERS = ("chromium", "firefox", "webkit")

QuestionKind = Literal[
    "preflight", "readable", "header", "actual", "outcome", "acrh", "acrm",
    "followed", "method", "preflights",
]  # fmt: skip
NO_PREFLIGHT = "(no preflight)"
NO_REQUEST = "(no request)"


@dataclass(frozen=True)
class Choice:
    """One answer the learner can pick: the value compared with the truth, and its words."""

    value: str
    label: str


YES_NO = (Choice("yes", "Yes"), Choice("no", "No"))
OUTCOME_CHOICES = (
    Choice("allowed", "fetch() resolves and JavaScript reads the response"),
    Choice("blocked", "fetch() rejects with a TypeError: a CORS check fails"),
    Choice("opaque", "fetch() resolves with an opaque response: status 0, nothing readable"),
    Choice(
        "opaqueredirect",
        "fetch() resolves with the redirect itself, opaque: status 0, type “opaqueredirect”",
    ),
    Choice("error", "fetch() rejects before anything is sent"),
)


@dataclass(frozen=True)
class Question:
    """What the learner answers before sending; the answer is read off a prediction."""

    kind: QuestionKind
    prompt: str
    # For "header": the response header JavaScript may or may not read.
    header: str | None = None
    # For "acrh" / "acrm" / "method" / "preflights": the values to choose from (the truth
    # must be one of them).
    values: tuple[str, ...] = ()

    @property
    def choices(self) -> tuple[Choice, ...]:
        if self.kind == "outcome":
            return OUTCOME_CHOICES
        if self.kind == "preflights":
            return tuple(Choice(v, v) for v in self.values)
        if self.kind in ("acrh", "acrm", "method"):
            return tuple(Choice(v, v if v == NO_PREFLIGHT else f"`{v}`") for v in self.values)
        return YES_NO

    def answer(self, prediction: Prediction) -> str:
        """The correct choice's value, from the engine's prediction."""
        if self.kind == "preflight":
            return _yes(prediction.preflight)
        if self.kind == "readable":
            return _yes(prediction.outcome == "allowed")
        if self.kind == "header":
            assert self.header is not None
            return _yes(
                prediction.outcome == "allowed"
                and self.header.lower() in prediction.readable_headers
            )
        if self.kind == "actual":
            return _yes(prediction.actual_request_sent)
        if self.kind == "outcome":
            return prediction.outcome
        actuals = [leg.method for leg in prediction.legs if leg.kind == "actual"]
        if self.kind == "followed":
            return _yes(len(actuals) > 1)
        if self.kind == "method":
            return actuals[-1] if actuals else NO_REQUEST
        if self.kind == "preflights":
            return str(len(prediction.legs) - len(actuals))
        name = "Access-Control-Request-" + ("Headers" if self.kind == "acrh" else "Method")
        request = prediction.preflight_request
        if request is None:
            return NO_PREFLIGHT
        return request.header(name) or "(none)"

    def observed(
        self,
        *,
        preflight_headers: Sequence[tuple[str, str]] | None,
        actual_sent: bool,
        outcome: str,
        readable: Sequence[str],
        actual_methods: Sequence[str] = (),
        preflights: int = 0,
    ) -> str:
        """The answer a real run gives: from what the API origin received (the preflight's
        headers, whether the actual request arrived, the method of each actual request in
        order, how many preflights) and what JavaScript got."""
        if self.kind == "preflight":
            return _yes(preflight_headers is not None)
        if self.kind == "readable":
            return _yes(outcome == "allowed")
        if self.kind == "header":
            assert self.header is not None
            names = {name.lower() for name in readable}
            return _yes(outcome == "allowed" and self.header.lower() in names)
        if self.kind == "actual":
            return _yes(actual_sent)
        if self.kind == "outcome":
            return outcome
        if self.kind == "followed":
            return _yes(len(actual_methods) > 1)
        if self.kind == "method":
            return actual_methods[-1] if actual_methods else NO_REQUEST
        if self.kind == "preflights":
            return str(preflights)
        if preflight_headers is None:
            return NO_PREFLIGHT
        name = "access-control-request-" + ("headers" if self.kind == "acrh" else "method")
        return next((v for k, v in preflight_headers if k.lower() == name), "(none)")

    def label(self, value: str) -> str:
        return next((c.label for c in self.choices if c.value == value), value)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Lesson:
    """One lesson: a scenario on the learner's own origins, a question, and what it teaches.

    ``request``, ``preflight_response`` and ``response`` follow the scenario format; header
    values may contain ``{origin}`` (the page's origin), filled in when the lesson runs.
    ``hops`` are the answers at the URLs a redirect leads to (``<url>/1``, ``<url>/2``...), each
    ``{"response": ..., "preflight_response": ...}`` (the preflight answered as the lesson's
    own when absent); a ``Location`` value ``{next}`` is the URL of the next hop.
    Sentences may contain ``{origin}``, ``{api}``, ``{host}``, ``{port}`` and ``{attacker}``,
    and `backticks` for code.
    """

    slug: str
    title: str
    topics: tuple[str, ...]
    setup: tuple[str, ...]
    question: Question
    explanation: tuple[str, ...]
    request: Mapping[str, Any]
    response: Mapping[str, Any]
    preflight_response: Mapping[str, Any] = field(default_factory=dict)
    # Header names the explanation points at in the recorded exchanges (besides Origin and
    # the Access-Control-* headers, which are always shown).
    focus: tuple[str, ...] = ()
    # Why this server configuration is dangerous (a dangerous lesson's request passes).
    danger: str | None = None
    # The origin of a page that abuses the misconfiguration, from the learner's page origin.
    attacker: Callable[[str], str] | None = None
    links: tuple[Link, ...] = ()
    hops: tuple[Mapping[str, Any], ...] = ()

    @property
    def dangerous(self) -> bool:
        return self.danger is not None

    def scenario(self, page_origin: str, api_origin: str, url: str | None = None) -> Scenario:
        """The lesson's scenario, sent from ``page_origin`` to ``api_origin`` (at ``url`` on
        it, when given: a run's own URL, its hops below it)."""
        return self._scenario(page_origin, page_origin, api_origin, url=url)

    def attacker_scenario(self, page_origin: str, api_origin: str) -> Scenario | None:
        """The same request from the attacker's page, answered as the server answers it
        (the misconfiguration reflects or trusts the attacker's origin the same way)."""
        if self.attacker is None:
            return None
        evil = self.attacker(page_origin)
        return self._scenario(evil, evil, api_origin, slug=f"{self.slug}-attacker")

    def _scenario(
        self,
        origin: str,
        fill: str,
        api_origin: str,
        slug: str | None = None,
        url: str | None = None,
    ) -> Scenario:
        url = url or f"{api_origin}/r/lesson-{self.slug}"
        hop_urls = [f"{url}/{n}" for n in range(1, len(self.hops) + 1)]

        def answer(part: Mapping[str, Any], default: int, following: int) -> dict[str, Any]:
            after = hop_urls[following] if following < len(hop_urls) else ""
            return {
                "status": part.get("status", default),
                "headers": [
                    [n, v.replace(ORIGIN, fill).replace(NEXT, after)]
                    for n, v in part.get("headers", [])
                ],
            }

        doc: dict[str, Any] = {
            "id": slug or self.slug,
            "origin": origin,
            "url": url,
            "request": {**self.request, "headers": answer(self.request, 0, 0)["headers"]},
            "preflight_response": answer(self.preflight_response, 204, 0),
            "response": answer(self.response, 200, 0),
        }
        if self.hops:
            doc["hops"] = [
                {
                    "url": hop_url,
                    "preflight_response": answer(
                        hop.get("preflight_response", self.preflight_response), 204, index + 1
                    ),
                    "response": answer(hop.get("response", {}), 200, index + 1),
                }
                for index, (hop, hop_url) in enumerate(zip(self.hops, hop_urls, strict=True))
            ]
        return Scenario.from_json(doc)

    def expect(
        self, page_origin: str, api_origin: str, browser: str = REFERENCE_BROWSER
    ) -> Prediction:
        """What the browser does with the lesson's scenario: the lesson's expected behaviour."""
        return predict(self.scenario(page_origin, api_origin), browser)

    @property
    def whole_fetch(self) -> bool:
        """Whether the lesson follows redirects (or sets a redirect mode): a run needs its
        hops answered at its own URL."""
        return bool(self.hops) or self.request.get("redirect", "follow") != "follow"

    def answer(self, page_origin: str, api_origin: str) -> str:
        """The correct answer to the question, read off the engine's prediction."""
        return self.question.answer(self.expect(page_origin, api_origin))

    def text(self, sentence: str, page_origin: str, api_origin: str) -> str:
        """A sentence with the learner's real origins filled in (plain text, not escaped)."""
        parts = urlsplit(page_origin)
        values = {
            ORIGIN: page_origin,
            API: api_origin,
            HOST: parts.hostname or "",
            PORT: str(parts.port or ""),
            ATTACKER: self.attacker(page_origin) if self.attacker else "",
        }
        for key, value in values.items():
            sentence = sentence.replace(key, value)
        return sentence


def expected_fields(prediction: Prediction) -> dict[str, Any]:
    """The behaviour a lesson expects, in the fields the browser harness compares."""
    request = prediction.preflight_request
    return {
        "preflight": prediction.preflight,
        "access-control-request-method": None
        if request is None
        else request.header(REQUEST_METHOD),
        "access-control-request-headers": None
        if request is None
        else request.header(REQUEST_HEADERS),
        "actual_request_sent": prediction.actual_request_sent,
        "outcome": prediction.outcome,
        "blocked_by": prediction.blocked_by,
        "readable_headers": list(prediction.readable_headers),
    }


def is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def catalogue_slugs(lessons: Sequence[Lesson]) -> dict[str, Lesson]:
    """Lessons by slug; a repeated slug is a programming error."""
    found: dict[str, Lesson] = {}
    for lesson in lessons:
        if lesson.slug in found:
            raise ValueError(f"two lessons are named {lesson.slug!r}")
        found[lesson.slug] = lesson
    return found


def relevant_headers(
    headers: Sequence[tuple[str, str]], focus: Sequence[str] = (), *, response: bool = False
) -> list[tuple[str, str]]:
    """The header lines that decide a CORS exchange: ``Origin``, every ``Access-Control-*``
    line, ``Vary`` on a response, and the lesson's own focus headers, in wire order."""
    wanted = {name.lower() for name in focus}
    shown = []
    for name, value in headers:
        key = name.lower()
        if (
            key.startswith("access-control-")
            or key in wanted
            or (key == "origin" and not response)
            or (key == "vary" and response)
        ):
            shown.append((name, value))
    return shown
