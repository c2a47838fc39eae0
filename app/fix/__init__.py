"""Understand and fix a run: console messages and MDN pages for a failed check, the smallest
server change that lets the request through, that policy as library configuration, and the
run's sequence of legs. Standard library only, no web imports; built on app.cors."""
