"""CORS playground: real cross-origin requests, explained by a spec-exact engine."""

from pathlib import Path

__version__ = "0.1.0"

_HERE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Where ``templates`` or ``static`` live: inside the installed package, else the checkout."""
    packaged = _HERE / name
    return packaged if packaged.is_dir() else _HERE.parent / name
