"""What a room asks: a scenario and a predict-first question about it, with the right answer
for each engine read off the engine's predictions (never typed in).

The scenario travels as a scenario document whose header values say ``{page-origin}`` where
the page's origin belongs, so each attendee's browser sends it from its own page's origin.
Questions from a lesson are built by the web layer (it reads the lesson's own question) and
arrive here as a :class:`QuestionSpec` like any other.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.cors import Prediction, Scenario
from app.cors.engines import ENGINES
from app.cors.scenario import OUTCOME_EFFECTS

#: Stands for the origin of the attendee's page in a header value (as in share links).
PAGE_ORIGIN = "{page-origin}"
#: The engine whose answer the room shows as the expected one; each attendee's answer is
#: marked against their own browser's engine.
REFERENCE_ENGINE = "chromium"
SOURCES = ("composer", "lesson", "classic", "attack")

Choice = tuple[str, str]  # (value, words)

YES_NO: tuple[Choice, ...] = (("yes", "Yes"), ("no", "No"))
OUTCOME_CHOICES: tuple[Choice, ...] = tuple(
    (outcome, OUTCOME_EFFECTS[outcome]) for outcome in ("allowed", "blocked", "opaque", "error")
)
# Which check fails: the engine's step names, in the order the browser runs them.
CHECK_CHOICES: tuple[Choice, ...] = (
    ("none", "None: no check fails"),
    ("before-sending", "None is reached: fetch() refuses the request before sending it"),
    ("preflight-status", "The preflight's status (it must be 200-299)"),
    ("preflight-cors-check", "The preflight's Access-Control-Allow-Origin (or -Credentials)"),
    ("allow-methods", "The preflight's Access-Control-Allow-Methods"),
    ("allow-headers", "The preflight's Access-Control-Allow-Headers"),
    ("cors-check", "The response's Access-Control-Allow-Origin (or -Credentials)"),
)

#: The question kinds any scenario can be asked with: (prompt, choices).
KINDS: dict[str, tuple[str, tuple[Choice, ...]]] = {
    "preflight": ("Will the browser send a preflight?", YES_NO),
    "readable": ("Will JavaScript read the response?", YES_NO),
    "check": ("Which check fails?", CHECK_CHOICES),
    "outcome": ("What does fetch() do?", OUTCOME_CHOICES),
}
#: A lesson may also be asked with its own question.
LESSON_KIND = "lesson"
#: An attack is asked one way: does the attacker's script get the secret?
ATTACK_KIND = "attack"
ATTACK_PROMPT = "Will the attacker's page read the secret?"


def failed_check(prediction: Prediction) -> str:
    """The ``check`` choice a prediction answers."""
    if prediction.outcome == "error":
        return "before-sending"
    step = prediction.failed_step
    if prediction.outcome != "blocked" or step is None:
        return "none"
    if step.check == "preflight-parse":  # a malformed list: the header it is in
        return "allow-methods" if "allow-methods" in step.spec else "allow-headers"
    known = {value for value, _ in CHECK_CHOICES}
    return step.check if step.check in known else "none"


def answer_of(kind: str, prediction: Prediction) -> str:
    """The right answer to a question of ``kind`` (one of KINDS), read off a prediction."""
    if kind == "preflight":
        return "yes" if prediction.preflight else "no"
    if kind == "readable":
        return "yes" if prediction.outcome == "allowed" else "no"
    if kind == "check":
        return failed_check(prediction)
    if kind == "outcome":
        return prediction.outcome
    raise ValueError(f"unknown question kind {kind!r}")


@dataclass(frozen=True)
class QuestionSpec:
    """Everything a room needs to ask one question, computed once when it is asked."""

    source: str
    title: str
    kind: str
    prompt: str
    choices: tuple[Choice, ...]
    #: The right answer for each engine (chromium, firefox, webkit, spec).
    answers: Mapping[str, str]
    #: What each engine predicts fetch() does (allowed, blocked...).
    outcomes: Mapping[str, str]
    #: The reference engine's prediction in one line, and how the other engines differ.
    why: str
    engine_notes: tuple[str, ...]
    #: The scenario document, ``{page-origin}`` in header values, without origin and URL.
    scenario: Mapping[str, Any] = field(default_factory=dict)
    #: The lesson it comes from (its scenario is then built from the lesson for each page).
    lesson: str | None = None
    #: The attack it asks about (``reflect-page``...): each attendee's browser then runs it
    #: from the attacker's page against the victim API, instead of sending the scenario.
    attack: str | None = None

    @property
    def expected(self) -> str:
        return self.answers[REFERENCE_ENGINE]

    def label(self, value: str) -> str:
        return next((words for v, words in self.choices if v == value), value)

    def answer_for(self, engine: str) -> str:
        """The right answer for an attendee whose browser is ``engine`` (a profile name)."""
        return self.answers.get(engine, self.expected)


def spec_for(
    source: str,
    title: str,
    kind: str,
    scenario: Scenario,
    predictions: Mapping[str, Prediction],
    *,
    why: str,
    engine_notes: tuple[str, ...] = (),
    lesson: str | None = None,
) -> QuestionSpec:
    """A question of one of KINDS about ``scenario``, whose ``predictions`` (one per engine
    of ENGINES) give the answers."""
    prompt, choices = KINDS[kind]
    return QuestionSpec(
        source=source,
        title=title,
        kind=kind,
        prompt=prompt,
        choices=choices,
        answers={engine: answer_of(kind, predictions[engine]) for engine in ENGINES},
        outcomes={engine: predictions[engine].outcome for engine in ENGINES},
        why=why,
        engine_notes=engine_notes,
        scenario=document(scenario),
        lesson=lesson,
    )


def reads_secret(prediction: Prediction, credentials: str) -> str:
    """The right answer to an attack question: the attacker's script reads the secret when the
    engine lets it read an answer its request asked for with the visitor's cookies (the
    browser's cookie rules may still keep the login cookie back: that is not CORS, and the
    room's results say so)."""
    return "yes" if prediction.outcome == "allowed" and credentials == "include" else "no"


def attack_spec(
    key: str,
    title: str,
    scenario: Scenario,
    predictions: Mapping[str, Prediction],
    *,
    why: str,
    engine_notes: tuple[str, ...],
    doc: Mapping[str, Any],
) -> QuestionSpec:
    """An attack question: will the attacker's page (``scenario.origin``) read the secret?
    ``doc`` is the scenario as the room shows it."""
    credentials = scenario.request.credentials
    return QuestionSpec(
        source="attack",
        title=title,
        kind=ATTACK_KIND,
        prompt=ATTACK_PROMPT,
        choices=YES_NO,
        answers={e: reads_secret(predictions[e], credentials) for e in ENGINES},
        outcomes={engine: predictions[engine].outcome for engine in ENGINES},
        why=why,
        engine_notes=engine_notes,
        scenario=dict(doc),
        attack=key,
    )


def document(scenario: Scenario) -> dict[str, Any]:
    """The scenario as a room keeps it: no origin or URL, the page's origin as
    ``{page-origin}`` wherever a header value holds it."""
    doc = scenario.to_json()
    page = doc.pop("origin", None)
    doc.pop("url", None)
    doc.pop("id", None)
    return with_origin(doc, page, PAGE_ORIGIN) if page else doc


def with_origin(doc: Mapping[str, Any], old: str, new: str) -> dict[str, Any]:
    """A copy of a scenario document with ``old`` replaced by ``new`` in every header value."""
    copied: dict[str, Any] = copy.deepcopy(dict(doc))
    for part in ("request", "preflight_response", "response"):
        section = copied.get(part)
        headers = section.get("headers") if isinstance(section, dict) else None
        if isinstance(headers, list):
            section["headers"] = [[n, v.replace(old, new)] for n, v in headers]  # type: ignore[index]
    return copied


def for_page(doc: Mapping[str, Any], page_origin: str) -> dict[str, Any]:
    """The scenario document as the page at ``page_origin`` sends it."""
    return with_origin(doc, PAGE_ORIGIN, page_origin)


@dataclass(frozen=True)
class Classic:
    """A classic server misconfiguration, asked the way that teaches it best."""

    key: str
    title: str
    kind: str
    scenario: Mapping[str, Any]


def _answer(status: int, *headers: tuple[str, str]) -> dict[str, Any]:
    return {"status": status, "headers": [list(h) for h in headers]}


ACAO = "Access-Control-Allow-Origin"
ACAC = "Access-Control-Allow-Credentials"
ACAM = "Access-Control-Allow-Methods"
ACAH = "Access-Control-Allow-Headers"
TEXT = ("Content-Type", "text/plain")

#: A short list of the misconfigurations every workshop meets.
CLASSICS: tuple[Classic, ...] = (
    Classic(
        "no-allow-origin",
        "The server sends no Access-Control-Allow-Origin",
        "readable",
        {"request": {"method": "GET"}, "response": _answer(200, TEXT)},
    ),
    Classic(
        "json-post",
        "A JSON POST to a server that answers OPTIONS without CORS headers",
        "check",
        {
            "request": {
                "method": "POST",
                "headers": [["Content-Type", "application/json"]],
                "body": '{"name": "Ada"}',
            },
            "preflight_response": _answer(200),
            "response": _answer(201, (ACAO, PAGE_ORIGIN), TEXT),
        },
    ),
    Classic(
        "custom-header",
        "A custom request header the preflight does not allow",
        "check",
        {
            "request": {"method": "GET", "headers": [["X-Api-Key", "secret"]]},
            "preflight_response": _answer(204, (ACAO, PAGE_ORIGIN), (ACAM, "GET")),
            "response": _answer(200, (ACAO, PAGE_ORIGIN), TEXT),
        },
    ),
    Classic(
        "preflight-404",
        "The preflight meets a route that only knows DELETE",
        "check",
        {
            "request": {"method": "DELETE"},
            "preflight_response": _answer(404, (ACAO, PAGE_ORIGIN)),
            "response": _answer(204, (ACAO, PAGE_ORIGIN)),
        },
    ),
    Classic(
        "wildcard-credentials",
        "Access-Control-Allow-Origin: * with credentials",
        "readable",
        {
            "request": {"method": "GET", "credentials": "include"},
            "response": _answer(200, (ACAO, "*"), (ACAC, "true"), TEXT),
        },
    ),
    Classic(
        "credentials-not-allowed",
        "Credentials without Access-Control-Allow-Credentials",
        "check",
        {
            "request": {"method": "GET", "credentials": "include"},
            "response": _answer(200, (ACAO, PAGE_ORIGIN), TEXT),
        },
    ),
    Classic(
        "trailing-slash",
        "An allowed origin with a trailing slash",
        "readable",
        {"request": {"method": "GET"}, "response": _answer(200, (ACAO, PAGE_ORIGIN + "/"), TEXT)},
    ),
    Classic(
        "method-case",
        "fetch() with method `patch` in lower case",
        "preflight",
        {
            "request": {"method": "patch", "body": "{}"},
            "preflight_response": _answer(204, (ACAO, PAGE_ORIGIN), (ACAM, "PATCH")),
            "response": _answer(200, (ACAO, PAGE_ORIGIN), TEXT),
        },
    ),
)
CLASSICS_BY_KEY = {classic.key: classic for classic in CLASSICS}
