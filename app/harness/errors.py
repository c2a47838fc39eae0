"""The harness's two errors, at the bottom of its imports so every module can raise them."""

from __future__ import annotations


class BrowserUnavailable(RuntimeError):
    """The browser cannot be found or launched; the message says what to install."""


class HarnessError(RuntimeError):
    """A harness problem the user can act on (unknown browser, scenario it cannot run)."""


__all__ = ["BrowserUnavailable", "HarnessError"]
