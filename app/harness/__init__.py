"""The real-browser harness: run scenarios in headless Chromium against a recording target.

``observe(scenarios)`` gives one truth-shaped observation per scenario; ``compare`` lists where
an engine prediction disagrees; ``run_verify`` is ``cors-playground verify``. Playwright is
imported only when a browser starts.
"""

from app.harness.chromium import BrowserUnavailable, find_chromium
from app.harness.session import Harness, HarnessError, shared_harness
from app.harness.verify import Disagreement, compare, observe, run_verify

__all__ = [
    "BrowserUnavailable",
    "Disagreement",
    "Harness",
    "HarnessError",
    "compare",
    "find_chromium",
    "observe",
    "run_verify",
    "shared_harness",
]
