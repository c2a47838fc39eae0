"""The CORS engine: what a browser does with a cross-origin fetch(), after the Fetch Standard.

Standard library only; no web framework is imported here (a test asserts it).
"""

from app.cors.browser import predict
from app.cors.profiles import PROFILES, Profile, get_profile
from app.cors.scenario import (
    Prediction,
    PreflightRequest,
    RequestInit,
    Scenario,
    ScenarioError,
    ServerResponse,
    Step,
)

__all__ = [
    "PROFILES",
    "Prediction",
    "PreflightRequest",
    "Profile",
    "RequestInit",
    "Scenario",
    "ScenarioError",
    "ServerResponse",
    "Step",
    "get_profile",
    "predict",
]
