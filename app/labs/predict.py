"""Predict first: the questions a learner answers before a lab sends, and after the send what
the learner's browser did, the engine's answer for each browser, and where the browsers part
ways (the deviations behind it, with their evidence, from app/cors/profiles.py).

The engine's answers stay hidden until the learner's ``fetch()`` has settled: the card reveals
them next to the learner's answer and the browser's own behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.cors import (
    FetchSequence,
    Prediction,
    Profile,
    Scenario,
    SequenceItem,
    predict,
    predict_sequence,
)
from app.cors.engines import ENGINES, compare_engines, explaining_deviations
from app.cors.profiles import PROFILES, Deviation
from app.labs.registry import Form
from app.runs.errors import BadRequest
from app.runs.store import Run


@dataclass(frozen=True)
class Question:
    """One question a predict-first lab asks before sending (form field ``guess_<name>``)."""

    name: str
    short: str  # a column heading
    text: str
    choices: tuple[tuple[str, str], ...]  # (value, words)

    @property
    def field(self) -> str:
        return f"guess_{self.name}"

    def words(self, value: str | None) -> str:
        return dict(self.choices).get(value or "", "no answer")


OUTCOME = Question(
    "outcome",
    "fetch()",
    "What will fetch() give the page?",
    (
        ("resolves", "it resolves: JavaScript reads the answer"),
        ("rejects", "it rejects with a TypeError"),
    ),
)
LAST_ORIGIN = Question(
    "origin",
    "Last Origin",
    "Which Origin does the last request that reaches the API origin carry (preflights aside)?",
    (
        ("page", "the page's origin"),
        ("null", "null"),
        ("none", "none: only a preflight arrives"),
    ),
)
PREFLIGHT = Question(
    "preflight",
    "Preflight?",
    "Will a preflight reach the API origin before this send?",
    (
        ("yes", "yes: a preflight first"),
        ("no", "no: the browser answers it from its preflight cache"),
    ),
)

QUESTIONS: dict[str, tuple[Question, ...]] = {
    "redirects": (OUTCOME, LAST_ORIGIN),
    "cache": (PREFLIGHT,),
}


def read_guess(lab: str, form: Form) -> tuple[tuple[str, str], ...]:
    """The learner's answers to ``lab``'s questions, each required before sending."""
    answers = []
    for question in QUESTIONS.get(lab, ()):
        value = form.get(question.field, "")
        values = [v for v, _ in question.choices]
        if value not in values:
            raise BadRequest(
                422,
                f"answer first: {question.text} (one of {', '.join(values)})",
                question.field,
            )
        answers.append((question.name, value))
    return tuple(answers)


@dataclass(frozen=True)
class Answer:
    """One question after the send: the learner's answer and what the browser did."""

    question: Question
    guess: str | None
    observed: str | None  # None while nothing tells

    @property
    def right(self) -> bool | None:
        return None if self.observed is None else self.guess == self.observed


@dataclass(frozen=True)
class EngineAnswer:
    """The engine's answers for one browser (or the Fetch Standard)."""

    engine: str
    label: str
    values: tuple[str, ...]  # one per question
    summary: str
    yours: bool


@dataclass(frozen=True)
class Parting:
    """Another engine that would answer differently from the learner's browser, and why."""

    label: str
    sentence: str
    deviations: tuple[tuple[str, Deviation], ...]


@dataclass(frozen=True)
class Reveal:
    """Everything the card shows once the send has settled."""

    answers: tuple[Answer, ...]
    engines: tuple[EngineAnswer, ...]
    # The learner's browser did what the engine predicts for it (None: unknown browser).
    agrees: bool | None
    partings: tuple[Parting, ...]

    @property
    def score(self) -> tuple[int, int]:
        counted = [a for a in self.answers if a.right is not None]
        return sum(1 for a in counted if a.right), len(counted)


def _guess(run: Run, question: Question) -> str | None:
    return dict(run.guess).get(question.name)


# --- redirects ------------------------------------------------------------------------------


def origin_answer(origin: str | None, page: str) -> str:
    if origin is None:
        return "none"
    return "page" if origin == page else "null"


def predicted_redirect_answers(prediction: Prediction, page: str) -> tuple[str, str]:
    """The answers to OUTCOME and LAST_ORIGIN that ``prediction`` gives."""
    outcome = "rejects" if prediction.outcome in ("blocked", "error") else "resolves"
    actuals = [leg for leg in prediction.legs if leg.kind == "actual"]
    return outcome, origin_answer(actuals[-1].origin if actuals else None, page)


def _redirect_summary(prediction: Prediction) -> str:
    actuals = [leg for leg in prediction.legs if leg.kind == "actual"]
    preflights = len(prediction.legs) - len(actuals)
    parts = [f"{len(actuals)} request{'s' if len(actuals) != 1 else ''}"]
    if preflights:
        parts.append(f"{preflights} preflight{'s' if preflights != 1 else ''}")
    if actuals:
        parts.append(f"the last as {actuals[-1].method}")
    verdict = prediction.blocked_by or ("resolves" if prediction.outcome == "allowed" else "")
    return ", ".join(parts) + (f"; {verdict}" if verdict else "")


def redirect_reveal(run: Run, profile: Profile) -> Reveal | None:
    """The redirects lab's reveal for ``run`` (None until its fetch() settled)."""
    result = run.browser_result
    if result is None:
        return None
    scenario, page = run.scenario, run.scenario.origin
    questions = QUESTIONS["redirects"]
    actuals = run.actuals
    observed = (
        "rejects" if result.outcome in ("blocked", "error") else "resolves",
        origin_answer(actuals[-1].request.header("origin") if actuals else None, page),
    )
    answers = tuple(
        Answer(q, _guess(run, q), seen) for q, seen in zip(questions, observed, strict=True)
    )
    engines = []
    mine: tuple[str, ...] | None = None
    for engine in ENGINES:
        prediction = predict(scenario, engine)
        values = predicted_redirect_answers(prediction, page)
        yours = engine == profile.name
        if yours:
            mine = values
        engines.append(
            EngineAnswer(
                engine, PROFILES[engine].label, values, _redirect_summary(prediction), yours
            )
        )
    partings = tuple(
        Parting(d.label, d.sentence, d.deviations)
        for d in compare_engines(scenario, profile.name)
        if d.engine != "spec" or profile.name == "spec"
    )
    return Reveal(answers, tuple(engines), None if mine is None else mine == observed, partings)


# --- the preflight cache --------------------------------------------------------------------


def cache_answer(prediction: Prediction) -> str:
    """PREFLIGHT's answer: a preflight is sent unless the cache answers it."""
    return "no" if prediction.preflight_cache == "hit" else "yes"


def _cache_answers(sequence: FetchSequence, profile: Profile) -> tuple[str, ...]:
    return tuple(cache_answer(p) for p in predict_sequence(sequence, profile).predictions)


def _cache_words(label: str, value: str) -> str:
    if value == "yes":
        return f"{label} would send a preflight here"
    return f"{label} would answer this send from its preflight cache"


def _lifetime(profile: Profile) -> str:
    cap = "no cap" if profile.max_age_cap is None else f"at most {profile.max_age_cap} s"
    return f"{profile.max_age_default} s without Access-Control-Max-Age, {cap}"


def cache_reveals(
    runs: Sequence[Run],
    started: Callable[[Run], float],
    observed: Sequence[str | None],
    profile: Profile,
) -> list[Reveal | None]:
    """The preflight-cache lab's reveal for each send to one URL (``runs``, oldest first),
    each settled send's timing given by ``started``; ``observed`` says what each send showed
    (``yes``: a preflight arrived, ``no``: only the request, None: nothing yet)."""
    reveals: list[Reveal | None] = []
    times: list[float] = []
    for run in runs:
        at = started(run)
        times.append(max(at, times[-1]) if times else at)
    first = times[0] if times else 0.0
    items = [(round(t - first, 3), run.scenario) for t, run in zip(times, runs, strict=True)]
    question = PREFLIGHT
    for index, run in enumerate(runs):
        seen = observed[index]
        if run.browser_result is None or seen is None:
            reveals.append(None)
            continue
        sequence = _sequence(items[: index + 1])
        per_engine = {engine: _cache_answers(sequence, PROFILES[engine]) for engine in ENGINES}
        engines = tuple(
            EngineAnswer(
                engine,
                PROFILES[engine].label,
                (values[-1],),
                "preflight sent" if values[-1] == "yes" else "cache hit: no preflight",
                engine == profile.name,
            )
            for engine, values in per_engine.items()
        )
        mine = per_engine.get(profile.name)
        partings = []
        if mine is not None:
            for engine in ENGINES:
                other = PROFILES[engine]
                theirs = per_engine[engine]
                if engine in (profile.name, "spec") or theirs[-1] == mine[-1]:
                    continue
                sentence = f"{_cache_words(other.label, theirs[-1])}; {profile.label} would not"
                if (other.max_age_default, other.max_age_cap) != (
                    profile.max_age_default, profile.max_age_cap
                ):  # fmt: skip
                    sentence += (
                        f". {other.label} keeps a preflight {_lifetime(other)}; "
                        f"{profile.label} {_lifetime(profile)}"
                    )
                deviations = explaining_deviations(profile, other, _signature_of(sequence))
                partings.append(Parting(other.label, sentence, deviations))
        answer = Answer(question, _guess(run, question), seen)
        reveals.append(
            Reveal(
                (answer,),
                engines,
                None if mine is None else mine[-1] == seen,
                tuple(partings),
            )
        )
    return reveals


def _signature_of(sequence: FetchSequence) -> Callable[[Profile], object]:
    return lambda profile: _cache_answers(sequence, profile)


def _sequence(items: Sequence[tuple[float, Scenario]]) -> FetchSequence:
    return FetchSequence(tuple(SequenceItem(at, scenario) for at, scenario in items))
