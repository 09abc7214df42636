"""Only the consenting participant's own face is harvested, with the real face mesh and two real portraits
in one frame: a bystander who leans in, larger and nearer than the person, is never put in their face bank.
Whose face each kept crop shows is judged by dlib's recogniser (tests/support/identity.py), which the
project does not use to choose faces."""

from __future__ import annotations

import numpy as np
import pytest

from adengine import FaceBank, MediapipeFaceTracker
from adengine.facebank import FaceCrop
from adengine.identity import SEVERAL_FACES
from tests.support import faces
from tests.support.identity import SAME_PERSON, embedding

pytestmark = pytest.mark.integration

SIZE = (640, 480)
CUT = 380  # the bystander's side of the frame is left of this column, the person's right of it


def two_people(person_width: float, bystander_width: float, seed: int) -> np.ndarray:
    """Hopper (the participant) on the right, the astronaut (a bystander) on the left, each at a face width."""
    rng = np.random.default_rng(seed)
    jitter = rng.uniform(-6, 6, 4)
    bystander = faces.place(
        faces.astronaut(),
        SIZE,
        centre=faces.ASTRONAUT_FACE.centre,
        zoom=bystander_width / faces.ASTRONAUT_FACE.width,
        shift=(-150 + jitter[0], jitter[1]),
    )
    person = faces.place(
        faces.hopper(),
        SIZE,
        centre=faces.HOPPER_FACE.centre,
        zoom=person_width / faces.HOPPER_FACE.width,
        shift=(190 + jitter[2], 20 + jitter[3]),
    )
    frame = bystander.copy()
    frame[:, CUT:] = person[:, CUT:]
    return faces.add_noise(frame, 2.0, rng)


def alone(n: int) -> list[np.ndarray]:
    """Hopper alone at her camera, as the call starts."""
    return faces.animate(faces.hopper(), n, spot=faces.HOPPER_FACE, face_width=170, seed=3)


def judged(crops: list[FaceCrop]) -> list[tuple[float, float]]:
    hopper, astronaut = embedding(faces.hopper()), embedding(faces.astronaut())
    out = []
    for crop in crops:
        e = embedding(np.ascontiguousarray(crop.image), upsample=2)
        out.append((float(np.linalg.norm(e - hopper)), float(np.linalg.norm(e - astronaut))))
    return out


def test_a_larger_nearer_bystander_is_never_harvested():
    handed: list[FaceCrop] = []  # every crop the bank accepted as the person's, copied as it came
    tracker = MediapipeFaceTracker()
    bank = FaceBank("hopper", tracker, consent=True, on_crop=lambda c: handed.append(_copy(c)))
    try:
        for i, frame in enumerate(alone(10)):
            bank.offer(frame, i * 0.2)
        assert len(bank) >= 1 and bank.identity is not None and bank.identity.known
        start = len(handed)
        t0 = 10 * 0.2
        for k in range(15):  # the astronaut leans in: her face 230 px wide, Hopper's 120 px, for 3 s
            bank.offer(two_people(120, 230, seed=k), t0 + k * 0.2)
        during = handed[start:]
        cov = bank.coverage()
        assert cov.examined == 25
        assert during, f"Hopper's own face should still be harvested beside the bystander: {cov.summary()}"
        for to_hopper, to_astronaut in judged(during):
            assert to_hopper < SAME_PERSON <= to_astronaut, (to_hopper, to_astronaut)
        kept_now = [c for held in bank._bins.values() for c in held]
        for to_hopper, to_astronaut in judged(kept_now):
            assert to_hopper < SAME_PERSON <= to_astronaut
    finally:
        bank.clear()
        tracker.close()


def test_at_the_start_two_faces_of_like_size_are_refused_not_guessed():
    tracker = MediapipeFaceTracker()
    bank = FaceBank("hopper", tracker, consent=True)
    try:
        for k in range(5):
            assert bank.offer(two_people(170, 160, seed=k), k * 0.2) is None
        assert len(bank) == 0 and bank.coverage().rejected.get(SEVERAL_FACES, 0) >= 4
    finally:
        tracker.close()


def test_the_tracker_reports_both_faces_largest_first():
    with MediapipeFaceTracker(static=True) as tracker:
        found = tracker.faces(two_people(120, 230, seed=0))
    assert len(found) == 2
    assert found[0].box[2] > found[1].box[2]
    assert found[0].box[0] + found[0].box[2] / 2 < CUT < found[1].box[0] + found[1].box[2] / 2


def _copy(crop: FaceCrop) -> FaceCrop:
    from adengine.facebank import crop_copy

    return crop_copy(crop)
