"""Fixtures for the harness tests: the shared vectors and one browser for the session."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.harness import Harness

# The repository is cloned with shared/ beside it: <parent>/main and <parent>/shared.
REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared"
VECTORS = SHARED / "vectors"


def load_json(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def harness() -> Iterator[Harness]:
    """One started target server and headless Chromium for the whole test session."""
    with Harness("chromium") as started:
        yield started
