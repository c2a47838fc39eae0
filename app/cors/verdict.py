"""Verdict: a check's answer together with the reason a learner can read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    """True or false, and why. Truthy when the check passed."""

    ok: bool
    reason: str

    def __bool__(self) -> bool:
        return self.ok


def passed(reason: str) -> Verdict:
    return Verdict(True, reason)


def failed(reason: str) -> Verdict:
    return Verdict(False, reason)
