"""Predict first: the questions asked before a send, and after it the learner's answers, what
the browser did and the engine's answer for each browser, with the deviations that part them."""

from __future__ import annotations

import pytest

from app.cors import PROFILES
from app.cors import predict as engine_predict
from app.labs import cache, predict, redirects
from app.runs.errors import BadRequest
from app.runs.store import Run, RunStore, Session
from tests.labs.conftest import PAIR, new_session, record, settle, stored
from tests.labs.test_redirects import _arrive


def test_every_question_must_be_answered_with_one_of_its_choices() -> None:
    assert predict.read_guess(
        "redirects", {"guess_outcome": "rejects", "guess_origin": "none"}
    ) == (("outcome", "rejects"), ("origin", "none"))
    assert predict.read_guess("cookies", {}) == ()
    for form, field in (
        ({}, "guess_outcome"),
        ({"guess_outcome": "resolves"}, "guess_origin"),
        ({"guess_outcome": "perhaps", "guess_origin": "null"}, "guess_outcome"),
    ):
        with pytest.raises(BadRequest) as refused:
            predict.read_guess("redirects", form)
        assert refused.value.field == field and refused.value.status == 422
        assert refused.value.message.startswith("answer first: ")


def _redirect(form: dict[str, str], guess: tuple[tuple[str, str], ...]) -> tuple[RunStore, Run]:
    store, session = new_session()
    made = redirects.new_run(PAIR, form)
    run = store.add_run(
        session, made.scenario, engine_predict(made.scenario), run_id=made.id,
        target=made.scenario.url, hops=made.hops, guess=guess,
    )  # fmt: skip
    return store, run


def test_nothing_is_revealed_before_fetch_settles() -> None:
    _, run = _redirect({"destination": "cross"}, (("outcome", "resolves"), ("origin", "null")))
    assert predict.redirect_reveal(run, PROFILES["chromium"]) is None


def test_the_redirect_reveal_scores_the_answers_and_gives_each_engines() -> None:
    guess = (("outcome", "resolves"), ("origin", "page"))
    store, run = _redirect({"destination": "cross", "allow": "null", "header": "1"}, guess)
    # Chromium: the hop's preflight and request both carry Origin: null, and null is allowed.
    _arrive(store, run, 0, "GET", PAIR.page)
    _arrive(store, run, 1, "GET", "null")
    settle(run, "allowed")
    reveal = predict.redirect_reveal(run, PROFILES["chromium"])
    assert reveal is not None
    assert [(a.question.name, a.guess, a.observed, a.right) for a in reveal.answers] == [
        ("outcome", "resolves", "resolves", True),
        ("origin", "page", "null", False),
    ]
    assert reveal.score == (1, 2) and reveal.agrees is True
    answers = {e.engine: e.values for e in reveal.engines}
    assert answers == {
        "chromium": ("resolves", "null"),
        "firefox": ("rejects", "page"),  # its hop preflight keeps the page's origin
        "webkit": ("resolves", "null"),
        "spec": ("resolves", "null"),
    }
    assert [e.engine for e in reveal.engines if e.yours] == ["chromium"]
    firefox = next(p for p in reveal.partings if p.label == "Firefox")
    assert ("Firefox", PROFILES["firefox"].deviation("tainted-preflight-origin")) in (
        firefox.deviations
    )
    assert not any(p.label == "the Fetch Standard" for p in reveal.partings)


def test_a_browser_that_does_otherwise_than_its_prediction_is_a_finding() -> None:
    store, run = _redirect({"destination": "cross", "allow": "page"}, ())
    _arrive(store, run, 0, "GET", PAIR.page)
    _arrive(store, run, 1, "GET", PAIR.page)  # not tainted: not what any engine predicts
    settle(run, "allowed")
    reveal = predict.redirect_reveal(run, PROFILES["webkit"])
    assert reveal is not None and reveal.agrees is False
    assert [a.guess for a in reveal.answers] == [None, None] and reveal.score == (0, 2)


def _cache_series(
    max_age: str, gaps: list[float], observed: list[str], browser: str
) -> list[cache.CacheSend]:
    store, session = new_session()
    runs: list[Run] = []
    at = 1000.0
    for number, (gap, seen) in enumerate(zip(gaps, observed, strict=True), start=1):
        form = {"series": runs[0].id} if runs else {"max_age": "seconds", "seconds": max_age}
        run = _cache_run(store, session, form, runs, guess="yes" if number == 1 else "no")
        at += gap
        if seen == "miss":
            record(store, run, "preflight", at=at, method="OPTIONS", path="/r/x")
        record(store, run, "actual", at=at + 0.01, method="PUT", path="/r/x")
        settle(run, "allowed")
        runs.append(run)
    return list(reversed(cache.cache_series(runs, PROFILES[browser], at).sends))


def _cache_run(
    store: RunStore, session: Session, form: dict[str, str], runs: list[Run], guess: str
) -> Run:
    made = cache.new_run(PAIR, form, runs)
    run = stored(store, session, made)
    run.guess = (("preflight", guess),)
    return run


def test_each_cache_send_reveals_every_engines_prediction_of_the_series() -> None:
    sends = _cache_series("30", [0, 2, 40], ["miss", "hit", "miss"], "chromium")
    reveals = [s.reveal for s in sends]
    assert all(r is not None for r in reveals)
    values = [{e.engine: e.values[0] for e in r.engines} for r in reveals if r]
    assert values == [dict.fromkeys(("chromium", "firefox", "webkit", "spec"), v)
                      for v in ("yes", "no", "yes")]  # fmt: skip
    assert [(r.answers[0].guess, r.answers[0].right) for r in reveals if r] == [
        ("yes", True), ("no", True), ("no", False),
    ]  # fmt: skip
    assert all(r.agrees for r in reveals if r)


def test_where_caps_differ_the_cache_reveal_says_how_long_each_engine_keeps_it() -> None:
    # Max-Age 100000: WebKit keeps it 600 s, Chromium 7200 s, Firefox 86400 s.
    sends = _cache_series("100000", [0, 700], ["miss", "hit"], "chromium")
    reveal = sends[1].reveal
    assert reveal is not None
    assert {e.engine: e.values[0] for e in reveal.engines} == {
        "chromium": "no", "firefox": "no", "webkit": "yes", "spec": "no",
    }  # fmt: skip
    [webkit] = reveal.partings
    assert webkit.label == "WebKit"
    assert webkit.sentence.startswith("WebKit would send a preflight here; Chromium would not")
    assert "at most 600 s" in webkit.sentence and "at most 7200 s" in webkit.sentence


def test_a_send_still_running_reveals_nothing() -> None:
    store, session = new_session()
    first = _cache_run(store, session, {}, [], "yes")
    [send] = cache.cache_series([first], PROFILES["firefox"], 0.0).sends
    assert send.reveal is None
