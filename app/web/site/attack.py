"""The attack lab on the site origin: pick a misconfiguration, log in to the victim API, open
the attacker's page and watch your own browser hand it the secret; then apply the smallest
fix and replay the same attack to watch it fail. Also its lesson sequence.

The attack itself is ``app/attack`` (the policies, the verdicts, the changes judged) and the
fix search with a security goal is ``app/fix/secure.py``; this module keeps each learner's
attack (its id derives from the session, unguessably), renders the live view
(``templates/attack/``) that ``static/js/attack.js`` fetches again on every event of the
attack's session stream, and sends the site's own account read through the shared runner.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup

from app.attack import ATTEMPTS, BY_CASE, CASES, RULES, Attack, Policy, Stage
from app.attack.cases import attempt_scenario, site_scenario
from app.attack.fixes import alternatives, current
from app.attack.policy import policy_from_form
from app.attack.stage import ATTACKER_SITES
from app.attack.verdict import COOKIE_POLICIES
from app.attack.view import SITE_CHECK, attack_id, lab_view
from app.cors import PROFILES, predict
from app.fix.secure import find_secure_fix
from app.lessons.catalogue import ATTACK_LESSONS
from app.lessons.model import Lesson
from app.runs.agreement import browser_from_user_agent
from app.runs.errors import BadRequest
from app.runs.origins import OriginPair
from app.runs.store import Session, new_id
from app.web.deps import (
    CHOICES_LIMIT,
    PG,
    CurrentSession,
    Origins,
    browser_profile,
    changing_attack,
    read_form,
)
from app.web.render import rich
from app.web.state import Playground

router = APIRouter()

NOTE = (
    "Attack lab: your own site read your account from the victim API; the API answered with "
    "the policy picked in the lab."
)
DEFAULT_CASE = "reflect"
# The fields of the policy form besides the extra rows.
POLICY_FIELDS = ("case", "rule", "credentials", "allowed", "trusted", "where")


async def the_attack(
    pg: Playground, session: Session, pair: OriginPair, home: str = ""
) -> Attack:
    """The session's attack (made on first use), on the origins of the page that asks;
    ``home`` is that page's path when it is not the lab (a lesson)."""
    aid = attack_id(session.id)
    await pg.store.session(aid, create=True)
    await pg.store.mark_used(session)
    stage = Stage.of(pair, pg.settings.attacker_port)
    case = BY_CASE[DEFAULT_CASE]
    await pg.attacks.start(aid, stage, case.policy(stage), case.key)
    async with changing_attack(pg, aid) as attack:
        attack.home = pair.page + (home or f"/sessions/{session.id}/attack")
        if attack.stage.site != pair.page or attack.stage.api != pair.api:
            moved = Stage.of(pair, pg.settings.attacker_port, attack.stage.where)
            attack.stage = moved
            if attack.case is not None:
                attack.policy = BY_CASE[attack.case].policy(moved)
    return attack


def _secure_fix(attack: Attack, browser: str) -> Any:
    stage, policy = attack.stage, attack.policy
    attacks = [attempt_scenario(policy, stage, a) for a in ATTEMPTS]
    return find_secure_fix(site_scenario(policy, stage), attacks, browser)


async def view_context(pg: Playground, attack: Attack, request: Request) -> dict[str, Any]:
    """Everything the live view shows, computed once."""
    browser = browser_from_user_agent(request.headers.get("user-agent", ""))
    profile = browser.profile
    lab = await pg.store.session(attack.id)  # the attack's runs are kept in a session of its own
    view = lab_view(attack, (lab.runs if lab is not None else {}).get, profile)
    secure = _secure_fix(attack, profile if profile in PROFILES else "chromium")
    return {
        "attack": attack,
        "view": view,
        "latest": view.rounds[0] if view.rounds else None,
        "check": view.site_checks[0] if view.site_checks else None,
        "secure": secure,
        "assessment": current(attack.policy, attack.stage),
        "alternatives": alternatives(attack.policy, attack.stage),
        "browser_label": browser.label,
        "profile": profile,
        "cookie_policies": COOKIE_POLICIES,
        "rich": rich,
        "fixed_already": secure.policy is not None
        and _fixed_policy(secure.policy, attack) == attack.policy,
    }


def _fixed_policy(policy: Any, attack: Attack) -> Policy:
    """The lab's policy for the fix search's explicit one: the site's origin exactly."""
    if policy.origin == "*":
        return Policy("any", False, rows=attack.policy.rows if attack.policy.rule != "rows" else ())
    return Policy("list", policy.credentials, allowed=(policy.origin,))


async def page_context(
    pg: Playground, attack: Attack, session: Session, request: Request
) -> dict[str, Any]:
    stage = attack.stage
    pair = pg.settings.request_origins(
        request.headers.get("host"), (request.scope.get("server") or ("", 0))[1]
    )
    return {
        "session_id": session.id,
        "attack_id": attack.id,
        "stage": stage,
        "pair": pair,
        "cases": CASES,
        "rules": RULES,
        "attacker_sites": ATTACKER_SITES,
        "cross_stage": Stage.of(pair, pg.settings.attacker_port, "cross"),
        "login_url": f"{stage.login_url(attack.id)}?go=lab",
        "logout_url": f"{stage.api}/victim/{attack.id}/logout",
        "one_click_url": f"{stage.login_url(attack.id)}?go=attacker",
        "attacker_url": stage.attacker_page(attack.id),
        "attacker_log_url": f"{stage.attacker}/a/{attack.id}/log",
        "console_url": f"{stage.api}/console/{attack.id}",
        "events_url": f"/sessions/{attack.id}/events",
        **(await view_context(pg, attack, request)),
    }


# --- pages --------------------------------------------------------------------------------


@router.get("/attack", response_class=RedirectResponse)
async def start(pg: PG) -> RedirectResponse:
    """The attack lab, in a new session."""
    session = await pg.store.new_session()
    return RedirectResponse(f"/sessions/{session.id}/attack", 303)


@router.get("/sessions/{session_id}/attack", response_class=HTMLResponse)
async def attack_page(
    request: Request, session: CurrentSession, origins: Origins, pg: PG
) -> HTMLResponse:
    """The attack lab: the policy, the steps, and the live view side by side."""
    attack = await the_attack(pg, session, origins)
    return pg.templates.TemplateResponse(
        request, "attack/page.html", await page_context(pg, attack, session, request)
    )


@router.get("/sessions/{session_id}/attack/view", response_class=HTMLResponse)
async def attack_view(
    request: Request, session: CurrentSession, origins: Origins, pg: PG, lesson: str = ""
) -> HTMLResponse:
    """The live part of the lab as it is now (the page fetches it on every event); with
    ``lesson``, as that attack lesson shows it."""
    found = BY_LESSON.get(lesson) if lesson else None
    home = f"/sessions/{session.id}/attack/lessons/{found.slug}" if found else ""
    attack = await the_attack(pg, session, origins, home)
    context = await page_context(pg, attack, session, request)
    if found is not None:
        context["lesson"] = found
    return pg.templates.TemplateResponse(request, "attack/view.html", context)


def _done(request: Request, session: Session, anchor: str = "") -> Response:
    if "json" in request.headers.get("accept", ""):
        return JSONResponse({"ok": True})
    return RedirectResponse(f"/sessions/{session.id}/attack{anchor}", 303)


@router.post("/sessions/{session_id}/attack/policy", response_class=JSONResponse)
async def set_policy(
    request: Request, session: CurrentSession, origins: Origins, pg: PG
) -> Response:
    """Use a classic misconfiguration (``case``) or a policy written by hand
    (``case=custom``: ``rule``, ``credentials``, ``allowed``, ``trusted`` and ``row_name`` /
    ``row_value`` pairs), with the attacker's page on the same site or another (``where``)."""
    attack = await the_attack(pg, session, origins)
    form = await read_form(request, CHOICES_LIMIT * 4)
    fields = {k: v for k, v in form.pairs if k in POLICY_FIELDS}
    where = fields.get("where", attack.stage.where)
    if where not in ATTACKER_SITES:
        raise BadRequest(422, f"where must be one of {', '.join(ATTACKER_SITES)}", "where")
    if where == "cross" and not origins.cross_available:
        raise BadRequest(
            422,
            f"the other host name is only this machine on localhost or 127.0.0.1; from "
            f"{origins.host} it would be your own computer",
            "where",
        )
    stage = Stage.of(origins, pg.settings.attacker_port, where)
    key = fields.get("case", "custom")
    if key == "custom":
        names = [v for k, v in form.pairs if k == "row_name"]
        values = [v for k, v in form.pairs if k == "row_value"]
        if len(names) != len(values):
            raise BadRequest(422, "each extra row needs a name and a value", "rows")
        rows = [(n, v) for n, v in zip(names, values, strict=True) if n.strip() or v.strip()]
        policy = policy_from_form(fields, rows, stage)
        case = None
    elif key in BY_CASE:
        policy = BY_CASE[key].policy(stage)
        case = key
    else:
        raise BadRequest(422, f"case must be one of {', '.join(BY_CASE)} or custom", "case")
    async with changing_attack(pg, attack.id) as attack:
        attack.stage, attack.policy, attack.case, attack.lesson = stage, policy, case, ""
    return _done(request, session, "#steps")


@router.post("/sessions/{session_id}/attack/fix", response_class=JSONResponse)
async def apply_fix(
    request: Request, session: CurrentSession, origins: Origins, pg: PG
) -> Response:
    """Apply the smallest change that stops the attack (the fix search's policy)."""
    form = dict((await read_form(request, CHOICES_LIMIT)).pairs)
    lesson = BY_LESSON.get(form.get("lesson", ""))
    home = f"/sessions/{session.id}/attack/lessons/{lesson.slug}" if lesson else ""
    attack = await the_attack(pg, session, origins, home)
    profile = browser_profile(request)
    secure = _secure_fix(attack, profile if profile in PROFILES else "chromium")
    if secure.policy is None:
        raise BadRequest(409, "no change to the server's answers stops this attack", "policy")
    async with changing_attack(pg, attack.id) as attack:
        attack.policy = _fixed_policy(secure.policy, attack)
        exact = BY_CASE["allow-list"].policy(attack.stage)
        attack.case = "allow-list" if attack.policy == exact else None
    if lesson is not None:
        if "json" in request.headers.get("accept", ""):
            return JSONResponse({"ok": True})
        return RedirectResponse(f"{home}#fix", 303)
    return _done(request, session, "#fix")


@router.post("/sessions/{session_id}/attack/site-check", response_class=JSONResponse)
async def site_check(
    request: Request, session: CurrentSession, origins: Origins, pg: PG
) -> JSONResponse:
    """A run of your own site reading the account with cookies (the page's runner sends it)."""
    attack = await the_attack(pg, session, origins)
    lab = await pg.store.session(attack.id, create=True)
    assert lab is not None
    run_id = new_id()
    url = attack.stage.account_url(attack.id, run_id)
    scenario = replace(site_scenario(attack.policy, attack.stage, url), id=SITE_CHECK)
    run = await pg.store.add_run(
        lab,
        scenario,
        predict(scenario, browser_profile(request)),
        run_id=run_id,
        target=url,
        notes=(NOTE,),
    )
    async with changing_attack(pg, attack.id) as attack:
        attack.site_runs.append(run.id)
    return JSONResponse(
        {
            "run_id": run.id,
            "target": run.target,
            "init": run.fetch_init,
            "card": "",
            "result": f"/sessions/{attack.id}/runs/{run.id}/result",
        },
        status_code=201,
    )


# --- the lesson sequence ------------------------------------------------------------------

BY_LESSON = {lesson.slug: lesson for lesson in ATTACK_LESSONS}


def known_lesson(slug: str) -> Lesson:
    found = BY_LESSON.get(slug)
    if found is None:
        raise BadRequest(404, "no such attack lesson: see the list at /attack/lessons", "slug")
    return found


def lesson_case(lesson: Lesson) -> str:
    """The lab's case a lesson runs: its slug names it (attack-<case>)."""
    return lesson.slug.removeprefix("attack-")


def lesson_origin(lesson: Lesson, stage: Stage) -> str:
    """The origin the lesson's request comes from: the attacker's page, or its sandboxed
    frame's ``null``."""
    return "null" if "sandboxed" in lesson.topics else stage.attacker


def lesson_text(lesson: Lesson, stage: Stage) -> Any:
    origin = lesson_origin(lesson, stage)

    def text(sentence: str) -> Markup:
        return rich(lesson.text(sentence, origin, stage.api))

    return text


@router.get("/attack/lessons", response_class=RedirectResponse)
async def start_lessons(pg: PG) -> RedirectResponse:
    """The attack lessons, in a new session."""
    session = await pg.store.new_session()
    return RedirectResponse(f"/sessions/{session.id}/attack/lessons", 303)


@router.get("/sessions/{session_id}/attack/lessons", response_class=HTMLResponse)
async def lessons_index(request: Request, session: CurrentSession, pg: PG) -> HTMLResponse:
    """The attack lessons in order, with this session's answers."""
    answers = await pg.progress.answers(session.id)
    return pg.templates.TemplateResponse(
        request,
        "attack/lessons.html",
        {
            "session_id": session.id,
            "lessons": ATTACK_LESSONS,
            "answers": answers,
            "answered": sum(1 for item in ATTACK_LESSONS if item.slug in answers),
            "rich": rich,
        },
    )


@router.get("/sessions/{session_id}/attack/lessons/{slug}", response_class=HTMLResponse)
async def lesson_page(
    request: Request, session: CurrentSession, slug: str, origins: Origins, pg: PG
) -> HTMLResponse:
    """One attack lesson: the setup, the question, then the attack itself in the lab, the
    explanation, the fix and the replay."""
    lesson = known_lesson(slug)
    home = f"/sessions/{session.id}/attack/lessons/{slug}"
    attack = await the_attack(pg, session, origins, home)
    if attack.lesson != slug:
        # Opening a lesson sets the lab to its case (the same site: every browser's cookies go).
        stage = Stage.of(origins, pg.settings.attacker_port, "same")
        case = BY_CASE[lesson_case(lesson)]
        async with changing_attack(pg, attack.id) as attack:
            attack.stage, attack.policy, attack.case, attack.lesson = (
                stage,
                case.policy(stage),
                case.key,
                slug,
            )
    index = ATTACK_LESSONS.index(lesson)
    answer = await pg.progress.get(session.id, slug)
    origin = lesson_origin(lesson, attack.stage)
    context = await page_context(pg, attack, session, request)
    context.update(
        {
            "lesson": lesson,
            "number": index + 1,
            "total": len(ATTACK_LESSONS),
            "before": ATTACK_LESSONS[index - 1] if index > 0 else None,
            "after": ATTACK_LESSONS[index + 1] if index + 1 < len(ATTACK_LESSONS) else None,
            "answer": answer,
            "truth": lesson.answer(origin, attack.stage.api),
            "text": lesson_text(lesson, attack.stage),
            "steps_title": "Run it: log in, then visit the attacker",
            "login_url": f"{attack.stage.login_url(attack.id)}?go=lab",
        }
    )
    return pg.templates.TemplateResponse(request, "attack/lesson.html", context)


@router.post("/sessions/{session_id}/attack/lessons/{slug}/answer", response_class=HTMLResponse)
async def answer_lesson(
    request: Request, session: CurrentSession, slug: str, origins: Origins, pg: PG
) -> Response:
    """Record the learner's answer (before the attack runs), then back to the lesson."""
    lesson = known_lesson(slug)
    form = await read_form(request, CHOICES_LIMIT)
    choice = form.get("choice")
    if await pg.progress.get(session.id, slug) is None:
        if choice not in {c.value for c in lesson.question.choices}:
            raise BadRequest(422, "Pick one of the answers first.", "choice")
        stage = Stage.of(origins, pg.settings.attacker_port, "same")
        truth = lesson.answer(lesson_origin(lesson, stage), stage.api)
        await pg.progress.answer(session.id, slug, choice, choice == truth)
        await pg.store.mark_used(session)
    return RedirectResponse(f"/sessions/{session.id}/attack/lessons/{slug}#run", 303)
