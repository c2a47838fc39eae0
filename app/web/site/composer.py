"""The playground page: compose a request and the server's answers, watch the prediction
update as you type, and send (``static/js/composer.js`` sends the real ``fetch()``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from app.cors import PROFILES, Scenario, ScenarioError, predict
from app.cors.names import ALLOW_HEADERS, ALLOW_METHODS, ALLOW_ORIGIN, CONTENT_TYPE
from app.runs.agreement import browser_from_user_agent
from app.runs.errors import BadRequest
from app.runs.origins import TARGETS, OriginPair
from app.runs.share import decode_share, share_url
from app.runs.validation import (
    Checked,
    field_label,
    is_sequence_document,
    scenario_from_form,
    scenario_from_json,
)
from app.web import render, room_events
from app.web.deps import PG, CurrentSession, Origins, browser_profile, read_form

router = APIRouter()

PREVIEW_PATH = "/r/preview"


def default_scenario(page_origin: str) -> Scenario:
    """A preflighted request that succeeds: the first thing a newcomer sends."""
    return Scenario.from_json(
        {
            "request": {
                "method": "PUT",
                "headers": [[CONTENT_TYPE, "application/json"]],
                "credentials": "same-origin",
                "mode": "cors",
                "body": '{"hello": "cors"}',
            },
            "preflight_response": {
                "status": 204,
                "headers": [
                    [ALLOW_ORIGIN, page_origin],
                    [ALLOW_METHODS, "PUT"],
                    [ALLOW_HEADERS, CONTENT_TYPE],
                ],
            },
            "response": {
                "status": 200,
                "headers": [
                    [ALLOW_ORIGIN, page_origin],
                    [CONTENT_TYPE, "text/plain"],
                ],
            },
        },
        default_origin=page_origin,
    )


def composer_values(scenario: Scenario, target: str = "same", engine: str = "") -> dict[str, Any]:
    """The composer's fields filled from a scenario."""
    request = scenario.request
    return {
        "id": scenario.id or "",
        "method": request.method,
        "request_headers": list(request.headers),
        "has_body": request.body is not None,
        "body": request.body or "",
        "credentials": request.credentials,
        "mode": request.mode,
        "pf_status": scenario.preflight_response.status,
        "pf_headers": list(scenario.preflight_response.headers),
        "rs_status": scenario.response.status,
        "rs_headers": list(scenario.response.headers),
        "target": target,
        "engine": engine,
    }


def _target(choice: str) -> str:
    return choice if choice in TARGETS else "same"


def _link_choices(request: Request, origins: OriginPair) -> tuple[str, str, str | None]:
    """The target and engine a link asks for, and what is wrong with them (None: nothing).
    The cross-site target falls back to same-site where this page has none."""
    target = request.query_params.get("target", "same")
    engine = request.query_params.get("engine", "")
    problems = []
    if target not in TARGETS:
        problems.append(f"target must be one of {', '.join(TARGETS)}")
        target = "same"
    if engine and engine not in PROFILES:
        problems.append(f"engine must be one of {', '.join(PROFILES)}")
        engine = ""
    if not origins.cross_available:
        target = "same"
    return target, engine, ("the link's " + "; ".join(problems)) if problems else None


def _restore(
    share: str, origins: OriginPair, values: dict[str, Any]
) -> tuple[int, str | None, Checked, dict[str, Any]]:
    """Decode a share link into composer values, keeping what was typed next to its errors."""
    try:
        doc = decode_share(share, page_origin=origins.page)
    except BadRequest as exc:
        return 400, exc.message, Checked(None), values
    if is_sequence_document(doc) or (isinstance(doc, dict) and doc.get("hops")):
        what = "a sequence of fetches" if is_sequence_document(doc) else "a whole fetch with hops"
        message = (
            f"this link holds {what}: the composer sends one request to one URL. "
            "POST the document to /api/explain for the prediction, or try it in the labs"
        )
        return 200, message, Checked(None), values
    checked = scenario_from_json(doc, default_origin=origins.page, default_url=origins.api)
    target, engine = values["target"], values["engine"]
    if checked.scenario is not None:
        return 200, None, checked, composer_values(checked.scenario, target, engine)
    try:  # structurally sound, with errors in some fields: show them where they are
        raw = Scenario.from_json(doc, default_origin=origins.page, default_url=origins.api)
    except (ScenarioError, TypeError, ValueError):
        first = checked.errors[0]
        message = f"the shared scenario is not valid: {first.field}: {first.message}"
        return 400, message, checked, values
    return 400, None, checked, composer_values(raw, target, engine)


@router.get("/", response_class=RedirectResponse)
async def index(request: Request, pg: PG) -> RedirectResponse:
    """Start a new session and keep the query (a share link) for it."""
    session = await pg.store.new_session()
    query = request.url.query
    return RedirectResponse(f"/sessions/{session.id}" + (f"?{query}" if query else ""), 303)


@router.get("/sessions/{session_id}", response_class=HTMLResponse)
async def page(
    request: Request, session: CurrentSession, origins: Origins, pg: PG
) -> HTMLResponse:
    """The playground page of this session, with a shared scenario when the link has one.

    The link may also choose the target (``target=cross``) and the engine (``engine=…``)."""
    target, engine, share_error = _link_choices(request, origins)
    status = 200 if share_error is None else 400
    values = composer_values(default_scenario(origins.page), target, engine)
    checked = Checked(None)
    share = request.query_params.get("s")
    if share is not None:
        restored, problem, checked, values = _restore(share, origins, values)
        status, share_error = max(status, restored), share_error or problem
    scenario = checked.scenario or default_scenario(origins.page)
    prediction = None
    targeted = None
    if checked.ok or share is None:
        targeted = scenario.with_target(origins.page, origins.target(target) + PREVIEW_PATH)
        prediction = predict(targeted, browser=browser_profile(request, engine or None))
    return pg.templates.TemplateResponse(
        request,
        "composer/page.html",
        {
            "session_id": session.id,
            "origins": origins,
            "values": values,
            "checked": checked,
            "errors": checked.errors_by_field(),
            "notes": checked.notes_by_field(),
            "share_error": share_error,
            **render.prediction_context(targeted, prediction),
            "browser_label": browser_from_user_agent(request.headers.get("user-agent", "")).label,
            "share": None if targeted is None else share_url(targeted, engine=engine),
            "cards": render.cards_html(
                pg.templates, list(reversed(session.runs.values())), own=True
            ),
            "autorun": request.query_params.get("run") == "1" and checked.ok and not share_error,
            "console_url": f"{origins.api}/console/{session.id}",
        },
        status_code=status,
    )


@router.post("/sessions/{session_id}/explain", response_class=HTMLResponse)
async def explain_fragment(
    request: Request, session: CurrentSession, origins: Origins, pg: PG
) -> HTMLResponse:
    """The live prediction for the composer as it is now (htmx, debounced)."""
    form = await read_form(request)
    target = origins.target(_target(form.get("target", "same")))
    checked = scenario_from_form(form, origin=origins.page, url=target + PREVIEW_PATH)
    prediction = None
    engine = form.get("engine", "")
    if checked.scenario is not None:
        chosen = browser_profile(request, engine or None)
        prediction = predict(checked.scenario, browser=chosen)
    return pg.templates.TemplateResponse(
        request,
        "composer/prediction.html",
        {
            **render.prediction_context(checked.scenario, prediction),
            "checked": checked,
            "origins": origins,
            "share": None
            if checked.scenario is None
            else share_url(checked.scenario, engine=engine),
        },
    )


@router.post("/sessions/{session_id}/runs", response_class=JSONResponse)
async def create_run(
    request: Request, session: CurrentSession, origins: Origins, pg: PG
) -> JSONResponse:
    """Send: validate the composer, store the run, return what the page's fetch() needs."""
    form = await read_form(request)
    target = origins.target(_target(form.get("target", "same")))
    checked = scenario_from_form(form, origin=origins.page, url=target + PREVIEW_PATH)
    if checked.scenario is None:
        fragment = pg.templates.get_template("composer/prediction.html").render(
            **render.prediction_context(None, None), checked=checked, origins=origins
        )
        refusal = checked.to_json()
        if refusal["error"] is not None:  # the page names fields by their labels
            refusal["error"]["label"] = field_label(refusal["error"]["field"])
        return JSONResponse({**refusal, "fragment": fragment}, status_code=422)
    notes = tuple(f"{n.field}: {n.message}" for n in checked.notes)
    engine = form.get("engine", "")
    profile = browser_profile(request)
    run = await pg.store.start_run(session, checked.scenario, target, profile, notes)
    await room_events.lesson_progress(pg, session.id, run.scenario.id)  # a lesson's run, in a room
    return JSONResponse(
        {
            "run_id": run.id,
            "target": run.target,
            "init": run.fetch_init,
            "card": render.card_html(pg.templates, run, own=True),
            "share": share_url(run.scenario, engine=engine if engine in PROFILES else ""),
            "result": f"/sessions/{session.id}/runs/{run.id}/result",
        },
        status_code=201,
    )
