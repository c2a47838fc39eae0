"""A server policy as configuration for common CORS libraries, with what each one does that a
learner would not expect.

Each library's behaviour was read from its source: Starlette 1.10 ``CORSMiddleware`` (the copy
installed here, and exercised by tests/fix/test_starlette_config.py), expressjs/cors 2.8
``lib/index.js``, Flask-CORS 6 ``flask_cors/core.py``, django-cors-headers 4
``corsheaders/middleware.py``, rs/cors 1.11 ``cors.go``, and nginx's ``add_header``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.cors.names import (
    ALLOW_CREDENTIALS,
    ALLOW_HEADERS,
    ALLOW_METHODS,
    ALLOW_ORIGIN,
    EXPOSE_HEADERS,
    MAX_AGE,
)
from app.fix.policy import Policy

# Starlette's allow_methods=["*"] stands for these (starlette/middleware/cors.py).
STARLETTE_ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY")
SAFELISTED_METHODS = ("GET", "HEAD", "POST")


@dataclass(frozen=True)
class LibraryConfig:
    """One library's configuration for a policy."""

    key: str
    label: str
    language: str
    code: str
    notes: tuple[str, ...]
    # False when the library cannot produce headers that let this request through.
    expressible: bool = True


def _q(value: str) -> str:
    """A double-quoted string literal valid in Python, JavaScript and Go."""
    return json.dumps(value)


def _list(values: Sequence[str]) -> str:
    return "[" + ", ".join(_q(v) for v in values) + "]"


def _lowercase_methods(policy: Policy) -> list[str]:
    """The policy's methods that are not written in uppercase (browsers send them as written)."""
    return [m for m in policy.methods if m != m.upper()]


def _go_strings(values: Sequence[str]) -> str:
    return "[]string{" + ", ".join(_q(v) for v in values) + "}"


def _config(
    policy: Policy,
    key: str,
    label: str,
    language: str,
    lines: Sequence[str],
    notes: Sequence[str],
    expressible: bool = True,
) -> LibraryConfig:
    """A library's code and notes; every library gets the warning about the origin null last."""
    if policy.origin == "null":
        notes = [
            *notes,
            "Allowing the origin null also allows every sandboxed frame, file: page and data: "
            "URL: never do it for anything with cookies or private data.",
        ]
    return LibraryConfig(key, label, language, "\n".join(lines), tuple(notes), expressible)


# --- FastAPI / Starlette ------------------------------------------------------------------------


def starlette_kwargs(policy: Policy) -> dict[str, Any]:
    """Keyword arguments for Starlette's (and FastAPI's) ``CORSMiddleware``."""
    kwargs: dict[str, Any] = {"allow_origins": [policy.origin]}
    kwargs["allow_methods"] = list(policy.methods)
    if policy.allow_headers:
        kwargs["allow_headers"] = list(policy.allow_headers)
    if policy.credentials:
        kwargs["allow_credentials"] = True
    if policy.expose_headers:
        kwargs["expose_headers"] = list(policy.expose_headers)
    if policy.max_age is not None:
        kwargs["max_age"] = policy.max_age
    return kwargs


def starlette(policy: Policy) -> LibraryConfig:
    kwargs = starlette_kwargs(policy)
    lines = [
        "from fastapi.middleware.cors import CORSMiddleware",
        "",
        "app.add_middleware(",
        "    CORSMiddleware,",
    ]
    for key, value in kwargs.items():
        if isinstance(value, bool):
            text = "True" if value else "False"
        elif isinstance(value, int):
            text = str(value)
        else:
            text = _list(value)
        lines.append(f"    {key}={text},")
    lines.append(")")
    notes: list[str] = []
    if policy.preflight:
        notes.append(
            "Starlette answers a preflight it accepts with 200 and the body “OK” (any 2xx will "
            "do), and one it refuses with 400 “Disallowed CORS origin, method, headers”."
        )
        if policy.max_age is None:
            notes.append(
                "Without max_age Starlette sends Access-Control-Max-Age: 600, so browsers reuse "
                "the preflight's answer for 10 minutes: a policy change can take that long to "
                "show."
            )
    odd = [m for m in policy.methods if m not in STARLETTE_ALL_METHODS]
    if odd and policy.preflight:
        notes.append(
            f'List {", ".join(odd)} exactly as written: allow_methods=["*"] means only the '
            "uppercase standard methods, so Starlette would refuse a preflight asking for "
            f"{odd[0]}."
        )
    if policy.credentials:
        notes.append(
            'Never combine allow_credentials=True with allow_origins=["*"]: Starlette then '
            "echoes whatever Origin the request carries, so every website could read responses "
            "made with your users' cookies."
        )
    if policy.origin == "*":
        notes.append(
            'allow_origins=["*"] sends Access-Control-Allow-Origin: * (fine without '
            "credentials); otherwise Starlette echoes the Origin only when it is on the list, "
            "compared exactly, and adds Vary: Origin."
        )
    return _config(
        policy, "starlette", "FastAPI / Starlette CORSMiddleware", "python", lines, notes
    )


# --- Express cors -------------------------------------------------------------------------------


def express(policy: Policy) -> LibraryConfig:
    lines = ['const cors = require("cors");', "", "app.use(cors({"]
    lines.append(f"  origin: {_q(policy.origin)},")
    if policy.credentials:
        lines.append("  credentials: true,")
    if policy.preflight:
        lines.append(f"  methods: {_list(policy.methods)},")
        if policy.allow_headers:
            lines.append(f"  allowedHeaders: {_list(policy.allow_headers)},")
        if policy.max_age is not None:
            lines.append(f"  maxAge: {policy.max_age},")
    if policy.expose_headers:
        lines.append(f"  exposedHeaders: {_list(policy.expose_headers)},")
    lines.append("}));")
    notes: list[str] = []
    if policy.preflight:
        notes.append(
            "cors answers every OPTIONS request itself with 204 and Content-Length: 0, without "
            "checking the method or headers asked for: it sends its lists and the browser "
            "decides. Without allowedHeaders it echoes whatever headers the preflight asks for."
        )
        lower = _lowercase_methods(policy)
        if lower:
            notes.append(
                f"Its default methods list is uppercase, so {lower[0]} has to be listed as written."
            )
    if policy.origin != "*":
        notes.append(
            "A string origin is sent as it is to every caller (with Vary: Origin); for several "
            "origins pass an array or a RegExp and cors echoes the request's Origin when it "
            "matches."
        )
    if policy.credentials:
        notes.append(
            'With credentials: true, never write origin: "*" (cors sends * and the browser '
            "refuses the credentialed request) nor origin: true (it echoes any Origin, so every "
            "website could read your users' data)."
        )
    return _config(policy, "express", "Express cors", "javascript", lines, notes)


# --- Flask-CORS ---------------------------------------------------------------------------------


def flask(policy: Policy) -> LibraryConfig:
    lines = ["from flask_cors import CORS", "", "CORS(", "    app,"]
    if policy.origin == "*":
        lines.append('    origins="*",')
        lines.append("    send_wildcard=True,")
    else:
        lines.append(f"    origins={_list([policy.origin])},")
    lines.append(f"    methods={_list(policy.methods)},")
    if policy.preflight and policy.allow_headers:
        lines.append(f"    allow_headers={_list(policy.allow_headers)},")
    if policy.expose_headers:
        lines.append(f"    expose_headers={_list(policy.expose_headers)},")
    if policy.credentials:
        lines.append("    supports_credentials=True,")
    if policy.preflight and policy.max_age is not None:
        lines.append(f"    max_age={policy.max_age},")
    lines.append(")")
    notes: list[str] = []
    expressible = True
    lower = _lowercase_methods(policy)
    if lower and policy.preflight:
        expressible = False
        notes.append(
            f"Flask-CORS cannot express this policy: it uppercases methods, so it answers "
            f"Access-Control-Allow-Methods: {lower[0].upper()}, and the browser compares "
            f"methods case-sensitively with the {lower[0]} this page sends. Call fetch() with "
            f'method "{lower[0].upper()}" instead.'
        )
    if policy.origin != "*":
        notes.append(
            "Flask-CORS never sends your string as it is: it echoes the request's Origin when "
            "it matches one of origins, compared case-insensitively, and treats an entry with "
            "regex characters (* ? ( ) [ ] ^ $ \\) as a regular expression. Its default, "
            'origins="*", matches and echoes every origin: with supports_credentials=True '
            "that lets every website read your users' data."
        )
    if policy.preflight:
        notes.append(
            "The preflight gets Flask's automatic OPTIONS answer, 200. Flask-CORS lists only "
            "the requested headers it allows, and adds Allow-Methods and Allow-Headers only "
            "when the requested method is allowed."
        )
    return _config(policy, "flask", "Flask-CORS", "python", lines, notes, expressible)


# --- django-cors-headers ------------------------------------------------------------------------


def django(policy: Policy) -> LibraryConfig:
    lines = [
        "# settings.py",
        'INSTALLED_APPS = [..., "corsheaders"]',
        "MIDDLEWARE = [",
        '    "corsheaders.middleware.CorsMiddleware",  # before CommonMiddleware',
        "    ...,",
        "]",
    ]
    if policy.origin == "*":
        lines.append("CORS_ALLOW_ALL_ORIGINS = True")
    else:
        lines.append(f"CORS_ALLOWED_ORIGINS = {_list([policy.origin])}")
    if policy.preflight:
        lines.append(f"CORS_ALLOW_METHODS = {_list(policy.methods)}")
        if policy.allow_headers:
            headers = [h.lower() for h in policy.allow_headers]
            lines.append(f"CORS_ALLOW_HEADERS = {_list(headers)}")
    if policy.expose_headers:
        lines.append(f"CORS_EXPOSE_HEADERS = {_list(policy.expose_headers)}")
    if policy.credentials:
        lines.append("CORS_ALLOW_CREDENTIALS = True")
    if policy.preflight and policy.max_age is not None:
        lines.append(f"CORS_PREFLIGHT_MAX_AGE = {policy.max_age}")
    notes: list[str] = []
    if policy.preflight:
        notes.append(
            "django-cors-headers answers a preflight with 200 and an empty body, and lists all "
            "of CORS_ALLOW_METHODS and CORS_ALLOW_HEADERS whatever the preflight asked: the "
            "browser does the checking."
        )
        notes.append(
            "CORS_ALLOW_HEADERS and CORS_ALLOW_METHODS replace the defaults (headers accept, "
            "authorization, content-type, user-agent, x-csrftoken, x-requested-with): write "
            '(*default_headers, "x-my-header") from corsheaders.defaults to keep them.'
        )
        if policy.max_age is None:
            notes.append(
                "Without CORS_PREFLIGHT_MAX_AGE it sends Access-Control-Max-Age: 86400; each "
                "browser caps that (Chromium 2 hours, WebKit 10 minutes)."
            )
    if policy.credentials:
        notes.append(
            "Never combine CORS_ALLOW_ALL_ORIGINS = True with CORS_ALLOW_CREDENTIALS = True: "
            "it then echoes any Origin, so every website could read your users' data."
        )
    notes.append("It always adds Vary: Origin, as a server that echoes origins should.")
    return _config(policy, "django", "Django django-cors-headers", "python", lines, notes)


# --- Go rs/cors ---------------------------------------------------------------------------------


def go_rs_cors(policy: Policy) -> LibraryConfig:
    lines = [
        'import "github.com/rs/cors"',
        "",
        "c := cors.New(cors.Options{",
        f"\tAllowedOrigins:   {_go_strings([policy.origin])},",
        f"\tAllowedMethods:   {_go_strings(policy.methods)},",
    ]
    if policy.allow_headers:
        lines.append(f"\tAllowedHeaders:   {_go_strings(policy.allow_headers)},")
    if policy.expose_headers:
        lines.append(f"\tExposedHeaders:   {_go_strings(policy.expose_headers)},")
    if policy.credentials:
        lines.append("\tAllowCredentials: true,")
    if policy.preflight and policy.max_age is not None:
        lines.append(f"\tMaxAge:           {policy.max_age if policy.max_age > 0 else -1},")
    lines += ["})", "handler = c.Handler(handler)"]
    notes = [
        "AllowedMethods also filters the actual request: a method that is not listed gets no "
        "CORS headers at all, which is why the request's own method is on the list (the default "
        "is GET, POST, HEAD)."
    ]
    if policy.preflight:
        notes.append(
            "A preflight that asks for a method or header rs/cors does not allow is answered 204 "
            "with no CORS headers, so the browser reports a missing Access-Control-Allow-Origin "
            "instead of the real reason. An allowed one echoes the requested method and headers."
        )
        if policy.repeated_headers:
            notes.append(
                f"rs/cors refuses a preflight that names a header twice, and Firefox names "
                f"{policy.repeated_headers[0]} twice because the page sets it twice: in Firefox "
                "this preflight gets no CORS headers at all. Set each request header once."
            )
        if policy.max_age is None:
            notes.append(
                "MaxAge 0 (the default) sends no Access-Control-Max-Age, so browsers keep the "
                "preflight only 5 seconds; a negative MaxAge sends 0."
            )
    if policy.credentials:
        notes.append(
            'With AllowCredentials never list "*": rs/cors then sends Access-Control-Allow-'
            "Origin: * with credentials allowed, and browsers refuse it. Origins are compared "
            "case-insensitively, and one * inside an origin is a wildcard pattern."
        )
    return _config(policy, "go", "Go rs/cors", "go", lines, notes)


# --- nginx --------------------------------------------------------------------------------------


def _nginx_value(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def nginx(policy: Policy) -> LibraryConfig:
    common = [(ALLOW_ORIGIN, policy.origin)]
    if policy.credentials:
        common.append((ALLOW_CREDENTIALS, "true"))
    actual = [*common]
    if policy.expose_headers:
        actual.append((EXPOSE_HEADERS, ", ".join(policy.expose_headers)))
    lines = ["location /api/ {"]
    if policy.preflight:
        preflight = [*common, (ALLOW_METHODS, ", ".join(policy.methods))]
        if policy.allow_headers:
            preflight.append((ALLOW_HEADERS, ", ".join(policy.allow_headers)))
        if policy.max_age is not None:
            preflight.append((MAX_AGE, str(policy.max_age)))
        lines.append("    if ($request_method = OPTIONS) {")
        lines += [f"        add_header {n} {_nginx_value(v)} always;" for n, v in preflight]
        lines += ["        return 204;", "    }"]
    lines += [f"    add_header {n} {_nginx_value(v)} always;" for n, v in actual]
    lines += ["    proxy_pass http://app;", "}"]
    notes = [
        "always: without it nginx adds the headers only to successful and redirect answers, so "
        "an error would reach the page as a CORS failure instead of its real status.",
        "If the application behind proxy_pass sends CORS headers too, the browser gets two "
        "Access-Control-Allow-Origin lines and refuses them: remove the app's with "
        "proxy_hide_header, or set CORS in one place only.",
    ]
    if policy.preflight:
        notes.insert(
            1,
            "add_header lines inside the if block replace the location's own (nginx inherits "
            "add_header only into a level that has none), so the OPTIONS branch repeats them.",
        )
    if policy.origin != "*":
        notes.append(
            "For several origins, map $http_origin to itself for the allowed ones (and to "
            '"" otherwise), send that variable, and add Vary: Origin.'
        )
    expressible = True
    if any("$" in v for _, v in actual) or "$" in " ".join(policy.methods + policy.allow_headers):
        expressible = False
        notes.append("nginx expands $ in a value as a variable, so this value cannot be written.")
    return _config(policy, "nginx", "nginx", "nginx", lines, notes, expressible)


def library_configs(policy: Policy) -> tuple[LibraryConfig, ...]:
    """The policy for each library, in a fixed order."""
    return (
        starlette(policy),
        express(policy),
        flask(policy),
        django(policy),
        go_rs_cors(policy),
        nginx(policy),
    )
