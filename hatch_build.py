"""Build hook: the wheel carries htmx, taken from node_modules (the npm registry, never a CDN).

htmx is pinned by package-lock.json and installed by ``npm ci``; it is never committed. A wheel
(``pip install .``, ``pip wheel .``) gets ``static/`` as ``app/static/`` and the two htmx files
as ``app/static/vendor/``; the sdist keeps the two files at their node_modules paths so that a
wheel built from it has them too. Without them the build stops and says how to get them.

An editable install (``pip install -e .``) serves the checkout's own ``static/`` (``./dev``
copies htmx into ``static/vendor``), so it needs nothing from here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# Where npm puts them -> where the playground serves them from (/static/vendor/...).
HTMX = {
    "node_modules/htmx.org/dist/htmx.min.js": "htmx.min.js",
    "node_modules/htmx.org/dist/ext/hx-sse.min.js": "hx-sse.min.js",
}
MISSING = "run `npm ci` first: htmx comes from the npm registry"


class HtmxBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable" or self.target_name not in ("wheel", "sdist"):
            return
        root = Path(self.root)
        missing = [source for source in HTMX if not (root / source).is_file()]
        if missing:
            raise RuntimeError(f"{MISSING} (missing: {', '.join(missing)})")
        force_include = build_data.setdefault("force_include", {})
        if self.target_name == "sdist":
            for source in HTMX:
                force_include[str(root / source)] = source
            return
        # static/ without its vendor/ directory (a local copy made by ./dev), then htmx itself.
        for child in sorted((root / "static").iterdir()):
            if child.name != "vendor":
                force_include[str(child)] = f"app/static/{child.name}"
        for source, name in HTMX.items():
            force_include[str(root / source)] = f"app/static/vendor/{name}"
