"""Rendering shared by both origins: one partial serves the page and the live fragment."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.templating import Jinja2Templates

from app.cors import PROFILES, Scenario
from app.cors.engines import ENGINES, compare_engines
from app.cors.scenario import OUTCOME_EFFECTS
from app.fix.sequence import build_sequence, visible
from app.fix.understand import understand
from app.fix.wire import raw_legs
from app.runs.share import share_url
from app.runs.store import Exchange, Run
from app.runs.validation import dom_id

CARD = "partials/run_card.html"
CONSOLE_ENTRY = "partials/console_entry.html"


def setup(templates: Jinja2Templates) -> None:
    """Filters and globals the templates use."""
    env = templates.env
    env.filters["dom_id"] = dom_id
    env.filters["visible"] = visible
    env.globals["understand"] = understand
    env.globals["fix_link"] = fix_url
    env.globals["understand_run"] = understand_run
    env.globals["OUTCOME_WORDS"] = OUTCOME_EFFECTS
    env.globals["engine_choices"] = [(name, PROFILES[name].label) for name in ENGINES]
    env.trim_blocks = True
    env.lstrip_blocks = True


def card_context(run: Run) -> dict[str, Any]:
    preflights = run.preflights
    actuals = run.actuals
    return {
        "run": run,
        "prediction": run.prediction,
        "preflights": preflights,
        "actuals": actuals,
        "engine_differences": compare_engines(run.scenario, run.prediction.browser),
    }


def understand_run(run: Run) -> dict[str, Any]:
    """The run's sequence diagram, raw legs, explanation and fix, for the partials the run card
    includes (sequence.html, raw_http.html, fix.html)."""
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
        "fix_url": fix_url(understanding.fix.scenario, run.session_id),
    }


def fix_url(scenario: Scenario, session_id: str | None = None) -> str:
    """A link that opens ``scenario`` in the composer (of this session, when given)."""
    return share_url(scenario, session_id)


def card_html(templates: Jinja2Templates, run: Run) -> str:
    return templates.get_template(CARD).render(card_context(run))


def console_entry_html(templates: Jinja2Templates, run: Run, exchange: Exchange) -> str:
    """One exchange as the server console lists it (the page and the live event)."""
    return templates.get_template(CONSOLE_ENTRY).render(run=run, exchange=exchange)
