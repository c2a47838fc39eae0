"""Command line: ``cors-playground [serve] | explain FILE | verify FILE | check URL |
explain-error | har FILE``."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from app import resource_dir
from app.cors import PROFILES, FetchSequence, ScenarioError, predict, predict_sequence
from app.scenario_file import read_documents
from app.troubleshoot import commands as troubleshoot

EXIT_USAGE = 2
EXIT_CANNOT_START = 1

# What each real browser of ``verify`` needs from the ``verify`` extra (imported only there).
HARNESS_PACKAGES = {"chromium": "playwright", "firefox": "websockets", "webkit": "selenium"}
VERIFY_INSTALL_HINT = "verify needs the real-browser harness: pip install 'cors-playground[verify]'"
# The page's scripts; the wheel carries them, a checkout gets them from ./dev (npm ci).
HTMX_FILES = ("htmx.min.js", "hx-sse.min.js")


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cors-playground",
        description="Learn CORS with real cross-origin requests.",
    )
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser(
        "serve", help="start the playground (site, API and attacker origins)"
    )
    serve.add_argument(
        "--host",
        default=os.environ.get("CORS_PLAYGROUND_HOST", "localhost"),
        help="host name to listen on and to print in URLs (env CORS_PLAYGROUND_HOST)",
    )
    serve.add_argument(
        "--site-port",
        type=int,
        default=_env_int("CORS_PLAYGROUND_SITE_PORT", 8000),
        help="port of the site origin (env CORS_PLAYGROUND_SITE_PORT, default 8000)",
    )
    serve.add_argument(
        "--api-port",
        type=int,
        default=_env_int("CORS_PLAYGROUND_API_PORT", 8001),
        help="port of the API origin (env CORS_PLAYGROUND_API_PORT, default 8001)",
    )
    attacker = os.environ.get("CORS_PLAYGROUND_ATTACKER_PORT", "")
    serve.add_argument(
        "--attacker-port",
        type=int,
        default=int(attacker) if attacker.isdigit() else None,
        help="port of the attacker's origin, the attack lab's third origin (env "
        "CORS_PLAYGROUND_ATTACKER_PORT, default the API port plus one: 8002)",
    )
    serve.add_argument(
        "--redis",
        metavar="URL",
        default=os.environ.get("CORS_PLAYGROUND_REDIS_URL", ""),
        help="keep sessions, runs, progress and live events in Redis (redis://HOST:PORT/DB), "
        "so several processes serve them (env CORS_PLAYGROUND_REDIS_URL; default: in memory)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=_env_int("CORS_PLAYGROUND_WORKERS", 1),
        help="processes serving the three origins (env CORS_PLAYGROUND_WORKERS, default 1; "
        "more than one needs --redis)",
    )
    serve.add_argument(
        "--allow-check",
        action="store_true",
        help="let the troubleshooting page check a real server: the playground then sends "
        "requests to any URL a visitor enters (off by default; never on a workshop server)",
    )

    browsers = sorted(PROFILES)
    explain = sub.add_parser(
        "explain",
        help="predict what a browser does with scenarios and sequences (JSON in, JSON out)",
    )
    explain.add_argument(
        "file",
        help="JSON file: a scenario or sequence, or an array of them; - for stdin",
    )
    explain.add_argument(
        "--browser",
        choices=browsers,
        default="chromium",
        help="whose behaviour to predict: a browser engine, or spec for the Fetch Standard",
    )

    verify = sub.add_parser(
        "verify", help="run scenarios in a real headless browser and compare with the engine"
    )
    verify.add_argument(
        "file",
        help="JSON file: a scenario or sequence, or an array of them; - for stdin",
    )
    verify.add_argument(
        "--browser",
        default="chromium",
        help="real browser to run: chromium, firefox or webkit (compared with its own profile)",
    )
    verify.add_argument("--json", action="store_true", help="print the full report as JSON")
    troubleshoot.add_parsers(sub)
    return parser


def cmd_explain(args: argparse.Namespace) -> int:
    documents, many = read_documents(args.file)
    predictions = [
        predict_sequence(d, args.browser).to_json()
        if isinstance(d, FetchSequence)
        else predict(d, browser=args.browser).to_json()
        for d in documents
    ]
    json.dump(predictions if many else predictions[0], sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def missing_harness_package(browser: str) -> str | None:
    """The package ``verify --browser`` needs that is not installed, if any (none is imported)."""
    package = HARNESS_PACKAGES.get(browser)
    if package is None or importlib.util.find_spec(package) is not None:
        return None
    return package


def cmd_verify(args: argparse.Namespace) -> int:
    missing = missing_harness_package(args.browser)
    if missing is not None:
        print(f"{VERIFY_INSTALL_HINT} ({missing} is not installed)", file=sys.stderr)
        return EXIT_USAGE
    from app.harness.verify import run_verify

    documents, _ = read_documents(args.file)
    status: int = run_verify(documents, browser=args.browser, as_json=args.json)
    return status


def missing_htmx(static: Path | None = None) -> list[str]:
    """The htmx files the page needs that are not in ``static/vendor``."""
    vendor = (static or resource_dir("static")) / "vendor"
    return [name for name in HTMX_FILES if not (vendor / name).is_file()]


#: At most this many serving processes (each holds its own connections and memory).
MAX_WORKERS = 64


def attacker_port(api_port: int, chosen: int | None) -> int:
    """The attacker origin's port: the one chosen, else the API port plus one (a free port when
    the API's is picked by the system, port 0)."""
    if chosen is not None:
        return chosen
    return api_port + 1 if 0 < api_port < 65535 else 0


def cmd_serve(args: argparse.Namespace) -> int:
    missing = missing_htmx()
    if missing:
        vendor = resource_dir("static") / "vendor"
        print(
            f"cors-playground: cannot start: {', '.join(missing)} is missing from {vendor} "
            "(htmx comes from the npm registry). In a checkout, start it with ./dev run, which "
            "runs npm ci and copies htmx there; or install a wheel built after npm ci.",
            file=sys.stderr,
        )
        return EXIT_CANNOT_START
    workers = getattr(args, "workers", 1)
    redis_url = getattr(args, "redis", "")
    if workers < 1 or workers > MAX_WORKERS:
        print(f"cors-playground: --workers must be 1 to {MAX_WORKERS}", file=sys.stderr)
        return EXIT_USAGE
    if workers > 1 and not redis_url:
        print(
            "cors-playground: --workers needs --redis: without a shared store each process "
            "would keep its own sessions, and a page's requests would land in another's",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from app.web.server import serve

    status: int = serve(
        workers=workers,
        redis_url=redis_url,
        host=args.host,
        site_port=args.site_port,
        api_port=args.api_port,
        attacker_port=attacker_port(args.api_port, args.attacker_port),
        allow_check=getattr(args, "allow_check", False),
    )
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["serve", *(argv or sys.argv[1:])])
    handlers = {"serve": cmd_serve, "explain": cmd_explain, "verify": cmd_verify}
    handlers.update(troubleshoot.HANDLERS)
    try:
        return handlers[args.command](args)
    except ScenarioError as exc:
        print(f"cors-playground {args.command}: {exc.field}: {exc.message}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
