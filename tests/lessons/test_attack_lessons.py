"""The attack lessons: a sequence of their own, each the lab's case seen from the attacker's page,
with answers that agree with the lab's own model of the attack."""

from __future__ import annotations

import re

import pytest

from app.attack import BY_ATTEMPT, BY_CASE, Stage, attempt_scenario
from app.cors import predict
from app.lessons import BROWSERS, BY_SLUG
from app.lessons.catalogue import ATTACK_LESSONS
from app.lessons.model import Lesson
from app.runs.origins import OriginPair

STAGE = Stage.of(OriginPair.of("localhost", 8000, 8001), 8002)


def test_a_sequence_of_its_own_covering_every_case() -> None:
    slugs = [lesson.slug for lesson in ATTACK_LESSONS]
    assert len(set(slugs)) == len(slugs) and not set(slugs) & set(BY_SLUG)
    assert [s.removeprefix("attack-") for s in slugs] == list(BY_CASE)
    assert all("attack" in lesson.topics for lesson in ATTACK_LESSONS)
    dangerous = {lesson.slug for lesson in ATTACK_LESSONS if lesson.dangerous}
    assert dangerous == {f"attack-{key}" for key, case in BY_CASE.items() if case.danger}


@pytest.mark.parametrize("lesson", ATTACK_LESSONS, ids=[lesson.slug for lesson in ATTACK_LESSONS])
def test_each_lesson_is_the_lab_s_case_from_the_attacker_s_page(lesson: Lesson) -> None:
    case = BY_CASE[lesson.slug.removeprefix("attack-")]
    attempt = BY_ATTEMPT["sandbox" if "sandboxed" in lesson.topics else "page"]
    origin = attempt.origin(STAGE)
    mine = lesson.scenario(origin, STAGE.api)
    lab = attempt_scenario(case.policy(STAGE), STAGE, attempt)
    for browser in BROWSERS:
        assert predict(mine, browser).outcome == predict(lab, browser).outcome, browser
    assert mine.request.credentials == "include"
    # Every sentence fills in: no placeholder is left for the learner.
    placeholder = re.compile(r"\{(origin|api|host|port|attacker)\}")
    for sentence in (*lesson.setup, *lesson.explanation, lesson.question.prompt):
        assert not placeholder.search(lesson.text(sentence, origin, STAGE.api)), sentence
