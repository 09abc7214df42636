"""An ad's footage as the compositor reads it: by time, made lazily, the last frame held."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from callbridge.replay.compose import AdFootage
from callbridge.replay.plan import AdSegment


def test_frames_are_taken_by_time_only_as_far_as_needed_and_the_last_is_held():
    pulled: list[int] = []

    def made() -> Iterator[np.ndarray]:
        for k in range(10):
            pulled.append(k)
            yield np.full((2, 2, 3), k, np.uint8)

    footage = AdFootage(AdSegment("ana", "p", "default", 5.0, 6.0), made(), 10.0, None)
    first = footage.frame_at(5.0)
    assert first is not None and first[0, 0, 0] == 0 and pulled == [0]
    middle = footage.frame_at(5.35)
    assert middle is not None and middle[0, 0, 0] == 3 and pulled == [0, 1, 2, 3]
    late = footage.frame_at(9.0)  # past its frames: the last one stays
    assert late is not None and late[0, 0, 0] == 9


def test_footage_with_no_frames_shows_nothing():
    footage = AdFootage(AdSegment("ana", "p", "default", 0.0, 1.0), iter([]), 10.0, None)
    assert footage.frame_at(0.5) is None
