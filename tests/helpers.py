"""Helpers that several test packages share (not fixtures: each package keeps its own scope)."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def headless_chromium(*extra_args: str) -> Iterator[Any]:
    """Headless Chromium through Playwright's sync API, launched as the harness launches it
    (with ``extra_args`` after the harness's own).

    Playwright's sync API keeps an event loop running in this thread while it is open, which
    other tests' asyncio.run() must not meet: wrap it in a fixture whose scope ends with the
    tests that use it.
    """
    from playwright.sync_api import sync_playwright

    from app.harness.chromium import CHROMIUM_ARGS, find_chromium

    options: dict[str, Any] = {"headless": True, "args": [*CHROMIUM_ARGS, *extra_args]}
    executable = find_chromium()
    if executable:
        options["executable_path"] = executable
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(**options)
        yield launched
        launched.close()


def assert_imports_only_stdlib_and(package: Path, *own: str) -> None:
    """Every absolute import in ``package``'s modules is the standard library's or starts with
    one of ``own`` (module name prefixes such as ``app.cors``)."""
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or name.startswith(own), (
                    f"{path.name} imports {name}"
                )
