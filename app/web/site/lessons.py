"""Lesson pages on the site origin: the index with the session's progress, one page per
lesson (setup, question, send, explanation), the answer and explanation fragments (htmx), the
shareable lesson links and ``GET /api/lessons``.

Sending reuses the playground's run machinery: the lesson page holds the lesson's scenario as
a hidden composer form, and the shared runner script posts it to ``/sessions/{id}/runs`` and
sends the real ``fetch()``. A lesson about a whole fetch (redirects) posts to its own
``/sessions/{id}/lessons/{slug}/runs`` instead, which keeps the run with its hops answered below
the run's URL.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup, escape

from app.cors import Scenario, predict
from app.cors.engines import compare_engines
from app.lessons import (
    LESSONS,
    REFERENCE_BROWSER,
    Answer,
    Lesson,
    expected_fields,
    lesson,
    neighbours,
)
from app.lessons.model import relevant_headers
from app.runs.answers import added_readable_headers
from app.runs.errors import BadRequest
from app.runs.origins import OriginPair
from app.runs.share import share_url
from app.runs.store import Run, Session, new_id
from app.web import render, room_events
from app.web.deps import CHOICES_LIMIT, PG, CurrentSession, Origins, browser_profile, read_form

router = APIRouter()

_CODE = re.compile(r"`([^`]+)`")


def rich(text: str) -> Markup:
    """Escaped text with `backticks` as <code>."""
    return Markup(_CODE.sub(r"<code>\1</code>", str(escape(text))))


def known_lesson(slug: str) -> Lesson:
    """The lesson named in the path (refused with 404 when there is none)."""
    found = lesson(slug)
    if found is None:
        raise BadRequest(404, "no such lesson: see the list at /lessons", "slug")
    return found


def _number(item: Lesson) -> int:
    return LESSONS.index(item) + 1


def fetch_code(scenario: Scenario) -> str:
    """The page's fetch() call for this scenario, as JavaScript."""
    request = scenario.request
    options: list[str] = []
    if request.method != "GET":
        options.append(f"method: {json.dumps(request.method)}")
    if request.headers:
        pairs = ", ".join(f"[{json.dumps(n)}, {json.dumps(v)}]" for n, v in request.headers)
        options.append(f"headers: [{pairs}]")
    if request.credentials != "same-origin":
        options.append(f"credentials: {json.dumps(request.credentials)}")
    if request.mode != "cors":
        options.append(f"mode: {json.dumps(request.mode)}")
    if request.body is not None:
        options.append(f"body: {json.dumps(request.body)}")
    if request.redirect != "follow":
        options.append(f"redirect: {json.dumps(request.redirect)}")
    if not options:
        return "fetch(url)"
    return "fetch(url, {\n  " + ",\n  ".join(options) + "\n})"


def form_fields(scenario: Scenario, slug: str) -> list[tuple[str, str]]:
    """The composer's form fields for the scenario: what runner.js posts to create a run."""
    request = scenario.request
    fields = [("scenario_id", slug), ("target", "same"), ("method", request.method)]
    for name, value in request.headers:
        fields += [("rq_name", name), ("rq_value", value)]
    if request.body is not None:
        fields += [("has_body", "1"), ("body", request.body)]
    fields += [("credentials", request.credentials), ("mode", request.mode)]
    for prefix, answer in (("pf", scenario.preflight_response), ("rs", scenario.response)):
        fields.append((f"{prefix}_status", str(answer.status)))
        for name, value in answer.headers:
            fields += [(f"{prefix}_name", name), (f"{prefix}_value", value)]
    return fields


def _lesson_runs(session: Session, slug: str) -> list[Run]:
    return [r for r in reversed(session.runs.values()) if r.scenario.id == slug]


def _text(item: Lesson, origins: OriginPair) -> Any:
    def text(sentence: str) -> Markup:
        return rich(item.text(sentence, origins.page, origins.api))

    return text


# --- pages ------------------------------------------------------------------------------------


async def known_run(session: Session, item: Lesson, run_id: str, pg: PG) -> Run:
    run = await pg.store.run(run_id)
    if run is None or run.session_id != session.id or run.scenario.id != item.slug:
        raise BadRequest(404, "no such run of this lesson in this session", "run")
    return run


@router.get("/lessons", response_class=RedirectResponse)
async def start_lessons(pg: PG) -> RedirectResponse:
    """The lessons, in a new session."""
    session = await pg.store.new_session()
    return RedirectResponse(f"/sessions/{session.id}/lessons", 303)


@router.get("/lessons/{slug}", response_class=RedirectResponse)
async def start_lesson(slug: str, pg: PG) -> RedirectResponse:
    """A lesson's shareable link: opens it in a new session."""
    known_lesson(slug)
    session = await pg.store.new_session()
    return RedirectResponse(f"/sessions/{session.id}/lessons/{slug}", 303)


@router.get("/sessions/{session_id}/lessons", response_class=HTMLResponse)
async def lessons_index(request: Request, session: CurrentSession, pg: PG) -> HTMLResponse:
    """Every lesson in order, with this session's progress."""
    answers = await pg.progress.answers(session.id)
    return pg.templates.TemplateResponse(
        request,
        "lessons/index.html",
        {
            "session_id": session.id,
            "lessons": LESSONS,
            "answers": answers,
            "answered": len(answers),
            "correct": sum(1 for a in answers.values() if a.correct),
            "rich": rich,
        },
    )


@router.get("/sessions/{session_id}/lessons/{slug}", response_class=HTMLResponse)
async def lesson_page(
    request: Request, session: CurrentSession, slug: str, origins: Origins, pg: PG
) -> HTMLResponse:
    """One lesson: setup, the question (asked before sending), Send, and the explanation."""
    item = known_lesson(slug)
    scenario = item.scenario(origins.page, origins.api)
    answer = await pg.progress.get(session.id, slug)
    runs = _lesson_runs(session, slug)
    done = next((r for r in runs if r.browser_result is not None), None)
    before, after = neighbours(slug)
    context: dict[str, Any] = {
        "session_id": session.id,
        "lesson": item,
        "number": _number(item),
        "total": len(LESSONS),
        "before": before,
        "after": after,
        "scenario": scenario,
        "fetch_code": fetch_code(scenario),
        "form_fields": form_fields(scenario, slug),
        "runs_url": f"/sessions/{session.id}/lessons/{slug}/runs"
        if item.whole_fetch
        else f"/sessions/{session.id}/runs",
        "answer": answer,
        "runs": runs,
        "cards": render.cards_html(pg.templates, runs, own=True),
        "text": _text(item, origins),
        "rich": rich,
        "origins": origins,
        "share": share_url(scenario),
        "console_url": f"{origins.api}/console/{session.id}",
    }
    if done is not None:
        context.update(_explanation(item, origins, done, answer))
    return pg.templates.TemplateResponse(request, "lessons/page.html", context)


@router.post("/sessions/{session_id}/lessons/{slug}/runs", response_class=JSONResponse)
async def create_lesson_run(
    request: Request, session: CurrentSession, slug: str, origins: Origins, pg: PG
) -> JSONResponse:
    """Send a whole-fetch lesson: its run at its own URL, the hops its redirects lead to below
    it, predicted for the learner's browser; what the page's fetch() needs, with the card."""
    item = known_lesson(slug)
    if not item.whole_fetch:
        raise BadRequest(
            404, "this lesson is sent like a composer run: POST it to /sessions/{id}/runs", "lesson"
        )
    run_id = new_id()
    target = f"{origins.api}/r/{run_id}"
    scenario = item.scenario(origins.page, origins.api, url=target)
    run = await pg.store.add_run(
        session,
        scenario,
        predict(scenario, browser_profile(request)),
        run_id=run_id,
        target=target,
        hops=tuple(hop.response for hop in scenario.hops),
    )
    await room_events.lesson_progress(pg, session.id, slug)
    return JSONResponse(
        {
            "run_id": run.id,
            "target": run.target,
            "init": run.fetch_init,
            "card": render.card_html(pg.templates, run),
            "share": share_url(item.scenario(origins.page, origins.api)),
        },
        status_code=201,
    )


@router.post("/sessions/{session_id}/lessons/{slug}/answer", response_class=HTMLResponse)
async def answer_question(
    request: Request, session: CurrentSession, slug: str, origins: Origins, pg: PG
) -> Response:
    """Record the learner's answer (before sending); the question fragment, or back to the page."""
    item = known_lesson(slug)
    form = await read_form(request, CHOICES_LIMIT)
    choice = form.get("choice")
    valid = {c.value for c in item.question.choices}
    error = None
    answer = await pg.progress.get(session.id, slug)
    if answer is None:
        if choice in valid:
            correct = choice == item.answer(origins.page, origins.api)
            answer = await pg.progress.answer(session.id, slug, choice, correct)
            await pg.store.mark_used(session)
            await room_events.lesson_progress(pg, session.id, slug)  # a room's host sees it live
        else:
            error = "Pick one of the answers first."
    if request.headers.get("hx-request") != "true":
        if error:
            raise BadRequest(422, error, "choice")
        return RedirectResponse(f"/sessions/{session.id}/lessons/{slug}#question", 303)
    return pg.templates.TemplateResponse(
        request,
        "lessons/question.html",
        {
            "session_id": session.id,
            "lesson": item,
            "answer": answer,
            "error": error,
            "text": _text(item, origins),
            "origins": origins,
            "focus_send": True,
        },
    )


@router.get("/sessions/{session_id}/lessons/{slug}/runs/{run_id}", response_class=HTMLResponse)
async def lesson_explanation(
    request: Request, session: CurrentSession, slug: str, run_id: str, origins: Origins, pg: PG
) -> HTMLResponse:
    """The explanation of a finished run of this lesson, tied to its recorded exchanges."""
    item = known_lesson(slug)
    run = await known_run(session, item, run_id, pg)
    answer = await pg.progress.get(session.id, slug)
    if run.browser_result is not None and answer is not None:
        answer = await pg.progress.saw_run(session.id, slug, run.id)
    context: dict[str, Any] = {
        "session_id": session.id,
        "lesson": item,
        "text": _text(item, origins),
    }
    context.update(_explanation(item, origins, run, answer))
    return pg.templates.TemplateResponse(request, "lessons/explanation.html", context)


def _explanation(
    item: Lesson, origins: OriginPair, run: Run, answer: Answer | None
) -> dict[str, Any]:
    """What the explanation shows: the answer, what this run did, the deciding headers."""
    question = item.question
    truth = item.answer(origins.page, origins.api)
    preflights = run.preflights
    actuals = run.actuals
    result = run.browser_result
    seen = None
    if result is not None:
        seen = question.observed(
            preflight_headers=preflights[0].request.headers if preflights else None,
            actual_sent=bool(actuals),
            outcome=result.outcome,
            readable=result.readable_headers,
            actual_methods=[e.request.method for e in actuals],
            preflights=len(preflights),
        )
    evidence = [
        (
            exchange,
            relevant_headers(exchange.request.headers, item.focus),
            relevant_headers(exchange.response.headers, item.focus, response=True),
        )
        for exchange in run.exchanges
    ]
    attacker = item.attacker_scenario(origins.page, origins.api)
    before, after = neighbours(item.slug)
    return {
        "before": before,
        "after": after,
        "run": run,
        "truth": truth,
        "seen": seen,
        "answer": answer,
        "evidence": evidence,
        "prediction": run.prediction,
        "engine_differences": compare_engines(run.scenario, run.prediction.browser),
        "framing_readable": added_readable_headers(run.scenario, run.prediction),
        "attacker": attacker,
        "attacker_prediction": None if attacker is None else predict(attacker),
    }


# --- JSON API ---------------------------------------------------------------------------------


def lesson_json(item: Lesson, origins: OriginPair) -> dict[str, Any]:
    scenario = item.scenario(origins.page, origins.api)
    prediction = predict(scenario, REFERENCE_BROWSER)

    def text(sentence: str) -> str:
        return item.text(sentence, origins.page, origins.api)

    attacker = item.attacker_scenario(origins.page, origins.api)
    return {
        "slug": item.slug,
        "number": _number(item),
        "title": item.title,
        "topics": list(item.topics),
        "dangerous": item.dangerous,
        "danger": None if item.danger is None else text(item.danger),
        "setup": [text(s) for s in item.setup],
        "question": {
            "kind": item.question.kind,
            "prompt": text(item.question.prompt),
            "header": item.question.header,
            "choices": [{"value": c.value, "label": c.label} for c in item.question.choices],
            "answer": item.question.answer(prediction),
        },
        "explanation": [text(s) for s in item.explanation],
        "scenario": scenario.to_json(),
        "expected": expected_fields(prediction),
        "engines": [
            {"engine": d.engine, "sentence": d.sentence}
            for d in compare_engines(scenario, REFERENCE_BROWSER)
        ],
        "attacker": None
        if attacker is None
        else {
            "origin": attacker.origin,
            "scenario": attacker.to_json(),
            "expected": expected_fields(predict(attacker, REFERENCE_BROWSER)),
        },
        "links": [{"label": link.label, "url": link.url} for link in item.links],
        "page": f"/lessons/{item.slug}",
        "share": share_url(scenario),
    }


@router.get("/api/lessons", response_class=JSONResponse)
async def api_lessons(origins: Origins) -> JSONResponse:
    """Every lesson: its scenario on this page's origins, question, answer and the behaviour
    it expects (prediction fields, as the browser harness compares them)."""
    return JSONResponse(
        {
            "origin": origins.page,
            "api": origins.api,
            "browser": REFERENCE_BROWSER,
            "lessons": [lesson_json(item, origins) for item in LESSONS],
        }
    )
