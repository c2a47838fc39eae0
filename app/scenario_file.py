"""Scenario files as ``explain``, ``verify`` and the truth recorder read them.

One scenario object or an array of them, from a path or ``-`` for stdin. Standard library and
the engine only, so the command line and the harness can both use it.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from app.cors.scenario import Scenario, ScenarioError


def read_scenarios(path: str) -> tuple[list[Scenario], bool]:
    """Read one scenario or an array; return them and whether the input was an array.

    Any problem is a ScenarioError naming the field (``[2].request.method``) or the path.
    """
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
    except OSError as exc:
        raise ScenarioError(path, f"cannot read: {exc.strerror}") from exc
    try:
        doc: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(path, f"not valid JSON: {exc.msg} at line {exc.lineno}") from exc
    if isinstance(doc, list):
        scenarios = []
        for index, item in enumerate(doc):
            try:
                scenarios.append(Scenario.from_json(item))
            except ScenarioError as exc:
                raise ScenarioError(f"[{index}].{exc.field}", exc.message) from exc
        return scenarios, True
    return [Scenario.from_json(doc)], False


__all__ = ["read_scenarios"]
