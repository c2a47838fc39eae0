"""Rendering shared by both origins: one partial serves the page and the live fragment."""

from __future__ import annotations

from typing import Any

from starlette.templating import Jinja2Templates

from app.cors import PROFILES
from app.cors.engines import ENGINES, compare_engines
from app.web.runs import Exchange, Run
from app.web.validation import dom_id
from app.web.verdict import OUTCOME_WORDS

CARD = "partials/run_card.html"
CONSOLE_ENTRY = "partials/console_entry.html"


def setup(templates: Jinja2Templates) -> None:
    """Filters and globals the templates use."""
    env = templates.env
    env.filters["dom_id"] = dom_id
    env.globals["OUTCOME_WORDS"] = OUTCOME_WORDS
    env.globals["engine_choices"] = [(name, PROFILES[name].label) for name in ENGINES]
    env.trim_blocks = True
    env.lstrip_blocks = True


def card_context(run: Run) -> dict[str, Any]:
    preflights = [e for e in run.exchanges if e.kind == "preflight"]
    actuals = [e for e in run.exchanges if e.kind == "actual"]
    return {
        "run": run,
        "prediction": run.prediction,
        "preflights": preflights,
        "actuals": actuals,
        "engine_differences": compare_engines(run.scenario, run.prediction.browser),
    }


def card_html(templates: Jinja2Templates, run: Run) -> str:
    return templates.get_template(CARD).render(card_context(run))


def console_entry_html(templates: Jinja2Templates, run: Run, exchange: Exchange) -> str:
    """One exchange as the server console lists it (the page and the live event)."""
    return templates.get_template(CONSOLE_ENTRY).render(run=run, exchange=exchange)
