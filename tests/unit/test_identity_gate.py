"""IdentityGate's choice among the faces in a frame, with scripted descriptors: a face is the person's by
appearance (nearest of their earlier faces), helped by where their face just was; unclear frames are refused."""

from __future__ import annotations

import numpy as np

from adengine.face import N_LANDMARKS, Face, HeadPose
from adengine.identity import ALIKE, SEVERAL_FACES, SOMEONE_ELSE, IdentityGate

DIM = 8


def unit(*values: float) -> np.ndarray:
    v = np.zeros(DIM, np.float32)
    v[: len(values)] = values
    return v / np.linalg.norm(v)


# Descriptors by "person": cosine distances ANA-ANA2 0.005, ANA-BO 0.4, ANA-NEAR 0.11 (just past SAME)
ANA, ANA2, BO = unit(1, 0), unit(1, 0.1), unit(1, 1.5)
NEAR = unit(1, 0.5)


def face(x: float, w: float, who: np.ndarray) -> Face:
    """A face box at x (top 50) of width w; its landmarks carry who it is, for the scripted describe."""
    landmarks = np.zeros((N_LANDMARKS, 2), np.float32)
    landmarks[:DIM, 0] = who
    landmarks[-1] = (x + w, 50 + w)
    landmarks[-2] = (x, 50)
    return Face(box=(x, 50.0, w, w), landmarks=landmarks, pose=HeadPose(0, 0, 0), confidence=0.9)


def describe(frame: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    return landmarks[:DIM, 0].copy()


FRAME = np.zeros((10, 10, 3), np.uint8)


def taught(*faces: Face) -> IdentityGate:
    """A gate that has taken these faces (one a frame, 0.2 s apart) as the person's."""
    gate = IdentityGate(describe)
    for i, f in enumerate(faces):
        choice = gate.choose(FRAME, [f], i * 0.2)
        assert choice.face is f
        gate.accept(choice, i * 0.2)
    return gate


def test_with_no_earlier_face_a_lone_face_is_taken():
    gate = IdentityGate(describe)
    lone = face(100, 80, ANA)
    assert gate.choose(FRAME, [lone], 0.0).face is lone


def test_with_no_earlier_face_only_a_clearly_larger_face_is_taken_among_several():
    gate = IdentityGate(describe)
    near, far = face(100, 160, ANA), face(300, 60, BO)
    assert gate.choose(FRAME, [far, near], 0.0).face is near
    alike = gate.choose(FRAME, [face(100, 100, ANA), face(300, 90, BO)], 0.0)
    assert alike.face is None and alike.reason == SEVERAL_FACES


def test_a_larger_nearer_stranger_is_not_taken_over_the_person():
    gate = taught(face(100, 100, ANA), face(104, 100, ANA2))
    person, stranger = face(400, 90, ANA2), face(90, 200, BO)  # the stranger leans in, bigger, where she was
    choice = gate.choose(FRAME, [stranger, person], 1.0)
    assert choice.face is person


def test_a_stranger_alone_in_the_frame_is_refused_wherever_they_are():
    gate = taught(face(100, 100, ANA))
    choice = gate.choose(FRAME, [face(100, 100, BO)], 0.4)  # right where the person's face just was
    assert choice.face is None and choice.reason == SOMEONE_ELSE


def test_a_slightly_changed_face_is_taken_only_where_the_person_just_was():
    gate = taught(face(100, 100, ANA))
    here = face(110, 100, NEAR)
    assert gate.choose(FRAME, [here], 0.4).face is here  # continuity carries it
    assert gate.choose(FRAME, [face(400, 100, NEAR)], 0.4).face is None  # elsewhere: not enough
    assert gate.choose(FRAME, [here], 5.0).face is None  # much later: not enough either


def test_two_faces_alike_are_refused_rather_than_guessed():
    gate = taught(face(100, 100, ANA))
    choice = gate.choose(FRAME, [face(100, 100, ANA), face(400, 100, ANA2)], 0.4)
    assert choice.face is None and choice.reason == ALIKE


def test_only_faces_clearly_the_persons_extend_the_reference():
    gate = taught(face(100, 100, ANA))
    drifted = gate.choose(FRAME, [face(105, 100, NEAR)], 0.2)
    assert drifted.face is not None
    gate.accept(drifted, 0.2)
    assert len(gate._refs) == 1  # taken by continuity, but not learnt as the person
    assert not drifted.descriptor.any()  # and its descriptor is zeroed


def test_clear_zeroes_the_reference_and_forgets_the_track():
    gate = taught(face(100, 100, ANA), face(100, 100, ANA2))
    refs = list(gate._refs)
    gate.clear()
    assert not gate.known and gate._last is None
    assert all(not r.any() for r in refs)
    stranger = face(100, 100, BO)
    assert gate.choose(FRAME, [stranger], 1.0).face is stranger  # a new start: anyone alone is taken
