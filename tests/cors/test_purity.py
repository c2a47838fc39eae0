"""The engine is standard-library Python: no web framework, no third-party import."""

from pathlib import Path

from tests.helpers import assert_imports_only_stdlib_and

ENGINE = Path(__file__).resolve().parents[2] / "app" / "cors"


def test_engine_imports_only_the_standard_library_and_itself() -> None:
    assert_imports_only_stdlib_and(ENGINE, "app.cors")
