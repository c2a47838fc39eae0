"""Scenario files as ``explain``, ``verify`` and the truth recorder read them.

One document or an array of them, from a path or ``-`` for stdin: a scenario, or (v2) a
sequence ``{"sequence": [...]}``. Standard library and the engine only, so the command line
and the harness can both use it.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from app.cors.scenario import FetchSequence, Scenario, ScenarioError, read_document


def read_scenarios(path: str) -> tuple[list[Scenario], bool]:
    """Read one scenario or an array; return them and whether the input was an array.

    Any problem is a ScenarioError naming the field (``[2].request.method``) or the path; a
    sequence is refused here (``read_documents`` takes both).
    """
    documents, many = read_documents(path)
    scenarios = []
    for index, document in enumerate(documents):
        if isinstance(document, FetchSequence):
            where = f"[{index}].sequence" if many else "sequence"
            raise ScenarioError(where, "a sequence is not a scenario here")
        scenarios.append(document)
    return scenarios, many


def read_documents(path: str) -> tuple[list[Scenario | FetchSequence], bool]:
    """Read one scenario or sequence, or an array of them; return them and whether the input
    was an array.

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
        documents: list[Scenario | FetchSequence] = []
        for index, item in enumerate(doc):
            try:
                documents.append(read_document(item))
            except ScenarioError as exc:
                raise ScenarioError(f"[{index}].{exc.field}", exc.message) from exc
        return documents, True
    return [read_document(doc)], False


__all__ = ["read_documents", "read_scenarios"]
