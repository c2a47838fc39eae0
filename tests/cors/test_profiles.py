"""Profiles: every way a browser differs from the Fetch Standard is a recorded deviation."""

from dataclasses import fields

import pytest

from app.cors.profiles import PROFILES, SPEC

BROWSERS = ("chromium", "firefox", "webkit")
# The cap on Access-Control-Max-Age is a number every browser sets; the spec leaves it open.
NOT_DEVIATIONS = ("name", "label", "deviations", "max_age_cap")


@pytest.mark.parametrize("browser", BROWSERS)
def test_every_switch_that_differs_from_the_spec_has_its_deviation(browser: str) -> None:
    profile = PROFILES[browser]
    recorded = {d.switch for d in profile.deviations}
    differing = {
        f.name
        for f in fields(profile)
        if f.name not in NOT_DEVIATIONS and getattr(profile, f.name) != getattr(SPEC, f.name)
    }
    assert differing - recorded == set()


@pytest.mark.parametrize("browser", BROWSERS)
def test_every_deviation_names_a_switch_that_differs_and_its_evidence(browser: str) -> None:
    profile = PROFILES[browser]
    for deviation in profile.deviations:
        assert getattr(profile, deviation.switch) != getattr(SPEC, deviation.switch), deviation.key
        assert deviation.evidence and deviation.summary
    keys = [d.key for d in profile.deviations]
    assert len(keys) == len(set(keys))
