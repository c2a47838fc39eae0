"""The one way the playground refuses a request: a status, the field, and a message a learner
can read. The web layer turns it into JSON for the API and text or HTML for pages."""

from __future__ import annotations


class BadRequest(Exception):
    """A request the playground refuses, with the status and the message for the learner."""

    def __init__(self, status: int, message: str, field: str = "body") -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field
