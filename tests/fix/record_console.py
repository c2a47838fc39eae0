"""Record what real Chromium and Firefox print for each failed CORS check the shared sample
does not reach, into tests/fix/console-truth.json (the console templates are tested against it).

    .venv/bin/python -m tests.fix.record_console [chromium firefox]

Runs each scenario through the project's harness (app.harness), in the real browser.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

PAGE = "http://localhost:8701"
TARGET = "http://localhost:8702"
ACAO = ["Access-Control-Allow-Origin", PAGE]
ACAC = ["Access-Control-Allow-Credentials", "true"]
PUT = ["Access-Control-Allow-Methods", "PUT"]
OUT = Path(__file__).with_name("console-truth.json")


def scenario(
    key: str,
    method: str = "PUT",
    headers: list[list[str]] | None = None,
    credentials: str = "same-origin",
    preflight: tuple[int, list[list[str]]] = (204, []),
    response: tuple[int, list[list[str]]] = (200, []),
) -> dict[str, Any]:
    return {
        "id": f"fix-{key}",
        "origin": PAGE,
        "url": f"{TARGET}/t/fix-{key}",
        "request": {
            "method": method,
            "headers": headers or [],
            "credentials": credentials,
            "mode": "cors",
            "body": None,
        },
        "preflight_response": {"status": preflight[0], "headers": preflight[1]},
        "response": {"status": response[0], "headers": response[1]},
    }


def origin(value: str) -> list[str]:
    return ["Access-Control-Allow-Origin", value]


SCENARIOS = [
    scenario("rs-missing", "GET"),
    scenario("rs-missing-500", "GET", response=(500, [])),
    scenario("rs-multiple", "GET", response=(200, [ACAO, ACAO])),
    scenario("rs-list", "GET", response=(200, [origin(f"{PAGE}, {PAGE}")])),
    scenario("rs-invalid", "GET", response=(200, [origin("localhost:8701")])),
    scenario("rs-mismatch", "GET", response=(200, [origin("http://evil.example")])),
    scenario("rs-null", "GET", response=(200, [origin("null")])),
    scenario("rs-wildcard", "GET", credentials="include", response=(200, [origin("*")])),
    scenario("rs-acac-missing", "GET", credentials="include", response=(200, [ACAO])),
    scenario(
        "rs-acac-True",
        "GET",
        credentials="include",
        response=(200, [ACAO, ["Access-Control-Allow-Credentials", "True"]]),
    ),
    scenario("pf-missing", preflight=(204, [PUT])),
    scenario("pf-missing-403", preflight=(403, [PUT])),
    scenario("pf-multiple", preflight=(204, [ACAO, ACAO, PUT])),
    scenario("pf-invalid", preflight=(204, [origin("localhost:8701"), PUT])),
    scenario("pf-mismatch", preflight=(204, [origin("http://evil.example"), PUT])),
    scenario("pf-wildcard", credentials="include", preflight=(204, [origin("*"), ACAC, PUT])),
    scenario("pf-acac-missing", credentials="include", preflight=(204, [ACAO, PUT])),
    scenario(
        "pf-acac-True",
        credentials="include",
        preflight=(204, [ACAO, ["Access-Control-Allow-Credentials", "True"], PUT]),
    ),
    scenario("pf-status-404", preflight=(404, [ACAO, PUT])),
    scenario("pf-status-500", preflight=(500, [ACAO, PUT])),
    scenario("pf-redirect", preflight=(302, [ACAO, PUT, ["Location", "/elsewhere"]])),
    scenario("pf-redirect-301", preflight=(301, [ACAO, PUT, ["Location", "/elsewhere"]])),
    scenario("pf-method", preflight=(204, [ACAO])),
    scenario(
        "pf-method-lower",
        "patch",
        preflight=(204, [ACAO, ["Access-Control-Allow-Methods", "PATCH"]]),
    ),
    scenario("pf-header", headers=[["X-Token", "1"]], preflight=(204, [ACAO, PUT])),
    scenario(
        "pf-header-two",
        headers=[["X-Token", "1"], ["X-Api-Key", "k"]],
        preflight=(204, [ACAO, PUT, ["Access-Control-Allow-Headers", "x-token"]]),
    ),
    scenario("pf-bad-acam", preflight=(204, [ACAO, ["Access-Control-Allow-Methods", "PUT;"]])),
    scenario(
        "pf-bad-acam-space",
        preflight=(204, [ACAO, ["Access-Control-Allow-Methods", "PUT POST"]]),
    ),
    scenario(
        "pf-bad-acah",
        headers=[["X-Token", "1"]],
        preflight=(204, [ACAO, PUT, ["Access-Control-Allow-Headers", "x-token;"]]),
    ),
    scenario(
        "pf-bad-acah-space",
        headers=[["X-Token", "1"]],
        preflight=(204, [ACAO, PUT, ["Access-Control-Allow-Headers", "x-token x"]]),
    ),
]


def record(browser: str) -> dict[str, Any]:
    from app.cors import Scenario
    from app.harness.verify import browser_version, observe

    observations = observe([Scenario.from_json(s) for s in SCENARIOS], browser)
    return {
        "browser": browser_version(browser),
        "results": [
            {
                "id": s["id"],
                "outcome": o["outcome"],
                "blocked_by": o.get("blocked_by"),
                "console": o["console"],
            }
            for s, o in zip(SCENARIOS, observations, strict=True)
        ],
    }


def main(browsers: list[str]) -> None:
    doc = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {}
    doc["scenarios"] = SCENARIOS
    for browser in browsers:
        doc[browser] = record(browser)
    OUT.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:] or ["chromium", "firefox"])
