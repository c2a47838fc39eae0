"""The site origin: the page where a learner composes, predicts, sends and watches a run.

Also the JSON API (``/api/...``, documented at ``/api`` and ``/openapi.json``) and the session's
event stream. The cross-origin request itself is sent by ``static/js/runner.js`` with plain
``fetch()``; this module validates, stores, predicts and compares.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent
from fastapi.staticfiles import StaticFiles

from app.cors import Scenario, ScenarioError, predict
from app.cors.engines import EngineDifference, compare_engines
from app.runs.agreement import browser_from_user_agent, differences, observed
from app.runs.errors import BadRequest
from app.runs.share import decode_share, encode_share
from app.runs.share import share_url as _share_url
from app.runs.store import BrowserResult, Run, Session, new_id
from app.runs.validation import (
    MAX_BODY_BYTES,
    Checked,
    FieldMessage,
    FormData,
    scenario_from_form,
    scenario_from_json,
)
from app.web import labs, lessons, views
from app.web.events import Subscription, event_stream, runs_topic, subscription
from app.web.http import bad_request_json, read_body
from app.web.main import LOOPBACK_NAMES, PG, Playground, origin

MAX_FORM_BYTES = 4 * MAX_BODY_BYTES
MAX_JSON_BYTES = 4 * MAX_BODY_BYTES
MAX_EXPLAIN_BATCH = 200
MAX_RESULT_BYTES = 256 * 1024
MAX_RESULT_BODY = 4096
OUTCOMES = ("allowed", "blocked", "opaque", "error")
TARGET_CHOICES = ("same", "cross")


async def read_json(request: Request, limit: int = MAX_JSON_BYTES) -> Any:
    raw = await read_body(request, limit)
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(400, f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise BadRequest(400, "the body is nested too deeply") from None


async def read_form(request: Request) -> FormData:
    raw = await read_body(request, MAX_FORM_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(400, "the form is not UTF-8") from None
    return FormData(parse_qsl(text, keep_blank_values=True, max_num_fields=1000))


def _error_json(checked: Checked, status: int = 422) -> JSONResponse:
    return JSONResponse(checked.to_json(), status_code=status)


# --- share links ----------------------------------------------------------------------------


def share_url(scenario: Scenario | None) -> str | None:
    return None if scenario is None else _share_url(scenario)


# --- the composer -----------------------------------------------------------------------------


def default_scenario(page_origin: str) -> Scenario:
    """A preflighted request that succeeds: the first thing a newcomer sends."""
    return Scenario.from_json(
        {
            "request": {
                "method": "PUT",
                "headers": [["Content-Type", "application/json"]],
                "credentials": "same-origin",
                "mode": "cors",
                "body": '{"hello": "cors"}',
            },
            "preflight_response": {
                "status": 204,
                "headers": [
                    ["Access-Control-Allow-Origin", page_origin],
                    ["Access-Control-Allow-Methods", "PUT"],
                    ["Access-Control-Allow-Headers", "Content-Type"],
                ],
            },
            "response": {
                "status": 200,
                "headers": [
                    ["Access-Control-Allow-Origin", page_origin],
                    ["Content-Type", "text/plain"],
                ],
            },
        },
        default_origin=page_origin,
    )


def composer_values(scenario: Scenario, target: str = "same") -> dict[str, Any]:
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
    }


def form_values(form: FormData) -> dict[str, Any]:
    """The composer as the learner typed it (to redisplay it next to errors)."""

    def rows(name_key: str, value_key: str) -> list[tuple[str, str]]:
        names, values = form.getall(name_key), form.getall(value_key)
        return [
            (names[i] if i < len(names) else "", values[i] if i < len(values) else "")
            for i in range(max(len(names), len(values)))
        ]

    return {
        "id": form.get("scenario_id"),
        "method": form.get("method", "GET"),
        "request_headers": rows("rq_name", "rq_value"),
        "has_body": bool(form.get("has_body")),
        "body": form.get("body"),
        "credentials": form.get("credentials", "same-origin"),
        "mode": form.get("mode", "cors"),
        "pf_status": form.get("pf_status", "200"),
        "pf_headers": rows("pf_name", "pf_value"),
        "rs_status": form.get("rs_status", "200"),
        "rs_headers": rows("rs_name", "rs_value"),
        "target": form.get("target", "same"),
    }


class Origins:
    """The page's origin and its API origin (same host, or the other loopback name)."""

    def __init__(self, pg: Playground, request: Request, target: str = "same") -> None:
        host = pg.page_host(request.url.hostname)
        self.page = pg.site_origin(host)
        self.api = pg.api_origin(host)
        self.cross = origin(other_host(host), pg.settings.api_port)
        # The other host name is only this machine when the page is on a loopback name; from
        # a workshop's LAN address, "localhost" would be each attendee's own computer.
        self.cross_available = host in LOOPBACK_NAMES
        cross = target == "cross" and self.cross_available
        self.target = self.cross if cross else self.api


def other_host(host: str) -> str:
    return "127.0.0.1" if host == "localhost" else "localhost"


def _browser_profile(request: Request, explicit: str | None = None) -> str:
    from app.cors import PROFILES

    if explicit:
        if explicit not in PROFILES:
            raise BadRequest(
                400, f"unknown browser {explicit!r}: choose one of {', '.join(PROFILES)}", "browser"
            )
        return explicit
    return browser_from_user_agent(request.headers.get("user-agent", "")).profile


def _session(pg: Playground, session_id: str) -> Session:
    session = pg.store.session(session_id, create=True)
    if session is None:
        raise HTTPException(404, "No such session")
    return session


def _create_run(
    pg: Playground, session: Session, checked: Checked, target_origin: str, browser: str
) -> Run:
    assert checked.scenario is not None
    run_id = new_id()
    target = f"{target_origin}/r/{run_id}"
    scenario = Scenario(
        origin=checked.scenario.origin,
        url=target,
        request=checked.scenario.request,
        preflight_response=checked.scenario.preflight_response,
        response=checked.scenario.response,
        id=checked.scenario.id,
    )
    prediction = predict(scenario, browser=browser)
    notes = tuple(f"{n.field}: {n.message}" for n in checked.notes)
    return pg.store.add_run(
        session, scenario, prediction, run_id=run_id, target=target, notes=notes
    )


def fetch_init(scenario: Scenario) -> dict[str, Any]:
    """The second argument of the page's ``fetch()``: exactly the scenario's request."""
    request = scenario.request
    return {
        "method": request.method,
        "headers": [list(h) for h in request.headers],
        "credentials": request.credentials,
        "mode": request.mode,
        "body": request.body,
    }


def run_json(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "state": run.state,
        "target": run.target,
        "scenario": run.scenario.to_json(),
        "prediction": run.prediction.to_json(),
        "notes": list(run.notes),
        "exchanges": [e.to_json() for e in run.exchanges],
        "exchanges_dropped": run.exchanges_dropped,
        "browser_result": None if run.browser_result is None else run.browser_result.to_json(),
        "agreement": run.agreement,
        "differences": list(run.differences),
        "observed": observed(run),
    }


# --- pages and fragments ----------------------------------------------------------------------


async def index(request: Request, pg: PG) -> RedirectResponse:
    """Start a new session and keep the query (a share link) for it."""
    session = pg.store.new_session()
    query = request.url.query
    return RedirectResponse(f"/sessions/{session.id}" + (f"?{query}" if query else ""), 303)


async def page(request: Request, session_id: str, pg: PG) -> HTMLResponse:
    session = _session(pg, session_id)
    origins = Origins(pg, request)
    status = 200
    share_error = None
    values = composer_values(default_scenario(origins.page))
    checked = Checked(None)
    share = request.query_params.get("s")
    if share is not None:
        status, share_error, checked, values = _restore(share, origins, values)
    autorun = request.query_params.get("run") == "1" and checked.ok
    prediction = None
    other_engines: tuple[EngineDifference, ...] = ()
    scenario = checked.scenario or default_scenario(origins.page)
    if checked.ok or share is None:
        targeted = _with_target(scenario, origins.page, origins.api)
        prediction = predict(targeted, browser=_browser_profile(request))
        other_engines = compare_engines(targeted, prediction.browser)
    runs = list(reversed(session.runs.values()))
    return pg.templates.TemplateResponse(
        request,
        "pages/index.html",
        {
            "session_id": session.id,
            "origins": origins,
            "values": values,
            "checked": checked,
            "errors": checked.errors_by_field(),
            "notes": checked.notes_by_field(),
            "share_error": share_error,
            "prediction": prediction,
            "engine_differences": other_engines,
            "browser_label": browser_from_user_agent(request.headers.get("user-agent", "")).label,
            "share": share_url(checked.scenario or (None if share else scenario)),
            "runs": runs,
            "autorun": autorun,
            "console_url": f"{origins.api}/console/{session.id}",
        },
        status_code=status,
    )


def _restore(
    share: str, origins: Origins, values: dict[str, Any]
) -> tuple[int, str | None, Checked, dict[str, Any]]:
    """Decode a share link into composer values, keeping what was typed next to its errors."""
    try:
        doc = decode_share(share)
    except BadRequest as exc:
        return 400, exc.message, Checked(None), values
    checked = scenario_from_json(doc, default_origin=origins.page, default_url=origins.api)
    if checked.scenario is not None:
        return 200, None, checked, composer_values(checked.scenario)
    try:  # structurally sound, with errors in some fields: show them where they are
        raw = Scenario.from_json(doc, default_origin=origins.page, default_url=origins.api)
    except (ScenarioError, TypeError, ValueError):
        first = checked.errors[0]
        return (
            400,
            f"the shared scenario is not valid: {first.field}: {first.message}",
            checked,
            (values),
        )
    return 400, None, checked, composer_values(raw)


def _with_target(scenario: Scenario, page_origin: str, target_origin: str) -> Scenario:
    return Scenario(
        origin=page_origin,
        url=f"{target_origin}/r/preview",
        request=scenario.request,
        preflight_response=scenario.preflight_response,
        response=scenario.response,
        id=scenario.id,
    )


async def explain_fragment(request: Request, session_id: str, pg: PG) -> HTMLResponse:
    """The live prediction for the composer as it is now (htmx, debounced)."""
    _session(pg, session_id)
    form = await read_form(request)
    target = form.get("target", "same")
    origins = Origins(pg, request, target if target in TARGET_CHOICES else "same")
    checked = scenario_from_form(form, origin=origins.page, url=f"{origins.target}/r/preview")
    prediction = None
    other_engines: tuple[EngineDifference, ...] = ()
    if checked.scenario is not None:
        chosen = _browser_profile(request, form.get("engine") or None)
        prediction = predict(checked.scenario, browser=chosen)
        other_engines = compare_engines(checked.scenario, chosen)
    return pg.templates.TemplateResponse(
        request,
        "partials/prediction.html",
        {
            "prediction": prediction,
            "engine_differences": other_engines,
            "checked": checked,
            "origins": origins,
            "share": share_url(checked.scenario),
        },
    )


async def create_run_from_form(request: Request, session_id: str, pg: PG) -> JSONResponse:
    """Send: validate the composer, store the run, return what the runner needs."""
    session = _session(pg, session_id)
    form = await read_form(request)
    target = form.get("target", "same")
    origins = Origins(pg, request, target if target in TARGET_CHOICES else "same")
    checked = scenario_from_form(form, origin=origins.page, url=f"{origins.target}/r/preview")
    if not checked.ok:
        fragment = pg.templates.get_template("partials/prediction.html").render(
            prediction=None, checked=checked, origins=origins
        )
        return JSONResponse({**checked.to_json(), "fragment": fragment}, status_code=422)
    run = _create_run(pg, session, checked, origins.target, _browser_profile(request))
    assert checked.scenario is not None
    return JSONResponse(
        {
            "run_id": run.id,
            "target": run.target,
            "init": fetch_init(run.scenario),
            "card": views.card_html(pg.templates, run),
            "share": "/?s=" + encode_share(run.scenario),
        },
        status_code=201,
    )


async def post_result(request: Request, run_id: str, pg: PG) -> JSONResponse:
    """What the page's JavaScript got from fetch(); compared with the prediction."""
    run = pg.store.run(run_id)
    if run is None:
        raise BadRequest(404, "no such run (it expired or never existed)", "run")
    if run.browser_result is not None:
        raise BadRequest(409, "this run already has its result", "run")
    doc = await read_json(request, MAX_RESULT_BYTES)
    result = parse_result(doc, run, request.headers.get("user-agent", ""))
    run.browser_result = result
    run.differences = differences(run.prediction, run.exchanges, result)
    run.touch()
    pg.publish_run(run)
    return JSONResponse(
        {
            "card": views.card_html(pg.templates, run),
            "agreement": run.agreement,
            "differences": list(run.differences),
        }
    )


def parse_result(doc: Any, run: Run, user_agent: str) -> BrowserResult:
    if not isinstance(doc, dict):
        raise BadRequest(400, "the result must be a JSON object")
    outcome = doc.get("outcome")
    if outcome not in OUTCOMES:
        raise BadRequest(422, f"outcome must be one of {', '.join(OUTCOMES)}", "outcome")
    status = doc.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
        raise BadRequest(422, "status must be an integer or null", "status")
    raw_headers = doc.get("headers") or []
    if (
        not isinstance(raw_headers, list)
        or len(raw_headers) > 200
        or not all(
            isinstance(h, list) and len(h) == 2 and all(isinstance(p, str) for p in h)
            for h in raw_headers
        )
    ):
        raise BadRequest(422, "headers must be a list of [name, value] pairs", "headers")
    body = doc.get("body")
    error = doc.get("error")
    for name, value in (("body", body), ("error", error)):
        if value is not None and not isinstance(value, str):
            raise BadRequest(422, f"{name} must be a string or null", name)
    declared = {name.lower() for name, _ in run.scenario.response.headers}
    names = {name.lower() for name, _ in raw_headers}
    browser = browser_from_user_agent(user_agent)
    return BrowserResult(
        outcome=outcome,
        status=status,
        readable_headers=tuple(sorted(names & declared)),
        headers=tuple((n, v) for n, v in raw_headers),
        body=None if body is None else body[:MAX_RESULT_BODY],
        error=None if error is None else error[:1000],
        user_agent=user_agent[:500],
        browser=browser.label,
    )


async def run_page(request: Request, run_id: str, pg: PG) -> HTMLResponse:
    """One run on its own page (no composer): its card, as it is now."""
    run = pg.store.run(run_id)
    if run is None:
        raise HTTPException(404, "No such run (it expired or never existed)")
    return pg.templates.TemplateResponse(
        request, "pages/run.html", {"run": run, **views.card_context(run)}
    )


async def runs_subscription(session_id: str, pg: PG) -> AsyncIterator[Subscription]:
    _session(pg, session_id)
    busy = "Too many open pages for this session"
    async with subscription(pg.bus, runs_topic(session_id), busy) as sub:
        yield sub


async def session_events(
    sub: Annotated[Subscription, Depends(runs_subscription)],
) -> AsyncIterator[ServerSentEvent]:
    """Run cards of this session as they change (server-sent events, HTML payloads)."""
    async for event in event_stream(sub, named=True):
        yield event


# --- JSON API -----------------------------------------------------------------------------------


async def api_explain(request: Request, pg: PG, browser: str | None = None) -> JSONResponse:
    """Scenario in, prediction out (one object or an array), as ``cors-playground explain``."""
    profile = _browser_profile(request, browser or "chromium")
    doc = await read_json(request)
    origins = Origins(pg, request)
    many = isinstance(doc, list)
    items = doc if many else [doc]
    if len(items) > MAX_EXPLAIN_BATCH:
        raise BadRequest(413, f"too many scenarios ({len(items)}); at most {MAX_EXPLAIN_BATCH}")
    predictions = []
    for index, item in enumerate(items):
        checked = scenario_from_json(item, default_origin=origins.page, default_url=origins.api)
        if not checked.ok:
            if many:
                for message in checked.errors:
                    message_field = f"[{index}].{message.field}"
                    checked.errors[checked.errors.index(message)] = FieldMessage(
                        message_field, message.message
                    )
            return _error_json(checked)
        assert checked.scenario is not None
        chosen = item.get("browser") if isinstance(item, dict) else None
        if chosen is not None and not isinstance(chosen, str):
            raise BadRequest(422, "browser must be a string", "browser")
        item_profile = _browser_profile(request, chosen) if chosen else profile
        predictions.append(predict(checked.scenario, browser=item_profile).to_json())
    return JSONResponse(predictions if many else predictions[0])


async def api_create_run(
    request: Request, pg: PG, session: str | None = None, browser: str | None = None
) -> JSONResponse:
    """Scenario in; run id, target URL and session out. Send the request to ``target``."""
    profile = _browser_profile(request, browser)
    if session is not None:
        found = pg.store.session(session, create=True)
        if found is None:
            raise BadRequest(422, "not a valid session id", "session")
    else:
        found = pg.store.new_session()
    doc = await read_json(request)
    origins = Origins(pg, request)
    checked = scenario_from_json(doc, default_origin=origins.page, default_url=origins.api)
    if not checked.ok:
        return _error_json(checked)
    run = _create_run(pg, found, checked, origins.api, profile)
    return JSONResponse(
        {
            "run_id": run.id,
            "session": found.id,
            "target": run.target,
            "run": f"/api/runs/{run.id}",
            "page": f"/sessions/{found.id}",
            "prediction": run.prediction.to_json(),
            "notes": [n.to_json() for n in checked.notes],
        },
        status_code=201,
    )


async def api_get_run(run_id: str, pg: PG) -> JSONResponse:
    """The scenario, prediction, recorded exchanges, browser result and agreement of a run."""
    run = pg.store.run(run_id)
    if run is None:
        raise BadRequest(404, "no such run (it expired or never existed)", "run")
    return JSONResponse(run_json(run))


async def api_docs(request: Request, pg: PG) -> HTMLResponse:
    """This page: every route of both origins."""
    return pg.templates.TemplateResponse(
        request, "pages/api.html", {"routes": ROUTES, "origins": Origins(pg, request)}
    )


async def bad_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadRequest)
    if request.url.path.startswith("/api/") or "json" in request.headers.get("accept", ""):
        return bad_request_json(exc)
    return Response(exc.message + "\n", status_code=exc.status, media_type="text/plain")


# One sorted route table: (method, path, handler, response class).
ROUTES: list[tuple[str, str, Any, type[Response]]] = [
    ("GET", "/", index, RedirectResponse),
    ("GET", "/api", api_docs, HTMLResponse),
    ("POST", "/api/explain", api_explain, JSONResponse),
    ("GET", "/api/lessons", lessons.api_lessons, JSONResponse),
    ("POST", "/api/runs", api_create_run, JSONResponse),
    ("GET", "/api/runs/{run_id}", api_get_run, JSONResponse),
    ("GET", "/labs", labs.start, RedirectResponse),
    ("GET", "/lessons", lessons.start_lessons, RedirectResponse),
    ("GET", "/lessons/{slug}", lessons.start_lesson, RedirectResponse),
    ("GET", "/runs/{run_id}", run_page, HTMLResponse),
    ("POST", "/runs/{run_id}/result", post_result, JSONResponse),
    ("GET", "/sessions/{session_id}", page, HTMLResponse),
    ("GET", "/sessions/{session_id}/events", session_events, EventSourceResponse),
    ("POST", "/sessions/{session_id}/explain", explain_fragment, HTMLResponse),
    ("GET", "/sessions/{session_id}/labs", labs.index, HTMLResponse),
    ("GET", "/sessions/{session_id}/labs/{lab}", labs.page, HTMLResponse),
    ("POST", "/sessions/{session_id}/labs/{lab}/runs", labs.create_run, JSONResponse),
    ("GET", "/sessions/{session_id}/labs/{lab}/runs/{run_id}", labs.fragment, HTMLResponse),
    ("GET", "/sessions/{session_id}/lessons", lessons.lessons_index, HTMLResponse),
    ("GET", "/sessions/{session_id}/lessons/{slug}", lessons.lesson_page, HTMLResponse),
    ("POST", "/sessions/{session_id}/lessons/{slug}/answer", lessons.answer_question, HTMLResponse),
    (
        "GET",
        "/sessions/{session_id}/lessons/{slug}/runs/{run_id}",
        lessons.lesson_explanation,
        HTMLResponse,
    ),
    ("POST", "/sessions/{session_id}/runs", create_run_from_form, JSONResponse),
]


def build(pg: Playground) -> FastAPI:
    """The site origin's application."""
    app = FastAPI(
        title="CORS playground",
        summary="Learn CORS with real cross-origin requests.",
        docs_url=None,  # the Swagger page loads from a CDN; /api documents the routes offline
        redoc_url=None,
    )
    app.state.playground = pg
    for method, path, handler, response_class in ROUTES:
        app.add_api_route(
            path,
            handler,
            methods=[method],
            response_class=response_class,
            include_in_schema=path.startswith("/api/"),
        )
    app.add_exception_handler(BadRequest, bad_request)
    app.mount("/static", StaticFiles(directory=pg.static_dir), name="static")
    return app
