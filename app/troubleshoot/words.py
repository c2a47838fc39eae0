"""Words shared by the troubleshooting readers and reports: each failed check in a sentence,
and the browsers' names."""

from __future__ import annotations

from app.cors import PROFILES

# Each failed check (``blocked_by`` without its stage), as a learner reads it.
CHECK_WORDS: dict[str, str] = {
    "MissingAllowOriginHeader": "the answer has no Access-Control-Allow-Origin header",
    "MultipleAllowOriginValues": "Access-Control-Allow-Origin holds more than one value",
    "InvalidAllowOriginValue": "Access-Control-Allow-Origin is not a valid origin",
    "AllowOriginMismatch": "Access-Control-Allow-Origin is not the page's origin",
    "WildcardOriginNotAllowed": (
        "Access-Control-Allow-Origin is * but the request carries credentials"
    ),
    "InvalidAllowCredentials": (
        "the request carries credentials but Access-Control-Allow-Credentials is not true"
    ),
    "PreflightInvalidStatus": "the preflight was not answered with an ok status (2xx)",
    "PreflightDisallowedRedirect": "the preflight was answered with a redirect",
    "MethodDisallowedByPreflightResponse": (
        "the preflight's Access-Control-Allow-Methods does not allow the method"
    ),
    "HeaderDisallowedByPreflightResponse": (
        "the preflight's Access-Control-Allow-Headers does not allow a request header"
    ),
    "InvalidAllowMethodsPreflightResponse": (
        "the preflight's Access-Control-Allow-Methods does not parse"
    ),
    "InvalidAllowHeadersPreflightResponse": (
        "the preflight's Access-Control-Allow-Headers does not parse"
    ),
}

LABELS = {
    "chromium": "Chromium (Chrome, Edge)",
    "firefox": "Firefox",
    "webkit": "Safari (WebKit)",
    "spec": "the Fetch Standard",
}


def label_of(browser: str | None) -> str:
    """A browser's name as the reports print it."""
    if browser is None:
        return "an unknown browser"
    return LABELS.get(browser, PROFILES[browser].label if browser in PROFILES else browser)
