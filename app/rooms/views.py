"""What each audience of a room sees, as JSON-ready dicts: the host (everything), the
projector (counts and tallies, never a name) and the attendees (the question, and the room's
tallies once revealed; never another attendee's name or run)."""

from __future__ import annotations

from typing import Any

from app.rooms.model import ENGINE_LABELS, Attendee, Question, Result, Room, engine_label

ENGINE_ORDER = (*ENGINE_LABELS, "unknown")
OUTCOME_ORDER = ("allowed", "blocked", "opaque", "error")


def room_meta(room: Room) -> dict[str, Any]:
    return {
        "title": room.title,
        "code": room.code,
        "state": room.state,
        "attendees": room.present_count,
        "connected": room.connected,
        "questions": len(room.questions),
    }


def tally(room: Room, question: Question, *, split: bool = True) -> dict[str, Any]:
    """How many answered, of how many connected, and (with ``split``) how many chose what."""
    doc: dict[str, Any] = {
        "question": question.number,
        "answered": len(question.answers),
        "connected": room.connected,
        "attendees": room.present_count,
    }
    if split:
        counts = dict.fromkeys((value for value, _ in question.spec.choices), 0)
        for answer in question.answers.values():
            counts[answer.choice] = counts.get(answer.choice, 0) + 1
        doc["counts"] = [
            {"value": value, "label": question.spec.label(value), "count": count}
            for value, count in counts.items()
        ]
        if question.state == "revealed":
            doc["correct"] = sum(1 for a in question.answers.values() if a.correct)
    return doc


def result_groups(question: Question) -> list[dict[str, Any]]:
    """What the room's browsers did, grouped by engine and outcome: how many, and how many of
    them did what the engine predicts for that browser."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for result in question.results.values():
        key = (result.engine if result.engine in ENGINE_LABELS else "unknown", result.outcome)
        group = groups.get(key)
        if group is None:
            engine = key[0]
            group = groups[key] = {
                "engine": engine,
                "label": engine_label(engine),
                "outcome": result.outcome,
                "predicted": question.spec.outcomes.get(engine if engine != "unknown" else "spec"),
                "count": 0,
                "matched": 0,
            }
        group["count"] += 1
        group["matched"] += 1 if result.agreement else 0
    return [
        groups[key]
        for key in sorted(
            groups,
            key=lambda k: (ENGINE_ORDER.index(k[0]), OUTCOME_ORDER.index(k[1])
                           if k[1] in OUTCOME_ORDER else 9),
        )
    ]


#: How an attack attempt ended, in the groups the host sees (the lab's verdicts, folded).
ATTACK_ENDS = {
    "stolen": "stolen",
    "refused": "refused",
    "no-cookie": "cookie",
}


def attack_groups(question: Question) -> list[dict[str, Any]]:
    """An attack question's results per engine: how many browsers had the secret stolen, how
    many refused the attacker's script the read (CORS), how many kept the login cookie back
    (a cookie policy, not CORS), how many gave nothing secret otherwise, and how many did
    what the engine predicts for them."""
    if question.spec.attack is None:
        return []
    groups: dict[str, dict[str, Any]] = {}
    for result in question.results.values():
        engine = result.engine if result.engine in ENGINE_LABELS else "unknown"
        group = groups.get(engine)
        if group is None:
            group = groups[engine] = {
                "engine": engine,
                "label": engine_label(engine),
                "expected": question.spec.answer_for(engine if engine != "unknown" else "spec"),
                "count": 0,
                "stolen": 0,
                "refused": 0,
                "cookie": 0,
                "nothing": 0,
                "matched": 0,
            }
        group["count"] += 1
        group[ATTACK_ENDS.get(result.verdict or "", "nothing")] += 1
        group["matched"] += 1 if result.agreement else 0
    return [groups[key] for key in sorted(groups, key=ENGINE_ORDER.index)]


def findings(question: Question) -> list[str]:
    """The teaching moments: where engines differ (predicted, and as the room's browsers
    really behaved) and how many browsers disagreed with their engine's prediction."""
    found = list(question.spec.engine_notes)
    seen: dict[str, set[str]] = {}
    for result in question.results.values():
        if result.engine in ENGINE_LABELS:
            seen.setdefault(result.engine, set()).add(result.outcome)
    outcomes = {engine: sorted(values) for engine, values in seen.items()}
    if len({tuple(v) for v in outcomes.values()}) > 1:
        found.append(
            "The room's browsers differ by engine: "
            + "; ".join(
                f"{engine_label(engine)} {' or '.join(values)}"
                for engine, values in sorted(
                    outcomes.items(), key=lambda item: ENGINE_ORDER.index(item[0])
                )
            )
            + "."
        )
    kept = sum(1 for result in question.results.values() if result.verdict == "no-cookie")
    if kept:
        found.append(
            f"{kept} of {len(question.results)} browsers kept the login cookie back: CORS let "
            "the attacker's script read, but a cookie policy (not CORS) saved the secret."
        )
    disagreed = sum(1 for result in question.results.values() if not result.agreement)
    if disagreed:
        found.append(
            f"{disagreed} of {len(question.results)} browsers did not do what the engine predicts "
            "for them: a finding worth a look (the host page names them)."
        )
    return found


def question_public(room: Room, question: Question) -> dict[str, Any]:
    """A question as every attendee sees it; the answer and the room's tallies once revealed."""
    spec = question.spec
    doc: dict[str, Any] = {
        "number": question.number,
        "title": spec.title,
        "kind": spec.kind,
        "prompt": spec.prompt,
        "choices": [{"value": value, "label": words} for value, words in spec.choices],
        "scenario": spec.scenario,
        "state": question.state,
    }
    if spec.attack is not None:
        doc["attack"] = spec.attack
    if question.state == "revealed":
        doc["reveal"] = {
            "expected": spec.expected,
            "expected_label": spec.label(spec.expected),
            "answers": dict(spec.answers),
            "outcomes": dict(spec.outcomes),
            "why": spec.why,
            "engine_notes": list(spec.engine_notes),
            "tally": tally(room, question),
        }
    return doc


def question_host(room: Room, question: Question) -> dict[str, Any]:
    """A question as the host sees it: the public view, where it comes from, and the room's
    results so far."""
    doc = question_public(room, question)
    doc.update(
        source=question.spec.source,
        lesson=question.spec.lesson,
        tally=tally(room, question),
        sent=len(question.runs),
        results=len(question.results),
        groups=result_groups(question),
        findings=findings(question) if question.results else list(question.spec.engine_notes),
    )
    if question.spec.attack is not None:
        doc["attack_groups"] = attack_groups(question)
    return doc


def question_view(room: Room, question: Question) -> dict[str, Any]:
    """A question on the projector: the public view, and counts (the split once revealed)."""
    doc = question_public(room, question)
    doc["tally"] = tally(room, question, split=question.state == "revealed")
    doc["groups"] = result_groups(question)
    doc["findings"] = findings(question) if question.results else []
    if question.spec.attack is not None:
        doc["attack_groups"] = attack_groups(question)
    return doc


def result_json(result: Result) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "run_id": result.run_id,
        "browser": result.browser,
        "engine": result.engine,
        "outcome": result.outcome,
        "predicted": result.predicted,
        "agreement": result.agreement,
        "differences": list(result.differences),
    }
    if result.verdict is not None:
        doc.update(
            stolen=result.stolen,
            verdict=result.verdict,
            reason=result.reason,
            recorded=dict(result.recorded),
        )
    return doc


def attendee_row(room: Room, attendee: Attendee) -> dict[str, Any]:
    """One attendee on the host page, with their answer to the current question and what
    their browser did with it."""
    question = room.current
    answer = question.answers.get(attendee.number) if question else None
    result = question.results.get(attendee.number) if question else None
    return {
        "number": attendee.number,
        "name": attendee.name,
        "browser": attendee.browser,
        "engine": attendee.engine,
        "connected": attendee.connected,
        "left": attendee.left,
        "question": question.number if question else None,
        "answer": None if answer is None else {"choice": answer.choice, "correct": answer.correct},
        "sent": question is not None and attendee.number in question.runs,
        "result": None if result is None else result_json(result),
    }


def host_snapshot(room: Room) -> dict[str, Any]:
    return {
        "room": room_meta(room),
        "attendees": [attendee_row(room, a) for a in room.attendees.values()],
        "questions": [question_host(room, q) for q in room.questions],
    }


def view_snapshot(room: Room) -> dict[str, Any]:
    current = room.current
    return {
        "room": room_meta(room),
        "question": None if current is None else question_view(room, current),
    }


def personal(room: Room, attendee: Attendee) -> dict[str, Any]:
    """What only this attendee sees: who they are, and their part in the current question."""
    question = room.current
    answer = question.answers.get(attendee.number) if question else None
    result = question.results.get(attendee.number) if question else None
    revealed = question is not None and question.state == "revealed"
    return {
        "number": attendee.number,
        "name": attendee.name,
        "left": attendee.left,
        "question": question.number if question else None,
        "answer": None if answer is None else answer.choice,
        "correct": answer.correct if answer is not None and revealed else None,
        "right_answer": (
            question.spec.answer_for(attendee.profile) if revealed and question else None
        ),
        "sent": question is not None and attendee.number in question.runs,
        "result": None if result is None else result_json(result),
    }


def attendee_snapshot(room: Room, attendee: Attendee | None) -> dict[str, Any]:
    """An attendee's room event: the room and its question as everyone sees them, and, when
    ``attendee`` is given, their own part (a broadcast carries None there)."""
    current = room.current
    return {
        "room": {"title": room.title, "code": room.code, "state": room.state},
        "question": None if current is None else question_public(room, current),
        "you": None if attendee is None else personal(room, attendee),
    }
