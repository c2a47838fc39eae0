"""Fixtures for the harness tests: the shared vectors, the browsers, a scenario builder."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.cors.scenario import Scenario
from app.harness import Harness, shared_harness

# The repository is cloned with shared/ beside it: <parent>/main and <parent>/shared.
REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared"
VECTORS = SHARED / "vectors"

BROWSERS = ("chromium", "firefox", "webkit")
PAGE = "http://localhost:8701"
TARGET = "http://localhost:8702"


def load_json(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def scenario(**overrides: Any) -> Scenario:
    """A PUT with a custom header that its preflight (cacheable for 600 s) and response allow."""
    doc: dict[str, Any] = {
        "id": "t",
        "origin": PAGE,
        "url": f"{TARGET}/t/x",
        "request": {"method": "PUT", "headers": [["X-A", "1"]]},
        "preflight_response": {
            "status": 204,
            "headers": [
                ["Access-Control-Allow-Origin", PAGE],
                ["Access-Control-Allow-Methods", "PUT"],
                ["Access-Control-Allow-Headers", "X-A"],
                ["Access-Control-Max-Age", "600"],
            ],
        },
        "response": {
            "status": 200,
            "headers": [["Access-Control-Allow-Origin", PAGE], ["X-Secret", "1"]],
        },
    }
    doc.update(overrides)
    return Scenario.from_json(doc)


def simple_get(allow_origin: str, **overrides: Any) -> Scenario:
    """A GET with no custom headers (no preflight) whose response allows ``allow_origin``."""
    return scenario(
        request={"method": "GET", "headers": []},
        response={"status": 200, "headers": [["Access-Control-Allow-Origin", allow_origin]]},
        **overrides,
    )


def live_processes_in_group(pgid: int) -> list[str]:
    """Processes of a process group that still run (zombies wait for init, they run nothing)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, fields = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :]
        state, _ppid, group = fields.split()[:3]
        if int(group) == pgid and state != "Z":
            found.append(f"{stat.parent.name} {name}")
    return found


def processes_left_in_groups(groups: list[int], within: float = 10.0) -> list[list[str]]:
    """The processes of each group still running after up to ``within`` seconds: a process
    killed a moment ago may still be tearing down on a loaded machine."""
    deadline = time.monotonic() + within
    while True:
        left = [live_processes_in_group(group) for group in groups]
        if not any(left) or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)


@pytest.fixture(scope="session")
def harness() -> Iterator[Harness]:
    """One started target server and headless Chromium for the whole test session."""
    with Harness("chromium") as started:
        yield started


@pytest.fixture
def browser_harness(request: pytest.FixtureRequest, browser: str) -> Harness:
    """The started harness for the test's ``browser`` parameter: the session's Chromium, or
    the process-wide Firefox or WebKit (one launch each for the whole test session)."""
    if browser == "chromium":
        started: Harness = request.getfixturevalue("harness")
        return started
    return shared_harness(browser)
