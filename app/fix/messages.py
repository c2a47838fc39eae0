"""What the learner's browser prints for a failed CORS check, and where to read about it.

Chromium's and Firefox's console messages are rebuilt from templates, one per failed check
(``blocked_by``), and tested against what the real browsers printed: the shared sample truth
(``../shared/vectors/*-sample-truth.json``) and ``tests/fix/console-truth.json``, recorded on
this machine for the checks the sample does not reach. WebKit's console cannot be recorded
here (WebKitGTK gives WebDriver no console messages), so its wording is not claimed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.cors import Prediction, Scenario
from app.cors.headers import received_header_list
from app.cors.syntax import HTTP_TAB_OR_SPACE, is_token

MDN_ERRORS = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Guides/CORS/Errors/"

# MDN has one page per Firefox console reason; each Chromium-style name maps to the page for
# the same check. (CORSMIssingAllowCredentials is MDN's own spelling of the page's address.)
MDN_PAGES: dict[str, str] = {
    "MissingAllowOriginHeader": "CORSMissingAllowOrigin",
    "MultipleAllowOriginValues": "CORSMultipleAllowOriginNotAllowed",
    "InvalidAllowOriginValue": "CORSAllowOriginNotMatchingOrigin",
    "AllowOriginMismatch": "CORSAllowOriginNotMatchingOrigin",
    "WildcardOriginNotAllowed": "CORSNotSupportingCredentials",
    "InvalidAllowCredentials": "CORSMIssingAllowCredentials",
    "PreflightMissingAllowOriginHeader": "CORSMissingAllowOrigin",
    "PreflightMultipleAllowOriginValues": "CORSMultipleAllowOriginNotAllowed",
    "PreflightInvalidAllowOriginValue": "CORSAllowOriginNotMatchingOrigin",
    "PreflightAllowOriginMismatch": "CORSAllowOriginNotMatchingOrigin",
    "PreflightWildcardOriginNotAllowed": "CORSNotSupportingCredentials",
    "PreflightInvalidAllowCredentials": "CORSMIssingAllowCredentials",
    "PreflightInvalidStatus": "CORSPreflightDidNotSucceed",
    "PreflightDisallowedRedirect": "CORSExternalRedirectNotAllowed",
    "MethodDisallowedByPreflightResponse": "CORSMethodNotFound",
    "HeaderDisallowedByPreflightResponse": "CORSMissingAllowHeaderFromPreflight",
    "InvalidAllowMethodsPreflightResponse": "CORSInvalidAllowMethod",
    "InvalidAllowHeadersPreflightResponse": "CORSInvalidAllowHeader",
}

# Every failed-check name the engine gives (scenario-format.md's `blocked_by`).
BLOCKED_BY_NAMES = tuple(MDN_PAGES)

# --- Chromium: "Access to fetch at … has been blocked by CORS policy: …" ------------------------

_CHROMIUM_PREFIX = (
    "Access to fetch at '{url}' from origin '{origin}' has been blocked by CORS policy: "
)
_CHROMIUM_PREFLIGHT = "Response to preflight request doesn't pass access control check: "
_HAVE_VALID = " Have the server send the header with a valid value."
_CHROMIUM: dict[str, str] = {
    "MissingAllowOriginHeader": (
        "No 'Access-Control-Allow-Origin' header is present on the requested resource."
    ),
    "MultipleAllowOriginValues": (
        "The 'Access-Control-Allow-Origin' header contains multiple values '{value}', but only "
        "one is allowed." + _HAVE_VALID
    ),
    "InvalidAllowOriginValue": (
        "The 'Access-Control-Allow-Origin' header contains the invalid value '{value}'."
        + _HAVE_VALID
    ),
    "AllowOriginMismatch": (
        "The 'Access-Control-Allow-Origin' header has a value '{value}' that is not equal to the "
        "supplied origin." + _HAVE_VALID
    ),
    "WildcardOriginNotAllowed": (
        "The value of the 'Access-Control-Allow-Origin' header in the response must not be the "
        "wildcard '*' when the request's credentials mode is 'include'."
    ),
    "InvalidAllowCredentials": (
        "The value of the 'Access-Control-Allow-Credentials' header in the response is "
        "'{value}' which must be 'true' when the request's credentials mode is 'include'."
    ),
    "PreflightInvalidStatus": "It does not have HTTP ok status.",
    "PreflightDisallowedRedirect": "Redirect is not allowed for a preflight request.",
    "MethodDisallowedByPreflightResponse": (
        "Method {value} is not allowed by Access-Control-Allow-Methods in preflight response."
    ),
    "HeaderDisallowedByPreflightResponse": (
        "Request header field {value} is not allowed by Access-Control-Allow-Headers in "
        "preflight response."
    ),
    "InvalidAllowMethodsPreflightResponse": (
        "Cannot parse Access-Control-Allow-Methods response header field in preflight response."
    ),
    "InvalidAllowHeadersPreflightResponse": (
        "Cannot parse Access-Control-Allow-Headers response header field in preflight response."
    ),
}

# --- Firefox: "Cross-Origin Request Blocked: … (Reason: …)" -------------------------------------

_FIREFOX_PREFIX = (
    "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource "
    "at {url}. (Reason: "
)
_FIREFOX: dict[str, str] = {
    "MissingAllowOriginHeader": (
        "CORS header ‘Access-Control-Allow-Origin’ missing). Status code: {status}."
    ),
    "MultipleAllowOriginValues": "Multiple CORS header ‘Access-Control-Allow-Origin’ not allowed).",
    "AllowOriginMismatch": "CORS header ‘Access-Control-Allow-Origin’ does not match ‘{value}’).",
    "WildcardOriginNotAllowed": (
        "Credential is not supported if the CORS header ‘Access-Control-Allow-Origin’ is ‘*’)."
    ),
    "InvalidAllowCredentials": (
        "expected ‘true’ in CORS header ‘Access-Control-Allow-Credentials’)."
    ),
    "PreflightInvalidStatus": "CORS preflight response did not succeed). Status code: {status}.",
    "MethodDisallowedByPreflightResponse": (
        "Did not find method in CORS header ‘Access-Control-Allow-Methods’)."
    ),
    "HeaderDisallowedByPreflightResponse": (
        "header ‘{value}’ is not allowed according to header ‘Access-Control-Allow-Headers’ "
        "from CORS preflight response)."
    ),
    "InvalidAllowMethodsPreflightResponse": (
        "invalid token ‘{value}’ in CORS header ‘Access-Control-Allow-Methods’)."
    ),
    "InvalidAllowHeadersPreflightResponse": (
        "invalid token ‘{value}’ in CORS header ‘Access-Control-Allow-Headers’)."
    ),
}
# Firefox says "does not match" for every wrong single value (its profile's deviation).
_FIREFOX["InvalidAllowOriginValue"] = _FIREFOX["AllowOriginMismatch"]
_FIREFOX_REDIRECT = "CORS request external redirect not allowed)."
# After a failed preflight, Firefox adds this for the request that was never sent.
_FIREFOX_NOT_SENT = "CORS request did not succeed). Status code: (null)."

PREFLIGHT_ONLY = frozenset(
    {
        "PreflightInvalidStatus",
        "PreflightDisallowedRedirect",
        "MethodDisallowedByPreflightResponse",
        "HeaderDisallowedByPreflightResponse",
        "InvalidAllowMethodsPreflightResponse",
        "InvalidAllowHeadersPreflightResponse",
    }
)


@dataclass(frozen=True)
class ConsoleMessages:
    """What one browser prints for a blocked fetch(), or why the text is not shown."""

    browser: str
    label: str
    lines: tuple[str, ...]
    # When there are no lines: a sentence saying why.
    note: str = ""


def mdn_url(blocked_by: str | None) -> str | None:
    """MDN's page for the console error of this failed check, or None."""
    page = MDN_PAGES.get(blocked_by or "")
    return None if page is None else MDN_ERRORS + page


def is_preflight_failure(blocked_by: str) -> bool:
    """Whether the check failed on the preflight's response (so nothing else was sent)."""
    return blocked_by.startswith("Preflight") or blocked_by in PREFLIGHT_ONLY


def check_name(blocked_by: str) -> str:
    """The check without its stage: PreflightAllowOriginMismatch → AllowOriginMismatch."""
    if blocked_by in PREFLIGHT_ONLY:
        return blocked_by
    return blocked_by.removeprefix("Preflight")


def chromium_console(scenario: Scenario, prediction: Prediction) -> tuple[str, ...]:
    """Chromium's console line for a blocked fetch() (nothing when it is not blocked)."""
    name = prediction.blocked_by
    if prediction.outcome != "blocked" or name is None:
        return ()
    template = _CHROMIUM.get(check_name(name))
    if template is None:
        return ()
    stage = _CHROMIUM_PREFLIGHT if name.startswith("Preflight") else ""
    body = template.format(value=prediction.failed_parameter or "")
    prefix = _CHROMIUM_PREFIX.format(url=scenario.url, origin=scenario.origin)
    return (prefix + stage + body,)


def firefox_console(scenario: Scenario, prediction: Prediction) -> tuple[str, ...]:
    """Firefox's console lines for a blocked fetch(): the reason, then, after a failed
    preflight, its note that the request itself did not succeed."""
    name = prediction.blocked_by
    if prediction.outcome != "blocked" or name is None:
        return ()
    preflight = is_preflight_failure(name)
    answer = scenario.preflight_response if preflight else scenario.response
    prefix = _FIREFOX_PREFIX.format(url=scenario.url)
    check = check_name(name)
    value = prediction.failed_parameter or ""
    if check in ("InvalidAllowMethodsPreflightResponse", "InvalidAllowHeadersPreflightResponse"):
        list_name = "Access-Control-Allow-" + ("Methods" if "Methods" in check else "Headers")
        value = first_invalid_token(list_name, answer.headers) or value
    lines: list[str] = []
    if check == "PreflightDisallowedRedirect":
        lines.append(prefix + _FIREFOX_REDIRECT)
        lines.append(prefix + _FIREFOX["PreflightInvalidStatus"].format(status=answer.status))
    elif check == "WildcardOriginNotAllowed":
        # The one message that quotes the URL.
        quoted = _FIREFOX_PREFIX.replace("at {url}.", "at ‘{url}’.").format(url=scenario.url)
        lines.append(quoted + _FIREFOX[check])
    elif check in _FIREFOX:
        lines.append(prefix + _FIREFOX[check].format(value=value, status=answer.status))
    else:
        return ()
    if preflight:
        lines.append(prefix + _FIREFOX_NOT_SENT)
    return tuple(lines)


def first_invalid_token(name: str, headers: Sequence[tuple[str, str]]) -> str | None:
    """The first list element of header ``name`` that is not a token (Firefox quotes it)."""
    for key, line in received_header_list(headers):
        if key.lower() != name.lower():
            continue
        for item in line.split(","):
            item = item.strip(HTTP_TAB_OR_SPACE)
            if item and not is_token(item):
                return item
    return None


BROWSER_LABELS = {"chromium": "Chromium", "firefox": "Firefox", "webkit": "WebKit (Safari)"}


def console_messages(
    scenario: Scenario, predictions: dict[str, Prediction]
) -> tuple[ConsoleMessages, ...]:
    """Each browser's console text for this scenario, from that browser's own prediction."""
    found: list[ConsoleMessages] = []
    for browser, label in BROWSER_LABELS.items():
        prediction = predictions.get(browser)
        if prediction is None or prediction.outcome != "blocked":
            continue
        if browser == "chromium":
            found.append(ConsoleMessages(browser, label, chromium_console(scenario, prediction)))
        elif browser == "firefox":
            found.append(ConsoleMessages(browser, label, firefox_console(scenario, prediction)))
        else:
            found.append(
                ConsoleMessages(
                    browser,
                    label,
                    (),
                    "WebKit prints its own wording for this check; the playground cannot "
                    "record WebKit's console, so it does not quote it.",
                )
            )
    return tuple(found)
