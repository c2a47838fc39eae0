"""The JSON API (``/api/...``): explain a scenario, create a run and read it back, for
scripting and checking from outside; documented at ``/api`` with the scenario format at
``/api/scenario-format``."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.routing import BaseRoute, Route

from app.cors import FetchSequence, Scenario, predict, predict_sequence
from app.rooms import CLASSICS
from app.runs.agreement import run_document
from app.runs.errors import BadRequest
from app.runs.store import is_valid_id
from app.runs.validation import (
    Checked,
    CheckedSequence,
    FieldMessage,
    is_sequence_document,
    scenario_from_json,
    sequence_from_json,
)
from app.web.deps import NO_SESSION, PG, Origins, browser_profile, page_origins, read_json
from app.web.state import Playground

router = APIRouter()

MAX_EXPLAIN_BATCH = 200


def _error_json(checked: Checked, status: int = 422) -> JSONResponse:
    return JSONResponse(checked.to_json(), status_code=status)


@router.get("/api/health", response_class=JSONResponse)
async def health(pg: PG) -> JSONResponse:
    """Whether this process serves (for a reverse proxy's or a container's health check):
    where it keeps its state, and which process answered. 503 when Redis does not answer."""
    if pg.shared is not None:
        await pg.shared.ping()
    return JSONResponse(
        {
            "status": "ok",
            "store": "redis" if pg.shared is not None else "memory",
            "process": os.getpid(),
        },
        headers={"Cache-Control": "no-store"},
    )


#: The explain route's path, for the dispatch that sends it straight to ``explain``.
EXPLAIN_PATH = re.compile(r"/api/explain")


async def explain(request: Request, pg: Playground) -> JSONResponse:
    """The explain route's whole work, with its checks and refusals. Scripts call it in
    bursts and the engine's work is a fraction of a millisecond, so requests come here
    straight, without the framework's routing and dependencies (``OriginsApp``)."""
    origins = await page_origins(request, pg)
    profile = browser_profile(request, request.query_params.get("browser") or "chromium")
    doc = await read_json(request)
    many = isinstance(doc, list)
    items = doc if many else [doc]
    if len(items) > MAX_EXPLAIN_BATCH:
        raise BadRequest(413, f"too many documents ({len(items)}); at most {MAX_EXPLAIN_BATCH}")
    predictions = []
    for index, item in enumerate(items):
        # Each item may name its browser beside the scenario's own keys.
        chosen = item.get("browser") if isinstance(item, dict) else None
        if isinstance(item, dict):
            item = {k: v for k, v in item.items() if k != "browser"}
        checked: Checked | CheckedSequence
        if is_sequence_document(item):
            checked = sequence_from_json(item, default_origin=origins.page, default_url=origins.api)
            document: Scenario | FetchSequence | None = checked.sequence
        else:
            checked = scenario_from_json(item, default_origin=origins.page, default_url=origins.api)
            document = checked.scenario
        if document is None:
            if many:
                checked.errors = [
                    FieldMessage(f"[{index}].{m.field}", m.message) for m in checked.errors
                ]
            return JSONResponse(checked.to_json(), status_code=422)
        if chosen is not None and not isinstance(chosen, str):
            raise BadRequest(422, "browser must be a string", "browser")
        item_profile = browser_profile(request, chosen) if chosen else profile
        if isinstance(document, FetchSequence):
            predictions.append(predict_sequence(document, item_profile).to_json())
        else:
            predictions.append(predict(document, browser=item_profile).to_json())
    return JSONResponse(predictions if many else predictions[0])


@router.post("/api/explain", response_class=JSONResponse)
async def api_explain(request: Request, pg: PG, browser: str | None = None) -> JSONResponse:
    """Scenario or sequence in, prediction out (one object or an array), as
    ``cors-playground explain``; ``browser`` names the engine profile (default: chromium).
    Served by ``explain`` directly; the route documents it."""
    return await explain(request, pg)


@router.post("/api/runs", response_class=JSONResponse)
async def api_create_run(
    request: Request,
    pg: PG,
    origins: Origins,
    session: str | None = None,
    browser: str | None = None,
) -> JSONResponse:
    """Scenario of one fetch (no hops, no sequence) in; run id, target URL and session out (a
    new session unless ``session`` names a live one). Send the request to ``target``."""
    profile = browser_profile(request, browser)
    if session is not None:
        if not is_valid_id(session):
            raise BadRequest(422, "not a valid session id", "session")
        if await pg.store.session(session) is None:
            raise BadRequest(404, NO_SESSION, "session")
    doc = await read_json(request)
    if is_sequence_document(doc):
        raise BadRequest(
            422,
            "a run is one fetch: send each fetch of a sequence as its own run (POST "
            "/api/explain predicts the sequence)",
            "sequence",
        )
    checked = scenario_from_json(doc, default_origin=origins.page, default_url=origins.api)
    if checked.scenario is None:
        return _error_json(checked)
    if checked.scenario.hops:
        raise BadRequest(
            422,
            "a run answers at its own URL only: its hops would be other servers (POST "
            "/api/explain predicts the whole fetch; the redirects lab runs redirect chains)",
            "hops",
        )
    found = await pg.store.session(session) if session is not None else await pg.store.new_session()
    if found is None:  # it expired while the scenario was read
        raise BadRequest(404, NO_SESSION, "session")
    notes = tuple(f"{n.field}: {n.message}" for n in checked.notes)
    run = await pg.store.start_run(found, checked.scenario, origins.api, profile, notes)
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


@router.get("/api/runs/{run_id}", response_class=JSONResponse)
async def api_get_run(run_id: str, pg: PG) -> JSONResponse:
    """The scenario, prediction, recorded exchanges, browser result and agreement of a run."""
    run = await pg.store.run(run_id)
    if run is None:
        raise BadRequest(404, "no such run (it expired or never existed)", "run")
    return JSONResponse(run_document(run))


def _routes(routes: Iterable[BaseRoute]) -> Iterator[Route]:
    """Every plain route, also inside included routers."""
    for route in routes:
        if isinstance(route, Route):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _routes(included.routes)


def route_table(request: Request) -> list[dict[str, Any]]:
    """Every route of the site origin, sorted by path, with its handler's first doc line."""
    rows = []
    for route in _routes(request.app.routes):
        if route.methods is None:
            continue
        doc = (route.endpoint.__doc__ or "").strip().split("\n")[0]
        for method in sorted(route.methods - {"HEAD"}):
            rows.append({"method": method, "path": route.path, "doc": doc})
    return sorted(rows, key=lambda r: (r["path"], r["method"]))


@router.get("/api", response_class=HTMLResponse)
async def api_docs(request: Request, pg: PG, origins: Origins) -> HTMLResponse:
    """This page: every route of both origins."""
    return pg.templates.TemplateResponse(
        request,
        "api/index.html",
        {"routes": route_table(request), "origins": origins, "classics": CLASSICS},
    )


@router.get("/api/scenario-format", response_class=HTMLResponse)
async def scenario_format(request: Request, pg: PG) -> HTMLResponse:
    """The scenario and prediction format: every field, with examples."""
    return pg.templates.TemplateResponse(request, "api/scenario_format.html", {})
