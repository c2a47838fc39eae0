"""The three starting points as terminal text (and ``check`` as JSON): what was sent and
answered, each browser's verdict with the failed check in words and its console message, the
smallest fix with each framework's configuration, and a link that opens it in the playground."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

from app.cors import Scenario, predict
from app.fix.search import LEG_WORDS, Change
from app.fix.understand import Understanding
from app.runs.share import share_url
from app.troubleshoot.console import Reading, Reproduction
from app.troubleshoot.diagnose import diagnose, verdicts
from app.troubleshoot.mask import masked, playable
from app.troubleshoot.probe import CheckRequest, Leg, Outcome
from app.troubleshoot.words import label_of

DEFAULT_PLAYGROUND = "http://localhost:8000"
WIDTH = 100
# Response headers a CORS reader wants to see on each leg; the others are counted.
SHOWN = ("access-control-", "vary", "location", "set-cookie")


def playground_link(scenario: Scenario, playground: str = DEFAULT_PLAYGROUND) -> str | None:
    """A link that opens the scenario (credentials masked) in the playground, if it fits."""
    fitted, _ = playable(masked(scenario))
    return None if fitted is None else playground.rstrip("/") + share_url(fitted)


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=indent,
        subsequent_indent=indent + "  ",
        break_long_words=False,
        break_on_hyphens=False,
    ) or [indent]


def _leg_lines(leg: Leg) -> list[str]:
    title = "Preflight" if leg.kind == "preflight" else "Actual request"
    out = [f"{title} sent: {leg.method} {leg.url}"]
    for name, value in masked_request(leg.headers):
        out.append(f"  > {name}: {value}")
    if leg.error:
        out.append(f"  < no answer: {leg.error}")
        return out
    out.append(f"  < {leg.status} {leg.reason}".rstrip())
    hidden = 0
    for name, value in leg.response_headers:
        if name.lower().startswith(SHOWN):
            out.append(f"  <   {name}: {_mask_response(name, value)}")
        else:
            hidden += 1
    if not any(n.lower().startswith("access-control-") for n, _ in leg.response_headers):
        out.append("  <   (no Access-Control-* header at all)")
    if hidden:
        out.append(f"  <   ({hidden} other header{'s' if hidden != 1 else ''})")
    return out


def masked_request(headers: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    from app.troubleshoot.mask import SECRET_REQUEST_HEADERS, mask_headers

    return mask_headers(headers, SECRET_REQUEST_HEADERS)


def _mask_response(name: str, value: str) -> str:
    from app.troubleshoot.mask import SECRET_RESPONSE_HEADERS, mask_value

    return mask_value(name, value) if name.lower() in SECRET_RESPONSE_HEADERS else value


def change_text(change: Change, understanding: Understanding) -> str:
    where = LEG_WORDS[change.leg]
    if change.action == "status":
        return (
            f"Answer the preflight with {understanding.status(change.after or '')} instead of "
            f"{understanding.status(change.before[0])}."
        )
    if change.action == "add":
        return f"Add {change.name}: {change.after} to {where}."
    if change.action == "remove":
        return f"Remove {change.name} from {where}."
    return f"In {where}, replace {change.name}: {' / '.join(change.before)} with {change.after}."


def fix_lines(understanding: Understanding, *, configs: bool = True) -> list[str]:
    """The fix: each change with its reason, then the policy in each framework."""
    fix = understanding.fix
    out: list[str] = []
    if fix.status in ("client", "stuck"):
        for note in fix.notes:
            out += _wrap(note, "  ")
        return out
    if fix.status == "passes":
        out.append("  Nothing to fix: every engine lets this request through.")
    else:
        out.append(
            f"  The smallest change to the server's answers ({len(fix.pass_changes)}, checked "
            f"with the engine for {understanding.browser_label} and then every other engine):"
        )
        for number, change in enumerate(fix.changes, 1):
            out += _wrap(f"{number}. {change_text(change, understanding)}", "  ")
            out += _wrap("why: " + "; ".join(change.why), "       ")
        for engine, outcome in fix.remaining:
            out.append(f"  Even then {label_of(engine)} would end “{outcome}”.")
        for note in fix.notes:
            out += _wrap("note: " + note, "  ")
    if configs and understanding.configs:
        out.append("")
        out.append("  This policy in the frameworks the playground knows:")
        for config in understanding.configs:
            flag = "" if config.expressible else " (cannot express this policy)"
            out.append(f"  --- {config.label}{flag}")
            out += ["    " + line for line in config.code.splitlines()]
            for note in config.notes[:1]:
                out += _wrap("note: " + note, "    ")
    return out


def _verdict_lines(scenario: Scenario, browsers: Sequence[str]) -> tuple[list[str], str | None]:
    out: list[str] = []
    first_blocked = None
    for verdict in verdicts(scenario, browsers):
        prediction = verdict.prediction
        if verdict.allowed:
            what = "allowed" if prediction.outcome == "allowed" else "opaque (mode no-cors)"
            readable = ", ".join(prediction.readable_headers) or "only the safelisted headers"
            out += _wrap(
                f"{verdict.label}: {what}; JavaScript can read the response ({readable})"
                if prediction.outcome == "allowed"
                else f"{verdict.label}: {what}; fetch() resolves, nothing is readable",
                "",
            )
            continue
        first_blocked = first_blocked or verdict.browser
        name = prediction.blocked_by or "refused before sending"
        out += _wrap(f"{verdict.label}: {prediction.outcome.upper()} ({name})", "")
        out += _wrap(verdict.check_words + ": " + verdict.detail, "  ")
        for line in verdict.console:
            out += _wrap("console: " + line, "  ")
    return out, first_blocked


def check_text(
    request: CheckRequest,
    outcomes: Sequence[Outcome],
    *,
    playground: str = DEFAULT_PLAYGROUND,
) -> str:
    """``cors-playground check``'s report."""
    out = [
        f"CORS check: {request.method} {request.url}",
        f"  from a page at {request.origin} (credentials: {request.credentials}, mode: "
        f"{request.mode})",
    ]
    for outcome in outcomes:
        probe = outcome.probe
        out.append("")
        if len(outcomes) > 1:
            out.append("As " + ", ".join(label_of(b) for b in probe.browsers) + " send it:")
        if probe.error is not None:
            failed = probe.error.failed_step
            out += _wrap(
                "fetch() refuses this call before sending anything"
                + (f": {failed.detail}" if failed else ""),
                "",
            )
            continue
        planning = request.scenario()
        first = predict(planning, probe.browsers[0])
        if first.preflight:
            out += _wrap("Preflight: yes, because " + "; ".join(first.preflight_reasons), "")
        elif request.mode == "no-cors":
            out.append("Preflight: no (mode no-cors never sends one)")
        else:
            out += _wrap(
                "Preflight: no: a CORS-safelisted method and only CORS-safelisted headers", ""
            )
        for leg in outcome.legs:
            out += _leg_lines(leg)
        if outcome.actual_skipped:
            out += _wrap("Actual request: not sent: " + outcome.actual_skipped, "")
        if outcome.error:
            out += _wrap(f"Could not check: {outcome.error}", "")
            continue
        if outcome.scenario is None:
            continue
        scenario = masked(outcome.scenario)
        redirects = [
            leg for leg in outcome.legs if leg.status is not None and 300 <= leg.status < 400
        ]
        for leg in redirects:
            out += _wrap(
                f"The {leg.kind} was answered with a {leg.status} redirect; this check does not "
                "follow it (the engine does not model redirects yet).",
                "",
            )
        out.append("")
        lines, blocked = _verdict_lines(scenario, probe.browsers)
        out += lines
        understanding = diagnose(scenario, blocked or probe.browsers[0])
        out.append("")
        out.append("Fix it:")
        if outcome.actual_skipped and blocked:
            out += _wrap(
                "The request itself was not sent, so its answer is unknown: the fix assumes it "
                "answers 200 and adds what it needs too; check again once the preflight passes.",
                "  ",
            )
        out += fix_lines(understanding)
        link = playground_link(scenario, playground)
        out.append("")
        if link:
            out.append(f"Open it in the playground: {link}")
        fixed = playground_link(understanding.fix.scenario, playground)
        if fixed and understanding.fix.changes:
            out.append(f"The fixed scenario: {fixed}")
    return "\n".join(out) + "\n"


def check_json(
    request: CheckRequest,
    outcomes: Sequence[Outcome],
    *,
    playground: str = DEFAULT_PLAYGROUND,
) -> dict[str, Any]:
    """``check --json``: per probe, the scenario with the real answers (credentials masked),
    each browser's prediction, the legs as sent and answered, and the playground link."""
    results = []
    for outcome in outcomes:
        scenario = None if outcome.scenario is None else masked(outcome.scenario)
        results.append(
            {
                "browsers": list(outcome.probe.browsers),
                "scenario": None if scenario is None else scenario.to_json(),
                "predictions": {}
                if scenario is None
                else {b: predict(scenario, b).to_json() for b in outcome.predictions},
                "exchanges": [
                    {**leg.to_json(), "headers": [list(h) for h in masked_request(leg.headers)]}
                    for leg in outcome.legs
                ],
                "actual_request_skipped": outcome.actual_skipped or None,
                "error": outcome.error,
                "share": None
                if outcome.scenario is None
                else playground_link(outcome.scenario, playground),
            }
        )
    return {
        "request": {
            "url": request.url,
            "origin": request.origin,
            "method": request.method,
            "credentials": request.credentials,
            "mode": request.mode,
        },
        "results": results,
    }


def reading_text(
    reading: Reading,
    reproduction: Reproduction | None,
    understanding: Understanding | None,
    *,
    playground: str = DEFAULT_PLAYGROUND,
) -> str:
    """``cors-playground explain-error``'s report."""
    if not reading.recognised:
        return "\n".join(_wrap(reading.note, "")) + "\n"
    out = [f"Printed by: {reading.label}"]
    if reading.url:
        out.append(f"Request:    {reading.method + ' ' if reading.method else ''}{reading.url}")
    if reading.origin:
        out.append(f"Page:       {reading.origin}")
    if not reading.checks:
        out += _wrap(reading.note, "")
        return "\n".join(out) + "\n"
    stage = {"preflight": " (on the preflight)", "response": " (on the response)"}
    out += _wrap(
        f"Failed check: {reading.check_words}{stage.get(reading.stage or '', '')} — "
        f"{reading.check}",
        "",
    )
    if len(reading.checks) > 1:
        out += _wrap("The same words also mean: " + ", ".join(reading.checks[1:]), "  ")
    if reading.facts:
        out.append("What the server sent, as far as the message tells:")
        for fact in reading.facts:
            out += _wrap("- " + fact, "  ")
    if reading.unknowns:
        out.append("What the message does not tell:")
        for unknown in reading.unknowns:
            out += _wrap("- " + unknown, "  ")
    if reproduction is not None:
        out.append("")
        out.append("A scenario that fails the same way:")
        request = reproduction.scenario.request
        out.append(
            f"  fetch({reproduction.scenario.url!r}, {{method: {request.method!r}"
            + (f", headers: {dict(request.headers)!r}" if request.headers else "")
            + (
                f", credentials: {request.credentials!r}"
                if request.credentials != "same-origin"
                else ""
            )
            + "})"
        )
        if reproduction.assumed:
            out += _wrap("assumed: " + "; ".join(reproduction.assumed), "  ")
        if not reproduction.reproduces:
            out += _wrap(
                "note: the engine does not fail this scenario the same way "
                f"({reproduction.prediction.blocked_by}); treat it as a starting point",
                "  ",
            )
        link = playground_link(reproduction.scenario, playground)
        if link:
            out.append(f"  Open it in the playground: {link}")
    if understanding is not None:
        out.append("")
        out.append("Fix it:")
        out += fix_lines(understanding)
    return "\n".join(out) + "\n"
