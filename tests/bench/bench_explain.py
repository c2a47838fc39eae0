"""Benchmark: how long the engine takes to explain 10,000 scenarios (not a timed test).

Run: .venv/bin/python -m tests.bench.bench_explain [COUNT]
Prints the time per thousand scenarios for predict() alone and for the whole explain path
(JSON in, prediction JSON out), best of five runs.
"""

from __future__ import annotations

import json
import sys
import time

from app.cors import Scenario, predict
from app.generate import generate, scenario_document


def best_of(runs: int, work) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    documents = [scenario_document(d) for d in generate(count, seed=7)]
    text = json.dumps(documents)
    scenarios = [Scenario.from_json(d) for d in documents]

    def engine_only() -> None:
        for scenario in scenarios:
            predict(scenario)

    def explain_path() -> None:
        out = [predict(Scenario.from_json(d)).to_json() for d in json.loads(text)]
        json.dumps(out)

    for label, work in (("predict()", engine_only), ("explain (JSON in and out)", explain_path)):
        seconds = best_of(5, work)
        per_thousand = seconds / count * 1000
        ms = per_thousand * 1000
        print(f"{label}: {count} scenarios in {seconds:.3f} s = {ms:.1f} ms per 1000")


if __name__ == "__main__":
    main()
