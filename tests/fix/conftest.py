"""Scenarios for the fix tests: lesson-like pitfalls, the shared sample and generated ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.cors import Scenario
from app.generate import edge_cases, generate, scenario_document

PAGE = "http://localhost:8000"
API = "http://localhost:8001/r/lesson"
VECTORS = Path(__file__).resolve().parents[2] / ".." / "shared" / "vectors"


def acao(value: str = PAGE) -> list[str]:
    return ["Access-Control-Allow-Origin", value]


def lesson(
    key: str,
    method: str = "GET",
    headers: list[list[str]] | None = None,
    *,
    credentials: str = "same-origin",
    mode: str = "cors",
    body: str | None = None,
    preflight: tuple[int, list[list[str]]] = (204, []),
    response: tuple[int, list[list[str]]] = (200, []),
) -> Scenario:
    return Scenario.from_json(
        {
            "id": key,
            "origin": PAGE,
            "url": API,
            "request": {
                "method": method,
                "headers": headers or [],
                "credentials": credentials,
                "mode": mode,
                "body": body,
            },
            "preflight_response": {"status": preflight[0], "headers": preflight[1]},
            "response": {"status": response[0], "headers": response[1]},
        }
    )


ACAC = ["Access-Control-Allow-Credentials", "true"]
JSON = ["Content-Type", "application/json"]

# The lessons of issue 5, each as the learner first meets it (most of them broken).
LESSONS: list[Scenario] = [
    lesson("safelisted-get", response=(200, [acao()])),
    lesson("safelisted-get-no-acao"),
    lesson("json-post", "POST", [JSON], body="{}", response=(200, [acao()])),
    lesson(
        "json-post-ok",
        "POST",
        [JSON],
        body="{}",
        preflight=(204, [acao(), ["Access-Control-Allow-Headers", "Content-Type"]]),
        response=(200, [acao()]),
    ),
    lesson("custom-header", "GET", [["X-Token", "1"]], preflight=(204, [acao()])),
    lesson("star-with-credentials", credentials="include", response=(200, [acao("*"), ACAC])),
    lesson(
        "credentials-True",
        credentials="include",
        response=(200, [acao(), ["Access-Control-Allow-Credentials", "True"]]),
    ),
    lesson("two-allow-origins", response=(200, [acao(), acao("http://other.example")])),
    lesson("trailing-slash", response=(200, [acao(PAGE + "/")])),
    lesson(
        "patch-lowercase",
        "patch",
        body="x",
        preflight=(204, [acao(), ["Access-Control-Allow-Methods", "PATCH"]]),
        response=(200, [acao()]),
    ),
    lesson(
        "authorization-star",
        "GET",
        [["Authorization", "Bearer t"]],
        preflight=(204, [acao(), ["Access-Control-Allow-Headers", "*"]]),
        response=(200, [acao()]),
    ),
    lesson("expose-headers", response=(200, [acao(), ["X-Request-Id", "42"]])),
    lesson("no-cors", mode="no-cors"),
    lesson("accept-129", "GET", [["Accept", "x" * 129]], response=(200, [acao()])),
    lesson("range-suffix", "GET", [["Range", "bytes=-5"]], response=(206, [acao()])),
    lesson("range-prefix", "GET", [["Range", "bytes=0-"]], response=(206, [acao()])),
    lesson("preflight-404", "PUT", preflight=(404, [acao()]), response=(200, [acao()])),
    lesson(
        "reflect-any-origin-with-credentials",
        "PUT",
        [JSON],
        credentials="include",
        body="{}",
        preflight=(200, [acao(), ACAC, ["Access-Control-Allow-Methods", "PUT"]]),
        response=(200, [acao(), ACAC, ["X-Request-Id", "7"], ["Set-Cookie", "s=1"]]),
    ),
    lesson("null-trusted", response=(200, [acao("null")])),
    lesson("prefix-match", response=(200, [acao("http://localhost:80")])),
    lesson("forbidden-method", "TRACE"),
]


def strip(doc: dict[str, Any]) -> Scenario:
    return Scenario.from_json(scenario_document(doc))


def sample_scenarios() -> list[Scenario]:
    path = VECTORS / "sample-scenarios.json"
    if not path.exists():
        return []
    return [strip(d) for d in json.loads(path.read_text("utf-8"))]


def generated_scenarios(count: int = 500, seed: int = 5) -> list[Scenario]:
    return [strip(d) for d in generate(count, seed=seed) + edge_cases()]
