"""Lessons: an ordered set of named scenarios that teach CORS, each with a question asked
before sending, an answer computed from the engine, and an explanation tied to the run.

Pure Python (the engine and the standard library); the web layer is app/web/lessons.py.
"""

from app.lessons.catalogue import LESSONS
from app.lessons.model import (
    BROWSERS,
    REFERENCE_BROWSER,
    Choice,
    Lesson,
    Link,
    Question,
    catalogue_slugs,
    expected_fields,
)
from app.lessons.progress import Answer, ProgressStore

BY_SLUG = catalogue_slugs(LESSONS)


def lesson(slug: str) -> Lesson | None:
    return BY_SLUG.get(slug)


def neighbours(slug: str) -> tuple[Lesson | None, Lesson | None]:
    """The lessons before and after ``slug`` in teaching order."""
    index = next(i for i, item in enumerate(LESSONS) if item.slug == slug)
    before = LESSONS[index - 1] if index > 0 else None
    after = LESSONS[index + 1] if index + 1 < len(LESSONS) else None
    return before, after


__all__ = [
    "BROWSERS",
    "BY_SLUG",
    "LESSONS",
    "REFERENCE_BROWSER",
    "Answer",
    "Choice",
    "Lesson",
    "Link",
    "ProgressStore",
    "Question",
    "catalogue_slugs",
    "expected_fields",
    "lesson",
    "neighbours",
]
