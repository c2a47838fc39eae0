"""The protocol's header names, spelled once, as the Fetch Standard and HTTP write them.

https://fetch.spec.whatwg.org/#http-cors-protocol
"""

from __future__ import annotations

# Requests (https://fetch.spec.whatwg.org/#http-requests)
ORIGIN = "Origin"
REQUEST_METHOD = "Access-Control-Request-Method"
REQUEST_HEADERS = "Access-Control-Request-Headers"

# Responses (https://fetch.spec.whatwg.org/#http-responses)
ALLOW_ORIGIN = "Access-Control-Allow-Origin"
ALLOW_CREDENTIALS = "Access-Control-Allow-Credentials"
ALLOW_METHODS = "Access-Control-Allow-Methods"
ALLOW_HEADERS = "Access-Control-Allow-Headers"
MAX_AGE = "Access-Control-Max-Age"
EXPOSE_HEADERS = "Access-Control-Expose-Headers"

# HTTP headers the playground's lessons and labs lean on.
CONTENT_TYPE = "Content-Type"
LOCATION = "Location"
SET_COOKIE = "Set-Cookie"
COOKIE = "Cookie"
VARY = "Vary"
