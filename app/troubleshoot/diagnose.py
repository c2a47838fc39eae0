"""One diagnosis for the three starting points: each browser's verdict on a scenario, its
console text, the smallest fix and the fixed policy for the frameworks the playground knows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.cors import PROFILES, Prediction, Scenario, predict
from app.fix.configs import library_configs
from app.fix.messages import ConsoleMessages, chromium_console, firefox_console
from app.fix.policy import policy_for
from app.fix.search import find_fix
from app.fix.understand import Understanding, failure_of
from app.troubleshoot.console import webkit_console
from app.troubleshoot.words import CHECK_WORDS, label_of

BROWSER_CHOICES = ("chromium", "firefox", "webkit", "spec")
RENDER = {"chromium": chromium_console, "firefox": firefox_console, "webkit": webkit_console}


@dataclass(frozen=True)
class Verdict:
    """One browser's verdict on the scenario, in words, with its console text."""

    browser: str
    label: str
    prediction: Prediction
    console: tuple[str, ...]

    @property
    def allowed(self) -> bool:
        return self.prediction.outcome in ("allowed", "opaque")

    @property
    def check_words(self) -> str:
        """The failed check in words ("" when nothing failed)."""
        from app.fix.messages import check_name

        name = self.prediction.blocked_by
        if name is None:
            failed = self.prediction.failed_step
            return "" if failed is None else failed.detail
        return CHECK_WORDS.get(check_name(name), name)

    @property
    def detail(self) -> str:
        failed = self.prediction.failed_step
        return "" if failed is None else failed.detail


def console_lines(scenario: Scenario, prediction: Prediction) -> tuple[str, ...]:
    """What the browser of ``prediction`` prints in its console ("" for the spec)."""
    render = RENDER.get(prediction.browser)
    return () if render is None else render(scenario, prediction)


def verdicts(scenario: Scenario, browsers: Sequence[str]) -> tuple[Verdict, ...]:
    found = []
    for browser in browsers:
        prediction = predict(scenario, browser)
        found.append(
            Verdict(browser, label_of(browser), prediction, console_lines(scenario, prediction))
        )
    return tuple(found)


def diagnose(
    scenario: Scenario, browser: str, *, wanted: Sequence[str] | None = ()
) -> Understanding:
    """The explanation and the fix of ``scenario`` as ``browser`` runs it, with the console
    text of each browser (WebKit's too). ``wanted``: the response headers the page must be able
    to read (none by default: a real server's headers are mostly not for the page)."""
    profile = browser if browser in PROFILES else "chromium"
    mine = predict(scenario, profile)
    failure = None
    failed = mine.failed_step
    if failed is not None and mine.outcome in ("blocked", "error"):
        blocked = mine.blocked_by if mine.outcome == "blocked" else None
        consoles = []
        for other in ("chromium", "firefox", "webkit"):
            prediction = mine if other == profile else predict(scenario, other)
            if prediction.outcome == "blocked":
                consoles.append(
                    ConsoleMessages(other, label_of(other), console_lines(scenario, prediction))
                )
        failure = failure_of(failed, blocked, consoles, profile)
    fix = find_fix(scenario, profile, wanted=wanted)
    policy = policy_for(fix)
    configs = () if policy is None else library_configs(policy)
    return Understanding(profile, PROFILES[profile].label, failure, fix, policy, configs)
