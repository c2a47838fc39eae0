"""An attack as a room's question: asked on the host's origins, then run for real in each
attendee's own browser.

The question is one of the attack lab's cases with the attempt that shows it best
(``app.attack.ROOM_ATTACKS``): will the attacker's page read the secret? The right answer for
each engine comes from the engine's prediction for the attacker's request.

After the reveal, an attendee's page asks to send (``prepare``): their attack lab (its id
derives from their session) takes the question's case on the page's own origins, a round of
the attack with the question's one attempt is made, and the page opens, in a frame, the victim
API's login (a new login cookie) which goes on to the attacker's page for that round. Its script
runs the attempt in the attendee's browser and reports what it read to the attacker's log; that
report, with what the victim API recorded, becomes the attendee's result in the room
(``reported``): stolen, refused by CORS, or kept back by a cookie policy, and why.
"""

from __future__ import annotations

import time
from typing import Any

from app.attack import (
    ATTEMPTS,
    BY_ATTEMPT,
    BY_CASE,
    ROOM_KEYS,
    Attack,
    Attempt,
    Case,
    Report,
    Round,
    Stage,
    attempt_scenario,
    room_scenarios,
    room_title,
    site_scenario,
)
from app.attack.fixes import alternatives, current
from app.attack.verdict import judge
from app.attack.view import attack_id, evidence
from app.cors import Prediction, Scenario, predict
from app.cors.engines import ENGINES, compare_engines
from app.fix.secure import find_secure_fix
from app.rooms import QuestionSpec, Result, Room
from app.rooms.model import Question
from app.rooms.questions import PAGE_ORIGIN, REFERENCE_ENGINE, attack_spec, with_origin
from app.runs.agreement import browser_from_user_agent
from app.runs.errors import BadRequest
from app.runs.origins import OriginPair
from app.runs.store import Run, Session, new_id
from app.web.deps import changing_attack
from app.web.state import Playground

#: Stands for the attacker's origin (on the page's own host name) in a question's scenario.
ATTACKER_ORIGIN = "{attacker-origin}"
NOTE = (
    "Room “{room}”, question {number}: the attacker's page sent this request from your "
    "browser; the victim API answered with the question's policy."
)


def stage(origins: OriginPair, attacker_port: int) -> Stage:
    """Where a page's attack happens: the attacker on another port of the page's host name
    (the same site, so every browser's cookie rules let the login cookie go along)."""
    return Stage.of(origins, attacker_port, "same")


def choices(origins: OriginPair, attacker_port: int) -> list[tuple[str, str]]:
    """The attacks a host can ask about: (key, title), on the host page's origins."""
    here = stage(origins, attacker_port)
    return [(s.id.removeprefix("attack-"), title) for title, s in room_scenarios(here) if s.id]


def _parts(key: object) -> tuple[Case, Attempt]:
    found = ROOM_KEYS.get(key) if isinstance(key, str) else None
    if found is None:
        raise BadRequest(422, f"attack: choose one of {', '.join(ROOM_KEYS)}", "attack")
    case, attempt = found
    return BY_CASE[case], BY_ATTEMPT[attempt]


def _why(case: Case, attempt: Attempt, where: Stage, prediction: Prediction) -> str:
    """The reference engine's answer in a sentence (no markup)."""
    who = (
        "a sandboxed frame on the attacker's page (Origin: null)"
        if attempt.sandboxed
        else f"the attacker's page ({where.attacker})"
    )
    if prediction.outcome != "allowed":
        step = prediction.failed_step
        because = f": {step.detail}" if step is not None else ""
        return (
            f"Chromium refuses {who} the read{because}. The request still reaches the API, "
            "with your login cookie: CORS stops the script from reading the answer, not the "
            "request."
        )
    if attempt.credentials != "include":
        return (
            f"Chromium lets {who} read the answer, but without cookies the API cannot tell who "
            "asks: it answers 401, nothing secret."
        )
    danger = case.text(case.danger, where).replace("`", "") if case.danger else ""
    return (
        f"Chromium lets {who} read the answer to a request made with your cookies: the secret "
        "is the attacker's whenever your browser sends the login cookie (should its cookie "
        f"rules keep the cookie back, that is not CORS). {danger}"
    ).strip()


def _document(scenario: Scenario, where: Stage) -> dict[str, Any]:
    """The attacker's request as the room shows it: the attacker's origin and the site's as
    placeholders, so each page shows its own."""
    doc = scenario.to_json()
    doc.pop("url", None)
    doc.pop("id", None)
    origin = doc.get("origin")
    doc = with_origin(with_origin(doc, where.attacker, ATTACKER_ORIGIN), where.site, PAGE_ORIGIN)
    doc["origin"] = ATTACKER_ORIGIN if origin == where.attacker else origin
    return doc


def question(
    key: object, title: str | None, origins: OriginPair, attacker_port: int
) -> QuestionSpec:
    """The attack question ``key`` (``reflect-page``...), on the host page's origins."""
    case, attempt = _parts(key)
    here = stage(origins, attacker_port)
    scenario = attempt_scenario(case.policy(here), here, attempt)
    predictions = {engine: predict(scenario, engine) for engine in ENGINES}
    notes = tuple(d.sentence for d in compare_engines(scenario, REFERENCE_ENGINE))
    return attack_spec(
        f"{case.key}-{attempt.key}",
        title or room_title(case, attempt, here),
        scenario,
        predictions,
        why=_why(case, attempt, here, predictions[REFERENCE_ENGINE]),
        engine_notes=notes,
        doc=_document(scenario, here),
    )


async def prepare(
    pg: Playground,
    session: Session,
    origins: OriginPair,
    room: Room,
    asked: Question,
    browser: str,
) -> tuple[str, dict[str, Any]]:
    """Set the attendee's attack to the question's case and make the round their browser
    runs: its run id, and what the page needs to run it (the frame's address: the victim
    API's login, going on to the attacker's page for that round)."""
    case, attempt = _parts(asked.spec.attack)
    aid = attack_id(session.id)
    lab = await pg.store.session(aid, create=True)
    assert lab is not None
    here = stage(origins, pg.settings.attacker_port)
    policy = case.policy(here)
    await pg.attacks.start(aid, here, policy, case.key)
    async with changing_attack(pg, aid) as attack:
        attack.stage, attack.policy, attack.case, attack.lesson = here, policy, case.key, ""
        attack.home = f"{origins.page}/sessions/{session.id}"
        found = attack.new_round()
        run_id = new_id()
        url = here.account_url(aid, run_id)
        scenario = attempt_scenario(policy, here, attempt, url)
        note = NOTE.format(room=room.title, number=asked.number)
        await pg.store.add_run(
            lab, scenario, predict(scenario, browser), run_id=run_id, target=url, notes=(note,)
        )
        found.runs[attempt.key] = run_id
    return run_id, {
        "frame": f"{here.login_url(aid)}?go=attacker&round={found.number}",
        "attacker": here.attacker,
        "api": here.api,
        "attempt": attempt.label,
    }


async def reported(
    pg: Playground,
    attack: Attack,
    run: Run,
    found: Round,
    attempt_key: str,
    report: Report,
    user_agent: str,
) -> bool:
    """The attacker's page reported an attempt: when it was a room question's, record the
    attendee's result (what the attacker's log got, what the victim API recorded, and the
    verdict with its reason). True when the room changed (its events are then to publish)."""
    member = await pg.rooms.membership(attack.id)
    if member is None or run.browser_result is None:
        return False
    room, attendee = member
    asked = pg.rooms.question_of_run(room, attendee, run.id)
    if asked is None or attendee.number in asked.results:
        return False
    browser = browser_from_user_agent(user_agent)
    attempt = BY_ATTEMPT[attempt_key]
    seen = evidence(attack, run, report)
    view = judge(
        attempt,
        run.id,
        found.stage,
        seen,
        logged_in=found.logged_in,
        browser=browser.profile,
        expected_answer=found.policy.answer(attempt.origin(found.stage)),
    )
    await pg.rooms.saw_browser(room, attendee, browser.label, browser.family)
    await pg.rooms.record_result(
        room,
        attendee,
        asked,
        Result(
            run_id=run.id,
            browser=run.browser_result.browser,
            engine=browser.family,
            outcome=run.browser_result.outcome,
            predicted=run.prediction.outcome,
            agreement=bool(run.agreement),
            differences=run.differences,
            at=time.time(),
            stolen=report.stolen,
            verdict=view.verdict,
            reason=view.sentence.replace("`", ""),
            recorded=(
                ("origin", seen.origin_sent),
                ("login_cookies", seen.carried),
                ("status", seen.status),
                ("secret_in_attackers_log", report.stolen),
            ),
        ),
    )
    return True


def explanation(spec: QuestionSpec, origins: OriginPair, attacker_port: int) -> dict[str, Any]:
    """What the host page explains after the reveal: the policy judged, and the smallest fix
    that refuses every attacker's read while the site keeps reading its account (the fix
    search with a security goal), with the usual changes judged."""
    case, attempt = _parts(spec.attack)
    here = stage(origins, attacker_port)
    policy = case.policy(here)
    attacks = [attempt_scenario(policy, here, a) for a in ATTEMPTS]
    return {
        "case": case,
        "attempt": attempt,
        "stage": here,
        "secure": find_secure_fix(site_scenario(policy, here), attacks, REFERENCE_ENGINE),
        "assessment": current(policy, here),
        "alternatives": alternatives(policy, here),
    }


__all__ = [
    "ATTACKER_ORIGIN",
    "choices",
    "explanation",
    "prepare",
    "question",
    "reported",
    "stage",
]
