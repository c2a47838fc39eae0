"""Record browser truth for any scenarios, in the shared truth files' format.

``python -m app.harness.record SCENARIOS.json [--browser chromium] > truth.json`` writes
``{"browser", "page_origin", "target_origin", "results": [{"id", "truth"}]}`` where each
``truth`` is an observation from the real browser installed on this machine.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from app.cors.scenario import Scenario, ScenarioError
from app.harness.errors import BrowserUnavailable, HarnessError
from app.harness.rewrite import RewriteError, normalized_origin, origin_of
from app.harness.session import Harness
from app.scenario_file import read_scenarios


def truth_document(
    scenarios: Sequence[Scenario], observations: Sequence[dict[str, Any]], browser: str
) -> dict[str, Any]:
    """Observations as a truth file; the origins are given when all scenarios share them."""

    def shared(values: set[str]) -> str | None:
        return next(iter(values)) if len(values) == 1 else None

    try:
        pages = {normalized_origin(origin_of(s.origin)) for s in scenarios}
        targets = {normalized_origin(origin_of(s.url)) for s in scenarios}
    except RewriteError:
        pages = targets = set()
    return {
        "browser": browser,
        "page_origin": shared(pages),
        "target_origin": shared(targets),
        "results": [
            {"id": s.id if s.id is not None else f"#{i}", "truth": obs}
            for i, (s, obs) in enumerate(zip(scenarios, observations, strict=True))
        ],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.harness.record", description=__doc__)
    parser.add_argument("file", help="scenario JSON file (one object or an array), - for stdin")
    parser.add_argument("--browser", default="chromium")
    args = parser.parse_args(argv)
    try:
        scenarios, _ = read_scenarios(args.file)
        with Harness(args.browser) as harness:
            observations = harness.observe(scenarios)
            doc = truth_document(scenarios, observations, harness.version)
    except ScenarioError as exc:
        print(f"record: {exc.field}: {exc.message}", file=sys.stderr)
        return 2
    except (BrowserUnavailable, HarnessError) as exc:
        print(f"record: {exc}", file=sys.stderr)
        return 2
    json.dump(doc, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
