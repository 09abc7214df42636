"""Every integration and end-to-end test file carries its marker, so `-m "not e2e"` and friends select what they say."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("folder", "marker"), [("integration", "integration"), ("e2e", "e2e")])
def test_each_test_file_in_a_marked_folder_carries_the_marker(folder: str, marker: str) -> None:
    files = sorted((TESTS / folder).glob("test_*.py"))
    assert files, f"no test files in tests/{folder}"
    unmarked = [f.name for f in files if f"pytestmark = pytest.mark.{marker}" not in f.read_text()]
    assert unmarked == [], f"tests/{folder} files without pytestmark = pytest.mark.{marker}: {unmarked}"
