"""Rendering shared by both origins: one partial serves the page and the live fragment.

Templates only lay out what a handler computed: the run card's sequence diagram, raw legs,
explanation and fix are built here and passed in, never called from a template.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from jinja2 import meta
from markupsafe import Markup, escape
from starlette.templating import Jinja2Templates

from app.cors import PROFILES, Prediction, Scenario
from app.cors.engines import ENGINES, EngineDifference, compare_engines
from app.cors.scenario import OUTCOME_EFFECTS
from app.fix.sequence import build_sequence, outcome_line, prediction_line, visible
from app.fix.understand import understand
from app.fix.wire import raw_legs
from app.runs.answers import added_readable_headers
from app.runs.privacy import public_run
from app.runs.share import share_url
from app.runs.store import Exchange, Run
from app.runs.validation import dom_id, field_label

_CODE = re.compile(r"`([^`]+)`")


def rich(text: str) -> Markup:
    """Escaped text with `backticks` as <code> (as the attack lab and the lessons write it)."""
    return Markup(_CODE.sub(r"<code>\1</code>", str(escape(text))))


CARD = "partials/run_card.html"
LEG = "partials/leg_update.html"
# Views that depend only on the scenario and the engine, kept for the scenarios seen most
# recently: a room of attendees sends the same few, and a card is rendered more than once.
VIEWS_CACHED = 512
CONSOLE_ENTRY = "api_origin/console_entry.html"
#: The templates of live events: compiled at startup, so the first leg a learner's browser
#: sends is not the one that waits for them (about 20 ms).
LIVE_TEMPLATES = (CARD, LEG, CONSOLE_ENTRY)


def setup(templates: Jinja2Templates) -> None:
    """Filters and constants the templates use (no domain work: handlers compute views)."""
    env = templates.env
    env.filters["dom_id"] = dom_id
    env.filters["field_label"] = field_label
    env.filters["visible"] = visible
    env.globals["OUTCOME_WORDS"] = OUTCOME_EFFECTS
    env.globals["engine_choices"] = [(name, PROFILES[name].label) for name in ENGINES]
    env.trim_blocks = True
    env.lstrip_blocks = True
    # The templates ship with the playground and do not change under a running server: no
    # stat() of every template (and of each one it imports) on every render.
    env.auto_reload = False


@functools.lru_cache(maxsize=VIEWS_CACHED)
def engine_differences(scenario: Scenario, browser: str) -> tuple[EngineDifference, ...]:
    return compare_engines(scenario, browser)


def card_context(run: Run, *, own: bool = False) -> dict[str, Any]:
    """Everything the run card shows, computed once. ``own``: for the pages of the run's own
    session (every header as it arrived, the fix opened in that session); otherwise for anyone
    holding the run's id (no session, the browser's credentials redacted)."""
    if not own:
        run = public_run(run)
    return {
        "run": run,
        "prediction": run.prediction,
        "preflights": run.preflights,
        "actuals": run.actuals,
        "engine_differences": engine_differences(run.scenario, run.prediction.browser),
        "understood": understand_run(run),
        "framing_readable": added_readable_headers(run.scenario, run.prediction),
        "outcome_line": outcome_line(
            run.prediction,
            None if run.browser_result is None else run.browser_result.outcome,
            None if run.browser_result is None else run.browser_result.status,
        ),
    }


def understand_run(run: Run) -> dict[str, Any]:
    """The run's sequence diagram, raw legs, explanation and fix, for the partials the run card
    includes (sequence.html, raw_http.html, fix.html). The fix opens in the run's session when
    it names one, else in a new session."""
    result = run.browser_result
    understanding = understand(run.scenario, run.prediction.browser)
    return {
        "sequence": build_sequence(
            run.prediction,
            run.exchanges,
            outcome=None if result is None else result.outcome,
            done=result is not None,
            method=run.scenario.request.method,
            path=urlsplit(run.target).path,
        ),
        "raw_legs": raw_legs(run.exchanges),
        "understanding": understanding,
        "fix_url": share_url(understanding.fix.scenario, run.session_id or None),
    }


def prediction_context(scenario: Scenario | None, prediction: Prediction | None) -> dict[str, Any]:
    """The composer's prediction panel: the engines' differences, the explanation and fix."""
    if scenario is None or prediction is None:
        return {
            "prediction": prediction,
            "engine_differences": (),
            "understanding": None,
            "framing_readable": (),
            "announce": None,
        }
    understanding = understand(scenario, prediction.browser)
    return {
        "prediction": prediction,
        "engine_differences": engine_differences(scenario, prediction.browser),
        "understanding": understanding,
        "fix_url": share_url(understanding.fix.scenario),
        "framing_readable": added_readable_headers(scenario, prediction),
        "announce": prediction_line(prediction),
    }


def warm(templates: Jinja2Templates, names: Iterable[str]) -> None:
    """Compile ``names`` and every template they include, import or extend."""
    env = templates.env
    todo, seen = list(names), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        env.get_template(name)
        source = env.loader.get_source(env, name)[0] if env.loader else ""
        todo.extend(n for n in meta.find_referenced_templates(env.parse(source)) if n)


def card_html(templates: Jinja2Templates, run: Run, *, own: bool = False) -> Markup:
    """The run's card; ``own`` for its own session's pages (see ``card_context``)."""
    return Markup(templates.get_template(CARD).render(card_context(run, own=own)))


def cards_html(templates: Jinja2Templates, runs: list[Run], *, own: bool = False) -> list[Markup]:
    """The cards of several runs, in the order given."""
    return [card_html(templates, run, own=own) for run in runs]


def leg_html(templates: Jinja2Templates, run: Run, exchange: Exchange) -> str:
    """One leg that just arrived, for the pages of the run's session: the card's own exchange
    partial in a wrapper that names the run, its version and how many legs it now has (a few
    hundred bytes instead of the whole card)."""
    return templates.get_template(LEG).render(run=run, exchange=exchange)


def console_entry_html(templates: Jinja2Templates, run: Run, exchange: Exchange) -> str:
    """One exchange as the server console lists it (the page and the live event)."""
    return templates.get_template(CONSOLE_ENTRY).render(run=run, exchange=exchange)
