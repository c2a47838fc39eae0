"""The victim API on the API origin: a login that sets the learner's cookies, and an account
endpoint that answers the secret to a request carrying them, with the CORS policy the learner
picked in the attack lab.

``/victim/<attack>/login`` logs in (a new token in two cookies: ``SameSite=None; Secure``
where the browser can keep it, on a loopback host, and ``SameSite=Lax`` for the same site) and
goes back to the lab or on to the attacker's page. ``/victim/<attack>/account/<run>`` answers
any method: its CORS lines come from the policy for the ``Origin`` that really arrived, and the
leg is recorded (every header as received, the answer as sent) and published to the lab and the
server console before the answer leaves. Nothing else is added to these answers.
"""

from __future__ import annotations

import json
import time

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from app.attack.cases import ACCOUNT_HEADERS
from app.attack.store import Attack
from app.runs.origins import is_loopback, parse_host
from app.runs.store import Exchange, RecordedRequest, RecordedResponse
from app.web import render
from app.web.deps import PG, changing_attack, live_attack
from app.web.events import console_topic, runs_topic
from app.web.state import Playground

router = APIRouter(include_in_schema=False)

MAX_VICTIM_BODY = 64 * 1024
ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
GONE = "No such attack: it expired or never existed. Start again from the attack lab.\n"


async def _attack(pg: Playground, attack_id: str) -> Attack | None:
    return await live_attack(pg, attack_id)


def _changed(pg: Playground, attack: Attack) -> None:
    """Tell the lab's pages that something happened (they fetch the view again)."""
    pg.bus.publish(runs_topic(attack.id), "run", lambda: '<div data-attack-event="login"></div>')


@router.get("/victim/{attack_id}/login")
async def login(
    request: Request, attack_id: str, pg: PG, go: str = "lab", round: int | None = None
) -> Response:
    """Log in to the victim API: set the login cookies, then go back to the lab (``go=lab``)
    or on to the attacker's page (``go=attacker``; with ``round``, to run that round, which
    a room's question made)."""
    attack = await _attack(pg, attack_id)
    if attack is None:
        return PlainTextResponse(GONE, 404)
    if go not in ("lab", "attacker"):
        return PlainTextResponse("go must be lab or attacker\n", 422)
    found = None if round is None else attack.round(round)
    if round is not None and found is None:
        return PlainTextResponse("No such round of this attack.\n", 404)
    parsed = parse_host(request.headers.get("host", ""))
    secure_allowed = parsed is not None and is_loopback(parsed[0])
    async with changing_attack(pg, attack.id) as attack:
        lines = attack.login(secure_allowed)
        found = None if round is None else attack.round(round)
        if found is not None:
            found.logged_in = True  # the round runs logged in: this login is its first step
    where = attack.stage.attacker_page(attack.id) if go == "attacker" else attack.home
    if found is not None and go == "attacker":
        where = f"{found.stage.attacker_page(attack.id)}?round={found.number}"
    response = RedirectResponse(where or attack.stage.site, 303)
    for line in lines:
        response.headers.append("Set-Cookie", line)
    response.headers["Cache-Control"] = "no-store"
    _changed(pg, attack)
    return response


@router.get("/victim/{attack_id}/logout")
async def logout(attack_id: str, pg: PG) -> Response:
    """Log out: the cookies expire; back to the lab."""
    attack = await _attack(pg, attack_id)
    if attack is None:
        return PlainTextResponse(GONE, 404)
    async with changing_attack(pg, attack.id) as attack:
        lines = attack.logout()
    response = RedirectResponse(attack.home or attack.stage.site, 303)
    for line in lines:
        response.headers.append("Set-Cookie", line)
    _changed(pg, attack)
    return response


def account_body(attack: Attack, signed_in: bool) -> tuple[int, bytes]:
    if signed_in:
        doc = {
            "account": "you",
            "plan": "premium",
            "api_key": attack.secret,
            "note": "Only you should ever read this.",
        }
        return 200, json.dumps(doc).encode()
    doc = {"error": "not logged in: this request carried no login cookie of this account"}
    return 401, json.dumps(doc).encode()


@router.api_route("/victim/{attack_id}/account/{run_id}", methods=ANY_METHOD)
async def account(request: Request, attack_id: str, run_id: str, pg: PG) -> Response:
    """The account: the secret for a request with the login cookie, 401 otherwise; the CORS
    lines as the policy answers the Origin that arrived."""
    received_at = time.time()
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_VICTIM_BODY:
            return PlainTextResponse("Request body too large for the victim API.\n", 413)
    attack = await _attack(pg, attack_id)
    run = await pg.store.run(run_id)
    if attack is None or run is None or run.session_id != attack_id:
        return PlainTextResponse(GONE, 404)
    headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"])
    origin = request.headers.get("origin")
    preflight = request.method == "OPTIONS" and "access-control-request-method" in request.headers
    lines = attack.policy.answer(origin)
    if preflight:
        status, body = 204, b""
        sent = lines
    else:
        signed_in = bool(attack.cookies_carried(request.headers.get("cookie")))
        status, body = account_body(attack, signed_in)
        sent = (*lines, *ACCOUNT_HEADERS)
    if status != 204:
        sent = (*sent, ("Content-Length", str(len(body))))
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    exchange = Exchange(
        kind="preflight" if preflight else "actual",
        request=RecordedRequest(request.method, path, headers, size),
        response=RecordedResponse(status, tuple(sent), len(body)),
        at=received_at,
        seq=pg.bus.next_id(),
        run_id=run.id,
    )
    if await pg.store.record(run, exchange, published=exchange.seq):
        exchange = run.exchanges[-1]
    pg.publish_run(run)
    pg.bus.publish(
        console_topic(run.session_id),
        "exchange",
        lambda: render.console_entry_html(pg.templates, run, exchange),
        exchange.seq,
    )
    response = Response(body, status)
    response.raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in sent]
    return response
