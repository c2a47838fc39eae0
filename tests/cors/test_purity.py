"""The engine is standard-library Python: no web framework, no third-party import."""

import ast
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "app" / "cors"


def test_engine_imports_only_the_standard_library_and_itself() -> None:
    stdlib = sys.stdlib_module_names
    for path in sorted(ENGINE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top in stdlib or name.startswith("app.cors"), f"{path.name} imports {name}"
