"""Engines side by side: where Chromium, Firefox, WebKit and the Fetch Standard part ways on
one scenario, in sentences a learner can read ("Firefox would send a preflight here; Chromium
does not, because ..."), down to every leg of a whole fetch; and which recorded deviations
explain any difference (``explaining_deviations``, also for a sequence's preflight cache)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace

from app.cors.browser import predict
from app.cors.profiles import PROFILES, Deviation, Profile, get_profile
from app.cors.scenario import OUTCOME_VERBS, Leg, Prediction, Scenario

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
        deviations = explaining_deviations(
            me, other, lambda profile: _signature(predict(scenario, profile))
        )
        found.append(EngineDifference(engine, other.label, sentence, deviations))
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
        _shape(p.legs),
        p.redirected,
        p.response_url,
    )


def explaining_deviations(
    me: Profile, other: Profile, signature: Callable[[Profile], object]
) -> tuple[tuple[str, Deviation], ...]:
    """The recorded deviations (of either side) behind the profile switches whose ``other``
    value alone changes what ``signature`` says of ``me``."""
    mine = signature(me)
    switches = set()
    for name in _SWITCHES:
        theirs = getattr(other, name)
        if getattr(me, name) != theirs and signature(replace(me, **{name: theirs})) != mine:
            switches.add(name)
    return tuple((p.label, d) for p in (me, other) for d in p.deviations if d.switch in switches)


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
    their_legs, my_legs = _shape(theirs.legs), _shape(mine.legs)
    if their_legs != my_legs:
        at = next(
            i for i in range(max(len(their_legs), len(my_legs)))
            if their_legs[i : i + 1] != my_legs[i : i + 1]
        )  # fmt: skip
        return (
            f"{they} would send, as leg {at + 1} of the fetch, {_leg_words(theirs.legs, at)}; "
            f"{we}: {_leg_words(mine.legs, at)}"
        )
    if theirs.redirected != mine.redirected or theirs.response_url != mine.response_url:
        return (
            f"{they} would give response.url {theirs.response_url or '(none)'}; "
            f"{we}: {mine.response_url or '(none)'}"
        )
    if theirs.readable_headers != mine.readable_headers:
        return (
            f"{they} would let JavaScript read {', '.join(theirs.readable_headers) or 'nothing'}; "
            f"{we}: {', '.join(mine.readable_headers) or 'nothing'}"
        )
    return None


def _shape(legs: tuple[Leg, ...]) -> tuple[tuple[object, ...], ...]:
    """Where each leg goes, as what, from which origin: the legs as a learner compares them."""
    return tuple((leg.kind, leg.url, leg.method, leg.origin, leg.body) for leg in legs)


def _leg_words(legs: tuple[Leg, ...], at: int) -> str:
    if at >= len(legs):
        return "nothing more"
    leg = legs[at]
    what = "a preflight" if leg.kind == "preflight" else leg.method
    origin = leg.origin
    return f"{what} to {leg.url}" + (f" with Origin: {origin}" if origin is not None else "")
