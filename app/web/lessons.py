"""Lesson pages on the site origin: the index with the session's progress, one page per
lesson (setup, question, send, explanation), the answer and explanation fragments (htmx), the
shareable lesson links and ``GET /api/lessons``.

Sending reuses the playground's run machinery: the lesson page holds the lesson's scenario as
a hidden composer form, and ``static/js/runner.js`` posts it to ``/sessions/{id}/runs`` and
sends the real ``fetch()``. ``app.web.site`` lists these handlers in its route table, so this
module imports nothing from it at import time.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup, escape

from app.cors import Scenario, predict
from app.cors.engines import compare_engines
from app.lessons import (
    LESSONS,
    REFERENCE_BROWSER,
    Answer,
    Lesson,
    ProgressStore,
    expected_fields,
    lesson,
    neighbours,
)
from app.lessons.model import relevant_headers
from app.runs.share import share_url
from app.runs.store import Run, Session
from app.web.main import PG, Playground

MAX_ANSWER_BYTES = 2048


def progress_store(request: Request) -> ProgressStore:
    """The site's lesson progress: bounded like the run store, created on first use."""
    state = request.app.state
    store: ProgressStore | None = getattr(state, "lesson_progress", None)
    if store is None:
        settings = state.playground.settings
        store = ProgressStore(max_sessions=settings.max_sessions, session_ttl=settings.session_ttl)
        state.lesson_progress = store
    return store


Progress = Annotated[ProgressStore, Depends(progress_store)]

_CODE = re.compile(r"`([^`]+)`")


def rich(text: str) -> Markup:
    """Escaped text with `backticks` as <code>."""
    return Markup(_CODE.sub(r"<code>\1</code>", str(escape(text))))


class Origins:
    """The page's origin and its API origin, as the composer uses them."""

    def __init__(self, pg: Playground, request: Request) -> None:
        host = pg.page_host(request.url.hostname)
        self.page = pg.site_origin(host)
        self.api = pg.api_origin(host)


def _session(pg: Playground, session_id: str) -> Session:
    session = pg.store.session(session_id, create=True)
    if session is None:
        raise HTTPException(404, "No such session")
    return session


def _lesson(slug: str) -> Lesson:
    found = lesson(slug)
    if found is None:
        raise HTTPException(404, "No such lesson")
    return found


def _number(item: Lesson) -> int:
    return LESSONS.index(item) + 1


def share_link(scenario: Scenario) -> str:
    return share_url(scenario)


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


def _text(item: Lesson, origins: Origins) -> Any:
    def text(sentence: str) -> Markup:
        return rich(item.text(sentence, origins.page, origins.api))

    return text


# --- pages ------------------------------------------------------------------------------------


async def start_lessons(request: Request, pg: PG) -> RedirectResponse:
    """The lessons, in a new session."""
    session = pg.store.new_session()
    return RedirectResponse(f"/sessions/{session.id}/lessons", 303)


async def start_lesson(slug: str, pg: PG) -> RedirectResponse:
    """A lesson's shareable link: opens it in a new session."""
    _lesson(slug)
    session = pg.store.new_session()
    return RedirectResponse(f"/sessions/{session.id}/lessons/{slug}", 303)


async def lessons_index(
    request: Request, session_id: str, pg: PG, progress: Progress
) -> HTMLResponse:
    """Every lesson in order, with this session's progress."""
    session = _session(pg, session_id)
    answers = progress.answers(session.id)
    return pg.templates.TemplateResponse(
        request,
        "pages/lessons.html",
        {
            "session_id": session.id,
            "lessons": LESSONS,
            "answers": answers,
            "answered": len(answers),
            "correct": sum(1 for a in answers.values() if a.correct),
            "rich": rich,
        },
    )


async def lesson_page(
    request: Request, session_id: str, slug: str, pg: PG, progress: Progress
) -> HTMLResponse:
    """One lesson: setup, the question (asked before sending), Send, and the explanation."""
    session = _session(pg, session_id)
    item = _lesson(slug)
    origins = Origins(pg, request)
    scenario = item.scenario(origins.page, origins.api)
    answer = progress.get(session.id, slug)
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
        "answer": answer,
        "runs": runs,
        "text": _text(item, origins),
        "rich": rich,
        "origins": origins,
        "share": share_link(scenario),
        "console_url": f"{origins.api}/console/{session.id}",
    }
    if done is not None:
        context.update(_explanation(item, origins, done, answer))
    return pg.templates.TemplateResponse(request, "pages/lesson.html", context)


async def read_answer(request: Request) -> str:
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_ANSWER_BYTES:
            raise HTTPException(413, "The answer is too large")
    try:
        values = parse_qs(raw.decode("utf-8"), max_num_fields=10).get("choice", [])
    except (UnicodeDecodeError, ValueError):
        raise HTTPException(400, "The answer is not a form") from None
    return values[0] if values else ""


async def answer_question(
    request: Request, session_id: str, slug: str, pg: PG, progress: Progress
) -> Response:
    """Record the learner's answer (before sending); the question fragment, or back to the page."""
    session = _session(pg, session_id)
    item = _lesson(slug)
    origins = Origins(pg, request)
    choice = await read_answer(request)
    valid = {c.value for c in item.question.choices}
    error = None
    answer = progress.get(session.id, slug)
    if answer is None:
        if choice in valid:
            correct = choice == item.answer(origins.page, origins.api)
            answer = progress.answer(session.id, slug, choice, correct)
        else:
            error = "Pick one of the answers first."
    if request.headers.get("hx-request") != "true":
        if error:
            raise HTTPException(422, error)
        return RedirectResponse(f"/sessions/{session.id}/lessons/{slug}#question", 303)
    return pg.templates.TemplateResponse(
        request,
        "partials/lesson_question.html",
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


async def lesson_explanation(
    request: Request, session_id: str, slug: str, run_id: str, pg: PG, progress: Progress
) -> HTMLResponse:
    """The explanation of a finished run of this lesson, tied to its recorded exchanges."""
    session = _session(pg, session_id)
    item = _lesson(slug)
    run = pg.store.run(run_id)
    if run is None or run.session_id != session.id or run.scenario.id != slug:
        raise HTTPException(404, "No such run of this lesson in this session")
    origins = Origins(pg, request)
    answer = progress.get(session.id, slug)
    if run.browser_result is not None and answer is not None:
        answer = progress.saw_run(session.id, slug, run.id)
    context: dict[str, Any] = {
        "session_id": session.id,
        "lesson": item,
        "text": _text(item, origins),
    }
    context.update(_explanation(item, origins, run, answer))
    return pg.templates.TemplateResponse(request, "partials/lesson_explanation.html", context)


def _explanation(item: Lesson, origins: Origins, run: Run, answer: Answer | None) -> dict[str, Any]:
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
        "attacker": attacker,
        "attacker_prediction": None if attacker is None else predict(attacker),
    }


# --- JSON API ---------------------------------------------------------------------------------


def lesson_json(item: Lesson, origins: Origins) -> dict[str, Any]:
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
        "share": share_link(scenario),
    }


async def api_lessons(request: Request, pg: PG) -> JSONResponse:
    """Every lesson: its scenario on this page's origins, question, answer and the behaviour
    it expects (prediction fields, as the browser harness compares them)."""
    origins = Origins(pg, request)
    return JSONResponse(
        {
            "origin": origins.page,
            "api": origins.api,
            "browser": REFERENCE_BROWSER,
            "lessons": [lesson_json(item, origins) for item in LESSONS],
        }
    )
