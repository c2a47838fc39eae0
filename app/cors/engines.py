"""Engines side by side: where Chromium, Firefox, WebKit and the Fetch Standard part ways on
one scenario, in sentences a learner can read ("Firefox would send a preflight here; Chromium
does not, because ...")."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from app.cors.browser import predict
from app.cors.profiles import PROFILES, Deviation, Profile, get_profile
from app.cors.scenario import OUTCOME_VERBS, Prediction, Scenario

ENGINES = ("chromium", "firefox", "webkit", "spec")


@dataclass(frozen=True)
class EngineDifference:
    """How another engine (or the standard) handles the scenario differently from ``browser``."""

    engine: str
    label: str
    sentence: str
    # The recorded deviations (of either side) that make the difference, with their evidence.
    deviations: tuple[tuple[str, Deviation], ...]


def compare_engines(scenario: Scenario, browser: str) -> tuple[EngineDifference, ...]:
    """Each other engine whose prediction differs from ``browser``'s, with the reason and the
    deviations that cause it."""
    me = get_profile(browser)
    mine = predict(scenario, me)
    found: list[EngineDifference] = []
    for engine in ENGINES:
        if engine == browser:
            continue
        other = PROFILES[engine]
        theirs = predict(scenario, other)
        sentence = _difference(other.label, theirs, me.label, mine)
        if sentence is None:
            continue
        switches = _explaining_switches(scenario, me, other, mine)
        found.append(
            EngineDifference(
                engine,
                other.label,
                sentence,
                tuple(
                    (p.label, d) for p in (me, other) for d in p.deviations if d.switch in switches
                ),
            )
        )
    return tuple(found)


_SWITCHES = tuple(
    f.name
    for f in fields(Profile)
    if f.name not in ("name", "label", "deviations", "max_age_default", "max_age_cap")
)


def _signature(p: Prediction) -> tuple[object, ...]:
    request = p.preflight_request
    return (
        p.preflight,
        request.headers if request else None,
        p.outcome,
        p.blocked_by,
        p.readable_headers,
    )


def _explaining_switches(
    scenario: Scenario, me: Profile, other: Profile, mine: Prediction
) -> set[str]:
    """The profile switches whose other-engine value alone changes this prediction."""
    found = set()
    for name in _SWITCHES:
        theirs = getattr(other, name)
        if getattr(me, name) != theirs:
            variant = replace(me, **{name: theirs})
            if _signature(predict(scenario, variant)) != _signature(mine):
                found.add(name)
    return found


def _because(prediction: Prediction) -> str:
    if prediction.failed_step is not None:
        return prediction.failed_step.detail
    if prediction.preflight_reasons:
        return "; ".join(prediction.preflight_reasons)
    return "every check passes"


def _difference(they: str, theirs: Prediction, we: str, mine: Prediction) -> str | None:
    if theirs.preflight != mine.preflight:
        if theirs.preflight:
            return f"{they} would send a preflight here; {we} does not. {they}: " + "; ".join(
                theirs.preflight_reasons
            )
        return f"{they} would send no preflight here; {we} does, because " + "; ".join(
            mine.preflight_reasons
        )
    if theirs.preflight_request and mine.preflight_request:
        name = "Access-Control-Request-Headers"
        their_value = theirs.preflight_request.header(name)
        my_value = mine.preflight_request.header(name)
        if their_value != my_value:
            return (
                f"{they} would ask for {name}: {their_value or '(none)'}; "
                f"{we} asks for {my_value or '(none)'}"
            )
    if theirs.outcome != mine.outcome:
        return (
            f"{they} would {OUTCOME_VERBS[theirs.outcome]}; {we} would "
            f"{OUTCOME_VERBS[mine.outcome]}. {they}: {_because(theirs)}"
        )
    if theirs.readable_headers != mine.readable_headers:
        return (
            f"{they} would let JavaScript read {', '.join(theirs.readable_headers) or 'nothing'}; "
            f"{we}: {', '.join(mine.readable_headers) or 'nothing'}"
        )
    return None
