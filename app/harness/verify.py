"""Verify the engine against a real browser: run scenarios, compare predictions, report.

``observe(scenarios, browser)`` runs them in real headless Chromium, Firefox or WebKitGTK (the
browser starts once per process); ``compare(prediction, observation, browser=...)`` lists where
the engine and the browser disagree; ``run_verify`` is
``cors-playground verify FILE [--browser chromium|firefox|webkit] [--json]``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from app.cors.scenario import FetchSequence, Scenario
from app.harness.errors import BrowserUnavailable, HarnessError
from app.harness.session import SUPPORTED_BROWSERS, shared_harness

EXIT_AGREE, EXIT_DISAGREE, EXIT_UNAVAILABLE = 0, 1, 2
ACRM = "access-control-request-method"
ACRH = "access-control-request-headers"
# The fields compared, in report order.
FIELDS = (
    "preflight",
    ACRM,
    ACRH,
    "actual_request_sent",
    "outcome",
    "blocked_by",
    "readable_headers",
)
# How each browser names the CORS check that failed, and so when ``blocked_by`` is compared:
# - "always": Chromium's DevTools names every CORS failure (``corsErrorStatus.corsError``);
#   its null is a claim too ("no CORS check failed"), so it is always compared.
# - "named": Firefox names the check only in its console message, mapped to the same name
#   where the check is the same one; a reason with no sure mapping (or no message) leaves it
#   null. Compared when Firefox named a check; a null from Firefox is no disagreement.
# - "never": WebKitGTK gives WebDriver no console messages or network events; its
#   ``blocked_by`` is always null and is not compared (outcome and what the target saw are).
BLOCKED_BY_REPORTING: dict[str, str] = {
    "chromium": "always",
    "firefox": "named",
    "webkit": "never",
}


@dataclass(frozen=True)
class Disagreement:
    """One field where the engine's prediction and the real browser differ."""

    field: str
    predicted: Any
    observed: Any

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "predicted": self.predicted, "observed": self.observed}

    def __str__(self) -> str:
        return f"{self.field}: engine {_show(self.predicted)}, browser {_show(self.observed)}"


def observe(
    scenarios: Sequence[Scenario], browser: str = "chromium", *, exchanges: bool = False
) -> list[dict[str, Any]]:
    """Run scenarios in the real browser; one truth-shaped observation per scenario, in order.

    Blocking. The browser and target server start on first use and stay up for the process
    (so a pytest session pays for one launch); raises HarnessError or BrowserUnavailable.
    With ``exchanges``, each observation also lists the raw requests the target received.
    """
    return shared_harness(browser).observe(scenarios, exchanges=exchanges)


def browser_version(browser: str = "chromium") -> str:
    """The shared harness browser's product and version, e.g. ``Chromium 156.0.8078.108``,
    ``Firefox 153.7.0`` or ``WebKitGTK 2.50.6``."""
    return shared_harness(browser).version


def _preflight_header(prediction: dict[str, Any], name: str) -> str | None:
    request = prediction.get("preflight_request")
    if not request:
        return None
    for key, value in request.get("headers", []):
        if key.lower() == name:
            return str(value)
    return None


def compare(
    prediction: dict[str, Any], observation: dict[str, Any], *, browser: str = "chromium"
) -> list[Disagreement]:
    """Where a prediction (``Prediction.to_json()``) and a browser observation disagree.

    The preflight's request headers are compared only when both sides have a preflight, and
    readable headers (as sets) only when both agree the response was readable: a difference
    there follows from an earlier one and would only repeat it. ``blocked_by`` is compared as
    far as ``browser`` reports it (``BLOCKED_BY_REPORTING``): a null from a browser that could
    not name the check is no disagreement.
    """
    found: list[Disagreement] = []

    def check(name: str, predicted: Any, observed: Any) -> None:
        if predicted != observed:
            found.append(Disagreement(name, predicted, observed))

    check("preflight", bool(prediction.get("preflight")), bool(observation.get("preflight")))
    if prediction.get("preflight") and observation.get("preflight"):
        seen = observation.get("preflight_request") or {}
        check(ACRM, _preflight_header(prediction, ACRM), seen.get(ACRM))
        check(ACRH, _preflight_header(prediction, ACRH), seen.get(ACRH))
    check(
        "actual_request_sent",
        bool(prediction.get("actual_request_sent")),
        bool(observation.get("actual_request_sent")),
    )
    check("outcome", prediction.get("outcome"), observation.get("outcome"))
    if _blocked_by_compared(browser, observation.get("blocked_by")):
        check("blocked_by", prediction.get("blocked_by"), observation.get("blocked_by"))
    readable = ("allowed", "opaque", "opaqueredirect")
    if prediction.get("outcome") in readable and observation.get("outcome") in readable:
        check(
            "readable_headers",
            sorted({str(h).lower() for h in prediction.get("readable_headers") or []}),
            sorted(observation.get("readable_headers") or []),
        )
    return found


# Request headers a browser sets by itself when the page does not: a leg is compared on the
# other header names the page set (whether each is still on the request), never on these.
BROWSER_SET_HEADERS = frozenset(
    {
        "accept",
        "accept-encoding",
        "accept-language",
        "cache-control",
        "connection",
        "content-length",
        "host",
        "origin",
        "pragma",
        "priority",
        "referer",
        "user-agent",
    }
)
LEG_FIELDS = ("url", "kind", "method", "origin", "acrm", "acrh", "body", "headers")


def page_header_names(scenario: Scenario) -> frozenset[str]:
    """The lowercase names of the headers the page set that a leg is compared on."""
    names = {n.lower() for n, _ in scenario.request.headers}
    if scenario.request.body is not None:
        names.add("content-type")
    return frozenset(
        n for n in names if n not in BROWSER_SET_HEADERS and not n.startswith(("sec-", "proxy-"))
    )


def predicted_leg(leg: dict[str, Any], names: frozenset[str]) -> dict[str, Any]:
    """A prediction's leg (``Leg.to_json()``) in the shape an observed leg is compared in."""
    headers = {str(k).lower(): str(v) for k, v in leg.get("headers", [])}
    preflight = leg.get("kind") == "preflight"
    return {
        "url": leg.get("url"),
        "kind": leg.get("kind"),
        "method": leg.get("method"),
        "origin": headers.get("origin"),
        "acrm": headers.get(ACRM) if preflight else None,
        "acrh": headers.get(ACRH) if preflight else None,
        "body": bool(leg.get("body")),
        "headers": [] if preflight else sorted(n for n in headers if n in names),
    }


def observed_leg(leg: dict[str, Any], names: frozenset[str]) -> dict[str, Any]:
    """An observed leg (a truth file's or the harness's) in the same shape."""
    preflight = leg.get("kind") == "preflight"
    present = {str(k).lower() for k, _ in leg.get("headers", [])}
    return {
        "url": leg.get("url"),
        "kind": leg.get("kind"),
        "method": leg.get("method"),
        "origin": leg.get("origin"),
        "acrm": leg.get("acrm") if preflight else None,
        "acrh": leg.get("acrh") if preflight else None,
        "body": bool(leg.get("body")),
        "headers": [] if preflight else sorted(n for n in present if n in names),
    }


def compare_legs(
    predicted: list[dict[str, Any]], observed: list[dict[str, Any]], names: frozenset[str]
) -> list[Disagreement]:
    """Where the engine's legs and the legs the target saw differ: the first leg that differs
    (a difference in one leg usually changes every later one), or the count."""
    for index, (mine, theirs) in enumerate(zip(predicted, observed, strict=False)):
        a, b = predicted_leg(mine, names), observed_leg(theirs, names)
        if a != b:
            diff = {k: (a[k], b[k]) for k in LEG_FIELDS if a[k] != b[k]}
            return [
                Disagreement(
                    f"legs[{index}]",
                    {k: v[0] for k, v in diff.items()} | {"url": a["url"], "kind": a["kind"]},
                    {k: v[1] for k, v in diff.items()} | {"url": b["url"], "kind": b["kind"]},
                )
            ]
    if len(predicted) != len(observed):
        return [
            Disagreement(
                "legs",
                [f"{leg.get('kind')} {leg.get('url')}" for leg in predicted],
                [f"{leg.get('kind')} {leg.get('url')}" for leg in observed],
            )
        ]
    return []


def compare_fetch(
    scenario: Scenario,
    prediction: dict[str, Any],
    observation: dict[str, Any],
    *,
    browser: str = "chromium",
) -> list[Disagreement]:
    """``compare`` plus the whole fetch: every leg, ``redirected``, ``response_url`` and, in a
    sequence, ``preflight_cache``."""
    found = compare(prediction, observation, browser=browser)
    if "legs" in observation:
        found.extend(
            compare_legs(
                prediction.get("legs") or [], observation["legs"], page_header_names(scenario)
            )
        )
    for name in ("redirected", "response_url", "preflight_cache"):
        if name in observation and prediction.get(name) != observation[name]:
            found.append(Disagreement(name, prediction.get(name), observation[name]))
    return found


def _blocked_by_compared(browser: str, observed: Any) -> bool:
    reporting = BLOCKED_BY_REPORTING.get(browser)
    if reporting is None:
        raise ValueError(
            f"unknown browser {browser!r}: choose one of {sorted(BLOCKED_BY_REPORTING)}"
        )
    if reporting == "always":
        return True
    return observed is not None


def verify(
    documents: Sequence[Scenario | FetchSequence],
    browser: str = "chromium",
    *,
    profile: str | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """Predict and observe every scenario or sequence; return the browser version and one
    result each.

    The engine predicts with ``profile`` (default: the profile named like the browser), so a
    browser can be checked against another profile, e.g. ``spec``. A whole fetch (hops,
    another redirect mode, a redirect answer) and a sequence are also compared on every leg,
    ``redirected``, ``response_url`` and ``preflight_cache``.
    """
    from app import cors

    harness = shared_harness(browser)
    observations = harness.observe_documents(documents, whole=None)
    version = harness.version
    results = []
    for index, (document, observation) in enumerate(zip(documents, observations, strict=True)):
        prediction: dict[str, Any] | None = None
        engine = profile or browser
        try:
            if isinstance(document, FetchSequence):
                predicted = cors.predict_sequence(document, engine)
                prediction = predicted.to_json()
                disagreements = [
                    Disagreement(f"sequence[{i}].{d.field}", d.predicted, d.observed)
                    for i, (item, p, o) in enumerate(
                        zip(
                            document.items,
                            predicted.predictions,
                            observation["sequence"],
                            strict=True,
                        )
                    )
                    for d in compare_fetch(item.scenario, p.to_json(), o, browser=browser)
                ]
            else:
                prediction = cors.predict(document, browser=engine).to_json()
                if "legs" in observation:
                    disagreements = compare_fetch(
                        document, prediction, observation, browser=browser
                    )
                else:
                    disagreements = compare(prediction, observation, browser=browser)
        except Exception as exc:  # the engine's bug is a finding, not a crash of the report
            disagreements = [Disagreement("prediction", f"{type(exc).__name__}: {exc}", None)]
        results.append(
            {
                "id": document.id if document.id is not None else f"#{index}",
                "agree": not disagreements,
                "disagreements": [d.to_json() for d in disagreements],
                "prediction": prediction,
                "observation": observation,
            }
        )
    return version, results


def run_verify(
    scenarios: Sequence[Scenario | FetchSequence],
    browser: str = "chromium",
    as_json: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
    *,
    profile: str | None = None,
) -> int:
    """``cors-playground verify``: 0 when engine and browser agree on every scenario, 1 when
    not, 2 when the browser is unknown or cannot run. ``profile``: the engine profile to
    predict with (default: the browser's own)."""
    out = out or sys.stdout
    err = err or sys.stderr
    if browser not in SUPPORTED_BROWSERS:
        print(
            f"cors-playground verify: unknown browser {browser!r}; "
            f"supported: {', '.join(SUPPORTED_BROWSERS)}",
            file=err,
        )
        return EXIT_UNAVAILABLE
    from app.cors import PROFILES

    if (profile or browser) not in PROFILES:
        print(
            f"cors-playground verify: the engine has no {profile or browser!r} profile to "
            f"compare with (it has {', '.join(sorted(PROFILES))})",
            file=err,
        )
        return EXIT_UNAVAILABLE
    try:
        version, results = verify(scenarios, browser, profile=profile)
    except (BrowserUnavailable, HarnessError) as exc:
        print(f"cors-playground verify: {exc}", file=err)
        return EXIT_UNAVAILABLE
    disagree = sum(1 for r in results if not r["agree"])
    summary = {"total": len(results), "agree": len(results) - disagree, "disagree": disagree}
    if as_json:
        doc = {"browser": version, "summary": summary, "results": results}
        json.dump(doc, out, indent=2)
        out.write("\n")
    else:
        _print_report(version, results, out)
        print(
            f"{summary['total']} scenario(s) in {version}: {summary['agree']} agree, "
            f"{summary['disagree']} disagree",
            file=out,
        )
    return EXIT_DISAGREE if disagree else EXIT_AGREE


def _print_report(version: str, results: list[dict[str, Any]], out: TextIO) -> None:
    for result in results:
        if result["agree"]:
            continue
        observation = result["observation"]
        what = observation.get("outcome", "?")
        if observation.get("blocked_by"):
            what += f" by {observation['blocked_by']}"
        print(f"DISAGREE {result['id']}: {version} says {what}", file=out)
        for item in result["disagreements"]:
            print(f"    {Disagreement(**item)}", file=out)
        for message in observation.get("console", [])[:2]:
            print(f"    console: {message}", file=out)


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
