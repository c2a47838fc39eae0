"""The labs' registry: names, the lab session id, the choices a form may make."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.labs import registry
from app.runs.errors import BadRequest
from tests.helpers import assert_imports_only_stdlib_and
from tests.labs.conftest import PAIR

LABS_PACKAGE = Path(__file__).resolve().parents[2] / "app" / "labs"


def test_the_labs_are_pure_python_over_the_engine_and_the_runs() -> None:
    assert_imports_only_stdlib_and(LABS_PACKAGE, "app.cors", "app.runs", "app.labs")


def test_every_lab_is_named_by_its_key_and_has_its_words() -> None:
    assert list(registry.LABS) == ["cache", "redirects", "cookies"]
    for name, lab in registry.LABS.items():
        assert lab.name == name and lab.title and lab.summary and lab.note


def test_a_lab_session_id_is_stable_unguessable_and_apart_per_lab_and_session() -> None:
    ids = {
        registry.lab_session_id(session, lab)
        for session in ("a" * 22, "b" * 22)
        for lab in registry.LABS
    }
    assert len(ids) == 2 * len(registry.LABS)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{24}", i) for i in ids)
    assert registry.lab_session_id("a" * 22, "cache") == registry.lab_session_id("a" * 22, "cache")


def test_a_choice_is_the_forms_value_or_the_default_and_nothing_else() -> None:
    assert registry.choice({}, "allow", registry.ALLOW_CHOICES, "null") == "null"
    assert registry.choice({"allow": "*"}, "allow", registry.ALLOW_CHOICES, "null") == "*"
    with pytest.raises(BadRequest) as refused:
        registry.choice({"allow": "everyone"}, "allow", registry.ALLOW_CHOICES, "null")
    assert refused.value.status == 422 and refused.value.field == "allow"
    assert "page, null, *" in refused.value.message


def test_allow_page_names_the_pages_origin_and_credentials_when_asked() -> None:
    assert registry.allow_page(PAIR) == (("Access-Control-Allow-Origin", PAIR.page),)
    assert registry.allow_page(PAIR, credentials=True)[1] == (
        "Access-Control-Allow-Credentials",
        "true",
    )
