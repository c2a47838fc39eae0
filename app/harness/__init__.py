"""The real-browser harness: run scenarios in real browsers against a recording target.

``observe(scenarios, browser)`` gives one truth-shaped observation per scenario, from headless
Chromium (Playwright), Firefox (WebDriver BiDi, no geckodriver) or WebKitGTK (WebDriver on a
private Xvfb display); ``compare`` lists where an engine prediction disagrees; ``run_verify`` is
``cors-playground verify``. Playwright, websockets and Selenium are imported only when their
browser starts.
"""

from app.harness.chromium import find_chromium
from app.harness.errors import BrowserUnavailable, HarnessError
from app.harness.firefox import find_firefox
from app.harness.session import SUPPORTED_BROWSERS, Harness, shared_harness
from app.harness.verify import BLOCKED_BY_REPORTING, Disagreement, compare, observe, run_verify
from app.harness.webkit import find_webkit_webdriver

__all__ = [
    "BLOCKED_BY_REPORTING",
    "SUPPORTED_BROWSERS",
    "BrowserUnavailable",
    "Disagreement",
    "Harness",
    "HarnessError",
    "compare",
    "find_chromium",
    "find_firefox",
    "find_webkit_webdriver",
    "observe",
    "run_verify",
    "shared_harness",
]
