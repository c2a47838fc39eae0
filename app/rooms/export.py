"""A room's results for the instructor to keep: questions, answers and whether they were
right, what each attendee's browser did (for an attack question: whether the attacker's page
got the secret, and why not), and lesson progress, as JSON and as CSV.

Lesson progress lives in the playground's progress store; the web layer reads it and passes
it in, per attendee number: ``{slug: {"answer": "right" | "wrong" | None, "sent": bool}}``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from app.rooms import views
from app.rooms.model import Question, Room

Progress = Mapping[int, Mapping[str, Mapping[str, Any]]]

CSV_COLUMNS = (
    "attendee",
    "name",
    "browser",
    "engine",
    "question",
    "question_title",
    "kind",
    "answer",
    "expected_for_browser",
    "correct",
    "outcome",
    "predicted_outcome",
    "matched_prediction",
    "differences",
    "secret_stolen",
    "attack_verdict",
    "lessons_answered",
    "lessons_right",
    "lessons_sent",
)
# A cell a spreadsheet would run as a formula starts with one of these (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def export_json(room: Room, progress: Progress, lessons: Sequence[str]) -> dict[str, Any]:
    """Everything about the room, for scripts."""
    questions = []
    for question in room.questions:
        spec = question.spec
        questions.append(
            {
                "number": question.number,
                "title": spec.title,
                "source": spec.source,
                "lesson": spec.lesson,
                "kind": spec.kind,
                "prompt": spec.prompt,
                "choices": [{"value": v, "label": words} for v, words in spec.choices],
                "expected": spec.expected,
                "answers_by_engine": dict(spec.answers),
                "outcomes_by_engine": dict(spec.outcomes),
                "scenario": spec.scenario,
                "state": question.state,
                "tally": views.tally(room, question),
                "groups": views.result_groups(question),
                "findings": views.findings(question),
                "attack": spec.attack,
                "attack_groups": views.attack_groups(question),
            }
        )
    attendees = []
    for attendee in room.attendees.values():
        attendees.append(
            {
                "number": attendee.number,
                "name": attendee.name,
                "browser": attendee.browser,
                "engine": attendee.engine,
                "left": attendee.left,
                "answers": [
                    {
                        "question": q.number,
                        "choice": q.answers[attendee.number].choice,
                        "correct": q.answers[attendee.number].correct,
                    }
                    for q in room.questions
                    if attendee.number in q.answers
                ],
                "results": [
                    {"question": q.number, **views.result_json(q.results[attendee.number])}
                    for q in room.questions
                    if attendee.number in q.results
                ],
                "progress": {slug: dict(cell) for slug, cell in
                             progress.get(attendee.number, {}).items()},
            }
        )
    return {
        "room": views.room_meta(room),
        "lessons": list(lessons),
        "questions": questions,
        "attendees": attendees,
    }


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    if isinstance(value, bool):
        text = "yes" if value else "no"
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def export_csv(room: Room, progress: Progress) -> str:
    """One row per attendee and question (an attendee who answered nothing still gets a row),
    with their lesson progress counted on each row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for attendee in room.attendees.values():
        cells = progress.get(attendee.number, {}).values()
        counts = (
            sum(1 for c in cells if c.get("answer")),
            sum(1 for c in cells if c.get("answer") == "right"),
            sum(1 for c in cells if c.get("sent")),
        )
        rows: list[Question | None] = [*room.questions] or [None]
        for question in rows:
            answer = result = None
            if question is not None:
                answer = question.answers.get(attendee.number)
                result = question.results.get(attendee.number)
            row = (
                attendee.number,
                attendee.name,
                attendee.browser,
                attendee.engine,
                None if question is None else question.number,
                None if question is None else question.spec.title,
                None if question is None else question.spec.kind,
                None if answer is None else answer.choice,
                None if question is None else question.spec.answer_for(attendee.profile),
                None if answer is None else answer.correct,
                None if result is None else result.outcome,
                None if result is None else result.predicted,
                None if result is None else result.agreement,
                None if result is None else "; ".join(result.differences),
                None if result is None else result.stolen,
                None if result is None else result.verdict,
                *counts,
            )
            writer.writerow([_cell(v) for v in row])
    return out.getvalue()
