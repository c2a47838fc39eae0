"""The labs' pages and routes: each lab is a page on the site origin within a session
(``/sessions/<sid>/labs/<lab>``) whose requests the learner's browser sends with plain
``fetch()`` (``static/js/lab.js``). The labs themselves (their runs, what arrived, the words
that explain it) are app/labs; this module finds the session, the page's origins and the
browser, stores the runs, and renders the cards (``templates/labs/``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from app.cors import PROFILES, Profile, predict
from app.cors.scenario import CREDENTIALS_MODES
from app.fix.sequence import build_sequence
from app.labs import cache, cookies, redirects, registry
from app.labs import predict as predict_first
from app.labs.registry import LABS, Lab, LabRun
from app.runs.agreement import browser_from_user_agent
from app.runs.errors import BadRequest
from app.runs.origins import OriginPair
from app.runs.store import Run, Session
from app.web.deps import CHOICES_LIMIT, PG, CurrentSession, Origins, read_form
from app.web.state import Playground

router = APIRouter()


@dataclass(frozen=True)
class LabContext:
    """One request to a lab: the lab, the learner's session and the lab's own, the page's
    origins and the learner's browser."""

    pg: Playground
    lab: Lab
    session: Session
    lab_session: Session
    pair: OriginPair
    profile: Profile
    browser_label: str

    @property
    def cookie_name(self) -> str:
        return cookies.cookie_name(self.lab_session.id)

    @property
    def runs(self) -> list[Run]:
        """The lab's runs, oldest first."""
        return list(self.lab_session.runs.values())


async def _context(
    pg: Playground, request: Request, session: Session, lab_name: str, pair: OriginPair
) -> LabContext:
    lab = LABS.get(lab_name)
    if lab is None:
        raise BadRequest(404, f"no such lab: choose one of {', '.join(LABS)}", "lab")
    lab_session = await pg.store.session(registry.lab_session_id(session.id, lab.name), create=True)
    assert lab_session is not None
    browser = browser_from_user_agent(request.headers.get("user-agent", ""))
    profile = PROFILES.get(browser.profile, PROFILES["spec"])
    return LabContext(pg, lab, session, lab_session, pair, profile, browser.label)


async def _read_form(request: Request) -> dict[str, str]:
    """A lab's few choices; the last value of a repeated field wins."""
    return dict((await read_form(request, CHOICES_LIMIT)).pairs)


def _new_run(ctx: LabContext, form: dict[str, str]) -> LabRun:
    if ctx.lab.name == "cache":
        return cache.new_run(ctx.pair, form, ctx.runs)
    if ctx.lab.name == "redirects":
        return redirects.new_run(ctx.pair, form)
    return cookies.new_run(ctx.pair, form, ctx.cookie_name)


async def _store(ctx: LabContext, new: LabRun, guess: tuple[tuple[str, str], ...] = ()) -> Run:
    return await ctx.pg.store.add_run(
        ctx.lab_session,
        new.scenario,
        predict(new.scenario, browser=ctx.profile.name),
        run_id=new.id,
        target=new.scenario.url,
        notes=(ctx.lab.note,),
        hops=new.hops,
        url_id=new.url_id,
        guess=guess,
    )


# --- rendering --------------------------------------------------------------------------------


def _render(ctx: LabContext, template: str, **values: Any) -> str:
    return ctx.pg.templates.get_template(f"labs/{template}.html").render(**values)


def _cache_card(ctx: LabContext, sends: list[Run]) -> tuple[str, str]:
    series = cache.cache_series(sends, ctx.profile, time.time())
    html = _render(ctx, "cache_series", series=series, browser_label=ctx.browser_label)
    return f"lab-series-{series.url_id}", html


def card_for(ctx: LabContext, run: Run) -> tuple[str, str]:
    """The lab's card that shows ``run``: its DOM id and HTML."""
    if ctx.lab.name == "cache":
        return _cache_card(ctx, cache.series_of(ctx.runs)[run.url_id])
    if ctx.lab.name == "redirects":
        result = run.browser_result
        html = _render(
            ctx,
            "redirect_run",
            view=redirects.redirect_view(run, ctx.pair),
            reveal=predict_first.redirect_reveal(run, ctx.profile),
            questions=predict_first.QUESTIONS["redirects"],
            sequence=build_sequence(
                run.prediction,
                run.exchanges,
                outcome=None if result is None else result.outcome,
                done=result is not None,
                method=run.scenario.request.method,
                path=urlsplit(run.target).path,
            ),
        )
    else:
        view = cookies.cookie_view(run, ctx.pair, ctx.cookie_name, ctx.runs)
        html = _render(ctx, "cookie_run", view=view, page=ctx.pair.page)
    return f"lab-run-{run.id}", html


def cards(ctx: LabContext) -> list[str]:
    """Every card of the lab, newest first."""
    if ctx.lab.name == "cache":
        return [_cache_card(ctx, sends)[1] for sends in cache.series_newest_first(ctx.runs)]
    return [card_for(ctx, run)[1] for run in reversed(ctx.runs)]


# --- routes -----------------------------------------------------------------------------------


@router.get("/labs", response_class=RedirectResponse)
async def start(pg: PG) -> RedirectResponse:
    """The labs, in a new session."""
    session = await pg.store.new_session()
    return RedirectResponse(f"/sessions/{session.id}/labs", 303)


@router.get("/sessions/{session_id}/labs", response_class=HTMLResponse)
async def index(request: Request, session: CurrentSession, pg: PG) -> HTMLResponse:
    """The labs of this session."""
    return pg.templates.TemplateResponse(
        request, "labs/index.html", {"session_id": session.id, "labs": LABS}
    )


@router.get("/sessions/{session_id}/labs/{lab}", response_class=HTMLResponse)
async def page(
    request: Request, session: CurrentSession, lab: str, origins: Origins, pg: PG
) -> HTMLResponse:
    """One lab: setup, what to try, the controls, and the live cards."""
    ctx = await _context(pg, request, session, lab, origins)
    lab_sid = ctx.lab_session.id
    profiles = [(p.label, p.max_age_default, p.max_age_cap) for p in PROFILES.values()]
    return pg.templates.TemplateResponse(
        request,
        f"labs/{ctx.lab.name}.html",
        {
            "lab": ctx.lab,
            "labs": LABS,
            "session_id": ctx.session.id,
            "pair": ctx.pair,
            "events_url": f"/sessions/{lab_sid}/events",
            "console_url": f"{ctx.pair.api}/console/{lab_sid}",
            "cards": cards(ctx),
            "profile": ctx.profile,
            "browser_label": ctx.browser_label,
            "profiles": profiles,
            "credentials_modes": CREDENTIALS_MODES,
            "cookie_name": ctx.cookie_name,
            "samesite_choices": registry.SAME_SITE_CHOICES,
            "max_sends": registry.MAX_SENDS_PER_URL,
            "cookie_minutes": registry.COOKIE_MAX_AGE // 60,
            "max_age_limit": registry.MAX_AGE_LIMIT,
            "redirect_statuses": registry.REDIRECT_STATUSES,
            "redirect_methods": registry.REDIRECT_METHODS,
            "questions": predict_first.QUESTIONS.get(ctx.lab.name, ()),
        },
    )


@router.post("/sessions/{session_id}/labs/{lab}/runs", response_class=JSONResponse)
async def create_run(
    request: Request, session: CurrentSession, lab: str, origins: Origins, pg: PG
) -> JSONResponse:
    """Store a lab run and return what the page's fetch() needs, with the lab's card."""
    ctx = await _context(pg, request, session, lab, origins)
    form = await _read_form(request)
    guess = predict_first.read_guess(ctx.lab.name, form)  # predict first: refused without answers
    run = await _store(ctx, _new_run(ctx, form), guess)
    card_id, html = card_for(ctx, run)
    return JSONResponse(
        {
            "run_id": run.id,
            "target": run.target,
            "init": run.fetch_init,
            "card_id": card_id,
            "card": html,
        },
        status_code=201,
    )


@router.get("/sessions/{session_id}/labs/{lab}/runs/{run_id}", response_class=HTMLResponse)
async def fragment(
    request: Request, session: CurrentSession, lab: str, origins: Origins, run_id: str, pg: PG
) -> HTMLResponse:
    """The lab's card that shows one run, as it is now (the page refreshes it live)."""
    ctx = await _context(pg, request, session, lab, origins)
    run = ctx.lab_session.runs.get(run_id)
    if run is None:
        raise BadRequest(404, "no such run in this lab (it expired or never existed)", "run")
    return HTMLResponse(card_for(ctx, run)[1])
