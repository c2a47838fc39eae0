"""The CORS engine: what a browser does with a cross-origin fetch(), after the Fetch Standard.

Standard library only; no web framework is imported here (a test asserts it).
"""

from app.cors.browser import predict, predict_sequence
from app.cors.profiles import PROFILES, Profile, get_profile
from app.cors.scenario import (
    FetchSequence,
    Hop,
    Leg,
    Prediction,
    PreflightRequest,
    RequestInit,
    Scenario,
    ScenarioError,
    SequenceItem,
    SequencePrediction,
    ServerResponse,
    Step,
    read_document,
)

__all__ = [
    "PROFILES",
    "FetchSequence",
    "Hop",
    "Leg",
    "Prediction",
    "PreflightRequest",
    "Profile",
    "RequestInit",
    "Scenario",
    "ScenarioError",
    "SequenceItem",
    "SequencePrediction",
    "ServerResponse",
    "Step",
    "get_profile",
    "predict",
    "predict_sequence",
    "read_document",
]
