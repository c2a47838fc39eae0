"""The attacker's origin: what it is, the attacker's page for one attack, its sandboxed frame,
the round of attempts it starts, the report of what its script read, and its log.

Opening the page is the attack: its script (``static/js/attacker.js``) asks for a new round
(``POST /a/<attack>/rounds``: one run per attempt, each at its own account URL on the victim
API), sends each ``fetch()`` (the sandboxed one from ``/a/<attack>/frame/<run>``), and posts
what it got to ``/a/<attack>/report``. The report is what the browser let the script read; the
attacker's log keeps it, and the lab shows it live. A room's attack question makes its round
beforehand (``/a/<attack>?round=<n>`` runs it, ``GET /a/<attack>/rounds/<n>`` lists it), and
the report of its attempt becomes the attendee's result in the room.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from app.attack.cases import ATTEMPTS, attempt_scenario
from app.attack.store import MAX_ERROR_CHARS, Attack, Report, Round, stolen_text
from app.cors import predict
from app.runs.agreement import differences, parse_result
from app.runs.errors import BadRequest
from app.runs.store import new_id
from app.web import room_attacks, room_events
from app.web.deps import (
    NO_ATTACK,
    PG,
    RESULT_LIMIT,
    browser_profile,
    changing_attack,
    live_attack,
    read_json,
)
from app.web.state import Playground

router = APIRouter(include_in_schema=False)

NOTE = (
    "Attack lab: the attacker's page sent this request; the victim API answered with the "
    "learner's policy for the Origin that arrived."
)


async def known_attack(pg: Playground, attack_id: str) -> Attack:
    attack = await live_attack(pg, attack_id)
    if attack is None:
        raise BadRequest(404, NO_ATTACK, "attack")
    return attack


@router.get("/", response_class=HTMLResponse)
async def index(request: Request, pg: PG) -> HTMLResponse:
    """What this origin is."""
    site = pg.settings.origins(request.headers.get("host")).page
    return pg.templates.TemplateResponse(request, "attacker/index.html", {"site": site})


@router.get("/a/{attack_id}", response_class=HTMLResponse)
async def page(
    request: Request, attack_id: str, pg: PG, round: int | None = None
) -> HTMLResponse:
    """The attacker's page: opening it runs the attack (with ``round``, that round, made
    beforehand by a room's question)."""
    attack = await known_attack(pg, attack_id)
    if round is not None and attack.round(round) is None:
        raise BadRequest(404, "no such round in this attack", "round")
    return pg.templates.TemplateResponse(
        request,
        "attacker/page.html",
        {"attack": attack, "log": list(attack.log), "round": round},
    )


def _attempts(attack: Attack, found: Round) -> list[dict[str, Any]]:
    """A round's attempts, as the attacker's script runs them."""
    return [
        {
            "attempt": attempt.key,
            "label": attempt.label,
            "run_id": found.runs[attempt.key],
            "url": found.stage.account_url(attack.id, found.runs[attempt.key]),
            "credentials": attempt.credentials,
            "sandboxed": attempt.sandboxed,
            "frame": f"/a/{attack.id}/frame/{found.runs[attempt.key]}"
            if attempt.sandboxed
            else None,
        }
        for attempt in ATTEMPTS
        if attempt.key in found.runs
    ]


@router.post("/a/{attack_id}/rounds", response_class=JSONResponse)
async def new_round(request: Request, attack_id: str, pg: PG) -> JSONResponse:
    """Start a round of the attack: one run per attempt, against the policy as it is now."""
    attack = await known_attack(pg, attack_id)
    session = await pg.store.session(attack_id)
    assert session is not None
    browser = browser_profile(request)
    async with changing_attack(pg, attack.id) as attack:
        found = attack.new_round()
        for attempt in ATTEMPTS:
            run_id = new_id()
            url = found.stage.account_url(attack.id, run_id)
            scenario = attempt_scenario(found.policy, found.stage, attempt, url)
            await pg.store.add_run(
                session,
                scenario,
                predict(scenario, browser),
                run_id=run_id,
                target=url,
                notes=(NOTE,),
            )
            found.runs[attempt.key] = run_id
    return JSONResponse(
        {"round": found.number, "attempts": _attempts(attack, found)}, status_code=201
    )


@router.get("/a/{attack_id}/rounds/{number}", response_class=JSONResponse)
async def a_round(attack_id: str, number: int, pg: PG) -> JSONResponse:
    """A round made beforehand (a room's question): its attempts, for the script to run."""
    attack = await known_attack(pg, attack_id)
    found = attack.round(number)
    if found is None:
        raise BadRequest(404, "no such round in this attack", "round")
    return JSONResponse({"round": found.number, "attempts": _attempts(attack, found)})


@router.get("/a/{attack_id}/frame/{run_id}", response_class=HTMLResponse)
async def frame(request: Request, attack_id: str, run_id: str, pg: PG) -> HTMLResponse:
    """The sandboxed frame of one attempt: its origin is opaque, so its fetch() says
    ``Origin: null``. Sandboxed by its parent's attribute and by its own CSP."""
    attack = await known_attack(pg, attack_id)
    found = attack.round_of(run_id)
    if found is None:
        raise BadRequest(404, "no such attempt in this attack", "run")
    round_, _ = found
    host = request.headers.get("host", "")
    response = pg.templates.TemplateResponse(
        request,
        "attacker/frame.html",
        {
            "url": round_.stage.account_url(attack.id, run_id),
            "run_id": run_id,
            "parent": f"http://{host}" if host else round_.stage.attacker,
        },
    )
    response.headers["Content-Security-Policy"] = "sandbox allow-scripts"
    return response


@router.post("/a/{attack_id}/report", response_class=JSONResponse)
async def report(request: Request, attack_id: str, pg: PG) -> JSONResponse:
    """What the attacker's script got for one attempt: kept as the run's browser result and
    as an entry of the attacker's log."""
    attack = await known_attack(pg, attack_id)
    doc = await read_json(request, RESULT_LIMIT)
    if not isinstance(doc, dict):
        raise BadRequest(400, "the report must be a JSON object")
    run_id = doc.get("run_id")
    found = attack.round_of(run_id) if isinstance(run_id, str) else None
    run = await pg.store.run(run_id) if found is not None and isinstance(run_id, str) else None
    if found is None or run is None:
        raise BadRequest(404, "no such attempt in this attack", "run_id")
    if run.browser_result is not None:
        raise BadRequest(409, "this attempt already has its report", "run_id")
    result = parse_result(doc, run, request.headers.get("user-agent", ""))
    diffs = differences(run.prediction, run.exchanges, result)
    await pg.store.finish(run, result, diffs, published=pg.bus.next_id())
    round_, attempt = found
    stolen = result.outcome == "allowed" and attack.secret in (result.body or "")
    entry = Report(
        time.time(),
        round_.number,
        run.id,
        attempt,
        result.outcome,
        result.status,
        stolen_text(result.body),
        stolen_text(result.error, MAX_ERROR_CHARS),
        stolen,
    )
    async with changing_attack(pg, attack.id) as attack:
        attack.record(entry)
    pg.publish_run(run)
    user_agent = request.headers.get("user-agent", "")
    if await room_attacks.reported(pg, attack, run, round_, attempt, entry, user_agent):
        room_events.publish(pg)
    return JSONResponse(
        {"run_id": run.id, "outcome": result.outcome, "status": result.status, "stolen": stolen}
    )


@router.get("/a/{attack_id}/log", response_class=HTMLResponse)
async def log(request: Request, attack_id: str, pg: PG) -> HTMLResponse:
    """The attacker's log: what its script could read, newest first."""
    attack = await known_attack(pg, attack_id)
    return pg.templates.TemplateResponse(
        request, "attacker/log.html", {"attack": attack, "log": list(attack.log)}
    )
