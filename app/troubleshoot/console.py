"""A browser's console error, read back: which browser printed it, which check failed, what the
server sent (as far as the message tells), and a scenario that reproduces it.

Chromium's and Firefox's wording is the one ``app.fix.messages`` rebuilds and tests against
what the real browsers printed. WebKit's console cannot be recorded here (WebKitGTK gives
WebDriver no console messages), so its wording comes from WebKit's source:
Source/WebCore/loader/CrossOriginAccessControl.cpp (``passesAccessControlCheck``,
``validatePreflightResponse``), CrossOriginPreflightResultCache.cpp and
Source/WebKit/NetworkProcess/NetworkCORSPreflightChecker.cpp. Older wordings that developers
still paste (Firefox's "CORS preflight channel", Safari's "Fetch API cannot load X. ...") are
read too. Text that matches none of them is said to be unknown, never guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from app.cors import Prediction, RequestInit, Scenario, ServerResponse, predict
from app.cors.headers import get, received_header_list
from app.cors.methods import is_cors_safelisted_method, normalize_method
from app.cors.names import (
    ALLOW_CREDENTIALS,
    ALLOW_HEADERS,
    ALLOW_METHODS,
    ALLOW_ORIGIN,
    CONTENT_TYPE,
    LOCATION,
)
from app.cors.origins import serialize_origin
from app.fix.messages import check_name, is_preflight_failure
from app.troubleshoot.words import CHECK_WORDS, label_of

Stage = Literal["preflight", "response"]
MAX_TEXT = 64 * 1024
MAX_LINES = 200
# Placeholders for what a message does not name; the reading says they are assumed.
PLACEHOLDER_ORIGIN = "https://app.example"
PLACEHOLDER_URL = "https://api.example/resource"

# --- WebKit's wording (from its source; see the module docstring) ---------------------------

WEBKIT_ORIGIN_NOT_ALLOWED = (
    "Origin {origin} is not allowed by Access-Control-Allow-Origin. Status code: {status}"
)
WEBKIT_MESSAGES: dict[str, str] = {
    "WildcardOriginNotAllowed": (
        "Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true."
    ),
    "MultipleAllowOriginValues": "Access-Control-Allow-Origin cannot contain more than one origin.",
    "InvalidAllowCredentials": (
        'Credentials flag is true, but Access-Control-Allow-Credentials is not "true".'
    ),
    "PreflightInvalidStatus": "Preflight response is not successful. Status code: {status}",
    "PreflightDisallowedRedirect": "Preflight response is not successful",
    "MethodDisallowedByPreflightResponse": (
        "Method {value} is not allowed by Access-Control-Allow-Methods."
    ),
    "HeaderDisallowedByPreflightResponse": (
        "Request header field {value} is not allowed by Access-Control-Allow-Headers."
    ),
    "InvalidAllowMethodsPreflightResponse": (
        "Header Access-Control-Allow-Methods has an invalid value: {value}"
    ),
    "InvalidAllowHeadersPreflightResponse": (
        "Header Access-Control-Allow-Headers has an invalid value: {value}"
    ),
}
WEBKIT_CANNOT_LOAD = "Fetch API cannot load {url} due to access control checks."


def webkit_console(scenario: Scenario, prediction: Prediction) -> tuple[str, ...]:
    """What Safari (WebKit) prints for a blocked fetch(): the reason, the "cannot load" line
    and the resource line, worded as WebKit's source words them.

    WebKit checks a preflight's status before anything else (``validatePreflightResponse``)
    and reports a redirected preflight without a status, so those two come first here.
    """
    name = prediction.blocked_by
    if prediction.outcome != "blocked" or name is None:
        return ()
    preflight = is_preflight_failure(name)
    answer = scenario.preflight_response if preflight else scenario.response
    received = received_header_list(answer.headers)
    check = check_name(name)
    if preflight and answer.status in (301, 302, 303, 307, 308) and get(LOCATION, received):
        reason = WEBKIT_MESSAGES["PreflightDisallowedRedirect"]
    elif preflight and not 200 <= answer.status <= 299:
        reason = WEBKIT_MESSAGES["PreflightInvalidStatus"].format(status=answer.status)
    elif check in ("MissingAllowOriginHeader", "AllowOriginMismatch", "InvalidAllowOriginValue"):
        value = get(ALLOW_ORIGIN, received) or ""
        if "," in value:
            reason = WEBKIT_MESSAGES["MultipleAllowOriginValues"]
        else:
            reason = WEBKIT_ORIGIN_NOT_ALLOWED.format(origin=scenario.origin, status=answer.status)
    elif check == "MethodDisallowedByPreflightResponse":
        reason = WEBKIT_MESSAGES[check].format(value=prediction.failed_parameter or "")
    elif check == "HeaderDisallowedByPreflightResponse":
        # WebKit names the header as the page wrote it (the header map's key).
        lower = prediction.failed_parameter or ""
        written = next((n for n, _ in scenario.request.headers if n.lower() == lower), lower)
        reason = WEBKIT_MESSAGES[check].format(value=written)
    elif check in ("InvalidAllowMethodsPreflightResponse", "InvalidAllowHeadersPreflightResponse"):
        header = ALLOW_METHODS if "Methods" in check else ALLOW_HEADERS
        reason = WEBKIT_MESSAGES[check].format(value=get(header, received) or "")
    elif check in WEBKIT_MESSAGES:
        reason = WEBKIT_MESSAGES[check].format(status=answer.status, value="")
    else:
        return ()
    return (
        reason,
        WEBKIT_CANNOT_LOAD.format(url=scenario.url),
        f"Failed to load resource: {reason}",
    )


# --- reading a message back -------------------------------------------------------------------


@dataclass
class Reading:
    """What a pasted console text tells, and what it leaves open."""

    recognised: bool
    browser: str | None = None
    # The failed check as the engine names it (``blocked_by``), most likely first; several
    # when the browser words them alike. Empty: a message of the browser, about something the
    # engine does not model.
    checks: tuple[str, ...] = ()
    stage: Stage | None = None
    url: str | None = None
    origin: str | None = None
    # The value the message quotes: the Allow-Origin or Allow-Credentials value, the method,
    # the request header, the token that did not parse.
    value: str | None = None
    status: int | None = None
    method: str | None = None
    # Sentences: what the server sent, as far as the message tells; what it does not tell.
    facts: list[str] = field(default_factory=list)
    unknowns: list[str] = field(default_factory=list)
    # The lines that were recognised, and a sentence when nothing (or not all) was.
    lines: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def label(self) -> str:
        return label_of(self.browser)

    @property
    def check(self) -> str | None:
        return self.checks[0] if self.checks else None

    @property
    def check_words(self) -> str:
        """The failed check in words."""
        if not self.checks:
            return ""
        return CHECK_WORDS.get(check_name(self.checks[0]), self.checks[0])


NOT_KNOWN = (
    "This is not a CORS message this tool knows: it does not match what Chromium, Firefox or "
    "Safari (WebKit) print for a blocked cross-origin request. Paste the whole line as the "
    "console shows it (it starts with “Access to fetch at”, “Cross-Origin Request Blocked” "
    "or “Origin … is not allowed”)."
)

# Chromium ---------------------------------------------------------------------------------------

_CHROMIUM_LINE = re.compile(
    r"Access to (?:fetch|XMLHttpRequest|script|font|image|resource|CSS stylesheet) at "
    r"'(?P<url>.*?)'(?: \(redirected from '(?P<from>.*?)'\))? from origin '(?P<origin>.*?)' "
    r"has been blocked by CORS policy: (?P<body>.*)$"
)
_CHROMIUM_PREFLIGHT = "Response to preflight request doesn't pass access control check: "
_OPAQUE_HINT = re.compile(
    r"\s*If an opaque response serves your needs, set the request's mode to 'no-cors' to fetch "
    r"the resource with CORS disabled\.?\s*$"
)
_CHROMIUM_BODIES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern + r"\s*$"))
    for name, pattern in (
        (
            "MissingAllowOriginHeader",
            r"No 'Access-Control-Allow-Origin' header is present on the requested resource\.",
        ),
        (
            "MultipleAllowOriginValues",
            r"The 'Access-Control-Allow-Origin' header contains multiple values '(?P<value>.*)', "
            r"but only one is allowed\.(?: Have the server send the header with a valid value\.)?",
        ),
        (
            "InvalidAllowOriginValue",
            r"The 'Access-Control-Allow-Origin' header contains the invalid value '(?P<value>.*)'"
            r"\.(?: Have the server send the header with a valid value\.)?",
        ),
        (
            "AllowOriginMismatch",
            r"The 'Access-Control-Allow-Origin' header has a value '(?P<value>.*)' that is not "
            r"equal to the supplied origin\.(?: Have the server send the header with a valid "
            r"value\.)?",
        ),
        (
            "WildcardOriginNotAllowed",
            r"The value of the 'Access-Control-Allow-Origin' header in the response must not be "
            r"the wildcard '\*' when the request's credentials mode is 'include'\.(?: The "
            r"credentials mode of requests initiated by the XMLHttpRequest is controlled by the "
            r"withCredentials attribute\.)?",
        ),
        (
            "InvalidAllowCredentials",
            r"The value of the 'Access-Control-Allow-Credentials' header in the response is "
            r"'(?P<value>.*)' which must be 'true' when the request's credentials mode is "
            r"'include'\.(?: The credentials mode of requests initiated by the XMLHttpRequest is "
            r"controlled by the withCredentials attribute\.)?",
        ),
        ("PreflightInvalidStatus", r"It does not have HTTP ok status\."),
        ("PreflightDisallowedRedirect", r"Redirect is not allowed for a preflight request\."),
        (
            "MethodDisallowedByPreflightResponse",
            r"Method (?P<value>\S+) is not allowed by Access-Control-Allow-Methods in preflight "
            r"response\.",
        ),
        (
            "HeaderDisallowedByPreflightResponse",
            r"Request header field (?P<value>\S+) is not allowed by Access-Control-Allow-Headers "
            r"in preflight response\.",
        ),
        (
            "InvalidAllowMethodsPreflightResponse",
            r"Cannot parse Access-Control-Allow-Methods response header field in preflight "
            r"response\.",
        ),
        (
            "InvalidAllowHeadersPreflightResponse",
            r"Cannot parse Access-Control-Allow-Headers response header field in preflight "
            r"response\.",
        ),
    )
)
# DevTools' line for the failed request itself: "PUT https://api.example/x net::ERR_FAILED 200 (OK)"
_CHROMIUM_FAILED = re.compile(
    r"(?:^|\s)(?P<method>[!#$%&'*+\-.^_`|~0-9A-Za-z]+) (?P<url>\S+) net::ERR_FAILED"
    r"(?: (?P<status>\d{3})\b)?"
)

# Firefox ----------------------------------------------------------------------------------------

_Q_OPEN = "[‘'\"“]"
_Q_CLOSE = "[’'\"”]"
_FIREFOX_LINE = re.compile(
    r"Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource "
    r"at (?P<url>.*?)\. \(Reason: (?P<reason>.*?)\)\.?(?: Status code: (?P<status>[^.\s]*)\.?)?"
    r"\s*(?:\[Learn More\]\s*)?$"
)


def _q(pattern: str) -> str:
    """A Firefox reason with its typographic quotes matching straight ones too."""
    return pattern.replace("‘", _Q_OPEN).replace("’", _Q_CLOSE)


_FIREFOX_REASONS: tuple[tuple[str | None, re.Pattern[str]], ...] = tuple(
    (name, re.compile("^" + _q(pattern) + "$"))
    for name, pattern in (
        ("MissingAllowOriginHeader", r"CORS header ‘Access-Control-Allow-Origin’ missing"),
        (
            "MultipleAllowOriginValues",
            r"Multiple CORS header ‘Access-Control-Allow-Origin’ not allowed",
        ),
        (
            "AllowOriginMismatch",
            r"CORS header ‘Access-Control-Allow-Origin’ does not match ‘(?P<value>.*)’",
        ),
        (
            "WildcardOriginNotAllowed",
            r"Credential is not supported if the CORS header ‘Access-Control-Allow-Origin’ is "
            r"‘\*’",
        ),
        (
            "InvalidAllowCredentials",
            r"expected ‘true’ in CORS header ‘Access-Control-Allow-Credentials’",
        ),
        ("PreflightInvalidStatus", r"CORS preflight (?:response|channel) did not succeed"),
        ("PreflightDisallowedRedirect", r"CORS request external redirect not allowed"),
        (
            "MethodDisallowedByPreflightResponse",
            r"Did not find method in CORS header ‘Access-Control-Allow-Methods’",
        ),
        (
            "HeaderDisallowedByPreflightResponse",
            r"header ‘(?P<value>.*)’ is not allowed according to header "
            r"‘Access-Control-Allow-Headers’ from CORS preflight response",
        ),
        (
            "HeaderDisallowedByPreflightResponse",
            r"missing token ‘(?P<value>.*)’ in CORS header ‘Access-Control-Allow-Headers’ from "
            r"CORS preflight channel",
        ),
        (
            "InvalidAllowMethodsPreflightResponse",
            r"invalid token ‘(?P<value>.*)’ in CORS header ‘Access-Control-Allow-Methods’",
        ),
        (
            "InvalidAllowHeadersPreflightResponse",
            r"invalid token ‘(?P<value>.*)’ in CORS header ‘Access-Control-Allow-Headers’",
        ),
        (None, r"CORS request did not succeed"),
        (None, r"CORS request not HTTP"),
        (None, r"CORS disabled"),
        (None, r"CORS header ‘Origin’ cannot be added"),
        (None, r"CORS Missing Allow Origin"),
    )
)
# Firefox's reasons that are no failed check of a response, in words.
_FIREFOX_OTHER = {
    "CORS request did not succeed": (
        "the request never got an answer: the server could not be reached, refused the "
        "connection, failed TLS, or the request was cancelled. No CORS header is involved; "
        "check that the URL and port are right and that the server runs"
    ),
    "CORS request not HTTP": (
        "the page tried a cross-origin request to a URL that is not http(s) (often a file: "
        "page loading another file): serve the page over http://localhost instead"
    ),
    "CORS disabled": "CORS is switched off in this Firefox (content.cors.disable)",
}

# WebKit -----------------------------------------------------------------------------------------

_WEBKIT_REASONS: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = tuple(
    (names, re.compile(pattern))
    for names, pattern in (
        (
            ("MissingAllowOriginHeader", "AllowOriginMismatch", "InvalidAllowOriginValue"),
            r"Origin (?P<origin>\S+) is not allowed by Access-Control-Allow-Origin\.?"
            r"(?: Status code: (?P<status>\d{3}))?",
        ),
        (
            ("WildcardOriginNotAllowed",),
            r"Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true\.?",
        ),
        (
            ("MultipleAllowOriginValues",),
            r"Access-Control-Allow-Origin cannot contain more than one origin\.?",
        ),
        (
            ("InvalidAllowCredentials",),
            r"Credentials flag is true, but Access-Control-Allow-Credentials is not "
            r"[\"“”]true[\"“”]\.?",
        ),
        (
            ("PreflightInvalidStatus", "PreflightDisallowedRedirect"),
            r"Preflight response is not successful(?:\. Status code: (?P<status>\d{3}))?\.?",
        ),
        (
            ("MethodDisallowedByPreflightResponse",),
            r"Method (?P<value>\S+) is not allowed by Access-Control-Allow-Methods\.?",
        ),
        (
            ("HeaderDisallowedByPreflightResponse",),
            r"Request header field (?P<value>\S+) is not allowed by "
            r"Access-Control-Allow-Headers\.?",
        ),
        (
            ("InvalidAllowMethodsPreflightResponse",),
            r"Header Access-Control-Allow-Methods has an invalid value: (?P<value>.*)$",
        ),
        (
            ("InvalidAllowHeadersPreflightResponse",),
            r"Header Access-Control-Allow-Headers has an invalid value: (?P<value>.*)$",
        ),
    )
)
_WEBKIT_CANNOT_LOAD = re.compile(
    r"(?:Fetch API|XMLHttpRequest) cannot load (?P<url>\S+?)(?: due to access control checks"
    r"\.?|\.(?: (?P<rest>.*))?)$"
)
_FAILED_TO_LOAD = re.compile(r"^(?:\[Error\]\s*)?Failed to load resource: ")


def _clean(line: str) -> str:
    """A console line without what DevTools adds around it (levels, file:line, counters)."""
    line = line.strip().strip("\u200b")
    line = re.sub(r"^\[(?:Error|Warning|Log)\]\s*", "", line)
    line = re.sub(r"\s*\((?:[^()]*, )?line \d+\)\s*$", "", line)
    return line


def parse_console(text: str) -> Reading:
    """Read a pasted console text: the first CORS message found decides the browser."""
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT]
    raw_lines = [_clean(line) for line in text.splitlines()[:MAX_LINES]]
    lines = [line for line in raw_lines if line]
    for reader in (_read_chromium, _read_firefox, _read_webkit):
        reading = reader(lines)
        if reading is not None:
            return reading
    return Reading(recognised=False, note=NOT_KNOWN)


def _read_chromium(lines: Sequence[str]) -> Reading | None:
    match = None
    for line in lines:
        match = _CHROMIUM_LINE.search(line)
        if match is not None:
            break
    if match is None:
        return None
    reading = Reading(
        recognised=True,
        browser="chromium",
        url=match["url"],
        origin=match["origin"],
        lines=[match.group(0)],
    )
    if match["from"]:
        reading.facts.append(
            f"the request to {match['from']} was redirected to {match['url']} before it failed"
        )
    body = _OPAQUE_HINT.sub("", match["body"])
    preflight_prefix = body.startswith(_CHROMIUM_PREFLIGHT)
    body = body.removeprefix(_CHROMIUM_PREFLIGHT)
    for name, pattern in _CHROMIUM_BODIES:
        found = pattern.match(body)
        if found is None:
            continue
        value = found.groupdict().get("value")
        staged = preflight_prefix and not name.startswith("Preflight")
        full = "Preflight" + name if staged and not is_preflight_failure(name) else name
        stage: Stage = "preflight" if is_preflight_failure(full) else "response"
        reading.checks = (full,)
        reading.stage = stage
        reading.value = value
        break
    else:
        reading.note = (
            "Chromium blocked this request for a reason the playground does not model ("
            + body.strip()
            + "); the engine covers the CORS checks of a preflight and a response."
        )
    for line in lines:
        failed = _CHROMIUM_FAILED.search(line)
        if failed is not None and failed["url"] == reading.url:
            reading.lines.append(failed.group(0).strip())
            reading.method = failed["method"]
            if failed["status"] and reading.stage == "response":
                reading.status = int(failed["status"])
            break
    _describe(reading)
    return reading


def _read_firefox(lines: Sequence[str]) -> Reading | None:
    found: list[tuple[re.Match[str], str | None, re.Match[str] | None]] = []
    for line in lines:
        match = _FIREFOX_LINE.search(line)
        if match is None:
            continue
        reason = match["reason"].strip()
        for name, pattern in _FIREFOX_REASONS:
            hit = pattern.match(reason)
            if hit is not None:
                found.append((match, name, hit))
                break
        else:
            found.append((match, None, None))
    if not found:
        return None
    url = found[0][0]["url"]
    if len(url) > 1 and url[0] in "‘'" and url[-1] in "’'":
        url = url[1:-1]
    reading = Reading(recognised=True, browser="firefox", url=url)
    reading.lines = [m.group(0) for m, _, _ in found]
    checks = [(m, n, h) for m, n, h in found if n is not None]
    not_sent = any(
        n is None
        and m["reason"].strip() == "CORS request did not succeed"
        and (m["status"] or "") == "(null)"
        for m, n, _ in found
    )
    if not checks:
        reason = found[0][0]["reason"].strip()
        words = next(
            (w for key, w in _FIREFOX_OTHER.items() if re.fullmatch(_q(key), reason)), None
        )
        reading.note = (
            f"Firefox's reason “{reason}” is no failed CORS check of the server's headers: "
            + (words or "the playground does not model it")
            + "."
        )
        _describe(reading)
        return reading
    match, name, hit = checks[0]
    assert name is not None and hit is not None
    reading.value = hit.groupdict().get("value")
    status = match["status"]
    if status and status.isdigit():
        reading.status = int(status)
    if is_preflight_failure(name) or name == "PreflightInvalidStatus":
        reading.stage = "preflight"
        reading.checks = (name,)
    elif not_sent:
        reading.stage = "preflight"
        reading.checks = ("Preflight" + name,)
    else:
        # Firefox words these checks alike for the preflight and the response; after a failed
        # preflight it adds "CORS request did not succeed ... (null)".
        reading.checks = (name, "Preflight" + name)
        reading.unknowns.append(
            "Firefox words this check the same way for the preflight and the response. After a "
            "failed preflight it prints a second line, “CORS request did not succeed). Status "
            "code: (null)”; it is not in the text, so this reads as the response's failure"
        )
    if name == "PreflightDisallowedRedirect":
        statuses = [m for m, n, _ in checks if n == "PreflightInvalidStatus"]
        if statuses and (statuses[0]["status"] or "").isdigit():
            reading.status = int(statuses[0]["status"])
    _describe(reading)
    return reading


def _read_webkit(lines: Sequence[str]) -> Reading | None:
    reading: Reading | None = None
    url = None
    for line in lines:
        body = _FAILED_TO_LOAD.sub("", line)
        load = _WEBKIT_CANNOT_LOAD.search(body)
        if load is not None:
            url = url or load["url"]
            if reading is not None:
                reading.lines.append(load.group(0))
            body = load["rest"] or ""
            if not body:
                continue
        if reading is not None:
            continue
        for names, pattern in _WEBKIT_REASONS:
            hit = pattern.search(body)
            if hit is None:
                continue
            groups = hit.groupdict()
            reading = Reading(recognised=True, browser="webkit", lines=[hit.group(0)])
            reading.checks = names
            reading.value = groups.get("value")
            reading.origin = groups.get("origin")
            if groups.get("status"):
                reading.status = int(groups["status"])
            if names[0] == "PreflightInvalidStatus" and not groups.get("status"):
                reading.checks = ("PreflightInvalidStatus", "PreflightDisallowedRedirect")
                reading.unknowns.append(
                    "WebKit says “Preflight response is not successful” without a status for a "
                    "redirected preflight (and older Safari for any failed status)"
                )
            elif names[0] == "PreflightInvalidStatus":
                reading.checks = ("PreflightInvalidStatus",)
            break
    if reading is None:
        if url is None:
            return None
        return Reading(
            recognised=True,
            browser="webkit",
            url=url,
            lines=[line for line in lines if _WEBKIT_CANNOT_LOAD.search(line)],
            note=(
                "Safari says only that access control checks failed; the line before it in "
                "the console names the check (“Origin … is not allowed …”, “Preflight response "
                "is not successful …”): paste that line too."
            ),
        )
    reading.url = url
    checks = reading.checks
    if all(is_preflight_failure(c) for c in checks):
        reading.stage = "preflight"
    else:
        # WebKit words the preflight's and the response's failures the same way.
        reading.checks = (*checks, *("Preflight" + c for c in checks))
        reading.unknowns.append(
            "Safari words this check the same way for the preflight and the response, so the "
            "message does not say which answer failed; this reads it as the response's"
        )
    if checks[0] == "MissingAllowOriginHeader":
        reading.unknowns.append(
            "Safari says the same when Access-Control-Allow-Origin is missing, wrong or invalid; "
            "this reads it as missing, the most common cause"
        )
    _describe(reading)
    return reading


# --- what the message tells, in words -----------------------------------------------------------


def _describe(reading: Reading) -> None:
    check = reading.check
    if check is None:
        return
    name = check_name(check)
    where = "the preflight response" if reading.stage == "preflight" else "the response"
    if reading.stage is None:
        where = "the server's answer"
    value = reading.value
    status = f" (status {reading.status})" if reading.status is not None else ""
    facts = reading.facts
    if name == "MissingAllowOriginHeader":
        if reading.browser == "webkit":
            facts.append(
                f"{where}{status} had no Access-Control-Allow-Origin matching the page's origin "
                f"{reading.origin or ''}".rstrip()
            )
        else:
            facts.append(f"{where}{status} had no Access-Control-Allow-Origin header")
    elif name == "MultipleAllowOriginValues":
        facts.append(
            f"{where} sent more than one origin in Access-Control-Allow-Origin"
            + (f": {value!r}" if value else "")
        )
    elif name in ("AllowOriginMismatch", "InvalidAllowOriginValue"):
        facts.append(
            f"{where} sent Access-Control-Allow-Origin: {value}, which is not the page's origin"
            + (f" {reading.origin}" if reading.origin else "")
        )
    elif name == "WildcardOriginNotAllowed":
        facts.append(
            f"{where} sent Access-Control-Allow-Origin: *, and the request was sent with "
            "credentials (cookies): the wildcard never works then"
        )
    elif name == "InvalidAllowCredentials":
        if value:
            facts.append(f"{where} sent Access-Control-Allow-Credentials: {value}, not true")
        elif value == "":
            facts.append(f"{where} had no Access-Control-Allow-Credentials header")
        else:
            facts.append(f"{where} did not send Access-Control-Allow-Credentials: true")
        facts.append("the request was sent with credentials (cookies)")
    elif name == "PreflightInvalidStatus":
        if reading.status is not None:
            facts.append(f"the preflight (OPTIONS) was answered {reading.status}, not 2xx")
        else:
            facts.append("the preflight (OPTIONS) was not answered with an ok status (2xx)")
            reading.unknowns.append("the message does not give the preflight's status")
        if reading.browser in ("chromium", "firefox"):
            facts.append(
                f"its Access-Control-Allow-Origin was right: {label_of(reading.browser)} checks "
                "that first"
            )
    elif name == "PreflightDisallowedRedirect":
        facts.append("the preflight (OPTIONS) was answered with a redirect")
    elif name == "MethodDisallowedByPreflightResponse":
        if value:
            reading.method = value
            facts.append(f"the preflight's Access-Control-Allow-Methods did not list {value}")
        else:
            facts.append("the preflight's Access-Control-Allow-Methods did not list the method")
            if reading.method is None:
                reading.unknowns.append("the message does not name the method")
    elif name == "HeaderDisallowedByPreflightResponse":
        facts.append(
            f"the preflight's Access-Control-Allow-Headers did not list the request header {value}"
        )
    elif name == "InvalidAllowMethodsPreflightResponse":
        facts.append(
            "the preflight's Access-Control-Allow-Methods did not parse"
            + (f" ({value!r} is not a method name)" if value else "")
        )
    elif name == "InvalidAllowHeadersPreflightResponse":
        facts.append(
            "the preflight's Access-Control-Allow-Headers did not parse"
            + (f" ({value!r} is not a header name)" if value else "")
        )
    if reading.origin is None:
        reading.unknowns.append("the message does not name the page's origin")
    if reading.url is None:
        reading.unknowns.append("the message does not name the URL")


# --- a scenario that reproduces it ---------------------------------------------------------------


@dataclass(frozen=True)
class Reproduction:
    """A scenario that makes the reading's browser fail the same check, and what it assumed."""

    scenario: Scenario
    prediction: Prediction
    assumed: tuple[str, ...]
    # Whether the browser's profile fails one of the reading's checks on it.
    reproduces: bool


def reproduce(reading: Reading) -> Reproduction | None:
    """The scenario: method and headers the message names, the server's answers as it tells
    them, placeholders (said to be assumed) for the rest."""
    check = reading.check
    if check is None or reading.browser is None:
        return None
    name = check_name(check)
    preflight = reading.stage == "preflight" or is_preflight_failure(check)
    assumed: list[str] = []
    origin = _valid_origin(reading.origin)
    if origin is None:
        origin = PLACEHOLDER_ORIGIN
        assumed.append(f"the page's origin {origin}")
    url = reading.url if reading.url and serialize_origin(reading.url) else None
    if url is None:
        url = PLACEHOLDER_URL
        assumed.append(f"the URL {url}")
    include = name in ("WildcardOriginNotAllowed", "InvalidAllowCredentials")
    credentials = "include" if include else "same-origin"
    method = normalize_method(reading.method) if reading.method else None
    headers: list[tuple[str, str]] = []
    body: str | None = None
    if name == "HeaderDisallowedByPreflightResponse" and reading.value:
        headers.append(
            (reading.value, "Bearer …" if reading.value.lower() == "authorization" else "1")
        )
        assumed.append(f"a value for the request header {reading.value}")
    if method is None:
        if preflight and not headers:
            if name == "MethodDisallowedByPreflightResponse":
                method = "PUT"
                assumed.append("the method PUT (the message does not name it)")
            else:
                method = "POST"
                headers.append((CONTENT_TYPE, "application/json"))
                body = "{}"
                assumed.append(
                    "a POST with Content-Type: application/json as the reason for the "
                    "preflight (the most common one; the message does not say)"
                )
        else:
            method = "GET"
            if not preflight:
                assumed.append("the method GET")
    elif preflight and is_cors_safelisted_method(method) and not headers:
        headers.append((CONTENT_TYPE, "application/json"))
        body = "{}" if method == "POST" else None
        assumed.append("Content-Type: application/json as the reason for the preflight")
    if body is None and method == "POST" and any(n.lower() == "content-type" for n, _ in headers):
        body = "{}"
    allow = _passing_preflight(origin, method, headers, include)
    failing = _failing_answer(reading, name, origin, url, include, assumed)
    if preflight:
        preflight_response = failing
        response = ServerResponse(200, _passing_response(origin, include))
    else:
        preflight_response = allow
        response = failing
    scenario = Scenario(
        origin=origin,
        url=url,
        request=RequestInit(
            method=method,
            headers=tuple(headers),
            credentials=credentials,
            mode="cors",
            body=body,
        ),
        preflight_response=preflight_response,
        response=response,
    )
    prediction = predict(scenario, reading.browser)
    return Reproduction(
        scenario, prediction, tuple(assumed), prediction.blocked_by in reading.checks
    )


def _valid_origin(value: str | None) -> str | None:
    if value is None:
        return None
    if value == "null":
        return value
    return value if serialize_origin(value) == value else None


def _passing_response(origin: str, include: bool) -> tuple[tuple[str, str], ...]:
    headers = [(ALLOW_ORIGIN, origin)]
    if include:
        headers.append((ALLOW_CREDENTIALS, "true"))
    return tuple(headers)


def _passing_preflight(
    origin: str, method: str, headers: Sequence[tuple[str, str]], include: bool
) -> ServerResponse:
    lines = list(_passing_response(origin, include))
    if not is_cors_safelisted_method(method):
        lines.append((ALLOW_METHODS, method))
    names = [n for n, _ in headers]
    if names:
        lines.append((ALLOW_HEADERS, ", ".join(names)))
    return ServerResponse(204, tuple(lines))


def _failing_answer(
    reading: Reading,
    name: str,
    origin: str,
    url: str,
    include: bool,
    assumed: list[str],
) -> ServerResponse:
    """The answer that fails the reading's check, with the checks before it passing."""
    value = reading.value
    status = reading.status
    preflight = reading.stage == "preflight" or is_preflight_failure(reading.check or "")
    ok = 204 if preflight else 200
    passing = list(_passing_response(origin, include))
    if name == "MissingAllowOriginHeader":
        return ServerResponse(status or ok, ())
    if name == "MultipleAllowOriginValues":
        if value and "," in value:
            return ServerResponse(status or ok, ((ALLOW_ORIGIN, value),))
        if reading.browser == "webkit":
            assumed.append(f"Access-Control-Allow-Origin: {origin}, {origin}")
            return ServerResponse(status or ok, ((ALLOW_ORIGIN, f"{origin}, {origin}"),))
        assumed.append("two Access-Control-Allow-Origin lines (often a proxy and the app)")
        return ServerResponse(status or ok, ((ALLOW_ORIGIN, origin), (ALLOW_ORIGIN, origin)))
    if name in ("AllowOriginMismatch", "InvalidAllowOriginValue"):
        if value is None:
            value = "https://other.example"
            assumed.append(f"Access-Control-Allow-Origin: {value}")
        return ServerResponse(status or ok, ((ALLOW_ORIGIN, value),))
    if name == "WildcardOriginNotAllowed":
        return ServerResponse(status or ok, ((ALLOW_ORIGIN, "*"),))
    if name == "InvalidAllowCredentials":
        lines = [(ALLOW_ORIGIN, origin)]
        if value:
            lines.append((ALLOW_CREDENTIALS, value))
        return ServerResponse(status or ok, tuple(lines))
    if name == "PreflightInvalidStatus":
        if status is None or 200 <= status <= 299:
            status = 404
            assumed.append("the preflight's status 404")
        return ServerResponse(status, tuple(passing))
    if name == "PreflightDisallowedRedirect":
        if status is None or status not in (301, 302, 303, 307, 308):
            status = 302
            assumed.append("a 302 redirect")
        return ServerResponse(status, (*passing, (LOCATION, url)))
    if name == "MethodDisallowedByPreflightResponse":
        return ServerResponse(ok, (*passing, (ALLOW_METHODS, "GET, POST")))
    if name == "HeaderDisallowedByPreflightResponse":
        method = normalize_method(reading.method or "GET")
        lines = list(passing)
        if not is_cors_safelisted_method(method):
            lines.append((ALLOW_METHODS, method))
        return ServerResponse(ok, tuple(lines))
    if name in ("InvalidAllowMethodsPreflightResponse", "InvalidAllowHeadersPreflightResponse"):
        header = ALLOW_METHODS if "Methods" in name else ALLOW_HEADERS
        if not value:
            value = "GET; POST" if header == ALLOW_METHODS else "Content-Type; X-Token"
            assumed.append(f"{header}: {value}")
        return ServerResponse(ok, (*passing, (header, value)))
    return ServerResponse(status or ok, ())
