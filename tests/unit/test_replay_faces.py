"""`Faces` as the replay pipeline shares it: one harvest thread fills it while an ad's maker asks
for the face at its start, and must get what a finished harvest would have given."""

from __future__ import annotations

import threading
import time
from unittest import mock

import numpy as np
import pytest

from adengine.facebank import FaceCrop
from callbridge.replay.analysis import Faces


def crop(t: float) -> FaceCrop:
    return FaceCrop(np.full((8, 8, 3), 200, np.uint8), np.ones((478, 2), np.float32), mock.Mock(), mock.Mock(), t)


def test_at_waits_until_the_harvest_has_passed_that_moment():
    faces = Faces()
    answers: list[FaceCrop | None] = []
    asker = threading.Thread(target=lambda: answers.append(faces.at(1.0)))
    asker.start()
    faces.seen(0.4, crop(0.4))
    faces.seen(1.0, None)  # looked at up to 1.0, but a later face could still be from 1.0: keep waiting
    time.sleep(0.1)
    assert asker.is_alive() and not answers
    faces.seen(1.2, crop(1.2))  # past 1.0: the answer is the face held at 1.0, not this later one
    asker.join(2)
    assert len(answers) == 1 and answers[0] is not None and answers[0].timestamp_s == 0.4


def test_a_finished_harvest_answers_at_once_and_none_before_any_face():
    faces = Faces()
    faces.seen(0.5, crop(0.5))
    faces.end()
    assert faces.at(0.1) is None
    found = faces.at(99.0)
    assert found is not None and found.timestamp_s == 0.5


def test_a_failed_harvest_fails_whoever_waits():
    faces = Faces()
    faces.end(OSError("decoder broke"))
    with pytest.raises(RuntimeError, match="decoder broke"):
        faces.at(3.0)


def test_wipe_zeroes_the_held_crops():
    faces = Faces()
    faces.seen(0.2, held := crop(0.2))
    faces.end()
    kept = faces.at(1.0)
    assert kept is not None and kept is not held  # a private copy
    faces.wipe()
    assert not faces.timeline and not kept.image.any() and not kept.landmarks.any()
