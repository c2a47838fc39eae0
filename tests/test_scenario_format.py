"""The scenario format's own page documents every field the engine reads and writes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app import resource_dir
from app.cors import Scenario, browser, predict

TEMPLATE = "api/scenario_format.html"


@pytest.fixture(scope="module")
def page() -> str:
    """The page as GET /api/scenario-format renders it: no context beyond the request."""
    env = Environment(
        loader=FileSystemLoader(resource_dir("templates")),
        autoescape=True,
        undefined=StrictUndefined,
    )
    return env.get_template(TEMPLATE).render()


def documented(page: str) -> set[str]:
    return set(re.findall(r"<code>([^<]+)</code>", page))


def test_the_page_needs_no_context_and_extends_the_site_layout(page: str) -> None:
    assert page.startswith("<!doctype html>")
    assert "<h1>The scenario and prediction format (v1 and v2)</h1>" in page


def test_every_scenario_field_is_documented(page: str) -> None:
    doc = Scenario(id="x").to_json()
    fields = {name for name in doc if not isinstance(doc[name], dict)}
    for part in ("request", "preflight_response", "response"):
        fields |= {f"{part}.{name}" for name in doc[part]}
    assert fields - documented(page) == set()


def test_every_prediction_field_and_outcome_is_documented(page: str) -> None:
    fields = set(predict(Scenario(id="x")).to_json())
    step_fields = set(predict(Scenario()).steps[0].to_json())
    outcomes = {"allowed", "blocked", "opaque", "opaqueredirect", "error"}
    assert (fields | outcomes) - documented(page) == set()
    assert all(f'"{name}"' in page for name in step_fields)


def test_every_step_the_engine_names_is_documented(page: str) -> None:
    source = Path(browser.__file__).read_text()
    checks = set(re.findall(r'\.(?:step|blocked|error)\(\s*"([a-z-]+)"', source))
    assert {"same-origin", "method", "preflight", "cors-check"} <= checks
    assert checks - documented(page) == set()
