"""Browser profiles: the Fetch Standard baseline and each engine's recorded deviations."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    label: str


PROFILES: dict[str, Profile] = {
    "spec": Profile("spec", "Fetch Standard"),
    "chromium": Profile("chromium", "Chromium"),
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown browser {name!r}: choose one of {', '.join(PROFILES)}") from None
