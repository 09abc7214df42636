"""Fixtures shared by the unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from callbridge.web.room import Room
from tests.support.roomfakes import make_room


@pytest.fixture
def room(tmp_path: Path) -> Room:
    return make_room(tmp_path)
