"""The identity judge itself (dlib, for tests and benches): the same person is near, another is far,
and an image with no face is said plainly."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support import faces, identity

pytestmark = pytest.mark.integration


def test_the_same_person_is_near_and_another_person_far():
    hopper = identity.embedding(faces.hopper())
    assert identity.distance(hopper, faces.mirrored(faces.hopper())) < 0.35
    assert identity.distance(hopper, faces.astronaut()) > identity.SAME_PERSON


def test_no_face_is_an_error_not_a_distance():
    with pytest.raises(identity.NoFace):
        identity.embedding(np.full((200, 200, 3), 128, np.uint8))
