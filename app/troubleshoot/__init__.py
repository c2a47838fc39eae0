"""From a real failure to a scenario and a fix: check a real server (``probe``), read a
browser's console error back to the failed check (``console``), rebuild the cross-origin
requests of an HTTP Archive (``har``), and print what was found (``report``).

Pure Python over the engine and the fix search; the only network access is ``probe.send``
(httpx), used by ``cors-playground check`` and, when the server allows it, the check page.
"""
