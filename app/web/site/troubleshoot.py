"""From a real failure to a scenario: paste a browser's console error, upload a HAR export, or
(only when the server was started with ``--allow-check``) check a real server. Each result
opens in the composer with one click; nothing is stored: the scenarios travel in the links."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.runs.errors import BadRequest
from app.runs.share import share_url
from app.troubleshoot.commands import REAL_BROWSERS
from app.troubleshoot.console import parse_console, reproduce
from app.troubleshoot.diagnose import diagnose, verdicts
from app.troubleshoot.har import HarError, archive_from_upload, read_har
from app.troubleshoot.mask import masked, playable
from app.troubleshoot.probe import CheckInputError, CheckRequest, check, parse_header
from app.web.deps import PG, SCENARIO_LIMIT, CurrentSession, read_body, read_form

router = APIRouter()

#: A HAR export from DevTools: a few megabytes for a page's worth of requests.
HAR_LIMIT = 8 * 1024 * 1024
HAR_ENTRIES = 5000
#: A pasted console text.
TEXT_LIMIT = 64 * 1024
PAGE = "troubleshoot/page.html"


def _open_link(session_id: str, scenario: Any) -> str | None:
    fitted, _ = playable(masked(scenario))
    return None if fitted is None else share_url(fitted, session_id)


def _page(
    request: Request, pg: PG, session_id: str, status: int = 200, **context: Any
) -> HTMLResponse:
    return pg.templates.TemplateResponse(
        request,
        PAGE,
        {
            "session_id": session_id,
            "allow_check": pg.settings.allow_check,
            "section": context.pop("section", None),
            **context,
        },
        status_code=status,
    )


@router.get("/troubleshoot", response_class=RedirectResponse)
async def troubleshoot_start(pg: PG) -> RedirectResponse:
    """Start a session on the troubleshooting page."""
    session = await pg.store.new_session()
    return RedirectResponse(f"/sessions/{session.id}/troubleshoot", 303)


@router.get("/sessions/{session_id}/troubleshoot", response_class=HTMLResponse)
async def troubleshoot_page(request: Request, session: CurrentSession, pg: PG) -> HTMLResponse:
    """From a real error to a scenario: paste a console error, upload a HAR, check a server."""
    return _page(request, pg, session.id)


@router.post("/sessions/{session_id}/troubleshoot/console", response_class=HTMLResponse)
async def explain_error(request: Request, session: CurrentSession, pg: PG) -> HTMLResponse:
    """A pasted console error: the browser, the failed check, the cause, the fix, a scenario."""
    form = await read_form(request, TEXT_LIMIT)
    text = form.get("text")
    reading = parse_console(text)
    reproduction = reproduce(reading)
    understanding = None
    link = None
    if reproduction is not None and reading.browser is not None:
        understanding = diagnose(reproduction.scenario, reading.browser)
        link = _open_link(session.id, reproduction.scenario)
    return _page(
        request,
        pg,
        session.id,
        200 if reading.recognised else 422,
        section="console",
        text=text,
        reading=reading,
        reproduction=reproduction,
        understanding=understanding,
        open_link=link,
    )


@router.post("/sessions/{session_id}/troubleshoot/har", response_class=HTMLResponse)
async def import_har(request: Request, session: CurrentSession, pg: PG) -> HTMLResponse:
    """An uploaded HAR: every cross-origin request as a scenario, each opening in the composer.
    The archive is read in memory and dropped; only the links keep the scenarios."""
    body = await read_body(request, HAR_LIMIT)
    try:
        data = archive_from_upload(body, request.headers.get("content-type", ""))
        report = read_har(data, max_bytes=HAR_LIMIT, max_entries=HAR_ENTRIES)
    except HarError as exc:
        raise BadRequest(400, f"not a usable HAR archive: {exc}", "har") from None
    links = {item.index: _open_link(session.id, item.scenario) for item in report.items}
    return _page(request, pg, session.id, section="har", har=report, links=links)


@router.post("/sessions/{session_id}/troubleshoot/check", response_class=HTMLResponse)
async def check_server(request: Request, session: CurrentSession, pg: PG) -> HTMLResponse:
    """A real server check (only with ``serve --allow-check``)."""
    if not pg.settings.allow_check:
        raise BadRequest(
            403,
            "this playground does not check real servers (it was started without "
            "--allow-check, so it sends no request to a URL a visitor types); run "
            "cors-playground check URL --origin ORIGIN on your own machine instead",
            "url",
        )
    form = await read_form(request, SCENARIO_LIMIT)
    try:
        headers = tuple(
            parse_header(line) for line in form.get("headers").splitlines() if line.strip()
        )
        wanted = CheckRequest(
            url=form.get("url").strip(),
            origin=form.get("origin").strip(),
            method=form.get("method", "GET").strip() or "GET",
            headers=headers,
            credentials=form.get("credentials", "same-origin"),
            mode=form.get("mode", "cors"),
            body=form.get("body") if form.get("has_body") else None,
        )
        outcomes = await asyncio.to_thread(check, wanted, REAL_BROWSERS)
    except CheckInputError as exc:
        raise BadRequest(422, str(exc), "url") from None
    results = []
    for outcome in outcomes:
        if outcome.scenario is None:
            results.append({"outcome": outcome, "verdicts": (), "understanding": None})
            continue
        scenario = masked(outcome.scenario)
        found = verdicts(scenario, outcome.probe.browsers)
        blocked = next((v.browser for v in found if not v.allowed), outcome.probe.browsers[0])
        results.append(
            {
                "outcome": outcome,
                "verdicts": found,
                "understanding": diagnose(scenario, blocked),
                "open_link": _open_link(session.id, scenario),
            }
        )
    return _page(request, pg, session.id, section="check", checked=wanted, results=results)
