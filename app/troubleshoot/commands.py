"""The command line's three starting points: ``check URL``, ``explain-error`` and
``har FILE``. ``app.cli`` adds these parsers and calls ``HANDLERS``; exit status 0 when every
chosen browser lets the request through, 1 when one blocks it, 2 on bad input or when the
server cannot be reached."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

EXIT_ALLOWED, EXIT_BLOCKED, EXIT_BAD_INPUT = 0, 1, 2
REAL_BROWSERS = ("chromium", "firefox", "webkit")
BROWSER_CHOICES = (*REAL_BROWSERS, "spec", "all")
MAX_STDIN = 64 * 1024


def add_parsers(sub: Any) -> None:
    """Add ``check``, ``explain-error`` and ``har`` to the command line's subparsers."""
    from app.troubleshoot.report import DEFAULT_PLAYGROUND

    playground = {
        "default": DEFAULT_PLAYGROUND,
        "help": f"the playground that opens the links (default {DEFAULT_PLAYGROUND})",
    }
    check = sub.add_parser(
        "check",
        help="send what a browser would send to a real server and predict each browser",
        description="Sends the preflight (when a browser would) and the request to URL as a "
        "page at ORIGIN would, then predicts each browser on the real answers. Exit status: 0 "
        "allowed everywhere, 1 blocked somewhere, 2 bad input or no answer.",
    )
    check.add_argument("url", help="the URL the page fetches")
    check.add_argument(
        "--origin", required=True, help="the page's origin, e.g. http://localhost:3000"
    )
    check.add_argument("--method", "-X", default="GET", help="the fetch() method (default GET)")
    check.add_argument(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="a header the page's fetch() sets (repeatable)",
    )
    check.add_argument(
        "--credentials", default="same-origin", choices=("omit", "same-origin", "include")
    )
    check.add_argument("--mode", default="cors", choices=("cors", "no-cors"))
    check.add_argument("--body", help="a string body (fetch() adds Content-Type: text/plain)")
    check.add_argument(
        "--cookie",
        help="a Cookie header for the request itself (only with --credentials include; never "
        "sent on the preflight). No cookie of yours is sent without it.",
    )
    check.add_argument(
        "--browser",
        default="all",
        choices=BROWSER_CHOICES,
        help="whose behaviour to predict (all: Chromium, Firefox and WebKit)",
    )
    check.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    check.add_argument("--json", action="store_true", help="the scenario and predictions as JSON")
    check.add_argument("--playground", **playground)

    explain = sub.add_parser(
        "explain-error",
        help="read a browser's CORS console error (standard input): check, cause, fix",
        description="Paste what the browser printed (Chromium, Firefox or Safari) on standard "
        "input. Exit status 0 when it was read, 2 when it is not a CORS message this tool knows.",
    )
    explain.add_argument("--json", action="store_true", help="the reading as JSON")
    explain.add_argument("--playground", **playground)

    har = sub.add_parser(
        "har",
        help="rebuild every cross-origin request of a DevTools HAR export as a scenario",
        description="Exit status 0 when no cross-origin request in the archive failed, 1 when "
        "one was blocked or failed, 2 when the file is not a HAR archive.",
    )
    har.add_argument("file", help="the .har file (DevTools: Save all as HAR), - for stdin")
    har.add_argument("--json", action="store_true", help="the scenarios and predictions as JSON")
    har.add_argument("--playground", **playground)


def _browsers(choice: str) -> tuple[str, ...]:
    return REAL_BROWSERS if choice == "all" else (choice,)


def cmd_check(args: argparse.Namespace) -> int:
    from app.troubleshoot.probe import CheckInputError, CheckRequest, check, parse_header
    from app.troubleshoot.report import check_json, check_text

    try:
        request = CheckRequest(
            url=args.url,
            origin=args.origin,
            method=args.method,
            headers=tuple(parse_header(h) for h in args.header),
            credentials=args.credentials,
            mode=args.mode,
            body=args.body,
            cookie=args.cookie,
            timeout=args.timeout,
        )
        outcomes = check(request, _browsers(args.browser))
    except CheckInputError as exc:
        print(f"cors-playground check: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        json.dump(check_json(request, outcomes, playground=args.playground), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(check_text(request, outcomes, playground=args.playground))
    errors = [o.error for o in outcomes if o.error]
    if errors:
        print(f"cors-playground check: {errors[0]}", file=sys.stderr)
        return EXIT_BAD_INPUT
    blocked = any(
        p.outcome in ("blocked", "error") for o in outcomes for p in o.predictions.values()
    )
    return EXIT_BLOCKED if blocked else EXIT_ALLOWED


def cmd_explain_error(args: argparse.Namespace) -> int:
    from app.troubleshoot.console import parse_console, reproduce
    from app.troubleshoot.diagnose import diagnose
    from app.troubleshoot.report import playground_link, reading_text

    text = sys.stdin.read(MAX_STDIN)
    reading = parse_console(text)
    reproduction = reproduce(reading)
    understanding = None
    if reproduction is not None and reading.browser is not None:
        understanding = diagnose(reproduction.scenario, reading.browser)
    if args.json:
        doc: dict[str, Any] = {
            "recognised": reading.recognised,
            "browser": reading.browser,
            "checks": list(reading.checks),
            "check": reading.check_words or None,
            "stage": reading.stage,
            "url": reading.url,
            "origin": reading.origin,
            "value": reading.value,
            "status": reading.status,
            "method": reading.method,
            "facts": reading.facts,
            "unknowns": reading.unknowns,
            "note": reading.note or None,
            "scenario": None if reproduction is None else reproduction.scenario.to_json(),
            "assumed": [] if reproduction is None else list(reproduction.assumed),
            "share": None
            if reproduction is None
            else playground_link(reproduction.scenario, args.playground),
        }
        json.dump(doc, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(
            reading_text(reading, reproduction, understanding, playground=args.playground)
        )
    return EXIT_ALLOWED if reading.recognised else EXIT_BAD_INPUT


def cmd_har(args: argparse.Namespace) -> int:
    from app.troubleshoot.har import MAX_BYTES, HarError, har_text, read_har
    from app.troubleshoot.report import playground_link

    try:
        if args.file == "-":
            data: bytes = sys.stdin.buffer.read(MAX_BYTES + 1)
        else:
            with open(args.file, "rb") as handle:
                data = handle.read(MAX_BYTES + 1)
        report = read_har(data)
    except OSError as exc:
        print(f"cors-playground har: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except HarError as exc:
        print(f"cors-playground har: {args.file}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    links = {item.index: playground_link(item.scenario, args.playground) for item in report.items}
    if args.json:
        doc = {
            "browser": report.browser,
            "recorded_by": report.recorded_by,
            "entries": report.entries,
            "skipped": report.skipped,
            "notes": report.notes,
            "requests": [
                {
                    "entry": item.index,
                    "method": item.method,
                    "url": item.url,
                    "page_origin": item.page_origin,
                    "kind": item.kind,
                    "outcome": item.outcome,
                    "blocked_by": item.failed_check,
                    "preflight_recorded": item.preflight_recorded,
                    "answered": item.answered,
                    "recorded_error": item.recorded_error,
                    "notes": list(item.notes),
                    "scenario": item.scenario.to_json(),
                    "prediction": item.prediction.to_json(),
                    "share": links[item.index],
                }
                for item in report.items
            ],
        }
        json.dump(doc, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(har_text(report, links))
    failed = any(item.outcome in ("blocked", "failed", "error") for item in report.items)
    return EXIT_BLOCKED if failed else EXIT_ALLOWED


HANDLERS = {"check": cmd_check, "explain-error": cmd_explain_error, "har": cmd_har}
